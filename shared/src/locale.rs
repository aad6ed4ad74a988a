//! The two languages the service speaks. The choice is remembered in a `locale` cookie and
//! on the wallet, and picks the email templates.

use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Locale {
    #[default]
    En,
    Ja,
}

impl Locale {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Ja => "ja",
        }
    }

    /// The first supported language in an `Accept-Language` header, ignoring weights
    /// beyond their order (browsers list the preferred one first).
    pub fn from_accept_language(header: &str) -> Option<Self> {
        header.split(',').find_map(|part| {
            let tag = part.split(';').next().unwrap_or_default().trim();
            let primary = tag.split('-').next().unwrap_or_default();
            primary.to_ascii_lowercase().parse().ok()
        })
    }
}

impl FromStr for Locale {
    type Err = UnsupportedLocale;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "en" => Ok(Self::En),
            "ja" => Ok(Self::Ja),
            _ => Err(UnsupportedLocale),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("locale must be \"en\" or \"ja\"")]
pub struct UnsupportedLocale;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_supported_codes() {
        assert_eq!("ja".parse(), Ok(Locale::Ja));
        assert_eq!("en".parse(), Ok(Locale::En));
        assert_eq!("fr".parse::<Locale>(), Err(UnsupportedLocale));
        assert_eq!("JA".parse::<Locale>(), Err(UnsupportedLocale));
    }

    #[test]
    fn accept_language_picks_the_first_supported_language() {
        assert_eq!(
            Locale::from_accept_language("ja-JP,ja;q=0.9,en;q=0.8"),
            Some(Locale::Ja)
        );
        assert_eq!(
            Locale::from_accept_language("fr-FR, en-GB;q=0.7"),
            Some(Locale::En)
        );
        assert_eq!(Locale::from_accept_language("de"), None);
    }
}
