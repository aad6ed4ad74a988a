//! Carrying out erasures, and removing expired export archives: the steps the hourly
//! retention job runs. Each erasure walks every store of the registry, sends the closing
//! email, and replaces the request by its email-free proof. Every step is repeatable, so a
//! run that stops halfway is finished by the next, and two runs at once do no harm (the
//! closing email is claimed by one of them).

use std::collections::HashMap;

use tracing::{error, info};

use super::requests::{ErasureRecord, export_key};
use super::stores::Bucket;
use super::{Rights, mail, resolve};
use crate::clock::UnixSeconds;

/// What one run did, for the retention job's log line and metrics.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ErasureReport {
    pub erasures_completed: usize,
    pub items_deleted: usize,
    pub expired_exports_removed: usize,
}

/// How many requests one run takes on; the rest wait an hour (well inside 30 days).
const PER_RUN: i32 = 25;

#[derive(Debug, Clone)]
pub struct Erasures {
    rights: Rights,
}

impl Erasures {
    pub fn new(rights: Rights) -> Self {
        Self { rights }
    }

    /// Carries out every erasure requested up to `now`.
    pub async fn run_due(&self, now: UnixSeconds) -> Result<ErasureReport, String> {
        let mut report = ErasureReport::default();
        let due = self
            .rights
            .requests
            .due_erasures(now, PER_RUN)
            .await
            .map_err(|e| e.to_string())?;
        for record in due {
            match self.erase(&record, now).await {
                Ok(Some(deleted)) => {
                    report.erasures_completed += 1;
                    report.items_deleted += deleted;
                }
                Ok(None) => {}
                // One failing person must not hold up the others; the next run retries.
                Err(reason) => error!(request = %record.request_id, %reason, "erasure incomplete"),
            }
        }
        Ok(report)
    }

    /// Erases one person. `None` when a concurrent run is closing this request.
    pub async fn erase(
        &self,
        record: &ErasureRecord,
        now: UnixSeconds,
    ) -> Result<Option<usize>, String> {
        let person = resolve(&record.requester, &self.rights, now)
            .await
            .map_err(|e| e.to_string())?;
        let mut counts = HashMap::new();
        for store in self.rights.stores() {
            let deleted = store
                .erase(&person)
                .await
                .map_err(|e| format!("{}: {e}", store.name()))?;
            counts.insert(store.name().to_owned(), deleted);
        }
        let requests = &self.rights.requests;
        if !requests
            .claim_closing(record, now)
            .await
            .map_err(|e| e.to_string())?
        {
            return Ok(None);
        }
        // Where the person is now: an address changed since the request is the one they read.
        self.rights
            .mailer
            .send(&person.contact, &mail::erasure_done(person.locale))
            .await
            .map_err(|e| e.to_string())?;
        requests
            .finish_erasure(record, now, &counts)
            .await
            .map_err(|e| e.to_string())?;
        let total = counts.values().sum();
        info!(request = %record.request_id, deleted = total, "erasure completed");
        Ok(Some(total))
    }

    /// Deletes archives whose 7 days are over, and their records (the bucket's lifecycle
    /// rule is the safety net behind this).
    pub async fn remove_expired_exports(&self, now: UnixSeconds) -> Result<usize, String> {
        let requests = &self.rights.requests;
        let expired = requests
            .expired_exports(now, 100)
            .await
            .map_err(|e| e.to_string())?;
        let bucket = Bucket {
            client: self.rights.clients.s3.clone(),
            bucket: self.rights.config.exports_bucket.clone(),
        };
        let keys: Vec<String> = expired
            .iter()
            .map(|(hash, request)| export_key(hash, request))
            .collect();
        bucket.delete_keys(&keys).await?;
        for (hash, request) in &expired {
            requests
                .remove_export(hash, request)
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(expired.len())
    }
}
