//! Admin review of blocked selfies. Admins are a configured list of emails who sign in with
//! one-time codes like everyone. `approve` (a false positive) sends the job on to
//! generation; `confirm` deletes the selfie now. Whatever no admin handles is deleted by the
//! retention job on day 5 at the latest (`retention::RetentionJob`, through the `selfie-due`
//! index).

use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_s3::presigning::PresigningConfig;
use http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde_json::json;
use tracing::{error, info};

use super::GenerationJob;
use super::notice::HeldSelfieNotice;
use crate::auth::{SessionKeys, SignedIn};
use crate::billing::ledger::Ledger;
use crate::clock::{Clock, UnixSeconds, rfc3339};
use crate::config::{ConfigError, EnvSource, Origin, Settings};
use crate::email::EmailAddress;
use crate::generations::{Generation, Generations, Status, TransitionError};
use crate::wallets::Wallets;
use crate::web::{self, ApiError};

pub use crate::generations::BLOCKED_RETENTION_SECONDS;

#[derive(Clone, Debug)]
pub struct ReviewConfig {
    pub session_secret: secrecy::SecretString,
    pub wallets_table: String,
    /// `LEDGER_TABLE`: every credit change is recorded there.
    pub ledger_table: String,
    pub generations_table: String,
    pub selfie_bucket: String,
    pub generation_queue_url: String,
    /// `ADMIN_EMAILS`: comma-separated; empty means nobody.
    pub admins: Vec<EmailAddress>,
    /// The review's outcome is emailed: a trial's saved address, the sender, links.
    pub trials_table: String,
    pub email_from: crate::email::Sender,
    pub app_origin: Origin,
}

impl ReviewConfig {
    pub fn from_env(source: &dyn EnvSource) -> Result<Self, ConfigError> {
        let settings = Settings::new(source);
        let admins = admin_emails(source)?;
        Ok(Self {
            session_secret: settings.secret("SESSION_SECRET", 32)?,
            wallets_table: settings.required("WALLETS_TABLE")?,
            ledger_table: settings.required("LEDGER_TABLE")?,
            generations_table: settings.required("GENERATIONS_TABLE")?,
            selfie_bucket: settings.required("SELFIE_BUCKET")?,
            generation_queue_url: settings.required("GENERATION_QUEUE_URL")?,
            admins,
            trials_table: settings.required("TRIALS_TABLE")?,
            email_from: crate::email::Sender::from_env(source)?,
            app_origin: settings.parsed("APP_ORIGIN")?,
        })
    }
}

/// `ADMIN_EMAILS`: comma-separated; empty means nobody.
pub fn admin_emails(source: &dyn EnvSource) -> Result<Vec<EmailAddress>, ConfigError> {
    source
        .get("ADMIN_EMAILS")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            EmailAddress::parse(entry).map_err(|_| ConfigError::Invalid {
                name: "ADMIN_EMAILS",
                reason: "holds an invalid email address".into(),
            })
        })
        .collect()
}

/// The selfie-side work shared by the admin routes and the retention job.
#[derive(Debug, Clone)]
pub struct ReviewQueue {
    generations: Generations,
    s3: aws_sdk_s3::Client,
    selfie_bucket: String,
}

impl ReviewQueue {
    pub fn new(aws: &SdkConfig, generations: Generations, selfie_bucket: &str) -> Self {
        Self {
            generations,
            s3: crate::aws::s3(aws),
            selfie_bucket: selfie_bucket.to_owned(),
        }
    }

    pub fn generations(&self) -> &Generations {
        &self.generations
    }

    /// Deletes the selfie, then records it removed. Safe to repeat.
    pub async fn remove(
        &self,
        generation: &Generation,
        reason: &str,
        now: UnixSeconds,
    ) -> Result<(), String> {
        self.s3
            .delete_object()
            .bucket(&self.selfie_bucket)
            .key(&generation.selfie_key)
            .send()
            .await
            .map_err(|e| crate::aws::failure("DeleteObject", e))?;
        match self
            .generations
            .mark_removed(&generation.id, reason, now)
            .await
        {
            Ok(()) | Err(TransitionError::NotAllowed) => Ok(()),
            Err(other) => Err(other.to_string()),
        }
    }
}

#[derive(Debug)]
pub struct ReviewApi {
    signed_in: SignedIn,
    queue: ReviewQueue,
    sqs: aws_sdk_sqs::Client,
    generation_queue_url: String,
    admins: Vec<EmailAddress>,
    notices: super::notice::Notices,
    clock: Arc<dyn Clock>,
}

type ApiResult = Result<Response<Body>, ApiError>;

impl ReviewApi {
    pub fn new(config: ReviewConfig, aws: &SdkConfig, clock: Arc<dyn Clock>) -> Self {
        let dynamodb = crate::aws::dynamodb(aws);
        let wallets = Wallets::new(dynamodb.clone(), &config.wallets_table).with_ledger(
            Ledger::new(dynamodb.clone(), &config.ledger_table, clock.clone()),
        );
        let generations =
            Generations::new(dynamodb.clone(), &config.generations_table, wallets.clone());
        let notices = super::notice::Notices::new(
            generations.clone(),
            wallets.clone(),
            crate::trials::Trials::new(dynamodb, &config.trials_table),
            crate::email::Mailer::new(crate::aws::sesv2(aws), &config.email_from),
            config.app_origin.clone(),
            clock.clone(),
        );
        Self {
            signed_in: SignedIn::new(
                SessionKeys::new(&config.session_secret),
                wallets,
                clock.clone(),
            ),
            queue: ReviewQueue::new(aws, generations, &config.selfie_bucket),
            sqs: crate::aws::sqs(aws),
            generation_queue_url: config.generation_queue_url,
            admins: config.admins,
            notices,
            clock,
        }
    }

    pub async fn handle(&self, request: Request) -> Response<Body> {
        let path = request.uri().path().to_owned();
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let (route, result) = match (segments.as_slice(), request.method()) {
            (["admin", "review"], &Method::GET) => ("review_queue", self.list(&request).await),
            (["admin", "review", id, "approve"], &Method::POST) => {
                ("approve", self.approve(&request, id).await)
            }
            (["admin", "review", id, "confirm"], &Method::POST) => {
                ("confirm", self.confirm(&request, id).await)
            }
            (["admin", "review", ..], _) => ("known", Err(ApiError::method_not_allowed())),
            _ => ("unknown", Err(ApiError::not_found())),
        };
        web::respond(route, request.method(), result)
    }

    async fn admin(&self, request: &Request) -> Result<(), ApiError> {
        self.signed_in
            .admin(request, &self.admins)
            .await
            .map(|_| ())
    }

    async fn list(&self, request: &Request) -> ApiResult {
        self.admin(request).await?;
        let blocked = self
            .queue
            .generations()
            .review_queue(100)
            .await
            .map_err(internal)?;
        let now = self.clock.now();
        let mut items = Vec::with_capacity(blocked.len());
        for generation in blocked {
            let blocked_at = generation.blocked_at.unwrap_or(generation.created_at);
            items.push(json!({
                "generation_id": generation.id,
                "blocked_at": rfc3339(blocked_at),
                "deleted_by": rfc3339(blocked_at + BLOCKED_RETENTION_SECONDS),
                "seconds_left": (blocked_at + BLOCKED_RETENTION_SECONDS - now).max(0),
                "photo_url": self.photo_link(&generation).await?,
            }));
        }
        Ok(web::json_response(
            StatusCode::OK,
            &json!({ "review_queue": items }),
        ))
    }

    async fn approve(&self, request: &Request, id: &str) -> ApiResult {
        self.admin(request).await?;
        let generation = self.blocked_or_approved(id).await?;
        if generation.status == Status::Blocked {
            match self.queue.generations().approve(&generation).await {
                Ok(()) => {}
                Err(TransitionError::InsufficientCredits) => {
                    return Err(ApiError::new(
                        StatusCode::CONFLICT,
                        "insufficient_credits",
                        "The wallet no longer has the credits for this job.",
                    ));
                }
                Err(TransitionError::NotAllowed) => return Err(already_reviewed()),
                Err(TransitionError::Store(error)) => return Err(internal(error)),
            }
        }
        // Sent after the status moved; approving again re-sends it if this send failed.
        self.send_job(id).await.map_err(|e| {
            error!(error = %e, "queueing an approved job");
            ApiError::unavailable(
                "queue_unavailable",
                "Could not queue the job; approve again.",
            )
        })?;
        info!(generation = id, "blocked selfie approved");
        self.tell(id, HeldSelfieNotice::Approved).await;
        Ok(web::json_response(
            StatusCode::OK,
            &json!({ "generation_id": id, "status": "queued" }),
        ))
    }

    async fn confirm(&self, request: &Request, id: &str) -> ApiResult {
        self.admin(request).await?;
        let generation = self.blocked_or_approved(id).await?;
        if generation.status != Status::Blocked {
            return Err(already_reviewed());
        }
        self.queue
            .remove(&generation, "confirmed", self.clock.now())
            .await
            .map_err(|e| {
                error!(error = %e, "deleting a confirmed selfie");
                ApiError::internal()
            })?;
        info!(generation = id, "blocked selfie confirmed and deleted");
        self.tell(id, HeldSelfieNotice::Confirmed).await;
        Ok(web::json_response(
            StatusCode::OK,
            &json!({ "generation_id": id, "status": "removed" }),
        ))
    }

    /// Emails the outcome to the person. The review is done whatever happens here: a failed
    /// send gives its claim back, and approving again sends it then.
    async fn tell(&self, id: &str, outcome: HeldSelfieNotice) {
        if let Err(failure) = self.notices.tell(id, outcome).await {
            error!(error = %failure, generation = id, "review outcome email not sent");
        }
    }

    async fn blocked_or_approved(&self, id: &str) -> Result<Generation, ApiError> {
        match self.queue.generations().get(id).await.map_err(internal)? {
            Some(generation) if matches!(generation.status, Status::Blocked | Status::Queued) => {
                Ok(generation)
            }
            Some(_) => Err(already_reviewed()),
            None => Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "generation_not_found",
                "No such generation.",
            )),
        }
    }

    async fn send_job(&self, generation_id: &str) -> Result<(), String> {
        let job = serde_json::to_string(&GenerationJob {
            generation_id: generation_id.to_owned(),
        })
        .map_err(|e| e.to_string())?;
        self.sqs
            .send_message()
            .queue_url(&self.generation_queue_url)
            .message_body(job)
            .send()
            .await
            .map_err(|e| crate::aws::failure("SendMessage", e))?;
        Ok(())
    }

    /// A five-minute link to the blocked photo, for the reviewing admin only.
    async fn photo_link(&self, generation: &Generation) -> Result<String, ApiError> {
        let presigning = PresigningConfig::expires_in(Duration::from_secs(300))
            .map_err(|_| ApiError::internal())?;
        let presigned = self
            .queue
            .s3
            .get_object()
            .bucket(&self.queue.selfie_bucket)
            .key(&generation.selfie_key)
            .presigned(presigning)
            .await
            .map_err(|_| ApiError::internal())?;
        Ok(presigned.uri().to_owned())
    }
}

fn already_reviewed() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "already_reviewed",
        "This selfie is no longer waiting for review.",
    )
}

fn internal(error: crate::store::StoreError) -> ApiError {
    error!(error = %error, "storage failure");
    ApiError::internal()
}
