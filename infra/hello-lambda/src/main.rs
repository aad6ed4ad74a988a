//! The benchmark's baseline: the smallest useful lambda_runtime function, built with the
//! same profile, so the otp figures can be read against it.

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::{Value, json};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    run(service_fn(|event: LambdaEvent<Value>| async move {
        Ok::<_, Error>(
            json!({ "statusCode": 200, "body": "hello", "echo": event.payload.is_object() }),
        )
    }))
    .await
}
