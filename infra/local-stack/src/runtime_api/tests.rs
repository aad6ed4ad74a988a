//! The Runtime API against an in-process fake runtime that speaks the protocol over HTTP.

use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use super::*;

type HttpClient = Client<HttpConnector, Full<Bytes>>;

fn client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

async fn call(
    client: &HttpClient,
    method: Method,
    url: String,
    body: &str,
) -> (hyper::http::response::Parts, Bytes) {
    let request = Request::builder()
        .method(method)
        .uri(url)
        .body(Full::new(Bytes::from(body.to_owned())))
        .expect("request");
    let response = client.request(request).await.expect("response");
    let (parts, body) = response.into_parts();
    (parts, body.collect().await.expect("body").to_bytes())
}

/// A fake runtime: polls once and answers with `answer(event, headers)` at `path`.
fn fake_runtime(
    addr: SocketAddr,
    answer: impl Fn(&Value, &hyper::HeaderMap) -> (&'static str, Value) + Send + 'static,
) -> tokio::task::JoinHandle<hyper::StatusCode> {
    tokio::spawn(async move {
        let client = client();
        let base = format!("http://{addr}/2018-06-01/runtime/invocation");
        let (parts, body) = call(&client, Method::GET, format!("{base}/next"), "").await;
        let event: Value = serde_json::from_slice(&body).expect("event json");
        let id = parts.headers["lambda-runtime-aws-request-id"]
            .to_str()
            .expect("id")
            .to_owned();
        let (kind, reply) = answer(&event, &parts.headers);
        let url = format!("{base}/{id}/{kind}");
        call(&client, Method::POST, url, &reply.to_string())
            .await
            .0
            .status
    })
}

#[tokio::test]
async fn invocation_round_trip_with_lambda_headers() {
    let api = RuntimeApi::start("fn", "ap-northeast-1")
        .await
        .expect("start");
    let runtime = fake_runtime(api.address(), |event, headers| {
        let deadline: u128 = headers["lambda-runtime-deadline-ms"]
            .to_str()
            .ok()
            .and_then(|d| d.parse().ok())
            .expect("deadline");
        assert!(deadline > epoch_ms());
        assert_eq!(
            headers["lambda-runtime-invoked-function-arn"],
            "arn:aws:lambda:ap-northeast-1:123456789012:function:fn"
        );
        assert!(
            headers["lambda-runtime-trace-id"]
                .to_str()
                .expect("trace")
                .starts_with("Root=1-")
        );
        ("response", json!({ "echo": event }))
    });
    let answer = api.invoke(&json!({"n": 1}), Duration::from_secs(5)).await;
    assert_eq!(answer, Ok(json!({"echo": {"n": 1}})));
    assert_eq!(runtime.await.expect("runtime"), hyper::StatusCode::ACCEPTED);
    assert!(api.first_poll().is_some());
}

#[tokio::test]
async fn error_post_becomes_function_error() {
    let api = RuntimeApi::start("fn", "ap-northeast-1")
        .await
        .expect("start");
    fake_runtime(api.address(), |_, _| {
        (
            "error",
            json!({"errorType": "my::Error", "errorMessage": "boom"}),
        )
    });
    let answer = api.invoke(&json!({}), Duration::from_secs(5)).await;
    assert_eq!(
        answer,
        Err(InvokeError::Function {
            error_type: "my::Error".into(),
            message: "boom".into()
        })
    );
}

#[tokio::test]
async fn timeout_then_late_answer_is_refused() {
    let api = RuntimeApi::start("fn", "ap-northeast-1")
        .await
        .expect("start");
    let addr = api.address();
    let client = client();
    let base = format!("http://{addr}/2018-06-01/runtime/invocation");
    let poll = tokio::spawn({
        let client = client.clone();
        let url = format!("{base}/next");
        async move { call(&client, Method::GET, url, "").await.0 }
    });
    let answer = api.invoke(&json!({}), Duration::from_millis(200)).await;
    assert_eq!(
        answer,
        Err(InvokeError::Timeout(Duration::from_millis(200)))
    );
    let parts = poll.await.expect("poll");
    let id = parts.headers["lambda-runtime-aws-request-id"]
        .to_str()
        .expect("id");
    let late = call(&client, Method::POST, format!("{base}/{id}/response"), "{}").await;
    assert_eq!(late.0.status, hyper::StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_poller_that_disconnected_does_not_swallow_the_next_event() {
    let api = RuntimeApi::start("fn", "ap-northeast-1")
        .await
        .expect("start");
    // A process that polled and then died: its connection closes with the poll pending.
    let mut dead = tokio::net::TcpStream::connect(api.address())
        .await
        .expect("connect");
    dead.write_all(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .expect("write");
    tokio::time::sleep(Duration::from_millis(50)).await;
    drop(dead);
    tokio::time::sleep(Duration::from_millis(50)).await;
    fake_runtime(api.address(), |event, _| ("response", event.clone()));
    let answer = api.invoke(&json!({"n": 2}), Duration::from_secs(2)).await;
    assert_eq!(answer, Ok(json!({"n": 2})));
}

#[tokio::test]
async fn init_error_is_reported_when_the_process_exits() {
    let api = RuntimeApi::start("fn", "ap-northeast-1")
        .await
        .expect("start");
    let url = format!("http://{}/2018-06-01/runtime/init/error", api.address());
    let body = r#"{"errorType":"Runtime.InitError","errorMessage":"missing SESSION_SECRET"}"#;
    let (parts, _) = call(&client(), Method::POST, url, body).await;
    assert_eq!(parts.status, hyper::StatusCode::ACCEPTED);
    let answer = api
        .invoke_until(&json!({}), Duration::from_secs(2), async {
            "exit status: 1".to_owned()
        })
        .await;
    assert_eq!(
        answer,
        Err(InvokeError::Init {
            error_type: "Runtime.InitError".into(),
            message: "missing SESSION_SECRET".into()
        })
    );
}
