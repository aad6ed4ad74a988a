//! Wallets: the account behind an email, with its credit balance and language.
//!
//! Data class "wallet": kept while the account is active, erased within 30 days of a
//! deletion request. Two items per wallet in one table: `WALLET#<id>` holds the wallet and
//! `EMAIL#<email>` points to it, so an email maps to exactly one wallet. Both are written in
//! one conditional transaction, so two concurrent first sign-ins create one wallet.
//!
//! Every balance change goes with an entry in the credit ledger (`billing::ledger`), in the
//! same transaction, so the balance is always the sum of the wallet's ledger.
//!
//! The wallet item also holds who the person has been and where they are signed in:
//!
//! - `former_emails` (`[{email, until}]`): every address the wallet had before its current
//!   one. A person is every address their wallet has ever had, so export and erasure find
//!   what was recorded under any of them (`rights::resolve`). Kept with the wallet.
//! - `sessions` (`{<session id>: {issued_at, expires_at}}`): the live sessions. A session
//!   JWT is valid only while its id is here, so signing out, "sign out everywhere", an email
//!   change and the erasure of the wallet end sessions on the server. The check costs no
//!   read of its own: every signed-in request reads this item anyway (`auth::SignedIn`). An
//!   entry ends at sign-out, at its expiry (dropped at the next sign-in), with the wallet.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};

use crate::billing::ledger::{Entry, Ledger, LedgerKind, Reference};
use crate::clock::UnixSeconds;
use crate::email::EmailAddress;
use crate::locale::Locale;
use crate::store::{Item, StoreError, get_n, get_s, n, require, s};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wallet {
    pub id: String,
    pub email: EmailAddress,
    pub credits: i64,
    pub locale: Locale,
    pub created_at: UnixSeconds,
    /// Restriction of processing (policy section 6, `POST /me/restriction`): while set, no
    /// new uploads, analytics or marketing.
    pub restricted: bool,
    /// Objection to analytics (`POST /me/consent`): while set, events are not stored.
    pub analytics_objected: bool,
    /// The addresses the wallet had before `email`, oldest first.
    pub former_emails: Vec<EmailAddress>,
    /// The live sessions by id.
    pub sessions: BTreeMap<String, WalletSession>,
}

/// Live sessions per wallet: enough for every device a person uses; a sign-in beyond it
/// ends the oldest session, so the wallet item stays small (it is read on every request).
pub const MAX_SESSIONS: usize = 20;

/// One signed-in session, as recorded on the wallet (its id is in the session JWT).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletSession {
    pub id: String,
    pub issued_at: UnixSeconds,
    pub expires_at: UnixSeconds,
}

impl WalletSession {
    fn attribute(&self) -> AttributeValue {
        AttributeValue::M(
            [
                ("issued_at".to_owned(), n(self.issued_at)),
                ("expires_at".to_owned(), n(self.expires_at)),
            ]
            .into(),
        )
    }

    fn from_attribute(id: &str, value: &AttributeValue) -> Option<Self> {
        let map = value.as_m().ok()?;
        Some(Self {
            id: id.to_owned(),
            issued_at: get_n(map, "issued_at")?,
            expires_at: get_n(map, "expires_at")?,
        })
    }
}

impl Wallet {
    /// True while the session `id` is one of the wallet's and has not expired.
    pub fn has_session(&self, id: &str, now: UnixSeconds) -> bool {
        self.sessions
            .get(id)
            .is_some_and(|session| session.expires_at > now)
    }

    /// The sessions to drop so that one more fits: the expired ones, then the oldest beyond
    /// `MAX_SESSIONS - 1`.
    fn sessions_to_drop(&self, now: UnixSeconds) -> Vec<String> {
        let (expired, mut live): (Vec<_>, Vec<_>) = self
            .sessions
            .values()
            .partition(|session| session.expires_at <= now);
        live.sort_by_key(|session| (session.issued_at, session.id.clone()));
        let excess = live.len().saturating_sub(MAX_SESSIONS - 1);
        expired
            .into_iter()
            .chain(live.into_iter().take(excess))
            .map(|session| session.id.clone())
            .collect()
    }
}

/// A privacy choice recorded on the wallet item: the flag, the time of its current state
/// (`<flag>_at`) and every change in `<history>` as `{<flag>, at}`, so an export shows when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WalletChoice {
    Restricted,
    AnalyticsObjected,
}

impl WalletChoice {
    pub fn attribute(self) -> &'static str {
        match self {
            Self::Restricted => "restricted",
            Self::AnalyticsObjected => "analytics_objected",
        }
    }

    pub fn stamp(self) -> &'static str {
        match self {
            Self::Restricted => "restricted_at",
            Self::AnalyticsObjected => "analytics_objected_at",
        }
    }

    pub fn history(self) -> &'static str {
        match self {
            Self::Restricted => "restriction_history",
            Self::AnalyticsObjected => "analytics_objection_history",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailMove {
    Moved,
    /// The new address already has a wallet.
    EmailTaken,
    /// The wallet's email is no longer the one the change was asked from (a concurrent
    /// change or an erasure): nothing was written.
    Stale,
}

#[derive(Clone, Debug)]
pub struct Wallets {
    client: Client,
    table: String,
    /// Needed only by code that changes balances; reading and creating wallets need none.
    ledger: Option<Ledger>,
}

fn wallet_key(id: &str) -> String {
    format!("WALLET#{id}")
}

fn email_key(email: &EmailAddress) -> String {
    format!("EMAIL#{}", email.as_str())
}

impl Wallets {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            ledger: None,
        }
    }

    /// The ledger every credit change is recorded in.
    pub fn with_ledger(mut self, ledger: Ledger) -> Self {
        self.ledger = Some(ledger);
        self
    }

    pub fn ledger(&self) -> Option<&Ledger> {
        self.ledger.as_ref()
    }

    pub async fn get(&self, id: &str) -> Result<Option<Wallet>, StoreError> {
        self.get_item(&wallet_key(id))
            .await?
            .map(|item| self.wallet_from(&item))
            .transpose()
    }

    pub async fn find_by_email(&self, email: &EmailAddress) -> Result<Option<Wallet>, StoreError> {
        let Some(pointer) = self.get_item(&email_key(email)).await? else {
            return Ok(None);
        };
        let id = require(get_s(&pointer, "wallet_id"), &self.table, "wallet_id")?;
        self.get(id).await
    }

    /// The wallet of `email`, created with zero credits if it has none yet.
    pub async fn find_or_create(
        &self,
        email: &EmailAddress,
        locale: Locale,
        now: UnixSeconds,
    ) -> Result<Wallet, StoreError> {
        if let Some(wallet) = self.find_by_email(email).await? {
            return Ok(wallet);
        }
        let wallet = Wallet {
            id: uuid::Uuid::new_v4().to_string(),
            email: email.clone(),
            credits: 0,
            locale,
            created_at: now,
            restricted: false,
            analytics_objected: false,
            former_emails: Vec::new(),
            sessions: BTreeMap::new(),
        };
        match self.create(&wallet).await {
            Ok(()) => Ok(wallet),
            // Lost a race with a concurrent first sign-in: theirs is the wallet.
            Err(CreateError::EmailTaken) => {
                let existing = self.find_by_email(email).await?;
                require(existing, &self.table, "wallet for email")
            }
            Err(CreateError::Store(error)) => Err(error),
        }
    }

    /// The writes that take `credits` from a wallet only if it has them, with their ledger
    /// entry, for a transaction that also records what they were reserved for. The balance
    /// can never go below zero, however many requests race.
    pub fn reserve_credits(
        &self,
        wallet_id: &str,
        credits: i64,
        generation_id: &str,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        self.change_credits(
            wallet_id,
            "attribute_exists(pk) AND credits >= :credits",
            &[],
            &Entry::new(
                LedgerKind::Reserve,
                -credits,
                Reference::Generation(generation_id.to_owned()),
            ),
        )
    }

    /// The writes that give reserved `credits` back, with their ledger entry, for a
    /// transaction that also marks the reservation returned (so it happens once).
    pub fn return_credits(
        &self,
        wallet_id: &str,
        credits: i64,
        generation_id: &str,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        self.change_credits(
            wallet_id,
            "attribute_exists(pk)",
            &[],
            &Entry::new(
                LedgerKind::Return,
                credits,
                Reference::Generation(generation_id.to_owned()),
            ),
        )
    }

    /// The balance change of `entry.credits` and the ledger entry recording it, for one
    /// transaction. `condition` guards the wallet update (`:credits` is the absolute
    /// change); `values` are further values it names.
    pub fn change_credits(
        &self,
        wallet_id: &str,
        condition: &str,
        values: &[(&str, aws_sdk_dynamodb::types::AttributeValue)],
        entry: &Entry,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let ledger = self.ledger.as_ref().ok_or_else(|| {
            StoreError::new(
                "TransactWriteItems",
                &self.table,
                "credit change without a ledger (Wallets::with_ledger)",
            )
        })?;
        let (update, amount) = if entry.credits < 0 {
            ("SET credits = credits - :credits", -entry.credits)
        } else {
            ("SET credits = credits + :credits", entry.credits)
        };
        let mut builder = Update::builder()
            .table_name(&self.table)
            .key("pk", s(wallet_key(wallet_id)))
            .update_expression(update)
            .condition_expression(condition)
            .expression_attribute_values(":credits", n(amount));
        for (name, value) in values {
            builder = builder.expression_attribute_values(*name, value.clone());
        }
        let update = builder.build().map_err(|error| {
            StoreError::new("TransactWriteItems", &self.table, error.to_string())
        })?;
        Ok(vec![
            TransactWriteItem::builder().update(update).build(),
            ledger.put(wallet_id, entry)?,
        ])
    }

    /// Grants credits by hand (local seeding, support, tests), with a `grant` ledger entry.
    /// Purchases go through `billing`.
    pub async fn add_credits(&self, wallet_id: &str, credits: i64) -> Result<(), StoreError> {
        self.client
            .transact_write_items()
            .set_transact_items(Some(self.change_credits(
                wallet_id,
                "attribute_exists(pk)",
                &[],
                &Entry::new(
                    LedgerKind::Grant,
                    credits,
                    Reference::Note("granted".to_owned()),
                ),
            )?))
            .send()
            .await
            .map_err(|error| StoreError::from_sdk("TransactWriteItems", &self.table, &error))?;
        Ok(())
    }

    pub async fn set_locale(&self, id: &str, locale: Locale) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(wallet_key(id)))
            .update_expression("SET locale = :locale")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":locale", s(locale.as_str()))
            .send()
            .await
            .map_err(|error| StoreError::from_sdk("UpdateItem", &self.table, &error))?;
        Ok(())
    }

    async fn create(&self, wallet: &Wallet) -> Result<(), CreateError> {
        let put = |item: Item| {
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map(|put| TransactWriteItem::builder().put(put).build())
                .map_err(|error| {
                    StoreError::new("TransactWriteItems", &self.table, error.to_string())
                })
        };
        let pointer: Item = [
            ("pk".to_owned(), s(email_key(&wallet.email))),
            ("wallet_id".to_owned(), s(&wallet.id)),
        ]
        .into();
        let record: Item = [
            ("pk".to_owned(), s(wallet_key(&wallet.id))),
            ("wallet_id".to_owned(), s(&wallet.id)),
            ("email".to_owned(), s(wallet.email.as_str())),
            ("credits".to_owned(), n(wallet.credits)),
            ("locale".to_owned(), s(wallet.locale.as_str())),
            ("created_at".to_owned(), n(wallet.created_at)),
            ("sessions".to_owned(), AttributeValue::M(Default::default())),
        ]
        .into();
        let result = self
            .client
            .transact_write_items()
            .transact_items(put(pointer)?)
            .transact_items(put(record)?)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) => {
                let cancelled = error
                    .as_service_error()
                    .is_some_and(|e| e.is_transaction_canceled_exception());
                if cancelled {
                    Err(CreateError::EmailTaken)
                } else {
                    Err(StoreError::from_sdk("TransactWriteItems", &self.table, &error).into())
                }
            }
        }
    }

    async fn get_item(&self, pk: &str) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| StoreError::from_sdk("GetItem", &self.table, &error))?;
        Ok(output.item)
    }

    fn wallet_from(&self, item: &Item) -> Result<Wallet, StoreError> {
        let table = &self.table;
        let email = require(get_s(item, "email"), table, "email")?;
        Ok(Wallet {
            id: require(get_s(item, "wallet_id"), table, "wallet_id")?.to_owned(),
            email: EmailAddress::parse(email)
                .map_err(|_| StoreError::new("read", table, "wallet holds an invalid email"))?,
            credits: require(get_n(item, "credits"), table, "credits")?,
            locale: get_s(item, "locale")
                .and_then(|l| l.parse().ok())
                .unwrap_or_default(),
            created_at: require(get_n(item, "created_at"), table, "created_at")?,
            restricted: flag(item, WalletChoice::Restricted.attribute()),
            analytics_objected: flag(item, WalletChoice::AnalyticsObjected.attribute()),
            former_emails: item
                .get("former_emails")
                .and_then(|list| list.as_l().ok())
                .into_iter()
                .flatten()
                .filter_map(|entry| {
                    let email = get_s(entry.as_m().ok()?, "email")?;
                    EmailAddress::parse(email).ok()
                })
                .collect(),
            sessions: item
                .get("sessions")
                .and_then(|map| map.as_m().ok())
                .into_iter()
                .flatten()
                .filter_map(|(id, value)| {
                    Some((id.clone(), WalletSession::from_attribute(id, value)?))
                })
                .collect(),
        })
    }

    /// Records a new session on the wallet, dropping the expired ones and, beyond
    /// `MAX_SESSIONS`, the oldest. `wallet` is the wallet as just read (sign-in reads it).
    pub async fn open_session(
        &self,
        wallet: &Wallet,
        session: &WalletSession,
        now: UnixSeconds,
    ) -> Result<(), StoreError> {
        let dropped = wallet.sessions_to_drop(now);
        // Two tries cover a wallet written before sessions existed (no map yet: the first
        // update's condition fails, the whole map is written) racing another sign-in.
        for _ in 0..3 {
            let mut update = self
                .client
                .update_item()
                .table_name(&self.table)
                .key("pk", s(wallet_key(&wallet.id)))
                .condition_expression("attribute_exists(pk) AND attribute_exists(sessions)")
                .expression_attribute_names("#new", &session.id)
                .expression_attribute_values(":session", session.attribute());
            let mut expression = "SET sessions.#new = :session".to_owned();
            if !dropped.is_empty() {
                let names: Vec<String> = (0..dropped.len()).map(|i| format!("#old{i}")).collect();
                for (name, id) in names.iter().zip(&dropped) {
                    update = update.expression_attribute_names(name, id);
                }
                let paths: Vec<String> = names
                    .iter()
                    .map(|name| format!("sessions.{name}"))
                    .collect();
                expression.push_str(&format!(" REMOVE {}", paths.join(", ")));
            }
            match update.update_expression(expression).send().await {
                Ok(_) => return Ok(()),
                Err(error) if crate::store::is_condition_failed(&error) => {}
                Err(error) => return Err(StoreError::from_sdk("UpdateItem", &self.table, &error)),
            }
            let first = self
                .client
                .update_item()
                .table_name(&self.table)
                .key("pk", s(wallet_key(&wallet.id)))
                .update_expression("SET sessions = :sessions")
                .condition_expression("attribute_exists(pk) AND attribute_not_exists(sessions)")
                .expression_attribute_values(
                    ":sessions",
                    AttributeValue::M([(session.id.clone(), session.attribute())].into()),
                )
                .send()
                .await;
            match first {
                Ok(_) => return Ok(()),
                Err(error) if crate::store::is_condition_failed(&error) => {}
                Err(error) => return Err(StoreError::from_sdk("UpdateItem", &self.table, &error)),
            }
        }
        Err(StoreError::new(
            "UpdateItem",
            &self.table,
            "no session opened: the wallet is gone",
        ))
    }

    /// Ends one session (sign-out). Ending a session that is already gone is no error.
    pub async fn close_session(&self, wallet_id: &str, session_id: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(wallet_key(wallet_id)))
            .update_expression("REMOVE sessions.#id")
            .condition_expression("attribute_exists(sessions)")
            .expression_attribute_names("#id", session_id)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // No wallet, or no sessions at all: nothing to end.
            Err(error) if crate::store::is_condition_failed(&error) => Ok(()),
            Err(error) => Err(StoreError::from_sdk("UpdateItem", &self.table, &error)),
        }
    }

    /// Ends every session of the wallet ("sign out everywhere").
    pub async fn close_all_sessions(&self, wallet_id: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(wallet_key(wallet_id)))
            .update_expression("SET sessions = :none")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":none", AttributeValue::M(Default::default()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) if crate::store::is_condition_failed(&error) => Ok(()),
            Err(error) => Err(StoreError::from_sdk("UpdateItem", &self.table, &error)),
        }
    }

    /// The wallet item as stored (for the times of its privacy choices).
    pub async fn item(&self, id: &str) -> Result<Option<Item>, StoreError> {
        self.get_item(&wallet_key(id)).await
    }

    /// Sets a privacy choice, stamping the time and appending `{<flag>, at}` to its history.
    /// Only a real change is written, so repeats add nothing; returns whether it changed.
    pub async fn set_choice(
        &self,
        id: &str,
        choice: WalletChoice,
        value: bool,
        now: UnixSeconds,
    ) -> Result<bool, StoreError> {
        let entry = AttributeValue::M(
            [
                (choice.attribute().to_owned(), AttributeValue::Bool(value)),
                ("at".to_owned(), n(now)),
            ]
            .into(),
        );
        // Never set counts as false: lifting what was never set changes nothing.
        let condition = if value {
            "attribute_exists(pk) AND (attribute_not_exists(#flag) OR #flag = :other)"
        } else {
            "attribute_exists(pk) AND #flag = :other"
        };
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(wallet_key(id)))
            .update_expression(
                "SET #flag = :value, #stamp = :now, \
                 #history = list_append(if_not_exists(#history, :empty), :entry)",
            )
            .condition_expression(condition)
            .expression_attribute_names("#flag", choice.attribute())
            .expression_attribute_names("#stamp", choice.stamp())
            .expression_attribute_names("#history", choice.history())
            .expression_attribute_values(":value", AttributeValue::Bool(value))
            .expression_attribute_values(":other", AttributeValue::Bool(!value))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":empty", AttributeValue::L(vec![]))
            .expression_attribute_values(":entry", AttributeValue::L(vec![entry]))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(error) if crate::store::is_condition_failed(&error) => Ok(false),
            Err(error) => Err(StoreError::from_sdk("UpdateItem", &self.table, &error)),
        }
    }

    /// Moves the wallet from `old` to `new` in one transaction: the old pointer goes (only
    /// if it points to this wallet), the new one is created (only if the address has no
    /// wallet), and the wallet's email changes (only if it is still `old`), `old` joining
    /// its `former_emails`. Every session of the wallet ends; `session` (the caller's new
    /// one) is then the only one (OWASP ASVS: sessions end when a credential changes).
    pub async fn change_email(
        &self,
        id: &str,
        old: &EmailAddress,
        new: &EmailAddress,
        session: &WalletSession,
        now: UnixSeconds,
    ) -> Result<EmailMove, StoreError> {
        let build = |error: aws_sdk_dynamodb::error::BuildError| {
            StoreError::new("TransactWriteItems", &self.table, error.to_string())
        };
        let delete_old = aws_sdk_dynamodb::types::Delete::builder()
            .table_name(&self.table)
            .key("pk", s(email_key(old)))
            .condition_expression("wallet_id = :id")
            .expression_attribute_values(":id", s(id))
            .build()
            .map_err(build)?;
        let put_new = Put::builder()
            .table_name(&self.table)
            .item("pk", s(email_key(new)))
            .item("wallet_id", s(id))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(build)?;
        let update_wallet = Update::builder()
            .table_name(&self.table)
            .key("pk", s(wallet_key(id)))
            .update_expression(
                "SET email = :new, email_changed_at = :now, sessions = :sessions, \
                 former_emails = list_append(if_not_exists(former_emails, :empty), :former)",
            )
            .condition_expression("email = :old")
            .expression_attribute_values(":new", s(new.as_str()))
            .expression_attribute_values(":old", s(old.as_str()))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(
                ":sessions",
                AttributeValue::M([(session.id.clone(), session.attribute())].into()),
            )
            .expression_attribute_values(":empty", AttributeValue::L(vec![]))
            .expression_attribute_values(
                ":former",
                AttributeValue::L(vec![AttributeValue::M(
                    [
                        ("email".to_owned(), s(old.as_str())),
                        ("until".to_owned(), n(now)),
                    ]
                    .into(),
                )]),
            )
            .build()
            .map_err(build)?;
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().delete(delete_old).build())
            .transact_items(TransactWriteItem::builder().put(put_new).build())
            .transact_items(TransactWriteItem::builder().update(update_wallet).build())
            .send()
            .await;
        match result {
            Ok(_) => Ok(EmailMove::Moved),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_transaction_canceled_exception()) =>
            {
                // Which condition failed: the new address's pointer tells (read after the
                // refusal only to choose the answer; nothing is written on it).
                match self.get_item(&email_key(new)).await? {
                    Some(pointer) if get_s(&pointer, "wallet_id") != Some(id) => {
                        Ok(EmailMove::EmailTaken)
                    }
                    _ => Ok(EmailMove::Stale),
                }
            }
            Err(error) => Err(StoreError::from_sdk(
                "TransactWriteItems",
                &self.table,
                &error,
            )),
        }
    }
}

fn flag(item: &Item, name: &str) -> bool {
    item.get(name).and_then(|v| v.as_bool().ok()) == Some(&true)
}

#[derive(Debug, thiserror::Error)]
enum CreateError {
    #[error("the email already has a wallet")]
    EmailTaken,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wallet_with(sessions: &[(&str, UnixSeconds, UnixSeconds)]) -> Wallet {
        Wallet {
            id: "w1".to_owned(),
            email: EmailAddress::parse("ann@example.com").unwrap(),
            credits: 0,
            locale: Locale::default(),
            created_at: 0,
            restricted: false,
            analytics_objected: false,
            former_emails: Vec::new(),
            sessions: sessions
                .iter()
                .map(|(id, issued_at, expires_at)| {
                    let session = WalletSession {
                        id: (*id).to_owned(),
                        issued_at: *issued_at,
                        expires_at: *expires_at,
                    };
                    ((*id).to_owned(), session)
                })
                .collect(),
        }
    }

    #[test]
    fn a_session_is_live_while_listed_and_unexpired() {
        let wallet = wallet_with(&[("s1", 0, 100)]);
        assert!(wallet.has_session("s1", 99));
        assert!(!wallet.has_session("s1", 100), "expired at its end");
        assert!(!wallet.has_session("s2", 0), "not listed: ended");
    }

    #[test]
    fn a_new_session_drops_the_expired_ones_and_the_oldest_beyond_the_cap() {
        let wallet = wallet_with(&[("old", 0, 10), ("live", 5, 100)]);
        assert_eq!(wallet.sessions_to_drop(50), ["old"]);
        let full: Vec<(String, i64, i64)> = (0..MAX_SESSIONS)
            .map(|i| (format!("s{i:02}"), i as i64, 1_000))
            .collect();
        let full: Vec<(&str, i64, i64)> = full
            .iter()
            .map(|(id, a, b)| (id.as_str(), *a, *b))
            .collect();
        assert_eq!(wallet_with(&full).sessions_to_drop(50), ["s00"]);
    }
}
