//! Turning a function's payload format 2.0 answer into the HTTP response.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::header::{CONTENT_TYPE, HeaderName, HeaderValue, SET_COOKIE};
use http::{HeaderMap, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Bytes;
use serde_json::{Map, Value};
use thiserror::Error;

use crate::server::Body;

/// Why an answer is not a valid format 2.0 response (API Gateway answers 502 then).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("invalid function response: {0}")]
pub struct InvalidResponse(String);

fn invalid(message: impl Into<String>) -> InvalidResponse {
    InvalidResponse(message.into())
}

/// Maps the function's answer. An object with `statusCode` is a structured response; any
/// other JSON is, as API Gateway assumes, a 200 `application/json` body.
pub fn map_response(answer: Value) -> Result<Response<Body>, InvalidResponse> {
    match answer {
        Value::Object(fields) if fields.contains_key("statusCode") => structured(&fields),
        other => {
            let mut response = Response::new(Full::new(Bytes::from(other.to_string())));
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            Ok(response)
        }
    }
}

fn structured(fields: &Map<String, Value>) -> Result<Response<Body>, InvalidResponse> {
    let status = fields
        .get("statusCode")
        .and_then(Value::as_u64)
        .and_then(|code| u16::try_from(code).ok())
        .and_then(|code| StatusCode::from_u16(code).ok())
        .ok_or_else(|| invalid("statusCode is not an HTTP status code"))?;
    let mut headers = HeaderMap::new();
    single_headers(fields.get("headers"), &mut headers)?;
    multi_value_headers(fields.get("multiValueHeaders"), &mut headers)?;
    for cookie in strings(fields.get("cookies"), "cookies")? {
        headers.append(SET_COOKIE, header_value(&cookie)?);
    }
    let mut response = Response::new(Full::new(body(fields)?));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    Ok(response)
}

fn body(fields: &Map<String, Value>) -> Result<Bytes, InvalidResponse> {
    let encoded = match fields.get("isBase64Encoded") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(flag)) => *flag,
        Some(_) => return Err(invalid("isBase64Encoded is not a boolean")),
    };
    let text = match fields.get("body") {
        None | Some(Value::Null) => return Ok(Bytes::new()),
        Some(Value::String(text)) => text,
        Some(_) => return Err(invalid("body is not a string")),
    };
    if encoded {
        let bytes = BASE64
            .decode(text)
            .map_err(|e| invalid(format!("body is not valid base64: {e}")))?;
        Ok(Bytes::from(bytes))
    } else {
        Ok(Bytes::from(text.clone()))
    }
}

fn single_headers(value: Option<&Value>, headers: &mut HeaderMap) -> Result<(), InvalidResponse> {
    for (name, value) in object(value, "headers")? {
        let value =
            scalar(value).ok_or_else(|| invalid(format!("header {name} is not a scalar")))?;
        headers.append(header_name(name)?, header_value(&value)?);
    }
    Ok(())
}

/// Values of `multiValueHeaders` are added to those of `headers`, skipping repeats (some
/// runtimes fill both with the same values).
fn multi_value_headers(
    value: Option<&Value>,
    headers: &mut HeaderMap,
) -> Result<(), InvalidResponse> {
    for (name, values) in object(value, "multiValueHeaders")? {
        let name = header_name(name)?;
        let Value::Array(values) = values else {
            return Err(invalid(format!("multiValueHeaders.{name} is not a list")));
        };
        for value in values {
            let value = scalar(value)
                .ok_or_else(|| invalid(format!("multiValueHeaders.{name} holds a non-scalar")))?;
            let value = header_value(&value)?;
            if !headers.get_all(&name).iter().any(|v| v == value) {
                headers.append(name.clone(), value);
            }
        }
    }
    Ok(())
}

fn object<'a>(
    value: Option<&'a Value>,
    field: &str,
) -> Result<Vec<(&'a String, &'a Value)>, InvalidResponse> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(map)) => Ok(map.iter().collect()),
        Some(_) => Err(invalid(format!("{field} is not an object"))),
    }
}

fn strings(value: Option<&Value>, field: &str) -> Result<Vec<String>, InvalidResponse> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| invalid(format!("{field} holds a non-string")))
            })
            .collect(),
        Some(_) => Err(invalid(format!("{field} is not a list"))),
    }
}

/// Header values may be strings, numbers or booleans.
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn header_name(name: &str) -> Result<HeaderName, InvalidResponse> {
    HeaderName::try_from(name).map_err(|_| invalid(format!("{name:?} is not a header name")))
}

fn header_value(value: &str) -> Result<HeaderValue, InvalidResponse> {
    HeaderValue::try_from(value).map_err(|_| invalid(format!("{value:?} is not a header value")))
}
