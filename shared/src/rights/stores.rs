//! One small piece per store of personal data: how to export a person's rows and how to
//! erase them. Export and erasure walk [`registry`]; a new store is one more entry there.
//!
//! Production code never scans a table: every piece finds the person through a key (email,
//! email hash, wallet id) or an index (`by-wallet`), or lists an S3 prefix.

use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, WriteRequest};
use aws_sdk_s3::types::{Delete, ObjectIdentifier};

use super::archive::ArchiveWriter;
use super::{Clients, Fut, Person, StoresConfig, item_json};
use crate::store::{Item, get_n, s};

pub type StoreResult<T> = Result<T, String>;

/// Rows per query page: what an export or erasure holds in memory at once.
const PAGE_ROWS: i32 = 500;

pub trait PersonalData: Send + Sync + std::fmt::Debug {
    /// The store's name in the archive (`data/<name>.json`, `files/<name>/…`) and in logs.
    fn name(&self) -> &'static str;

    /// Writes the person's rows (or files) into the archive, one at a time.
    fn export<'a>(
        &'a self,
        person: &'a Person,
        archive: &'a mut ArchiveWriter,
    ) -> Fut<'a, StoreResult<()>>;

    /// Deletes everything of the person in this store; returns how many items or objects
    /// went. Repeatable: a second call finds nothing and deletes nothing.
    fn erase<'a>(&'a self, person: &'a Person) -> Fut<'a, StoreResult<usize>>;
}

/// Every store of personal data, in erasure order: the wallet first, so sessions end at
/// once; the request records last are handled by the erasure itself.
pub fn registry(config: &StoresConfig, clients: &Clients) -> Vec<Box<dyn PersonalData>> {
    let db = |table: &str| Table {
        client: clients.dynamodb.clone(),
        table: table.to_owned(),
    };
    let bucket = |bucket: &str| Bucket {
        client: clients.s3.clone(),
        bucket: bucket.to_owned(),
    };
    vec![
        Box::new(WalletStore(db(&config.wallets_table))),
        Box::new(LeadStore(db(&config.leads_table))),
        Box::new(OtpCodeStore(db(&config.otp_codes_table))),
        Box::new(RateLimitStore(db(&config.rate_limits_table))),
        Box::new(ByWalletStore {
            name: "generations",
            table: db(&config.generations_table),
            key: "generation_id",
        }),
        Box::new(ByWalletStore {
            name: "moderation_log",
            table: db(&config.moderation_log_table),
            key: "generation_id",
        }),
        Box::new(ObjectStore {
            name: "selfies",
            bucket: bucket(&config.selfie_bucket),
            prefix: |wallet| format!("selfies/{wallet}/"),
        }),
        Box::new(ObjectStore {
            name: "generated",
            bucket: bucket(&config.generated_bucket),
            prefix: |wallet| format!("generated/{wallet}/"),
        }),
        Box::new(ExportStore {
            records: db(&config.privacy_requests_table),
            archives: bucket(&config.exports_bucket),
        }),
    ]
}

/// A DynamoDB table and the small operations the pieces share.
#[derive(Clone, Debug)]
pub struct Table {
    pub client: aws_sdk_dynamodb::Client,
    pub table: String,
}

impl Table {
    async fn get(&self, key: &str, value: &str) -> StoreResult<Option<Item>> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(key, s(value))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| crate::aws::failure("GetItem", e))?;
        Ok(output.item)
    }

    /// Deletes one item; true when there was one.
    async fn delete(&self, key: &str, value: &str) -> StoreResult<bool> {
        let output = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(key, s(value))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| crate::aws::failure("DeleteItem", e))?;
        Ok(output.attributes.is_some())
    }

    /// One page of `wallet_id`'s items in the `by-wallet` index, and where the next starts.
    async fn page_by_wallet(
        &self,
        wallet_id: &str,
        start: Option<Item>,
    ) -> StoreResult<(Vec<Item>, Option<Item>)> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("by-wallet")
            .key_condition_expression("wallet_id = :w")
            .expression_attribute_values(":w", s(wallet_id))
            .set_exclusive_start_key(start)
            // DynamoDB caps a page at 1 MB; a row cap too keeps memory flat on any backend.
            .limit(PAGE_ROWS)
            .send()
            .await
            .map_err(|e| crate::aws::failure("Query", e))?;
        let next = output.last_evaluated_key.filter(|key| !key.is_empty());
        Ok((output.items.unwrap_or_default(), next))
    }

    /// Deletes items by key value, 25 to a BatchWriteItem, retrying what DynamoDB hands back.
    async fn batch_delete(&self, key: &str, values: Vec<String>) -> StoreResult<usize> {
        let count = values.len();
        for chunk in values.chunks(25) {
            let mut requests: Vec<WriteRequest> = chunk
                .iter()
                .map(|value| {
                    let delete = DeleteRequest::builder()
                        .key(key, s(value))
                        .build()
                        .map_err(|e| e.to_string())?;
                    Ok(WriteRequest::builder().delete_request(delete).build())
                })
                .collect::<StoreResult<_>>()?;
            for _ in 0..8 {
                let output = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, requests)
                    .send()
                    .await
                    .map_err(|e| crate::aws::failure("BatchWriteItem", e))?;
                requests = output
                    .unprocessed_items
                    .and_then(|mut items| items.remove(&self.table))
                    .unwrap_or_default();
                if requests.is_empty() {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            if !requests.is_empty() {
                return Err(format!(
                    "BatchWriteItem on {}: items left unprocessed",
                    self.table
                ));
            }
        }
        Ok(count)
    }
}

/// An S3 bucket and the prefix operations the pieces share.
#[derive(Clone, Debug)]
pub struct Bucket {
    pub client: aws_sdk_s3::Client,
    pub bucket: String,
}

impl Bucket {
    /// One page (≤ 1000) of the keys under `prefix`, and the token of the next.
    async fn page(
        &self,
        prefix: &str,
        token: Option<String>,
    ) -> StoreResult<(Vec<String>, Option<String>)> {
        let output = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .set_continuation_token(token)
            .send()
            .await
            .map_err(|e| crate::aws::failure("ListObjectsV2", e))?;
        let next = output
            .next_continuation_token
            .filter(|_| output.is_truncated == Some(true));
        let keys = output
            .contents
            .unwrap_or_default()
            .into_iter()
            .filter_map(|object| object.key)
            .collect();
        Ok((keys, next))
    }

    /// Deletes everything under `prefix` but `keep`.
    pub async fn delete_prefix_except(&self, prefix: &str, keep: &str) -> StoreResult<usize> {
        let mut deleted = 0;
        let mut token = None;
        loop {
            let (mut keys, next) = self.page(prefix, token).await?;
            keys.retain(|key| key != keep);
            self.delete_keys(&keys).await?;
            deleted += keys.len();
            match next {
                Some(next) => token = Some(next),
                None => return Ok(deleted),
            }
        }
    }

    /// Deletes everything under `prefix`: each listed page (≤ 1000 keys) is one
    /// DeleteObjects request.
    pub async fn delete_prefix(&self, prefix: &str) -> StoreResult<usize> {
        let mut deleted = 0;
        let mut token = None;
        loop {
            let (keys, next) = self.page(prefix, token).await?;
            self.delete_keys(&keys).await?;
            deleted += keys.len();
            match next {
                Some(next) => token = Some(next),
                None => return Ok(deleted),
            }
        }
    }

    pub async fn delete_keys(&self, keys: &[String]) -> StoreResult<()> {
        // An empty chunk list sends nothing (DeleteObjects refuses an empty list).
        for chunk in keys.chunks(1000) {
            let objects = chunk
                .iter()
                .map(|key| ObjectIdentifier::builder().key(key).build())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| e.to_string())?;
            let delete = Delete::builder()
                .set_objects(Some(objects))
                .quiet(true)
                .build()
                .map_err(|e| e.to_string())?;
            let output = self
                .client
                .delete_objects()
                .bucket(&self.bucket)
                .delete(delete)
                .send()
                .await
                .map_err(|e| crate::aws::failure("DeleteObjects", e))?;
            if let Some(error) = output.errors.unwrap_or_default().first() {
                return Err(format!(
                    "DeleteObjects: {}",
                    error.code().unwrap_or("an object was not deleted")
                ));
            }
        }
        Ok(())
    }
}

// ---- the pieces -------------------------------------------------------------------------

/// Wallets: `WALLET#<id>` (email, balance, locale) and the `EMAIL#<email>` pointer.
#[derive(Debug)]
struct WalletStore(Table);

impl PersonalData for WalletStore {
    fn name(&self) -> &'static str {
        "wallet"
    }

    fn export<'a>(&'a self, p: &'a Person, out: &'a mut ArchiveWriter) -> Fut<'a, StoreResult<()>> {
        Box::pin(async move {
            out.begin_rows(self.name()).map_err(|e| e.to_string())?;
            for id in &p.wallet_ids {
                if let Some(item) = self.0.get("pk", &format!("WALLET#{id}")).await? {
                    out.row(&item_json(&item)).map_err(|e| e.to_string())?;
                }
            }
            out.end_rows().map_err(|e| e.to_string())
        })
    }

    fn erase<'a>(&'a self, p: &'a Person) -> Fut<'a, StoreResult<usize>> {
        Box::pin(async move {
            let mut deleted = 0;
            for id in &p.wallet_ids {
                deleted += usize::from(self.0.delete("pk", &format!("WALLET#{id}")).await?);
            }
            let pointer = format!("EMAIL#{}", p.email.as_str());
            deleted += usize::from(self.0.delete("pk", &pointer).await?);
            Ok(deleted)
        })
    }
}

/// The lead list: one row keyed by the email.
#[derive(Debug)]
struct LeadStore(Table);

impl PersonalData for LeadStore {
    fn name(&self) -> &'static str {
        "lead"
    }

    fn export<'a>(&'a self, p: &'a Person, out: &'a mut ArchiveWriter) -> Fut<'a, StoreResult<()>> {
        Box::pin(async move {
            out.begin_rows(self.name()).map_err(|e| e.to_string())?;
            if let Some(item) = self.0.get("email", p.email.as_str()).await? {
                out.row(&item_json(&item)).map_err(|e| e.to_string())?;
            }
            out.end_rows().map_err(|e| e.to_string())
        })
    }

    fn erase<'a>(&'a self, p: &'a Person) -> Fut<'a, StoreResult<usize>> {
        Box::pin(async move { Ok(usize::from(self.0.delete("email", p.email.as_str()).await?)) })
    }
}

/// A pending one-time code, keyed by the email hash. Exported without the code's hash (a
/// secret, and useless to the person); expired codes are absent.
#[derive(Debug)]
struct OtpCodeStore(Table);

impl PersonalData for OtpCodeStore {
    fn name(&self) -> &'static str {
        "one_time_codes"
    }

    fn export<'a>(&'a self, p: &'a Person, out: &'a mut ArchiveWriter) -> Fut<'a, StoreResult<()>> {
        Box::pin(async move {
            out.begin_rows(self.name()).map_err(|e| e.to_string())?;
            for key in otp_keys(p) {
                if let Some(mut item) = self.0.get("email_hash", &key).await?
                    && get_n(&item, "expires_at").is_some_and(|at| at > p.now)
                {
                    item.remove("code_hash");
                    out.row(&item_json(&item)).map_err(|e| e.to_string())?;
                }
            }
            out.end_rows().map_err(|e| e.to_string())
        })
    }

    fn erase<'a>(&'a self, p: &'a Person) -> Fut<'a, StoreResult<usize>> {
        Box::pin(async move {
            let mut deleted = 0;
            for key in otp_keys(p) {
                deleted += usize::from(self.0.delete("email_hash", &key).await?);
            }
            Ok(deleted)
        })
    }
}

/// The keys of the person's codes: sign-in, and an email change to this address.
fn otp_keys(p: &Person) -> [String; 2] {
    use crate::auth::CodePurpose;
    [CodePurpose::SignIn, CodePurpose::EmailChange]
        .map(|purpose| format!("{}{}", purpose.key_prefix(), p.email_hash))
}

/// The rate-limit counters keyed by the email hash (auth/api.rs names them). IP-keyed
/// counters hold no link to the person (a salted IP hash, gone within the hour).
#[derive(Debug)]
struct RateLimitStore(Table);

pub const EMAIL_RATE_LIMIT_PREFIXES: [&str; 2] = ["otp-resend#", "otp-email#"];

impl PersonalData for RateLimitStore {
    fn name(&self) -> &'static str {
        "rate_limits"
    }

    fn export<'a>(&'a self, p: &'a Person, out: &'a mut ArchiveWriter) -> Fut<'a, StoreResult<()>> {
        Box::pin(async move {
            out.begin_rows(self.name()).map_err(|e| e.to_string())?;
            for prefix in EMAIL_RATE_LIMIT_PREFIXES {
                let key = format!("{prefix}{}", p.email_hash);
                if let Some(item) = self.0.get("pk", &key).await?
                    && get_n(&item, "expires_at").is_some_and(|at| at > p.now)
                {
                    out.row(&item_json(&item)).map_err(|e| e.to_string())?;
                }
            }
            out.end_rows().map_err(|e| e.to_string())
        })
    }

    fn erase<'a>(&'a self, p: &'a Person) -> Fut<'a, StoreResult<usize>> {
        Box::pin(async move {
            let mut deleted = 0;
            for prefix in EMAIL_RATE_LIMIT_PREFIXES {
                let key = format!("{prefix}{}", p.email_hash);
                deleted += usize::from(self.0.delete("pk", &key).await?);
            }
            Ok(deleted)
        })
    }
}

/// A table with a `by-wallet` index (generations, moderation log): rows exported as they
/// are, a page at a time; items whose `ttl` has passed count as gone.
#[derive(Debug)]
struct ByWalletStore {
    name: &'static str,
    table: Table,
    key: &'static str,
}

impl PersonalData for ByWalletStore {
    fn name(&self) -> &'static str {
        self.name
    }

    fn export<'a>(&'a self, p: &'a Person, out: &'a mut ArchiveWriter) -> Fut<'a, StoreResult<()>> {
        Box::pin(async move {
            out.begin_rows(self.name).map_err(|e| e.to_string())?;
            for wallet in &p.wallet_ids {
                let mut start = None;
                loop {
                    let (items, next) = self.table.page_by_wallet(wallet, start).await?;
                    for item in items {
                        if get_n(&item, "ttl").is_none_or(|ttl| ttl > p.now) {
                            out.row(&item_json(&item)).map_err(|e| e.to_string())?;
                        }
                    }
                    match next {
                        Some(next) => start = Some(next),
                        None => break,
                    }
                }
            }
            out.end_rows().map_err(|e| e.to_string())
        })
    }

    fn erase<'a>(&'a self, p: &'a Person) -> Fut<'a, StoreResult<usize>> {
        Box::pin(async move {
            let mut deleted = 0;
            for wallet in &p.wallet_ids {
                // A page of keys at a time: deleting behind the cursor is fine in DynamoDB.
                let mut start = None;
                loop {
                    let (items, next) = self.table.page_by_wallet(wallet, start).await?;
                    let keys = items
                        .iter()
                        .filter_map(|item| match item.get(self.key) {
                            Some(AttributeValue::S(key)) => Some(key.clone()),
                            _ => None,
                        })
                        .collect();
                    deleted += self.table.batch_delete(self.key, keys).await?;
                    match next {
                        Some(next) => start = Some(next),
                        None => break,
                    }
                }
            }
            Ok(deleted)
        })
    }
}

/// Objects under a per-wallet prefix (selfies still held, generated files).
#[derive(Debug)]
struct ObjectStore {
    name: &'static str,
    bucket: Bucket,
    prefix: fn(&str) -> String,
}

impl PersonalData for ObjectStore {
    fn name(&self) -> &'static str {
        self.name
    }

    fn export<'a>(&'a self, p: &'a Person, out: &'a mut ArchiveWriter) -> Fut<'a, StoreResult<()>> {
        Box::pin(async move {
            for wallet in &p.wallet_ids {
                let prefix = (self.prefix)(wallet);
                let mut token = None;
                loop {
                    let (keys, next) = self.bucket.page(&prefix, token).await?;
                    for key in keys {
                        let relative = key.strip_prefix(&prefix).unwrap_or(&key);
                        let path = format!("{}/{relative}", self.name);
                        out.copy_object(
                            &self.bucket.client,
                            &self.bucket.bucket,
                            &key,
                            self.name,
                            &path,
                        )
                        .await
                        .map_err(|e| e.to_string())?;
                    }
                    match next {
                        Some(next) => token = Some(next),
                        None => break,
                    }
                }
            }
            Ok(())
        })
    }

    fn erase<'a>(&'a self, p: &'a Person) -> Fut<'a, StoreResult<usize>> {
        Box::pin(async move {
            let mut deleted = 0;
            for wallet in &p.wallet_ids {
                deleted += self.bucket.delete_prefix(&(self.prefix)(wallet)).await?;
            }
            Ok(deleted)
        })
    }
}

/// The person's export record and archives. Not exported (an archive of archives).
#[derive(Debug)]
struct ExportStore {
    records: Table,
    archives: Bucket,
}

impl PersonalData for ExportStore {
    fn name(&self) -> &'static str {
        "exports"
    }

    fn export<'a>(&'a self, _: &'a Person, _: &'a mut ArchiveWriter) -> Fut<'a, StoreResult<()>> {
        Box::pin(async { Ok(()) })
    }

    fn erase<'a>(&'a self, p: &'a Person) -> Fut<'a, StoreResult<usize>> {
        Box::pin(async move {
            let objects = self
                .archives
                .delete_prefix(&super::requests::export_prefix(&p.email_hash))
                .await?;
            let record = self
                .records
                .delete("pk", &super::requests::export_pk(&p.email_hash))
                .await?;
            Ok(objects + usize::from(record))
        })
    }
}
