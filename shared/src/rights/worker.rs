//! The `dsr-archive` worker: one export job (SQS) in, one archive in the exports bucket and
//! one email with a 7-day download link out. Redeliveries are harmless: the record says
//! whether the archive is already there and whether the email went.

use std::path::PathBuf;
use std::sync::Arc;

use aws_config::SdkConfig;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use aws_sdk_s3::primitives::ByteStream;
use serde::{Deserialize, Serialize};
use tracing::info;

use super::archive::ArchiveWriter;
use super::requests::{ExportRecord, ExportStatus, export_key, export_prefix};
use super::{EXPORT_LIFETIME_SECONDS, Rights, StoresConfig, link_signature, mail, resolve};
use crate::clock::Clock;
use crate::config::{ConfigError, EnvSource, Origin, Settings};
use crate::queue::{RetryLater, handle_batch};

/// The SQS message: which person's pending export to build.
#[derive(Debug, Serialize, Deserialize)]
pub struct ExportJob {
    pub email_hash: String,
    pub request_id: String,
}

#[derive(Clone, Debug)]
pub struct ArchiveConfig {
    pub stores: StoresConfig,
    pub app_origin: Origin,
    /// Where archives are assembled (Lambda: /tmp, sized by EphemeralStorage).
    pub work_dir: PathBuf,
}

impl ArchiveConfig {
    pub fn from_env(source: &dyn EnvSource) -> Result<Self, ConfigError> {
        let settings = Settings::new(source);
        Ok(Self {
            stores: StoresConfig::from_env(source)?,
            app_origin: settings.parsed("APP_ORIGIN")?,
            work_dir: source
                .get("EXPORT_WORK_DIR")
                .map_or_else(std::env::temp_dir, PathBuf::from),
        })
    }
}

/// The link in the email: the app's export page, which downloads through the API's
/// `GET /exports/download` with the same `p`, `r` and `sig`; that route checks the
/// signature and the expiry and redirects to a short-lived presigned URL. (A presigned URL
/// made by the worker would die with the Lambda role's session, hours before the 7 days.)
pub fn export_link(
    app_origin: &Origin,
    key: &secrecy::SecretString,
    email_hash: &str,
    request_id: &str,
) -> String {
    let signature = link_signature(key, email_hash, request_id);
    crate::email::AppPage::Export {
        email_hash,
        request_id,
        signature: &signature,
    }
    .url(app_origin)
}

#[derive(Debug)]
pub struct ArchiveWorker {
    rights: Rights,
    app_origin: Origin,
    work_dir: PathBuf,
    clock: Arc<dyn Clock>,
}

impl ArchiveWorker {
    pub fn new(config: ArchiveConfig, aws: &SdkConfig, clock: Arc<dyn Clock>) -> Self {
        Self {
            rights: Rights::new(config.stores, aws),
            app_origin: config.app_origin,
            work_dir: config.work_dir,
            clock,
        }
    }

    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        handle_batch(&event, "export job", |message| async move {
            let body = message.body.as_deref().unwrap_or_default();
            match serde_json::from_str::<ExportJob>(body) {
                Ok(job) => self.process(&job).await,
                // Never valid on any delivery: dropped, not retried.
                Err(_) => {
                    tracing::error!("malformed export job dropped");
                    Ok(())
                }
            }
        })
        .await
    }

    pub async fn process(&self, job: &ExportJob) -> Result<(), RetryLater> {
        let Some(record) = self.rights.requests.export(&job.email_hash).await? else {
            return Ok(()); // erased or expired meanwhile
        };
        if record.request_id != job.request_id {
            return Ok(()); // replaced by a newer request
        }
        if record.status == ExportStatus::Pending {
            if !self.build(&record).await? {
                return Ok(());
            }
        } else if record.emailed {
            return Ok(());
        }
        self.send_link(&record).await
    }

    /// Builds and uploads the archive; false when the request stopped being pending
    /// meanwhile (its upload is then removed again).
    async fn build(&self, record: &ExportRecord) -> Result<bool, RetryLater> {
        let now = self.clock.now();
        let hash = &record.requester.email_hash;
        let person = resolve(&record.requester, &self.rights, now).await?;
        let path = self.work_dir.join(format!("{}.zip", record.request_id));
        let result = self.write_and_upload(&person, record, &path).await;
        // The local copy goes whatever happened: /tmp outlives the invocation.
        let _ = std::fs::remove_file(&path);
        let key = result?;
        let expires_at = now + EXPORT_LIFETIME_SECONDS;
        let bucket = super::stores::Bucket {
            client: self.rights.clients.s3.clone(),
            bucket: self.rights.config.exports_bucket.clone(),
        };
        if !self
            .rights
            .requests
            .export_ready(hash, &record.request_id, expires_at)
            .await?
        {
            bucket.delete_keys(&[key]).await.map_err(RetryLater)?;
            return Ok(false);
        }
        // Older archives of the person go now rather than at their expiry.
        let prefix = export_prefix(hash);
        let removed = bucket
            .delete_prefix_except(&prefix, &key)
            .await
            .map_err(RetryLater)?;
        info!(request = %record.request_id, older_archives_removed = removed, "export archive ready");
        Ok(true)
    }

    async fn write_and_upload(
        &self,
        person: &super::Person,
        record: &ExportRecord,
        path: &std::path::Path,
    ) -> Result<String, RetryLater> {
        let mut archive =
            ArchiveWriter::create(path, person.locale).map_err(RetryLater::because)?;
        for store in self.rights.stores() {
            store
                .export(person, &mut archive)
                .await
                .map_err(|e| RetryLater(format!("{}: {e}", store.name())))?;
        }
        let path = archive
            .finish(&record.request_id, person.now)
            .map_err(RetryLater::because)?;
        let key = export_key(&person.email_hash, &record.request_id);
        // Streamed from the file, never read into memory.
        let body = ByteStream::from_path(&path)
            .await
            .map_err(RetryLater::because)?;
        self.rights
            .clients
            .s3
            .put_object()
            .bucket(&self.rights.config.exports_bucket)
            .key(&key)
            .content_type("application/zip")
            .body(body)
            .send()
            .await
            .map_err(|e| RetryLater(crate::aws::failure("PutObject", e)))?;
        Ok(key)
    }

    async fn send_link(&self, record: &ExportRecord) -> Result<(), RetryLater> {
        let hash = &record.requester.email_hash;
        let link = export_link(
            &self.app_origin,
            &self.rights.config.email_hash_key,
            hash,
            &record.request_id,
        );
        let email = mail::export_ready(
            record.requester.locale,
            &link,
            EXPORT_LIFETIME_SECONDS / 86_400,
        );
        self.rights
            .mailer
            .send(&record.requester.email, &email)
            .await
            .map_err(RetryLater::because)?;
        self.rights
            .requests
            .export_emailed(hash, &record.request_id)
            .await?;
        Ok(())
    }
}
