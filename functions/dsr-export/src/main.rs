//! The `dsr-export` Lambda: export and erasure requests (signed in, or by an admin for an
//! email), and the emailed export download link.

use std::sync::Arc;

use lambda_http::{Error, Request, run, service_fn};
use shared::clock::SystemClock;
use shared::rights::api::{RightsApi, RightsConfig};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::logging::init();
    let config = shared::config::load(RightsConfig::from_env)?;
    let aws = shared::aws::load_sdk_config().await;
    let api = RightsApi::new(config, &aws, Arc::new(SystemClock));
    let api = &api;
    run(service_fn(move |request: Request| async move {
        Ok::<_, Error>(api.handle(request).await)
    }))
    .await
}
