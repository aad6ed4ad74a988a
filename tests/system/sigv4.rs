//! An independent check of SigV4 presigned URLs (AWS's documented algorithm, written here
//! from the specification), because the emulation accepts any signature: it shows which
//! request headers a presigned URL binds.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap();
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            out.push(
                u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap(), 16).unwrap(),
            );
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// AWS URI encoding: unreserved characters stay, everything else is %XX (upper case).
fn aws_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// True when `signature` in `url` is the SigV4 signature of a `method` request to `url`
/// carrying `headers` (lower-case names), under `secret_key`.
pub fn presigned_request_matches(
    url: &str,
    method: &str,
    headers: &[(&str, &str)],
    secret_key: &str,
) -> bool {
    let parsed = reqwest::Url::parse(url).unwrap();
    let mut query: Vec<(String, String)> = parsed
        .query()
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (percent_decode(k), percent_decode(v)))
        .collect();
    let signature = query
        .iter()
        .find(|(k, _)| k == "X-Amz-Signature")
        .unwrap()
        .1
        .clone();
    query.retain(|(k, _)| k != "X-Amz-Signature");
    let get = |name: &str| query.iter().find(|(k, _)| k == name).unwrap().1.clone();
    let signed_headers = get("X-Amz-SignedHeaders");
    let credential = get("X-Amz-Credential");
    let amz_date = get("X-Amz-Date");
    let scope = credential.split_once('/').unwrap().1.to_owned();

    let mut canonical_query: Vec<String> = query
        .iter()
        .map(|(k, v)| format!("{}={}", aws_encode(k), aws_encode(v)))
        .collect();
    canonical_query.sort();
    let host = match parsed.port() {
        Some(port) => format!("{}:{port}", parsed.host_str().unwrap()),
        None => parsed.host_str().unwrap().to_owned(),
    };
    let mut canonical_headers = String::new();
    for name in signed_headers.split(';') {
        let value = if name == "host" {
            host.clone()
        } else {
            match headers.iter().find(|(n, _)| *n == name) {
                Some((_, value)) => value.trim().to_owned(),
                None => return false,
            }
        };
        canonical_headers.push_str(&format!("{name}:{value}\n"));
    }
    let canonical_request = format!(
        "{method}\n{}\n{}\n{canonical_headers}\n{signed_headers}\nUNSIGNED-PAYLOAD",
        parsed.path(),
        canonical_query.join("&")
    );
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    let parts: Vec<&str> = scope.split('/').collect();
    let mut key = hmac(format!("AWS4{secret_key}").as_bytes(), parts[0]);
    for part in &parts[1..] {
        key = hmac(&key, part);
    }
    hex::encode(hmac(&key, &string_to_sign)) == signature
}
