//! The `generate` Lambda: generation jobs (SQS) in, deliverables and a ready email out.

use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use shared::clock::SystemClock;
use shared::delivery::{DeliveryConfig, GenerationWorker};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::logging::init();
    let config = shared::config::load(DeliveryConfig::from_env)?;
    let maker = shared::config::load(shared::delivery::avatar_maker_from_env)?;
    let aws = shared::aws::load_sdk_config().await;
    let worker = GenerationWorker::new(config, maker, &aws, Arc::new(SystemClock));
    let worker = &worker;
    run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<SqsBatchResponse, Error>(worker.handle(event.payload).await)
    }))
    .await
}
