//! The SQS event source mapping: long-polls a queue, invokes the function with each batch,
//! and deletes what the function handled, as Lambda's pollers do.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName, QueueAttributeName,
};
use thiserror::Error;
use tokio::sync::watch;

use super::SqsMapping;
use super::sqs::{self, BatchOutcome};
use crate::gateway::Invoke;

/// Lambda's pollers long-poll for 20 seconds, the most SQS allows.
const WAIT_SECONDS: i32 = 20;
/// SQS returns at most 10 messages per receive and deletes at most 10 per batch call.
const SQS_MAX_MESSAGES: usize = 10;
/// After a failed receive, wait this long before the next one, doubling up to the maximum.
const BACKOFF_MIN: Duration = Duration::from_millis(500);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// Why talking to the queue failed; the poller logs it and carries on.
#[derive(Debug, Error)]
enum PollError {
    #[error("cannot receive: {0}")]
    Receive(String),
    #[error("cannot delete: {0}")]
    Delete(String),
    #[error("{failed} of {total} deletes failed, e.g. {code}: {message}")]
    SomeDeletesFailed {
        failed: usize,
        total: usize,
        code: String,
        message: String,
    },
}

pub(super) struct SqsPoller {
    pub(super) mapping: SqsMapping,
    pub(super) sqs: aws_sdk_sqs::Client,
    pub(super) function: Arc<dyn Invoke>,
}

impl SqsPoller {
    /// Polls until `stop` turns true. A batch being handled when it does is abandoned: its
    /// messages come back after the visibility timeout, as after a crash on AWS.
    pub(super) async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut backoff = BACKOFF_MIN;
        loop {
            let received = tokio::select! {
                received = self.receive() => received,
                _ = stop.wait_for(|stopped| *stopped) => break,
            };
            match received {
                Ok(messages) if messages.is_empty() => {}
                Ok(messages) => {
                    backoff = BACKOFF_MIN;
                    tokio::select! {
                        () = self.handle(messages) => {}
                        _ = stop.wait_for(|stopped| *stopped) => break,
                    }
                }
                Err(error) => {
                    tracing::error!(function = %self.mapping.function, queue = %self.mapping.source.arn, %error, "SQS poll failed");
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => {}
                        _ = stop.wait_for(|stopped| *stopped) => break,
                    }
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                }
            }
        }
        tracing::debug!(function = %self.mapping.function, event = %self.mapping.event, "SQS poller stopped");
    }

    /// One long poll, then, for batch sizes above what one receive returns, whatever else
    /// is visible right away.
    async fn receive(&self) -> Result<Vec<Message>, PollError> {
        let batch_size = self.mapping.batch_size.max(1) as usize;
        let mut messages = self
            .receive_up_to(batch_size.min(SQS_MAX_MESSAGES), WAIT_SECONDS)
            .await?;
        while !messages.is_empty()
            && messages.len() < batch_size
            && messages.len() % SQS_MAX_MESSAGES == 0
        {
            let wanted = (batch_size - messages.len()).min(SQS_MAX_MESSAGES);
            let more = self.receive_up_to(wanted, 0).await?;
            if more.is_empty() {
                break;
            }
            messages.extend(more);
        }
        Ok(messages)
    }

    async fn receive_up_to(
        &self,
        count: usize,
        wait_seconds: i32,
    ) -> Result<Vec<Message>, PollError> {
        let output = self
            .sqs
            .receive_message()
            .queue_url(&self.mapping.queue_url)
            .max_number_of_messages(i32::try_from(count).unwrap_or(10))
            .wait_time_seconds(wait_seconds)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(|e| PollError::Receive(DisplayErrorContext(e).to_string()))?;
        Ok(output.messages.unwrap_or_default())
    }

    async fn handle(&self, messages: Vec<Message>) {
        let event = sqs::lambda_event(&messages, &self.mapping.source);
        let answer = self.function.invoke(event).await;
        let ids: Vec<&str> = messages
            .iter()
            .map(|m| m.message_id().unwrap_or_default())
            .collect();
        let outcome = sqs::batch_outcome(
            answer.as_ref(),
            &ids,
            self.mapping.report_batch_item_failures,
        );
        self.log(&outcome, messages.len());
        let handled: Vec<&Message> = messages
            .iter()
            .filter(|m| outcome.deletes(m.message_id().unwrap_or_default()))
            .collect();
        for chunk in handled.chunks(SQS_MAX_MESSAGES) {
            if let Err(error) = self.delete(chunk).await {
                tracing::error!(function = %self.mapping.function, queue = %self.mapping.source.arn, %error, "cannot delete handled messages; they will be delivered again");
            }
        }
    }

    fn log(&self, outcome: &BatchOutcome, size: usize) {
        let function = &self.mapping.function;
        match outcome {
            BatchOutcome::AllSucceeded => {
                tracing::info!(%function, event = %self.mapping.event, messages = size, "SQS batch handled")
            }
            BatchOutcome::SomeFailed(failed) => {
                tracing::warn!(%function, event = %self.mapping.event, messages = size, failed = failed.len(), "SQS batch partly failed; the failed messages come back after the visibility timeout")
            }
            BatchOutcome::AllFailed(reason) => {
                tracing::warn!(%function, event = %self.mapping.event, messages = size, %reason, "SQS batch failed; it comes back after the visibility timeout")
            }
        }
    }

    async fn delete(&self, messages: &[&Message]) -> Result<(), PollError> {
        let entries = messages
            .iter()
            .enumerate()
            .map(|(index, message)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(index.to_string())
                    .receipt_handle(message.receipt_handle().unwrap_or_default())
                    .build()
                    .map_err(|e| PollError::Delete(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let output = self
            .sqs
            .delete_message_batch()
            .queue_url(&self.mapping.queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| PollError::Delete(DisplayErrorContext(e).to_string()))?;
        match output.failed.first() {
            Some(failure) => Err(PollError::SomeDeletesFailed {
                failed: output.failed.len(),
                total: messages.len(),
                code: failure.code.clone(),
                message: failure.message.clone().unwrap_or_default(),
            }),
            None => Ok(()),
        }
    }
}

/// The queue's visibility timeout, to warn when the function may outlive it (AWS refuses
/// such a mapping; locally the batch would be delivered twice at once).
pub(super) async fn visibility_timeout(sqs: &aws_sdk_sqs::Client, queue_url: &str) -> Option<u64> {
    let output = sqs
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(QueueAttributeName::VisibilityTimeout)
        .send()
        .await
        .ok()?;
    output
        .attributes()?
        .get(&QueueAttributeName::VisibilityTimeout)?
        .parse()
        .ok()
}
