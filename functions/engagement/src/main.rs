//! The `engagement` Lambda: `POST /refund-requests`, `GET`/`POST /me/marketing`,
//! `GET`/`POST /unsubscribe`, `POST /events`, `POST /feedback`.

use std::sync::Arc;

use lambda_http::{Error, Request, run, service_fn};
use shared::clock::SystemClock;
use shared::engagement::{EngagementApi, EngagementConfig};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::logging::init();
    let config = shared::config::load(EngagementConfig::from_env)?;
    let aws = shared::aws::load_sdk_config().await;
    let api = EngagementApi::new(config, &aws, Arc::new(SystemClock));
    let api = &api;
    run(service_fn(move |request: Request| async move {
        Ok::<_, Error>(api.handle(request).await)
    }))
    .await
}
