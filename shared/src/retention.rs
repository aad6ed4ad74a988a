//! The `retention-cron` job: the retention windows that DynamoDB TTL cannot keep alone.
//! So far: blocked selfies no admin handled are deleted by day 5 after the block decision.
//! (Selfies at 30 days, due erasures and exports come with the privacy-rights issue.)

use std::sync::Arc;

use aws_config::SdkConfig;
use serde_json::{Value, json};
use tracing::info;

use crate::clock::Clock;
use crate::config::{ConfigError, EnvSource, Settings};
use crate::generations::Generations;
use crate::moderation::review::ReviewQueue;
use crate::wallets::Wallets;

/// The job runs hourly; anything due within the next run's hour goes now, so nothing
/// outlives its window by waiting for the next run.
const RUN_INTERVAL_SECONDS: i64 = 3600;

#[derive(Clone, Debug)]
pub struct RetentionConfig {
    pub wallets_table: String,
    pub generations_table: String,
    pub selfie_bucket: String,
}

impl RetentionConfig {
    pub fn from_env(source: &dyn EnvSource) -> Result<Self, ConfigError> {
        let settings = Settings::new(source);
        Ok(Self {
            wallets_table: settings.required("WALLETS_TABLE")?,
            generations_table: settings.required("GENERATIONS_TABLE")?,
            selfie_bucket: settings.required("SELFIE_BUCKET")?,
        })
    }
}

#[derive(Debug)]
pub struct RetentionJob {
    review: ReviewQueue,
    clock: Arc<dyn Clock>,
}

impl RetentionJob {
    pub fn new(config: RetentionConfig, aws: &SdkConfig, clock: Arc<dyn Clock>) -> Self {
        let dynamodb = crate::aws::dynamodb(aws);
        let wallets = Wallets::new(dynamodb.clone(), &config.wallets_table);
        let generations = Generations::new(dynamodb, &config.generations_table, wallets);
        Self {
            review: ReviewQueue::new(aws, generations, &config.selfie_bucket),
            clock,
        }
    }

    /// One run; safe to run twice at once (each removal is conditional and repeatable).
    pub async fn run(&self) -> Result<Value, lambda_http::Error> {
        let removed = self
            .review
            .expire_blocked(self.clock.now(), RUN_INTERVAL_SECONDS)
            .await?;
        info!(blocked_selfies_removed = removed, "retention run");
        Ok(json!({ "blocked_selfies_removed": removed }))
    }
}
