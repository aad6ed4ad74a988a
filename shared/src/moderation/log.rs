//! The moderation log: per uploaded photo, the decision, the per-category scores, the photo
//! URL, the model and provider, and the time. Data class "moderation log": 90 days.
//!
//! DynamoDB's TTL deletes expired items up to a couple of days late, so the TTL is set two
//! days early: the item is gone by day 90 at the latest. Reads treat an expired item as
//! absent. One entry per photo (a conditional put), so a duplicate event reuses the first
//! decision instead of asking the model again.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;

use crate::clock::UnixSeconds;
use crate::providers::{Decision, ModerationVerdict};
use crate::store::{Item, StoreError, get_n, get_s, is_condition_failed, n, query_all, require, s};

pub const RETENTION_DAYS: i64 = 90;
/// How late DynamoDB's TTL deletion may run (AWS: typically within a few days; we allow 2).
const TTL_LAG_SECONDS: i64 = 2 * 24 * 3600;
const DAY: i64 = 24 * 3600;

#[derive(Debug, Clone, PartialEq)]
pub struct LogEntry {
    pub generation_id: String,
    pub wallet_id: String,
    pub decision: Decision,
    pub scores: BTreeMap<String, f64>,
    pub flagged_categories: Vec<String>,
    /// Where the photo is: `s3://bucket/key`.
    pub photo_url: String,
    pub model: String,
    pub provider: String,
    pub limitation: Option<String>,
    pub decided_at: UnixSeconds,
}

impl LogEntry {
    pub fn new(
        generation_id: &str,
        wallet_id: &str,
        photo_url: String,
        verdict: &ModerationVerdict,
        now: UnixSeconds,
    ) -> Self {
        Self {
            generation_id: generation_id.to_owned(),
            wallet_id: wallet_id.to_owned(),
            decision: verdict.decision,
            scores: verdict.scores.clone(),
            flagged_categories: verdict.flagged_categories.clone(),
            photo_url,
            model: verdict.model.clone(),
            provider: provider_name(verdict),
            limitation: verdict.limitation.map(str::to_owned),
            decided_at: now,
        }
    }

    /// When DynamoDB may start deleting the entry.
    pub fn ttl(&self) -> UnixSeconds {
        self.decided_at + RETENTION_DAYS * DAY - TTL_LAG_SECONDS
    }
}

fn provider_name(verdict: &ModerationVerdict) -> String {
    serde_json::to_value(verdict.provider)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[derive(Clone, Debug)]
pub struct ModerationLog {
    client: Client,
    table: String,
}

impl ModerationLog {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// Writes `entry` unless the photo already has one; returns the entry that stands.
    pub async fn record(&self, entry: LogEntry) -> Result<LogEntry, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(&entry)))
            .condition_expression("attribute_not_exists(generation_id)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(entry),
            Err(error) if is_condition_failed(&error) => {
                let existing = self.get(&entry.generation_id, entry.decided_at).await?;
                require(existing, &self.table, "moderation log entry")
            }
            Err(error) => Err(StoreError::from_sdk("PutItem", &self.table, &error)),
        }
    }

    /// The entry for a photo, unless it has expired (DynamoDB may not have deleted it yet).
    pub async fn get(
        &self,
        generation_id: &str,
        now: UnixSeconds,
    ) -> Result<Option<LogEntry>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("generation_id", s(generation_id))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::from_sdk("GetItem", &self.table, &e))?;
        let Some(item) = output.item else {
            return Ok(None);
        };
        if get_n(&item, "ttl").is_some_and(|ttl| ttl <= now) {
            return Ok(None);
        }
        self.read_item(&item).map(Some)
    }

    /// The wallet's entries that have not expired (`by-wallet` index; export and erasure
    /// find the person's entries here). DynamoDB may not have deleted an expired one yet,
    /// so the query filters on `ttl` itself.
    pub async fn list_for_wallet(
        &self,
        wallet_id: &str,
        now: UnixSeconds,
    ) -> Result<Vec<LogEntry>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("by-wallet")
            .key_condition_expression("wallet_id = :wallet")
            .filter_expression("#ttl > :now")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":wallet", s(wallet_id))
            .expression_attribute_values(":now", n(now));
        let mut entries = Vec::new();
        for item in &query_all(query, &self.table).await? {
            entries.push(self.read_item(item)?);
        }
        Ok(entries)
    }

    fn read_item(&self, item: &Item) -> Result<LogEntry, StoreError> {
        let table = &self.table;
        let decision = match get_s(item, "decision") {
            Some("allowed") => Decision::Allowed,
            Some("blocked") => Decision::Blocked,
            _ => {
                return Err(StoreError::new(
                    "read",
                    table,
                    "entry lacks a valid decision",
                ));
            }
        };
        let scores = match item.get("scores") {
            Some(AttributeValue::M(map)) => map
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_n().ok()?.parse().ok()?)))
                .collect(),
            _ => BTreeMap::new(),
        };
        let flagged_categories = match item.get("flagged_categories") {
            Some(AttributeValue::L(list)) => {
                list.iter().filter_map(|v| v.as_s().ok().cloned()).collect()
            }
            _ => Vec::new(),
        };
        Ok(LogEntry {
            generation_id: require(get_s(item, "generation_id"), table, "generation_id")?
                .to_owned(),
            wallet_id: require(get_s(item, "wallet_id"), table, "wallet_id")?.to_owned(),
            decision,
            scores,
            flagged_categories,
            photo_url: require(get_s(item, "photo_url"), table, "photo_url")?.to_owned(),
            model: require(get_s(item, "model"), table, "model")?.to_owned(),
            provider: require(get_s(item, "provider"), table, "provider")?.to_owned(),
            limitation: get_s(item, "limitation").map(str::to_owned),
            decided_at: require(get_n(item, "decided_at"), table, "decided_at")?,
        })
    }
}

fn to_item(entry: &LogEntry) -> Item {
    let decision = match entry.decision {
        Decision::Allowed => "allowed",
        Decision::Blocked => "blocked",
    };
    let scores: HashMap<String, AttributeValue> = entry
        .scores
        .iter()
        .map(|(category, score)| (category.clone(), AttributeValue::N(score.to_string())))
        .collect();
    let mut item: Item = [
        ("generation_id", s(&entry.generation_id)),
        ("wallet_id", s(&entry.wallet_id)),
        ("decision", s(decision)),
        ("scores", AttributeValue::M(scores)),
        (
            "flagged_categories",
            AttributeValue::L(entry.flagged_categories.iter().map(s).collect()),
        ),
        ("photo_url", s(&entry.photo_url)),
        ("model", s(&entry.model)),
        ("provider", s(&entry.provider)),
        ("decided_at", n(entry.decided_at)),
        ("ttl", n(entry.ttl())),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value))
    .collect();
    if let Some(limitation) = &entry.limitation {
        item.insert("limitation".to_owned(), s(limitation));
    }
    item
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ttl_lands_two_days_before_day_90() {
        let entry = LogEntry {
            generation_id: "g".into(),
            wallet_id: "w".into(),
            decision: Decision::Allowed,
            scores: BTreeMap::new(),
            flagged_categories: vec![],
            photo_url: "s3://b/k".into(),
            model: "m".into(),
            provider: "p".into(),
            limitation: None,
            decided_at: 1_000,
        };
        assert_eq!(entry.ttl(), 1_000 + 88 * DAY);
    }
}
