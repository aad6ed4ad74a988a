//! The `dsr-archive` Lambda: export jobs (SQS) in, a streamed zip archive and an email with
//! its download link out.

// The archive future nests every store's export future: deeper than the default limit.
#![recursion_limit = "256"]

use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use shared::clock::SystemClock;
use shared::rights::worker::{ArchiveConfig, ArchiveWorker};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::logging::init();
    let config = shared::config::load(ArchiveConfig::from_env)?;
    let aws = shared::aws::load_sdk_config().await;
    let worker = ArchiveWorker::new(config, &aws, Arc::new(SystemClock));
    let worker = &worker;
    run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<SqsBatchResponse, Error>(worker.handle(event.payload).await)
    }))
    .await
}
