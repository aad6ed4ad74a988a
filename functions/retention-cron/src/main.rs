//! The `retention-cron` Lambda (EventBridge schedule, hourly): selfies at 30 days, blocked
//! selfies by day 5, abandoned uploads; reports as a log line and EMF metrics.

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::Value;
use shared::retention::{RetentionConfig, RetentionJob};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::logging::init();
    let config = shared::config::load(RetentionConfig::from_env)?;
    // CLOCK_OFFSET_SECONDS moves the clock for trying retention by hand; prod refuses it.
    let clock = shared::config::load(shared::clock::clock_from_env)?;
    let aws = shared::aws::load_sdk_config().await;
    let job = RetentionJob::new(config, &aws, clock);
    let job = &job;
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        job.handle(&event.payload).await
    }))
    .await
}
