//! The free trial: `POST /trial` behind a Cloudflare Turnstile check gives one presigned
//! upload for one avatar (cost 0, no wallet) per device id and IP hash; `GET /trial/{id}`
//! shows it to whoever holds the signed link. "Save my link": an optional email is put on
//! the lead list (source `trial-save-link`) and sent the link.

use std::collections::BTreeMap;

use http::StatusCode;
use lambda_http::{Request, RequestExt};
use serde::Deserialize;
use serde_json::json;
use tracing::{error, info, warn};

use super::{ApiResult, UploadsApi, internal};
use crate::email::{EmailAddress, Mailer, templates};
use crate::generation::style::Style;
use crate::generations::{Charge, Generation, Product, Status, trial_owner};
use crate::leads::{LeadList, LeadSource};
use crate::locale::Locale;
use crate::privacy::IpHasher;
use crate::providers::turnstile::{MAX_TOKEN_LEN, TurnstileClient, TurnstileError};
use crate::trials::{NewTrial, TrialLinks, TrialRefused, Trials};
use crate::web::{self, ApiError, DEFAULT_BODY_LIMIT, json_body, request_cookie};

/// The trial's parts of the upload-presign API, built once.
#[derive(Debug)]
pub(super) struct TrialParts {
    pub trials: Trials,
    pub leads: LeadList,
    pub mailer: Mailer,
    pub turnstile: TurnstileClient,
    pub ip_hasher: IpHasher,
    pub links: TrialLinks,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TrialRequest {
    turnstile_token: String,
    device_id: String,
    style: String,
    content_type: String,
    content_length: i64,
    email: Option<String>,
}

struct ValidTrial {
    style: Style,
    email: Option<EmailAddress>,
}

impl UploadsApi {
    pub(super) async fn create_trial(&self, request: &Request) -> ApiResult {
        let body: TrialRequest = json_body(request, DEFAULT_BODY_LIMIT)?;
        let valid = self.validate_trial(&body)?;
        let ip = web::source_ip(request).ok_or_else(|| {
            error!("no source address on a trial request");
            ApiError::internal()
        })?;
        let parts = &self.trial;
        parts
            .turnstile
            .verify(&body.turnstile_token, &ip)
            .await
            .map_err(turnstile_error)?;
        let ip_hash = parts.ip_hasher.hash(&ip);
        let locale = request_cookie(request, "locale")
            .and_then(|value| value.parse().ok())
            .unwrap_or_default();
        let now = self.clock.now();
        let config = &self.config.trial;
        let id = uuid::Uuid::new_v4().to_string();
        let owner = trial_owner(&id);
        let generation = Generation {
            selfie_key: format!("selfies/{owner}/{id}"),
            wallet_id: owner,
            id: id.clone(),
            created_at: now,
            status: Status::AwaitingUpload,
            style: valid.style,
            products: vec![Product::Avatar],
            quote: None,
            cost: 0,
            charge: Charge::Reserved,
            content_type: body.content_type.clone(),
            content_length: body.content_length,
            blocked_at: None,
            selfie_uploaded_at: None,
            selfie_deleted_at: None,
            deliverables: BTreeMap::new(),
            failure: None,
            review_outcome: None,
        };
        let upload = self.presign_put(&generation).await?;
        // On the list before the trial is recorded: if this fails, nothing of the trial is
        // written and the person can try again.
        if let Some(email) = &valid.email {
            parts
                .leads
                .capture(email, LeadSource::TrialSaveLink, now)
                .await
                .map_err(internal)?;
        }
        let link_expires = now + config.link_ttl_seconds;
        let trial = NewTrial {
            id: &id,
            device_id: &body.device_id,
            ip_hash: &ip_hash,
            email: valid.email.as_ref(),
            locale,
            now,
            window_ends: now + config.window_seconds,
            link_expires,
        };
        let put = self.generations.put_new(&generation).map_err(internal)?;
        match parts.trials.create(&trial, put).await {
            Ok(()) => {}
            Err(TrialRefused::DeviceUsed) => {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "trial_already_used",
                    "This device has already had its free trial.",
                ));
            }
            Err(TrialRefused::AddressUsed { retry_after }) => {
                return Err(ApiError {
                    retry_after: Some(retry_after),
                    ..ApiError::new(
                        StatusCode::TOO_MANY_REQUESTS,
                        "trial_limit_reached",
                        "A free trial was already taken from this network. Try again later.",
                    )
                });
            }
            Err(TrialRefused::Store(error)) => return Err(internal(error)),
        }
        let link = parts.links.link(&config.app_origin, &id, link_expires);
        let link_emailed = match &valid.email {
            Some(email) => self.send_trial_link(email, locale, &link).await,
            None => false,
        };
        info!(trial = %id, turnstile = parts.turnstile.provider_label(), link_emailed, "trial started");
        Ok(web::json_response(
            StatusCode::CREATED,
            &json!({
                "trial_id": id,
                "generation_id": id,
                "status": generation.status,
                "upload": upload,
                "access_token": parts.links.token(&id, link_expires),
                "link": link,
                "link_expires_at": crate::clock::rfc3339(link_expires),
                "link_emailed": link_emailed,
            }),
        ))
    }

    async fn send_trial_link(&self, email: &EmailAddress, locale: Locale, link: &str) -> bool {
        let message = templates::trial_link(locale, link);
        match self.trial.mailer.send(email, &message).await {
            Ok(_) => true,
            Err(send_error) => {
                // The link is in the answer too; the email is the saved copy.
                warn!(error = %send_error, "trial link email not sent");
                false
            }
        }
    }

    /// `GET /trial/{id}?token=…`: the trial's generation for whoever holds its link. A wrong
    /// or expired token is as absent as a missing trial.
    pub(super) async fn get_trial(&self, request: &Request, id: &str) -> ApiResult {
        let token = request
            .query_string_parameters_ref()
            .and_then(|query| query.first("token"))
            .unwrap_or_default()
            .to_owned();
        let not_found = || {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "trial_not_found",
                "No such trial, or its link has expired.",
            )
        };
        if !self.trial.links.verify(id, &token, self.clock.now()) {
            return Err(not_found());
        }
        match self.generations.get(id).await.map_err(internal)? {
            Some(generation) if generation.trial_id() == Some(id) => Ok(web::json_response(
                StatusCode::OK,
                &self.view(&generation).await?,
            )),
            _ => Err(not_found()),
        }
    }

    fn validate_trial(&self, body: &TrialRequest) -> Result<ValidTrial, ApiError> {
        let token = body.turnstile_token.trim();
        if token.is_empty() || token.len() > MAX_TOKEN_LEN {
            return Err(ApiError::bad_request(
                "invalid_turnstile_token",
                "The bot-check token is missing or too long.",
            ));
        }
        if !is_device_id(&body.device_id) {
            return Err(ApiError::bad_request(
                "invalid_device_id",
                "device_id must be the UUID the app keeps in this browser.",
            ));
        }
        self.check_image(&body.content_type, body.content_length)?;
        let style: Style = body
            .style
            .parse()
            .map_err(|_| ApiError::bad_request("unknown_style", "That style does not exist."))?;
        let email = body
            .email
            .as_deref()
            .map(|email| {
                EmailAddress::parse(email)
                    .map_err(|_| ApiError::bad_request("invalid_email", "Email is not valid."))
            })
            .transpose()?;
        Ok(ValidTrial { style, email })
    }
}

/// A UUID in its hyphenated form, lower or upper case (`crypto.randomUUID()`).
fn is_device_id(value: &str) -> bool {
    value.len() == 36 && uuid::Uuid::try_parse(value).is_ok() && value.matches('-').count() == 4
}

fn turnstile_error(error: TurnstileError) -> ApiError {
    match error {
        TurnstileError::TokenUsed => ApiError::new(
            StatusCode::FORBIDDEN,
            "turnstile_token_used",
            "This bot-check token was already used or has expired. Check again.",
        ),
        TurnstileError::Failed(_) | TurnstileError::Mismatch(_) => ApiError::new(
            StatusCode::FORBIDDEN,
            "turnstile_failed",
            "The bot check did not pass. Try again.",
        ),
        TurnstileError::Unavailable(reason) | TurnstileError::Misconfigured(reason) => {
            error!(reason = %reason, "turnstile verification unavailable");
            ApiError::unavailable(
                "turnstile_unavailable",
                "The bot check cannot be verified right now. Try again shortly.",
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_ids_are_hyphenated_uuids() {
        assert!(is_device_id("0f8fad5b-d9cb-469f-a165-70867728950e"));
        assert!(is_device_id("0F8FAD5B-D9CB-469F-A165-70867728950E"));
        assert!(!is_device_id("0f8fad5bd9cb469fa16570867728950e"));
        assert!(!is_device_id("{0f8fad5b-d9cb-469f-a165-70867728950e}"));
        assert!(!is_device_id("not-a-device"));
        assert!(!is_device_id(""));
    }
}
