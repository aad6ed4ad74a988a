//! The client against a local stand-in for OpenAI (wiremock) that checks each request's
//! documented shape and answers with documented bodies.

use std::io::{Cursor, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use image::{ImageFormat, Rgba, RgbaImage};
use secrecy::SecretString;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate};

use super::*;
use crate::providers::moderation::{Decision, ProviderKind};
use crate::providers::{Moderator, RetryPolicy};

const KEY: &str = "sk-test-wiremock-0123456789abcdef";
const IMAGE_MODEL: &str = "gpt-image-2.6-flare";
const PROMPT: &str = "Turn this selfie into an anime avatar with soft cel shading.";

// ---------------------------------------------------------------------------------------
// Set-up

fn client(server: &MockServer, max_attempts: u32) -> OpenAiClient {
    let mut config = OpenAiConfig::new(
        SecretString::from(KEY),
        server
            .uri()
            .parse()
            .expect("the mock server's URI is an origin"),
    );
    config.image_model = IMAGE_MODEL.to_owned();
    config.retry = RetryPolicy {
        max_attempts,
        base_delay: Duration::ZERO,
        max_total_delay: Duration::from_secs(20),
    };
    config.moderation_timeout = Duration::from_millis(500);
    OpenAiClient::new(config).expect("the client builds")
}

/// A real JPEG "selfie" (a gradient, so its bytes are not trivially uniform).
fn selfie_jpeg() -> Vec<u8> {
    let image = image::RgbImage::from_fn(32, 24, |x, y| {
        image::Rgb([200, (x * 8) as u8, (y * 10) as u8])
    });
    let mut bytes = Cursor::new(Vec::new());
    image.write_to(&mut bytes, ImageFormat::Jpeg).unwrap();
    bytes.into_inner()
}

/// A real small PNG with transparency, as an edit with a transparent background returns.
fn sticker_png() -> Vec<u8> {
    let image = RgbaImage::from_fn(16, 16, |x, _| {
        if x < 8 {
            Rgba([255, 120, 180, 255])
        } else {
            Rgba([0, 0, 0, 0])
        }
    });
    let mut bytes = Cursor::new(Vec::new());
    image.write_to(&mut bytes, ImageFormat::Png).unwrap();
    bytes.into_inner()
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server
        .received_requests()
        .await
        .expect("request recording is on")
}

// ---------------------------------------------------------------------------------------
// Documented answers

const CATEGORIES: [&str; 13] = [
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/instructions",
    "self-harm/intent",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
];
/// The categories the spec scores for image inputs (`category_applied_input_types`).
const IMAGE_CATEGORIES: [&str; 6] = [
    "self-harm",
    "self-harm/instructions",
    "self-harm/intent",
    "sexual",
    "violence",
    "violence/graphic",
];

/// A moderation answer for one image input, in the documented shape, with every category;
/// `flagged` lists the categories flagged and scored high.
fn moderation_answer(flagged: &[&str]) -> Value {
    let mut categories = serde_json::Map::new();
    let mut scores = serde_json::Map::new();
    let mut applied = serde_json::Map::new();
    for (index, name) in CATEGORIES.iter().enumerate() {
        let is_flagged = flagged.contains(name);
        categories.insert((*name).into(), json!(is_flagged));
        let score = if is_flagged {
            0.91
        } else {
            1.2e-6 * (index + 1) as f64
        };
        scores.insert((*name).into(), json!(score));
        let inputs = if IMAGE_CATEGORIES.contains(name) {
            json!(["image"])
        } else {
            json!([])
        };
        applied.insert((*name).into(), inputs);
    }
    json!({
        "id": "modr-5f1c8e2a9b7d4c3e",
        "model": "omni-moderation-2024-09-26",
        "results": [{
            "flagged": !flagged.is_empty(),
            "categories": categories,
            "category_scores": scores,
            "category_applied_input_types": applied,
        }]
    })
}

fn edit_answer(png: &[u8]) -> Value {
    json!({
        "created": 1_795_000_000,
        "background": "transparent",
        "output_format": "png",
        "quality": "medium",
        "size": "1024x1024",
        "data": [{"b64_json": STANDARD.encode(png)}],
        "usage": {
            "input_tokens": 1_372,
            "input_tokens_details": {"image_tokens": 1_323, "text_tokens": 49},
            "output_tokens": 1_056,
            "total_tokens": 2_428,
        }
    })
}

fn error_answer(status: u16, kind: &str, code: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "error": {"message": message, "type": kind, "param": null, "code": code}
    }))
}

fn server_error() -> ResponseTemplate {
    error_answer(
        500,
        "server_error",
        "server_error",
        "The server had an error while processing your request.",
    )
}

// ---------------------------------------------------------------------------------------
// Request checks: each is a wiremock matcher and, on failure, says what is wrong.

trait Check {
    fn check(&self, request: &Request) -> Result<(), String>;
}

/// Matches when [`Check::check`] passes.
struct Checked<C>(C);

impl<C: Check + Send + Sync> Match for Checked<C> {
    fn matches(&self, request: &Request) -> bool {
        self.0.check(request).is_ok()
    }
}

/// Fails the test with the reason when a received request does not pass `check`.
async fn assert_all_pass(server: &MockServer, check: &impl Check) {
    for request in requests(server).await {
        if let Err(reason) = check.check(&request) {
            panic!("request to {} does not match: {reason}", request.url.path());
        }
    }
}

/// The exact moderation body, with the data URL decoded back to the uploaded bytes.
struct ModerationBody {
    model: &'static str,
    image: Vec<u8>,
    content_type: &'static str,
}

impl Check for ModerationBody {
    fn check(&self, request: &Request) -> Result<(), String> {
        let body: Value =
            serde_json::from_slice(&request.body).map_err(|e| format!("not JSON: {e}"))?;
        let url = body["input"][0]["image_url"]["url"]
            .as_str()
            .ok_or("no input[0].image_url.url")?;
        let expected = json!({
            "model": self.model,
            "input": [{"type": "image_url", "image_url": {"url": url}}],
        });
        if body != expected {
            return Err(format!("body {body} is not shaped as {expected}"));
        }
        let prefix = format!("data:{};base64,", self.content_type);
        let encoded = url
            .strip_prefix(&prefix)
            .ok_or_else(|| format!("url does not start with {prefix}"))?;
        let decoded = STANDARD
            .decode(encoded)
            .map_err(|e| format!("not base64: {e}"))?;
        if decoded != self.image {
            return Err("the data URL does not hold the uploaded image".into());
        }
        Ok(())
    }
}

/// One part of a multipart/form-data body.
#[derive(Debug)]
struct FormPart {
    name: String,
    file_name: Option<String>,
    content_type: Option<String>,
    data: Vec<u8>,
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|window| window == needle)
        .map(|position| position + from)
}

/// Parses a multipart/form-data body (RFC 7578) by the boundary of its content type.
fn parse_multipart(request: &Request) -> Result<Vec<FormPart>, String> {
    let content_type = request
        .headers
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .ok_or("no content type")?;
    let boundary = content_type
        .strip_prefix("multipart/form-data; boundary=")
        .ok_or_else(|| format!("content type {content_type} is not multipart/form-data"))?;
    let mut body = b"\r\n".to_vec();
    body.extend_from_slice(&request.body);
    let delimiter = format!("\r\n--{boundary}").into_bytes();
    let mut parts = Vec::new();
    let mut start = find(&body, &delimiter, 0).ok_or("no first boundary")? + delimiter.len();
    loop {
        if body[start..].starts_with(b"--") {
            return Ok(parts);
        }
        let end = find(&body, &delimiter, start).ok_or("unterminated part")?;
        parts.push(parse_part(&body[start..end])?);
        start = end + delimiter.len();
    }
}

fn parse_part(raw: &[u8]) -> Result<FormPart, String> {
    let raw = raw
        .strip_prefix(b"\r\n")
        .ok_or("part without CRLF after the boundary")?;
    let split = find(raw, b"\r\n\r\n", 0).ok_or("part without a blank line")?;
    let headers = std::str::from_utf8(&raw[..split]).map_err(|_| "part headers are not UTF-8")?;
    let mut part = FormPart {
        name: String::new(),
        file_name: None,
        content_type: None,
        data: raw[split + 4..].to_vec(),
    };
    for line in headers.split("\r\n") {
        let (name, value) = line.split_once(':').ok_or("malformed part header")?;
        match name.trim().to_ascii_lowercase().as_str() {
            "content-disposition" => {
                let value = value.trim();
                if !value.starts_with("form-data;") {
                    return Err(format!("disposition {value} is not form-data"));
                }
                part.name = quoted_parameter(value, "name").ok_or("part without a name")?;
                part.file_name = quoted_parameter(value, "filename");
            }
            "content-type" => part.content_type = Some(value.trim().to_owned()),
            other => return Err(format!("unexpected part header {other}")),
        }
    }
    Ok(part)
}

fn quoted_parameter(header: &str, name: &str) -> Option<String> {
    header.split(';').find_map(|parameter| {
        let value = parameter.trim().strip_prefix(&format!("{name}=\""))?;
        value.strip_suffix('"').map(str::to_owned)
    })
}

/// The multipart fields of an image edit, each exactly once, and the file part.
struct EditForm {
    image: Vec<u8>,
    file_name: &'static str,
    content_type: &'static str,
    background: &'static str,
}

impl Check for EditForm {
    fn check(&self, request: &Request) -> Result<(), String> {
        let parts = parse_multipart(request)?;
        let names: Vec<&str> = parts.iter().map(|part| part.name.as_str()).collect();
        let expected_names = [
            "model",
            "image",
            "prompt",
            "size",
            "background",
            "output_format",
            "quality",
            "n",
        ];
        let mut sorted = names.clone();
        sorted.sort_unstable();
        let mut expected_sorted = expected_names.to_vec();
        expected_sorted.sort_unstable();
        if sorted != expected_sorted {
            return Err(format!("fields {names:?}, expected {expected_names:?}"));
        }
        let texts = [
            ("model", IMAGE_MODEL),
            ("prompt", PROMPT),
            ("size", "1024x1024"),
            ("background", self.background),
            ("output_format", "png"),
            ("quality", "medium"),
            ("n", "1"),
        ];
        for (name, value) in texts {
            let part = parts.iter().find(|part| part.name == name).ok_or(name)?;
            if part.data != value.as_bytes() || part.file_name.is_some() {
                return Err(format!(
                    "field {name} is {:?}, expected {value:?} without a file name",
                    String::from_utf8_lossy(&part.data)
                ));
            }
        }
        let file = parts
            .iter()
            .find(|part| part.name == "image")
            .ok_or("no image")?;
        if file.file_name.as_deref() != Some(self.file_name)
            || file.content_type.as_deref() != Some(self.content_type)
        {
            return Err(format!(
                "image part named {:?} of type {:?}",
                file.file_name, file.content_type
            ));
        }
        if file.data != self.image {
            return Err("the image part does not hold the uploaded bytes".into());
        }
        Ok(())
    }
}

fn edit_form(image: &[u8], background: &'static str) -> EditForm {
    EditForm {
        image: image.to_vec(),
        file_name: "image.jpg",
        content_type: "image/jpeg",
        background,
    }
}

fn moderation_body(image: &[u8]) -> ModerationBody {
    ModerationBody {
        model: "omni-moderation-latest",
        image: image.to_vec(),
        content_type: "image/jpeg",
    }
}

/// The route, method, key and body type every moderation request must have.
fn moderation_request() -> wiremock::MockBuilder {
    Mock::given(method("POST"))
        .and(path("/v1/moderations"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .and(header("content-type", "application/json"))
}

fn edit_request() -> wiremock::MockBuilder {
    Mock::given(method("POST"))
        .and(path("/v1/images/edits"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
}

// ---------------------------------------------------------------------------------------
// Moderation

#[tokio::test]
async fn an_unflagged_image_is_allowed_with_all_scores() {
    let server = MockServer::start().await;
    let selfie = selfie_jpeg();
    let answer = moderation_answer(&[]);
    moderation_request()
        .and(Checked(moderation_body(&selfie)))
        .respond_with(ResponseTemplate::new(200).set_body_json(answer.clone()))
        .expect(1)
        .mount(&server)
        .await;

    let verdict = client(&server, 3)
        .moderate_image(&selfie, "image/jpeg")
        .await;
    assert_all_pass(&server, &moderation_body(&selfie)).await;
    let verdict = verdict.unwrap();

    assert_eq!(verdict.decision, Decision::Allowed);
    assert_eq!(verdict.scores.len(), 13);
    for (name, score) in answer["results"][0]["category_scores"].as_object().unwrap() {
        // serde_json's default float parsing may land one ulp away; that is not a finding.
        let sent = score.as_f64().unwrap();
        assert!(
            (verdict.scores[name] - sent).abs() <= sent * 1e-12,
            "{name}"
        );
    }
    assert!(verdict.flagged_categories.is_empty());
    assert_eq!(verdict.model, "omni-moderation-2024-09-26");
    assert_eq!(verdict.provider, ProviderKind::OpenAi);
    assert!(verdict.limitation.unwrap().contains("sexual/minors"));
}

#[tokio::test]
async fn a_flagged_image_is_blocked_with_its_categories() {
    let server = MockServer::start().await;
    let selfie = selfie_jpeg();
    moderation_request()
        .and(Checked(moderation_body(&selfie)))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(moderation_answer(&["violence/graphic", "violence"])),
        )
        .expect(1)
        .mount(&server)
        .await;

    let moderator = Moderator::OpenAi(client(&server, 3));
    let verdict = moderator.moderate(&selfie, "image/jpeg").await.unwrap();

    assert_eq!(verdict.decision, Decision::Blocked);
    assert_eq!(
        verdict.flagged_categories,
        vec!["violence".to_owned(), "violence/graphic".to_owned()]
    );
    assert_eq!(verdict.scores["violence"], 0.91);
    let logged = serde_json::to_value(&verdict).unwrap();
    assert_eq!(logged["decision"], "blocked");
    assert_eq!(logged["provider"], "openai");
}

#[tokio::test]
async fn a_moderation_answer_that_is_not_json_is_an_invalid_response() {
    let server = MockServer::start().await;
    moderation_request()
        .respond_with(
            ResponseTemplate::new(200).set_body_raw("{\"results\": [", "application/json"),
        )
        .expect(1)
        .mount(&server)
        .await;

    let error = client(&server, 3)
        .moderate_image(&selfie_jpeg(), "image/jpeg")
        .await
        .unwrap_err();
    assert!(
        matches!(error, ProviderError::InvalidResponse(_)),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_moderation_answer_without_results_is_an_invalid_response() {
    let server = MockServer::start().await;
    moderation_request()
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"id": "modr-1", "model": "omni-moderation-2024-09-26", "results": []}),
        ))
        .expect(1)
        .mount(&server)
        .await;

    let error = client(&server, 3)
        .moderate_image(&selfie_jpeg(), "image/jpeg")
        .await
        .unwrap_err();
    assert!(
        matches!(error, ProviderError::InvalidResponse(_)),
        "{error:?}"
    );
}

#[tokio::test]
async fn unsupported_types_are_refused_before_any_request() {
    let server = MockServer::start().await;
    let client = client(&server, 3);
    let error = client
        .moderate_image(b"GIF89a", "image/gif")
        .await
        .unwrap_err();
    assert!(matches!(error, ProviderError::InvalidInput(_)));
    let error = client
        .edit_image(&selfie_jpeg(), "image/jpeg", " ", Background::Opaque)
        .await
        .unwrap_err();
    assert_eq!(error, ProviderError::InvalidInput("the prompt is empty"));
    assert!(requests(&server).await.is_empty());
}

// ---------------------------------------------------------------------------------------
// Image edits

#[tokio::test]
async fn an_edit_sends_the_documented_form_and_returns_the_png() {
    let server = MockServer::start().await;
    let selfie = selfie_jpeg();
    let sticker = sticker_png();
    edit_request()
        .and(Checked(edit_form(&selfie, "transparent")))
        .respond_with(ResponseTemplate::new(200).set_body_json(edit_answer(&sticker)))
        .expect(1)
        .mount(&server)
        .await;

    let png = client(&server, 3)
        .edit_image(&selfie, "image/jpeg", PROMPT, Background::Transparent)
        .await;
    assert_all_pass(&server, &edit_form(&selfie, "transparent")).await;
    assert_eq!(png.unwrap(), sticker);
}

#[tokio::test]
async fn an_opaque_edit_of_a_png_names_its_file_and_type() {
    let server = MockServer::start().await;
    let source = sticker_png();
    let png_form = || EditForm {
        image: source.clone(),
        file_name: "image.png",
        content_type: "image/png",
        background: "opaque",
    };
    edit_request()
        .and(Checked(png_form()))
        .respond_with(ResponseTemplate::new(200).set_body_json(edit_answer(&sticker_png())))
        .expect(1)
        .mount(&server)
        .await;

    let result = client(&server, 3)
        .edit_image(&source, "image/png", PROMPT, Background::Opaque)
        .await;
    assert_all_pass(&server, &png_form()).await;
    assert!(result.is_ok(), "{result:?}");
}

#[tokio::test]
async fn an_edit_answer_that_is_not_a_png_is_an_invalid_response() {
    let server = MockServer::start().await;
    edit_request()
        .respond_with(ResponseTemplate::new(200).set_body_json(edit_answer(&selfie_jpeg())))
        .expect(1)
        .mount(&server)
        .await;

    let error = client(&server, 3)
        .edit_image(&selfie_jpeg(), "image/jpeg", PROMPT, Background::Opaque)
        .await
        .unwrap_err();
    assert_eq!(
        error,
        ProviderError::InvalidResponse("data[0].b64_json is not a PNG".into())
    );
}

#[tokio::test]
async fn a_misshapen_edit_answer_is_reported_without_its_content() {
    let server = MockServer::start().await;
    let image_base64 = STANDARD.encode(sticker_png());
    edit_request()
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"created": 1, "data": image_base64})),
        )
        .expect(1)
        .mount(&server)
        .await;

    let error = client(&server, 3)
        .edit_image(&selfie_jpeg(), "image/jpeg", PROMPT, Background::Opaque)
        .await
        .unwrap_err();
    let ProviderError::InvalidResponse(message) = &error else {
        panic!("{error:?}")
    };
    assert!(
        message.starts_with("image edit answer: Data error"),
        "{message}"
    );
    assert!(!message.contains(&image_base64[..16]), "{message}");
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let server = MockServer::start().await;
    moderation_request()
        .respond_with(
            ResponseTemplate::new(307)
                .insert_header("location", "http://127.0.0.1:9/v1/moderations"),
        )
        .expect(1)
        .mount(&server)
        .await;

    let error = client(&server, 3)
        .moderate_image(&selfie_jpeg(), "image/jpeg")
        .await
        .unwrap_err();
    assert_eq!(
        error,
        ProviderError::InvalidResponse("unexpected status 307".into())
    );
}

#[tokio::test]
async fn moderation_blocked_is_not_retried() {
    let server = MockServer::start().await;
    edit_request()
        .respond_with(error_answer(
            400,
            "image_generation_user_error",
            "moderation_blocked",
            "Your request was rejected by the safety system. If you believe this is an error, contact us at help.openai.com and include the request ID req_123. safety_violations=[sexual].",
        ))
        .expect(1)
        .mount(&server)
        .await;

    let error = client(&server, 3)
        .edit_image(&selfie_jpeg(), "image/jpeg", PROMPT, Background::Opaque)
        .await
        .unwrap_err();
    let ProviderError::ContentRejected { code, message } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(code, "moderation_blocked");
    assert!(message.contains("safety_violations=[sexual]"));
    assert!(!error.is_retryable());
    assert_eq!(requests(&server).await.len(), 1);
}

// ---------------------------------------------------------------------------------------
// Retries

#[tokio::test]
async fn a_rate_limit_is_retried_after_its_retry_after() {
    let server = MockServer::start().await;
    let selfie = selfie_jpeg();
    moderation_request()
        .respond_with(
            error_answer(
                429,
                "requests",
                "rate_limit_exceeded",
                "Rate limit reached for requests",
            )
            .insert_header("retry-after", "1"),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    moderation_request()
        .and(Checked(moderation_body(&selfie)))
        .respond_with(ResponseTemplate::new(200).set_body_json(moderation_answer(&[])))
        .with_priority(2)
        .mount(&server)
        .await;

    let started = Instant::now();
    let verdict = client(&server, 3)
        .moderate_image(&selfie, "image/jpeg")
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After not honoured: {:?}",
        started.elapsed()
    );
    assert_eq!(verdict.decision, Decision::Allowed);
    assert_eq!(requests(&server).await.len(), 2);
    assert_all_pass(&server, &moderation_body(&selfie)).await;
}

#[tokio::test]
async fn a_retry_after_beyond_the_budget_gives_up_at_once() {
    let server = MockServer::start().await;
    moderation_request()
        .respond_with(
            error_answer(429, "requests", "rate_limit_exceeded", "Rate limit reached")
                .insert_header("retry-after", "60"),
        )
        .mount(&server)
        .await;

    let started = Instant::now();
    let error = client(&server, 3)
        .moderate_image(&selfie_jpeg(), "image/jpeg")
        .await
        .unwrap_err();
    assert_eq!(
        error,
        ProviderError::RateLimited {
            retry_after: Some(Duration::from_secs(60))
        }
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn an_exhausted_quota_is_not_retried() {
    let server = MockServer::start().await;
    moderation_request()
        .respond_with(error_answer(
            429,
            "insufficient_quota",
            "insufficient_quota",
            "You exceeded your current quota, please check your plan and billing details.",
        ))
        .mount(&server)
        .await;

    let error = client(&server, 3)
        .moderate_image(&selfie_jpeg(), "image/jpeg")
        .await
        .unwrap_err();
    assert!(
        matches!(error, ProviderError::Rejected { status: 429, .. }),
        "{error:?}"
    );
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn a_server_error_is_retried_then_succeeds() {
    let server = MockServer::start().await;
    let selfie = selfie_jpeg();
    edit_request()
        .respond_with(server_error())
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    edit_request()
        .respond_with(ResponseTemplate::new(200).set_body_json(edit_answer(&sticker_png())))
        .with_priority(2)
        .mount(&server)
        .await;

    let png = client(&server, 3)
        .edit_image(&selfie, "image/jpeg", PROMPT, Background::Transparent)
        .await
        .unwrap();
    assert_eq!(png, sticker_png());
    assert_eq!(requests(&server).await.len(), 2);
    // The form is rebuilt for the second attempt, whole.
    assert_all_pass(&server, &edit_form(&selfie, "transparent")).await;
}

#[tokio::test]
async fn persistent_server_errors_give_up_after_max_attempts() {
    for attempts in [1, 3, 4] {
        let server = MockServer::start().await;
        moderation_request()
            .respond_with(server_error())
            .mount(&server)
            .await;

        let error = client(&server, attempts)
            .moderate_image(&selfie_jpeg(), "image/jpeg")
            .await
            .unwrap_err();
        assert_eq!(error, ProviderError::Unavailable { status: Some(500) });
        assert_eq!(requests(&server).await.len(), attempts as usize);
    }
}

#[tokio::test]
async fn timeouts_are_retried_as_unavailable() {
    let server = MockServer::start().await;
    moderation_request()
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(moderation_answer(&[]))
                .set_delay(Duration::from_secs(2)),
        )
        .mount(&server)
        .await;

    let error = client(&server, 2)
        .moderate_image(&selfie_jpeg(), "image/jpeg")
        .await
        .unwrap_err();
    assert_eq!(error, ProviderError::Unavailable { status: None });
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn an_invalid_key_is_not_retried_and_never_echoed() {
    let server = MockServer::start().await;
    moderation_request()
        .respond_with(error_answer(401, "invalid_request_error", "invalid_api_key", "Incorrect API key provided: sk-test-****cdef. You can find your API key at https://platform.openai.com/account/api-keys."))
        .mount(&server)
        .await;

    let error = client(&server, 3)
        .moderate_image(&selfie_jpeg(), "image/jpeg")
        .await
        .unwrap_err();
    let ProviderError::Rejected { status, code, .. } = &error else {
        panic!("{error:?}")
    };
    assert_eq!((*status, code.as_deref()), (401, Some("invalid_api_key")));
    assert!(!format!("{error} {error:?}").contains("sk-"), "{error:?}");
    assert_eq!(requests(&server).await.len(), 1);
}

// ---------------------------------------------------------------------------------------
// Logs

/// Collects everything the fmt subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn failure_logs_carry_codes_and_attempts_but_no_content() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start().await;
    edit_request()
        .respond_with(server_error())
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    edit_request()
        .respond_with(error_answer(
            400,
            "image_generation_user_error",
            "moderation_blocked",
            "Your request was rejected by the safety system.",
        ))
        .with_priority(2)
        .mount(&server)
        .await;
    let selfie = selfie_jpeg();
    let _ = client(&server, 3)
        .edit_image(&selfie, "image/jpeg", PROMPT, Background::Opaque)
        .await;

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<Value> = logs
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let failures: Vec<&Value> = lines
        .iter()
        .filter(|line| line["fields"]["message"] == "OpenAI call failed")
        .collect();
    assert_eq!(failures.len(), 2, "{logs}");
    assert_eq!(failures[0]["fields"]["attempt"], 1);
    assert_eq!(failures[0]["fields"]["status"], 500);
    assert_eq!(failures[0]["fields"]["model"], IMAGE_MODEL);
    assert_eq!(failures[0]["fields"]["endpoint"], "images.edits");
    assert_eq!(failures[1]["fields"]["attempt"], 2);
    assert_eq!(failures[1]["fields"]["provider_code"], "moderation_blocked");
    assert_eq!(
        failures[1]["fields"]["error_code"],
        "provider_content_rejected"
    );
    for forbidden in [KEY, PROMPT, &STANDARD.encode(&selfie)[..40]] {
        assert!(!logs.contains(forbidden), "logs hold {forbidden:?}: {logs}");
    }
}

// ---------------------------------------------------------------------------------------
// Cold start

/// How long building the client takes, the cost it adds to every cold start. Meaningful in
/// release builds: `cargo test -p shared --release client_build_time -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement, not a check"]
fn client_build_time() {
    let config = || {
        OpenAiConfig::new(
            SecretString::from(KEY),
            "https://api.openai.com".parse().unwrap(),
        )
    };
    let mut timings: Vec<Duration> = (0..20)
        .map(|_| {
            let config = config();
            let started = Instant::now();
            let client = OpenAiClient::new(config).unwrap();
            let elapsed = started.elapsed();
            drop(client);
            elapsed
        })
        .collect();
    let first = timings[0];
    timings.sort_unstable();
    println!(
        "OpenAiClient::new: first {first:?}, median {:?}, max {:?}",
        timings[10], timings[19]
    );
}
