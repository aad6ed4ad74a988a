//! Items keyed by a hashed IP or a hashed email (rate-limit windows, free-trial address
//! claims) carry a TTL, but DynamoDB's TTL deletion runs late, typically within days, which
//! could outlive the policy's 24-48 hours for hashed IPs. Such items are therefore also
//! listed in a sparse `expiring` index ordered by their `ttl`, and retention-cron deletes
//! whatever has expired every hour, so none outlives its window by more than the hour.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;

use crate::clock::UnixSeconds;
use crate::store::{Item, StoreError, is_condition_failed, n, s};

/// The sparse index (hash `expiry_sweep`, range `ttl`, keys only) on each such table.
pub const INDEX: &str = "expiring";
/// The attribute that puts an item in the index, and its one value.
pub const ATTRIBUTE: &str = "expiry_sweep";
pub const HASHED_KEY: &str = "hashed-key";

/// The attribute pair a writer adds to an item keyed by a hashed IP or email.
pub fn marker() -> (String, AttributeValue) {
    (ATTRIBUTE.to_owned(), s(HASHED_KEY))
}

/// One table swept by key: its name and the attribute names of its primary key.
#[derive(Debug, Clone)]
pub struct SweptTable {
    pub table: String,
    pub key_attributes: Vec<&'static str>,
}

/// Deletes every item of `table` whose `ttl` has passed by `now`. Each delete is conditional
/// on the item still being expired, so a window reopened meanwhile (same key, new `ttl`)
/// stays; two concurrent sweeps just find nothing left to delete.
pub async fn sweep(
    client: &Client,
    swept: &SweptTable,
    now: UnixSeconds,
) -> Result<u64, StoreError> {
    let table = swept.table.as_str();
    let mut deleted = 0;
    let mut start: Option<Item> = None;
    loop {
        let page = client
            .query()
            .table_name(table)
            .index_name(INDEX)
            .key_condition_expression("#sweep = :sweep AND #ttl <= :now")
            .expression_attribute_names("#sweep", ATTRIBUTE)
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":sweep", s(HASHED_KEY))
            .expression_attribute_values(":now", n(now))
            .limit(500)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .map_err(|error| StoreError::from_sdk("Query", table, &error))?;
        for item in page.items() {
            let key: Item = swept
                .key_attributes
                .iter()
                .filter_map(|name| Some(((*name).to_owned(), item.get(*name)?.clone())))
                .collect();
            let result = client
                .delete_item()
                .table_name(table)
                .set_key(Some(key))
                .condition_expression("#ttl <= :now")
                .expression_attribute_names("#ttl", "ttl")
                .expression_attribute_values(":now", n(now))
                .send()
                .await;
            match result {
                Ok(_) => deleted += 1,
                Err(error) if is_condition_failed(&error) => {}
                Err(error) => return Err(StoreError::from_sdk("DeleteItem", table, &error)),
            }
        }
        match page.last_evaluated_key {
            Some(key) if !key.is_empty() => start = Some(key),
            _ => return Ok(deleted),
        }
    }
}
