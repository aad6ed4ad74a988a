//! The lead list: one row per normalized email, with the page that first captured it.
//!
//! Data class "lead list": no TTL (support and billing must reach people years later),
//! removed with the account-deletion request. Marketing opt-in is false unless the person
//! gave it explicitly; capturing an email never opts it in.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;

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
}
