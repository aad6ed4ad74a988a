//! Local-only admin routes under `/_local/`, answered only to loopback peers (to anyone
//! else they do not exist, and the path goes to the API's routes like any other):
//!
//! * `POST /_local/functions/{LogicalId}/invoke-schedule[?event=EventName]` invokes the
//!   function now with the event its schedule delivers (its first `Schedule`/`ScheduleV2`
//!   event unless `event` names one) and answers with the function's response: 200 and the
//!   response JSON, 404 for an unknown function or event, 502 when the invocation fails.
//!   `&clock_offset=SECONDS` adds `detail.clock_offset_seconds` to the event (the retention
//!   job then runs that far ahead; outside production only).
//! * `GET /_local/polar/checkout?product_id=…&wallet_id=…`: the labelled stand-in of Polar's
//!   hosted checkout (`PolarServer=local`); sends a signed `order.paid` (see `local_checkout`).

use http::{Method, Response, StatusCode, Uri};
use http_body_util::Full;
use hyper::body::Bytes;
use serde_json::json;

use crate::events::s3::form_decode;
use crate::events::{TriggerError, Triggers};
use crate::server;

/// Paths under this prefix are admin routes.
pub const PREFIX: &str = "/_local/";

pub(super) async fn handle(
    triggers: &Triggers,
    method: &Method,
    uri: &Uri,
) -> Response<Full<Bytes>> {
    let segments: Vec<&str> = uri.path().trim_start_matches('/').split('/').collect();
    if let ["_local", "polar", "checkout"] = segments.as_slice() {
        return local_checkout(triggers, method, uri).await;
    }
    let ["_local", "functions", function, "invoke-schedule"] = segments.as_slice() else {
        return message(StatusCode::NOT_FOUND, "Not Found");
    };
    if method != Method::POST {
        return message(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
    }
    let event = query_value(uri.query(), "event");
    let offset = match query_value(uri.query(), "clock_offset") {
        None => None,
        Some(raw) => match raw.parse::<i64>() {
            Ok(seconds) => Some(seconds),
            Err(_) => return message(StatusCode::BAD_REQUEST, "clock_offset: whole seconds"),
        },
    };
    match triggers
        .invoke_schedule_moved(function, event.as_deref(), offset)
        .await
    {
        Ok(response) => server::json(StatusCode::OK, response.to_string()),
        Err(error @ TriggerError::Invoke(_)) => {
            message(StatusCode::BAD_GATEWAY, &error.to_string())
        }
        Err(error) => message(StatusCode::NOT_FOUND, &error.to_string()),
    }
}

/// The labelled stand-in of Polar's hosted checkout (see `local_checkout`).
async fn local_checkout(triggers: &Triggers, method: &Method, uri: &Uri) -> Response<Full<Bytes>> {
    let Some(checkout) = triggers.local_checkout() else {
        return message(
            StatusCode::NOT_FOUND,
            "Not Found: the stack does not run PolarServer=local",
        );
    };
    if method != Method::GET && method != Method::POST {
        return message(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
    }
    let (Some(product), Some(wallet)) = (
        query_value(uri.query(), "product_id"),
        query_value(uri.query(), "wallet_id"),
    ) else {
        return message(
            StatusCode::BAD_REQUEST,
            "product_id and wallet_id are required",
        );
    };
    match checkout.pay(&product, &wallet).await {
        Ok(report) => server::json(StatusCode::OK, report.to_string()),
        Err(error) => message(StatusCode::BAD_GATEWAY, &error),
    }
}

fn query_value(query: Option<&str>, name: &str) -> Option<String> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == name)
        .and_then(|(_, value)| form_decode(value))
}

fn message(status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    server::json(status, json!({ "message": text }).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_decoded() {
        assert_eq!(
            query_value(Some("a=1&event=Night+ly"), "event").as_deref(),
            Some("Night ly")
        );
        assert_eq!(query_value(Some("a=1"), "event"), None);
        assert_eq!(query_value(None, "event"), None);
    }
}
