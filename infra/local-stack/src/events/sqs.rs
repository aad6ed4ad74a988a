//! The SQS event source mapping's two decisions: the event a batch of messages becomes
//! (<https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html>), and which messages to
//! delete once the function has answered
//! (<https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html>).

use std::collections::BTreeSet;

use aws_sdk_sqs::types::{Message, MessageAttributeValue};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use md5::{Digest, Md5};
use serde_json::{Map, Value, json};

use super::s3;
use crate::runtime_api::InvokeError;

/// Where a batch came from, for the records' `eventSourceARN` and `awsRegion`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueSource {
    pub arn: String,
    pub region: String,
}

/// The Lambda event for `messages`, each S3 notification body brought to AWS's shape.
pub fn lambda_event(messages: &[Message], source: &QueueSource) -> Value {
    let records: Vec<Value> = messages.iter().map(|m| record(m, source)).collect();
    json!({ "Records": records })
}

fn record(message: &Message, source: &QueueSource) -> Value {
    let message_id = message.message_id().unwrap_or_default();
    let stored_body = message.body().unwrap_or_default();
    let (body, md5_of_body) = match s3::to_aws_shape(stored_body, message_id) {
        Some(fixed) => {
            let md5 = md5_hex(fixed.as_bytes());
            (fixed, md5)
        }
        None => (
            stored_body.to_owned(),
            message
                .md5_of_body()
                .map_or_else(|| md5_hex(stored_body.as_bytes()), str::to_owned),
        ),
    };
    let mut record = json!({
        "messageId": message_id,
        "receiptHandle": message.receipt_handle().unwrap_or_default(),
        "body": body,
        "attributes": system_attributes(message),
        "messageAttributes": message_attributes(message),
        "md5OfBody": md5_of_body,
        "eventSource": "aws:sqs",
        "eventSourceARN": source.arn,
        "awsRegion": source.region,
    });
    if let Some(md5) = message.md5_of_message_attributes() {
        record["md5OfMessageAttributes"] = json!(md5);
    }
    record
}

/// `ApproximateReceiveCount`, `SentTimestamp`, `SenderId`, `ApproximateFirstReceiveTimestamp`
/// and, where SQS has them, the FIFO and trace attributes, under SQS's own names.
fn system_attributes(message: &Message) -> Value {
    let attributes: Map<String, Value> = message
        .attributes()
        .into_iter()
        .flatten()
        .map(|(name, value)| (name.as_str().to_owned(), json!(value)))
        .collect();
    Value::Object(attributes)
}

/// Lambda writes each attribute with camel-case fields and always both list fields.
fn message_attributes(message: &Message) -> Value {
    let attributes: Map<String, Value> = message
        .message_attributes()
        .into_iter()
        .flatten()
        .map(|(name, value)| (name.clone(), message_attribute(value)))
        .collect();
    Value::Object(attributes)
}

fn message_attribute(value: &MessageAttributeValue) -> Value {
    let mut attribute = json!({
        "stringListValues": value.string_list_values(),
        "binaryListValues": value
            .binary_list_values()
            .iter()
            .map(|b| BASE64.encode(b.as_ref()))
            .collect::<Vec<_>>(),
        "dataType": value.data_type(),
    });
    if let Some(text) = value.string_value() {
        attribute["stringValue"] = json!(text);
    }
    if let Some(bytes) = value.binary_value() {
        attribute["binaryValue"] = json!(BASE64.encode(bytes.as_ref()));
    }
    attribute
}

fn md5_hex(bytes: &[u8]) -> String {
    Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What happens to a batch once the function has answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchOutcome {
    /// Delete every message.
    AllSucceeded,
    /// Delete every message except these ids: they come back after the visibility timeout.
    SomeFailed(BTreeSet<String>),
    /// Delete nothing: the whole batch comes back after the visibility timeout.
    AllFailed(String),
}

impl BatchOutcome {
    /// Whether the message with this id is deleted.
    pub fn deletes(&self, message_id: &str) -> bool {
        match self {
            BatchOutcome::AllSucceeded => true,
            BatchOutcome::SomeFailed(failed) => !failed.contains(message_id),
            BatchOutcome::AllFailed(_) => false,
        }
    }
}

/// Lambda's rules: an error or timeout fails the whole batch; a success without
/// `ReportBatchItemFailures` deletes everything; with it, `batchItemFailures` names the
/// failed messages, a null or empty response or list means full success, and a response that
/// is no such object, or an entry that names no message of the batch (or is empty, null or
/// misspelt), fails the whole batch.
pub fn batch_outcome(
    answer: Result<&Value, &InvokeError>,
    batch_ids: &[&str],
    report_batch_item_failures: bool,
) -> BatchOutcome {
    let response = match answer {
        Ok(response) => response,
        Err(error) => return BatchOutcome::AllFailed(error.to_string()),
    };
    if !report_batch_item_failures {
        return BatchOutcome::AllSucceeded;
    }
    let response = match response {
        Value::Null => return BatchOutcome::AllSucceeded,
        Value::Object(response) => response,
        other => return BatchOutcome::AllFailed(format!("not a batch response: {other}")),
    };
    let failures = match response.get("batchItemFailures") {
        None | Some(Value::Null) => return BatchOutcome::AllSucceeded,
        Some(Value::Array(failures)) => failures,
        Some(other) => {
            return BatchOutcome::AllFailed(format!("batchItemFailures is not a list: {other}"));
        }
    };
    let mut failed = BTreeSet::new();
    for failure in failures {
        match failure.get("itemIdentifier").and_then(Value::as_str) {
            Some(id) if batch_ids.contains(&id) => {
                failed.insert(id.to_owned());
            }
            _ => {
                return BatchOutcome::AllFailed(format!(
                    "batchItemFailures entry {failure} names no message of the batch"
                ));
            }
        }
    }
    if failed.is_empty() {
        BatchOutcome::AllSucceeded
    } else {
        BatchOutcome::SomeFailed(failed)
    }
}

#[cfg(test)]
mod tests {
    use aws_lambda_events::event::s3::S3Event;
    use aws_lambda_events::event::sqs::SqsEvent;
    use aws_sdk_sqs::primitives::Blob;
    use aws_sdk_sqs::types::MessageSystemAttributeName as Name;

    use super::*;

    fn source() -> QueueSource {
        QueueSource {
            arn: "arn:aws:sqs:ap-northeast-1:123456789012:p-SelfieEventsQueue".into(),
            region: "ap-northeast-1".into(),
        }
    }

    fn message(id: &str, body: &str) -> Message {
        message_builder(id, body).build()
    }

    fn message_builder(id: &str, body: &str) -> aws_sdk_sqs::types::builders::MessageBuilder {
        Message::builder()
            .message_id(id)
            .receipt_handle(format!("handle-{id}"))
            .body(body)
            .md5_of_body(md5_hex(body.as_bytes()))
            .attributes(Name::ApproximateReceiveCount, "2")
            .attributes(Name::SentTimestamp, "1545082649183")
            .attributes(Name::SenderId, "AIDAIENQZJOLO23YVJ4VO")
            .attributes(Name::ApproximateFirstReceiveTimestamp, "1545082649185")
    }

    #[test]
    fn a_batch_becomes_the_event_lambda_sends() {
        let with_attributes = message_builder("m-1", "hello")
            .md5_of_message_attributes("attr-md5")
            .message_attributes(
                "kind",
                MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value("selfie")
                    .build()
                    .expect("attribute"),
            )
            .message_attributes(
                "raw",
                MessageAttributeValue::builder()
                    .data_type("Binary")
                    .binary_value(Blob::new(b"\x00\x01".to_vec()))
                    .build()
                    .expect("attribute"),
            )
            .build();
        let event = lambda_event(&[with_attributes, message("m-2", "x")], &source());
        let first = &event["Records"][0];
        assert_eq!(first["messageId"], "m-1");
        assert_eq!(first["receiptHandle"], "handle-m-1");
        assert_eq!(first["body"], "hello");
        assert_eq!(first["md5OfBody"], "5d41402abc4b2a76b9719d911017c592");
        assert_eq!(first["md5OfMessageAttributes"], "attr-md5");
        assert_eq!(first["eventSource"], "aws:sqs");
        assert_eq!(first["eventSourceARN"], source().arn);
        assert_eq!(first["awsRegion"], "ap-northeast-1");
        assert_eq!(
            first["attributes"],
            json!({
                "ApproximateReceiveCount": "2",
                "SentTimestamp": "1545082649183",
                "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                "ApproximateFirstReceiveTimestamp": "1545082649185",
            })
        );
        assert_eq!(
            first["messageAttributes"]["kind"],
            json!({"stringValue": "selfie", "stringListValues": [], "binaryListValues": [], "dataType": "String"})
        );
        assert_eq!(first["messageAttributes"]["raw"]["binaryValue"], "AAE=");
        assert!(event["Records"][1].get("md5OfMessageAttributes").is_none());
        assert_eq!(event["Records"][1]["messageAttributes"], json!({}));
        let parsed: SqsEvent = serde_json::from_value(event).expect("parses as SqsEvent");
        assert_eq!(parsed.records.len(), 2);
    }

    #[test]
    fn s3_bodies_are_fixed_and_their_md5_follows() {
        let moto_body = include_str!("../../testdata/moto/put-space-plus-japanese.json").trim();
        let event = lambda_event(&[message("m-1", moto_body)], &source());
        let body = event["Records"][0]["body"].as_str().unwrap_or_default();
        let s3: S3Event = serde_json::from_str(body).expect("an AWS-shaped S3 event");
        assert_eq!(
            s3.records[0].s3.object.key.as_deref(),
            Some("selfies/w1/%E5%86%99%E7%9C%9F+1%2Bx.jpg")
        );
        assert_eq!(event["Records"][0]["md5OfBody"], md5_hex(body.as_bytes()));
    }

    #[test]
    fn test_events_reach_the_function_as_sent() {
        let test_event = include_str!("../../testdata/moto/test-event.json").trim();
        let event = lambda_event(&[message("m-1", test_event)], &source());
        assert_eq!(event["Records"][0]["body"], test_event);
    }

    const IDS: &[&str] = &["a", "b", "c"];

    fn outcome(response: Value, report: bool) -> BatchOutcome {
        batch_outcome(Ok(&response), IDS, report)
    }

    #[test]
    fn errors_and_timeouts_keep_the_whole_batch() {
        for error in [
            InvokeError::Function {
                error_type: "E".into(),
                message: "boom".into(),
            },
            InvokeError::Timeout(std::time::Duration::from_secs(3)),
        ] {
            let result = batch_outcome(Err(&error), IDS, true);
            assert!(matches!(result, BatchOutcome::AllFailed(_)));
            assert!(!result.deletes("a"));
        }
    }

    #[test]
    fn listed_failures_stay_and_the_rest_is_deleted() {
        let result = outcome(
            json!({"batchItemFailures": [{"itemIdentifier": "b"}, {"itemIdentifier": "b"}]}),
            true,
        );
        assert_eq!(
            result,
            BatchOutcome::SomeFailed(BTreeSet::from(["b".into()]))
        );
        assert!(result.deletes("a") && !result.deletes("b") && result.deletes("c"));
    }

    #[test]
    fn empty_null_or_missing_failure_lists_are_full_success() {
        for response in [
            json!({"batchItemFailures": []}),
            json!({"batchItemFailures": null}),
            json!({}),
            json!(null),
        ] {
            assert_eq!(
                outcome(response.clone(), true),
                BatchOutcome::AllSucceeded,
                "{response}"
            );
        }
    }

    #[test]
    fn unknown_empty_or_null_identifiers_fail_the_whole_batch() {
        for failure in [
            json!({"itemIdentifier": "zzz"}),
            json!({"itemIdentifier": ""}),
            json!({"itemIdentifier": null}),
            json!({}),
            json!({"itemIdentifer": "a"}),
        ] {
            let response = json!({"batchItemFailures": [{"itemIdentifier": "a"}, failure]});
            assert!(matches!(
                outcome(response, true),
                BatchOutcome::AllFailed(_)
            ));
        }
        for response in [json!({"batchItemFailures": "a"}), json!("done"), json!([])] {
            assert!(matches!(
                outcome(response, true),
                BatchOutcome::AllFailed(_)
            ));
        }
    }

    #[test]
    fn without_report_batch_item_failures_a_success_deletes_all() {
        let response = json!({"batchItemFailures": [{"itemIdentifier": "a"}]});
        assert_eq!(outcome(response, false), BatchOutcome::AllSucceeded);
    }
}
