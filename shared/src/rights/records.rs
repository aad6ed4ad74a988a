//! The shape of each store's records in the export: what a person reads, not how it is
//! stored. Every record leaves out the storage's own bookkeeping (keys such as `pk`, index
//! markers, TTLs), says what kind of record it is where one store holds several, and writes
//! every time as RFC 3339. `docs/EXPORT_SCHEMA.md` describes each field; a system test
//! fails when a record carries a field the schema does not list.
//!
//! Attributes not named here pass through unchanged: a new stored field is never silently
//! held back from the person, and the schema test then asks for its description.

use serde_json::{Map, Value};

use crate::clock::rfc3339;

/// Attributes that are the storage's bookkeeping, never information about the person:
/// keys, sparse-index markers and the TTL attribute (each record's own end, where it has
/// one, is `expires_at`).
const BOOKKEEPING: [&str; 8] = [
    "pk",
    "ttl",
    "expiry_sweep",
    "selfie_held",
    "selfie_due_at",
    "upload_pending",
    "review_state",
    "lease_until",
];

/// Bookkeeping of one store only: (store, attribute). A privacy request's record repeats
/// the email's keyed hash its key is made of (for an index), marks itself for the sweeps
/// that end it (`archive_state`, `erasure_state`) and holds a retention run's lease on its
/// closing email.
const STORE_BOOKKEEPING: [(&str, &str); 6] = [
    // The key of the lead list's sparse index of opted-in rows (`marketing_opt_in` says it).
    ("lead", crate::marketing::campaigns::AUDIENCE_ATTRIBUTE),
    ("exports", "email_hash"),
    ("exports", "archive_state"),
    ("erasure_requests", "email_hash"),
    ("erasure_requests", "erasure_state"),
    ("erasure_requests", "closing_claimed_at"),
];

/// Stored names that read badly to a person: (store, stored name, exported name).
const RENAMED: [(&str, &str, &str); 1] = [("generations", "review_state_done", "review_outcome")];

/// A store whose `pk` says which kind of record an item is: the kind (and, for some, the id
/// the key carries) become fields of their own.
fn kind_from_key(store: &str, pk: &str) -> Vec<(&'static str, Value)> {
    let (prefix, rest) = pk.split_once('#').unwrap_or((pk, ""));
    match (store, prefix) {
        ("orders", "ORDER") => vec![("record", "order".into())],
        ("orders", "WEBHOOK") => vec![
            ("record", "payment_notification".into()),
            ("notification_id", rest.into()),
        ],
        ("trials", "TRIAL") => vec![("record", "trial".into())],
        ("trials", "DEVICE") => vec![("record", "device_claim".into())],
        // `otp-resend#<email hash>`: the name of the limit; the key's hash is the person's.
        ("rate_limits", limit) => vec![("limit", limit.to_owned().into())],
        _ => Vec::new(),
    }
}

/// The record of `store` as the archive shows it.
pub fn shape(store: &str, raw: &Value) -> Value {
    let Value::Object(fields) = raw else {
        return raw.clone();
    };
    let mut record = Map::new();
    if let Some(pk) = fields.get("pk").and_then(Value::as_str) {
        for (name, value) in kind_from_key(store, pk) {
            record.insert(name.to_owned(), value);
        }
    }
    for (name, value) in fields {
        if BOOKKEEPING.contains(&name.as_str())
            || STORE_BOOKKEEPING.contains(&(store, name.as_str()))
        {
            continue;
        }
        if (store, name.as_str()) == ("wallet", "sessions") {
            record.insert(name.clone(), sessions(value));
            continue;
        }
        if (store, name.as_str()) == ("lead", crate::marketing::campaigns::MESSAGES_ATTRIBUTE) {
            record.insert(name.clone(), marketing_messages(value));
            continue;
        }
        let exported = RENAMED
            .iter()
            .find(|(of, stored, _)| *of == store && *stored == name.as_str())
            .map_or(name.as_str(), |(_, _, exported)| exported);
        record.insert(exported.to_owned(), times_as_rfc3339(name, value));
    }
    Value::Object(record)
}

/// Whether a field holds a time: `at`, `until`, or a name ending in `_at`.
pub fn is_time(name: &str) -> bool {
    name == "at" || name == "until" || name.ends_with("_at")
}

/// The wallet's live sessions, stored as `{<session id>: {issued_at, expires_at}}`, as a
/// list `[{signed_in_at, expires_at}]` in the order they began. The session id is left out:
/// like a code's hash, it is a part of a credential (the signed cookie), not information
/// about the person.
fn sessions(stored: &Value) -> Value {
    let Value::Object(by_id) = stored else {
        return Value::Array(Vec::new());
    };
    let mut list: Vec<(i64, Value)> = by_id
        .values()
        .map(|session| {
            let time = |name: &str| session.get(name).and_then(Value::as_i64);
            let mut entry = Map::new();
            if let Some(at) = time("issued_at") {
                entry.insert("signed_in_at".to_owned(), Value::String(rfc3339(at)));
            }
            if let Some(at) = time("expires_at") {
                entry.insert("expires_at".to_owned(), Value::String(rfc3339(at)));
            }
            (time("issued_at").unwrap_or_default(), Value::Object(entry))
        })
        .collect();
    list.sort_by_key(|(issued_at, _)| *issued_at);
    Value::Array(list.into_iter().map(|(_, entry)| entry).collect())
}

/// The campaign messages sent to an address, stored as `{<campaign id>: {subject, sent_at}}`,
/// as a list `[{campaign, subject, sent_at}]` in the order they were sent.
fn marketing_messages(stored: &Value) -> Value {
    let Value::Object(by_campaign) = stored else {
        return Value::Array(Vec::new());
    };
    let mut list: Vec<(i64, Value)> = by_campaign
        .iter()
        .map(|(campaign, message)| {
            let sent_at = message.get("sent_at").and_then(Value::as_i64);
            let mut entry = Map::new();
            entry.insert("campaign".to_owned(), Value::String(campaign.clone()));
            if let Some(subject) = message.get("subject") {
                entry.insert("subject".to_owned(), subject.clone());
            }
            if let Some(at) = sent_at {
                entry.insert("sent_at".to_owned(), Value::String(rfc3339(at)));
            }
            (sent_at.unwrap_or_default(), Value::Object(entry))
        })
        .collect();
    list.sort_by_key(|(sent_at, _)| *sent_at);
    Value::Array(list.into_iter().map(|(_, entry)| entry).collect())
}

/// Unix seconds in a time field become RFC 3339, in nested lists of `{…, at}` too.
fn times_as_rfc3339(name: &str, value: &Value) -> Value {
    match value {
        Value::Number(seconds) if is_time(name) => seconds
            .as_i64()
            .map_or_else(|| value.clone(), |at| Value::String(rfc3339(at))),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| match item {
                    Value::Object(_) => nested(item),
                    other => other.clone(),
                })
                .collect(),
        ),
        _ => value.clone(),
    }
}

fn nested(value: &Value) -> Value {
    match value {
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(name, value)| (name.clone(), times_as_rfc3339(name, value)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The file extension of a content type, for files stored without one (selfies).
pub fn extension_of(content_type: &str) -> Option<&'static str> {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "image/jpeg" | "image/jpg" => Some("jpg"),
        "image/png" => Some("png"),
        "image/webp" => Some("webp"),
        "application/zip" => Some("zip"),
        "text/plain" => Some("txt"),
        _ => None,
    }
}

/// The extension the first bytes of a file show, when its stored type says nothing.
pub fn extension_sniffed(start: &[u8]) -> Option<&'static str> {
    if start.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("jpg")
    } else if start.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("png")
    } else if start.len() >= 12 && &start[..4] == b"RIFF" && &start[8..12] == b"WEBP" {
        Some("webp")
    } else if start.starts_with(b"PK\x03\x04") {
        Some("zip")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn storage_keys_go_and_times_read_as_rfc3339() {
        let raw = json!({
            "pk": "WALLET#w1", "wallet_id": "w1", "ttl": 5, "created_at": 0,
            "restriction_history": [{"restricted": true, "at": 86400}],
            "credits": 3, "context": {"page": "/x"},
        });
        assert_eq!(
            shape(
                "generations",
                &json!({"review_state_done": "approved", "selfie_held": "held"})
            ),
            json!({"review_outcome": "approved"})
        );
        assert_eq!(
            shape("wallet", &raw),
            json!({
                "wallet_id": "w1", "created_at": "1970-01-01T00:00:00Z",
                "restriction_history": [{"restricted": true, "at": "1970-01-02T00:00:00Z"}],
                "credits": 3, "context": {"page": "/x"},
            })
        );
    }

    #[test]
    fn sessions_become_a_list_without_their_ids_and_former_emails_read_as_times() {
        let raw = json!({
            "wallet_id": "w1",
            "sessions": {
                "sid-late": {"issued_at": 86400, "expires_at": 172800},
                "sid-early": {"issued_at": 0, "expires_at": 86400},
            },
            "former_emails": [{"email": "a@example.com", "until": 86400}],
        });
        let shaped = shape("wallet", &raw);
        assert_eq!(
            shaped["sessions"],
            json!([
                {"signed_in_at": "1970-01-01T00:00:00Z", "expires_at": "1970-01-02T00:00:00Z"},
                {"signed_in_at": "1970-01-02T00:00:00Z", "expires_at": "1970-01-03T00:00:00Z"},
            ])
        );
        assert!(!shaped.to_string().contains("sid-"));
        assert_eq!(
            shaped["former_emails"],
            json!([{"email": "a@example.com", "until": "1970-01-02T00:00:00Z"}])
        );
    }

    #[test]
    fn a_privacy_requests_index_markers_and_hash_stay_out() {
        let export = json!({
            "pk": "EXPORT#h", "email_hash": "h", "archive_state": "live", "request_id": "r",
            "status": "ready", "requested_at": 0, "emailed": true,
        });
        assert_eq!(
            shape("exports", &export),
            json!({"request_id": "r", "status": "ready", "requested_at": "1970-01-01T00:00:00Z", "emailed": true})
        );
        let erasure = json!({
            "pk": "ERASURE#h", "email_hash": "h", "erasure_state": "pending",
            "closing_claimed_at": 5, "request_id": "r", "requested_at": 0,
        });
        assert_eq!(
            shape("erasure_requests", &erasure),
            json!({"request_id": "r", "requested_at": "1970-01-01T00:00:00Z"})
        );
        // The same name is the person's own data in another store.
        assert_eq!(
            shape("one_time_codes", &json!({"email_hash": "h"})),
            json!({"email_hash": "h"})
        );
    }

    #[test]
    fn a_key_that_names_the_kind_of_record_becomes_fields() {
        let webhook = shape(
            "orders",
            &json!({"pk": "WEBHOOK#msg-1", "event_type": "order.paid", "ttl": 1}),
        );
        assert_eq!(
            webhook,
            json!({"record": "payment_notification", "notification_id": "msg-1", "event_type": "order.paid"})
        );
        assert_eq!(
            shape("trials", &json!({"pk": "DEVICE#d"}))["record"],
            json!("device_claim")
        );
        assert_eq!(
            shape("rate_limits", &json!({"pk": "otp-email#abc", "count": 1}))["limit"],
            json!("otp-email")
        );
    }

    #[test]
    fn files_get_the_extension_of_their_type() {
        assert_eq!(extension_of("image/jpeg"), Some("jpg"));
        assert_eq!(extension_of("text/plain; charset=utf-8"), Some("txt"));
        assert_eq!(extension_of("binary/octet-stream"), None);
        assert_eq!(extension_sniffed(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("jpg"));
        assert_eq!(extension_sniffed(b"RIFF\0\0\0\0WEBPVP8 "), Some("webp"));
        assert_eq!(extension_sniffed(b"hello"), None);
    }
}
