//! The small HTML pages of the unsubscribe link, which a person opens from an email in a
//! browser. Never cached, never indexed, and no Referer leaves with the token in it.

use http::header::{CACHE_CONTROL, CONTENT_TYPE, REFERRER_POLICY};
use http::{HeaderValue, StatusCode};
use lambda_http::{Body, Response};

use crate::email::templates::escape_html;
use crate::locale::Locale;
use crate::marketing::ONE_CLICK_BODY;

pub fn html(status: StatusCode, page: &str) -> Response<Body> {
    let mut response = Response::new(Body::Text(page.to_owned()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert("x-robots-tag", HeaderValue::from_static("noindex"));
    response
}

/// The confirmation: a button that POSTs the one-click body to the same link.
pub fn confirm(locale: Locale, email: &str, action: &str) -> String {
    let email = escape_html(email);
    let action = escape_html(action);
    let (name, value) = ONE_CLICK_BODY.split_once('=').unwrap_or_default();
    let (text, button) = match locale {
        Locale::En => (
            format!(
                "Stop marketing emails to <b>{email}</b>? Account emails (sign-in codes, receipts) still arrive."
            ),
            "Unsubscribe",
        ),
        Locale::Ja => (
            format!(
                "<b>{email}</b> へのお知らせメールを停止しますか？ログインコードや領収書などのメールは引き続き届きます。"
            ),
            "配信停止",
        ),
    };
    layout(
        locale,
        &format!(
            "<p>{text}</p><form method=\"post\" action=\"{action}\">\
             <input type=\"hidden\" name=\"{name}\" value=\"{value}\">\
             <button type=\"submit\">{button}</button></form>"
        ),
    )
}

pub fn done(locale: Locale) -> String {
    let text = match locale {
        Locale::En => "You are unsubscribed. We will not send you marketing emails.",
        Locale::Ja => "配信を停止しました。今後お知らせメールは送信されません。",
    };
    layout(locale, &format!("<p>{text}</p>"))
}

pub fn invalid_link(locale: Locale) -> String {
    let text = match locale {
        Locale::En => "This unsubscribe link is not valid. Use the link from the email as it is.",
        Locale::Ja => "この配信停止リンクは無効です。メールのリンクをそのままお使いください。",
    };
    layout(locale, &format!("<p>{text}</p>"))
}

fn layout(locale: Locale, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>Anumi</title></head>\
         <body>{body}</body></html>",
        locale.as_str()
    )
}
