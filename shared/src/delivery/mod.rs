//! The `generate` function: for each job on the generation queue, makes the avatar (OpenAI
//! image edit, or the local stylizer when configured), the sticker, the speech bubble, and
//! the bundle; stores them under the wallet; charges the reserved credits once; and emails
//! the "deliverables ready" message.
//!
//! A job is claimed with a lease, so a redelivered message finds it taken or done and does
//! nothing twice; the charge and the refund are conditional on the reservation, so they
//! happen once. A job OpenAI refuses (`moderation_blocked`) is not retried and its credits
//! go back; 429 and 5xx are retried (in the client, then by SQS), and the last delivery
//! before the dead-letter queue fails the job and returns the credits.

mod config;
mod maker;

pub use config::DeliveryConfig;
pub use maker::AvatarMaker;

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_config::SdkConfig;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use tracing::{error, info, warn};

use crate::billing::ledger::Ledger;
use crate::clock::Clock;
use crate::config::{ConfigError, EnvSource};
use crate::email::{Mailer, templates};
use crate::generation::imaging::bubble::{Quote, add_speech_bubble};
use crate::generation::imaging::bundle::{Deliverable, bundle_zip, encode_png};
use crate::generation::imaging::sticker::die_cut_sticker;
use crate::generations::{Generation, Generations, Product, Status, TransitionError};
use crate::moderation::GenerationJob;
use crate::providers::{OpenAiClient, ProviderChoice, ProviderConfig, ProviderError};
use crate::queue::{RetryLater, handle_batch, receive_count};
use crate::trials::{TrialLinks, Trials};
use crate::wallets::Wallets;

/// The avatar maker the configuration names (`IMAGE_PROVIDER`; prod refuses `local`).
pub fn avatar_maker_from_env(source: &dyn EnvSource) -> Result<AvatarMaker, ConfigError> {
    let providers = ProviderConfig::from_env(source, crate::config::stage(source)?)?;
    match providers.image {
        ProviderChoice::Local => Ok(AvatarMaker::LocalStylizer),
        ProviderChoice::OpenAi => {
            let config = providers
                .openai
                .ok_or(ConfigError::Missing("OPENAI_API_KEY"))?;
            let model = config.image_model.clone();
            let client = OpenAiClient::new(config).map_err(|e| ConfigError::Invalid {
                name: "OPENAI_BASE_URL",
                reason: e.to_string(),
            })?;
            Ok(AvatarMaker::OpenAi { client, model })
        }
    }
}

/// How long one worker holds a job before another may take it over.
const LEASE_SECONDS: i64 = 15 * 60;
const STICKER_BORDER_PX: u32 = 24;

#[derive(Debug)]
pub struct GenerationWorker {
    generations: Generations,
    wallets: Wallets,
    trials: Trials,
    trial_links: TrialLinks,
    s3: aws_sdk_s3::Client,
    mailer: Mailer,
    maker: AvatarMaker,
    clock: Arc<dyn Clock>,
    config: DeliveryConfig,
}

impl GenerationWorker {
    pub fn new(
        config: DeliveryConfig,
        maker: AvatarMaker,
        aws: &SdkConfig,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let dynamodb = crate::aws::dynamodb(aws);
        let wallets = Wallets::new(dynamodb.clone(), &config.wallets_table).with_ledger(
            Ledger::new(dynamodb.clone(), &config.ledger_table, clock.clone()),
        );
        Self {
            generations: Generations::new(
                dynamodb.clone(),
                &config.generations_table,
                wallets.clone(),
            ),
            wallets,
            trials: Trials::new(dynamodb.clone(), &config.trials_table),
            trial_links: TrialLinks::new(config.trial_link_secret.clone()),
            s3: crate::aws::s3(aws),
            mailer: Mailer::new(crate::aws::sesv2(aws), &config.email_from),
            maker,
            clock,
            config,
        }
    }

    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        handle_batch(&event, "generation job", |message| self.message(message)).await
    }

    async fn message(&self, message: &SqsMessage) -> Result<(), RetryLater> {
        let Some(job) = message
            .body
            .as_deref()
            .and_then(|body| serde_json::from_str::<GenerationJob>(body).ok())
        else {
            error!("dropped a message that is not a generation job");
            return Ok(());
        };
        let receive_count = receive_count(message);
        let Some(generation) = self
            .generations
            .get(&job.generation_id)
            .await
            .map_err(retry)?
        else {
            warn!(generation = %job.generation_id, "no such generation");
            return Ok(());
        };
        match generation.status {
            Status::Queued | Status::Generating => {}
            Status::Ready => return self.send_ready_email(&generation).await,
            other => {
                info!(generation = %generation.id, status = other.as_str(), "nothing to do");
                return Ok(());
            }
        }
        let now = self.clock.now();
        match self
            .generations
            .claim(&generation.id, now, now + LEASE_SECONDS)
            .await
        {
            Ok(()) => {}
            // Another worker holds the lease; if it dies, a later delivery takes over.
            Err(TransitionError::NotAllowed) => {
                return Err(RetryLater("job leased by another worker".into()));
            }
            Err(other) => return Err(retry(other)),
        }
        match self.generate(&generation).await {
            Ok(deliverables) => {
                match self
                    .generations
                    .complete(&generation.id, &deliverables)
                    .await
                {
                    Ok(()) | Err(TransitionError::NotAllowed) => {}
                    Err(other) => return Err(retry(other)),
                }
                info!(generation = %generation.id, files = deliverables.len(), maker = self.maker.label(), "generation ready");
                let mut ready = generation.clone();
                ready.status = Status::Ready;
                self.send_ready_email(&ready).await
            }
            Err(failure) => self.failed(&generation, failure, receive_count).await,
        }
    }

    /// Makes and stores every deliverable; returns file name → object key.
    async fn generate(
        &self,
        generation: &Generation,
    ) -> Result<BTreeMap<String, String>, GenerateFailure> {
        let selfie = self
            .s3
            .get_object()
            .bucket(&self.config.selfie_bucket)
            .key(&generation.selfie_key)
            .send()
            .await
            .map_err(|e| GenerateFailure::Retry(crate::aws::failure("GetObject", e)))?
            .body
            .collect()
            .await
            .map_err(|e| GenerateFailure::Retry(format!("reading the selfie: {e}")))?
            .into_bytes();
        let made = self
            .maker
            .make(&selfie, &generation.content_type, generation.style)
            .await
            .map_err(GenerateFailure::Provider)?;

        let mut files = vec![Deliverable {
            file_name: "avatar.png".into(),
            content_type: "image/png",
            bytes: encode_png(&made.avatar),
        }];
        if generation.products.contains(&Product::Stickers) {
            files.push(Deliverable {
                file_name: "sticker.png".into(),
                content_type: "image/png",
                bytes: encode_png(&die_cut_sticker(&made.subject, STICKER_BORDER_PX)),
            });
        }
        if generation.products.contains(&Product::SpeechBubble) {
            let text = generation.quote.as_deref().unwrap_or_default();
            let quote =
                Quote::parse(text).map_err(|e| GenerateFailure::Permanent(e.code().to_owned()))?;
            files.push(Deliverable {
                file_name: "speech-bubble.png".into(),
                content_type: "image/png",
                bytes: encode_png(&add_speech_bubble(&made.avatar, &made.subject, &quote)),
            });
        }
        files.push(Deliverable {
            file_name: "README.txt".into(),
            content_type: "text/plain; charset=utf-8",
            bytes: self.maker.provenance(generation.style).into_bytes(),
        });
        let bundle = bundle_zip(&files).map_err(|e| GenerateFailure::Permanent(e.to_string()))?;
        files.push(Deliverable {
            file_name: "bundle.zip".into(),
            content_type: "application/zip",
            bytes: bundle,
        });

        let mut stored = BTreeMap::new();
        for file in files {
            let key = format!(
                "generated/{}/{}/{}",
                generation.wallet_id, generation.id, file.file_name
            );
            self.s3
                .put_object()
                .bucket(&self.config.generated_bucket)
                .key(&key)
                .content_type(file.content_type)
                .body(file.bytes.into())
                .send()
                .await
                .map_err(|e| GenerateFailure::Retry(crate::aws::failure("PutObject", e)))?;
            stored.insert(file.file_name, key);
        }
        Ok(stored)
    }

    async fn failed(
        &self,
        generation: &Generation,
        failure: GenerateFailure,
        receive_count: i64,
    ) -> Result<(), RetryLater> {
        let final_reason = match &failure {
            GenerateFailure::Provider(ProviderError::ContentRejected { .. }) => {
                Some("moderation_blocked".to_owned())
            }
            GenerateFailure::Provider(error) if !error.is_retryable() => {
                Some(error.code().to_owned())
            }
            GenerateFailure::Permanent(reason) => Some(reason.clone()),
            // The last delivery before the dead-letter queue: give up and return the credits.
            _ if receive_count >= self.config.max_receive_count => {
                Some("generation_failed".to_owned())
            }
            _ => None,
        };
        let Some(reason) = final_reason else {
            return Err(RetryLater(failure.to_string()));
        };
        warn!(generation = %generation.id, reason = %reason, "generation failed; credits returned");
        match self.generations.fail(generation, &reason).await {
            Ok(()) | Err(TransitionError::NotAllowed) => Ok(()),
            Err(other) => Err(retry(other)),
        }
    }

    /// The "deliverables ready" email, sent once per generation.
    async fn send_ready_email(&self, generation: &Generation) -> Result<(), RetryLater> {
        if !self
            .generations
            .claim_ready_email(&generation.id)
            .await
            .map_err(retry)?
        {
            return Ok(());
        }
        if let Some(trial_id) = generation.trial_id() {
            return self.send_trial_ready_email(trial_id).await;
        }
        let Some(wallet) = self
            .wallets
            .get(&generation.wallet_id)
            .await
            .map_err(retry)?
        else {
            return Ok(());
        };
        let link =
            crate::email::AppPage::Generation { id: &generation.id }.url(&self.config.app_origin);
        let email = templates::deliverables_ready(wallet.locale, &link);
        if let Err(send_error) = self.mailer.send(&wallet.email, &email).await {
            // The result is stored and listed in the app; the email is a courtesy, so a
            // failure is logged rather than regenerating anything.
            error!(error = %send_error, generation = %generation.id, "ready email not sent");
        }
        Ok(())
    }
}

impl GenerationWorker {
    /// A trial has no wallet: its "ready" email (one avatar, no account) goes only to the
    /// email saved for its link, with that link and its end; without a saved email nothing
    /// is sent.
    async fn send_trial_ready_email(&self, trial_id: &str) -> Result<(), RetryLater> {
        let Some(contact) = self
            .trials
            .contact(trial_id, self.clock.now())
            .await
            .map_err(retry)?
        else {
            return Ok(());
        };
        let link = self
            .trial_links
            .link(&self.config.app_origin, trial_id, contact.link_expires);
        let expires = crate::clock::rfc3339(contact.link_expires);
        let email = templates::trial_ready(contact.locale, &link, &expires);
        if let Err(send_error) = self.mailer.send(&contact.email, &email).await {
            error!(error = %send_error, trial = %trial_id, "trial ready email not sent");
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
enum GenerateFailure {
    #[error(transparent)]
    Provider(ProviderError),
    #[error("{0}")]
    Retry(String),
    #[error("{0}")]
    Permanent(String),
}

fn retry(error: impl std::fmt::Display) -> RetryLater {
    RetryLater::because(error)
}
