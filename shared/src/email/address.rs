use std::fmt;

/// RFC 5321's limit on a forward path.
pub const MAX_EMAIL_LEN: usize = 254;
const MAX_LOCAL_LEN: usize = 64;

/// A syntactically valid, normalized email address: trimmed and lower-cased, so that the
/// lead list and the wallets hold one row per address however it was typed.
///
/// `Debug` does not print the address, so it cannot leak into logs by accident.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidEmail {
    #[error("email is longer than {MAX_EMAIL_LEN} characters")]
    TooLong,
    #[error("email is not a valid address")]
    Malformed,
}

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<Self, InvalidEmail> {
        let normalized = raw.trim().to_lowercase();
        if normalized.len() > MAX_EMAIL_LEN {
            return Err(InvalidEmail::TooLong);
        }
        let (local, domain) = normalized.rsplit_once('@').ok_or(InvalidEmail::Malformed)?;
        if valid_local_part(local) && valid_domain(domain) {
            Ok(Self(normalized))
        } else {
            Err(InvalidEmail::Malformed)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Dot-atom local parts (no quoted strings: nobody signs up with those, and they are a
/// classic injection vector into mail headers).
fn valid_local_part(local: &str) -> bool {
    !local.is_empty()
        && local.len() <= MAX_LOCAL_LEN
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c))
}

/// At least two labels of letters, digits and hyphens (IDNs arrive as punycode).
fn valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EmailAddress(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_case_and_whitespace() {
        let email = EmailAddress::parse("  Yui.Tanaka+avatars@Example.JP ").unwrap();
        assert_eq!(email.as_str(), "yui.tanaka+avatars@example.jp");
    }

    #[test]
    fn refuses_malformed_addresses() {
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@b",
            "a@-b.com",
            "a..b@example.com",
            ".a@example.com",
            "a b@example.com",
            "a@exa mple.com",
            "a@example..com",
            "\"q\"@example.com",
            "a@example.com\r\nBcc: x@y.z",
        ] {
            assert_eq!(
                EmailAddress::parse(bad),
                Err(InvalidEmail::Malformed),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn refuses_overlong_addresses() {
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(EmailAddress::parse(&long), Err(InvalidEmail::TooLong));
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert_eq!(
            EmailAddress::parse(&long_local),
            Err(InvalidEmail::Malformed)
        );
    }

    #[test]
    fn debug_output_hides_the_address() {
        let email = EmailAddress::parse("secret@example.com").unwrap();
        assert!(!format!("{email:?}").contains("secret"));
    }
}
