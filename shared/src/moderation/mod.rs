//! The `moderate` function: every selfie that lands in the selfie bucket (S3 → SQS) is
//! checked to really be an image of the ordered type, moderated, and logged; allowed ones go
//! on to the generation queue, blocked ones are tagged, queued for admin review, and their
//! credits go back, and the person is told (`notice`).
//!
//! Each step can run again without repeating its effect (SQS delivers at least once, S3 may
//! notify twice): the log entry is written once and reused, the status moves to queued
//! before the job is sent and a redelivery of a queued order sends the job again (a
//! duplicate job is harmless, a lost one is not), and the status and credit changes are
//! conditional.

mod config;
pub mod log;
pub mod notice;
pub mod review;

pub use config::ModerationConfig;

use std::sync::Arc;

use aws_config::SdkConfig;
use aws_lambda_events::event::s3::S3Event;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use aws_sdk_s3::types::{Tag, Tagging};
use tracing::{error, info, warn};

use crate::billing::ledger::Ledger;
use crate::clock::Clock;
use crate::config::{ConfigError, EnvSource};
use crate::generation::imaging::inspect::inspect_image;
use crate::generations::{Generation, Generations, Status, TransitionError};
use crate::providers::{Decision, Moderator, OpenAiClient, ProviderConfig, ProviderError};
use crate::queue::{RetryLater, handle_batch, receive_count};
use crate::wallets::Wallets;
use log::{LogEntry, ModerationLog};
use notice::{HeldSelfieNotice, Notices};

/// The moderator the configuration names (`MODERATION_PROVIDER`; prod refuses `local`).
pub fn moderator_from_env(source: &dyn EnvSource) -> Result<Moderator, ConfigError> {
    let providers = ProviderConfig::from_env(source, crate::config::stage(source)?)?;
    let openai = providers
        .openai
        .map(OpenAiClient::new)
        .transpose()
        .map_err(|e| ConfigError::Invalid {
            name: "OPENAI_BASE_URL",
            reason: e.to_string(),
        })?;
    Moderator::new(providers.moderation, openai)
}

/// The message on the generation queue.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct GenerationJob {
    pub generation_id: String,
}

#[derive(Debug)]
pub struct ModerationWorker {
    generations: Generations,
    log: ModerationLog,
    s3: aws_sdk_s3::Client,
    sqs: aws_sdk_sqs::Client,
    moderator: Moderator,
    notices: Notices,
    clock: Arc<dyn Clock>,
    config: ModerationConfig,
}

impl ModerationWorker {
    pub fn new(
        config: ModerationConfig,
        moderator: Moderator,
        aws: &SdkConfig,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let dynamodb = crate::aws::dynamodb(aws);
        let wallets = Wallets::new(dynamodb.clone(), &config.wallets_table).with_ledger(
            Ledger::new(dynamodb.clone(), &config.ledger_table, clock.clone()),
        );
        let generations =
            Generations::new(dynamodb.clone(), &config.generations_table, wallets.clone());
        let notices = Notices::new(
            generations.clone(),
            wallets,
            crate::trials::Trials::new(dynamodb.clone(), &config.trials_table),
            crate::email::Mailer::new(crate::aws::sesv2(aws), &config.email_from),
            config.app_origin.clone(),
            clock.clone(),
        );
        Self {
            generations,
            log: ModerationLog::new(dynamodb, &config.moderation_log_table),
            s3: crate::aws::s3(aws),
            sqs: crate::aws::sqs(aws),
            moderator,
            notices,
            clock,
            config,
        }
    }

    /// Handles one SQS batch; records that should be tried again are reported back.
    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        handle_batch(&event, "selfie event", |message| self.message(message)).await
    }

    async fn message(&self, message: &SqsMessage) -> Result<(), RetryLater> {
        let Some(body) = message.body.as_deref() else {
            return Ok(());
        };
        // S3 sends a test event when notifications are configured; it names no object.
        if body.contains("\"s3:TestEvent\"") {
            info!("skipped the S3 test event");
            return Ok(());
        }
        let event: S3Event = match serde_json::from_str(body) {
            Ok(event) => event,
            Err(parse_error) => {
                // Not an S3 event: retrying cannot help; the DLQ is for retryable failures.
                error!(error = %parse_error, "dropped a message that is not an S3 event");
                return Ok(());
            }
        };
        for record in &event.records {
            let bucket = record.s3.bucket.name.as_deref().unwrap_or_default();
            let Some(key) = record.s3.object.key.as_deref().map(decode_s3_key) else {
                continue;
            };
            if bucket != self.config.selfie_bucket {
                warn!(bucket, "ignored an event from another bucket");
                continue;
            }
            self.object(&key, receive_count(message)).await?;
        }
        Ok(())
    }

    /// One uploaded object: `selfies/<wallet>/<generation>`.
    async fn object(&self, key: &str, receive_count: i64) -> Result<(), RetryLater> {
        let Some(generation_id) = generation_id_of(key) else {
            warn!("ignored an object outside selfies/<wallet>/<generation>");
            return Ok(());
        };
        let Some(generation) = self.generations.get(generation_id).await? else {
            warn!(generation = generation_id, "no generation for this upload");
            return Ok(());
        };
        if generation.selfie_key != key {
            warn!(
                generation = generation_id,
                "object key does not match its generation"
            );
            return Ok(());
        }
        match generation.status {
            Status::AwaitingUpload => self.moderate(&generation, receive_count).await,
            // A redelivery after the job was queued: queue it again in case the first send
            // was lost; generate does each job once whatever it receives.
            Status::Queued => self.queue(&generation).await,
            // A redelivery after the block: the email goes if an earlier send failed.
            Status::Blocked => self.tell_held(&generation.id).await,
            _ => {
                info!(
                    generation = generation_id,
                    status = generation.status.as_str(),
                    "already moderated"
                );
                Ok(())
            }
        }
    }

    async fn moderate(
        &self,
        generation: &Generation,
        receive_count: i64,
    ) -> Result<(), RetryLater> {
        let now = self.clock.now();
        let entry = match self.log.get(&generation.id, now).await? {
            Some(entry) => entry,
            None => {
                let Some(bytes) = self.fetch_checked(generation).await? else {
                    return Ok(());
                };
                let verdict = match self
                    .moderator
                    .moderate(&bytes, &generation.content_type)
                    .await
                {
                    Ok(verdict) => verdict,
                    // The last delivery before the dead-letter queue: give the credits back
                    // rather than leave them reserved for a check that never happened.
                    Err(error)
                        if error.is_retryable()
                            && receive_count >= self.config.max_receive_count =>
                    {
                        return self.reject(generation, "moderation_unavailable").await;
                    }
                    Err(error) if error.is_retryable() => {
                        return Err(RetryLater(error.code().to_owned()));
                    }
                    Err(error) => return self.reject(generation, provider_reason(&error)).await,
                };
                let photo_url = format!(
                    "s3://{}/{}",
                    self.config.selfie_bucket, generation.selfie_key
                );
                self.log
                    .record(LogEntry::new(
                        &generation.id,
                        &generation.wallet_id,
                        photo_url,
                        &verdict,
                        now,
                    ))
                    .await?
            }
        };
        // Recorded where the decision is made: for images, OpenAI's omni-moderation does not
        // score `sexual/minors` (a text-only category), so that category is never a reason.
        info!(
            generation = %generation.id,
            decision = ?entry.decision,
            provider = %entry.provider,
            model = %entry.model,
            limitation = entry.limitation.as_deref().unwrap_or(""),
            "moderation decided"
        );
        match entry.decision {
            Decision::Allowed => self.queue(generation).await,
            Decision::Blocked => self.block(generation).await,
        }
    }

    /// The object's bytes if it is an image of the ordered type within the size limit;
    /// otherwise the generation fails, its credits go back and the object is deleted.
    async fn fetch_checked(&self, generation: &Generation) -> Result<Option<Vec<u8>>, RetryLater> {
        let object = self
            .s3
            .get_object()
            .bucket(&self.config.selfie_bucket)
            .key(&generation.selfie_key)
            .send()
            .await
            .map_err(|e| RetryLater(crate::aws::failure("GetObject", e)))?;
        if object.content_length().unwrap_or_default() > self.config.max_upload_bytes {
            self.reject(generation, "image_too_large").await?;
            return Ok(None);
        }
        let bytes = object
            .body
            .collect()
            .await
            .map_err(|e| RetryLater(format!("reading the object: {e}")))?
            .into_bytes()
            .to_vec();
        match inspect_image(&bytes) {
            Ok(info) if info.format.content_type() == generation.content_type => Ok(Some(bytes)),
            Ok(_) => {
                self.reject(generation, "image_type_mismatch").await?;
                Ok(None)
            }
            Err(check) => {
                self.reject(generation, check.code()).await?;
                Ok(None)
            }
        }
    }

    /// Not a usable image: nothing is generated, the credits go back, the object goes.
    async fn reject(&self, generation: &Generation, reason: &str) -> Result<(), RetryLater> {
        warn!(generation = %generation.id, reason, "upload rejected");
        match self.generations.fail(generation, reason).await {
            Ok(()) | Err(TransitionError::NotAllowed) => {}
            Err(other) => return Err(RetryLater(other.to_string())),
        }
        self.s3
            .delete_object()
            .bucket(&self.config.selfie_bucket)
            .key(&generation.selfie_key)
            .send()
            .await
            .map_err(|e| RetryLater(crate::aws::failure("DeleteObject", e)))?;
        Ok(())
    }

    async fn queue(&self, generation: &Generation) -> Result<(), RetryLater> {
        let job = serde_json::to_string(&GenerationJob {
            generation_id: generation.id.clone(),
        })
        .map_err(|e| RetryLater(e.to_string()))?;
        // The status moves first: a job that reached generate before the move would find
        // the order still awaiting its upload and be dropped. If the send then fails, the
        // redelivered S3 event finds the order queued and sends the job again.
        match self
            .generations
            .mark_queued(&generation.id, self.clock.now())
            .await
        {
            Ok(()) | Err(TransitionError::NotAllowed) => {}
            Err(other) => return Err(RetryLater(other.to_string())),
        }
        self.sqs
            .send_message()
            .queue_url(&self.config.generation_queue_url)
            .message_body(job)
            .send()
            .await
            .map_err(|e| RetryLater(crate::aws::failure("SendMessage", e)))?;
        Ok(())
    }

    async fn block(&self, generation: &Generation) -> Result<(), RetryLater> {
        let tagging = Tagging::builder()
            .tag_set(
                Tag::builder()
                    .key("moderation")
                    .value("blocked")
                    .build()
                    .map_err(|e| RetryLater(e.to_string()))?,
            )
            .build()
            .map_err(|e| RetryLater(e.to_string()))?;
        self.s3
            .put_object_tagging()
            .bucket(&self.config.selfie_bucket)
            .key(&generation.selfie_key)
            .tagging(tagging)
            .send()
            .await
            .map_err(|e| RetryLater(crate::aws::failure("PutObjectTagging", e)))?;
        match self.generations.block(generation, self.clock.now()).await {
            Ok(()) | Err(TransitionError::NotAllowed) => {}
            Err(other) => return Err(RetryLater(other.to_string())),
        }
        self.tell_held(&generation.id).await
    }

    /// "Your photo is held for review": once; a failed send is retried with the message.
    async fn tell_held(&self, id: &str) -> Result<(), RetryLater> {
        self.notices
            .tell(id, HeldSelfieNotice::Held)
            .await
            .map_err(RetryLater::because)
    }
}

fn provider_reason(error: &ProviderError) -> &'static str {
    match error {
        ProviderError::InvalidInput(_) => "not_an_image",
        _ => "moderation_unavailable",
    }
}

/// `selfies/<wallet>/<generation>` → `<generation>`.
pub fn generation_id_of(key: &str) -> Option<&str> {
    match key.split('/').collect::<Vec<_>>().as_slice() {
        ["selfies", wallet, generation] if !wallet.is_empty() && !generation.is_empty() => {
            Some(generation)
        }
        _ => None,
    }
}

/// S3 event keys are URL-encoded the way HTML forms are (`+` is a space).
pub fn decode_s3_key(encoded: &str) -> String {
    let bytes = encoded.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => decoded.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(high), Some(low)) => {
                    decoded.push(high << 4 | low);
                    i += 2;
                }
                _ => decoded.push(b'%'),
            },
            other => decoded.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

fn hex(digit: u8) -> Option<u8> {
    (digit as char).to_digit(16).map(|value| value as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_decode_like_aws_encodes_them() {
        assert_eq!(decode_s3_key("selfies/w1/a+b%2Bc"), "selfies/w1/a b+c");
        assert_eq!(
            decode_s3_key("selfies/w1/%E5%86%99%E7%9C%9F"),
            "selfies/w1/写真"
        );
        assert_eq!(decode_s3_key("100%"), "100%");
    }

    #[test]
    fn generation_ids_come_only_from_selfie_keys() {
        assert_eq!(generation_id_of("selfies/w1/g1"), Some("g1"));
        assert_eq!(generation_id_of("selfies/w1/g1/x"), None);
        assert_eq!(generation_id_of("other/w1/g1"), None);
        assert_eq!(generation_id_of("selfies//g1"), None);
    }
}
