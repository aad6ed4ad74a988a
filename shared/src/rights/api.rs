//! The `dsr-export` HTTP API: `POST /me/export`, `POST /me/delete` (signed in), the admin
//! routes for requests that arrive by email (`POST /admin/privacy/export|delete {email}`),
//! `GET /exports/download` (the emailed link: signature and expiry checked, then a
//! five-minute presigned URL), and the other rights (`choices`): `POST /me/email`,
//! `POST /me/email/verify`, `POST /me/restriction`, `POST /me/consent`, `GET /me/privacy`.

use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_s3::presigning::PresigningConfig;
use http::{Method, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Deserialize;
use serde_json::json;
use subtle::ConstantTimeEq;
use tracing::{error, info};

use super::choices::Choices;
use super::requests::{ExportStatus, Requester, export_key};
use super::worker::ExportJob;
use super::{Rights, StoresConfig, link_signature, mail};
use crate::auth::{SessionKeys, SignedIn};
use crate::clock::Clock;
use crate::config::{ConfigError, EnvSource, Settings};
use crate::email::EmailAddress;
use crate::moderation::review::admin_emails;
use crate::wallets::Wallet;
use crate::web::{self, ApiError, DEFAULT_BODY_LIMIT};

#[derive(Clone, Debug)]
pub struct RightsConfig {
    pub stores: StoresConfig,
    pub session_secret: secrecy::SecretString,
    pub export_queue_url: String,
    pub admins: Vec<EmailAddress>,
    /// Analytics events are re-pointed to the new address after a change of email.
    pub analytics_table: String,
}

impl RightsConfig {
    pub fn from_env(source: &dyn EnvSource) -> Result<Self, ConfigError> {
        let settings = Settings::new(source);
        Ok(Self {
            stores: StoresConfig::from_env(source)?,
            session_secret: settings.secret("SESSION_SECRET", 32)?,
            export_queue_url: settings.required("EXPORT_QUEUE_URL")?,
            admins: admin_emails(source)?,
            analytics_table: settings.required("ANALYTICS_TABLE")?,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ForEmail {
    email: String,
}

#[derive(Debug)]
pub struct RightsApi {
    rights: Rights,
    choices: Choices,
    signed_in: SignedIn,
    sqs: aws_sdk_sqs::Client,
    export_queue_url: String,
    admins: Vec<EmailAddress>,
    clock: Arc<dyn Clock>,
}

type ApiResult = Result<Response<Body>, ApiError>;

impl RightsApi {
    pub fn new(config: RightsConfig, aws: &SdkConfig, clock: Arc<dyn Clock>) -> Self {
        let rights = Rights::new(config.stores, aws);
        let choices = Choices::new(
            &rights.config,
            &config.analytics_table,
            aws,
            rights.wallets.clone(),
            rights.mailer.clone(),
            clock.clone(),
        );
        Self {
            choices,
            signed_in: SignedIn::new(
                SessionKeys::new(&config.session_secret),
                rights.wallets.clone(),
                clock.clone(),
            ),
            rights,
            sqs: crate::aws::sqs(aws),
            export_queue_url: config.export_queue_url,
            admins: config.admins,
            clock,
        }
    }

    pub async fn handle(&self, request: Request) -> Response<Body> {
        let path = request.uri().path().to_owned();
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let (route, result) = match (segments.as_slice(), request.method()) {
            (["me", "export"], &Method::POST) => ("me_export", self.me_export(&request).await),
            (["me", "delete"], &Method::POST) => ("me_delete", self.me_delete(&request).await),
            (["admin", "privacy", "export"], &Method::POST) => {
                ("admin_export", self.admin_export(&request).await)
            }
            (["admin", "privacy", "delete"], &Method::POST) => {
                ("admin_delete", self.admin_delete(&request).await)
            }
            (["exports", "download"], &Method::GET) => ("download", self.download(&request).await),
            (["me", "email"], &Method::POST) => ("me_email", self.me_email(&request).await),
            (["me", "email", "verify"], &Method::POST) => {
                ("me_email_verify", self.me_email_verify(&request).await)
            }
            (["me", "restriction"], &Method::POST) => {
                ("me_restriction", self.me_restriction(&request).await)
            }
            (["me", "consent"], &Method::POST) => ("me_consent", self.me_consent(&request).await),
            (["me", "privacy"], &Method::GET) => ("me_privacy", self.me_privacy(&request).await),
            (
                [
                    "me",
                    "export" | "delete" | "email" | "restriction" | "consent" | "privacy",
                ]
                | ["me", "email", "verify"]
                | ["admin", "privacy", ..]
                | ["exports", ..],
                _,
            ) => ("known", Err(ApiError::method_not_allowed())),
            _ => ("unknown", Err(ApiError::not_found())),
        };
        web::respond(route, request.method(), result)
    }

    async fn me_email(&self, request: &Request) -> ApiResult {
        let wallet = self.signed_in.wallet(request).await?;
        let body = web::json_body(request, DEFAULT_BODY_LIMIT)?;
        self.choices.request_email_change(&wallet, body).await
    }

    /// A successful change ends every session of the wallet; the caller carries on in a
    /// new one (its cookie comes with the answer).
    async fn me_email_verify(&self, request: &Request) -> ApiResult {
        let wallet = self.signed_in.wallet(request).await?;
        let body = web::json_body(request, DEFAULT_BODY_LIMIT)?;
        let session = SessionKeys::new_session(self.clock.now());
        let response = self
            .choices
            .verify_email_change(&wallet, body, &session)
            .await?;
        let cookie = self.signed_in.keys().cookie(&wallet.id, &session);
        Ok(web::with_cookies(response, &[cookie]))
    }

    async fn me_restriction(&self, request: &Request) -> ApiResult {
        let wallet = self.signed_in.wallet(request).await?;
        let body = web::json_body(request, DEFAULT_BODY_LIMIT)?;
        self.choices.restrict(&wallet, body).await
    }

    async fn me_consent(&self, request: &Request) -> ApiResult {
        let wallet = self.signed_in.wallet(request).await?;
        let body = web::json_body(request, DEFAULT_BODY_LIMIT)?;
        self.choices.consent(&wallet, body).await
    }

    async fn me_privacy(&self, request: &Request) -> ApiResult {
        let wallet = self.signed_in.wallet(request).await?;
        self.choices.privacy(&wallet).await
    }

    fn requester_of(&self, wallet: &Wallet) -> Requester {
        self.rights
            .requester(wallet.email.clone(), Some(wallet.id.clone()), wallet.locale)
    }

    async fn requester_for_email(&self, request: &Request) -> Result<Requester, ApiError> {
        self.signed_in.admin(request, &self.admins).await?;
        let body: ForEmail = web::json_body(request, DEFAULT_BODY_LIMIT)?;
        let email = EmailAddress::parse(&body.email)
            .map_err(|_| ApiError::bad_request("invalid_email", "That is not an email address."))?;
        // The person may have no wallet (a lead only): the request still covers the email.
        let theirs = self
            .rights
            .wallets
            .find_by_email(&email)
            .await
            .map_err(internal)?;
        Ok(match theirs {
            Some(wallet) => self.requester_of(&wallet),
            None => self.rights.requester(email, None, Default::default()),
        })
    }

    async fn me_export(&self, request: &Request) -> ApiResult {
        let wallet = self.signed_in.wallet(request).await?;
        self.export(&self.requester_of(&wallet)).await
    }

    async fn admin_export(&self, request: &Request) -> ApiResult {
        let requester = self.requester_for_email(request).await?;
        self.export(&requester).await
    }

    async fn me_delete(&self, request: &Request) -> ApiResult {
        let wallet = self.signed_in.wallet(request).await?;
        self.erasure(&self.requester_of(&wallet)).await
    }

    async fn admin_delete(&self, request: &Request) -> ApiResult {
        let requester = self.requester_for_email(request).await?;
        self.erasure(&requester).await
    }

    /// Records the request (one pending per person) and queues its job. The job is sent on
    /// every call: the worker ignores jobs whose archive is done, and a send that failed
    /// before is made good by asking again.
    async fn export(&self, requester: &Requester) -> ApiResult {
        let record = self
            .rights
            .requests
            .start_export(requester, self.clock.now())
            .await
            .map_err(internal)?;
        if record.status == ExportStatus::Pending {
            let job = serde_json::to_string(&ExportJob {
                email_hash: requester.email_hash.clone(),
                request_id: record.request_id.clone(),
            })
            .map_err(|_| ApiError::internal())?;
            self.sqs
                .send_message()
                .queue_url(&self.export_queue_url)
                .message_body(job)
                .send()
                .await
                .map_err(|e| {
                    error!(error = %crate::aws::failure("SendMessage", e), "queueing an export");
                    ApiError::unavailable(
                        "queue_unavailable",
                        "Could not start the export; try again.",
                    )
                })?;
        }
        info!(request = %record.request_id, "export requested");
        Ok(web::json_response(
            StatusCode::ACCEPTED,
            &json!({ "request_id": record.request_id, "status": if record.status == ExportStatus::Pending { "pending" } else { "ready" } }),
        ))
    }

    /// Records the erasure (once per person) and acknowledges it by email.
    async fn erasure(&self, requester: &Requester) -> ApiResult {
        let now = self.clock.now();
        let requests = &self.rights.requests;
        let record = requests
            .start_erasure(requester, now)
            .await
            .map_err(internal)?;
        if !record.acknowledged {
            self.rights
                .mailer
                .send(&requester.email, &mail::erasure_received(requester.locale))
                .await
                .map_err(|e| {
                    error!(error = %e, "erasure acknowledgement not sent");
                    ApiError::unavailable(
                        "email_unavailable",
                        "The request is recorded; ask again for its confirmation email.",
                    )
                })?;
            requests
                .erasure_acknowledged(&requester.email_hash, now)
                .await
                .map_err(internal)?;
        }
        info!(request = %record.request_id, "erasure requested");
        Ok(web::json_response(
            StatusCode::ACCEPTED,
            &json!({ "request_id": record.request_id, "status": "pending" }),
        ))
    }

    /// The emailed link: a valid signature for a ready, unexpired archive gets a redirect to
    /// a five-minute presigned URL; anything else the same 404.
    async fn download(&self, request: &Request) -> ApiResult {
        let query = request.query_string_parameters();
        let (Some(hash), Some(id), Some(sig)) =
            (query.first("p"), query.first("r"), query.first("sig"))
        else {
            return Err(export_not_found());
        };
        let expected = link_signature(&self.rights.config.email_hash_key, hash, id);
        if !bool::from(expected.as_bytes().ct_eq(sig.as_bytes())) {
            return Err(export_not_found());
        }
        let record = self.rights.requests.export(hash).await.map_err(internal)?;
        let now = self.clock.now();
        let live = record.is_some_and(|r| {
            r.request_id == id
                && r.status == ExportStatus::Ready
                && r.expires_at.is_some_and(|at| at > now)
        });
        if !live {
            return Err(export_not_found());
        }
        let presigning = PresigningConfig::expires_in(Duration::from_secs(300))
            .map_err(|_| ApiError::internal())?;
        let presigned = self
            .rights
            .clients
            .s3
            .get_object()
            .bucket(&self.rights.config.exports_bucket)
            .key(export_key(hash, id))
            .response_content_disposition("attachment; filename=\"anumi-export.zip\"")
            .presigned(presigning)
            .await
            .map_err(|_| ApiError::internal())?;
        let mut response =
            web::json_response(StatusCode::SEE_OTHER, &json!({ "url": presigned.uri() }));
        if let Ok(location) = http::HeaderValue::from_str(presigned.uri()) {
            response
                .headers_mut()
                .insert(http::header::LOCATION, location);
        }
        Ok(response)
    }
}

fn export_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "export_not_found",
        "This download link is not valid or has expired; ask for a new export.",
    )
}

fn internal(error: crate::store::StoreError) -> ApiError {
    error!(error = %error, "storage failure");
    ApiError::internal()
}
