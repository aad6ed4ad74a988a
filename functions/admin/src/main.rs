//! The `admin` Lambda: the review queue of blocked selfies, and marketing campaigns.

use std::sync::Arc;

use lambda_http::{Error, Request, run, service_fn};
use shared::clock::SystemClock;
use shared::marketing::campaigns::api::{CampaignApi, CampaignConfig};
use shared::moderation::review::{ReviewApi, ReviewConfig};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::logging::init();
    let config = shared::config::load(ReviewConfig::from_env)?;
    let campaign_config = shared::config::load(CampaignConfig::from_env)?;
    let aws = shared::aws::load_sdk_config().await;
    let clock = Arc::new(SystemClock);
    let campaigns = CampaignApi::new(&config, campaign_config, &aws, clock.clone());
    let review = ReviewApi::new(config, &aws, clock);
    let (review, campaigns) = (&review, &campaigns);
    run(service_fn(move |request: Request| async move {
        Ok::<_, Error>(if CampaignApi::serves(request.uri().path()) {
            campaigns.handle(request).await
        } else {
            review.handle(request).await
        })
    }))
    .await
}
