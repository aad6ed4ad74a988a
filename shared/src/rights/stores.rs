//! One small piece per store of personal data: how to export a person's rows and how to
//! erase them. Export and erasure walk [`registry`]; a new store is one more entry there.
//!
//! Production code never scans a table: every piece finds the person through a key (email,
//! email hash, wallet id) or an index (`by-wallet`), or lists an S3 prefix. Every piece that
//! finds rows by email does so for each of the person's addresses (`Person::addresses`:
//! the current one and every former one), so an email change leaves nothing behind.

use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, WriteRequest};
use aws_sdk_s3::types::{Delete, ObjectIdentifier};

use super::archive::ArchiveWriter;
use super::{Clients, Fut, Person, StoresConfig, item_json, requests};
use crate::store::{Item, get_n, s};

pub type StoreResult<T> = Result<T, String>;

/// Rows per query page: what an export or erasure holds in memory at once (a few MB at
/// most; DynamoDB also caps a page at 1 MB). Large pages matter for a person with many
/// analytics events: each page is one round trip.
const PAGE_ROWS: i32 = 2000;

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
        // Owners include the trials saved with the email (`trial-<id>`).
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
        Box::new(LedgerStore(db(&config.ledger_table))),
        Box::new(OrderStore(db(&config.orders_table))),
        Box::new(AnalyticsStore(db(&config.analytics_table))),
        Box::new(FeedbackStore(db(&config.feedback_table))),
        Box::new(RefundRequestStore(db(&config.refund_requests_table))),
        // After the generations and analytics: its records are how a rerun of an
        // interrupted erasure still finds the trial's generation and device.
        Box::new(TrialStore(db(&config.trials_table))),
        Box::new(ExportStore {
            records: db(&config.privacy_requests_table),
            archives: bucket(&config.exports_bucket),
        }),
        Box::new(ErasureRequestStore(db(&config.privacy_requests_table))),
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
        self.page_by(Some("by-wallet"), "wallet_id", wallet_id, None, start)
            .await
    }

    /// One page of the items whose `attribute` is `value`, through `index` (or the table's
    /// own hash key), optionally filtered by an expression on the item alone.
    async fn page_by(
        &self,
        index: Option<&str>,
        attribute: &str,
        value: &str,
        filter: Option<&str>,
        start: Option<Item>,
    ) -> StoreResult<(Vec<Item>, Option<Item>)> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name(index.map(str::to_owned))
            .key_condition_expression("#key = :value")
            .expression_attribute_names("#key", attribute)
            .expression_attribute_values(":value", s(value))
            .set_filter_expression(filter.map(str::to_owned))
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
        let failed = self.delete_keys_reporting_failures(keys).await?;
        match failed.iter().next() {
            None => Ok(()),
            Some((_, code)) => Err(format!("DeleteObjects: {code}")),
        }
    }

    /// Deletes `keys` in DeleteObjects requests of at most 1,000 and answers the keys S3
    /// could not delete, with S3's error code (a missing key is no error: deletion is
    /// idempotent). An empty list sends nothing (DeleteObjects refuses an empty list).
    pub async fn delete_keys_reporting_failures(
        &self,
        keys: &[String],
    ) -> StoreResult<std::collections::HashMap<String, String>> {
        let mut failed = std::collections::HashMap::new();
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
            for error in output.errors() {
                if let Some(key) = error.key() {
                    let code = error.code().unwrap_or("an object was not deleted");
                    failed.insert(key.to_owned(), code.to_owned());
                }
            }
        }
        Ok(failed)
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

    /// The wallet item goes first (with it every session, its email history and choices),
    /// then each address's pointer while it still points to one of the person's wallets.
    fn erase<'a>(&'a self, p: &'a Person) -> Fut<'a, StoreResult<usize>> {
        Box::pin(async move {
            let mut deleted = 0;
            for id in &p.wallet_ids {
                deleted += usize::from(self.0.delete("pk", &format!("WALLET#{id}")).await?);
            }
            for email in p.emails() {
                for id in &p.wallet_ids {
                    let result = self
                        .0
                        .client
                        .delete_item()
                        .table_name(&self.0.table)
                        .key("pk", s(format!("EMAIL#{}", email.as_str())))
                        .condition_expression("wallet_id = :id")
                        .expression_attribute_values(":id", s(id))
                        .send()
                        .await;
                    match result {
                        Ok(_) => deleted += 1,
                        Err(e) if crate::store::is_condition_failed(&e) => {}
                        Err(e) => return Err(crate::aws::failure("DeleteItem", e)),
                    }
                }
            }
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
            for email in p.emails() {
                if let Some(item) = self.0.get("email", email.as_str()).await? {
                    out.row(&item_json(&item)).map_err(|e| e.to_string())?;
                }
            }
            out.end_rows().map_err(|e| e.to_string())
        })
    }

    fn erase<'a>(&'a self, p: &'a Person) -> Fut<'a, StoreResult<usize>> {
        Box::pin(async move {
            let mut deleted = 0;
            for email in p.emails() {
                deleted += usize::from(self.0.delete("email", email.as_str()).await?);
            }
            Ok(deleted)
        })
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

/// The keys of the person's codes: sign-in, and an email change to each address.
fn otp_keys(p: &Person) -> Vec<String> {
    use crate::auth::CodePurpose;
    p.email_hashes()
        .flat_map(|hash| {
            [CodePurpose::SignIn, CodePurpose::EmailChange]
                .map(|purpose| format!("{}{hash}", purpose.key_prefix()))
        })
        .collect()
}

/// The rate-limit counters keyed by the email hash (auth/api.rs names them) or by the
/// wallet id (engagement). Counters keyed by a salted IP, email or device hash under the IP
/// salt (`refund-email#`, `events-device#`, `*-ip#`) cannot be found from the person and are
/// gone within their window (an hour at most).
#[derive(Debug)]
struct RateLimitStore(Table);

pub const EMAIL_RATE_LIMIT_PREFIXES: [&str; 2] = ["otp-resend#", "otp-email#"];
pub const WALLET_RATE_LIMIT_PREFIXES: [&str; 4] = [
    "marketing-wallet#",
    "email-change-wallet#",
    "email-verify-wallet#",
    "privacy-choices-wallet#",
];

impl RateLimitStore {
    fn keys(p: &Person) -> Vec<String> {
        let by_email = p.email_hashes().flat_map(|hash| {
            EMAIL_RATE_LIMIT_PREFIXES
                .iter()
                .map(move |prefix| format!("{prefix}{hash}"))
        });
        let by_wallet = WALLET_RATE_LIMIT_PREFIXES.iter().flat_map(|prefix| {
            p.wallet_ids
                .iter()
                .map(move |wallet| format!("{prefix}{wallet}"))
        });
        by_email.chain(by_wallet).collect()
    }
}

impl PersonalData for RateLimitStore {
    fn name(&self) -> &'static str {
        "rate_limits"
    }

    fn export<'a>(&'a self, p: &'a Person, out: &'a mut ArchiveWriter) -> Fut<'a, StoreResult<()>> {
        Box::pin(async move {
            out.begin_rows(self.name()).map_err(|e| e.to_string())?;
            for key in Self::keys(p) {
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
            for key in Self::keys(p) {
                deleted += usize::from(self.0.delete("pk", &key).await?);
            }
            Ok(deleted)
        })
    }
}

/// A table with a `by-wallet` index (generations, moderation log): rows exported as they
/// are, a page at a time; items whose `ttl` has passed count as gone. Walks every owner of
/// the person: wallets and saved trials.
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
            for wallet in &p.owners() {
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
            for wallet in &p.owners() {
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

/// Objects under a per-owner prefix (selfies still held, generated files), of wallets and
/// saved trials alike.
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
            for wallet in &p.owners() {
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
            for wallet in &p.owners() {
                deleted += self.bucket.delete_prefix(&(self.prefix)(wallet)).await?;
            }
            Ok(deleted)
        })
    }
}

/// The export requests of every address of the person (`EXPORT#<hash>`) and their
/// archives (`exports/<hash>/`): the records are exported (the archives are not: an
/// archive of archives); erasure deletes both, so an emailed link stops working.
#[derive(Debug)]
struct ExportStore {
    records: Table,
    archives: Bucket,
}

impl PersonalData for ExportStore {
    fn name(&self) -> &'static str {
        "exports"
    }

    fn export<'a>(&'a self, p: &'a Person, out: &'a mut ArchiveWriter) -> Fut<'a, StoreResult<()>> {
        Box::pin(async move {
            out.begin_rows(self.name()).map_err(|e| e.to_string())?;
            for hash in p.email_hashes() {
                if let Some(item) = self.records.get("pk", &requests::export_pk(hash)).await? {
                    out.row(&item_json(&item)).map_err(|e| e.to_string())?;
                }
            }
            out.end_rows().map_err(|e| e.to_string())
        })
    }

    fn erase<'a>(&'a self, p: &'a Person) -> Fut<'a, StoreResult<usize>> {
        Box::pin(async move {
            let mut deleted = 0;
            for hash in p.email_hashes() {
                deleted += self
                    .archives
                    .delete_prefix(&requests::export_prefix(hash))
                    .await?;
                deleted += usize::from(
                    self.records
                        .delete("pk", &requests::export_pk(hash))
                        .await?,
                );
            }
            Ok(deleted)
        })
    }
}

/// Pending erasure requests (`ERASURE#<hash>`, with the address) of every address of the
/// person. The one being carried out (the requester's) is closed by the erasure itself,
/// which replaces it by its proof; the others are fulfilled by the same erasure and go.
#[derive(Debug)]
struct ErasureRequestStore(Table);

impl PersonalData for ErasureRequestStore {
    fn name(&self) -> &'static str {
        "erasure_requests"
    }

    fn export<'a>(&'a self, p: &'a Person, out: &'a mut ArchiveWriter) -> Fut<'a, StoreResult<()>> {
        Box::pin(async move {
            out.begin_rows(self.name()).map_err(|e| e.to_string())?;
            for hash in p.email_hashes() {
                if let Some(item) = self.0.get("pk", &requests::erasure_pk(hash)).await? {
                    out.row(&item_json(&item)).map_err(|e| e.to_string())?;
                }
            }
            out.end_rows().map_err(|e| e.to_string())
        })
    }

    fn erase<'a>(&'a self, p: &'a Person) -> Fut<'a, StoreResult<usize>> {
        Box::pin(async move {
            let mut deleted = 0;
            for hash in p.email_hashes().filter(|hash| *hash != p.email_hash) {
                deleted += usize::from(self.0.delete("pk", &requests::erasure_pk(hash)).await?);
            }
            Ok(deleted)
        })
    }
}

// ---- the stores of billing, trials and engagement ----------------------------------------

/// The trials saved with `email` (the `by-email` index of `TrialsTable`), expired ones too:
/// TTL deletes late, and an erasure must reach the items still there.
pub async fn linked_trials(
    rights: &super::Rights,
    email: &crate::email::EmailAddress,
) -> Result<Vec<super::LinkedTrial>, crate::store::StoreError> {
    let table = Table {
        client: rights.clients.dynamodb.clone(),
        table: rights.config.trials_table.clone(),
    };
    let mut trials = Vec::new();
    let mut start = None;
    loop {
        let (items, next) = table
            .page_by(Some("by-email"), "email", email.as_str(), None, start)
            .await
            .map_err(|e| crate::store::StoreError::new("Query", &table.table, e))?;
        trials.extend(items.iter().filter_map(|item| {
            Some(super::LinkedTrial {
                trial_id: crate::store::get_s(item, "trial_id")?.to_owned(),
                device_id: crate::store::get_s(item, "device_id").map(str::to_owned),
            })
        }));
        match next {
            Some(next) => start = Some(next),
            None => return Ok(trials),
        }
    }
}

/// A query: (index or none for the table's key, key attribute, value, filter expression).
type Query<'a> = (Option<&'a str>, &'a str, &'a str, Option<&'a str>);

/// Writes every row of a query into the open archive section; `keep` drops rows (expired,
/// already written).
async fn export_query(
    table: &Table,
    out: &mut ArchiveWriter,
    (index, attribute, value, filter): Query<'_>,
    mut keep: impl FnMut(&Item) -> bool,
) -> StoreResult<()> {
    let mut start = None;
    loop {
        let (items, next) = table
            .page_by(index, attribute, value, filter, start)
            .await?;
        for item in items.iter().filter(|item| keep(item)) {
            out.row(&item_json(item)).map_err(|e| e.to_string())?;
        }
        match next {
            Some(next) => start = Some(next),
            None => return Ok(()),
        }
    }
}

/// Deletes every item a query finds, a page at a time (deleting behind the cursor is fine
/// in DynamoDB); `key` names the table's hash key.
async fn erase_query(
    table: &Table,
    key: &str,
    (index, attribute, value, filter): Query<'_>,
) -> StoreResult<usize> {
    let mut deleted = 0;
    let mut start = None;
    loop {
        let (items, next) = table
            .page_by(index, attribute, value, filter, start)
            .await?;
        let keys = items
            .iter()
            .filter_map(|item| crate::store::get_s(item, key).map(str::to_owned))
            .collect();
        deleted += table.batch_delete(key, keys).await?;
        match next {
            Some(next) => start = Some(next),
            None => return Ok(deleted),
        }
    }
}

fn live(now: crate::clock::UnixSeconds) -> impl Fn(&Item) -> bool {
    move |item| get_n(item, "ttl").is_none_or(|ttl| ttl > now)
}

/// The credit ledger (keyed by wallet id, never the email). Exported in full; erasure KEEPS
/// it: the entries are the tax-relevant transaction record, pseudonymous once the wallet
/// (the only link from the id to the email) is gone.
#[derive(Debug)]
struct LedgerStore(Table);

impl PersonalData for LedgerStore {
    fn name(&self) -> &'static str {
        "ledger"
    }

    fn export<'a>(&'a self, p: &'a Person, out: &'a mut ArchiveWriter) -> Fut<'a, StoreResult<()>> {
        Box::pin(async move {
            out.begin_rows(self.name()).map_err(|e| e.to_string())?;
            // Trials touch no wallet and write no entries: wallets only.
            for wallet in &p.wallet_ids {
                let query = (None, "wallet_id", wallet.as_str(), None);
                export_query(&self.0, out, query, |_| true).await?;
            }
            out.end_rows().map_err(|e| e.to_string())
        })
    }

    fn erase<'a>(&'a self, _: &'a Person) -> Fut<'a, StoreResult<usize>> {
        Box::pin(async { Ok(0) })
    }
}

/// Polar orders (`ORDER#`, kept for tax: wallet id, amounts, no email) and processed
/// webhook deliveries (`WEBHOOK#`, 30 days), both found by the `by-wallet` index.
#[derive(Debug)]
struct OrderStore(Table);

impl PersonalData for OrderStore {
    fn name(&self) -> &'static str {
        "orders"
    }

    fn export<'a>(&'a self, p: &'a Person, out: &'a mut ArchiveWriter) -> Fut<'a, StoreResult<()>> {
        Box::pin(async move {
            out.begin_rows(self.name()).map_err(|e| e.to_string())?;
            for wallet in &p.wallet_ids {
                let query = (Some("by-wallet"), "wallet_id", wallet.as_str(), None);
                export_query(&self.0, out, query, live(p.now)).await?;
            }
            out.end_rows().map_err(|e| e.to_string())
        })
    }

    /// Orders stay (tax; they hold no email). A delivery record loses its wallet id and
    /// stays until its TTL: deleting it would let a late Polar retry be processed again.
    fn erase<'a>(&'a self, p: &'a Person) -> Fut<'a, StoreResult<usize>> {
        Box::pin(async move {
            let mut unlinked = 0;
            for wallet in &p.wallet_ids {
                let mut start = None;
                loop {
                    let (items, next) = self.0.page_by_wallet(wallet, start).await?;
                    for item in &items {
                        let Some(pk) = crate::store::get_s(item, "pk") else {
                            continue;
                        };
                        if !pk.starts_with("WEBHOOK#") {
                            continue;
                        }
                        self.0
                            .client
                            .update_item()
                            .table_name(&self.0.table)
                            .key("pk", s(pk))
                            .update_expression("REMOVE wallet_id")
                            .send()
                            .await
                            .map_err(|e| crate::aws::failure("UpdateItem", e))?;
                        unlinked += 1;
                    }
                    match next {
                        Some(next) => start = Some(next),
                        None => break,
                    }
                }
            }
            Ok(unlinked)
        })
    }
}

/// Analytics events: those recorded while the email was signed in (`by-email`) and the
/// anonymous ones of every device seen with the email or with its trials (`by-device`).
/// Events a device recorded while someone else was signed in are that person's, not these.
#[derive(Debug)]
struct AnalyticsStore(Table);

/// Anonymous events only: a device's signed-in events are found by their email.
const ANONYMOUS: Option<&str> = Some("attribute_not_exists(wallet_email)");

fn device_of(item: &Item) -> Option<String> {
    crate::store::get_s(item, "device_id").map(str::to_owned)
}

impl PersonalData for AnalyticsStore {
    fn name(&self) -> &'static str {
        "analytics_events"
    }

    fn export<'a>(&'a self, p: &'a Person, out: &'a mut ArchiveWriter) -> Fut<'a, StoreResult<()>> {
        Box::pin(async move {
            out.begin_rows(self.name()).map_err(|e| e.to_string())?;
            // A person has few devices: the set is all that grows with their events.
            let mut devices: std::collections::BTreeSet<String> =
                p.trial_devices().map(str::to_owned).collect();
            let is_live = live(p.now);
            for email in p.emails() {
                let query = (Some("by-email"), "wallet_email", email.as_str(), None);
                export_query(&self.0, out, query, |item| {
                    devices.extend(device_of(item));
                    is_live(item)
                })
                .await?;
            }
            for device in &devices {
                let query = (Some("by-device"), "device_id", device.as_str(), ANONYMOUS);
                export_query(&self.0, out, query, live(p.now)).await?;
            }
            out.end_rows().map_err(|e| e.to_string())
        })
    }

    /// A page of the email's events at a time: first the anonymous events of each device
    /// seen for the first time, then the page itself. An interrupted run leaves the devices
    /// still findable through the events not yet deleted.
    fn erase<'a>(&'a self, p: &'a Person) -> Fut<'a, StoreResult<usize>> {
        Box::pin(async move {
            let mut deleted = 0;
            let mut devices = std::collections::BTreeSet::new();
            for device in p.trial_devices() {
                devices.insert(device.to_owned());
                let query = (Some("by-device"), "device_id", device, ANONYMOUS);
                deleted += erase_query(&self.0, "event_id", query).await?;
            }
            for email in p.emails() {
                let mut start = None;
                loop {
                    let (items, next) = self
                        .0
                        .page_by(
                            Some("by-email"),
                            "wallet_email",
                            email.as_str(),
                            None,
                            start,
                        )
                        .await?;
                    for device in items.iter().filter_map(device_of) {
                        if devices.insert(device.clone()) {
                            let query =
                                (Some("by-device"), "device_id", device.as_str(), ANONYMOUS);
                            deleted += erase_query(&self.0, "event_id", query).await?;
                        }
                    }
                    let keys = items
                        .iter()
                        .filter_map(|item| crate::store::get_s(item, "event_id").map(str::to_owned))
                        .collect();
                    deleted += self.0.batch_delete("event_id", keys).await?;
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

/// Feedback: given while signed in (`by-wallet`) or with an email (`by-email`); an item
/// found both ways is written and deleted once.
#[derive(Debug)]
struct FeedbackStore(Table);

impl FeedbackStore {
    fn queries(p: &Person) -> Vec<Query<'_>> {
        let mut queries: Vec<_> = p
            .wallet_ids
            .iter()
            .map(|wallet| (Some("by-wallet"), "wallet_id", wallet.as_str(), None))
            .collect();
        queries.extend(
            p.emails()
                .map(|email| (Some("by-email"), "email", email.as_str(), None)),
        );
        queries
    }
}

impl PersonalData for FeedbackStore {
    fn name(&self) -> &'static str {
        "feedback"
    }

    fn export<'a>(&'a self, p: &'a Person, out: &'a mut ArchiveWriter) -> Fut<'a, StoreResult<()>> {
        Box::pin(async move {
            out.begin_rows(self.name()).map_err(|e| e.to_string())?;
            let mut written = std::collections::HashSet::new();
            for query in Self::queries(p) {
                export_query(&self.0, out, query, |item| {
                    crate::store::get_s(item, "feedback_id")
                        .is_some_and(|id| written.insert(id.to_owned()))
                })
                .await?;
            }
            out.end_rows().map_err(|e| e.to_string())
        })
    }

    fn erase<'a>(&'a self, p: &'a Person) -> Fut<'a, StoreResult<usize>> {
        Box::pin(async move {
            let mut deleted = 0;
            // The first query's deletions are gone before the second query runs.
            for query in Self::queries(p) {
                deleted += erase_query(&self.0, "feedback_id", query).await?;
            }
            Ok(deleted)
        })
    }
}

/// Refund requests from the support form (address, order, typed reason), found by each
/// address.
#[derive(Debug)]
struct RefundRequestStore(Table);

impl PersonalData for RefundRequestStore {
    fn name(&self) -> &'static str {
        "refund_requests"
    }

    fn export<'a>(&'a self, p: &'a Person, out: &'a mut ArchiveWriter) -> Fut<'a, StoreResult<()>> {
        Box::pin(async move {
            out.begin_rows(self.name()).map_err(|e| e.to_string())?;
            for email in p.emails() {
                let query = (Some("by-email"), "email", email.as_str(), None);
                export_query(&self.0, out, query, |_| true).await?;
            }
            out.end_rows().map_err(|e| e.to_string())
        })
    }

    fn erase<'a>(&'a self, p: &'a Person) -> Fut<'a, StoreResult<usize>> {
        Box::pin(async move {
            let mut deleted = 0;
            for email in p.emails() {
                let query = (Some("by-email"), "email", email.as_str(), None);
                deleted += erase_query(&self.0, "request_id", query).await?;
            }
            Ok(deleted)
        })
    }
}

/// Free trials saved with the email: the `TRIAL#` records and the `DEVICE#` claim each was
/// taken with. `IP#` claims are salted IP hashes gone within 24 hours, linkable to no one.
#[derive(Debug)]
struct TrialStore(Table);

impl TrialStore {
    fn device_claim(device: &str) -> String {
        format!("DEVICE#{device}")
    }
}

impl PersonalData for TrialStore {
    fn name(&self) -> &'static str {
        "trials"
    }

    fn export<'a>(&'a self, p: &'a Person, out: &'a mut ArchiveWriter) -> Fut<'a, StoreResult<()>> {
        Box::pin(async move {
            out.begin_rows(self.name()).map_err(|e| e.to_string())?;
            for trial in &p.trials {
                let mut keys = vec![format!("TRIAL#{}", trial.trial_id)];
                keys.extend(trial.device_id.as_deref().map(Self::device_claim));
                for key in keys {
                    if let Some(item) = self.0.get("pk", &key).await?
                        && get_n(&item, "expires_at").is_some_and(|end| end > p.now)
                        && crate::store::get_s(&item, "trial_id") == Some(&trial.trial_id)
                    {
                        out.row(&item_json(&item)).map_err(|e| e.to_string())?;
                    }
                }
            }
            out.end_rows().map_err(|e| e.to_string())
        })
    }

    fn erase<'a>(&'a self, p: &'a Person) -> Fut<'a, StoreResult<usize>> {
        Box::pin(async move {
            let mut deleted = 0;
            for trial in &p.trials {
                // The device's claim, only while it is still this trial's (a later trial
                // on the device is not this person's to erase).
                if let Some(device) = &trial.device_id {
                    let result = self
                        .0
                        .client
                        .delete_item()
                        .table_name(&self.0.table)
                        .key("pk", s(Self::device_claim(device)))
                        .condition_expression("trial_id = :t")
                        .expression_attribute_values(":t", s(&trial.trial_id))
                        .send()
                        .await;
                    match result {
                        Ok(_) => deleted += 1,
                        Err(e) if crate::store::is_condition_failed(&e) => {}
                        Err(e) => return Err(crate::aws::failure("DeleteItem", e)),
                    }
                }
                let record = format!("TRIAL#{}", trial.trial_id);
                deleted += usize::from(self.0.delete("pk", &record).await?);
            }
            Ok(deleted)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::email::EmailAddress;

    fn person() -> Person {
        let email = EmailAddress::parse("ann@example.com").unwrap();
        let former = EmailAddress::parse("ann.old@example.com").unwrap();
        Person {
            email: email.clone(),
            email_hash: "h".to_owned(),
            contact: email.clone(),
            addresses: vec![
                super::super::Address {
                    email,
                    hash: "h".to_owned(),
                },
                super::super::Address {
                    email: former,
                    hash: "f".to_owned(),
                },
            ],
            wallet_ids: vec!["w1".to_owned()],
            trials: vec![
                super::super::LinkedTrial {
                    trial_id: "t1".to_owned(),
                    device_id: Some("d1".to_owned()),
                },
                super::super::LinkedTrial {
                    trial_id: "t2".to_owned(),
                    device_id: None,
                },
            ],
            locale: Default::default(),
            now: 0,
        }
    }

    #[test]
    fn the_person_owns_the_generations_of_wallets_and_saved_trials() {
        let p = person();
        assert_eq!(p.owners(), ["w1", "trial-t1", "trial-t2"]);
        assert_eq!(p.trial_devices().collect::<Vec<_>>(), ["d1"]);
    }

    #[test]
    fn rate_limit_counters_are_found_by_email_hash_and_wallet() {
        assert_eq!(
            RateLimitStore::keys(&person()),
            [
                "otp-resend#h",
                "otp-email#h",
                "otp-resend#f",
                "otp-email#f",
                "marketing-wallet#w1",
                "email-change-wallet#w1",
                "email-verify-wallet#w1",
                "privacy-choices-wallet#w1"
            ]
        );
    }
}
