//! The `retention-cron` job: the retention windows that DynamoDB TTL cannot keep alone.
//!
//! A run is a list of steps ([`RetentionStep`]), each finding its due work through a key
//! or an index ordered by due time (never a Scan):
//!
//! * `selfies`: selfies 30 days after upload, blocked selfies 5 days after the block
//!   decision (`selfie-due` index on the generations table). Objects go in `DeleteObjects`
//!   batches of up to 1,000 keys; only keys S3 reports deleted are recorded, in conditional
//!   transactions of up to 100 records. The generation record stays and says when its
//!   selfie was deleted; the generated deliverables stay with the wallet.
//! * `abandoned_uploads`: orders whose selfie never arrived give their credits back.
//! * `expired_trials`: a free trial ends with its link: its avatar and other generated
//!   files, its selfie, its generation record and its trial record are deleted, and its
//!   device claim forgets it (`expiring` index of the trials table).
//! * Steps added with [`RetentionJob::with_step`]: due erasures and expired exports
//!   (privacy rights) plug in there.
//!
//! Safe to run twice at once: S3 deletion is idempotent and every record change is a
//! conditional transition, so each record moves (and is counted) once. What a run did is
//! one structured log line and one CloudWatch Embedded Metric Format line ([`emf_line`]).

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use aws_config::SdkConfig;
use serde_json::{Map, Value, json};
use tracing::{error, info, warn};

use crate::billing::ledger::Ledger;
use crate::clock::{Clock, UnixSeconds};
use crate::config::{ConfigError, EnvSource, Settings, Stage};
use crate::expiring::{self, SweptTable};
use crate::generations::{Generations, TransitionError};
use crate::rights::Rights;
use crate::rights::erasure::Erasures;
use crate::rights::stores::Bucket;
use crate::trials::Trials;
use crate::wallets::Wallets;

/// The job runs hourly; anything due before the next run goes now, so nothing outlives its
/// window by waiting for the next run.
pub const RUN_INTERVAL_SECONDS: i64 = 3600;
/// A presigned upload URL lives minutes (`UPLOAD_URL_TTL_SECONDS`); after an hour without
/// its selfie the order is abandoned.
const ABANDONED_AFTER_SECONDS: i64 = 3600;
/// `DeleteObjects` takes at most 1,000 keys; a page of due selfies is one such batch.
const DELETE_BATCH: usize = 1000;
/// The CloudWatch namespace of the job's metrics.
pub const METRICS_NAMESPACE: &str = "Anumi/Retention";

#[derive(Clone, Debug)]
pub struct RetentionConfig {
    pub wallets_table: String,
    /// `LEDGER_TABLE`: every credit change is recorded there.
    pub ledger_table: String,
    pub generations_table: String,
    pub selfie_bucket: String,
    /// Tables whose items are keyed by a hashed IP or email (see `expiring`).
    pub rate_limits_table: String,
    pub trials_table: String,
    pub stage: Stage,
    /// Every store of personal data, for due erasures and expired exports.
    pub rights: crate::rights::StoresConfig,
}

impl RetentionConfig {
    pub fn from_env(source: &dyn EnvSource) -> Result<Self, ConfigError> {
        let settings = Settings::new(source);
        Ok(Self {
            wallets_table: settings.required("WALLETS_TABLE")?,
            ledger_table: settings.required("LEDGER_TABLE")?,
            generations_table: settings.required("GENERATIONS_TABLE")?,
            selfie_bucket: settings.required("SELFIE_BUCKET")?,
            rate_limits_table: settings.required("RATE_LIMITS_TABLE")?,
            trials_table: settings.required("TRIALS_TABLE")?,
            stage: crate::config::stage(source)?,
            rights: crate::rights::StoresConfig::from_env(source)?,
        })
    }
}

/// The time a run works at: `now`, and `due_by`, the end of the next run's interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunContext {
    pub now: UnixSeconds,
    pub due_by: UnixSeconds,
}

/// What a step did: metric name (CamelCase, a count) → value.
pub type StepCounts = BTreeMap<&'static str, u64>;

pub type StepFuture<'a> = Pin<Box<dyn Future<Output = Result<StepCounts, String>> + Send + 'a>>;

/// One kind of due work. A step finds its work by key or index (never a Scan), is safe to
/// run twice at once, and reports counts; a failing step does not stop the others.
pub trait RetentionStep: Send + Sync + Debug {
    /// Its name in the log line (snake_case).
    fn name(&self) -> &'static str;
    fn run<'a>(&'a self, context: RunContext) -> StepFuture<'a>;
}

/// A run's outcome: each step's counts or error.
#[derive(Debug, Clone, PartialEq)]
pub struct RunReport {
    pub context: RunContext,
    pub steps: Vec<(&'static str, Result<StepCounts, String>)>,
}

impl RunReport {
    /// The sum of one metric over every step.
    pub fn count(&self, metric: &str) -> u64 {
        self.steps
            .iter()
            .filter_map(|(_, result)| result.as_ref().ok()?.get(metric).copied())
            .sum()
    }

    /// The report, or an error naming the failed steps.
    pub fn into_result(self) -> Result<Self, String> {
        match self.failed_steps().as_slice() {
            [] => Ok(self),
            failed => Err(format!("retention steps failed: {}", failed.join(", "))),
        }
    }

    pub fn failed_steps(&self) -> Vec<&'static str> {
        self.steps
            .iter()
            .filter(|(_, result)| result.is_err())
            .map(|(name, _)| *name)
            .collect()
    }

    /// The response of the Lambda invocation and the fields of the log line.
    pub fn to_json(&self) -> Value {
        let steps: Map<String, Value> = self
            .steps
            .iter()
            .map(|(name, result)| {
                let value = match result {
                    Ok(counts) => json!(counts),
                    Err(message) => json!({ "error": message }),
                };
                ((*name).to_owned(), value)
            })
            .collect();
        json!({ "now": self.context.now, "due_by": self.context.due_by, "steps": steps })
    }
}

/// One CloudWatch Embedded Metric Format record (one JSON object for one log line): every
/// step's counts as `Count` metrics plus `FailedSteps`, in [`METRICS_NAMESPACE`] with the
/// dimension `Job = retention-cron`. `timestamp_ms` is wall time in milliseconds.
pub fn emf_line(report: &RunReport, timestamp_ms: i64) -> Value {
    let mut values: BTreeMap<String, u64> = BTreeMap::new();
    for (_, result) in &report.steps {
        if let Ok(counts) = result {
            for (name, value) in counts {
                *values.entry((*name).to_owned()).or_default() += value;
            }
        }
    }
    values.insert("FailedSteps".to_owned(), report.failed_steps().len() as u64);
    let metrics: Vec<Value> = values
        .keys()
        .map(|name| json!({ "Name": name, "Unit": "Count" }))
        .collect();
    let mut line = Map::new();
    line.insert(
        "_aws".to_owned(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": METRICS_NAMESPACE,
                "Dimensions": [["Job"]],
                "Metrics": metrics,
            }],
        }),
    );
    line.insert("Job".to_owned(), json!("retention-cron"));
    for (name, value) in values {
        line.insert(name, json!(value));
    }
    Value::Object(line)
}

#[derive(Debug)]
pub struct RetentionJob {
    steps: Vec<Box<dyn RetentionStep>>,
    clock: Arc<dyn Clock>,
    stage: Stage,
}

impl RetentionJob {
    pub fn new(config: RetentionConfig, aws: &SdkConfig, clock: Arc<dyn Clock>) -> Self {
        let privacy = PrivacyRequests {
            erasures: Erasures::new(Rights::new(config.rights.clone(), aws)),
        };
        Self::from_clients(
            config,
            crate::aws::dynamodb(aws),
            crate::aws::s3(aws),
            clock,
        )
        .with_step(Box::new(privacy))
    }

    /// With given clients (the request-count figure wraps them in a counting interceptor).
    pub fn from_clients(
        config: RetentionConfig,
        dynamodb: aws_sdk_dynamodb::Client,
        s3: aws_sdk_s3::Client,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let wallets = Wallets::new(dynamodb.clone(), &config.wallets_table).with_ledger(
            Ledger::new(dynamodb.clone(), &config.ledger_table, clock.clone()),
        );
        let generations = Generations::new(dynamodb.clone(), &config.generations_table, wallets);
        let expired_trials = ExpiredTrials {
            trials: Trials::new(dynamodb.clone(), &config.trials_table),
            generations: generations.clone(),
            selfies: Bucket {
                client: s3.clone(),
                bucket: config.selfie_bucket.clone(),
            },
            generated: Bucket {
                client: s3.clone(),
                bucket: config.rights.generated_bucket.clone(),
            },
        };
        let hashed_keys = ExpiredHashedKeys {
            dynamodb,
            tables: vec![
                SweptTable {
                    table: config.rate_limits_table,
                    key_attributes: vec!["pk"],
                },
                SweptTable {
                    table: config.trials_table,
                    key_attributes: vec!["pk"],
                },
            ],
        };
        Self {
            steps: vec![
                Box::new(SelfieDeletion {
                    generations: generations.clone(),
                    selfies: Bucket {
                        client: s3,
                        bucket: config.selfie_bucket,
                    },
                }),
                Box::new(AbandonedUploads { generations }),
                Box::new(expired_trials),
                Box::new(hashed_keys),
            ],
            clock,
            stage: config.stage,
        }
    }

    /// Adds a step that runs after the built-in ones (due erasures, expired exports).
    pub fn with_step(mut self, step: Box<dyn RetentionStep>) -> Self {
        self.steps.push(step);
        self
    }

    /// One run at the clock's time; an error names the steps that failed (after every step
    /// ran).
    pub async fn run(&self) -> Result<RunReport, String> {
        self.run_at(self.clock.now()).await.into_result()
    }

    /// One run for the scheduled `event`. Outside production, the local stack's `trigger
    /// --clock-offset` may move this run's time (`detail.clock_offset_seconds`) to try
    /// retention by hand; production refuses such an event. Logs the run and its metrics;
    /// a failed step fails the invocation (after the other steps ran) so it alarms.
    pub async fn handle(&self, event: &Value) -> Result<Value, String> {
        let offset = event
            .pointer("/detail/clock_offset_seconds")
            .and_then(Value::as_i64);
        let now = match offset {
            Some(offset) if self.stage == Stage::Prod => {
                error!(offset, "refused a clock offset in production");
                return Err("clock offsets are refused in production".to_owned());
            }
            Some(offset) => {
                warn!(offset, "this run's clock is moved (not production)");
                self.clock.now() + offset
            }
            None => self.clock.now(),
        };
        let report = self.run_at(now).await;
        print_emf(&report);
        report.into_result().map(|report| report.to_json())
    }

    /// One run at `now`; safe to run twice at once. Logs one line with what it did.
    pub async fn run_at(&self, now: UnixSeconds) -> RunReport {
        let context = RunContext {
            now,
            due_by: now + RUN_INTERVAL_SECONDS,
        };
        let mut steps = Vec::with_capacity(self.steps.len());
        for step in &self.steps {
            let result = step.run(context).await;
            if let Err(message) = &result {
                error!(step = step.name(), error = %message, "retention step failed");
            }
            steps.push((step.name(), result));
        }
        let report = RunReport { context, steps };
        info!(report = %report.to_json(), "retention run");
        report
    }
}

/// Writes the run's EMF record to stdout as its own line. Lambda sends stdout to CloudWatch
/// Logs, which extracts metrics from a log event that is exactly one such JSON object (the
/// `tracing` lines are separate events; `LogFormat: JSON` leaves a custom runtime's
/// stdout lines as they are).
fn print_emf(report: &RunReport) {
    use std::io::Write;
    let timestamp_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as i64);
    let line = emf_line(report, timestamp_ms).to_string();
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}");
    let _ = stdout.flush();
}

/// Selfies 30 days after upload and blocked selfies 5 days after the block decision.
#[derive(Debug)]
struct SelfieDeletion {
    generations: Generations,
    selfies: Bucket,
}

impl RetentionStep for SelfieDeletion {
    fn name(&self) -> &'static str {
        "selfies"
    }

    fn run<'a>(&'a self, context: RunContext) -> StepFuture<'a> {
        Box::pin(self.delete_due(context))
    }
}

impl SelfieDeletion {
    async fn delete_due(&self, context: RunContext) -> Result<StepCounts, String> {
        let mut counts = StepCounts::new();
        let mut start = None;
        loop {
            let (due, next) = self
                .generations
                .due_selfies(context.due_by, DELETE_BATCH as i32, start)
                .await
                .map_err(|e| e.to_string())?;
            if !due.is_empty() {
                let keys: Vec<String> = due.iter().map(|s| s.selfie_key.clone()).collect();
                let failed = self.selfies.delete_keys_reporting_failures(&keys).await?;
                for code in failed.values() {
                    warn!(code = %code, "S3 did not delete a selfie; retried next run");
                }
                // A key S3 could not delete stays held; the next run tries it again.
                let (deleted, kept): (Vec<_>, Vec<_>) = due
                    .into_iter()
                    .partition(|selfie| !failed.contains_key(&selfie.selfie_key));
                *counts.entry("SelfieDeleteErrors").or_default() += kept.len() as u64;
                let blocked: Vec<_> = deleted.iter().filter(|s| s.blocked).cloned().collect();
                let held: Vec<_> = deleted.into_iter().filter(|s| !s.blocked).collect();
                let marked = self
                    .generations
                    .mark_selfies_deleted(&held, context.due_by, context.now)
                    .await
                    .map_err(|e| e.to_string())?;
                *counts.entry("SelfiesDeleted").or_default() += marked as u64;
                let marked = self
                    .generations
                    .mark_selfies_deleted(&blocked, context.due_by, context.now)
                    .await
                    .map_err(|e| e.to_string())?;
                *counts.entry("BlockedSelfiesDeleted").or_default() += marked as u64;
            }
            match next {
                Some(key) => start = Some(key),
                None => break,
            }
        }
        Ok(counts)
    }
}

/// Rate-limit windows and trial address claims (hashed IPs and emails) once expired,
/// without waiting for DynamoDB's late TTL deletion.
#[derive(Debug)]
struct ExpiredHashedKeys {
    dynamodb: aws_sdk_dynamodb::Client,
    tables: Vec<SweptTable>,
}

impl RetentionStep for ExpiredHashedKeys {
    fn name(&self) -> &'static str {
        "expired_hashed_keys"
    }

    fn run<'a>(&'a self, context: RunContext) -> StepFuture<'a> {
        Box::pin(async move {
            let mut deleted = 0;
            for table in &self.tables {
                deleted += expiring::sweep(&self.dynamodb, table, context.now)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            Ok(StepCounts::from([("ExpiredHashedKeysDeleted", deleted)]))
        })
    }
}

/// Privacy requests that come due: erasures (everything requested before this run; the
/// policy allows 30 days, the job takes them within the hour) and export archives past their
/// 7 days (the bucket's lifecycle rule is the safety net).
#[derive(Debug)]
struct PrivacyRequests {
    erasures: Erasures,
}

impl RetentionStep for PrivacyRequests {
    fn name(&self) -> &'static str {
        "privacy_requests"
    }

    fn run<'a>(&'a self, context: RunContext) -> StepFuture<'a> {
        Box::pin(async move {
            let erased = self.erasures.run_due(context.now).await?;
            let exports = self.erasures.remove_expired_exports(context.now).await?;
            Ok(StepCounts::from([
                ("ErasuresCompleted", erased.erasures_completed as u64),
                ("ErasedItems", erased.items_deleted as u64),
                ("ExpiredExportsRemoved", exports as u64),
            ]))
        })
    }
}

/// Free trials whose link has expired: everything of the trial goes with the link. The
/// files go first and the trial record last, so a run cut short is finished by the next,
/// which still finds the record.
#[derive(Debug)]
struct ExpiredTrials {
    trials: Trials,
    generations: Generations,
    selfies: Bucket,
    generated: Bucket,
}

impl RetentionStep for ExpiredTrials {
    fn name(&self) -> &'static str {
        "expired_trials"
    }

    fn run<'a>(&'a self, context: RunContext) -> StepFuture<'a> {
        Box::pin(self.delete_expired(context))
    }
}

impl ExpiredTrials {
    async fn delete_expired(&self, context: RunContext) -> Result<StepCounts, String> {
        let mut deleted = 0;
        let mut start = None;
        loop {
            let (expired, next) = self
                .trials
                .expired(context.now, 100, start)
                .await
                .map_err(|e| e.to_string())?;
            for trial in &expired {
                let owner = crate::generations::trial_owner(&trial.trial_id);
                self.generated
                    .delete_prefix(&format!("generated/{owner}/"))
                    .await?;
                self.selfies
                    .delete_prefix(&format!("selfies/{owner}/"))
                    .await?;
                self.generations
                    .delete_trial(&trial.trial_id)
                    .await
                    .map_err(|e| e.to_string())?;
                let forgotten = self
                    .trials
                    .forget_expired(trial, context.now)
                    .await
                    .map_err(|e| e.to_string())?;
                deleted += u64::from(forgotten);
            }
            match next {
                Some(key) => start = Some(key),
                None => break,
            }
        }
        Ok(StepCounts::from([("ExpiredTrialsDeleted", deleted)]))
    }
}

/// Orders whose selfie never arrived: failed, their credits returned (once each).
#[derive(Debug)]
struct AbandonedUploads {
    generations: Generations,
}

impl RetentionStep for AbandonedUploads {
    fn name(&self) -> &'static str {
        "abandoned_uploads"
    }

    fn run<'a>(&'a self, context: RunContext) -> StepFuture<'a> {
        Box::pin(self.return_reservations(context))
    }
}

impl AbandonedUploads {
    async fn return_reservations(&self, context: RunContext) -> Result<StepCounts, String> {
        const PAGE: i32 = 100;
        let mut returned = 0;
        loop {
            let stale = self
                .generations
                .stale_uploads(context.now - ABANDONED_AFTER_SECONDS, PAGE)
                .await
                .map_err(|e| e.to_string())?;
            let mut moved = 0;
            for generation in &stale {
                // Each credit return is its own transaction: two orders of one wallet could
                // not share one (one item per transaction).
                match self
                    .generations
                    .fail(generation, "upload_not_received")
                    .await
                {
                    Ok(()) => {
                        returned += 1;
                        moved += 1;
                    }
                    Err(TransitionError::NotAllowed) => moved += 1,
                    Err(other) => return Err(other.to_string()),
                }
            }
            // Every listed order has left the index (ours or a concurrent run's); a short
            // page was the last.
            if stale.len() < PAGE as usize || moved == 0 {
                break;
            }
        }
        Ok(StepCounts::from([("AbandonedUploadsReturned", returned)]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> RunReport {
        RunReport {
            context: RunContext {
                now: 1_000,
                due_by: 4_600,
            },
            steps: vec![
                (
                    "selfies",
                    Ok(StepCounts::from([
                        ("SelfiesDeleted", 3),
                        ("BlockedSelfiesDeleted", 1),
                    ])),
                ),
                ("erasures", Err("boom".to_owned())),
            ],
        }
    }

    #[test]
    fn the_emf_line_is_one_object_cloudwatch_can_read() {
        let line = emf_line(&report(), 1_795_333_734_000);
        let text = line.to_string();
        assert!(!text.contains('\n'), "one log line");
        let parsed: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed["_aws"]["Timestamp"], json!(1_795_333_734_000_i64));
        let directive = &parsed["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], json!(METRICS_NAMESPACE));
        assert_eq!(directive["Dimensions"], json!([["Job"]]));
        assert_eq!(parsed["Job"], json!("retention-cron"));
        let metrics = directive["Metrics"].as_array().unwrap();
        let names: Vec<&str> = metrics
            .iter()
            .map(|m| m["Name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            ["BlockedSelfiesDeleted", "FailedSteps", "SelfiesDeleted"]
        );
        // Every metric has a unit and a numeric value at the top level, as the spec asks.
        for metric in metrics {
            assert_eq!(metric["Unit"], json!("Count"));
            assert!(parsed[metric["Name"].as_str().unwrap()].is_u64());
        }
        assert_eq!(parsed["SelfiesDeleted"], json!(3));
        assert_eq!(parsed["FailedSteps"], json!(1));
        // Every dimension named has a string value.
        assert!(parsed["Job"].is_string());
    }

    #[test]
    fn a_report_sums_a_metric_and_names_failed_steps() {
        let report = report();
        assert_eq!(report.count("SelfiesDeleted"), 3);
        assert_eq!(report.count("Missing"), 0);
        assert_eq!(report.failed_steps(), ["erasures"]);
        assert_eq!(
            report.to_json()["steps"]["erasures"]["error"],
            json!("boom")
        );
    }
}
