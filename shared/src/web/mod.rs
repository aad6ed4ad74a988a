//! HTTP helpers for the API functions: JSON errors with stable codes, bounded JSON bodies,
//! cookies and the client address.

mod body;
mod cookies;
mod error;

pub use body::{DEFAULT_BODY_LIMIT, json_body};
pub use cookies::{SetCookie, request_cookie};
pub use error::ApiError;

use http::header::{CACHE_CONTROL, CONTENT_TYPE, SET_COOKIE};
use http::{HeaderValue, StatusCode};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;

/// A JSON response. API answers are personal, so nothing is cached.
pub fn json_response(status: StatusCode, body: &impl Serialize) -> Response<Body> {
    let json = serde_json::to_string(body).unwrap_or_else(|_| "{}".to_owned());
    let mut response = Response::new(Body::Text(json));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Turns a route's result into its response and logs the outcome under the route's name,
/// never its raw path (a path can carry anything a client typed).
pub fn respond(
    route: &str,
    method: &http::Method,
    result: Result<Response<Body>, ApiError>,
) -> Response<Body> {
    let response = result.unwrap_or_else(ApiError::into_response);
    tracing::info!(route, method = %method, status = response.status().as_u16(), "request handled");
    response
}

/// Adds `Set-Cookie` headers (API Gateway turns each into an entry of `cookies`).
pub fn with_cookies(mut response: Response<Body>, cookies: &[SetCookie]) -> Response<Body> {
    for cookie in cookies {
        if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
            response.headers_mut().append(SET_COOKIE, value);
        }
    }
    response
}

/// The client's address as API Gateway saw it (the TCP peer, not a spoofable header).
/// Used only to compute the salted IP hash; never stored or logged as is.
pub fn source_ip(request: &Request) -> Option<String> {
    match request.request_context_ref()? {
        RequestContext::ApiGatewayV2(context) => context.http.source_ip.clone(),
        _ => None,
    }
}
