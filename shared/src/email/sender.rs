use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::error::ProvideErrorMetadata;
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message, RawMessage};

use super::mime::{self, Header};
use super::{Email, EmailAddress};
use crate::config::{ConfigError, EnvSource, Settings};

/// Who transactional email comes from (`EMAIL_FROM`, a no-reply address) and where a person
/// writes to reach a human (`SUPPORT_EMAIL`): every email names the support address and
/// sets it as `Reply-To`, so answering any email reaches support.
#[derive(Clone, Debug)]
pub struct Sender {
    pub from: String,
    pub support: EmailAddress,
}

impl Sender {
    pub fn from_env(source: &dyn EnvSource) -> Result<Self, ConfigError> {
        let settings = Settings::new(source);
        let support = settings.required("SUPPORT_EMAIL")?;
        Ok(Self {
            from: settings.required("EMAIL_FROM")?,
            support: EmailAddress::parse(&support).map_err(|_| ConfigError::Invalid {
                name: "SUPPORT_EMAIL",
                reason: "is not an email address".into(),
            })?,
        })
    }
}

#[derive(Debug, thiserror::Error)]
#[error("sending email failed: {0}")]
pub struct MailError(String);

/// Sends transactional email through SES v2 (simple content: both parts, UTF-8). Every
/// message gets the support line in its language and `Reply-To: <support>`.
#[derive(Clone, Debug)]
pub struct Mailer {
    client: Client,
    from: String,
    support: EmailAddress,
}

impl Mailer {
    pub fn new(client: Client, sender: &Sender) -> Self {
        Self {
            client,
            from: sender.from.clone(),
            support: sender.support.clone(),
        }
    }

    /// Sends `email` to `to`; returns the SES message id.
    pub async fn send(&self, to: &EmailAddress, email: &Email) -> Result<String, MailError> {
        let email = &super::templates::with_support(email, &self.support);
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
        let email = &super::templates::with_support(email, &self.support);
        let mut headers = headers.to_vec();
        headers.push(Header {
            name: "Reply-To",
            value: self.support.as_str().to_owned(),
        });
        let raw = mime::build(&self.from, to, email, &headers)
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
            .reply_to_addresses(self.support.as_str())
            .destination(Destination::builder().to_addresses(to.as_str()).build())
            .content(content)
            .send()
            .await
            // Only the error code: SES messages can quote the recipient address.
            .map_err(|error| MailError(error.code().unwrap_or("dispatch failure").to_owned()))?;
        Ok(output.message_id().unwrap_or_default().to_owned())
    }
}
