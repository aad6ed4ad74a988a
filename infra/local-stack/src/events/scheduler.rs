//! Runs a function on its schedule, as an EventBridge rule or EventBridge Scheduler would.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::watch;

use super::schedule::ScheduleTarget;
use crate::ACCOUNT_ID;
use crate::gateway::Invoke;

/// The wall clock; tests replace it with one that follows tokio's paused time.
pub type WallClock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

pub(super) struct ScheduleRunner {
    pub(super) function: String,
    pub(super) target: ScheduleTarget,
    pub(super) region: String,
    pub(super) invoke: Arc<dyn Invoke>,
    pub(super) clock: WallClock,
}

impl ScheduleRunner {
    /// Invokes the function each time the schedule fires, until `stop` turns true. Like
    /// EventBridge, a slow invocation delays nothing but its own result: the next fire time
    /// is computed from the clock, so missed times are skipped, not queued.
    pub(super) async fn run(self, mut stop: watch::Receiver<bool>) {
        let started = self.epoch_seconds();
        loop {
            let now = (self.clock)();
            let next = self
                .target
                .expression
                .next_after(started, self.epoch_seconds());
            let fire_at = UNIX_EPOCH + Duration::from_secs(next);
            let wait = fire_at.duration_since(now).unwrap_or_default();
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                _ = stop.wait_for(|stopped| *stopped) => break,
            }
            let event = self.target.payload(&self.region, ACCOUNT_ID, fire_at);
            tokio::select! {
                answer = self.invoke.invoke(event) => self.log(answer),
                _ = stop.wait_for(|stopped| *stopped) => break,
            }
        }
    }

    fn epoch_seconds(&self) -> u64 {
        (self.clock)()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }

    fn log(&self, answer: Result<serde_json::Value, crate::runtime_api::InvokeError>) {
        let (function, event) = (&self.function, &self.target.event);
        match answer {
            Ok(_) => tracing::info!(%function, %event, "scheduled invocation done"),
            // EventBridge would retry; locally the next fire time or `trigger` runs it again.
            Err(error) => tracing::error!(%function, %event, %error, "scheduled invocation failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use serde_json::{Value, json};

    use super::*;
    use crate::events::schedule::ScheduleExpression;
    use crate::gateway::InvokeFuture;

    #[derive(Default)]
    struct Recorder(Mutex<Vec<Value>>);

    impl Invoke for Recorder {
        fn invoke(&self, event: Value) -> InvokeFuture<'_> {
            self.0.lock().expect("not poisoned").push(event);
            Box::pin(async { Ok(json!({})) })
        }
    }

    /// A wall clock that starts at `start` and follows tokio's (paused) time.
    fn paused_clock(start: SystemTime) -> WallClock {
        let origin = tokio::time::Instant::now();
        Arc::new(move || start + origin.elapsed())
    }

    #[tokio::test(start_paused = true)]
    async fn an_hourly_rate_fires_every_hour_with_the_scheduled_event() {
        let recorder = Arc::new(Recorder::default());
        let start = UNIX_EPOCH + Duration::from_secs(1_714_558_830);
        let runner = ScheduleRunner {
            function: "RetentionFunction".into(),
            target: ScheduleTarget {
                event: "Hourly".into(),
                expression: ScheduleExpression::parse("rate(1 hour)").expect("valid"),
                arn: "arn:aws:events:ap-northeast-1:123456789012:rule/r".into(),
                input: None,
                enabled: true,
            },
            region: "ap-northeast-1".into(),
            invoke: recorder.clone(),
            clock: paused_clock(start),
        };
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(runner.run(stopped));
        tokio::time::sleep(Duration::from_secs(2 * 3600 + 1800)).await;
        stop.send_replace(true);
        task.await.expect("runner ends");
        let events = recorder.0.lock().expect("not poisoned").clone();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0]["detail-type"], "Scheduled Event");
        assert_eq!(events[0]["time"], "2024-05-01T11:20:30Z");
        assert_eq!(events[1]["time"], "2024-05-01T12:20:30Z");
        assert_eq!(
            events[1]["resources"],
            json!(["arn:aws:events:ap-northeast-1:123456789012:rule/r"])
        );
    }
}
