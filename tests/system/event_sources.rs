//! The local stack's event wiring, with the probe function (`infra/probe-lambda`) standing in
//! for the real functions: S3 uploads reach the function through SQS in AWS's shape, failed
//! batch items come back and end in the dead-letter queue, function errors keep the whole
//! batch, and `local-stack trigger` runs a schedule with EventBridge's event.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::s3::S3Event;
use aws_lambda_events::event::sqs::SqsEvent;
use serde_json::{Value, json};
use tokio::process::{Child, Command};

use crate::helpers::{bin_dir, emulation_endpoint, repo_root, sdk};

const TEMPLATE: &str = "infra/local-stack/testdata/events-template.yaml";
/// The uploaded key, and how AWS writes it in the notification.
const SELFIE_KEY: &str = "selfies/w1/写真 1+x.jpg";
const SELFIE_KEY_IN_EVENT: &str = "selfies/w1/%E5%86%99%E7%9C%9F+1%2Bx.jpg";
/// How long anything may take to show up in a probe's events file.
const PATIENCE: Duration = Duration::from_secs(30);

/// `local-stack serve` with the events template, every function being the probe, each
/// recording into its own file.
struct Stack {
    _child: Child,
    prefix: String,
    listen: String,
    dir: PathBuf,
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Stack {
    async fn start(extra_env: &[&str]) -> Stack {
        let bin_dir = bin_dir();
        let (local_stack, probe) = (bin_dir.join("local-stack"), bin_dir.join("probe-lambda"));
        assert!(
            local_stack.exists() && probe.exists(),
            "build the binaries first (cargo build --workspace --bins); looked in {}",
            bin_dir.display()
        );
        let id = uuid::Uuid::new_v4().simple().to_string();
        let prefix = format!("ev{}-", &id[..10]);
        let dir = std::env::temp_dir().join(format!("anumi-events-{id}"));
        std::fs::create_dir_all(&dir).unwrap();
        let listen = format!("127.0.0.1:{}", free_port());
        let mut command = Command::new(&local_stack);
        command
            .arg("serve")
            .args(["--template", repo_root().join(TEMPLATE).to_str().unwrap()])
            .args(["--endpoint", &emulation_endpoint()])
            .args(["--listen", &listen])
            .args(["--prefix", &prefix]);
        for function in ["ModerateFunction", "RetentionFunction"] {
            let events = dir.join(format!("{function}.jsonl"));
            command
                .args(["--bin-override", &format!("{function}={}", probe.display())])
                .args([
                    "--env",
                    &format!("{function}:PROBE_EVENTS_FILE={}", events.display()),
                ]);
        }
        for env in extra_env {
            command.args(["--env", env]);
        }
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("local-stack starts");
        let stack = Stack {
            _child: child,
            prefix,
            listen,
            dir,
        };
        stack.wait_until_serving().await;
        stack
    }

    /// `serve` binds its port first and answers only once the resources, functions, pollers
    /// and schedules are up, so any answer means ready.
    async fn wait_until_serving(&self) {
        let url = format!("http://{}/_local/ready", self.listen);
        let answered = tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                if reqwest::get(&url).await.is_ok() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
        .await;
        assert!(
            answered.is_ok(),
            "local-stack did not serve {url} within 60 s"
        );
    }

    fn events_file(&self, function: &str) -> PathBuf {
        self.dir.join(format!("{function}.jsonl"))
    }

    /// Every event the function received so far, oldest first.
    fn events(&self, function: &str) -> Vec<Value> {
        read_events(&self.events_file(function))
    }

    /// Waits until the function's events satisfy `done`, and returns them.
    async fn wait_for_events(
        &self,
        function: &str,
        what: &str,
        done: impl Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let events = self.events(function);
            if done(&events) {
                return events;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{function} never received {what}; it received {events:#?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn sqs(&self) -> (aws_sdk_sqs::Client, String) {
        let sqs = aws_sdk_sqs::Client::new(&sdk().await);
        let name = local_stack::naming::queue_name(&self.prefix, "SelfieEventsQueue", false);
        let url = sqs
            .get_queue_url()
            .queue_name(name)
            .send()
            .await
            .unwrap()
            .queue_url
            .unwrap();
        (sqs, url)
    }

    async fn trigger(&self, args: &[&str]) -> std::process::Output {
        Command::new(bin_dir().join("local-stack"))
            .arg("trigger")
            .args(args)
            .args(["--listen", &self.listen])
            .output()
            .await
            .expect("local-stack trigger runs")
    }
}

fn read_events(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .map(|line| serde_json::from_str(line).expect("the probe writes JSON lines"))
        .collect()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The SQS records of every invocation, in delivery order.
fn records(events: &[Value]) -> Vec<Value> {
    events
        .iter()
        .flat_map(|event| event["Records"].as_array().cloned().unwrap_or_default())
        .collect()
}

fn body(record: &Value) -> &str {
    record["body"].as_str().unwrap_or_default()
}

fn receive_count(record: &Value) -> &str {
    record["attributes"]["ApproximateReceiveCount"]
        .as_str()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_reach_the_function_through_sqs_as_aws_s3_events() {
    let stack = Stack::start(&[]).await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk().await)
            .force_path_style(true)
            .build(),
    );
    let bucket = local_stack::naming::bucket_name(&stack.prefix, "SelfieBucket");
    for key in ["elsewhere/not-a-selfie.jpg", SELFIE_KEY] {
        s3.put_object()
            .bucket(&bucket)
            .key(key)
            .body(b"jpeg bytes".to_vec().into())
            .send()
            .await
            .unwrap();
    }

    let events = stack
        .wait_for_events("ModerateFunction", "the upload's S3 event", |events| {
            records(events)
                .iter()
                .any(|r| body(r).contains("ObjectCreated"))
        })
        .await;
    for event in &events {
        serde_json::from_value::<SqsEvent>(event.clone()).expect("an SQS event as Lambda sends it");
    }
    let records = records(&events);
    let test_event = records
        .iter()
        .position(|r| body(r).contains("s3:TestEvent"))
        .expect("S3's test event is delivered");
    let uploads: Vec<usize> = (0..records.len())
        .filter(|i| body(&records[*i]).contains("ObjectCreated"))
        .collect();
    assert_eq!(uploads.len(), 1, "only the selfies/ prefix is notified");
    assert!(test_event < uploads[0], "the test event comes first");

    let record = &records[uploads[0]];
    assert_eq!(record["eventSource"], "aws:sqs");
    let queue = local_stack::naming::queue_name(&stack.prefix, "SelfieEventsQueue", false);
    assert_eq!(
        record["eventSourceARN"],
        json!(format!("arn:aws:sqs:ap-northeast-1:123456789012:{queue}"))
    );
    assert_eq!(record["awsRegion"], "ap-northeast-1");
    let s3_event: S3Event = serde_json::from_str(body(record)).expect("parses as an S3 event");
    let notification = &s3_event.records[0];
    assert_eq!(notification.event_source.as_deref(), Some("aws:s3"));
    assert_eq!(
        notification.event_name.as_deref(),
        Some("ObjectCreated:Put")
    );
    assert!(notification.principal_id.principal_id.is_some());
    assert!(notification.request_parameters.source_ip_address.is_some());
    for header in ["x-amz-request-id", "x-amz-id-2"] {
        assert!(
            notification.response_elements.contains_key(header),
            "{header}"
        );
    }
    let entity = &notification.s3;
    assert!(entity.configuration_id.is_some());
    assert_eq!(entity.bucket.name.as_deref(), Some(bucket.as_str()));
    assert_eq!(entity.object.key.as_deref(), Some(SELFIE_KEY_IN_EVENT));
    assert_eq!(entity.object.size, Some(10));
    assert!(entity.object.e_tag.is_some());
    assert!(entity.object.sequencer.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_batch_items_come_back_alone_and_end_in_the_dead_letter_queue() {
    let stack = Stack::start(&[]).await;
    let (sqs, queue_url) = stack.sqs().await;
    let id = uuid::Uuid::new_v4().simple().to_string();
    let (sibling, failing) = (format!("sibling {id}"), format!("please fail-me {id}"));

    // Holds the poller in an invocation while the pair is sent, so the pair is one batch.
    sqs.send_message()
        .queue_url(&queue_url)
        .message_body("hold probe-sleep-ms=1500")
        .send()
        .await
        .unwrap();
    stack
        .wait_for_events("ModerateFunction", "the holding message", |events| {
            records(events).iter().any(|r| body(r).starts_with("hold"))
        })
        .await;
    for (entry, text) in [("sibling", &sibling), ("failing", &failing)] {
        sqs.send_message()
            .queue_url(&queue_url)
            .message_body(text)
            .message_attributes(
                "test",
                aws_sdk_sqs::types::MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value(entry)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
    }

    // maxReceiveCount is 3 and the visibility timeout 3 s: three deliveries, then the DLQ.
    let events = stack
        .wait_for_events(
            "ModerateFunction",
            "the failing message three times",
            |events| {
                records(events)
                    .iter()
                    .any(|r| body(r) == failing && receive_count(r) == "3")
            },
        )
        .await;
    let first_batch = events
        .iter()
        .find(|e| e["Records"].as_array().is_some_and(|r| r.len() == 2))
        .expect("the pair arrives as one batch");
    let pair: Vec<&str> = first_batch["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(body)
        .collect();
    assert!(pair.contains(&sibling.as_str()) && pair.contains(&failing.as_str()));
    assert_eq!(
        first_batch["Records"][0]["messageAttributes"]["test"]["dataType"],
        "String"
    );

    let dlq_name = local_stack::naming::queue_name(&stack.prefix, "SelfieEventsDlq", false);
    let dlq_url = sqs
        .get_queue_url()
        .queue_name(dlq_name)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let dead = tokio::time::timeout(PATIENCE, async {
        loop {
            let received = sqs
                .receive_message()
                .queue_url(&dlq_url)
                .wait_time_seconds(5)
                .send()
                .await
                .unwrap();
            if let Some(message) = received.messages.unwrap_or_default().pop() {
                return message;
            }
        }
    })
    .await
    .expect("the failing message reaches the dead-letter queue");
    assert_eq!(dead.body(), Some(failing.as_str()));

    let records = records(&stack.events("ModerateFunction"));
    let counts = |text: &str| -> Vec<String> {
        records
            .iter()
            .filter(|r| body(r) == text)
            .map(|r| receive_count(r).to_owned())
            .collect()
    };
    assert_eq!(counts(&failing), ["1", "2", "3"]);
    assert_eq!(
        counts(&sibling),
        ["1"],
        "the sibling was deleted after its batch"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_error_keeps_the_whole_batch() {
    let stack = Stack::start(&["ModerateFunction:PROBE_FAIL_ALL=1"]).await;
    let (sqs, queue_url) = stack.sqs().await;
    let id = uuid::Uuid::new_v4().simple().to_string();
    let messages = [format!("fine on its own {id}"), format!("also fine {id}")];
    let entries = messages
        .iter()
        .enumerate()
        .map(|(index, text)| {
            aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                .id(index.to_string())
                .message_body(text)
                .build()
                .unwrap()
        })
        .collect();
    sqs.send_message_batch()
        .queue_url(&queue_url)
        .set_entries(Some(entries))
        .send()
        .await
        .unwrap();
    let delivered_twice = |events: &[Value], text: &str| {
        records(events)
            .iter()
            .any(|r| body(r) == text && receive_count(r) == "2")
    };
    stack
        .wait_for_events(
            "ModerateFunction",
            "both messages a second time",
            |events| messages.iter().all(|text| delivered_twice(events, text)),
        )
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trigger_runs_a_schedule_with_eventbridges_event() {
    let stack = Stack::start(&[]).await;

    let hourly = stack.trigger(&["RetentionFunction"]).await;
    assert!(
        hourly.status.success(),
        "{}",
        String::from_utf8_lossy(&hourly.stderr)
    );
    let answer: Value = serde_json::from_slice(&hourly.stdout).expect("prints the response");
    assert_eq!(
        answer,
        json!({"function": format!("{}RetentionFunction", stack.prefix), "batchItemFailures": []})
    );
    let nightly = stack
        .trigger(&["RetentionFunction", "--event", "Nightly"])
        .await;
    assert!(nightly.status.success());

    let events = stack.events("RetentionFunction");
    assert_eq!(events.len(), 2, "{events:#?}");
    let expected_resources = [
        format!(
            "arn:aws:events:ap-northeast-1:123456789012:rule/{}RetentionFunctionHourly",
            stack.prefix
        ),
        format!(
            "arn:aws:scheduler:ap-northeast-1:123456789012:schedule/default/{}RetentionFunctionNightly",
            stack.prefix
        ),
    ];
    for (event, resource) in events.iter().zip(expected_resources) {
        let parsed: EventBridgeEvent =
            serde_json::from_value(event.clone()).expect("parses as an EventBridge event");
        assert_eq!(parsed.detail_type, "Scheduled Event");
        assert_eq!(parsed.source, "aws.events");
        assert_eq!(parsed.resources, Some(vec![resource]));
        assert_eq!(parsed.region.as_deref(), Some("ap-northeast-1"));
        assert_eq!(parsed.account.as_deref(), Some("123456789012"));
        assert_eq!(event["version"], "0");
        assert_eq!(event["detail"], json!({}));
    }

    // `--clock-offset` moves one run of the retention job (it refuses this in production).
    let moved = stack
        .trigger(&["RetentionFunction", "--clock-offset", "31d"])
        .await;
    assert!(
        moved.status.success(),
        "{}",
        String::from_utf8_lossy(&moved.stderr)
    );
    let events = stack.events("RetentionFunction");
    assert_eq!(
        events[2]["detail"],
        json!({"clock_offset_seconds": 31 * 24 * 3600})
    );

    let unknown = stack.trigger(&["NoSuchFunction"]).await;
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no function NoSuchFunction"));
    assert!(
        stack
            .events("ModerateFunction")
            .iter()
            .all(|e| e.get("Records").is_some())
    );
}
