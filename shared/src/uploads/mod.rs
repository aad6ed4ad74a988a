//! Selfie uploads: `POST /uploads` checks the order, reserves its credits and answers with
//! a presigned S3 PUT whose signature binds the content type and length; `GET /generations`
//! and `GET /generations/{id}` show the signed-in person's jobs with download links;
//! `GET /catalog` publishes the styles, costs, packs and limits all this enforces.

mod catalog;
mod config;
mod trial;

pub use config::{CatalogConfig, Prices, TrialConfig, UploadsConfig};

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_s3::presigning::PresigningConfig;
use http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tracing::{error, info};

use crate::auth::{SessionKeys, SignedIn};
use crate::billing::ledger::Ledger;
use crate::clock::{Clock, rfc3339};
use crate::config::ConfigError;
use crate::generation::imaging::bubble::{Quote, QuoteError};
use crate::generation::style::Style;
use crate::generations::{Charge, Generation, Generations, Product, Status, TransitionError};
use crate::rights::stores::Bucket;
use crate::store::StoreError;
use crate::wallets::Wallets;
use crate::web::{self, ApiError, DEFAULT_BODY_LIMIT, json_body};

/// The image types a selfie may have; moderation checks the bytes say the same.
pub const ALLOWED_CONTENT_TYPES: [&str; 3] = ["image/jpeg", "image/png", "image/webp"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UploadRequest {
    content_type: String,
    content_length: i64,
    style: String,
    #[serde(default)]
    products: Vec<String>,
    quote: Option<String>,
}

/// A generation as the API shows it to its owner.
#[derive(Debug, Serialize)]
pub struct GenerationView {
    pub id: String,
    pub status: Status,
    pub style: Style,
    pub products: Vec<Product>,
    pub cost: i64,
    pub charge: Charge,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// When the selfie was deleted (30 days after upload, or a blocked one's removal).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selfie_deleted_at: Option<String>,
    /// Why the order stands where it does, as a stable code a client can show in words:
    /// `held_for_review` (automated moderation held the selfie; its credits came back),
    /// `removed_after_review` (a reviewer confirmed the block; the selfie is deleted),
    /// `removed_unreviewed` (no review within 5 days; the selfie is deleted),
    /// `approved_after_review` (a reviewer found it fine; it was made after all).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    /// While held: when the selfie is deleted if no one has reviewed it (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review_by: Option<String>,
    /// File name → a time-limited download link, once ready.
    pub downloads: BTreeMap<String, String>,
}

#[derive(Debug)]
pub struct UploadsApi {
    signed_in: SignedIn,
    generations: Generations,
    s3: aws_sdk_s3::Client,
    clock: Arc<dyn Clock>,
    config: UploadsConfig,
    trial: trial::TrialParts,
    catalog: catalog::CatalogPage,
}

type ApiResult = Result<Response<Body>, ApiError>;

impl UploadsApi {
    pub fn new(
        config: UploadsConfig,
        aws: &SdkConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ConfigError> {
        let dynamodb = crate::aws::dynamodb(aws);
        let wallets = Wallets::new(dynamodb.clone(), &config.wallets_table).with_ledger(
            Ledger::new(dynamodb.clone(), &config.ledger_table, clock.clone()),
        );
        let trial = trial::TrialParts {
            trials: crate::trials::Trials::new(dynamodb.clone(), &config.trial.trials_table),
            leads: crate::leads::LeadList::new(dynamodb.clone(), &config.trial.leads_table),
            mailer: crate::email::Mailer::new(crate::aws::sesv2(aws), &config.trial.email_from),
            turnstile: crate::providers::turnstile::TurnstileClient::new(
                config.trial.turnstile.clone(),
            )?,
            ip_hasher: crate::privacy::IpHasher::new(config.trial.ip_hash_salt.clone()),
            links: crate::trials::TrialLinks::new(config.trial.link_secret.clone()),
        };
        Ok(Self {
            signed_in: SignedIn::new(
                SessionKeys::new(&config.session_secret),
                wallets.clone(),
                clock.clone(),
            ),
            generations: Generations::new(dynamodb, &config.generations_table, wallets),
            s3: crate::aws::s3(aws),
            clock,
            catalog: catalog::CatalogPage::new(&config),
            config,
            trial,
        })
    }

    pub async fn handle(&self, request: Request) -> Response<Body> {
        let path = request.uri().path().to_owned();
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let (route, result) = match (segments.as_slice(), request.method()) {
            (["uploads"], &Method::POST) => ("create_upload", self.create_upload(&request).await),
            (["generations"], &Method::GET) => ("list_generations", self.list(&request).await),
            (["generations", id], &Method::GET) => ("get_generation", self.get(&request, id).await),
            (["generations", id], &Method::DELETE) => {
                ("delete_generation", self.delete(&request, id).await)
            }
            (["trial"], &Method::POST) => ("create_trial", self.create_trial(&request).await),
            (["trial", id], &Method::GET) => ("get_trial", self.get_trial(&request, id).await),
            (["catalog"], &Method::GET) => ("catalog", Ok(self.catalog.response())),
            (
                ["uploads"]
                | ["generations"]
                | ["generations", _]
                | ["trial"]
                | ["trial", _]
                | ["catalog"],
                _,
            ) => ("known", Err(ApiError::method_not_allowed())),
            _ => ("unknown", Err(ApiError::not_found())),
        };
        web::respond(route, request.method(), result)
    }

    async fn create_upload(&self, request: &Request) -> ApiResult {
        let wallet = self.signed_in.wallet(request).await?;
        if wallet.restricted {
            // Restriction of processing (policy section 6): nothing new starts while it holds.
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "processing_restricted",
                "Processing is restricted on your account; lift the restriction to upload.",
            ));
        }
        let body: UploadRequest = json_body(request, DEFAULT_BODY_LIMIT)?;
        let order = self.validate(&body)?;
        let id = uuid::Uuid::new_v4().to_string();
        let generation = Generation {
            selfie_key: format!("selfies/{}/{id}", wallet.id),
            id,
            wallet_id: wallet.id.clone(),
            created_at: self.clock.now(),
            status: Status::AwaitingUpload,
            style: order.style,
            cost: self.config.prices.cost(&order.products),
            products: order.products,
            quote: order.quote.map(|quote| quote.as_str().to_owned()),
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
        if wallet.credits < generation.cost {
            return Err(insufficient_credits(generation.cost, wallet.credits));
        }
        // Presign first: a failure here must not leave credits reserved.
        let upload = self.presign_put(&generation).await?;
        match self.generations.create_reserved(&generation).await {
            Ok(()) => {}
            Err(TransitionError::InsufficientCredits | TransitionError::NotAllowed) => {
                return Err(insufficient_credits(generation.cost, wallet.credits));
            }
            Err(TransitionError::Store(error)) => return Err(internal(error)),
        }
        info!(generation = %generation.id, cost = generation.cost, "upload presigned, credits reserved");
        Ok(web::json_response(
            StatusCode::CREATED,
            &json!({
                "generation_id": generation.id,
                "cost": generation.cost,
                "status": generation.status,
                "upload": upload,
            }),
        ))
    }

    /// The image type and size every upload (paid or trial) must have.
    fn check_image(&self, content_type: &str, content_length: i64) -> Result<(), ApiError> {
        if !ALLOWED_CONTENT_TYPES.contains(&content_type) {
            return Err(ApiError::bad_request(
                "unsupported_image_type",
                "Upload a JPEG, PNG or WebP image.",
            ));
        }
        if content_length < 1 || content_length > self.config.max_upload_bytes {
            return Err(ApiError::bad_request(
                "image_too_large",
                format!(
                    "The image must be at most {} bytes.",
                    self.config.max_upload_bytes
                ),
            ));
        }
        Ok(())
    }

    fn validate(&self, body: &UploadRequest) -> Result<Order, ApiError> {
        self.check_image(&body.content_type, body.content_length)?;
        let style: Style = body
            .style
            .parse()
            .map_err(|_| ApiError::bad_request("unknown_style", "That style does not exist."))?;
        let mut products = vec![Product::Avatar];
        for name in &body.products {
            let product = Product::parse(name).ok_or_else(|| {
                ApiError::bad_request("unknown_product", "That product does not exist.")
            })?;
            if !products.contains(&product) {
                products.push(product);
            }
        }
        products.sort();
        let wants_bubble = products.contains(&Product::SpeechBubble);
        let quote = match (&body.quote, wants_bubble) {
            (Some(text), true) => Some(Quote::parse(text).map_err(quote_error)?),
            (None, true) => {
                return Err(ApiError::bad_request(
                    "quote_required",
                    "The speech bubble needs its text.",
                ));
            }
            (Some(_), false) => {
                return Err(ApiError::bad_request(
                    "quote_without_speech_bubble",
                    "Quote text is only used with the speech bubble.",
                ));
            }
            (None, false) => None,
        };
        Ok(Order {
            style,
            products,
            quote,
        })
    }

    /// A PUT URL for exactly this object, type and length: S3 refuses an upload whose
    /// `Content-Type` or `Content-Length` differs from the signed ones.
    async fn presign_put(&self, generation: &Generation) -> Result<serde_json::Value, ApiError> {
        let expires_in = Duration::from_secs(self.config.upload_url_ttl_seconds);
        let presigning = PresigningConfig::expires_in(expires_in).map_err(|e| {
            error!(error = %e, "presigning configuration");
            ApiError::internal()
        })?;
        let presigned = self
            .s3
            .put_object()
            .bucket(&self.config.selfie_bucket)
            .key(&generation.selfie_key)
            .content_type(&generation.content_type)
            .content_length(generation.content_length)
            .presigned(presigning)
            .await
            .map_err(|e| {
                error!(error = %aws_sdk_s3::error::DisplayErrorContext(e), "presigning the upload");
                ApiError::internal()
            })?;
        Ok(json!({
            "method": presigned.method(),
            "url": presigned.uri(),
            "headers": headers_to_send(presigned.uri(), presigned.headers()),
            "expires_in": expires_in.as_secs(),
        }))
    }

    async fn list(&self, request: &Request) -> ApiResult {
        let wallet = self.signed_in.wallet(request).await?;
        let generations = self
            .generations
            .list_for_wallet(&wallet.id, 50)
            .await
            .map_err(internal)?;
        let mut views = Vec::with_capacity(generations.len());
        for generation in &generations {
            views.push(self.view(generation).await?);
        }
        Ok(web::json_response(
            StatusCode::OK,
            &json!({ "generations": views }),
        ))
    }

    async fn get(&self, request: &Request, id: &str) -> ApiResult {
        let wallet = self.signed_in.wallet(request).await?;
        let generation = self.generations.get(id).await.map_err(internal)?;
        // Someone else's generation is as absent as a missing one.
        match generation {
            Some(generation) if generation.wallet_id == wallet.id => Ok(web::json_response(
                StatusCode::OK,
                &self.view(&generation).await?,
            )),
            _ => Err(generation_not_found()),
        }
    }

    /// "Generated avatars and stickers ... deleted on request": the generation's files (its
    /// deliverables and its selfie, if still held) first, then its record, so a request cut
    /// short can simply be repeated. Credits already charged stay charged.
    async fn delete(&self, request: &Request, id: &str) -> ApiResult {
        let wallet = self.signed_in.wallet(request).await?;
        let generation = match self.generations.get(id).await.map_err(internal)? {
            Some(generation) if generation.wallet_id == wallet.id => generation,
            _ => return Err(generation_not_found()),
        };
        if !matches!(
            generation.status,
            Status::Ready | Status::Blocked | Status::Removed | Status::Failed
        ) {
            return Err(generation_in_progress());
        }
        let files = |bucket: &str| Bucket {
            client: self.s3.clone(),
            bucket: bucket.to_owned(),
        };
        let storage = |error: String| {
            error!(error = %error, "deleting a generation's files");
            ApiError::internal()
        };
        files(&self.config.generated_bucket)
            .delete_prefix(&format!("generated/{}/{}/", wallet.id, generation.id))
            .await
            .map_err(storage)?;
        files(&self.config.selfie_bucket)
            .delete_keys(std::slice::from_ref(&generation.selfie_key))
            .await
            .map_err(storage)?;
        if !self
            .generations
            .delete_finished(&generation.id, &wallet.id)
            .await
            .map_err(internal)?
        {
            // An admin approved it meanwhile: it is being made again.
            return Err(generation_in_progress());
        }
        info!(generation = %generation.id, "generation and its files deleted on request");
        Ok(web::json_response(
            StatusCode::OK,
            &json!({ "generation_id": generation.id, "status": "deleted" }),
        ))
    }

    async fn view(&self, generation: &Generation) -> Result<GenerationView, ApiError> {
        let mut downloads = BTreeMap::new();
        if generation.status == Status::Ready {
            for (name, key) in &generation.deliverables {
                downloads.insert(name.clone(), self.presign_get(key).await?);
            }
        }
        Ok(GenerationView {
            id: generation.id.clone(),
            status: generation.status,
            style: generation.style,
            products: generation.products.clone(),
            cost: generation.cost,
            charge: generation.charge,
            created_at: rfc3339(generation.created_at),
            failure: generation.failure.clone(),
            selfie_deleted_at: generation.selfie_deleted_at.map(rfc3339),
            reason: review_reason(generation),
            review_by: generation
                .blocked_at
                .filter(|_| generation.status == Status::Blocked)
                .map(|at| rfc3339(at + crate::generations::BLOCKED_RETENTION_SECONDS)),
            downloads,
        })
    }

    async fn presign_get(&self, key: &str) -> Result<String, ApiError> {
        let presigning =
            PresigningConfig::expires_in(Duration::from_secs(self.config.download_url_ttl_seconds))
                .map_err(|_| ApiError::internal())?;
        let presigned = self
            .s3
            .get_object()
            .bucket(&self.config.generated_bucket)
            .key(key)
            .presigned(presigning)
            .await
            .map_err(|e| {
                error!(error = %aws_sdk_s3::error::DisplayErrorContext(e), "presigning a download");
                ApiError::internal()
            })?;
        Ok(presigned.uri().to_owned())
    }
}

/// The headers the client's script must set on the presigned PUT: those the signature
/// binds (`X-Amz-SignedHeaders` in `url`), except `host` and `content-length`, which a
/// browser sets itself (from the URL and the body) and forbids scripts to set. Whatever
/// else the SDK attached to the request it presigned is not signed and not the client's
/// business (inside Lambda, the `x-amzn-trace-id` of the invocation).
fn headers_to_send<'a>(
    url: &str,
    headers: impl Iterator<Item = (&'a str, &'a str)>,
) -> BTreeMap<String, String> {
    let query = url.split_once('?').map_or("", |(_, query)| query);
    let signed: Vec<String> = form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == "X-Amz-SignedHeaders")
        .map(|(_, value)| value.split(';').map(str::to_ascii_lowercase).collect())
        .unwrap_or_default();
    headers
        .map(|(name, value)| (name.to_ascii_lowercase(), value))
        .filter(|(name, _)| signed.contains(name))
        .filter(|(name, _)| !matches!(name.as_str(), "host" | "content-length"))
        .map(|(name, value)| (name, value.to_owned()))
        .collect()
}

/// The stable code of where a held selfie stands (see `GenerationView::reason`).
fn review_reason(generation: &Generation) -> Option<&'static str> {
    use crate::generations::ReviewOutcome;
    match (generation.status, generation.review_outcome) {
        (Status::Blocked, _) => Some("held_for_review"),
        (_, Some(ReviewOutcome::Confirmed)) => Some("removed_after_review"),
        (_, Some(ReviewOutcome::Expired)) => Some("removed_unreviewed"),
        (_, Some(ReviewOutcome::Approved)) => Some("approved_after_review"),
        _ => None,
    }
}

struct Order {
    style: Style,
    products: Vec<Product>,
    quote: Option<Quote>,
}

fn insufficient_credits(cost: i64, balance: i64) -> ApiError {
    ApiError::new(
        StatusCode::PAYMENT_REQUIRED,
        "insufficient_credits",
        format!("This needs {cost} credits; the wallet has {balance}."),
    )
}

fn generation_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "generation_not_found",
        "No such generation.",
    )
}

fn generation_in_progress() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "generation_in_progress",
        "This generation is still being made; delete it once it is ready or has failed.",
    )
}

fn quote_error(error: QuoteError) -> ApiError {
    ApiError::bad_request(error.code(), error.to_string())
}

fn internal(error: StoreError) -> ApiError {
    error!(error = %error, "storage failure");
    ApiError::internal()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_sends_only_the_signed_headers_a_script_may_set() {
        let url = "https://selfies.s3.ap-northeast-1.amazonaws.com/selfies/w/g?x-id=PutObject\
                   &X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost\
                   &X-Amz-Signature=abc";
        let headers = [
            ("content-type", "image/jpeg"),
            ("content-length", "1234"),
            (
                "x-amzn-trace-id",
                "Root=1-5759e988-bd862e3fe1be46a994272793",
            ),
            ("host", "selfies.s3.ap-northeast-1.amazonaws.com"),
        ];
        let sent = headers_to_send(url, headers.into_iter());
        assert_eq!(
            sent,
            BTreeMap::from([("content-type".to_owned(), "image/jpeg".to_owned())])
        );
        // No signature in the URL: nothing is asked of the client.
        assert!(headers_to_send("https://x/y", headers.into_iter()).is_empty());
    }
}
