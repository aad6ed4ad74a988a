//! The HTTP API's CORS handling: API Gateway answers preflights itself and sets the CORS
//! headers of every response, ignoring any the function returns.

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Response, StatusCode};
use http_body_util::Full;

use crate::server::Body;
use crate::template::Cors;

/// Whether a request is a CORS preflight: `OPTIONS` with `Origin` and
/// `Access-Control-Request-Method`.
pub(super) fn is_preflight(method: &Method, headers: &HeaderMap) -> bool {
    method == Method::OPTIONS
        && headers.contains_key(header::ORIGIN)
        && headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

/// The preflight answer: 204, with the allow headers when the origin is allowed (without
/// them the browser refuses the actual request).
pub(super) fn preflight(cors: &Cors, headers: &HeaderMap) -> Response<Body> {
    let mut response = Response::new(Full::default());
    *response.status_mut() = StatusCode::NO_CONTENT;
    let Some(origin) = allowed_origin(cors, headers) else {
        return response;
    };
    let out = response.headers_mut();
    out.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    if cors.allow_credentials {
        out.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
    }
    insert_list(
        out,
        header::ACCESS_CONTROL_ALLOW_METHODS,
        &cors.allow_methods,
    );
    insert_list(
        out,
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        &cors.allow_headers,
    );
    if let Some(max_age) = cors.max_age {
        out.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from(max_age));
    }
    response
}

/// Replaces the response's CORS headers with the API's, for an allowed origin.
pub(super) fn decorate(cors: &Cors, request: &HeaderMap, response: &mut Response<Body>) {
    let out = response.headers_mut();
    let names: Vec<HeaderName> = out
        .keys()
        .filter(|name| name.as_str().starts_with("access-control-"))
        .cloned()
        .collect();
    for name in names {
        out.remove(name);
    }
    let Some(origin) = allowed_origin(cors, request) else {
        return;
    };
    out.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    if cors.allow_credentials {
        out.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
    }
    insert_list(
        out,
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        &cors.expose_headers,
    );
}

/// The `Access-Control-Allow-Origin` value for the request's origin: the origin itself
/// when listed, `*` for a wildcard configuration (the origin itself with credentials,
/// since browsers refuse `*` then).
fn allowed_origin(cors: &Cors, headers: &HeaderMap) -> Option<HeaderValue> {
    let origin = headers.get(header::ORIGIN)?;
    let text = origin.to_str().ok()?;
    if cors.allow_origins.iter().any(|allowed| allowed == text) {
        return Some(origin.clone());
    }
    if cors.allow_origins.iter().any(|allowed| allowed == "*") {
        return Some(if cors.allow_credentials {
            origin.clone()
        } else {
            HeaderValue::from_static("*")
        });
    }
    None
}

fn insert_list(headers: &mut HeaderMap, name: HeaderName, values: &[String]) {
    if values.is_empty() {
        return;
    }
    if let Ok(value) = HeaderValue::try_from(values.join(",")) {
        headers.insert(name, value);
    }
}
