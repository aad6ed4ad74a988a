//! The lead list: one row per normalized email, with the page that first captured it.
//!
//! Data class "lead list": no TTL (support and billing must reach people years later),
//! removed with the account-deletion request. Marketing opt-in is false unless the person
//! gave it explicitly; capturing an email never opts it in.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};

use crate::clock::UnixSeconds;
use crate::email::EmailAddress;
use crate::store::{StoreError, is_condition_failed, n, s};

/// The surfaces that capture an email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeadSource {
    SignIn,
    TrialSaveLink,
    RefundForm,
}

impl LeadSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignIn => "sign-in",
            Self::TrialSaveLink => "trial-save-link",
            Self::RefundForm => "refund-form",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Captured {
    /// The first capture of this email: the row was written with this source.
    New,
    /// Already on the list; its first source is kept unchanged.
    AlreadyListed,
}

#[derive(Clone, Debug)]
pub struct LeadList {
    client: Client,
    table: String,
}

impl LeadList {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// Records `email` once. A conditional put keeps the first source even when two
    /// surfaces capture the same email at the same moment.
    pub async fn capture(
        &self,
        email: &EmailAddress,
        source: LeadSource,
        now: UnixSeconds,
    ) -> Result<Captured, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("email", s(email.as_str()))
            .item("first_source", s(source.as_str()))
            .item("first_captured_at", n(now))
            .item("marketing_opt_in", AttributeValue::Bool(false))
            .condition_expression("attribute_not_exists(email)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(Captured::New),
            Err(error) if is_condition_failed(&error) => Ok(Captured::AlreadyListed),
            Err(error) => Err(StoreError::from_sdk("PutItem", &self.table, &error)),
        }
    }

    /// Moves `old`'s row to `new` after a change of email: the row keeps its first source,
    /// first capture time and consents (the earlier capture wins if `new` was already
    /// listed), and `old`'s row goes, in one transaction.
    pub async fn move_to(
        &self,
        old: &EmailAddress,
        new: &EmailAddress,
        now: UnixSeconds,
    ) -> Result<(), StoreError> {
        let get = |email: &EmailAddress| {
            self.client
                .get_item()
                .table_name(&self.table)
                .key("email", s(email.as_str()))
                .consistent_read(true)
                .send()
        };
        let from = get(old)
            .await
            .map_err(|error| StoreError::from_sdk("GetItem", &self.table, &error))?
            .item;
        let Some(mut moved) = from else {
            // Nothing to carry over: the new address is listed as a sign-in.
            self.capture(new, LeadSource::SignIn, now).await?;
            return Ok(());
        };
        let existing = get(new)
            .await
            .map_err(|error| StoreError::from_sdk("GetItem", &self.table, &error))?
            .item;
        if let Some(existing) = existing {
            let first = |item: &crate::store::Item| crate::store::get_n(item, "first_captured_at");
            if first(&existing) < first(&moved) {
                for name in ["first_source", "first_captured_at"] {
                    if let Some(value) = existing.get(name) {
                        moved.insert(name.to_owned(), value.clone());
                    }
                }
            }
        }
        moved.insert("email".to_owned(), s(new.as_str()));
        moved.insert("email_changed_at".to_owned(), n(now));
        let put = aws_sdk_dynamodb::types::Put::builder()
            .table_name(&self.table)
            .set_item(Some(moved))
            .build()
            .map_err(|error| {
                StoreError::new("TransactWriteItems", &self.table, error.to_string())
            })?;
        let delete = aws_sdk_dynamodb::types::Delete::builder()
            .table_name(&self.table)
            .key("email", s(old.as_str()))
            .build()
            .map_err(|error| {
                StoreError::new("TransactWriteItems", &self.table, error.to_string())
            })?;
        self.client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(put).build())
            .transact_items(TransactWriteItem::builder().delete(delete).build())
            .send()
            .await
            .map_err(|error| StoreError::from_sdk("TransactWriteItems", &self.table, &error))?;
        Ok(())
    }
}
