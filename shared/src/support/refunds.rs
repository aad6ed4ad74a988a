//! Refund requests from the public form.
//!
//! Data class "support request (refund)": email, optional order id, reason, time, status.
//! No TTL: refunds and disputes come back months later; removed with the erasure request.
//! Found from the email by the `by-email` index.
//!
//! A client retry must not open a second request: with an `Idempotency-Key` the request id
//! is derived from (email, key), and the item is written with a conditional put, so the
//! retry finds the first request instead of writing (and emailing) again.

use aws_sdk_dynamodb::Client;
use sha2::{Digest, Sha256};

use super::char_len;
use crate::clock::UnixSeconds;
use crate::email::EmailAddress;
use crate::store::{StoreError, get_n, get_s, is_condition_failed, n, query_all, require, s};

pub const MAX_REASON_CHARS: usize = 2000;
pub const MAX_ORDER_ID_LEN: usize = 64;
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidRefundRequest {
    #[error("reason must be 1 to {MAX_REASON_CHARS} characters")]
    Reason,
    #[error("order_id must be at most {MAX_ORDER_ID_LEN} letters, digits, '-' or '_'")]
    OrderId,
    #[error("Idempotency-Key must be 8 to {MAX_IDEMPOTENCY_KEY_LEN} letters, digits, '-' or '_'")]
    IdempotencyKey,
}

impl InvalidRefundRequest {
    pub fn code(self) -> &'static str {
        match self {
            Self::Reason => "invalid_reason",
            Self::OrderId => "invalid_order_id",
            Self::IdempotencyKey => "invalid_idempotency_key",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRequest {
    pub request_id: String,
    pub email: EmailAddress,
    pub order_id: Option<String>,
    pub reason: String,
    pub locale: crate::locale::Locale,
    pub created_at: UnixSeconds,
}

impl RefundRequest {
    /// Validates the form's fields; `idempotency_key` fixes the id for retries.
    pub fn new(
        email: EmailAddress,
        order_id: Option<&str>,
        reason: &str,
        idempotency_key: Option<&str>,
        locale: crate::locale::Locale,
        now: UnixSeconds,
    ) -> Result<Self, InvalidRefundRequest> {
        let reason = reason.trim();
        if reason.is_empty() || char_len(reason) > MAX_REASON_CHARS {
            return Err(InvalidRefundRequest::Reason);
        }
        let order_id = order_id.map(str::trim).filter(|id| !id.is_empty());
        if order_id.is_some_and(|id| !is_token(id, 1, MAX_ORDER_ID_LEN)) {
            return Err(InvalidRefundRequest::OrderId);
        }
        let request_id = match idempotency_key {
            Some(key) if is_token(key, 8, MAX_IDEMPOTENCY_KEY_LEN) => {
                let digest = Sha256::new()
                    .chain_update(email.as_str())
                    .chain_update([0])
                    .chain_update(key)
                    .finalize();
                format!("rr_{}", &hex::encode(digest)[..32])
            }
            Some(_) => return Err(InvalidRefundRequest::IdempotencyKey),
            None => format!("rr_{}", uuid::Uuid::new_v4().simple()),
        };
        Ok(Self {
            request_id,
            email,
            order_id: order_id.map(str::to_owned),
            reason: reason.to_owned(),
            locale,
            created_at: now,
        })
    }

    /// The short reference the person sees in the confirmation email.
    pub fn reference(&self) -> String {
        self.request_id
            .trim_start_matches("rr_")
            .chars()
            .take(10)
            .collect::<String>()
            .to_uppercase()
    }
}

fn is_token(value: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&value.len())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    New,
    /// The same request (same email and idempotency key) was already recorded.
    Duplicate,
}

/// A stored refund request, as support and export see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRefundRequest {
    pub request_id: String,
    pub order_id: Option<String>,
    pub reason: String,
    pub status: String,
    pub created_at: UnixSeconds,
}

#[derive(Clone, Debug)]
pub struct RefundRequests {
    client: Client,
    table: String,
}

impl RefundRequests {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub async fn record(&self, request: &RefundRequest) -> Result<Recorded, StoreError> {
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("request_id", s(&request.request_id))
            .item("email", s(request.email.as_str()))
            .item("reason", s(&request.reason))
            .item("locale", s(request.locale.as_str()))
            .item("status", s("open"))
            .item("created_at", n(request.created_at))
            .condition_expression("attribute_not_exists(request_id)");
        if let Some(order_id) = &request.order_id {
            put = put.item("order_id", s(order_id));
        }
        match put.send().await {
            Ok(_) => Ok(Recorded::New),
            Err(error) if is_condition_failed(&error) => Ok(Recorded::Duplicate),
            Err(error) => Err(StoreError::from_sdk("PutItem", &self.table, &error)),
        }
    }

    /// Every refund request sent with `email`, oldest first (support, export, erasure).
    pub async fn for_email(
        &self,
        email: &EmailAddress,
    ) -> Result<Vec<StoredRefundRequest>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("by-email")
            .key_condition_expression("email = :email")
            .expression_attribute_values(":email", s(email.as_str()));
        let mut requests = Vec::new();
        for item in &query_all(query, &self.table).await? {
            let text = |name: &'static str| {
                require(get_s(item, name).map(str::to_owned), &self.table, name)
            };
            requests.push(StoredRefundRequest {
                request_id: text("request_id")?,
                order_id: get_s(item, "order_id").map(str::to_owned),
                reason: text("reason")?,
                status: text("status")?,
                created_at: require(get_n(item, "created_at"), &self.table, "created_at")?,
            });
        }
        Ok(requests)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::locale::Locale;

    fn email(raw: &str) -> EmailAddress {
        EmailAddress::parse(raw).unwrap()
    }

    #[test]
    fn validates_reason_and_order_id() {
        let ok = RefundRequest::new(
            email("a@b.co"),
            Some(" ord_12-3 "),
            " too dark ",
            None,
            Locale::En,
            1,
        );
        let ok = ok.unwrap();
        assert_eq!(ok.order_id.as_deref(), Some("ord_12-3"));
        assert_eq!(ok.reason, "too dark");
        let long_ja = "あ".repeat(MAX_REASON_CHARS);
        assert!(RefundRequest::new(email("a@b.co"), None, &long_ja, None, Locale::Ja, 1).is_ok());
        for (order, reason, expected) in [
            (None, "   ", InvalidRefundRequest::Reason),
            (
                None,
                &*"x".repeat(MAX_REASON_CHARS + 1),
                InvalidRefundRequest::Reason,
            ),
            (Some("ord 1"), "r", InvalidRefundRequest::OrderId),
            (Some(&*"o".repeat(65)), "r", InvalidRefundRequest::OrderId),
        ] {
            assert_eq!(
                RefundRequest::new(email("a@b.co"), order, reason, None, Locale::En, 1),
                Err(expected)
            );
        }
    }

    #[test]
    fn an_idempotency_key_fixes_the_id_per_email() {
        let make = |who: &str, key: Option<&str>| {
            RefundRequest::new(email(who), None, "r", key, Locale::En, 1).map(|r| r.request_id)
        };
        assert_eq!(
            make("a@b.co", Some("key-12345")),
            make("a@b.co", Some("key-12345"))
        );
        assert_ne!(
            make("a@b.co", Some("key-12345")),
            make("c@b.co", Some("key-12345"))
        );
        assert_ne!(make("a@b.co", None), make("a@b.co", None));
        assert_eq!(
            make("a@b.co", Some("short")),
            Err(InvalidRefundRequest::IdempotencyKey)
        );
    }
}
