//! The privacy-request records (`PrivacyRequestsTable`), one item per person and kind:
//!
//! - `EXPORT#<email hash>`: the latest export request; `pending` until its archive is
//!   uploaded, then `ready` with the archive key and its expiry. Found by expiry through
//!   the sparse `exports-expiring` index (retention removes expired archives).
//! - `ERASURE#<email hash>`: a pending erasure, with the email (needed to find the lead row
//!   and to send the closing email) until it is carried out. Found through the sparse
//!   `erasures-due` index, oldest first.
//! - `ERASED#<request id>`: the proof of a completed erasure: times and counts, no email,
//!   no hash, no wallet id.
//!
//! Every transition is a conditional write, so repeated requests, redelivered jobs and two
//! retention runs at once cannot do a step twice.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};

use crate::clock::UnixSeconds;
use crate::email::EmailAddress;
use crate::locale::Locale;
use crate::store::{Item, StoreError, get_n, get_s, is_condition_failed, n, s};

const ERASURES_DUE: &str = "erasures-due";
const EXPORTS_EXPIRING: &str = "exports-expiring";
/// A closing email claimed by a run that then crashed may be claimed again after this.
const CLOSING_CLAIM_SECONDS: i64 = 900;

pub fn export_pk(email_hash: &str) -> String {
    format!("EXPORT#{email_hash}")
}

pub fn export_prefix(email_hash: &str) -> String {
    format!("exports/{email_hash}/")
}

pub fn export_key(email_hash: &str, request_id: &str) -> String {
    format!("exports/{email_hash}/{request_id}.zip")
}

pub fn erasure_pk(email_hash: &str) -> String {
    format!("ERASURE#{email_hash}")
}

/// Who asked, as recorded with a request.
#[derive(Debug, Clone)]
pub struct Requester {
    pub email: EmailAddress,
    pub email_hash: String,
    pub wallet_id: Option<String>,
    pub locale: Locale,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportStatus {
    Pending,
    Ready,
}

#[derive(Debug, Clone)]
pub struct ExportRecord {
    pub request_id: String,
    pub requester: Requester,
    pub status: ExportStatus,
    pub requested_at: UnixSeconds,
    pub expires_at: Option<UnixSeconds>,
    pub emailed: bool,
}

#[derive(Debug, Clone)]
pub struct ErasureRecord {
    pub request_id: String,
    pub requester: Requester,
    pub requested_at: UnixSeconds,
    pub acknowledged: bool,
}

#[derive(Clone, Debug)]
pub struct PrivacyRequests {
    client: Client,
    table: String,
}

impl PrivacyRequests {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    fn err<E, R>(
        &self,
        operation: &'static str,
        error: &aws_sdk_dynamodb::error::SdkError<E, R>,
    ) -> StoreError
    where
        E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        StoreError::from_sdk(operation, &self.table, error)
    }

    fn requester_attributes(requester: &Requester, item: &mut Item) {
        item.insert("email".into(), s(requester.email.as_str()));
        item.insert("email_hash".into(), s(&requester.email_hash));
        item.insert("locale".into(), s(requester.locale.as_str()));
        if let Some(wallet) = &requester.wallet_id {
            item.insert("wallet_id".into(), s(wallet));
        }
    }

    fn requester_from(&self, item: &Item) -> Result<Requester, StoreError> {
        let email = get_s(item, "email")
            .and_then(|e| EmailAddress::parse(e).ok())
            .ok_or_else(|| StoreError::new("read", &self.table, "request without a valid email"))?;
        Ok(Requester {
            email,
            email_hash: get_s(item, "email_hash").unwrap_or_default().to_owned(),
            wallet_id: get_s(item, "wallet_id").map(str::to_owned),
            locale: get_s(item, "locale")
                .and_then(|l| l.parse().ok())
                .unwrap_or_default(),
        })
    }

    async fn get(&self, pk: &str) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.err("GetItem", &e))?;
        Ok(output.item)
    }

    // ---- exports ------------------------------------------------------------------------

    /// Records an export request; while one is pending for the person, that one is the
    /// answer (same id), so repeated clicks make one archive.
    pub async fn start_export(
        &self,
        requester: &Requester,
        now: UnixSeconds,
    ) -> Result<ExportRecord, StoreError> {
        let request_id = uuid::Uuid::new_v4().to_string();
        let mut item: Item = [
            ("pk".to_owned(), s(export_pk(&requester.email_hash))),
            ("request_id".to_owned(), s(&request_id)),
            ("status".to_owned(), s("pending")),
            ("requested_at".to_owned(), n(now)),
        ]
        .into();
        Self::requester_attributes(requester, &mut item);
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk) OR #status <> :pending")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":pending", s("pending"))
            .send()
            .await;
        match result {
            Ok(_) => Ok(ExportRecord {
                request_id,
                requester: requester.clone(),
                status: ExportStatus::Pending,
                requested_at: now,
                expires_at: None,
                emailed: false,
            }),
            Err(error) if is_condition_failed(&error) => self
                .export(&requester.email_hash)
                .await?
                .ok_or_else(|| StoreError::new("PutItem", &self.table, "export record vanished")),
            Err(error) => Err(self.err("PutItem", &error)),
        }
    }

    pub async fn export(&self, email_hash: &str) -> Result<Option<ExportRecord>, StoreError> {
        let Some(item) = self.get(&export_pk(email_hash)).await? else {
            return Ok(None);
        };
        Ok(Some(ExportRecord {
            request_id: get_s(&item, "request_id").unwrap_or_default().to_owned(),
            requester: self.requester_from(&item)?,
            status: if get_s(&item, "status") == Some("ready") {
                ExportStatus::Ready
            } else {
                ExportStatus::Pending
            },
            requested_at: get_n(&item, "requested_at").unwrap_or_default(),
            expires_at: get_n(&item, "expires_at"),
            emailed: item.get("emailed") == Some(&AttributeValue::Bool(true)),
        }))
    }

    /// The archive is uploaded: the record says where and until when. False when the
    /// request is no longer the pending one (replaced, or erased meanwhile).
    pub async fn export_ready(
        &self,
        email_hash: &str,
        request_id: &str,
        expires_at: UnixSeconds,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(export_pk(email_hash)))
            .update_expression(
                "SET #status = :ready, archive_key = :key, expires_at = :expires, archive_state = :live",
            )
            .condition_expression("request_id = :id AND #status = :pending")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":ready", s("ready"))
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":key", s(export_key(email_hash, request_id)))
            .expression_attribute_values(":expires", n(expires_at))
            .expression_attribute_values(":live", s("live"))
            .expression_attribute_values(":id", s(request_id))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(error) if is_condition_failed(&error) => Ok(false),
            Err(error) => Err(self.err("UpdateItem", &error)),
        }
    }

    pub async fn export_emailed(
        &self,
        email_hash: &str,
        request_id: &str,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(export_pk(email_hash)))
            .update_expression("SET emailed = :yes")
            .condition_expression("request_id = :id")
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .expression_attribute_values(":id", s(request_id))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) if is_condition_failed(&error) => Ok(()),
            Err(error) => Err(self.err("UpdateItem", &error)),
        }
    }

    /// Ready exports whose archive expired before `now`, oldest first: (email hash,
    /// request id). Through the sparse index, never a scan.
    pub async fn expired_exports(
        &self,
        now: UnixSeconds,
        limit: i32,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(EXPORTS_EXPIRING)
            .key_condition_expression("archive_state = :live AND expires_at <= :now")
            .expression_attribute_values(":live", s("live"))
            .expression_attribute_values(":now", n(now))
            .limit(limit)
            .send()
            .await
            .map_err(|e| self.err("Query", &e))?;
        Ok(output
            .items()
            .iter()
            .filter_map(|item| {
                Some((
                    get_s(item, "email_hash")?.to_owned(),
                    get_s(item, "request_id")?.to_owned(),
                ))
            })
            .collect())
    }

    /// Drops an expired export's record, if it is still that request's.
    pub async fn remove_export(
        &self,
        email_hash: &str,
        request_id: &str,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(export_pk(email_hash)))
            .condition_expression("request_id = :id")
            .expression_attribute_values(":id", s(request_id))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) if is_condition_failed(&error) => Ok(()),
            Err(error) => Err(self.err("DeleteItem", &error)),
        }
    }

    // ---- erasures -----------------------------------------------------------------------

    /// Records an erasure request once per person: a repeated request answers with the
    /// pending one.
    pub async fn start_erasure(
        &self,
        requester: &Requester,
        now: UnixSeconds,
    ) -> Result<ErasureRecord, StoreError> {
        let request_id = uuid::Uuid::new_v4().to_string();
        let mut item: Item = [
            ("pk".to_owned(), s(erasure_pk(&requester.email_hash))),
            ("request_id".to_owned(), s(&request_id)),
            ("requested_at".to_owned(), n(now)),
            ("erasure_state".to_owned(), s("pending")),
        ]
        .into();
        Self::requester_attributes(requester, &mut item);
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(ErasureRecord {
                request_id,
                requester: requester.clone(),
                requested_at: now,
                acknowledged: false,
            }),
            Err(error) if is_condition_failed(&error) => {
                let item = self.get(&erasure_pk(&requester.email_hash)).await?;
                let item = item.ok_or_else(|| {
                    StoreError::new("PutItem", &self.table, "erasure record vanished")
                })?;
                self.erasure_from(&item)
            }
            Err(error) => Err(self.err("PutItem", &error)),
        }
    }

    fn erasure_from(&self, item: &Item) -> Result<ErasureRecord, StoreError> {
        Ok(ErasureRecord {
            request_id: get_s(item, "request_id").unwrap_or_default().to_owned(),
            requester: self.requester_from(item)?,
            requested_at: get_n(item, "requested_at").unwrap_or_default(),
            acknowledged: get_n(item, "acknowledged_at").is_some(),
        })
    }

    pub async fn erasure_acknowledged(
        &self,
        email_hash: &str,
        now: UnixSeconds,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(erasure_pk(email_hash)))
            .update_expression("SET acknowledged_at = :now")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":now", n(now))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) if is_condition_failed(&error) => Ok(()),
            Err(error) => Err(self.err("UpdateItem", &error)),
        }
    }

    /// Erasures requested at or before `due_by`, oldest first.
    pub async fn due_erasures(
        &self,
        due_by: UnixSeconds,
        limit: i32,
    ) -> Result<Vec<ErasureRecord>, StoreError> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(ERASURES_DUE)
            .key_condition_expression("erasure_state = :pending AND requested_at <= :due")
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":due", n(due_by))
            .limit(limit)
            .send()
            .await
            .map_err(|e| self.err("Query", &e))?;
        output
            .items()
            .iter()
            .map(|item| self.erasure_from(item))
            .collect()
    }

    /// One run claims the closing email; a concurrent run skips it. A claim left by a run
    /// that crashed may be taken again after 15 minutes.
    pub async fn claim_closing(
        &self,
        record: &ErasureRecord,
        now: UnixSeconds,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(erasure_pk(&record.requester.email_hash)))
            .update_expression("SET closing_claimed_at = :now")
            .condition_expression(
                "request_id = :id AND (attribute_not_exists(closing_claimed_at) OR closing_claimed_at < :stale)",
            )
            .expression_attribute_values(":id", s(&record.request_id))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":stale", n(now - CLOSING_CLAIM_SECONDS))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(error) if is_condition_failed(&error) => Ok(false),
            Err(error) => Err(self.err("UpdateItem", &error)),
        }
    }

    /// Replaces the pending request by its proof (no email, no hash, no wallet id), in one
    /// transaction; false if another run did it first.
    pub async fn finish_erasure(
        &self,
        record: &ErasureRecord,
        now: UnixSeconds,
        counts: &HashMap<String, usize>,
    ) -> Result<bool, StoreError> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .key("pk", s(erasure_pk(&record.requester.email_hash)))
            .condition_expression("request_id = :id")
            .expression_attribute_values(":id", s(&record.request_id))
            .build()
            .map_err(|e| StoreError::new("TransactWriteItems", &self.table, e.to_string()))?;
        let counts = counts
            .iter()
            .map(|(store, count)| (store.clone(), n(*count as i64)))
            .collect();
        let proof = Put::builder()
            .table_name(&self.table)
            .item("pk", s(format!("ERASED#{}", record.request_id)))
            .item("request_id", s(&record.request_id))
            .item("requested_at", n(record.requested_at))
            .item("completed_at", n(now))
            .item("deleted", AttributeValue::M(counts))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| StoreError::new("TransactWriteItems", &self.table, e.to_string()))?;
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().delete(delete).build())
            .transact_items(TransactWriteItem::builder().put(proof).build())
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_transaction_canceled_exception()) =>
            {
                Ok(false)
            }
            Err(error) => Err(self.err("TransactWriteItems", &error)),
        }
    }

    /// The proof of a completed erasure, for tests and support.
    pub async fn erasure_proof(&self, request_id: &str) -> Result<Option<Item>, StoreError> {
        self.get(&format!("ERASED#{request_id}")).await
    }
}
