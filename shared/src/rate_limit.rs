//! A DynamoDB-backed rate limiter: atomic counters per key and window, expiring with TTL.
//!
//! A window starts with the first hit on a key and lasts `window` seconds; at most `limit`
//! hits are allowed in it. Counting is a conditional update (`count < limit`), so concurrent
//! Lambdas can never let more through than the limit. Keys hold hashes only (salted IP
//! hashes, keyed email hashes), and items expire when their window ends, well inside the
//! 24-48 hours the privacy policy allows for hashed IPs.

use std::sync::Arc;

use aws_sdk_dynamodb::Client;

use crate::clock::{Clock, UnixSeconds};
use tracing::{error, warn};

use crate::store::{StoreError, get_n, is_condition_failed, n, s};
use crate::web::ApiError;

/// One limit: `limit` hits per `window` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub limit: u32,
    pub window: i64,
}

impl Limit {
    pub const fn per(limit: u32, window: i64) -> Self {
        Self { limit, window }
    }
}

/// A request over its limit, and how long until it would pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    pub retry_after: i64,
}

#[derive(Clone, Debug)]
pub struct RateLimiter {
    client: Client,
    table: String,
    clock: Arc<dyn Clock>,
}

impl RateLimiter {
    pub fn new(client: Client, table: impl Into<String>, clock: Arc<dyn Clock>) -> Self {
        Self {
            client,
            table: table.into(),
            clock,
        }
    }

    /// Counts one hit on `key`. `Ok(Err(Limited))` when the key is over its limit.
    pub async fn hit(&self, key: &str, limit: Limit) -> Result<Result<(), Limited>, StoreError> {
        let now = self.clock.now();
        // Two rounds cover the race where another request opens the window between our
        // increment and our attempt to open it.
        for _ in 0..2 {
            if self.increment_open_window(key, limit, now).await? {
                return Ok(Ok(()));
            }
            if self.open_new_window(key, limit, now).await? {
                return Ok(Ok(()));
            }
        }
        let expires_at = self.window_end(key).await?.unwrap_or(now + 1);
        Ok(Err(Limited {
            retry_after: (expires_at - now).max(1),
        }))
    }

    /// [`hit`](Self::hit) for an API route: a 429 with `Retry-After` when over the limit,
    /// logged by the limit's name (the key's prefix, never the hashed identity in it).
    pub async fn enforce(&self, key: &str, limit: Limit) -> Result<(), ApiError> {
        match self.hit(key, limit).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(limited)) => {
                let purpose = key.split('#').next().unwrap_or_default();
                warn!(
                    limit = purpose,
                    retry_after = limited.retry_after,
                    "rate limited"
                );
                Err(ApiError::rate_limited(limited.retry_after))
            }
            Err(store_error) => {
                error!(error = %store_error, "storage failure");
                Err(ApiError::internal())
            }
        }
    }

    async fn increment_open_window(
        &self,
        key: &str,
        limit: Limit,
        now: UnixSeconds,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(key))
            .update_expression("SET #count = #count + :one")
            .condition_expression("attribute_exists(pk) AND #expires > :now AND #count < :limit")
            .expression_attribute_names("#count", "count")
            .expression_attribute_names("#expires", "expires_at")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":limit", n(i64::from(limit.limit)))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(error) if is_condition_failed(&error) => Ok(false),
            Err(error) => Err(StoreError::from_sdk("UpdateItem", &self.table, &error)),
        }
    }

    async fn open_new_window(
        &self,
        key: &str,
        limit: Limit,
        now: UnixSeconds,
    ) -> Result<bool, StoreError> {
        if limit.limit == 0 {
            return Ok(false);
        }
        let expires_at = now + limit.window;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(key))
            .item("count", n(1))
            .item("expires_at", n(expires_at))
            // DynamoDB deletes expired items within days, not at once: reads ignore
            // expired windows, and retention-cron deletes them within the hour.
            .item("ttl", n(expires_at))
            .item(crate::expiring::ATTRIBUTE, s(crate::expiring::HASHED_KEY))
            .condition_expression("attribute_not_exists(pk) OR #expires <= :now")
            .expression_attribute_names("#expires", "expires_at")
            .expression_attribute_values(":now", n(now))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(error) if is_condition_failed(&error) => Ok(false),
            Err(error) => Err(StoreError::from_sdk("PutItem", &self.table, &error)),
        }
    }

    async fn window_end(&self, key: &str) -> Result<Option<UnixSeconds>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| StoreError::from_sdk("GetItem", &self.table, &error))?;
        Ok(output.item().and_then(|item| get_n(item, "expires_at")))
    }
}
