//! Prints the emails the emulation "sent" (moto keeps them instead of delivering), so a
//! person running the stack can read their sign-in code in the console.

use std::collections::HashSet;
use std::future::Future;
use std::time::Duration;

use http::{Request, Uri};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use thiserror::Error;

/// The emulation's state dump, which includes SES's sent messages.
pub const DATA_PATH: &str = "/moto-api/data.json";

#[derive(Debug, Error)]
pub enum MailboxError {
    #[error("{0} is not a valid URL")]
    Url(String),
    #[error("cannot reach the emulation: {0}")]
    Http(String),
    #[error("the emulation answered {0}")]
    Status(u16),
    #[error("the emulation's data is not JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// One message SES accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentEmail {
    pub id: String,
    pub source: String,
    pub to: Vec<String>,
    pub subject: String,
    /// As sent: HTML when the message had an HTML part.
    pub body: String,
}

impl SentEmail {
    /// The console form, with the body as plain text.
    pub fn render(&self) -> String {
        let rule = "-".repeat(60);
        format!(
            "{rule}\nMail from {}\nTo:      {}\nSubject: {}\n\n{}\n{rule}",
            self.source,
            self.to.join(", "),
            self.subject,
            strip_html(&self.body)
        )
    }
}

/// Polls the emulation for sent messages and remembers which were already shown.
pub struct Mailbox {
    url: Uri,
    client: Client<HttpConnector, Empty<Bytes>>,
    seen: HashSet<String>,
}

impl Mailbox {
    /// A mailbox reading from the emulation at `endpoint` (e.g. `http://127.0.0.1:4566`).
    pub fn new(endpoint: &str) -> Result<Mailbox, MailboxError> {
        let url = format!("{}{DATA_PATH}", endpoint.trim_end_matches('/'));
        let url = url.parse().map_err(|_| MailboxError::Url(url))?;
        Ok(Mailbox {
            url,
            client: Client::builder(TokioExecutor::new()).build_http(),
            seen: HashSet::new(),
        })
    }

    /// Every message the emulation holds.
    pub async fn fetch(&self) -> Result<Vec<SentEmail>, MailboxError> {
        let request = Request::get(self.url.clone())
            .body(Empty::new())
            .map_err(|e| MailboxError::Url(e.to_string()))?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| MailboxError::Http(e.to_string()))?;
        if !response.status().is_success() {
            return Err(MailboxError::Status(response.status().as_u16()));
        }
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| MailboxError::Http(e.to_string()))?
            .to_bytes();
        Ok(parse_messages(&serde_json::from_slice(&body)?))
    }

    /// The messages not returned before.
    pub async fn poll_new(&mut self) -> Result<Vec<SentEmail>, MailboxError> {
        let messages = self.fetch().await?;
        Ok(messages
            .into_iter()
            .filter(|m| self.seen.insert(m.id.clone()))
            .collect())
    }

    /// Prints each new message once, every `interval`, until `shutdown`. Messages that were
    /// already there at start belong to an earlier run and are skipped.
    pub async fn run(mut self, interval: Duration, shutdown: impl Future<Output = ()>) {
        match self.poll_new().await {
            Ok(old) => tracing::debug!(count = old.len(), "skipping messages of earlier runs"),
            Err(error) => tracing::warn!(%error, "mailbox: first poll failed"),
        }
        tokio::pin!(shutdown);
        let mut ticks = tokio::time::interval(interval);
        let mut failing = false;
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                () = &mut shutdown => return,
            }
            match self.poll_new().await {
                Ok(messages) => {
                    failing = false;
                    for message in messages {
                        println!("{}", message.render());
                    }
                }
                // Say it once per outage, not every second.
                Err(error) if !failing => {
                    failing = true;
                    tracing::warn!(%error, "mailbox: cannot read sent messages");
                }
                Err(_) => {}
            }
        }
    }
}

/// The messages under `ses.Message` of moto's data dump.
pub fn parse_messages(data: &Value) -> Vec<SentEmail> {
    let Some(messages) = data.pointer("/ses/Message").and_then(Value::as_array) else {
        return Vec::new();
    };
    let text = |m: &Value, field: &str| {
        m.get(field)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    messages
        .iter()
        .map(|m| SentEmail {
            id: text(m, "id"),
            source: text(m, "source"),
            to: m
                .pointer("/destinations/ToAddresses")
                .and_then(Value::as_array)
                .map(|to| {
                    to.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            subject: text(m, "subject"),
            body: text(m, "body"),
        })
        .collect()
}

/// Readable text from an HTML body: blocks become lines, other tags vanish, `<style>` and
/// `<script>` content is dropped, and common entities are decoded.
pub fn strip_html(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        text.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('>') else {
            text.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let tag = rest[start + 1..start + end].trim().to_ascii_lowercase();
        rest = &rest[start + end + 1..];
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '/')
            .collect();
        if name == "style" || name == "script" {
            let close = format!("</{name}");
            rest = rest.to_ascii_lowercase().find(&close).map_or("", |i| {
                let after = &rest[i..];
                after.find('>').map_or("", |j| &after[j + 1..])
            });
        } else if is_line_break(&name) {
            text.push('\n');
        }
    }
    text.push_str(rest);
    tidy(&decode_entities(&text))
}

fn is_line_break(name: &str) -> bool {
    matches!(
        name,
        "br" | "/p"
            | "/div"
            | "/tr"
            | "/li"
            | "/table"
            | "/h1"
            | "/h2"
            | "/h3"
            | "/h4"
            | "/h5"
            | "/h6"
    )
}

fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('&') {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        let decoded = after
            .find(';')
            .filter(|end| *end <= 10)
            .and_then(|end| entity(&after[1..end]).map(|c| (c, end)));
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &after[end + 1..];
            }
            None => {
                out.push('&');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "nbsp" => Some(' '),
        _ => {
            let number = name.strip_prefix('#')?;
            let code = match number.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => number.parse().ok()?,
            };
            char::from_u32(code)
        }
    }
}

/// Trims every line, collapses whitespace runs and keeps at most one blank line in a row.
fn tidy(text: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    for line in text.lines() {
        let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.is_empty() && lines.last().is_none_or(String::is_empty) {
            continue;
        }
        lines.push(line);
    }
    while lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn html_becomes_readable_text() {
        let html = "<html><head><style>p { color: red; }</style></head><body>\
                    <h1>Your code</h1><p>Enter <b>123 456</b> to sign in.</p>\
                    <p>Tom &amp; Jerry&nbsp;&#8212; &lt;ok&gt;<br>bye</p></body></html>";
        assert_eq!(
            strip_html(html),
            "Your code\nEnter 123 456 to sign in.\nTom & Jerry \u{2014} <ok>\nbye"
        );
        assert_eq!(strip_html("plain text, a < b"), "plain text, a < b");
    }

    #[test]
    fn messages_are_read_from_the_ses_dump() {
        let data = json!({"ses": {"Message": [{
            "id": "m1", "source": "no-reply@anumi.app",
            "destinations": {"ToAddresses": ["a@b.test"]},
            "subject": "Your code", "body": "<p>123456</p>"
        }]}});
        let messages = parse_messages(&data);
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].to, ["a@b.test"]);
        let rendered = messages[0].render();
        assert!(
            rendered.contains("Subject: Your code") && rendered.contains("\n123456\n"),
            "{rendered}"
        );
        assert!(parse_messages(&json!({})).is_empty());
    }
}
