//! The `retention-cron` job: the retention windows that DynamoDB TTL cannot keep alone.
//! So far: blocked selfies no admin handled are deleted by day 5 after the block decision,
//! and uploads that never arrived give their reserved credits back.
//! (Selfies at 30 days, due erasures and exports come with the privacy-rights issue.)

use std::sync::Arc;

use aws_config::SdkConfig;
use serde_json::{Value, json};
use tracing::info;

use crate::clock::Clock;
use crate::config::{ConfigError, EnvSource, Settings};
use crate::generations::{Generations, TransitionError};
use crate::moderation::review::ReviewQueue;
use crate::rights::Rights;
use crate::rights::erasure::{ErasureReport, Erasures};
use crate::wallets::Wallets;

/// The job runs hourly; anything due within the next run's hour goes now, so nothing
/// outlives its window by waiting for the next run.
const RUN_INTERVAL_SECONDS: i64 = 3600;
/// A presigned upload URL lives minutes (`UPLOAD_URL_TTL_SECONDS`); after an hour without
/// its selfie the order is abandoned.
const ABANDONED_AFTER_SECONDS: i64 = 3600;

#[derive(Clone, Debug)]
pub struct RetentionConfig {
    pub wallets_table: String,
    pub generations_table: String,
    pub selfie_bucket: String,
    /// Every store of personal data, for due erasures and expired exports.
    pub rights: crate::rights::StoresConfig,
}

impl RetentionConfig {
    pub fn from_env(source: &dyn EnvSource) -> Result<Self, ConfigError> {
        let settings = Settings::new(source);
        Ok(Self {
            wallets_table: settings.required("WALLETS_TABLE")?,
            generations_table: settings.required("GENERATIONS_TABLE")?,
            selfie_bucket: settings.required("SELFIE_BUCKET")?,
            rights: crate::rights::StoresConfig::from_env(source)?,
        })
    }
}

#[derive(Debug)]
pub struct RetentionJob {
    review: ReviewQueue,
    generations: Generations,
    erasures: Erasures,
    clock: Arc<dyn Clock>,
}

impl RetentionJob {
    pub fn new(config: RetentionConfig, aws: &SdkConfig, clock: Arc<dyn Clock>) -> Self {
        let dynamodb = crate::aws::dynamodb(aws);
        let wallets = Wallets::new(dynamodb.clone(), &config.wallets_table);
        let generations = Generations::new(dynamodb, &config.generations_table, wallets);
        Self {
            review: ReviewQueue::new(aws, generations.clone(), &config.selfie_bucket),
            generations,
            erasures: Erasures::new(Rights::new(config.rights, aws)),
            clock,
        }
    }

    /// One run; safe to run twice at once (each removal is conditional and repeatable).
    pub async fn run(&self) -> Result<Value, lambda_http::Error> {
        let now = self.clock.now();
        let removed = self
            .review
            .expire_blocked(now, RUN_INTERVAL_SECONDS)
            .await?;
        let abandoned = self.return_abandoned_reservations(now).await?;
        let privacy = self.privacy_requests(now).await?;
        info!(
            blocked_selfies_removed = removed,
            abandoned_uploads = abandoned,
            erasures_completed = privacy.erasures_completed,
            erased_items = privacy.items_deleted,
            expired_exports_removed = privacy.expired_exports_removed,
            "retention run"
        );
        Ok(json!({
            "blocked_selfies_removed": removed,
            "abandoned_uploads": abandoned,
            "erasures_completed": privacy.erasures_completed,
            "erased_items": privacy.items_deleted,
            "expired_exports_removed": privacy.expired_exports_removed,
        }))
    }

    /// Due erasures (all requested before this run) and export archives past 7 days.
    async fn privacy_requests(&self, now: i64) -> Result<ErasureReport, lambda_http::Error> {
        let mut report = self.erasures.run_due(now).await?;
        report.expired_exports_removed = self.erasures.remove_expired_exports(now).await?;
        Ok(report)
    }

    /// Orders whose selfie never arrived: failed, their credits returned (once each).
    async fn return_abandoned_reservations(&self, now: i64) -> Result<usize, lambda_http::Error> {
        let stale = self
            .generations
            .stale_uploads(now - ABANDONED_AFTER_SECONDS, 100)
            .await?;
        let mut returned = 0;
        for generation in &stale {
            match self
                .generations
                .fail(generation, "upload_not_received")
                .await
            {
                Ok(()) => returned += 1,
                Err(TransitionError::NotAllowed) => {}
                Err(other) => return Err(other.into()),
            }
        }
        Ok(returned)
    }
}
