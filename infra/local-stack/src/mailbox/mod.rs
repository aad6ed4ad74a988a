//! The emails the emulation "sent" (moto keeps them instead of delivering): read for the
//! local mail viewer (`GET /_local/mail`, [`viewer`]), and announced in the console, one
//! line each with the viewer's address.

pub mod mime;
pub mod viewer;

use std::collections::HashSet;
use std::future::Future;
use std::time::Duration;

use http::{Request, Uri};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Serialize;
use serde_json::Value;
use thiserror::Error;

/// The emulation's state dump of SES alone (its sent messages; see infra/moto_server.py).
pub const DATA_PATH: &str = "/moto-api/data.json?service=ses";

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

/// One message SES accepted, as the mail viewer shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SentEmail {
    pub id: String,
    pub from: String,
    pub to: Vec<String>,
    pub subject: String,
    /// The text part (derived from the HTML when the emulation kept only that).
    pub text: String,
    pub html: Option<String>,
    /// Every `http(s)` link of either part, in order of appearance, without repeats.
    pub links: Vec<String>,
    /// When SES accepted it (Unix seconds), when the emulation recorded it.
    pub sent_at: Option<f64>,
}

impl SentEmail {
    fn new(
        id: String,
        from: String,
        to: Vec<String>,
        subject: String,
        text: Option<String>,
        html: Option<String>,
        sent_at: Option<f64>,
    ) -> SentEmail {
        let text = match (text, &html) {
            (Some(text), _) => text,
            (None, Some(html)) => strip_html(html),
            (None, None) => String::new(),
        };
        let mut links = Vec::new();
        for link in html
            .as_deref()
            .map(html_links)
            .unwrap_or_default()
            .into_iter()
            .chain(text_links(&text))
        {
            if !links.contains(&link) {
                links.push(link);
            }
        }
        SentEmail {
            id,
            from,
            to,
            subject,
            text,
            html,
            links,
            sent_at,
        }
    }

    /// The console line: who, what, and where to read it.
    pub fn announce(&self, viewer: &str) -> String {
        format!(
            "mail to {}: \"{}\" -> {viewer}#{}",
            self.to.join(", "),
            self.subject,
            self.id
        )
    }
}

/// Reads the messages the emulation holds.
pub struct Mailbox {
    url: Uri,
    client: Client<HttpConnector, Empty<Bytes>>,
}

impl Mailbox {
    /// A mailbox reading from the emulation at `endpoint` (e.g. `http://127.0.0.1:4566`).
    pub fn new(endpoint: &str) -> Result<Mailbox, MailboxError> {
        let url = format!("{}{DATA_PATH}", endpoint.trim_end_matches('/'));
        let url = url.parse().map_err(|_| MailboxError::Url(url))?;
        Ok(Mailbox {
            url,
            client: Client::builder(TokioExecutor::new()).build_http(),
        })
    }

    /// Every message the emulation holds, newest first.
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

    /// Prints one line for each new message, every `interval`, until `shutdown`, pointing
    /// at the mail viewer at `viewer`. Messages already there at start belong to an earlier
    /// run and are skipped.
    pub async fn announce(
        self,
        viewer: String,
        interval: Duration,
        shutdown: impl Future<Output = ()>,
    ) {
        let mut seen: HashSet<String> = HashSet::new();
        match self.fetch().await {
            Ok(old) => seen.extend(old.into_iter().map(|m| m.id)),
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
            match self.fetch().await {
                Ok(messages) => {
                    failing = false;
                    // Oldest first on the console.
                    for message in messages.iter().rev() {
                        if seen.insert(message.id.clone()) {
                            println!("{}", message.announce(&viewer));
                        }
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

/// The messages of moto's data dump (`ses.Message`, simple content; `ses.RawMessage`, MIME),
/// newest first. `text`, `html` and `sent_at` are kept by `infra/moto_server.py`; without
/// them the text is derived from the body.
pub fn parse_messages(data: &Value) -> Vec<SentEmail> {
    let text = |m: &Value, field: &str| m.get(field).and_then(Value::as_str).map(str::to_owned);
    let list = |value: Option<&Value>| -> Vec<String> {
        value
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let messages = |name: &str| {
        data.pointer(&format!("/ses/{name}"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let mut all = Vec::new();
    for m in messages("Message") {
        let body = text(&m, "body").unwrap_or_default();
        let html = text(&m, "html").or_else(|| body.contains('<').then(|| body.clone()));
        let plain = text(&m, "text").or_else(|| (!body.contains('<')).then(|| body.clone()));
        all.push(SentEmail::new(
            text(&m, "id").unwrap_or_default(),
            text(&m, "source").unwrap_or_default(),
            list(m.pointer("/destinations/ToAddresses")),
            text(&m, "subject").unwrap_or_default(),
            plain,
            html,
            m.get("sent_at").and_then(Value::as_f64),
        ));
    }
    for m in messages("RawMessage") {
        let parsed = mime::parse(&text(&m, "raw_data").unwrap_or_default());
        all.push(SentEmail::new(
            text(&m, "id").unwrap_or_default(),
            text(&m, "source").unwrap_or_default(),
            list(m.get("destinations")),
            parsed.subject,
            parsed.text,
            parsed.html,
            m.get("sent_at").and_then(Value::as_f64),
        ));
    }
    // Stable: messages without a time keep the emulation's order, reversed.
    all.reverse();
    all.sort_by(|a, b| {
        b.sent_at
            .unwrap_or(0.0)
            .total_cmp(&a.sent_at.unwrap_or(0.0))
    });
    all
}

/// The `href`s of an HTML body that are web links, entities decoded.
fn html_links(html: &str) -> Vec<String> {
    let mut links = Vec::new();
    let lower = html.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = lower[from..].find("href=") {
        let start = from + found + 5;
        let quote = html[start..].chars().next();
        let (value_start, end) = match quote {
            Some(q @ ('"' | '\'')) => {
                let value_start = start + 1;
                (
                    value_start,
                    html[value_start..].find(q).map(|e| value_start + e),
                )
            }
            _ => (start, html[start..].find([' ', '>']).map(|e| start + e)),
        };
        let Some(end) = end else { break };
        let link = decode_entities(&html[value_start..end]);
        if link.starts_with("http://") || link.starts_with("https://") {
            links.push(link);
        }
        from = end;
    }
    links
}

/// `http(s)://…` runs of a text part, without trailing punctuation.
fn text_links(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"'))
        .filter(|word| word.starts_with("http://") || word.starts_with("https://"))
        .map(|word| {
            word.trim_end_matches(['.', ',', ')', ';', ':', '!', '?'])
                .to_owned()
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
    fn messages_are_read_from_the_ses_dump_newest_first() {
        let raw = "Subject: Raw one\r\nContent-Type: text/plain\r\n\r\nsee https://x.test/raw.\r\n";
        let data = json!({"ses": {
            "Message": [
                {
                    "id": "m1", "source": "no-reply@anumi.app",
                    "destinations": {"ToAddresses": ["a@b.test"]},
                    "subject": "Your code", "body": "<p>123456</p>",
                    "html": "<p>123456 <a href=\"https://anumi.app/sign-in?a=1&amp;b=2\">in</a></p>",
                    "text": "123456 https://anumi.app/sign-in?a=1&b=2", "sent_at": 10.0
                },
                {
                    "id": "m2", "source": "no-reply@anumi.app",
                    "destinations": {"ToAddresses": ["c@d.test"]},
                    "subject": "Old moto", "body": "<p>only <b>html</b></p>", "sent_at": 30.0
                }
            ],
            "RawMessage": [{"id": "r1", "source": "s@anumi.app", "destinations": ["e@f.test"],
                            "raw_data": raw, "sent_at": 20.0}]
        }});
        let messages = parse_messages(&data);
        let ids: Vec<&str> = messages.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["m2", "r1", "m1"]);
        let code = &messages[2];
        assert_eq!(code.to, ["a@b.test"]);
        assert_eq!(code.text, "123456 https://anumi.app/sign-in?a=1&b=2");
        assert_eq!(code.links, ["https://anumi.app/sign-in?a=1&b=2"]);
        assert_eq!(messages[0].text, "only html");
        assert_eq!(messages[1].subject, "Raw one");
        assert_eq!(messages[1].links, ["https://x.test/raw"]);
        assert!(
            messages[0]
                .announce("http://127.0.0.1:3000/_local/mail")
                .ends_with("/_local/mail#m2")
        );
        assert!(parse_messages(&json!({})).is_empty());
    }
}
