use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::error::ProvideErrorMetadata;
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message, RawMessage};

use super::mime::{self, Header};
use super::{Email, EmailAddress};

#[derive(Debug, thiserror::Error)]
#[error("sending email failed: {0}")]
pub struct MailError(String);

/// Sends transactional email through SES v2 (simple content: both parts, UTF-8).
#[derive(Clone, Debug)]
pub struct Mailer {
    client: Client,
    from: String,
}

impl Mailer {
    pub fn new(client: Client, from: impl Into<String>) -> Self {
        Self {
            client,
            from: from.into(),
        }
    }

    /// Sends `email` to `to`; returns the SES message id.
    pub async fn send(&self, to: &EmailAddress, email: &Email) -> Result<String, MailError> {
        let content = |data: &str| {
            Content::builder()
                .data(data)
                .charset("UTF-8")
                .build()
                .map_err(|error| MailError(error.to_string()))
        };
        let message = Message::builder()
            .subject(content(&email.subject)?)
            .body(
                Body::builder()
                    .text(content(&email.text)?)
                    .html(content(&email.html)?)
                    .build(),
            )
            .build();
        self.dispatch(to, EmailContent::builder().simple(message).build())
            .await
    }

    /// Sends `email` as a raw MIME message carrying `headers` of our own (marketing email's
    /// `List-Unsubscribe`); returns the SES message id.
    pub async fn send_with_headers(
        &self,
        to: &EmailAddress,
        email: &Email,
        headers: &[Header],
    ) -> Result<String, MailError> {
        let raw = mime::build(&self.from, to, email, headers)
            .map_err(|error| MailError(error.to_string()))?;
        let raw = RawMessage::builder()
            .data(Blob::new(raw.into_bytes()))
            .build()
            .map_err(|error| MailError(error.to_string()))?;
        self.dispatch(to, EmailContent::builder().raw(raw).build())
            .await
    }

    async fn dispatch(
        &self,
        to: &EmailAddress,
        content: EmailContent,
    ) -> Result<String, MailError> {
        let output = self
            .client
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(to.as_str()).build())
            .content(content)
            .send()
            .await
            // Only the error code: SES messages can quote the recipient address.
            .map_err(|error| MailError(error.code().unwrap_or("dispatch failure").to_owned()))?;
        Ok(output.message_id().unwrap_or_default().to_owned())
    }
}
