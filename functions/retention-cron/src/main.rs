//! The `retention-cron` Lambda (EventBridge schedule): for now, blocked selfies no admin
//! handled are deleted by day 5 after the block decision.

use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::Value;
use shared::clock::SystemClock;
use shared::retention::{RetentionConfig, RetentionJob};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::logging::init();
    let config = shared::config::load(RetentionConfig::from_env)?;
    let aws = shared::aws::load_sdk_config().await;
    let job = RetentionJob::new(config, &aws, Arc::new(SystemClock));
    let job = &job;
    run(service_fn(move |_: LambdaEvent<Value>| async move {
        job.run().await
    }))
    .await
}
