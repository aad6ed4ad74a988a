//! S3 event notifications as AWS writes them.
//!
//! moto's notification bodies differ from AWS's
//! (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html>):
//! they lack `userIdentity`, `requestParameters`, `responseElements`,
//! `s3.bucket.ownerIdentity` and `s3.object.sequencer` (without the first two,
//! `aws_lambda_events`' `S3Event` does not even parse), and they percent-encode the object key
//! with Python's `quote_plus`, which also encodes `/`. AWS encodes keys as
//! `application/x-www-form-urlencoded` (space as `+`) but leaves `/` as it is:
//! `selfies/w1/写真 1+x.jpg` arrives as `selfies/w1/%E5%86%99%E7%9C%9F+1%2Bx.jpg`.
//!
//! [`to_aws_shape`] fixes a body before it reaches a function. Every added value is derived
//! from the SQS message id and the body, so a redelivered message reads exactly as it did the
//! first time, as on AWS. `s3:TestEvent` bodies and anything that is not an S3 notification
//! pass through untouched. The fix is idempotent: an AWS-shaped body stays as it is.

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use md5::{Digest, Md5};
use serde_json::{Map, Value, json};

/// The principal the emulation reports for every caller (moto's default user id, the same
/// one SQS gives as `SenderId`), in the `AWS:<id>` form AWS uses for IAM users.
pub const LOCAL_PRINCIPAL_ID: &str = "AWS:AIDAIT2UOQQY3AUEKVGXU";
/// The bucket owner's canonical-user-like id.
pub const LOCAL_BUCKET_OWNER_ID: &str = "A1LOCALSTACKOWNER";
/// Every request comes from this machine.
pub const LOCAL_SOURCE_IP: &str = "127.0.0.1";

/// The body as AWS would have delivered it, or `None` when it needs no change (not an S3
/// notification, a test event, or already in AWS's shape).
pub fn to_aws_shape(body: &str, message_id: &str) -> Option<String> {
    let Ok(Value::Object(mut root)) = serde_json::from_str::<Value>(body) else {
        return None;
    };
    let Some(Value::Array(records)) = root.get_mut("Records") else {
        return None;
    };
    let mut changed = false;
    for (index, record) in records.iter_mut().enumerate() {
        if let Some(record) = record.as_object_mut()
            && record.get("eventSource").and_then(Value::as_str) == Some("aws:s3")
        {
            let ids = Derived::new(message_id, index);
            changed |= fix_record(record, &ids);
        }
    }
    changed.then(|| Value::Object(root).to_string())
}

/// Values derived from the message, standing in for what AWS knows about the request.
struct Derived {
    digest: [u8; 16],
}

impl Derived {
    fn new(message_id: &str, record: usize) -> Derived {
        let digest = Md5::digest(format!("{message_id}#{record}").as_bytes());
        Derived {
            digest: digest.into(),
        }
    }

    /// 16 uppercase hex characters, like `C3D13FE58DE4C810`.
    fn request_id(&self) -> String {
        hex_upper(&self.digest[..8])
    }

    /// Base64 text, like AWS's `x-amz-id-2`.
    fn id_2(&self) -> String {
        BASE64.encode(Md5::digest(self.digest))
    }
}

/// Adds what is missing and re-encodes the key; returns whether anything changed.
fn fix_record(record: &mut Map<String, Value>, ids: &Derived) -> bool {
    let mut changed = false;
    changed |= insert_missing(
        record,
        "userIdentity",
        json!({ "principalId": LOCAL_PRINCIPAL_ID }),
    );
    changed |= insert_missing(
        record,
        "requestParameters",
        json!({ "sourceIPAddress": LOCAL_SOURCE_IP }),
    );
    changed |= insert_missing(
        record,
        "responseElements",
        json!({ "x-amz-request-id": ids.request_id(), "x-amz-id-2": ids.id_2() }),
    );
    let event_time = record
        .get("eventTime")
        .and_then(Value::as_str)
        .map(str::to_owned);
    if let Some(Value::Object(s3)) = record.get_mut("s3") {
        changed |= fix_entity(s3, event_time.as_deref(), ids);
    }
    changed
}

fn fix_entity(s3: &mut Map<String, Value>, event_time: Option<&str>, ids: &Derived) -> bool {
    let mut changed = insert_missing(s3, "configurationId", json!("local-notification"));
    if let Some(Value::Object(bucket)) = s3.get_mut("bucket") {
        changed |= insert_missing(
            bucket,
            "ownerIdentity",
            json!({ "principalId": LOCAL_BUCKET_OWNER_ID }),
        );
    }
    if let Some(Value::Object(object)) = s3.get_mut("object") {
        if let Some(key) = object.get("key").and_then(Value::as_str)
            && let Some(aws_key) = reencode_key(key)
            && aws_key != key
        {
            object.insert("key".to_owned(), json!(aws_key));
            changed = true;
        }
        changed |= insert_missing(object, "sequencer", json!(sequencer(event_time, ids)));
    }
    changed
}

fn insert_missing(map: &mut Map<String, Value>, key: &str, value: Value) -> bool {
    if map.contains_key(key) {
        return false;
    }
    map.insert(key.to_owned(), value);
    true
}

/// A hexadecimal value that grows with the event time, as AWS's sequencers do for the events
/// of one key: the event time in milliseconds, then two digits from the message.
fn sequencer(event_time: Option<&str>, ids: &Derived) -> String {
    let millis = event_time
        .and_then(|time| DateTime::from_str(time, Format::DateTime).ok())
        .and_then(|time| time.to_millis().ok())
        .unwrap_or(0);
    format!("00{millis:014X}{:02X}", ids.digest[15])
}

/// The key as AWS encodes it, from a key moto (or AWS) encoded; `None` if `encoded` is not
/// valid form encoding of UTF-8 text.
pub fn reencode_key(encoded: &str) -> Option<String> {
    form_decode(encoded).map(|key| aws_encode_key(&key))
}

/// `application/x-www-form-urlencoded` with `/` kept: letters, digits, `*-._/` stay, a
/// space becomes `+`, every other byte of the UTF-8 text becomes `%XX` (uppercase).
pub fn aws_encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len() * 3);
    for byte in key.bytes() {
        match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' | b'/' => {
                out.push(char::from(byte))
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// Undoes form encoding: `+` is a space, `%XX` a byte.
pub fn form_decode(encoded: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(encoded.len());
    let mut input = encoded.bytes();
    while let Some(byte) = input.next() {
        match byte {
            b'+' => bytes.push(b' '),
            b'%' => {
                let high = hex_value(input.next()?)?;
                let low = hex_value(input.next()?)?;
                bytes.push(high << 4 | low);
            }
            _ => bytes.push(byte),
        }
    }
    String::from_utf8(bytes).ok()
}

fn hex_value(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

#[cfg(test)]
mod tests {
    use aws_lambda_events::event::s3::S3Event;

    use super::*;

    /// Message bodies captured from moto 5.2.5 by `testdata/capture_moto_s3_events.py`.
    fn captured(name: &str) -> String {
        let path = format!("{}/testdata/moto/{name}.json", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn fixed(name: &str) -> (Value, S3Event) {
        let body = to_aws_shape(&captured(name), "0b5cbbd6-message").expect("moto's body changes");
        let event: S3Event = serde_json::from_str(&body).expect("parses as aws_lambda_events");
        (serde_json::from_str(&body).expect("json"), event)
    }

    #[test]
    fn moto_bodies_do_not_parse_as_s3_events_before_the_fix() {
        let raw = captured("put-nested-key");
        assert!(serde_json::from_str::<S3Event>(&raw).is_err());
    }

    #[test]
    fn keys_are_encoded_as_aws_does() {
        let cases = [
            ("put-nested-key", "selfies/a/b.jpg"),
            (
                "put-space-plus-japanese",
                "selfies/w1/%E5%86%99%E7%9C%9F+1%2Bx.jpg",
            ),
            (
                "put-reserved-characters",
                "selfies/x%3D1%26y%282%29%7E%27%21*%3A%3B%2C%40%24.jpg",
            ),
        ];
        for (name, key) in cases {
            let (_, event) = fixed(name);
            assert_eq!(
                event.records[0].s3.object.key.as_deref(),
                Some(key),
                "{name}"
            );
        }
    }

    #[test]
    fn decoding_the_fixed_key_gives_the_uploaded_key() {
        let (_, event) = fixed("put-space-plus-japanese");
        let key = event.records[0]
            .s3
            .object
            .key
            .as_deref()
            .unwrap_or_default();
        assert_eq!(form_decode(key).as_deref(), Some("selfies/w1/写真 1+x.jpg"));
    }

    #[test]
    fn missing_fields_are_added_and_motos_kept() {
        let (json, event) = fixed("put-nested-key");
        let record = &event.records[0];
        assert_eq!(
            record.principal_id.principal_id.as_deref(),
            Some(LOCAL_PRINCIPAL_ID)
        );
        assert_eq!(
            record.request_parameters.source_ip_address.as_deref(),
            Some(LOCAL_SOURCE_IP)
        );
        let request_id = &record.response_elements["x-amz-request-id"];
        assert_eq!(request_id.len(), 16);
        assert!(
            request_id
                .chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        );
        assert!(!record.response_elements["x-amz-id-2"].is_empty());
        let bucket = &record.s3.bucket;
        assert_eq!(bucket.name.as_deref(), Some("capture-selfies"));
        assert_eq!(
            bucket
                .owner_identity
                .as_ref()
                .and_then(|o| o.principal_id.as_deref()),
            Some(LOCAL_BUCKET_OWNER_ID)
        );
        // moto's own values stay.
        assert_eq!(
            record.s3.configuration_id.as_deref(),
            Some("7K87GpZtUtQcbyBxTgyakhdji9goFRD7UDS5GUqCN59OlppeKX")
        );
        assert_eq!(
            record.s3.object.e_tag.as_deref(),
            Some("2ccd799f3a5130350478899447b6aa06")
        );
        assert_eq!(record.s3.object.size, Some(10));
        assert_eq!(record.event_name.as_deref(), Some("ObjectCreated:Put"));
        assert_eq!(record.event_version.as_deref(), Some("2.1"));
        let sequencer = json["Records"][0]["s3"]["object"]["sequencer"]
            .as_str()
            .unwrap_or_default();
        assert_eq!(sequencer.len(), 18);
        assert!(sequencer.chars().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn later_events_get_greater_sequencers() {
        let first = sequencer(Some("2026-11-22T08:39:29.269Z"), &Derived::new("m", 0));
        let second = sequencer(Some("2026-11-22T08:39:29.270Z"), &Derived::new("a", 0));
        assert!(second > first, "{first} < {second}");
    }

    #[test]
    fn the_fix_is_deterministic_and_idempotent() {
        let raw = captured("put-space-plus-japanese");
        let once = to_aws_shape(&raw, "id-1").expect("changed");
        assert_eq!(to_aws_shape(&raw, "id-1"), Some(once.clone()));
        assert_eq!(to_aws_shape(&once, "id-1"), None);
        assert_ne!(to_aws_shape(&raw, "id-2"), Some(once));
    }

    #[test]
    fn test_events_and_other_bodies_pass_through() {
        assert_eq!(to_aws_shape(&captured("test-event"), "id"), None);
        assert_eq!(to_aws_shape("plain text fail-me", "id"), None);
        assert_eq!(
            to_aws_shape(r#"{"Records":[{"eventSource":"aws:sns"}]}"#, "id"),
            None
        );
        assert_eq!(to_aws_shape("[1,2]", "id"), None);
    }

    #[test]
    fn form_decoding_rejects_broken_escapes() {
        assert_eq!(form_decode("a%2"), None);
        assert_eq!(form_decode("a%zz"), None);
        assert_eq!(form_decode("%FF"), None);
        assert_eq!(form_decode("a+b%2Fc").as_deref(), Some("a b/c"));
    }
}
