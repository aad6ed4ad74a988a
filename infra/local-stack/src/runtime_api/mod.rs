//! An emulator of the AWS Lambda Runtime API
//! (<https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html>) and the function
//! processes that poll it.
//!
//! [`RuntimeApi`] is the server one execution environment talks to; [`FunctionProcess`]
//! runs a real function binary against its own `RuntimeApi`.

mod process;

use std::collections::HashMap;
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use http_body_util::{BodyExt, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::Value;
use thiserror::Error;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use crate::ACCOUNT_ID;
use crate::server::{self, Body};

pub use process::{FunctionOptions, FunctionProcess, Output, SpawnError};

/// Lambda's limit for a synchronous response.
pub const MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024;
/// Error and init-error reports are small; anything bigger is truncated by the limit.
const MAX_ERROR_BYTES: usize = 1024 * 1024;
const PATH_PREFIX: &str = "/2018-06-01/runtime/";

/// Why an invocation produced no response.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum InvokeError {
    /// The function reported an error (`POST /invocation/{id}/error`).
    #[error("function error {error_type}: {message}")]
    Function { error_type: String, message: String },
    /// The function reported an init error and exited before answering.
    #[error("function failed to initialize, {error_type}: {message}")]
    Init { error_type: String, message: String },
    #[error("function timed out after {0:?}")]
    Timeout(Duration),
    #[error("function process exited ({0}) before answering")]
    Exited(String),
    #[error("function response is larger than {MAX_RESPONSE_BYTES} bytes")]
    ResponseTooLarge,
    #[error("function response is not JSON: {0}")]
    NotJson(String),
    #[error("cannot restart the function process: {0}")]
    Restart(String),
}

/// An error document as the runtime posts it (`errorType`, `errorMessage`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct ErrorReport {
    error_type: String,
    message: String,
}

enum Outcome {
    Response(Bytes),
    Error(ErrorReport),
    TooLarge,
}

struct Invocation {
    request_id: String,
    payload: Bytes,
    deadline_ms: u128,
    trace_id: String,
}

struct State {
    function_arn: String,
    events_tx: mpsc::UnboundedSender<Invocation>,
    /// Held by the one `/next` poll being served; an execution environment polls serially.
    events_rx: tokio::sync::Mutex<mpsc::UnboundedReceiver<Invocation>>,
    in_flight: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    first_poll: watch::Sender<Option<Instant>>,
    init_error: Mutex<Option<ErrorReport>>,
}

impl State {
    fn in_flight(&self) -> MutexGuard<'_, HashMap<String, oneshot::Sender<Outcome>>> {
        // A poisoned map only means another handler panicked mid-insert; the map is intact.
        self.in_flight.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn init_error(&self) -> MutexGuard<'_, Option<ErrorReport>> {
        self.init_error.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn complete(&self, request_id: &str, outcome: Outcome) -> bool {
        match self.in_flight().remove(request_id) {
            Some(waiter) => waiter.send(outcome).is_ok(),
            None => false,
        }
    }
}

/// Removes an invocation's waiter when the invoking future ends, however it ends, so a late
/// answer is refused and an undelivered event is skipped by `/next`.
struct InFlightGuard<'a> {
    state: &'a State,
    request_id: String,
}

impl Drop for InFlightGuard<'_> {
    fn drop(&mut self) {
        self.state.in_flight().remove(&self.request_id);
    }
}

/// The Runtime API server of one execution environment, on 127.0.0.1 with an OS-assigned
/// port. Dropping it stops the server.
pub struct RuntimeApi {
    addr: SocketAddr,
    state: Arc<State>,
    server: JoinHandle<()>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl RuntimeApi {
    /// Starts the server for the function named `function_name` in `region`.
    pub async fn start(function_name: &str, region: &str) -> std::io::Result<RuntimeApi> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let state = Arc::new(State {
            function_arn: format!("arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{function_name}"),
            events_tx,
            events_rx: tokio::sync::Mutex::new(events_rx),
            in_flight: Mutex::new(HashMap::new()),
            first_poll: watch::Sender::new(None),
            init_error: Mutex::new(None),
        });
        let handler_state = Arc::clone(&state);
        let handler = move |request, _peer| handle(Arc::clone(&handler_state), request);
        let server = tokio::spawn(server::serve(listener, handler, std::future::pending()));
        Ok(RuntimeApi {
            addr,
            state,
            server,
        })
    }

    /// The value for `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> SocketAddr {
        self.addr
    }

    /// When the runtime first asked for an invocation (since the last [`RuntimeApi::reset`]).
    pub fn first_poll(&self) -> Option<Instant> {
        *self.state.first_poll.borrow()
    }

    /// Waits for the first `/next` poll.
    pub async fn wait_first_poll(&self) -> Instant {
        let mut polls = self.state.first_poll.subscribe();
        // The sender lives in `self.state`, so the channel cannot close while we wait.
        match polls.wait_for(Option::is_some).await {
            Ok(poll) => poll.unwrap_or_else(Instant::now),
            Err(_) => Instant::now(),
        }
    }

    /// Forgets the first poll and any init error: a new process is about to start.
    pub fn reset(&self) {
        self.state.first_poll.send_replace(None);
        self.state.init_error().take();
    }

    /// Invokes the function and waits for its answer at most `timeout`.
    pub async fn invoke(&self, payload: &Value, timeout: Duration) -> Result<Value, InvokeError> {
        self.invoke_until(payload, timeout, std::future::pending())
            .await
    }

    /// Like [`RuntimeApi::invoke`], but gives up when `exited` completes (with a description
    /// of how the process ended).
    pub async fn invoke_until(
        &self,
        payload: &Value,
        timeout: Duration,
        exited: impl Future<Output = String>,
    ) -> Result<Value, InvokeError> {
        let request_id = uuid::Uuid::new_v4().to_string();
        let (waiter, answer) = oneshot::channel();
        self.state.in_flight().insert(request_id.clone(), waiter);
        let _guard = InFlightGuard {
            state: &self.state,
            request_id: request_id.clone(),
        };
        let invocation = Invocation {
            request_id,
            payload: Bytes::from(payload.to_string()),
            deadline_ms: epoch_ms() + timeout.as_millis(),
            trace_id: trace_id(),
        };
        // The receiver lives in `self.state`, so sending cannot fail.
        let _ = self.state.events_tx.send(invocation);
        tokio::select! {
            outcome = answer => self.outcome(outcome.ok()),
            status = exited => Err(self.exit_error(status)),
            () = tokio::time::sleep(timeout) => Err(InvokeError::Timeout(timeout)),
        }
    }

    fn outcome(&self, outcome: Option<Outcome>) -> Result<Value, InvokeError> {
        match outcome {
            Some(Outcome::Response(body)) => {
                serde_json::from_slice(&body).map_err(|e| InvokeError::NotJson(e.to_string()))
            }
            Some(Outcome::Error(report)) => Err(InvokeError::Function {
                error_type: report.error_type,
                message: report.message,
            }),
            Some(Outcome::TooLarge) => Err(InvokeError::ResponseTooLarge),
            // The waiter is only dropped by our own guard, which outlives this wait.
            None => Err(InvokeError::Exited("invocation abandoned".to_owned())),
        }
    }

    fn exit_error(&self, status: String) -> InvokeError {
        match self.state.init_error().clone() {
            Some(report) => InvokeError::Init {
                error_type: report.error_type,
                message: report.message,
            },
            None => InvokeError::Exited(status),
        }
    }
}

async fn handle(state: Arc<State>, request: Request<Incoming>) -> Response<Body> {
    let path = request.uri().path().to_owned();
    let Some(route) = path.strip_prefix(PATH_PREFIX) else {
        return not_found(&path);
    };
    let segments: Vec<&str> = route.split('/').collect();
    match (request.method(), segments.as_slice()) {
        (&Method::GET, ["invocation", "next"]) => next(&state).await,
        (&Method::POST, ["invocation", id, "response"]) => respond(&state, id, request).await,
        (&Method::POST, ["invocation", id, "error"]) => {
            let report = read_error(request).await;
            tracing::debug!(request_id = %id, error_type = %report.error_type, "function error");
            accepted_or_unknown(state.complete(id, Outcome::Error(report)), id)
        }
        (&Method::POST, ["init", "error"]) => {
            let report = read_error(request).await;
            tracing::error!(error_type = %report.error_type, message = %report.message, "function init error");
            *state.init_error() = Some(report);
            accepted()
        }
        _ => not_found(&path),
    }
}

/// Long-polls for the next invocation still awaited by its caller.
async fn next(state: &State) -> Response<Body> {
    state.first_poll.send_if_modified(|first| {
        let unset = first.is_none();
        if unset {
            *first = Some(Instant::now());
        }
        unset
    });
    let mut events = state.events_rx.lock().await;
    loop {
        let Some(invocation) = events.recv().await else {
            return server::json(
                StatusCode::INTERNAL_SERVER_ERROR,
                r#"{"errorType":"Shutdown"}"#,
            );
        };
        // A caller that timed out or went away no longer waits; don't run its event.
        if state.in_flight().contains_key(&invocation.request_id) {
            return event_response(state, invocation);
        }
    }
}

fn event_response(state: &State, invocation: Invocation) -> Response<Body> {
    let mut response = server::json(StatusCode::OK, invocation.payload);
    let headers = [
        ("lambda-runtime-aws-request-id", invocation.request_id),
        (
            "lambda-runtime-deadline-ms",
            invocation.deadline_ms.to_string(),
        ),
        (
            "lambda-runtime-invoked-function-arn",
            state.function_arn.clone(),
        ),
        ("lambda-runtime-trace-id", invocation.trace_id),
    ];
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::try_from(value) {
            response
                .headers_mut()
                .insert(HeaderName::from_static(name), value);
        }
    }
    response
}

async fn respond(state: &State, request_id: &str, request: Request<Incoming>) -> Response<Body> {
    match Limited::new(request.into_body(), MAX_RESPONSE_BYTES)
        .collect()
        .await
    {
        Ok(body) => {
            let known = state.complete(request_id, Outcome::Response(body.to_bytes()));
            accepted_or_unknown(known, request_id)
        }
        Err(_) => {
            state.complete(request_id, Outcome::TooLarge);
            server::json(
                StatusCode::PAYLOAD_TOO_LARGE,
                r#"{"errorMessage":"Response payload too large","errorType":"RequestEntityTooLarge"}"#,
            )
        }
    }
}

/// Reads an error document; the type falls back to the `Lambda-Runtime-Function-Error-Type`
/// header and the message to the raw body, since custom runtimes may post anything.
async fn read_error(request: Request<Incoming>) -> ErrorReport {
    let header_type = request
        .headers()
        .get("lambda-runtime-function-error-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = Limited::new(request.into_body(), MAX_ERROR_BYTES)
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let document: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let field = |name: &str| {
        document
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    ErrorReport {
        error_type: field("errorType")
            .or(header_type)
            .unwrap_or_else(|| "Unhandled".to_owned()),
        message: field("errorMessage")
            .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned()),
    }
}

fn accepted() -> Response<Body> {
    server::json(StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
}

fn accepted_or_unknown(known: bool, request_id: &str) -> Response<Body> {
    if known {
        return accepted();
    }
    // The caller gave up (timeout) or the id is wrong, as Lambda answers unknown ids.
    tracing::debug!(%request_id, "answer for an invocation nobody waits for");
    let body = serde_json::json!({
        "errorMessage": format!("Invalid request ID: {request_id}"),
        "errorType": "InvalidRequestID",
    });
    server::json(StatusCode::BAD_REQUEST, body.to_string())
}

fn not_found(path: &str) -> Response<Body> {
    let body = serde_json::json!({
        "errorMessage": format!("Unknown resource {path}"),
        "errorType": "NotFound",
    });
    server::json(StatusCode::NOT_FOUND, body.to_string())
}

fn epoch_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

/// An X-Ray style trace header: `Root=1-<epoch hex>-<24 hex>;Parent=<16 hex>;Sampled=0`.
fn trace_id() -> String {
    let epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!(
        "Root=1-{epoch:08x}-{};Parent={};Sampled=0",
        &random[..24],
        &random[16..]
    )
}

#[cfg(test)]
mod tests;
