//! The credit ledger: one entry for every change of a wallet's balance, so the balance is
//! always the sum of the wallet's entries.
//!
//! Data class "transaction record": kept for tax after the wallet is erased, pseudonymous
//! (keyed by wallet id; never the email, never card details). Each entry is written in the
//! same DynamoDB transaction as the balance change it records, so neither exists without
//! the other.

use std::sync::Arc;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};

use crate::clock::Clock;
use crate::store::{Item, StoreError, get_n, get_s, n, query_all, s};

/// Why credits moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerKind {
    /// A paid order added credits.
    Purchase,
    /// A refunded order took credits back.
    Refund,
    /// Credits reserved for a generation.
    Reserve,
    /// Reserved credits given back (blocked, failed or abandoned generation).
    Return,
    /// Credits granted by hand (local seeding, support, tests).
    Grant,
}

impl LedgerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Purchase => "purchase",
            Self::Refund => "refund",
            Self::Reserve => "reserve",
            Self::Return => "return",
            Self::Grant => "grant",
        }
    }
}

/// What a ledger entry is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    Generation(String),
    Order(String),
    /// A free-text reason for a grant (never personal data).
    Note(String),
}

/// Money that moved with the credits, in the currency's minor unit (cents, yen).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Money {
    pub amount: i64,
    pub currency: String,
}

/// One ledger entry before it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub kind: LedgerKind,
    /// Signed change of the balance.
    pub credits: i64,
    pub reference: Reference,
    pub money: Option<Money>,
    /// Credits a refund should have taken back but could not (already spent).
    pub shortfall: i64,
}

impl Entry {
    pub fn new(kind: LedgerKind, credits: i64, reference: Reference) -> Self {
        Self {
            kind,
            credits,
            reference,
            money: None,
            shortfall: 0,
        }
    }
}

/// A stored entry, as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEntry {
    pub at: i64,
    pub kind: String,
    pub credits: i64,
    pub order_id: Option<String>,
    pub generation_id: Option<String>,
    pub amount: Option<i64>,
    pub currency: Option<String>,
    pub shortfall: i64,
}

#[derive(Clone, Debug)]
pub struct Ledger {
    client: Client,
    table: String,
    clock: Arc<dyn Clock>,
}

impl Ledger {
    pub fn new(client: Client, table: impl Into<String>, clock: Arc<dyn Clock>) -> Self {
        Self {
            client,
            table: table.into(),
            clock,
        }
    }

    /// The put of `entry` for the transaction that changes the balance. The sort key is
    /// time-ordered and unique, so two entries never overwrite each other.
    pub fn put(&self, wallet_id: &str, entry: &Entry) -> Result<TransactWriteItem, StoreError> {
        let at = self.clock.now();
        let mut item: Item = [
            ("wallet_id", s(wallet_id)),
            (
                "entry",
                s(format!("{at:011}#{}", uuid::Uuid::new_v4().simple())),
            ),
            ("at", n(at)),
            ("kind", s(entry.kind.as_str())),
            ("credits", n(entry.credits)),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect();
        let (name, value) = match &entry.reference {
            Reference::Generation(id) => ("generation_id", id),
            Reference::Order(id) => ("order_id", id),
            Reference::Note(note) => ("note", note),
        };
        item.insert(name.to_owned(), s(value));
        if let Some(money) = &entry.money {
            item.insert("amount".to_owned(), n(money.amount));
            item.insert("currency".to_owned(), s(&money.currency));
        }
        if entry.shortfall != 0 {
            item.insert("shortfall".to_owned(), n(entry.shortfall));
        }
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(wallet_id)")
            .build()
            .map_err(|error| {
                StoreError::new("TransactWriteItems", &self.table, error.to_string())
            })?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Every entry of the wallet, oldest first (entries of the same second in no set order).
    pub async fn entries(&self, wallet_id: &str) -> Result<Vec<StoredEntry>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("wallet_id = :wallet")
            .expression_attribute_values(":wallet", s(wallet_id))
            .consistent_read(true);
        let mut entries = Vec::new();
        for item in &query_all(query, &self.table).await? {
            entries.push(StoredEntry {
                at: get_n(item, "at").unwrap_or_default(),
                kind: get_s(item, "kind").unwrap_or_default().to_owned(),
                credits: get_n(item, "credits").unwrap_or_default(),
                order_id: get_s(item, "order_id").map(str::to_owned),
                generation_id: get_s(item, "generation_id").map(str::to_owned),
                amount: get_n(item, "amount"),
                currency: get_s(item, "currency").map(str::to_owned),
                shortfall: get_n(item, "shortfall").unwrap_or_default(),
            });
        }
        Ok(entries)
    }

    /// The balance the ledger says the wallet has.
    pub async fn balance(&self, wallet_id: &str) -> Result<i64, StoreError> {
        Ok(self
            .entries(wallet_id)
            .await?
            .iter()
            .map(|e| e.credits)
            .sum())
    }
}
