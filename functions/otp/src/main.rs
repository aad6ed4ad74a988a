//! The `otp` Lambda: one-time-code sign-in, sessions and `/me`.
//! Configuration and clients are built once per cold start; the handler lives in `shared`.

use std::sync::Arc;

use lambda_http::{Error, Request, run, service_fn};
use shared::auth::{OtpApi, OtpConfig};
use shared::clock::SystemClock;
use shared::config::ProcessEnv;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::logging::init();
    let config = OtpConfig::from_env(&ProcessEnv).map_err(|error| {
        tracing::error!(%error, "configuration refused");
        error
    })?;
    let aws = shared::aws::load_sdk_config().await;
    let api = OtpApi::new(config, &aws, Arc::new(SystemClock));
    let api = &api;
    run(service_fn(move |request: Request| async move {
        Ok::<_, Error>(api.handle(request).await)
    }))
    .await
}
