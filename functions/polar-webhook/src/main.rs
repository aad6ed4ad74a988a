//! The `polar-webhook` Lambda: `POST /checkout`, `POST /webhooks/polar`.

use std::sync::Arc;

use lambda_http::{Error, Request, run, service_fn};
use shared::billing::{BillingApi, BillingConfig};
use shared::clock::SystemClock;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::logging::init();
    let config = shared::config::load(BillingConfig::from_env)?;
    let aws = shared::aws::load_sdk_config().await;
    let api = BillingApi::new(config, &aws, Arc::new(SystemClock));
    let api = &api;
    run(service_fn(move |request: Request| async move {
        Ok::<_, Error>(api.handle(request).await)
    }))
    .await
}
