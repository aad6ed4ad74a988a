//! Raw MIME messages, for email that needs headers of its own (marketing email carries the
//! RFC 8058 one-click unsubscribe headers). Built by hand because it is small, and because a
//! raw message is what both SES and the local emulation keep byte for byte, so tests can
//! check the headers that go out.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::{Email, EmailAddress};

/// The MIME boundary: base64 output never contains `=_`, so it cannot occur in a part.
const BOUNDARY: &str = "=_anumi_alternative";

/// A header we add: its name and an ASCII value without line breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub name: &'static str,
    pub value: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("header {0} has a value that is not single-line ASCII")]
pub struct InvalidHeader(pub &'static str);

/// `email` as a multipart/alternative message (text and HTML, UTF-8, base64) with `headers`.
pub fn build(
    from: &str,
    to: &EmailAddress,
    email: &Email,
    headers: &[Header],
) -> Result<String, InvalidHeader> {
    let mut message = String::new();
    let mut line = |name: &str, value: &str| {
        message.push_str(name);
        message.push_str(": ");
        message.push_str(value);
        message.push_str("\r\n");
    };
    if !is_header_safe(from) {
        return Err(InvalidHeader("From"));
    }
    line("From", from);
    // EmailAddress allows no spaces, quotes or line breaks, so it is header-safe.
    line("To", to.as_str());
    line("Subject", &encode_subject(&email.subject));
    line("MIME-Version", "1.0");
    for header in headers {
        if !is_header_safe(&header.value) {
            return Err(InvalidHeader(header.name));
        }
        line(header.name, &header.value);
    }
    line(
        "Content-Type",
        &format!("multipart/alternative; boundary=\"{BOUNDARY}\""),
    );
    message.push_str("\r\n");
    for (media, content) in [("text/plain", &email.text), ("text/html", &email.html)] {
        message.push_str(&format!(
            "--{BOUNDARY}\r\nContent-Type: {media}; charset=UTF-8\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n"
        ));
        message.push_str(&wrapped_base64(content.as_bytes()));
    }
    message.push_str(&format!("--{BOUNDARY}--\r\n"));
    Ok(message)
}

fn is_header_safe(value: &str) -> bool {
    value.bytes().all(|b| (0x20..0x7f).contains(&b))
}

/// RFC 2047 encoded words of at most 75 characters, folded onto continuation lines.
fn encode_subject(subject: &str) -> String {
    if is_header_safe(subject) && subject.len() <= 900 {
        return subject.to_owned();
    }
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in subject.chars() {
        // 45 bytes of UTF-8 become 60 base64 characters: 72 with the `=?UTF-8?B?` frame.
        if chunk.len() + c.len_utf8() > 45 {
            words.push(std::mem::take(&mut chunk));
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(chunk);
    }
    words
        .iter()
        .map(|word| format!("=?UTF-8?B?{}?=", STANDARD.encode(word)))
        .collect::<Vec<_>>()
        .join("\r\n ")
}

fn wrapped_base64(bytes: &[u8]) -> String {
    let encoded = STANDARD.encode(bytes);
    let mut out = String::with_capacity(encoded.len() + encoded.len() / 76 * 2 + 2);
    for chunk in encoded.as_bytes().chunks(76) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email() -> Email {
        Email {
            subject: "Anumi のお知らせ: 新しいスタイルが追加されました、ぜひお試しください".into(),
            text: "こんにちは".into(),
            html: "<p>こんにちは</p>".into(),
            locale: crate::locale::Locale::Ja,
        }
    }

    #[test]
    fn builds_both_parts_with_our_headers_and_an_encoded_subject() {
        let to = EmailAddress::parse("yui@example.com").unwrap();
        let raw = build(
            "no-reply@anumi.app",
            &to,
            &email(),
            &[Header {
                name: "List-Unsubscribe-Post",
                value: "List-Unsubscribe=One-Click".into(),
            }],
        )
        .unwrap();
        assert!(raw.is_ascii());
        assert!(raw.contains("\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"));
        assert!(raw.contains("To: yui@example.com\r\n"));
        // Every encoded word stays within RFC 2047's 75 characters.
        let subject: Vec<&str> = raw
            .lines()
            .skip_while(|l| !l.starts_with("Subject:"))
            .take_while(|l| l.starts_with("Subject:") || l.starts_with(' '))
            .collect();
        assert!(subject.len() > 1, "a long subject is folded");
        let mut decoded = Vec::new();
        for word in subject
            .iter()
            .map(|l| l.trim_start_matches("Subject:").trim())
        {
            assert!(word.len() <= 75, "{word}");
            let inner = word
                .strip_prefix("=?UTF-8?B?")
                .and_then(|w| w.strip_suffix("?="))
                .unwrap();
            decoded.extend(STANDARD.decode(inner).unwrap());
        }
        assert_eq!(String::from_utf8(decoded).unwrap(), email().subject);
        let text_part = STANDARD.encode("こんにちは");
        assert!(raw.contains(&text_part));
        assert!(raw.ends_with(&format!("--{BOUNDARY}--\r\n")));
    }

    #[test]
    fn refuses_header_values_with_line_breaks() {
        let to = EmailAddress::parse("yui@example.com").unwrap();
        let bad = Header {
            name: "List-Unsubscribe",
            value: "<https://x>\r\nBcc: a@b.c".into(),
        };
        assert_eq!(
            build("no-reply@anumi.app", &to, &email(), &[bad]),
            Err(InvalidHeader("List-Unsubscribe"))
        );
    }
}
