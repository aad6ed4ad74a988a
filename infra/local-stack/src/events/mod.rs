//! The event wiring that Lambda and EventBridge do on AWS and the emulation only stores:
//!
//! * SQS event source mappings: a [`poller`] per `Type: SQS` event long-polls the queue,
//!   invokes the function with the [`sqs`] event and deletes what it handled;
//! * S3 notifications (applied by [`crate::provision`], delivered by moto into SQS) are
//!   brought to AWS's shape on the way ([`s3`]);
//! * `Schedule`/`ScheduleV2` events run the function on its [`schedule`], and on demand
//!   through [`Triggers`] (`local-stack trigger`).

mod poller;
pub mod s3;
pub mod schedule;
mod scheduler;
pub mod sqs;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_sdk_sqs::error::DisplayErrorContext;
use serde_json::Value;
use thiserror::Error;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::ACCOUNT_ID;
use crate::gateway::Invoke;
use crate::naming;
use crate::provision::Provisioned;
use crate::runtime_api::InvokeError;
use crate::template::{FunctionSpec, ResolveError, Template};
use poller::SqsPoller;
use schedule::{ScheduleTarget, schedule_arn};
use scheduler::ScheduleRunner;
pub use scheduler::WallClock;
use sqs::QueueSource;

/// Why an event source could not be set up.
#[derive(Debug, Error)]
pub enum EventSourceError {
    #[error("function {function}, event {event}: {source}")]
    Resolve {
        function: String,
        event: String,
        #[source]
        source: ResolveError,
    },
    #[error("function {function}, event {event}: queue {arn} is not in the emulation: {message}")]
    Queue {
        function: String,
        event: String,
        arn: String,
        message: String,
    },
}

/// One SQS event source mapping, its queue found in the emulation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqsMapping {
    /// The function's logical id.
    pub function: String,
    pub event: String,
    pub source: QueueSource,
    pub queue_url: String,
    pub batch_size: u32,
    pub report_batch_item_failures: bool,
}

/// The enabled `SQS` events of every function, each queue's URL asked from the emulation (the
/// template names queues by ARN).
pub async fn sqs_mappings(
    template: &Template,
    provisioned: &Provisioned,
    sqs: &aws_sdk_sqs::Client,
) -> Result<Vec<SqsMapping>, EventSourceError> {
    let resolver = provisioned.resolver();
    let mut mappings = Vec::new();
    for function in template.functions() {
        for event in function.sqs_events.iter().filter(|e| e.enabled) {
            let arn =
                resolver
                    .resolve(&event.queue)
                    .map_err(|source| EventSourceError::Resolve {
                        function: function.logical_id.clone(),
                        event: event.event.clone(),
                        source,
                    })?;
            let queue_url =
                queue_url(sqs, &arn)
                    .await
                    .map_err(|message| EventSourceError::Queue {
                        function: function.logical_id.clone(),
                        event: event.event.clone(),
                        arn: arn.clone(),
                        message,
                    })?;
            mappings.push(SqsMapping {
                function: function.logical_id.clone(),
                event: event.event.clone(),
                source: QueueSource {
                    arn,
                    region: resolver.region().to_owned(),
                },
                queue_url,
                batch_size: event.batch_size,
                report_batch_item_failures: event.report_batch_item_failures,
            });
        }
    }
    Ok(mappings)
}

/// `arn:aws:sqs:region:account:name` → the queue's URL.
async fn queue_url(sqs: &aws_sdk_sqs::Client, arn: &str) -> Result<String, String> {
    let name = arn.rsplit(':').next().unwrap_or(arn);
    let output = sqs
        .get_queue_url()
        .queue_name(name)
        .send()
        .await
        .map_err(|e| DisplayErrorContext(e).to_string())?;
    output
        .queue_url
        .ok_or_else(|| "the emulation returned no URL".to_owned())
}

/// The schedules of `function`. SAM makes one rule (or schedule) per event, named after the
/// function and the event; locally it is `{prefix}{Function}{Event}`.
pub fn schedule_targets(
    function: &FunctionSpec,
    prefix: &str,
    region: &str,
) -> Vec<ScheduleTarget> {
    function
        .schedules
        .iter()
        .map(|spec| {
            let logical_id = format!("{}{}", function.logical_id, spec.event);
            let name = naming::function_name(prefix, &logical_id);
            ScheduleTarget {
                event: spec.event.clone(),
                expression: spec.expression.clone(),
                arn: schedule_arn(spec.kind, region, ACCOUNT_ID, &name),
                // Checked to be JSON when the template was parsed.
                input: spec
                    .input
                    .as_deref()
                    .and_then(|input| serde_json::from_str(input).ok()),
                enabled: spec.enabled,
            }
        })
        .collect()
}

/// The running pollers and schedules.
pub struct EventSources {
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl EventSources {
    /// Starts a poller per mapping and a runner per enabled schedule. `functions` maps
    /// logical ids to what invokes them; a mapping whose function is missing is skipped.
    pub fn start(
        mappings: Vec<SqsMapping>,
        schedules: Vec<(String, ScheduleTarget)>,
        functions: &HashMap<String, Arc<dyn Invoke>>,
        sqs: &aws_sdk_sqs::Client,
        region: &str,
    ) -> EventSources {
        let (stop, stopped) = watch::channel(false);
        let mut tasks = JoinSet::new();
        for mapping in mappings {
            let Some(function) = functions.get(&mapping.function) else {
                tracing::error!(function = %mapping.function, "no process for the SQS event's function");
                continue;
            };
            tracing::info!(function = %mapping.function, event = %mapping.event, queue = %mapping.source.arn, batch_size = mapping.batch_size, "polling SQS");
            let poller = SqsPoller {
                mapping,
                sqs: sqs.clone(),
                function: Arc::clone(function),
            };
            tasks.spawn(poller.run(stopped.clone()));
        }
        let clock: WallClock = Arc::new(SystemTime::now);
        for (function, target) in schedules.into_iter().filter(|(_, t)| t.enabled) {
            let Some(invoke) = functions.get(&function) else {
                tracing::error!(%function, "no process for the schedule's function");
                continue;
            };
            if target.expression.has_ignored_fields() {
                tracing::warn!(%function, event = %target.event, "only the minutes and hours of this cron expression apply locally: it runs every day");
            }
            tracing::info!(%function, event = %target.event, expression = %target.expression, "scheduled");
            let runner = ScheduleRunner {
                function,
                target,
                region: region.to_owned(),
                invoke: Arc::clone(invoke),
                clock: Arc::clone(&clock),
            };
            tasks.spawn(runner.run(stopped.clone()));
        }
        EventSources { stop, tasks }
    }

    /// Stops every poller and schedule, waiting at most `grace` for them to end.
    pub async fn stop(mut self, grace: Duration) {
        self.stop.send_replace(true);
        let all_ended = async { while self.tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(grace, all_ended).await.is_err() {
            self.tasks.abort_all();
        }
    }
}

/// Warns when a queue's visibility timeout is shorter than its function's timeout: AWS
/// refuses such a mapping, and locally the batch would be delivered again while running.
pub async fn check_visibility_timeouts(
    mappings: &[SqsMapping],
    template: &Template,
    sqs: &aws_sdk_sqs::Client,
) {
    for mapping in mappings {
        let Some(function) = template.function(&mapping.function) else {
            continue;
        };
        let visibility = poller::visibility_timeout(sqs, &mapping.queue_url).await;
        if let Some(visibility) = visibility.filter(|v| *v < u64::from(function.timeout_secs)) {
            tracing::warn!(function = %mapping.function, queue = %mapping.source.arn, visibility_timeout = visibility, function_timeout = function.timeout_secs, "the queue's visibility timeout is shorter than the function's timeout (AWS rejects this mapping)");
        }
    }
}

/// Why a scheduled invocation on demand did not run or failed.
#[derive(Debug, Error)]
pub enum TriggerError {
    #[error("the template has no function {0}")]
    UnknownFunction(String),
    #[error("function {0} has no Schedule or ScheduleV2 event")]
    NoSchedule(String),
    #[error("function {function} has no schedule event {event} (it has: {known})")]
    UnknownEvent {
        function: String,
        event: String,
        known: String,
    },
    #[error(transparent)]
    Invoke(#[from] InvokeError),
}

/// Runs a function's schedule now, for `local-stack trigger`.
pub struct Triggers {
    functions: HashMap<String, (Arc<dyn Invoke>, Vec<ScheduleTarget>)>,
    region: String,
    local_checkout: Option<crate::local_checkout::LocalCheckout>,
    mailbox: Option<crate::mailbox::Mailbox>,
}

impl Triggers {
    pub fn new(region: impl Into<String>) -> Triggers {
        Triggers {
            functions: HashMap::new(),
            region: region.into(),
            local_checkout: None,
            mailbox: None,
        }
    }

    /// Serves the mail viewer (`GET /_local/mail`) from this mailbox.
    pub fn set_mailbox(&mut self, mailbox: crate::mailbox::Mailbox) {
        self.mailbox = Some(mailbox);
    }

    pub fn mailbox(&self) -> Option<&crate::mailbox::Mailbox> {
        self.mailbox.as_ref()
    }

    /// Every function with schedules, and the names of its schedule events, by function.
    pub fn schedules(&self) -> Vec<(String, Vec<String>)> {
        let mut all: Vec<(String, Vec<String>)> = self
            .functions
            .iter()
            .filter(|(_, (_, targets))| !targets.is_empty())
            .map(|(function, (_, targets))| {
                (
                    function.clone(),
                    targets.iter().map(|t| t.event.clone()).collect(),
                )
            })
            .collect();
        all.sort();
        all
    }

    /// Serves `/_local/polar/checkout` (only when the stack runs `PolarServer=local`).
    pub fn set_local_checkout(&mut self, checkout: crate::local_checkout::LocalCheckout) {
        self.local_checkout = Some(checkout);
    }

    pub fn local_checkout(&self) -> Option<&crate::local_checkout::LocalCheckout> {
        self.local_checkout.as_ref()
    }

    /// Makes `function`'s schedules triggerable.
    pub fn add(&mut self, function: &str, invoke: Arc<dyn Invoke>, targets: Vec<ScheduleTarget>) {
        self.functions
            .insert(function.to_owned(), (invoke, targets));
    }

    /// Invokes `function` with the event its schedule `event` (default: its first) delivers,
    /// disabled schedules included, and returns the function's response.
    pub async fn invoke_schedule(
        &self,
        function: &str,
        event: Option<&str>,
    ) -> Result<Value, TriggerError> {
        self.invoke_schedule_moved(function, event, None).await
    }

    /// [`Self::invoke_schedule`], with `clock_offset_seconds` added to the event's `detail`
    /// when given: the retention job runs that far in the future outside production (for
    /// trying retention by hand; production refuses such an event).
    pub async fn invoke_schedule_moved(
        &self,
        function: &str,
        event: Option<&str>,
        clock_offset_seconds: Option<i64>,
    ) -> Result<Value, TriggerError> {
        let (invoke, targets) = self
            .functions
            .get(function)
            .ok_or_else(|| TriggerError::UnknownFunction(function.to_owned()))?;
        let target = match event {
            None => targets.first(),
            Some(name) => targets.iter().find(|t| t.event == name),
        };
        let target = target.ok_or_else(|| match event {
            None => TriggerError::NoSchedule(function.to_owned()),
            Some(name) => TriggerError::UnknownEvent {
                function: function.to_owned(),
                event: name.to_owned(),
                known: targets
                    .iter()
                    .map(|t| t.event.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            },
        })?;
        let mut payload = target.payload(&self.region, ACCOUNT_ID, SystemTime::now());
        if let (Some(offset), Some(detail)) = (
            clock_offset_seconds,
            payload.as_object_mut().map(|event| {
                event
                    .entry("detail")
                    .or_insert_with(|| Value::Object(Default::default()))
            }),
        ) && let Some(detail) = detail.as_object_mut()
        {
            detail.insert("clock_offset_seconds".to_owned(), Value::from(offset));
        }
        tracing::info!(%function, event = %target.event, ?clock_offset_seconds, "triggered schedule");
        Ok(invoke.invoke(payload).await?)
    }
}

#[cfg(test)]
mod tests;
