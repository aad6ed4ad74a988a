//! First-party analytics events: key actions with a small allow-listed context.
//!
//! Data class "analytics event": the action, allow-listed context values, the anonymous
//! device id from the browser and, after sign-in, the wallet email. Kept 90 days: the TTL is
//! set 88 days after the event so DynamoDB's late deletion still lands inside 90 days, and
//! reads skip expired items. Found from the person by the `by-device` and `by-email` indexes
//! (export, erasure). Never selfie contents, images or the wallet balance: only the context
//! keys listed per event are kept, each value a short string of a narrow character set (no
//! `@`, no spaces, so neither an email nor a data URL nor a balance sentence fits), and
//! anything else the client sends is dropped before it is stored.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Map, Value};

use crate::clock::UnixSeconds;
use crate::email::EmailAddress;
use crate::store::{Item, StoreError, get_n, get_s, n, query_all, require, s};

const DAY: i64 = 24 * 3600;
/// What the policy promises.
pub const RETENTION_SECONDS: i64 = 90 * DAY;
/// When the TTL is set: early enough for DynamoDB's deletion lag.
pub const TTL_SECONDS: i64 = 88 * DAY;
/// Length of a hyphenated UUID, the anonymous device id's form.
const DEVICE_ID_LEN: usize = 36;

/// One allowed context key and the longest value it may hold.
type ContextKey = (&'static str, usize);

const STYLE: ContextKey = ("style", 32);
const PAGE: ContextKey = ("page", 128);
const PRODUCT: ContextKey = ("product", 32);
const LOCALE: ContextKey = ("locale", 8);
const PLAN: ContextKey = ("plan", 32);
const REASON: ContextKey = ("reason", 32);

/// Every event the service records, and the context each may carry.
const EVENTS: &[(&str, &[ContextKey])] = &[
    ("page_viewed", &[PAGE, LOCALE]),
    ("pricing_viewed", &[PAGE, PLAN, LOCALE]),
    ("trial_started", &[STYLE, PAGE]),
    ("signed_in", &[PAGE]),
    ("style_selected", &[STYLE, PAGE]),
    ("upload_started", &[STYLE, PRODUCT]),
    ("checkout_started", &[PRODUCT, PLAN]),
    ("checkout_completed", &[PRODUCT, PLAN]),
    ("download_clicked", &[PRODUCT]),
    ("share_clicked", &[PRODUCT]),
    ("trial_failed", &[REASON]),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidEvent {
    #[error("that event name is not recorded")]
    UnknownName,
    #[error("device_id must be a UUID")]
    InvalidDeviceId,
    #[error("context must be an object")]
    ContextNotAnObject,
}

impl InvalidEvent {
    pub fn code(self) -> &'static str {
        match self {
            Self::UnknownName => "unknown_event",
            Self::InvalidDeviceId => "invalid_device_id",
            Self::ContextNotAnObject => "invalid_context",
        }
    }
}

/// An event reduced to what may be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanEvent {
    pub name: &'static str,
    pub context: BTreeMap<&'static str, String>,
    pub device_id: String,
    /// How many context entries were dropped (not allowed for this event, or bad values).
    pub dropped: usize,
}

/// Checks the name and device id and keeps only the allowed context. Unknown names are
/// refused (a typo would be silently lost otherwise); unknown or oversized context entries
/// are dropped, so an older or newer client still records its events.
pub fn clean(
    name: &str,
    context: Option<&Value>,
    device_id: &str,
) -> Result<CleanEvent, InvalidEvent> {
    let (name, allowed) = EVENTS
        .iter()
        .find(|(known, _)| *known == name)
        .ok_or(InvalidEvent::UnknownName)?;
    let device_id = parse_device_id(device_id)?;
    let empty = Map::new();
    let entries = match context {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(map)) => map,
        Some(_) => return Err(InvalidEvent::ContextNotAnObject),
    };
    let mut kept = BTreeMap::new();
    for (key, value) in entries {
        let Some((allowed_key, max_len)) = allowed.iter().find(|(k, _)| k == key) else {
            continue;
        };
        if let Some(value) = clean_value(value, *max_len) {
            kept.insert(*allowed_key, value);
        }
    }
    Ok(CleanEvent {
        name,
        dropped: entries.len() - kept.len(),
        context: kept,
        device_id,
    })
}

/// A hyphenated UUID, lower-cased: anonymous, and nothing else fits in it.
pub fn parse_device_id(raw: &str) -> Result<String, InvalidEvent> {
    if raw.len() != DEVICE_ID_LEN {
        return Err(InvalidEvent::InvalidDeviceId);
    }
    uuid::Uuid::parse_str(raw)
        .map(|id| id.hyphenated().to_string())
        .map_err(|_| InvalidEvent::InvalidDeviceId)
}

/// Short strings (or booleans) of letters, digits and `-_./:` only.
fn clean_value(value: &Value, max_len: usize) -> Option<String> {
    let text = match value {
        Value::String(text) => text.clone(),
        Value::Bool(flag) => flag.to_string(),
        _ => return None,
    };
    let fits = !text.is_empty()
        && text.len() <= max_len
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:".contains(c));
    fits.then_some(text)
}

/// Why an event carrying this wallet's session is not stored at all: a restriction of
/// processing or an objection to analytics (policy section 6). Events without a session
/// (another device, signed out) cannot be linked to the person and are unaffected.
pub fn withheld_for(wallet: &crate::wallets::Wallet) -> Option<&'static str> {
    if wallet.restricted {
        Some("restricted")
    } else if wallet.analytics_objected {
        Some("objected")
    } else {
        None
    }
}

/// A stored event as export shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub event_id: String,
    pub name: String,
    pub context: BTreeMap<String, String>,
    pub device_id: String,
    pub wallet_email: Option<String>,
    pub occurred_at: UnixSeconds,
    pub ttl: UnixSeconds,
}

#[derive(Clone, Debug)]
pub struct AnalyticsEvents {
    client: Client,
    table: String,
}

impl AnalyticsEvents {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// Stores `event`, with the wallet email when the person is signed in.
    pub async fn record(
        &self,
        event: &CleanEvent,
        wallet_email: Option<&EmailAddress>,
        now: UnixSeconds,
    ) -> Result<String, StoreError> {
        let event_id = uuid::Uuid::new_v4().to_string();
        let context: std::collections::HashMap<String, AttributeValue> = event
            .context
            .iter()
            .map(|(key, value)| ((*key).to_owned(), s(value.as_str())))
            .collect();
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("event_id", s(&event_id))
            .item("name", s(event.name))
            .item("context", AttributeValue::M(context))
            .item("device_id", s(&event.device_id))
            .item("occurred_at", n(now))
            .item("ttl", n(now + TTL_SECONDS));
        if let Some(email) = wallet_email {
            put = put.item("wallet_email", s(email.as_str()));
        }
        put.send()
            .await
            .map_err(|error| StoreError::from_sdk("PutItem", &self.table, &error))?;
        Ok(event_id)
    }

    /// Re-points the unexpired events recorded under `old` to `new` after a change of email,
    /// so export and erasure by the new address find them. Updates run `REPOINT_CHUNK` at a
    /// time and stop after `max` events (an API request has seconds, not minutes); events
    /// beyond that keep the old address until they expire. Returns how many moved.
    pub async fn repoint(
        &self,
        old: &EmailAddress,
        new: &EmailAddress,
        now: UnixSeconds,
        max: usize,
    ) -> Result<usize, StoreError> {
        const REPOINT_CHUNK: usize = 25;
        let mut moved = 0;
        let mut seen = 0;
        let mut start = None;
        // A page at a time: memory stays flat however many events there are.
        while seen < max {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .index_name("by-email")
                .key_condition_expression("wallet_email = :old")
                .filter_expression("#ttl > :now")
                .expression_attribute_names("#ttl", "ttl")
                .expression_attribute_values(":old", s(old.as_str()))
                .expression_attribute_values(":now", n(now))
                .limit(i32::try_from(REPOINT_CHUNK * 8).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|error| StoreError::from_sdk("Query", &self.table, &error))?;
            let ids: Vec<String> = output
                .items()
                .iter()
                .filter_map(|item| get_s(item, "event_id").map(str::to_owned))
                .take(max - seen)
                .collect();
            seen += ids.len();
            for chunk in ids.chunks(REPOINT_CHUNK) {
                let updates = chunk.iter().map(|id| {
                    self.client
                        .update_item()
                        .table_name(&self.table)
                        .key("event_id", s(id))
                        .update_expression("SET wallet_email = :new")
                        .condition_expression("wallet_email = :old")
                        .expression_attribute_values(":new", s(new.as_str()))
                        .expression_attribute_values(":old", s(old.as_str()))
                        .send()
                });
                for result in futures_util::future::join_all(updates).await {
                    match result {
                        Ok(_) => moved += 1,
                        // Moved already (a retry) or gone (expired, erased): nothing to do.
                        Err(error) if crate::store::is_condition_failed(&error) => {}
                        Err(error) => {
                            return Err(StoreError::from_sdk("UpdateItem", &self.table, &error));
                        }
                    }
                }
            }
            start = output.last_evaluated_key().cloned();
            if start.is_none() {
                break;
            }
        }
        Ok(moved)
    }

    /// The unexpired events of a device, oldest first (export, erasure).
    pub async fn for_device(
        &self,
        device_id: &str,
        now: UnixSeconds,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        self.query("by-device", "device_id", device_id, now).await
    }

    /// The unexpired events recorded while `email` was signed in, oldest first.
    pub async fn for_email(
        &self,
        email: &EmailAddress,
        now: UnixSeconds,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        self.query("by-email", "wallet_email", email.as_str(), now)
            .await
    }

    async fn query(
        &self,
        index: &str,
        attribute: &str,
        value: &str,
        now: UnixSeconds,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression("#key = :value")
            // TTL deletes late: an expired event is gone as far as anyone can see.
            .filter_expression("#ttl > :now")
            .expression_attribute_names("#key", attribute)
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":value", s(value))
            .expression_attribute_values(":now", n(now));
        let mut events = Vec::new();
        for item in &query_all(query, &self.table).await? {
            events.push(self.stored(item)?);
        }
        Ok(events)
    }

    fn stored(&self, item: &Item) -> Result<StoredEvent, StoreError> {
        let text =
            |name: &'static str| require(get_s(item, name).map(str::to_owned), &self.table, name);
        let context = item
            .get("context")
            .and_then(|value| value.as_m().ok())
            .map(|map| {
                map.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_s().ok()?.clone())))
                    .collect()
            })
            .unwrap_or_default();
        Ok(StoredEvent {
            event_id: text("event_id")?,
            name: text("name")?,
            context,
            device_id: text("device_id")?,
            wallet_email: get_s(item, "wallet_email").map(str::to_owned),
            occurred_at: require(get_n(item, "occurred_at"), &self.table, "occurred_at")?,
            ttl: require(get_n(item, "ttl"), &self.table, "ttl")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DEVICE: &str = "6F1C2A9E-3B7D-4C55-9E2A-0D4B8F1A7C33";

    #[test]
    fn keeps_only_the_events_allowed_context() {
        let event = clean(
            "style_selected",
            Some(&json!({
                "style": "chibi",
                "page": "/create",
                "balance": "12",
                "credits": 12,
                "product": "stickers",
            })),
            DEVICE,
        )
        .unwrap();
        assert_eq!(event.name, "style_selected");
        assert_eq!(
            event.context,
            BTreeMap::from([
                ("page", "/create".to_owned()),
                ("style", "chibi".to_owned())
            ])
        );
        assert_eq!(event.dropped, 3);
        assert_eq!(event.device_id, DEVICE.to_lowercase());
    }

    #[test]
    fn drops_values_that_are_long_nested_or_outside_the_charset() {
        let event = clean(
            "page_viewed",
            Some(&json!({
                "page": "data:image/png;base64,iVBORw0KGgo=",
                "locale": "ja",
            })),
            DEVICE,
        )
        .unwrap();
        assert_eq!(event.context, BTreeMap::from([("locale", "ja".to_owned())]));
        for bad in [
            json!("yui@example.com"),
            json!("a".repeat(129)),
            json!({"nested": "x"}),
            json!(["x"]),
            json!(3),
            json!(""),
            json!("two words"),
        ] {
            let event = clean("page_viewed", Some(&json!({ "page": bad })), DEVICE).unwrap();
            assert!(event.context.is_empty(), "{bad}");
        }
    }

    #[test]
    fn refuses_unknown_names_bad_device_ids_and_non_object_context() {
        assert_eq!(
            clean("balance_checked", None, DEVICE),
            Err(InvalidEvent::UnknownName)
        );
        for device in [
            "",
            "not-a-uuid",
            "6f1c2a9e3b7d4c559e2a0d4b8f1a7c33",
            "yui@example.com",
        ] {
            assert_eq!(
                clean("signed_in", None, device),
                Err(InvalidEvent::InvalidDeviceId),
                "{device}"
            );
        }
        assert_eq!(
            clean("signed_in", Some(&json!("x")), DEVICE),
            Err(InvalidEvent::ContextNotAnObject)
        );
    }
}
