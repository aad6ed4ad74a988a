//! The HTTP API: the template's `HttpApi` routes served locally in front of the functions,
//! with API Gateway's event format, response mapping, errors and CORS; and, for loopback
//! clients only, the local [`admin`] routes.
//!
//! With a [`Site`] (`serve --web-dir`), the gateway is the app's one origin, as CloudFront
//! is when deployed: `/api/*` goes to the HTTP API with the `/api` prefix stripped (as the
//! CloudFront function does), everything else to the static app, and every response carries
//! the security headers of CloudFront's response headers policy.

pub mod admin;
mod cors;
pub(crate) mod event;
mod response;
mod router;

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use http::{Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use serde_json::Value;
use tokio::net::TcpListener;

pub use event::{ApiContext, build_event};
pub use response::{InvalidResponse, map_response};
pub use router::{RouteMatch, Router};

use crate::events::Triggers;
use crate::runtime_api::{FunctionProcess, InvokeError};
use crate::server;
use crate::site::Site;
use crate::site::security::SecurityHeaders;
use crate::template::Cors;

/// The path prefix of the API on the app's origin (CloudFront's `/api/*` behavior).
pub const API_PREFIX: &str = "/api";

/// API Gateway's request payload limit.
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

/// A boxed future, so that functions of different kinds fit in one table.
pub type InvokeFuture<'a> = Pin<Box<dyn Future<Output = Result<Value, InvokeError>> + Send + 'a>>;

/// Something that answers events: a [`FunctionProcess`], or a fake in tests.
pub trait Invoke: Send + Sync {
    fn invoke(&self, event: Value) -> InvokeFuture<'_>;
}

impl Invoke for FunctionProcess {
    fn invoke(&self, event: Value) -> InvokeFuture<'_> {
        Box::pin(FunctionProcess::invoke(self, event))
    }
}

/// The HTTP API in front of the functions.
pub struct Gateway {
    router: Router,
    functions: HashMap<String, Arc<dyn Invoke>>,
    cors: Option<Cors>,
    context: ApiContext,
    triggers: Option<Arc<Triggers>>,
    site: Option<(Site, SecurityHeaders)>,
}

impl Gateway {
    /// `functions` maps the logical ids the router names to what invokes them.
    pub fn new(
        router: Router,
        functions: HashMap<String, Arc<dyn Invoke>>,
        cors: Option<Cors>,
        context: ApiContext,
    ) -> Gateway {
        Gateway {
            router,
            functions,
            cors,
            context,
            triggers: None,
            site: None,
        }
    }

    /// Serves `site` at the root and the API under [`API_PREFIX`], with `headers` on every
    /// response but the local admin pages'.
    pub fn with_site(mut self, site: Site, headers: SecurityHeaders) -> Gateway {
        self.site = Some((site, headers));
        self
    }

    /// Serves the admin routes (see [`admin`]) with these schedules.
    pub fn with_triggers(mut self, triggers: Arc<Triggers>) -> Gateway {
        self.triggers = Some(triggers);
        self
    }

    /// Serves requests on `listener` until `shutdown` completes.
    pub async fn serve(self: Arc<Self>, listener: TcpListener, shutdown: impl Future<Output = ()>) {
        let handler = move |request, peer: SocketAddr| {
            let gateway = Arc::clone(&self);
            async move { gateway.handle_incoming(request, peer.ip()).await }
        };
        server::serve(listener, handler, shutdown).await;
    }

    async fn handle_incoming(
        &self,
        request: Request<Incoming>,
        peer: IpAddr,
    ) -> Response<Full<Bytes>> {
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|length| length > MAX_BODY_BYTES) {
            return too_large();
        }
        let (parts, body) = request.into_parts();
        match Limited::new(body, MAX_BODY_BYTES).collect().await {
            Ok(body) => {
                self.handle(Request::from_parts(parts, body.to_bytes()), peer)
                    .await
            }
            Err(error) if error.is::<http_body_util::LengthLimitError>() => too_large(),
            Err(error) => {
                tracing::debug!(%error, "request body could not be read");
                message(StatusCode::BAD_REQUEST, "Bad Request")
            }
        }
    }

    /// Answers one request whose body has been read; `peer` is the client's address.
    pub async fn handle(&self, request: Request<Bytes>, peer: IpAddr) -> Response<Full<Bytes>> {
        let started = Instant::now();
        let (mut parts, body) = request.into_parts();
        if let Some(triggers) = self.admin_for(&parts, peer) {
            let response = admin::handle(triggers, &parts).await;
            log_request(&parts, &response, started, "admin request");
            return response;
        }
        let Some((site, headers)) = &self.site else {
            return self.api(&parts, &body, peer, started).await;
        };
        let mut response = match strip_api_prefix(&parts.uri) {
            Some(uri) => {
                parts.uri = uri;
                self.api(&parts, &body, peer, started).await
            }
            None => site.respond(&parts.method, parts.uri.path(), &parts.headers),
        };
        headers.apply(response.headers_mut());
        response
    }

    /// The HTTP API's answer (CORS included) to a request addressed to it.
    async fn api(
        &self,
        parts: &http::request::Parts,
        body: &[u8],
        peer: IpAddr,
        started: Instant,
    ) -> Response<Full<Bytes>> {
        let mut response = match &self.cors {
            Some(cors) if cors::is_preflight(&parts.method, &parts.headers) => {
                return cors::preflight(cors, &parts.headers);
            }
            _ => self.route(parts, body, peer).await,
        };
        if let Some(cors) = &self.cors {
            cors::decorate(cors, &parts.headers, &mut response);
        }
        log_request(parts, &response, started, "request");
        response
    }

    /// The admin routes exist only for loopback peers, and only when configured.
    fn admin_for(&self, parts: &http::request::Parts, peer: IpAddr) -> Option<&Triggers> {
        let triggers = self.triggers.as_deref()?;
        (peer.is_loopback() && parts.uri.path().starts_with(admin::PREFIX)).then_some(triggers)
    }

    async fn route(
        &self,
        parts: &http::request::Parts,
        body: &[u8],
        peer: IpAddr,
    ) -> Response<Full<Bytes>> {
        let Some(route) = self.router.find(parts.method.as_str(), parts.uri.path()) else {
            return message(StatusCode::NOT_FOUND, "Not Found");
        };
        let Some(function) = self.functions.get(route.function) else {
            tracing::error!(
                function = route.function,
                "no running process for the route's function"
            );
            return message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
        };
        let event = build_event(parts, body, peer, &route, &self.context, SystemTime::now());
        match function.invoke(event).await {
            Ok(answer) => map_response(answer).unwrap_or_else(|error| {
                tracing::error!(function = route.function, %error, "function response rejected");
                message(StatusCode::BAD_GATEWAY, "Bad Gateway")
            }),
            Err(error) => {
                tracing::error!(function = route.function, %error, "invocation failed");
                message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
            }
        }
    }
}

/// `/api/x?q` as `/x?q` (and `/api/` as `/`), as the CloudFront function rewrites the
/// request of the `/api/*` behavior; `None` for paths outside it.
fn strip_api_prefix(uri: &http::Uri) -> Option<http::Uri> {
    let rest = uri.path().strip_prefix(API_PREFIX)?;
    if !rest.starts_with('/') {
        return None;
    }
    let target = match uri.query() {
        Some(query) => format!("{rest}?{query}"),
        None => rest.to_owned(),
    };
    target.parse().ok()
}

fn log_request(
    parts: &http::request::Parts,
    response: &Response<Full<Bytes>>,
    started: Instant,
    what: &'static str,
) {
    tracing::info!(
        method = %parts.method,
        path = %parts.uri.path(),
        status = response.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        "{what}"
    );
}

/// API Gateway's own error bodies: `{"message":"..."}`.
fn message(status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    server::json(status, serde_json::json!({ "message": text }).to_string())
}

fn too_large() -> Response<Full<Bytes>> {
    message(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large")
}

#[cfg(test)]
mod tests;
