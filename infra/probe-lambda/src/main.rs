//! The probe: a Lambda function for tests of the event wiring.
//!
//! * Appends every event it receives, as one JSON line, to the file named by
//!   `PROBE_EVENTS_FILE` (when set).
//! * `PROBE_FAIL_ALL=1`: every invocation fails (a function error).
//! * An event with `Records` (SQS): each record whose `body` contains `fail-me` is reported
//!   in `batchItemFailures` by its `messageId`; a body containing `probe-sleep-ms=N` makes
//!   the invocation wait N milliseconds first (to hold a poller busy).
//! * Any other event that contains `fail-me` anywhere fails.
//!
//! It answers `{"function": <AWS_LAMBDA_FUNCTION_NAME>, "batchItemFailures": [...]}`.

use std::io::Write;
use std::time::Duration;

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::{Value, json};

const FAIL_MARKER: &str = "fail-me";
const SLEEP_MARKER: &str = "probe-sleep-ms=";

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    run(service_fn(|event: LambdaEvent<Value>| {
        handle(event.payload)
    }))
    .await
}

async fn handle(event: Value) -> Result<Value, Error> {
    record(&event)?;
    if std::env::var("PROBE_FAIL_ALL").as_deref() == Ok("1") {
        return Err("PROBE_FAIL_ALL=1: failing every invocation".into());
    }
    let Some(records) = event.get("Records").and_then(Value::as_array) else {
        if event.to_string().contains(FAIL_MARKER) {
            return Err(format!("the event contains {FAIL_MARKER}").into());
        }
        return Ok(answer(Vec::new()));
    };
    let bodies: Vec<&str> = records
        .iter()
        .map(|r| r.get("body").and_then(Value::as_str).unwrap_or_default())
        .collect();
    if let Some(sleep) = bodies.iter().find_map(|body| sleep_requested(body)) {
        tokio::time::sleep(sleep).await;
    }
    let failures = records
        .iter()
        .zip(&bodies)
        .filter(|(_, body)| body.contains(FAIL_MARKER))
        .map(|(record, _)| json!({ "itemIdentifier": record.get("messageId") }))
        .collect();
    Ok(answer(failures))
}

fn answer(failures: Vec<Value>) -> Value {
    let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_default();
    json!({ "function": function, "batchItemFailures": failures })
}

/// One line per event; the file is opened for each so that tests can read it at any time.
fn record(event: &Value) -> Result<(), Error> {
    let Ok(path) = std::env::var("PROBE_EVENTS_FILE") else {
        return Ok(());
    };
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| format!("cannot open PROBE_EVENTS_FILE {path}: {e}"))?;
    file.write_all(format!("{event}\n").as_bytes())
        .map_err(|e| format!("cannot write PROBE_EVENTS_FILE {path}: {e}"))?;
    Ok(())
}

/// `probe-sleep-ms=1500` → 1.5 s.
fn sleep_requested(body: &str) -> Option<Duration> {
    let digits: String = body
        .split(SLEEP_MARKER)
        .nth(1)?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok().map(Duration::from_millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn records_with_the_marker_are_reported_as_failures() {
        let event = json!({"Records": [
            {"messageId": "a", "body": "fine"},
            {"messageId": "b", "body": "please fail-me"},
        ]});
        let answer = handle(event).await.expect("answers");
        assert_eq!(
            answer["batchItemFailures"],
            json!([{"itemIdentifier": "b"}])
        );
    }

    #[tokio::test]
    async fn other_events_fail_only_with_the_marker() {
        assert!(
            handle(json!({"detail-type": "Scheduled Event"}))
                .await
                .is_ok()
        );
        assert!(
            handle(json!({"detail": {"note": "fail-me"}}))
                .await
                .is_err()
        );
    }

    #[test]
    fn sleep_markers_are_read() {
        assert_eq!(
            sleep_requested("hold probe-sleep-ms=1500 please"),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(sleep_requested("no marker"), None);
    }
}
