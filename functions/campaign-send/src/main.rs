//! The `campaign-send` Lambda: campaign jobs (SQS) in, marketing email to the opted-in lead
//! list out, paced, once per address.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use shared::clock::SystemClock;
use shared::marketing::campaigns::sender::{CampaignSender, CampaignSenderConfig};

/// Time kept back for the page in flight when the function's time is nearly up.
const MARGIN: Duration = Duration::from_secs(60);

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::logging::init();
    let config = shared::config::load(CampaignSenderConfig::from_env)?;
    let aws = shared::aws::load_sdk_config().await;
    let sender = CampaignSender::new(config, &aws, Arc::new(SystemClock));
    let sender = &sender;
    run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        let budget = remaining(event.context.deadline).saturating_sub(MARGIN);
        Ok::<SqsBatchResponse, Error>(sender.handle(event.payload, budget).await)
    }))
    .await
}

/// The invocation's time left (its deadline is in milliseconds since the epoch).
fn remaining(deadline_ms: u64) -> Duration {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Duration::from_millis(deadline_ms).saturating_sub(now)
}
