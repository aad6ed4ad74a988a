//! `trigger`: asks a running `serve` to run a function's schedule now, through the
//! loopback-only admin route, and prints the function's response.

use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use local_stack::events::s3::aws_encode_key;

use super::CliError;
use super::args::TriggerArgs;

pub async fn trigger(args: TriggerArgs) -> Result<(), CliError> {
    let unreachable = |message: String| CliError::TriggerUnreachable {
        address: args.listen,
        message,
    };
    let mut uri = format!(
        "http://{}/_local/functions/{}/invoke-schedule",
        args.listen,
        aws_encode_key(&args.function)
    );
    let mut query = Vec::new();
    if let Some(event) = &args.event {
        query.push(format!("event={}", aws_encode_key(event)));
    }
    if let Some(offset) = args.clock_offset_seconds {
        query.push(format!("clock_offset={offset}"));
    }
    if !query.is_empty() {
        uri.push_str(&format!("?{}", query.join("&")));
    }
    let request = Request::post(uri)
        .body(Full::new(Bytes::new()))
        .map_err(|e| unreachable(e.to_string()))?;
    let client = Client::builder(TokioExecutor::new()).build_http();
    let response = client
        .request(request)
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| unreachable(e.to_string()))?
        .to_bytes();
    let body = String::from_utf8_lossy(&body).into_owned();
    if status != StatusCode::OK {
        return Err(CliError::TriggerFailed {
            status: status.as_u16(),
            body,
        });
    }
    println!("{body}");
    Ok(())
}
