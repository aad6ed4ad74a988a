use http::StatusCode;
use http::header::CONTENT_TYPE;
use lambda_http::{Body, Request};
use serde::de::DeserializeOwned;

use super::ApiError;

/// Enough for any JSON body of the API; selfies go straight to S3, never through here.
pub const DEFAULT_BODY_LIMIT: usize = 16 * 1024;

/// Parses a JSON request body of at most `limit` bytes into `T`.
///
/// `T` should use `#[serde(deny_unknown_fields)]`: unexpected fields are refused rather
/// than silently ignored, so a client typo is visible.
pub fn json_body<T: DeserializeOwned>(request: &Request, limit: usize) -> Result<T, ApiError> {
    let is_json = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the body as application/json.",
        ));
    }
    let bytes: &[u8] = match request.body() {
        Body::Empty => &[],
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    };
    if bytes.len() > limit {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("The body is over the {limit}-byte limit."),
        ));
    }
    serde_json::from_slice(bytes).map_err(|error| {
        use serde_json::error::Category;
        match error.classify() {
            Category::Data => field_error(&error),
            Category::Syntax | Category::Eof | Category::Io => {
                ApiError::bad_request("malformed_json", "The body is not valid JSON.")
            }
        }
    })
}

/// Turns serde's field errors into stable codes; serde's own message names the field.
fn field_error(error: &serde_json::Error) -> ApiError {
    let message = error.to_string();
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or_default()
        .to_owned();
    let code = if message.starts_with("missing field") {
        "missing_field"
    } else if message.starts_with("unknown field") {
        "unknown_field"
    } else {
        "invalid_field"
    };
    ApiError::bad_request(code, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Start {
        email: String,
    }

    fn request(content_type: Option<&str>, body: &str) -> Request {
        let mut builder = http::Request::builder().method("POST").uri("/x");
        if let Some(content_type) = content_type {
            builder = builder.header("content-type", content_type);
        }
        Request::from(builder.body(Body::Text(body.to_owned())).unwrap())
    }

    fn code(result: Result<Start, ApiError>) -> (StatusCode, &'static str) {
        let error = result.unwrap_err();
        (error.status, error.code)
    }

    #[test]
    fn parses_a_valid_body() {
        let parsed: Start = json_body(
            &request(
                Some("application/json; charset=utf-8"),
                r#"{"email":"a@b.co"}"#,
            ),
            100,
        )
        .unwrap();
        assert_eq!(
            parsed,
            Start {
                email: "a@b.co".into()
            }
        );
    }

    #[test]
    fn refuses_each_kind_of_bad_body_with_its_code() {
        let cases = [
            (
                None,
                r#"{"email":"a"}"#,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
            ),
            (
                Some("text/plain"),
                r#"{"email":"a"}"#,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
            ),
            (
                Some("application/json"),
                r#"{"email":"#,
                StatusCode::BAD_REQUEST,
                "malformed_json",
            ),
            (
                Some("application/json"),
                "",
                StatusCode::BAD_REQUEST,
                "malformed_json",
            ),
            (
                Some("application/json"),
                "{}",
                StatusCode::BAD_REQUEST,
                "missing_field",
            ),
            (
                Some("application/json"),
                r#"{"email":"a","x":1}"#,
                StatusCode::BAD_REQUEST,
                "unknown_field",
            ),
            (
                Some("application/json"),
                r#"{"email":5}"#,
                StatusCode::BAD_REQUEST,
                "invalid_field",
            ),
        ];
        for (content_type, body, status, expected) in cases {
            assert_eq!(
                code(json_body(&request(content_type, body), 100)),
                (status, expected),
                "{body}"
            );
        }
    }

    #[test]
    fn refuses_bodies_over_the_limit_before_parsing() {
        let body = format!(r#"{{"email":"{}"}}"#, "a".repeat(200));
        assert_eq!(
            code(json_body(&request(Some("application/json"), &body), 100)),
            (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large")
        );
    }
}
