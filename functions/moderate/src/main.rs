//! The `moderate` Lambda: selfie S3 events (through SQS) in, moderation decisions out.

use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use shared::clock::SystemClock;
use shared::moderation::{ModerationConfig, ModerationWorker};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::logging::init();
    let config = shared::config::load(ModerationConfig::from_env)?;
    let moderator = shared::config::load(shared::moderation::moderator_from_env)?;
    let aws = shared::aws::load_sdk_config().await;
    let worker = ModerationWorker::new(config, moderator, &aws, Arc::new(SystemClock));
    let worker = &worker;
    run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<SqsBatchResponse, Error>(worker.handle(event.payload).await)
    }))
    .await
}
