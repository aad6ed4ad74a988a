//! SQS batches with partial failure reporting: each message is handled on its own, and only
//! the ones worth another delivery are reported back, so SQS redelivers those alone.

use std::future::Future;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use tracing::warn;

/// A message to hand back to SQS for another delivery (after the visibility timeout; after
/// the queue's `maxReceiveCount`, to its dead-letter queue).
#[derive(Debug, thiserror::Error)]
#[error("retry later: {0}")]
pub struct RetryLater(pub String);

impl From<crate::store::StoreError> for RetryLater {
    fn from(error: crate::store::StoreError) -> Self {
        Self::because(error)
    }
}

impl RetryLater {
    pub fn because(reason: impl std::fmt::Display) -> Self {
        Self(reason.to_string())
    }
}

/// Runs `handle` for each message of the batch, in order, and reports the retryable ones.
pub async fn handle_batch<'e, F, Fut>(
    event: &'e SqsEvent,
    what: &str,
    mut handle: F,
) -> SqsBatchResponse
where
    F: FnMut(&'e SqsMessage) -> Fut,
    Fut: Future<Output = Result<(), RetryLater>>,
{
    let mut response = SqsBatchResponse::default();
    for message in &event.records {
        if let Err(RetryLater(reason)) = handle(message).await {
            warn!(reason = %reason, what, "message will be retried");
            if let Some(id) = &message.message_id {
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = id.clone();
                response.batch_item_failures.push(failure);
            }
        }
    }
    response
}

/// How many times SQS has delivered this message (1 on the first delivery).
pub fn receive_count(message: &SqsMessage) -> i64 {
    message
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|count| count.parse().ok())
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(ids: &[&str]) -> SqsEvent {
        let records: Vec<serde_json::Value> = ids
            .iter()
            .map(|id| serde_json::json!({ "messageId": id, "body": id, "attributes": {"ApproximateReceiveCount": "2"} }))
            .collect();
        serde_json::from_value(serde_json::json!({ "Records": records })).unwrap()
    }

    #[tokio::test]
    async fn only_retryable_messages_are_reported() {
        let event = event(&["a", "b", "c"]);
        let response = handle_batch(&event, "test", |message| async move {
            match message.body.as_deref() {
                Some("b") => Err(RetryLater::because("busy")),
                _ => Ok(()),
            }
        })
        .await;
        let ids: Vec<&str> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(ids, ["b"]);
        assert_eq!(receive_count(&event.records[0]), 2);
    }
}
