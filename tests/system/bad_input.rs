use serde_json::json;

use crate::helpers::{Call, spawn_app};

#[tokio::test]
async fn every_bad_start_request_gets_its_error_and_writes_nothing() {
    let app = spawn_app().await;
    let long_email = format!("{}@{}", "a".repeat(250), app.domain);
    let over_limit = json!({ "email": app.email("big"), "locale": "x".repeat(20_000) }).to_string();
    let cases: Vec<(&str, Call, u16, &str)> = vec![
        (
            "malformed JSON",
            Call::fixture("start.json").body("{\"email\":"),
            400,
            "malformed_json",
        ),
        (
            "not an object",
            Call::fixture("start.json").body("[1,2]"),
            400,
            "invalid_field",
        ),
        (
            "missing email",
            Call::fixture("start.json").json(json!({})),
            400,
            "missing_field",
        ),
        (
            "extra field",
            Call::fixture("start.json").json(json!({ "email": app.email("x"), "admin": true })),
            400,
            "unknown_field",
        ),
        (
            "email not a string",
            Call::fixture("start.json").json(json!({ "email": 42 })),
            400,
            "invalid_field",
        ),
        (
            "invalid email",
            Call::fixture("start.json").json(json!({ "email": "not-an-email" })),
            400,
            "invalid_email",
        ),
        (
            "header injection",
            Call::fixture("start.json")
                .json(json!({ "email": format!("a@{}\r\nBcc: x@y.z", app.domain) })),
            400,
            "invalid_email",
        ),
        (
            "extra-long email",
            Call::fixture("start.json").json(json!({ "email": long_email })),
            400,
            "field_too_long",
        ),
        (
            "unknown locale",
            Call::fixture("start.json").json(json!({ "email": app.email("x"), "locale": "fr" })),
            400,
            "invalid_locale",
        ),
        (
            "body over the limit",
            Call::fixture("start.json").body(&over_limit),
            413,
            "body_too_large",
        ),
        (
            "wrong content type",
            Call::fixture("start.json").header("content-type", "text/plain"),
            415,
            "unsupported_media_type",
        ),
        (
            "no content type",
            Call::fixture("start.json").without_header("content-type"),
            415,
            "unsupported_media_type",
        ),
        (
            "empty body",
            Call::fixture("start.json").body(""),
            400,
            "malformed_json",
        ),
    ];
    for (what, call, status, code) in cases {
        let answer = call.send(&app).await;
        assert_eq!(
            (answer.status, answer.error_code()),
            (status, code),
            "{what}: {}",
            answer.body
        );
        assert!(
            answer.body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{what}"
        );
        assert_eq!(answer.headers["content-type"], "application/json", "{what}");
    }
    assert_eq!(
        app.everything_stored().await,
        "",
        "bad requests write nothing"
    );
}

#[tokio::test]
async fn bad_verify_requests_are_refused_before_touching_codes() {
    let app = spawn_app().await;
    let email = app.email("v");
    for (code, expected) in [
        ("12345", "invalid_code_format"),
        ("1234567", "invalid_code_format"),
        ("12a456", "invalid_code_format"),
    ] {
        let answer = app.verify(&email, code).await;
        assert_eq!(
            (answer.status, answer.error_code()),
            (400, expected),
            "{code}"
        );
    }
    let no_code = Call::fixture("verify.json")
        .json(json!({ "email": email }))
        .send(&app)
        .await;
    assert_eq!(
        (no_code.status, no_code.error_code()),
        (400, "missing_field")
    );
    assert_eq!(app.everything_stored().await, "");
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods_are_json_errors() {
    let app = spawn_app().await;
    let unknown = Call::fixture("me.json")
        .route("GET", "/nope")
        .send(&app)
        .await;
    assert_eq!((unknown.status, unknown.error_code()), (404, "not_found"));
    let wrong_method = Call::fixture("me.json")
        .route("DELETE", "/me")
        .send(&app)
        .await;
    assert_eq!(
        (wrong_method.status, wrong_method.error_code()),
        (405, "method_not_allowed")
    );
}
