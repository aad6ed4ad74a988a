//! OpenAI's error answers, sorted into [`ProviderError`]s.
//!
//! The documented body (`ErrorResponse` in OpenAI's OpenAPI spec) is
//! `{"error": {"message": string, "type": string, "param": string|null, "code": string|null}}`.
//! Codes that decide the outcome:
//! - `moderation_blocked` (400, type `image_generation_user_error`): the image endpoints'
//!   safety system refused the input or the output; `content_policy_violation` is its older
//!   name. Never retried.
//! - `insufficient_quota` (429): credits or the monthly budget are exhausted; waiting does not
//!   help, so unlike other 429s it is a permanent rejection.

use std::time::Duration;

use http::{HeaderMap, StatusCode};
use serde::Deserialize;

use crate::providers::ProviderError;

const CONTENT_REJECTION_CODES: [&str; 2] = ["moderation_blocked", "content_policy_violation"];
const QUOTA_CODE: &str = "insufficient_quota";
/// Enough for OpenAI's longest messages; keeps logs and records bounded.
const MAX_MESSAGE_CHARS: usize = 500;

#[derive(Debug, Default, Deserialize)]
struct ErrorResponse {
    error: ErrorDetail,
}

#[derive(Debug, Default, Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    message: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    /// A string in the spec; read leniently so an odd body still yields its status.
    #[serde(default)]
    code: Option<serde_json::Value>,
}

impl ErrorDetail {
    fn code(&self) -> Option<String> {
        match &self.code {
            Some(serde_json::Value::String(code)) => Some(code.clone()),
            Some(serde_json::Value::Null) | None => None,
            Some(other) => Some(other.to_string()),
        }
    }
}

/// The error for a non-success answer. `api_key` is only used to scrub it from messages.
pub(super) fn error_from_answer(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    api_key: &str,
) -> ProviderError {
    let detail = serde_json::from_slice::<ErrorResponse>(body)
        .map(|response| response.error)
        .unwrap_or_default();
    let code = detail.code();
    let message = match &detail.message {
        Some(message) => scrub(message, api_key),
        None => format!("HTTP {}", status.as_u16()),
    };
    let is =
        |wanted: &str| code.as_deref() == Some(wanted) || detail.kind.as_deref() == Some(wanted);

    if status.is_client_error() && CONTENT_REJECTION_CODES.iter().any(|c| is(c)) {
        return ProviderError::ContentRejected {
            code: code.unwrap_or_else(|| "moderation_blocked".to_owned()),
            message,
        };
    }
    match status {
        StatusCode::TOO_MANY_REQUESTS if !is(QUOTA_CODE) => ProviderError::RateLimited {
            retry_after: retry_after(headers),
        },
        StatusCode::REQUEST_TIMEOUT => ProviderError::Unavailable {
            status: Some(status.as_u16()),
        },
        status if status.is_server_error() => ProviderError::Unavailable {
            status: Some(status.as_u16()),
        },
        status if status.is_client_error() => ProviderError::Rejected {
            status: status.as_u16(),
            code,
            message,
        },
        status => ProviderError::InvalidResponse(format!("unexpected status {}", status.as_u16())),
    }
}

/// `Retry-After` in seconds (OpenAI sends whole seconds; fractions are accepted). The
/// HTTP-date form is not used by OpenAI and counts as absent.
pub(super) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(http::header::RETRY_AFTER)?.to_str().ok()?;
    let seconds: f64 = value.trim().parse().ok()?;
    Duration::try_from_secs_f64(seconds).ok()
}

/// The message without the key or anything shaped like one (OpenAI's 401 message quotes a
/// masked key, `sk-…abcd`), cut to a bounded length.
fn scrub(message: &str, api_key: &str) -> String {
    let without_key = if api_key.is_empty() {
        message.to_owned()
    } else {
        message.replace(api_key, "[redacted]")
    };
    let words: Vec<&str> = without_key
        .split(' ')
        .map(|word| {
            if word.contains("sk-") {
                "[redacted]"
            } else {
                word
            }
        })
        .collect();
    words.join(" ").chars().take(MAX_MESSAGE_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    const KEY: &str = "sk-test-secret-0123456789";

    fn answer(status: u16, body: &str) -> ProviderError {
        let status = StatusCode::from_u16(status).unwrap();
        error_from_answer(status, &HeaderMap::new(), body.as_bytes(), KEY)
    }

    fn body(code: &str, kind: &str, message: &str) -> String {
        serde_json::json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
            .to_string()
    }

    #[test]
    fn moderation_blocked_is_a_content_rejection() {
        let error = answer(
            400,
            &body(
                "moderation_blocked",
                "image_generation_user_error",
                "Your request was rejected by the safety system.",
            ),
        );
        assert_eq!(
            error,
            ProviderError::ContentRejected {
                code: "moderation_blocked".into(),
                message: "Your request was rejected by the safety system.".into()
            }
        );
    }

    #[test]
    fn quota_exhaustion_is_permanent_but_other_429s_are_rate_limits() {
        let quota = answer(
            429,
            &body(
                "insufficient_quota",
                "insufficient_quota",
                "You exceeded your current quota.",
            ),
        );
        assert!(matches!(quota, ProviderError::Rejected { status: 429, .. }));

        let mut headers = HeaderMap::new();
        headers.insert(http::header::RETRY_AFTER, HeaderValue::from_static("7"));
        let limited = error_from_answer(
            StatusCode::TOO_MANY_REQUESTS,
            &headers,
            body("rate_limit_exceeded", "requests", "Rate limit reached").as_bytes(),
            KEY,
        );
        assert_eq!(
            limited,
            ProviderError::RateLimited {
                retry_after: Some(Duration::from_secs(7))
            }
        );
    }

    #[test]
    fn statuses_without_a_body_still_sort() {
        assert_eq!(
            answer(502, "<html>bad gateway</html>"),
            ProviderError::Unavailable { status: Some(502) }
        );
        assert_eq!(
            answer(408, ""),
            ProviderError::Unavailable { status: Some(408) }
        );
        assert_eq!(
            answer(404, ""),
            ProviderError::Rejected {
                status: 404,
                code: None,
                message: "HTTP 404".into()
            }
        );
    }

    #[test]
    fn keys_are_scrubbed_from_messages() {
        let error = answer(
            401,
            &body(
                "invalid_api_key",
                "invalid_request_error",
                &format!("Incorrect API key provided: sk-test-****6789. Also {KEY}."),
            ),
        );
        let ProviderError::Rejected {
            status,
            code,
            message,
        } = &error
        else {
            panic!("{error:?}");
        };
        assert_eq!((*status, code.as_deref()), (401, Some("invalid_api_key")));
        assert!(!message.contains("sk-"), "{message}");
        assert!(!error.to_string().contains("6789"), "{error}");
        assert!(message.starts_with("Incorrect API key provided: [redacted]"));
    }

    #[test]
    fn long_messages_are_cut() {
        let error = answer(
            400,
            &body("invalid_value", "invalid_request_error", &"x".repeat(5000)),
        );
        let ProviderError::Rejected { message, .. } = error else {
            panic!();
        };
        assert_eq!(message.chars().count(), MAX_MESSAGE_CHARS);
    }

    #[test]
    fn retry_after_reads_seconds_only() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert(http::header::RETRY_AFTER, HeaderValue::from_static("1.5"));
        assert_eq!(retry_after(&headers), Some(Duration::from_millis(1500)));
        headers.insert(
            http::header::RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2026 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&headers), None);
        headers.insert(http::header::RETRY_AFTER, HeaderValue::from_static("-3"));
        assert_eq!(retry_after(&headers), None);
    }
}
