//! Feedback from the widget.
//!
//! Data class "feedback": the message, the page it was sent from, the wallet id when signed
//! in, and an email only if the person typed one to be answered at. No TTL: kept to improve
//! the service until the person's erasure request. Found from the person by the `by-wallet`
//! and `by-email` indexes. The email is not added to the lead list: the policy names the
//! surfaces that feed it, and feedback is not one of them.

use aws_sdk_dynamodb::Client;

use super::char_len;
use crate::clock::UnixSeconds;
use crate::email::EmailAddress;
use crate::store::{StoreError, get_n, get_s, n, query_all, require, s};

pub const MAX_MESSAGE_CHARS: usize = 2000;
pub const MAX_PAGE_LEN: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidFeedback {
    #[error("message must be 1 to {MAX_MESSAGE_CHARS} characters")]
    Message,
    #[error("page must be a path of at most {MAX_PAGE_LEN} characters starting with '/'")]
    Page,
}

impl InvalidFeedback {
    pub fn code(self) -> &'static str {
        match self {
            Self::Message => "invalid_message",
            Self::Page => "invalid_page",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feedback {
    pub feedback_id: String,
    pub message: String,
    pub page: Option<String>,
    pub wallet_id: Option<String>,
    pub email: Option<EmailAddress>,
    pub created_at: UnixSeconds,
}

impl Feedback {
    pub fn new(
        message: &str,
        page: Option<&str>,
        wallet_id: Option<String>,
        email: Option<EmailAddress>,
        now: UnixSeconds,
    ) -> Result<Self, InvalidFeedback> {
        let message = message.trim();
        if message.is_empty() || char_len(message) > MAX_MESSAGE_CHARS {
            return Err(InvalidFeedback::Message);
        }
        let page = page.map(str::trim).filter(|p| !p.is_empty());
        // A path within the app, not a full URL that could carry query-string tokens.
        let valid_page = |p: &str| {
            p.starts_with('/')
                && p.len() <= MAX_PAGE_LEN
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
        };
        if page.is_some_and(|p| !valid_page(p)) {
            return Err(InvalidFeedback::Page);
        }
        Ok(Self {
            feedback_id: uuid::Uuid::new_v4().to_string(),
            message: message.to_owned(),
            page: page.map(str::to_owned),
            wallet_id,
            email,
            created_at: now,
        })
    }
}

#[derive(Clone, Debug)]
pub struct FeedbackStore {
    client: Client,
    table: String,
}

impl FeedbackStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub async fn record(&self, feedback: &Feedback) -> Result<(), StoreError> {
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("feedback_id", s(&feedback.feedback_id))
            .item("message", s(&feedback.message))
            .item("created_at", n(feedback.created_at));
        if let Some(page) = &feedback.page {
            put = put.item("page", s(page));
        }
        // Sparse index keys: written only when present.
        if let Some(wallet_id) = &feedback.wallet_id {
            put = put.item("wallet_id", s(wallet_id));
        }
        if let Some(email) = &feedback.email {
            put = put.item("email", s(email.as_str()));
        }
        put.send()
            .await
            .map(|_| ())
            .map_err(|error| StoreError::from_sdk("PutItem", &self.table, &error))
    }

    /// Feedback sent while signed in to `wallet_id` (export, erasure).
    pub async fn for_wallet(&self, wallet_id: &str) -> Result<Vec<Feedback>, StoreError> {
        self.query("by-wallet", "wallet_id", wallet_id).await
    }

    /// Feedback that gave `email` to be answered at (export, erasure).
    pub async fn for_email(&self, email: &EmailAddress) -> Result<Vec<Feedback>, StoreError> {
        self.query("by-email", "email", email.as_str()).await
    }

    async fn query(
        &self,
        index: &str,
        attribute: &str,
        value: &str,
    ) -> Result<Vec<Feedback>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression("#key = :value")
            .expression_attribute_names("#key", attribute)
            .expression_attribute_values(":value", s(value));
        let mut found = Vec::new();
        for item in &query_all(query, &self.table).await? {
            let text = |name: &'static str| {
                require(get_s(item, name).map(str::to_owned), &self.table, name)
            };
            found.push(Feedback {
                feedback_id: text("feedback_id")?,
                message: text("message")?,
                page: get_s(item, "page").map(str::to_owned),
                wallet_id: get_s(item, "wallet_id").map(str::to_owned),
                email: get_s(item, "email").and_then(|e| EmailAddress::parse(e).ok()),
                created_at: require(get_n(item, "created_at"), &self.table, "created_at")?,
            });
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_the_message_and_the_page() {
        let ok = Feedback::new(" love it ", Some("/pricing"), None, None, 1).unwrap();
        assert_eq!(ok.message, "love it");
        assert!(Feedback::new(&"あ".repeat(MAX_MESSAGE_CHARS), None, None, None, 1).is_ok());
        assert_eq!(
            Feedback::new(&"x".repeat(MAX_MESSAGE_CHARS + 1), None, None, None, 1),
            Err(InvalidFeedback::Message)
        );
        assert_eq!(
            Feedback::new("  ", None, None, None, 1),
            Err(InvalidFeedback::Message)
        );
        for page in [
            "pricing",
            "/p?token=abc",
            "https://x.y/p",
            &*format!("/{}", "a".repeat(200)),
        ] {
            assert_eq!(
                Feedback::new("m", Some(page), None, None, 1),
                Err(InvalidFeedback::Page),
                "{page}"
            );
        }
    }
}
