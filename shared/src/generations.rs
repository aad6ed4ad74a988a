//! Generation records: one item per uploaded selfie, from the presigned upload through
//! moderation and generation to the deliverables, with the credits reserved for it.
//!
//! Every step is a conditional state transition, so redelivered SQS messages, duplicate S3
//! events and concurrent workers can repeat a step without repeating its effect: credits are
//! reserved, charged or returned exactly once. Found by wallet through the `by-wallet`
//! index (listing, export, erasure); blocked selfies through the sparse `review-queue` index;
//! selfies still held, by the time they are due for deletion, through the sparse
//! `selfie-due` index (retention-cron).

use std::collections::BTreeMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use serde::Serialize;

use crate::clock::UnixSeconds;
use crate::generation::style::Style;
use crate::store::{Item, StoreError, get_n, get_s, is_condition_failed, n, require, s};
use crate::wallets::Wallets;

/// What a person can order for one selfie. The avatar is always made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Product {
    Avatar,
    Stickers,
    SpeechBubble,
}

impl Product {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Avatar => "avatar",
            Self::Stickers => "stickers",
            Self::SpeechBubble => "speech_bubble",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "avatar" => Some(Self::Avatar),
            "stickers" => Some(Self::Stickers),
            "speech_bubble" => Some(Self::SpeechBubble),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Presigned; the selfie has not arrived yet.
    AwaitingUpload,
    /// Allowed by moderation (or approved by an admin); a job is on the queue.
    Queued,
    Generating,
    Ready,
    /// Blocked by moderation; waiting for an admin, deleted on day 5 at the latest.
    Blocked,
    /// A blocked selfie an admin confirmed, or that expired: deleted.
    Removed,
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AwaitingUpload => "awaiting_upload",
            Self::Queued => "queued",
            Self::Generating => "generating",
            Self::Ready => "ready",
            Self::Blocked => "blocked",
            Self::Removed => "removed",
            Self::Failed => "failed",
        }
    }

    fn parse(value: &str) -> Option<Self> {
        [
            Self::AwaitingUpload,
            Self::Queued,
            Self::Generating,
            Self::Ready,
            Self::Blocked,
            Self::Removed,
            Self::Failed,
        ]
        .into_iter()
        .find(|status| status.as_str() == value)
    }
}

/// Where the credits reserved for a generation stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Charge {
    Reserved,
    Charged,
    Returned,
}

impl Charge {
    fn as_str(self) -> &'static str {
        match self {
            Self::Reserved => "reserved",
            Self::Charged => "charged",
            Self::Returned => "returned",
        }
    }

    fn parse(value: &str) -> Option<Self> {
        [Self::Reserved, Self::Charged, Self::Returned]
            .into_iter()
            .find(|charge| charge.as_str() == value)
    }
}

/// The owner of a free-trial generation is `trial-<trial id>` in place of a wallet id: a
/// trial has no wallet, so its credit changes (all of cost 0) touch no wallet.
const TRIAL_OWNER_PREFIX: &str = "trial-";

pub fn trial_owner(trial_id: &str) -> String {
    format!("{TRIAL_OWNER_PREFIX}{trial_id}")
}

#[derive(Debug, Clone, PartialEq)]
pub struct Generation {
    pub id: String,
    pub wallet_id: String,
    pub created_at: UnixSeconds,
    pub status: Status,
    pub style: Style,
    pub products: Vec<Product>,
    /// The speech-bubble text, embedded into the image; kept with the generation.
    pub quote: Option<String>,
    pub cost: i64,
    pub charge: Charge,
    pub selfie_key: String,
    pub content_type: String,
    pub content_length: i64,
    pub blocked_at: Option<UnixSeconds>,
    /// When moderation received the selfie (set once it is held in the bucket).
    pub selfie_uploaded_at: Option<UnixSeconds>,
    /// When the selfie was deleted from the bucket; the generation itself stays.
    pub selfie_deleted_at: Option<UnixSeconds>,
    /// Deliverable file name → object key in the generated bucket.
    pub deliverables: BTreeMap<String, String>,
    pub failure: Option<String>,
    /// The outcome of the review of a held selfie, once there is one.
    pub review_outcome: Option<ReviewOutcome>,
}

impl Generation {
    /// The trial this generation belongs to, if it is a free trial's.
    pub fn trial_id(&self) -> Option<&str> {
        self.wallet_id.strip_prefix(TRIAL_OWNER_PREFIX)
    }
}

/// A wallet credit change (`Wallets::reserve_credits` or `return_credits`): the balance
/// update and its ledger entry.
type CreditChange = fn(&Wallets, &str, i64, &str) -> Result<Vec<TransactWriteItem>, StoreError>;

/// Why a transition did not happen.
#[derive(Debug, thiserror::Error)]
pub enum TransitionError {
    /// The record is not in a state that allows it (already done, or never possible).
    #[error("the generation is not in a state that allows this")]
    NotAllowed,
    #[error("the wallet does not have enough credits")]
    InsufficientCredits,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Clone, Debug)]
pub struct Generations {
    client: Client,
    table: String,
    wallets: Wallets,
}

const BY_WALLET: &str = "by-wallet";
const REVIEW_QUEUE: &str = "review-queue";
const REVIEW_PENDING: &str = "pending";
/// Sparse index of uploads still awaited, so stale reservations can be found without a scan.
const UPLOAD_PENDING: &str = "upload-pending";
/// Sparse index of selfies still in the bucket, ordered by when they must be gone. An item
/// is in it from the selfie's arrival (`selfie_held`) until the selfie is deleted.
const SELFIE_DUE: &str = "selfie-due";
const SELFIE_HELD: &str = "held";

/// The policy's bound: an uploaded selfie is deleted 30 days after upload.
pub const SELFIE_RETENTION_SECONDS: i64 = 30 * 24 * 3600;
/// The policy's bound: a blocked selfie is gone 5 days after the block decision.
pub const BLOCKED_RETENTION_SECONDS: i64 = 5 * 24 * 3600;

/// An email about a held selfie, sent once per generation (its flag on the record).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// Moderation held the selfie for review (`held_email`).
    Held,
    /// A reviewer approved or confirmed the block (`review_email`).
    Reviewed,
}

impl Notice {
    fn flag(self) -> &'static str {
        match self {
            Self::Held => "held_email",
            Self::Reviewed => "review_email",
        }
    }
}

/// What happened to a held selfie once it left the review queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewOutcome {
    /// A reviewer found it fine: it was made after all.
    Approved,
    /// A reviewer confirmed the block: the selfie was deleted.
    Confirmed,
    /// No one reviewed it within 5 days: the selfie was deleted.
    Expired,
}

impl ReviewOutcome {
    fn parse(value: &str) -> Option<Self> {
        match value {
            "approved" => Some(Self::Approved),
            "confirmed" => Some(Self::Confirmed),
            "expired" => Some(Self::Expired),
            _ => None,
        }
    }
}

/// A held selfie that is due for deletion.
#[derive(Debug, Clone, PartialEq)]
pub struct DueSelfie {
    pub generation_id: String,
    pub selfie_key: String,
    pub due_at: UnixSeconds,
    /// Blocked selfies also leave the review queue when they go.
    pub blocked: bool,
}

impl Generations {
    pub fn new(client: Client, table: impl Into<String>, wallets: Wallets) -> Self {
        Self {
            client,
            table: table.into(),
            wallets,
        }
    }

    /// Records a new generation and reserves its cost from the wallet, atomically.
    pub async fn create_reserved(&self, generation: &Generation) -> Result<(), TransitionError> {
        let mut writes = self.wallet_write(generation, Wallets::reserve_credits)?;
        writes.push(self.put_new(generation)?);
        self.transact(writes).await.map_err(|error| match error {
            TransitionError::NotAllowed => TransitionError::InsufficientCredits,
            other => other,
        })
    }

    /// The conditional put of a new generation, for a transaction that records what it is
    /// for (its credit reservation, or a free trial's claims).
    pub fn put_new(&self, generation: &Generation) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_item(generation)))
            .condition_expression("attribute_not_exists(generation_id)")
            .build()
            .map_err(|e| self.build_error(e))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// The wallet side of a credit change, or nothing for a trial (it has no wallet).
    fn wallet_write(
        &self,
        generation: &Generation,
        change: CreditChange,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        if generation.trial_id().is_some() {
            return Ok(Vec::new());
        }
        // The balance change and its ledger entry.
        change(
            &self.wallets,
            &generation.wallet_id,
            generation.cost,
            &generation.id,
        )
    }

    /// The generation `id`, if there is one. An id from a client's path that cannot be one
    /// of ours is none, without asking: DynamoDB refuses an empty key or one over 2048 bytes
    /// with a ValidationException, which would answer a 500 instead of a 404.
    pub async fn get(&self, id: &str) -> Result<Option<Generation>, StoreError> {
        if !could_be_generation_id(id) {
            return Ok(None);
        }
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("generation_id", s(id))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::from_sdk("GetItem", &self.table, &e))?;
        output.item.map(|item| self.read_item(&item)).transpose()
    }

    /// Deletes the record of a finished generation of `wallet_id` (its owner's request; the
    /// files go first, see `uploads`). `false` when it is not theirs or still in progress.
    /// Its ledger entries stay: they name the generation id, not the person.
    pub async fn delete_finished(&self, id: &str, wallet_id: &str) -> Result<bool, StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("generation_id", s(id))
            .condition_expression(
                "wallet_id = :wallet AND #status IN (:ready, :blocked, :removed, :failed)",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":wallet", s(wallet_id))
            .expression_attribute_values(":ready", s(Status::Ready.as_str()))
            .expression_attribute_values(":blocked", s(Status::Blocked.as_str()))
            .expression_attribute_values(":removed", s(Status::Removed.as_str()))
            .expression_attribute_values(":failed", s(Status::Failed.as_str()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(error) if is_condition_failed(&error) => Ok(false),
            Err(error) => Err(StoreError::from_sdk("DeleteItem", &self.table, &error)),
        }
    }

    /// Deletes the generation record of an expired free trial (its files go first). Only a
    /// trial's own record: the condition checks its owner. True when there was one.
    pub async fn delete_trial(&self, trial_id: &str) -> Result<bool, StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("generation_id", s(trial_id))
            .condition_expression("wallet_id = :owner")
            .expression_attribute_values(":owner", s(trial_owner(trial_id)))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(error) if is_condition_failed(&error) => Ok(false),
            Err(error) => Err(StoreError::from_sdk("DeleteItem", &self.table, &error)),
        }
    }

    /// The wallet's generations, newest first.
    pub async fn list_for_wallet(
        &self,
        wallet_id: &str,
        limit: i32,
    ) -> Result<Vec<Generation>, StoreError> {
        self.query_index(
            BY_WALLET,
            "wallet_id = :key",
            &[(":key", s(wallet_id))],
            false,
            limit,
        )
        .await
    }

    /// Blocked selfies waiting for an admin, oldest block first.
    pub async fn review_queue(&self, limit: i32) -> Result<Vec<Generation>, StoreError> {
        self.query_index(
            REVIEW_QUEUE,
            "review_state = :key",
            &[(":key", s(REVIEW_PENDING))],
            true,
            limit,
        )
        .await
    }

    /// Presigned uploads created before `before` whose selfie never arrived.
    pub async fn stale_uploads(
        &self,
        before: UnixSeconds,
        limit: i32,
    ) -> Result<Vec<Generation>, StoreError> {
        self.query_index(
            UPLOAD_PENDING,
            "upload_pending = :key AND created_at < :before",
            &[(":key", s("pending")), (":before", n(before))],
            true,
            limit,
        )
        .await
    }

    /// One page of held selfies due by `due_by`, earliest first, and where the next page
    /// starts (the `selfie-due` index; projected keys only, so a page is cheap).
    pub async fn due_selfies(
        &self,
        due_by: UnixSeconds,
        limit: i32,
        start: Option<Item>,
    ) -> Result<(Vec<DueSelfie>, Option<Item>), StoreError> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(SELFIE_DUE)
            .key_condition_expression("selfie_held = :held AND selfie_due_at <= :due")
            .expression_attribute_values(":held", s(SELFIE_HELD))
            .expression_attribute_values(":due", n(due_by))
            .scan_index_forward(true)
            .limit(limit)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| StoreError::from_sdk("Query", &self.table, &e))?;
        let table = &self.table;
        let due = output
            .items()
            .iter()
            .map(|item| {
                Ok(DueSelfie {
                    generation_id: require(get_s(item, "generation_id"), table, "generation_id")?
                        .to_owned(),
                    selfie_key: require(get_s(item, "selfie_key"), table, "selfie_key")?.to_owned(),
                    due_at: require(get_n(item, "selfie_due_at"), table, "selfie_due_at")?,
                    blocked: get_s(item, "status") == Some(Status::Blocked.as_str()),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok((due, output.last_evaluated_key))
    }

    /// Records that the selfies' objects are deleted: one conditional UpdateItem per record
    /// (up to 25 in flight), because each must still be held and due when it moves, so a
    /// concurrent run or an admin's decision in between is never overwritten. (BatchWriteItem
    /// has no conditions and no updates; a TransactWriteItems of many records is cancelled
    /// whole by one record a concurrent run already moved.) Returns how many records this
    /// call moved; a concurrent run's share is not counted.
    pub async fn mark_selfies_deleted(
        &self,
        selfies: &[DueSelfie],
        due_by: UnixSeconds,
        now: UnixSeconds,
    ) -> Result<usize, StoreError> {
        let mut marked = 0;
        for chunk in selfies.chunks(25) {
            let mut running = tokio::task::JoinSet::new();
            for selfie in chunk {
                let (this, selfie) = (self.clone(), selfie.clone());
                running.spawn(async move { this.mark_selfie_deleted(&selfie, due_by, now).await });
            }
            while let Some(joined) = running.join_next().await {
                let moved = joined
                    .map_err(|e| StoreError::new("UpdateItem", &self.table, e.to_string()))??;
                marked += usize::from(moved);
            }
        }
        Ok(marked)
    }

    async fn mark_selfie_deleted(
        &self,
        selfie: &DueSelfie,
        due_by: UnixSeconds,
        now: UnixSeconds,
    ) -> Result<bool, StoreError> {
        let (update, condition, values) = selfie_deleted_transition(selfie, due_by, now);
        match self
            .update(&selfie.generation_id, update, condition, &values)
            .await
        {
            Ok(()) => Ok(true),
            Err(TransitionError::NotAllowed | TransitionError::InsufficientCredits) => Ok(false),
            Err(TransitionError::Store(error)) => Err(error),
        }
    }

    async fn query_index(
        &self,
        index: &str,
        key_condition: &str,
        values: &[(&str, AttributeValue)],
        ascending: bool,
        limit: i32,
    ) -> Result<Vec<Generation>, StoreError> {
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression(key_condition)
            .scan_index_forward(ascending)
            .limit(limit);
        for (name, value) in values {
            query = query.expression_attribute_values(*name, value.clone());
        }
        let output = query
            .send()
            .await
            .map_err(|e| StoreError::from_sdk("Query", &self.table, &e))?;
        output
            .items()
            .iter()
            .map(|item| self.read_item(item))
            .collect()
    }

    /// Moderation allowed the selfie (or an admin approved it): a job may be queued.
    /// The selfie arrived at `now`: from here it is held, due for deletion 30 days later.
    pub async fn mark_queued(&self, id: &str, now: UnixSeconds) -> Result<(), TransitionError> {
        self.update(
            id,
            "SET #status = :queued, selfie_held = :held, selfie_uploaded_at = :now, selfie_due_at = :due REMOVE upload_pending",
            "#status = :awaiting",
            &[
                (":queued", s(Status::Queued.as_str())),
                (":awaiting", s(Status::AwaitingUpload.as_str())),
                (":held", s(SELFIE_HELD)),
                (":now", n(now)),
                (":due", n(now + SELFIE_RETENTION_SECONDS)),
            ],
        )
        .await
    }

    /// Moderation blocked the selfie: it waits for review and the credits go back, once.
    pub async fn block(
        &self,
        generation: &Generation,
        now: UnixSeconds,
    ) -> Result<(), TransitionError> {
        let update = self.update_op(
            &generation.id,
            "SET #status = :blocked, blocked_at = :now, review_state = :pending, charge = :returned, selfie_held = :held, selfie_uploaded_at = :now, selfie_due_at = :due REMOVE upload_pending",
            "#status = :awaiting AND charge = :reserved",
            &[
                (":blocked", s(Status::Blocked.as_str())),
                (":now", n(now)),
                (":held", s(SELFIE_HELD)),
                // Blocked at upload: day 5 of the block comes before day 30 of the upload.
                (":due", n(now + BLOCKED_RETENTION_SECONDS)),
                (":pending", s(REVIEW_PENDING)),
                (":returned", s(Charge::Returned.as_str())),
                (":awaiting", s(Status::AwaitingUpload.as_str())),
                (":reserved", s(Charge::Reserved.as_str())),
            ],
        )?;
        let mut writes = vec![update];
        writes.extend(self.wallet_write(generation, Wallets::return_credits)?);
        self.transact(writes).await
    }

    /// An admin found the block a false positive: the credits are reserved again and the
    /// job goes on to generation.
    pub async fn approve(&self, generation: &Generation) -> Result<(), TransitionError> {
        let update = self.update_op(
            &generation.id,
            // A false positive is an ordinary selfie again: 30 days from its upload, which
            // is when it was blocked (moderation runs as it arrives).
            "SET #status = :queued, charge = :reserved, review_state_done = :approved, selfie_due_at = blocked_at + :window REMOVE review_state",
            "#status = :blocked AND review_state = :pending",
            &[
                (":window", n(SELFIE_RETENTION_SECONDS)),
                (":queued", s(Status::Queued.as_str())),
                (":reserved", s(Charge::Reserved.as_str())),
                (":approved", s("approved")),
                (":blocked", s(Status::Blocked.as_str())),
                (":pending", s(REVIEW_PENDING)),
            ],
        )?;
        let mut writes = vec![update];
        writes.extend(self.wallet_write(generation, Wallets::reserve_credits)?);
        match self.transact(writes).await {
            Err(TransitionError::NotAllowed) => {
                // Tell apart "already reviewed" from "the credits are gone".
                let current = self.get(&generation.id).await?;
                match current {
                    Some(g) if g.status == Status::Blocked => {
                        Err(TransitionError::InsufficientCredits)
                    }
                    _ => Err(TransitionError::NotAllowed),
                }
            }
            other => other,
        }
    }

    /// A blocked selfie is gone (an admin confirmed the block).
    pub async fn mark_removed(
        &self,
        id: &str,
        reason: &str,
        now: UnixSeconds,
    ) -> Result<(), TransitionError> {
        self.update(
            id,
            "SET #status = :removed, review_state_done = :reason, selfie_deleted_at = :now REMOVE review_state, selfie_held, selfie_due_at",
            "#status = :blocked",
            &[
                (":removed", s(Status::Removed.as_str())),
                (":reason", s(reason)),
                (":now", n(now)),
                (":blocked", s(Status::Blocked.as_str())),
            ],
        )
        .await
    }

    /// Takes the job for one worker until `lease_until`. A job whose worker died (its lease
    /// ran out) can be taken again; a finished one cannot.
    pub async fn claim(
        &self,
        id: &str,
        now: UnixSeconds,
        lease_until: UnixSeconds,
    ) -> Result<(), TransitionError> {
        self.update(
            id,
            "SET #status = :generating, lease_until = :lease ADD attempts :one",
            "#status = :queued OR (#status = :generating AND lease_until < :now)",
            &[
                (":generating", s(Status::Generating.as_str())),
                (":lease", n(lease_until)),
                (":one", n(1)),
                (":queued", s(Status::Queued.as_str())),
                (":now", n(now)),
            ],
        )
        .await
    }

    /// The deliverables are stored: the job is ready and its credits are charged, once.
    pub async fn complete(
        &self,
        id: &str,
        deliverables: &BTreeMap<String, String>,
    ) -> Result<(), TransitionError> {
        let files: std::collections::HashMap<String, AttributeValue> = deliverables
            .iter()
            .map(|(name, key)| (name.clone(), s(key)))
            .collect();
        self.update(
            id,
            "SET #status = :ready, charge = :charged, deliverables = :files REMOVE lease_until",
            "#status = :generating AND charge = :reserved",
            &[
                (":ready", s(Status::Ready.as_str())),
                (":charged", s(Charge::Charged.as_str())),
                (":files", AttributeValue::M(files)),
                (":generating", s(Status::Generating.as_str())),
                (":reserved", s(Charge::Reserved.as_str())),
            ],
        )
        .await
    }

    /// The upload or job cannot be done: it says why, and the credits go back, once.
    pub async fn fail(&self, generation: &Generation, reason: &str) -> Result<(), TransitionError> {
        let update = self.update_op(
            &generation.id,
            "SET #status = :failed, failure = :reason, charge = :returned REMOVE lease_until, upload_pending",
            "#status IN (:awaiting, :queued, :generating) AND charge = :reserved",
            &[
                (":failed", s(Status::Failed.as_str())),
                (":reason", s(reason)),
                (":returned", s(Charge::Returned.as_str())),
                (":awaiting", s(Status::AwaitingUpload.as_str())),
                (":queued", s(Status::Queued.as_str())),
                (":generating", s(Status::Generating.as_str())),
                (":reserved", s(Charge::Reserved.as_str())),
            ],
        )?;
        let mut writes = vec![update];
        writes.extend(self.wallet_write(generation, Wallets::return_credits)?);
        self.transact(writes).await
    }

    /// Claims the email `notice` of a generation: true only for the first caller. The
    /// "held for review" notice is claimed only while the selfie is still held, so it never
    /// goes after the review's outcome.
    pub async fn claim_notice(&self, id: &str, notice: Notice) -> Result<bool, StoreError> {
        let (condition, values) = match notice {
            Notice::Held => (
                "#status = :blocked AND attribute_not_exists(#flag)",
                vec![(":blocked", s(Status::Blocked.as_str()))],
            ),
            Notice::Reviewed => (
                "attribute_exists(generation_id) AND attribute_not_exists(#flag)",
                vec![],
            ),
        };
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("generation_id", s(id))
            .update_expression("SET #flag = :sent")
            .condition_expression(condition)
            .expression_attribute_names("#flag", notice.flag())
            .expression_attribute_values(":sent", s("sent"));
        if notice == Notice::Held {
            request = request.expression_attribute_names("#status", "status");
        }
        for (name, value) in values {
            request = request.expression_attribute_values(name, value);
        }
        match request.send().await {
            Ok(_) => Ok(true),
            Err(error) if is_condition_failed(&error) => Ok(false),
            Err(error) => Err(StoreError::from_sdk("UpdateItem", &self.table, &error)),
        }
    }

    /// Gives a claimed notice back (its email was not sent), so a retry sends it.
    pub async fn release_notice(&self, id: &str, notice: Notice) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("generation_id", s(id))
            .update_expression("REMOVE #flag")
            .expression_attribute_names("#flag", notice.flag())
            .send()
            .await
            .map_err(|error| StoreError::from_sdk("UpdateItem", &self.table, &error))?;
        Ok(())
    }

    /// Records that the "ready" email went out; true only for the first caller.
    pub async fn claim_ready_email(&self, id: &str) -> Result<bool, StoreError> {
        match self
            .update(
                id,
                "SET ready_email = :sent",
                "#status = :ready AND attribute_not_exists(ready_email)",
                &[(":sent", s("sent")), (":ready", s(Status::Ready.as_str()))],
            )
            .await
        {
            Ok(()) => Ok(true),
            Err(TransitionError::NotAllowed) => Ok(false),
            Err(TransitionError::Store(error)) => Err(error),
            Err(TransitionError::InsufficientCredits) => Ok(false),
        }
    }

    async fn update(
        &self,
        id: &str,
        update: &str,
        condition: &str,
        values: &[(&str, AttributeValue)],
    ) -> Result<(), TransitionError> {
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("generation_id", s(id))
            .update_expression(update)
            .condition_expression(condition)
            .expression_attribute_names("#status", "status");
        for (name, value) in values {
            request = request.expression_attribute_values(*name, value.clone());
        }
        match request.send().await {
            Ok(_) => Ok(()),
            Err(error) if is_condition_failed(&error) => Err(TransitionError::NotAllowed),
            Err(error) => Err(StoreError::from_sdk("UpdateItem", &self.table, &error).into()),
        }
    }

    fn update_op(
        &self,
        id: &str,
        update: &str,
        condition: &str,
        values: &[(&str, AttributeValue)],
    ) -> Result<TransactWriteItem, StoreError> {
        let mut builder = Update::builder()
            .table_name(&self.table)
            .key("generation_id", s(id))
            .update_expression(update)
            .condition_expression(condition)
            .expression_attribute_names("#status", "status");
        for (name, value) in values {
            builder = builder.expression_attribute_values(*name, value.clone());
        }
        let update = builder.build().map_err(|e| self.build_error(e))?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<(), TransitionError> {
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(error) => {
                let cancelled = error
                    .as_service_error()
                    .is_some_and(|e| e.is_transaction_canceled_exception());
                if cancelled {
                    Err(TransitionError::NotAllowed)
                } else {
                    Err(StoreError::from_sdk("TransactWriteItems", &self.table, &error).into())
                }
            }
        }
    }

    fn build_error(&self, error: impl std::fmt::Display) -> StoreError {
        StoreError::new("TransactWriteItems", &self.table, error.to_string())
    }

    fn read_item(&self, item: &Item) -> Result<Generation, StoreError> {
        let table = &self.table;
        let products = match item.get("products") {
            Some(AttributeValue::L(values)) => values
                .iter()
                .filter_map(|v| v.as_s().ok().and_then(|p| Product::parse(p)))
                .collect(),
            _ => Vec::new(),
        };
        let deliverables = match item.get("deliverables") {
            Some(AttributeValue::M(files)) => files
                .iter()
                .filter_map(|(name, key)| Some((name.clone(), key.as_s().ok()?.clone())))
                .collect(),
            _ => BTreeMap::new(),
        };
        Ok(Generation {
            id: require(get_s(item, "generation_id"), table, "generation_id")?.to_owned(),
            wallet_id: require(get_s(item, "wallet_id"), table, "wallet_id")?.to_owned(),
            created_at: require(get_n(item, "created_at"), table, "created_at")?,
            status: require(
                get_s(item, "status").and_then(Status::parse),
                table,
                "status",
            )?,
            style: require(
                get_s(item, "style").and_then(|v| v.parse().ok()),
                table,
                "style",
            )?,
            products,
            quote: get_s(item, "quote").map(str::to_owned),
            cost: require(get_n(item, "cost"), table, "cost")?,
            charge: require(
                get_s(item, "charge").and_then(Charge::parse),
                table,
                "charge",
            )?,
            selfie_key: require(get_s(item, "selfie_key"), table, "selfie_key")?.to_owned(),
            content_type: require(get_s(item, "content_type"), table, "content_type")?.to_owned(),
            content_length: require(get_n(item, "content_length"), table, "content_length")?,
            blocked_at: get_n(item, "blocked_at"),
            selfie_uploaded_at: get_n(item, "selfie_uploaded_at"),
            selfie_deleted_at: get_n(item, "selfie_deleted_at"),
            deliverables,
            failure: get_s(item, "failure").map(str::to_owned),
            review_outcome: get_s(item, "review_state_done").and_then(ReviewOutcome::parse),
        })
    }
}

/// The update that records a due selfie deleted; a blocked one also leaves the review queue.
fn selfie_deleted_transition(
    selfie: &DueSelfie,
    due_by: UnixSeconds,
    now: UnixSeconds,
) -> (
    &'static str,
    &'static str,
    Vec<(&'static str, AttributeValue)>,
) {
    let mut values = vec![
        (":now", n(now)),
        (":due", n(due_by)),
        (":held", s(SELFIE_HELD)),
        (":blocked", s(Status::Blocked.as_str())),
    ];
    if selfie.blocked {
        values.push((":removed", s(Status::Removed.as_str())));
        values.push((":expired", s("expired")));
        (
            "SET #status = :removed, review_state_done = :expired, selfie_deleted_at = :now REMOVE review_state, selfie_held, selfie_due_at",
            "selfie_held = :held AND selfie_due_at <= :due AND #status = :blocked",
            values,
        )
    } else {
        (
            "SET selfie_deleted_at = :now REMOVE selfie_held, selfie_due_at",
            "selfie_held = :held AND selfie_due_at <= :due AND #status <> :blocked",
            values,
        )
    }
}

fn to_item(generation: &Generation) -> Item {
    let mut item: Item = [
        ("generation_id", s(&generation.id)),
        ("wallet_id", s(&generation.wallet_id)),
        ("created_at", n(generation.created_at)),
        ("status", s(generation.status.as_str())),
        ("style", s(generation.style.as_str())),
        (
            "products",
            AttributeValue::L(generation.products.iter().map(|p| s(p.as_str())).collect()),
        ),
        ("cost", n(generation.cost)),
        ("charge", s(generation.charge.as_str())),
        ("selfie_key", s(&generation.selfie_key)),
        ("content_type", s(&generation.content_type)),
        ("content_length", n(generation.content_length)),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value))
    .collect();
    if let Some(quote) = &generation.quote {
        item.insert("quote".to_owned(), s(quote));
    }
    if generation.status == Status::AwaitingUpload {
        item.insert("upload_pending".to_owned(), s("pending"));
    }
    item
}

/// Every generation id is a `Uuid::new_v4` (orders and trials alike).
fn could_be_generation_id(id: &str) -> bool {
    uuid::Uuid::try_parse(id).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_uuids_can_be_generation_ids() {
        assert!(could_be_generation_id(&uuid::Uuid::new_v4().to_string()));
        assert!(!could_be_generation_id(""));
        assert!(!could_be_generation_id(&"a".repeat(3000)));
        assert!(!could_be_generation_id("../wallets"));
    }
}
