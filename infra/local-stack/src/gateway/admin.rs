//! Local-only admin routes under `/_local/`, answered only to loopback peers (to anyone
//! else they do not exist, and the path goes to the API's routes like any other):
//!
//! * `GET /_local/`: an index of what is here.
//! * `GET /_local/mail` and `GET /_local/mail.json`: the mail viewer (`mailbox::viewer`).
//! * `GET|POST /_local/polar/checkout?…`: the labelled stand-in of Polar's hosted checkout
//!   (`PolarServer=local`): `GET` shows it, `POST` pays (see `local_checkout`).
//! * `POST /_local/functions/{LogicalId}/invoke-schedule[?event=EventName]` invokes the
//!   function now with the event its schedule delivers (its first `Schedule`/`ScheduleV2`
//!   event unless `event` names one) and answers with the function's response: 200 and the
//!   response JSON, 404 for an unknown function or event, 502 when the invocation fails.
//!   `&clock_offset=SECONDS` adds `detail.clock_offset_seconds` to the event (the retention
//!   job then runs that far ahead; outside production only).

use http::header::{self, HeaderValue};
use http::request::Parts;
use http::{Method, Response, StatusCode, Uri};
use http_body_util::Full;
use hyper::body::Bytes;
use serde_json::json;

use crate::events::s3::form_decode;
use crate::events::{TriggerError, Triggers};
use crate::local_checkout::CheckoutError;
use crate::mailbox::viewer;
use crate::pages::{self, escape};
use crate::server;

/// Paths under this prefix are admin routes.
pub const PREFIX: &str = "/_local/";

pub(super) async fn handle(triggers: &Triggers, parts: &Parts) -> Response<Full<Bytes>> {
    let (method, uri) = (&parts.method, &parts.uri);
    let segments: Vec<&str> = uri.path().trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        ["_local", ""] if method == Method::GET => index(triggers),
        ["_local", "mail"] if method == Method::GET => mail(triggers, false).await,
        ["_local", "mail.json"] if method == Method::GET => mail(triggers, true).await,
        ["_local", "polar", "checkout"] => local_checkout(triggers, method, uri).await,
        ["_local", "functions", function, "invoke-schedule"] => {
            invoke_schedule(triggers, method, uri, function).await
        }
        ["_local", "" | "mail" | "mail.json"] => {
            message(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed")
        }
        _ => message(StatusCode::NOT_FOUND, "Not Found"),
    }
}

async fn invoke_schedule(
    triggers: &Triggers,
    method: &Method,
    uri: &Uri,
    function: &str,
) -> Response<Full<Bytes>> {
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

/// The index of the local pages.
fn index(triggers: &Triggers) -> Response<Full<Bytes>> {
    let mut schedules = String::new();
    for (function, events) in triggers.schedules() {
        for event in events {
            schedules.push_str(&format!(
                "<tr><td>{f}</td><td>{e}</td><td><code>local-stack trigger {f} --event {e}</code></td></tr>",
                f = escape(&function),
                e = escape(&event),
            ));
        }
    }
    let checkout = if triggers.local_checkout().is_some() {
        "The app's checkout opens the local stand-in of Polar's checkout (no payment is taken)."
    } else {
        "Checkout goes to Polar (PolarServer is not local)."
    };
    let body = format!(
        "<h1>Local stack</h1><p class=\"meta\">Pages for whoever runs the stack on this machine; \
         other machines never see them.</p>\
         <div class=\"card\"><h2><a href=\"/\">The app</a></h2><p>The service as a person uses it.</p></div>\
         <div class=\"card\"><h2><a href=\"{mail}\">Mail</a></h2><p>Every email the service sent, \
         with working links (sign-in codes arrive here).</p></div>\
         <div class=\"card\"><h2>Checkout</h2><p>{checkout}</p></div>\
         <div class=\"card\"><h2>Schedules</h2><p>Run one now with <code>local-stack trigger</code> \
         (add <code>--clock-offset 31d</code> to run the retention job in the future).</p>\
         <table><thead><tr><th>Function</th><th>Event</th><th>Command</th></tr></thead><tbody>{schedules}</tbody></table></div>",
        mail = viewer::PATH,
    );
    pages::html(StatusCode::OK, pages::page("Index", &body))
}

async fn mail(triggers: &Triggers, as_json: bool) -> Response<Full<Bytes>> {
    let Some(mailbox) = triggers.mailbox() else {
        return message(StatusCode::NOT_FOUND, "Not Found: no mailbox");
    };
    match mailbox.fetch().await {
        Ok(messages) if as_json => match serde_json::to_string(&messages) {
            Ok(text) => server::json(StatusCode::OK, text),
            Err(error) => message(StatusCode::INTERNAL_SERVER_ERROR, &error.to_string()),
        },
        Ok(messages) => pages::html(StatusCode::OK, viewer::render(&messages)),
        Err(error) => message(StatusCode::BAD_GATEWAY, &error.to_string()),
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
    let request = match checkout.request(|name| query_value(uri.query(), name)) {
        Ok(request) => request,
        Err(error) => return error_page(StatusCode::BAD_REQUEST, &error),
    };
    match *method {
        Method::GET => {
            let action = uri
                .path_and_query()
                .map_or(uri.path(), |p| p.as_str())
                .to_owned();
            pages::html(StatusCode::OK, checkout.page(&request, &action))
        }
        Method::POST => match checkout.pay(&request).await {
            Ok(location) => see_other(&location),
            Err(error) => error_page(StatusCode::BAD_GATEWAY, &error),
        },
        _ => message(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed"),
    }
}

fn error_page(status: StatusCode, error: &CheckoutError) -> Response<Full<Bytes>> {
    let body = format!(
        "<h1>Checkout</h1><p><span class=\"badge\">Local stand-in of Polar's checkout — no payment is taken</span></p>\
         <div class=\"card\"><h2>This checkout cannot go on</h2><p>{}</p></div>",
        escape(&error.to_string())
    );
    pages::html(status, pages::page("Checkout (local stand-in)", &body))
}

fn see_other(location: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::default());
    *response.status_mut() = StatusCode::SEE_OTHER;
    match HeaderValue::try_from(location) {
        Ok(value) => {
            response.headers_mut().insert(header::LOCATION, value);
            response
        }
        Err(_) => message(
            StatusCode::BAD_REQUEST,
            "the success URL is not a header value",
        ),
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
