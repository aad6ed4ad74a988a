//! The API Gateway payload format 2.0 event
//! (<https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html>).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::request::Parts;
use http::{HeaderMap, Version, header};
use serde_json::{Map, Value, json};

use super::router::RouteMatch;

/// The API-level values of `requestContext`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiContext {
    pub api_id: String,
    pub account_id: String,
    pub stage: String,
    /// The port clients reach us on (`x-forwarded-port`).
    pub port: u16,
    /// The API's own host name (the listen address locally): the event's `Host` header and
    /// `requestContext.domainName`. API Gateway sets both itself; a client's `Host` never
    /// reaches a function (`lambda_http` rebuilds the request URI from it, and panics on a
    /// value such as `a b`).
    pub domain_name: String,
}

impl Default for ApiContext {
    fn default() -> Self {
        ApiContext {
            api_id: "local".to_owned(),
            account_id: crate::ACCOUNT_ID.to_owned(),
            stage: "$default".to_owned(),
            port: 3000,
            domain_name: "127.0.0.1:3000".to_owned(),
        }
    }
}

/// The event for a request whose body has been read.
pub fn build_event(
    request: &Parts,
    body: &[u8],
    source_ip: IpAddr,
    route: &RouteMatch<'_>,
    context: &ApiContext,
    now: SystemTime,
) -> Value {
    let mut event = Map::new();
    event.insert("version".into(), json!("2.0"));
    event.insert("routeKey".into(), json!(route.route_key));
    event.insert("rawPath".into(), json!(request.uri.path()));
    let raw_query = request.uri.query().unwrap_or_default();
    event.insert("rawQueryString".into(), json!(raw_query));
    let cookies = cookies(&request.headers);
    if !cookies.is_empty() {
        event.insert("cookies".into(), json!(cookies));
    }
    event.insert(
        "headers".into(),
        json!(headers(request, source_ip, context)),
    );
    let query = query_parameters(raw_query);
    if !query.is_empty() {
        event.insert("queryStringParameters".into(), json!(query));
    }
    if !route.path_parameters.is_empty() {
        event.insert("pathParameters".into(), json!(route.path_parameters));
    }
    event.insert(
        "requestContext".into(),
        request_context(request, source_ip, route, context, now),
    );
    let (body, is_base64) = encode_body(&request.headers, body);
    if let Some(body) = body {
        event.insert("body".into(), json!(body));
    }
    event.insert("isBase64Encoded".into(), json!(is_base64));
    Value::Object(event)
}

/// The `Cookie` header(s) split into single cookies; the header itself is not in `headers`.
fn cookies(headers: &HeaderMap) -> Vec<String> {
    let mut out = Vec::new();
    for value in headers.get_all(header::COOKIE) {
        let text = String::from_utf8_lossy(value.as_bytes());
        let split = text.split(';').map(str::trim).filter(|c| !c.is_empty());
        out.extend(split.map(str::to_owned));
    }
    out
}

/// Lowercase names (the `http` crate already stores them so), repeated headers joined with
/// commas, plus the headers API Gateway sets itself: `host` (the API's domain, whatever the
/// client sent) and `x-forwarded-*`.
fn headers(request: &Parts, source_ip: IpAddr, context: &ApiContext) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for name in request.headers.keys() {
        if name == header::COOKIE || name == header::HOST {
            continue;
        }
        let values: Vec<String> = request
            .headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        out.insert(name.as_str().to_owned(), values.join(","));
    }
    let forwarded = match out.get("x-forwarded-for") {
        Some(previous) => format!("{previous}, {source_ip}"),
        None => source_ip.to_string(),
    };
    out.insert("x-forwarded-for".into(), forwarded);
    out.insert("host".into(), context.domain_name.clone());
    out.insert("x-forwarded-proto".into(), "http".into());
    out.insert("x-forwarded-port".into(), context.port.to_string());
    out.entry("x-amzn-trace-id".into()).or_insert_with(|| {
        format!(
            "Root=1-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..24]
        )
    });
    out
}

/// Decoded names and values, repeated names joined with commas.
fn query_parameters(raw: &str) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode(value);
        out.entry(percent_decode(name))
            .and_modify(|existing| {
                existing.push(',');
                existing.push_str(&value);
            })
            .or_insert(value);
    }
    out
}

fn request_context(
    request: &Parts,
    source_ip: IpAddr,
    route: &RouteMatch<'_>,
    context: &ApiContext,
    now: SystemTime,
) -> Value {
    let header = |name: header::HeaderName| {
        request
            .headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let domain = &context.domain_name;
    let prefix = domain
        .split(['.', ':'])
        .next()
        .unwrap_or_default()
        .to_owned();
    let epoch_ms = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    json!({
        "accountId": context.account_id,
        "apiId": context.api_id,
        "domainName": domain,
        "domainPrefix": prefix,
        "http": {
            "method": request.method.as_str(),
            "path": request.uri.path(),
            "protocol": protocol(request.version),
            "sourceIp": source_ip.to_string(),
            "userAgent": header(header::USER_AGENT).unwrap_or_default(),
        },
        "requestId": request_id(),
        "routeKey": route.route_key,
        "stage": context.stage,
        "time": clf_time(epoch_ms / 1000),
        "timeEpoch": epoch_ms,
    })
}

fn protocol(version: Version) -> &'static str {
    match version {
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_2 => "HTTP/2.0",
        _ => "HTTP/1.1",
    }
}

/// Text bodies are passed as they are; anything else (or invalid UTF-8) in base64.
fn encode_body(headers: &HeaderMap, body: &[u8]) -> (Option<String>, bool) {
    if body.is_empty() {
        return (None, false);
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    match std::str::from_utf8(body) {
        Ok(text) if is_text(content_type) => (Some(text.to_owned()), false),
        _ => (Some(BASE64.encode(body)), true),
    }
}

pub(super) fn is_text(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence.starts_with("text/")
        || essence.ends_with("+json")
        || essence.ends_with("+xml")
        || matches!(
            essence.as_str(),
            "application/json"
                | "application/xml"
                | "application/javascript"
                | "application/x-www-form-urlencoded"
        )
}

/// `%XX` escapes decoded; malformed escapes are kept as they are. `+` stays `+`, as in
/// API Gateway.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escaped = (bytes[index] == b'%')
            .then(|| bytes.get(index + 1..index + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                index += 3;
            }
            None => {
                out.push(bytes[index]);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// API Gateway's request ids look like `JKJaXmPLvHcESHA=`: 11 random bytes in base64.
fn request_id() -> String {
    BASE64.encode(&uuid::Uuid::new_v4().as_bytes()[..11])
}

/// `12/Mar/2020:19:03:58 +0000`, the format of `requestContext.time`.
pub(super) fn clf_time(epoch_secs: u64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (year, month, day) = civil_from_days(epoch_secs / 86_400);
    let secs = epoch_secs % 86_400;
    let month = MONTHS[usize::try_from(month - 1).unwrap_or(0) % 12];
    format!(
        "{day:02}/{month}/{year}:{:02}:{:02}:{:02} +0000",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// `2026-03-12 19:03:58 UTC`, for the local pages.
pub(crate) fn readable_time(epoch_secs: u64) -> String {
    let (year, month, day) = civil_from_days(epoch_secs / 86_400);
    let secs = epoch_secs % 86_400;
    format!(
        "{year}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar, using
/// 400-year eras that start on March 1st so leap days fall at the end of a year.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let shifted = days + 719_468;
    let era = shifted / 146_097;
    let day_of_era = shifted % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let march_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * march_month + 2) / 5 + 1;
    let month = if march_month < 10 {
        march_month + 3
    } else {
        march_month - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}
