//! Just enough MIME to read back the raw messages the service sends (marketing email with
//! its own headers): headers with folded lines and RFC 2047 encoded words, one level of
//! `multipart/*`, and base64 or quoted-printable parts.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// What the mail viewer shows of a raw message.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub subject: String,
    pub text: Option<String>,
    pub html: Option<String>,
}

/// Reads a raw message; whatever cannot be read is left out.
pub fn parse(raw: &str) -> Parsed {
    let (headers, body) = split_head(raw);
    let subject = header(&headers, "subject")
        .map(|s| decode_words(&s))
        .unwrap_or_default();
    let mut parsed = Parsed {
        subject,
        ..Parsed::default()
    };
    read_entity(&headers, body, &mut parsed);
    parsed
}

fn read_entity(headers: &[(String, String)], body: &str, out: &mut Parsed) {
    let content_type = header(headers, "content-type").unwrap_or_else(|| "text/plain".into());
    let media = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if media.starts_with("multipart/") {
        let Some(boundary) = parameter(&content_type, "boundary") else {
            return;
        };
        let delimiter = format!("--{boundary}");
        for part in body.split(delimiter.as_str()).skip(1) {
            if part.starts_with("--") {
                break;
            }
            let (part_headers, part_body) = split_head(part.trim_start_matches(['\r', '\n']));
            read_entity(&part_headers, part_body, out);
        }
        return;
    }
    let encoding = header(headers, "content-transfer-encoding")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let decoded = match encoding.trim() {
        "base64" => {
            let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
            STANDARD
                .decode(compact)
                .ok()
                .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        }
        "quoted-printable" => Some(quoted_printable(body)),
        _ => Some(body.to_owned()),
    };
    let Some(decoded) = decoded else { return };
    match media.as_str() {
        "text/html" if out.html.is_none() => out.html = Some(decoded),
        "text/plain" if out.text.is_none() => out.text = Some(decoded.trim_end().to_owned()),
        _ => {}
    }
}

/// Headers (names lowercased, folded lines joined) and the body after the blank line.
fn split_head(entity: &str) -> (Vec<(String, String)>, &str) {
    let (head, body) = entity
        .split_once("\r\n\r\n")
        .or_else(|| entity.split_once("\n\n"))
        .unwrap_or((entity, ""));
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = headers.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    (headers, body)
}

fn header(headers: &[(String, String)], name: &str) -> Option<String> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
}

/// `boundary="x"` of a `Content-Type` value.
fn parameter(value: &str, name: &str) -> Option<String> {
    value.split(';').skip(1).find_map(|p| {
        let (key, raw) = p.split_once('=')?;
        (key.trim().eq_ignore_ascii_case(name)).then(|| raw.trim().trim_matches('"').to_owned())
    })
}

/// RFC 2047 `=?charset?B|Q?text?=` words decoded (as UTF-8); whitespace between two encoded
/// words is dropped, as the RFC says.
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    let mut after_word = false;
    while let Some(start) = rest.find("=?") {
        let before = &rest[..start];
        if !(after_word && before.trim().is_empty()) {
            out.push_str(before);
        }
        let word = &rest[start + 2..];
        let decoded = word.split_once("?=").and_then(|(inner, tail)| {
            let mut fields = inner.splitn(3, '?');
            let (_charset, kind, text) = (fields.next()?, fields.next()?, fields.next()?);
            let bytes = match kind {
                "B" | "b" => STANDARD.decode(text).ok()?,
                "Q" | "q" => quoted_printable(&text.replace('_', " ")).into_bytes(),
                _ => return None,
            };
            Some((String::from_utf8_lossy(&bytes).into_owned(), tail))
        });
        match decoded {
            Some((text, tail)) => {
                out.push_str(&text);
                rest = tail;
                after_word = true;
            }
            None => {
                out.push_str("=?");
                rest = word;
                after_word = false;
            }
        }
    }
    out.push_str(rest);
    out
}

fn quoted_printable(text: &str) -> String {
    let mut bytes = Vec::with_capacity(text.len());
    let raw = text.as_bytes();
    let mut index = 0;
    while index < raw.len() {
        match raw[index] {
            b'=' if raw.get(index + 1..index + 3) == Some(b"\r\n") => index += 3,
            b'=' if raw.get(index + 1) == Some(&b'\n') => index += 2,
            b'=' => {
                let hex = raw
                    .get(index + 1..index + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(byte) => {
                        bytes.push(byte);
                        index += 3;
                    }
                    None => {
                        bytes.push(b'=');
                        index += 1;
                    }
                }
            }
            other => {
                bytes.push(other);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_parts_and_an_encoded_subject_are_read() {
        let text = STANDARD.encode("こんにちは https://anumi.app/unsubscribe?token=a");
        let html = STANDARD.encode("<p>こんにちは</p>");
        let raw = format!(
            "From: no-reply@anumi.app\r\nTo: yui@example.com\r\nSubject: =?UTF-8?B?{}?=\r\n =?UTF-8?B?{}?=\r\n\
             MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"=_b\"\r\n\r\n\
             --=_b\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{text}\r\n\
             --=_b\r\nContent-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{html}\r\n--=_b--\r\n",
            STANDARD.encode("Anumi の"),
            STANDARD.encode("お知らせ"),
        );
        let parsed = parse(&raw);
        assert_eq!(parsed.subject, "Anumi のお知らせ");
        assert_eq!(
            parsed.text.as_deref(),
            Some("こんにちは https://anumi.app/unsubscribe?token=a")
        );
        assert_eq!(parsed.html.as_deref(), Some("<p>こんにちは</p>"));
    }

    #[test]
    fn single_part_quoted_printable_is_read() {
        let raw = "Subject: =?utf-8?Q?caf=C3=A9_ok?=\nContent-Type: text/plain\n\
                   Content-Transfer-Encoding: quoted-printable\n\nline=\n one =3D two\n";
        let parsed = parse(raw);
        assert_eq!(parsed.subject, "café ok");
        assert_eq!(parsed.text.as_deref(), Some("line one = two"));
        assert_eq!(parsed.html, None);
    }
}
