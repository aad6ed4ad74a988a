//! The `upload-presign` Lambda: `POST /uploads`, `GET /generations`, `GET /generations/{id}`,
//! `POST /trial`, `GET /trial/{id}`.

use std::sync::Arc;

use lambda_http::{Error, Request, run, service_fn};
use shared::clock::SystemClock;
use shared::uploads::{UploadsApi, UploadsConfig};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::logging::init();
    let config = shared::config::load(UploadsConfig::from_env)?;
    let aws = shared::aws::load_sdk_config().await;
    let api = UploadsApi::new(config, &aws, Arc::new(SystemClock))?;
    let api = &api;
    run(service_fn(move |request: Request| async move {
        Ok::<_, Error>(api.handle(request).await)
    }))
    .await
}
