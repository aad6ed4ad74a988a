//! The pages of the app that emails link to. Every link in every email opens one of these
//! at the app's origin (`APP_ORIGIN`), never an API route: the page then calls the API
//! under `/api` itself (and shows what happened in the person's language). The one
//! exception is the RFC 8058 `List-Unsubscribe` header, which mail clients POST to
//! directly (`crate::marketing::one_click_unsubscribe_url`).

use crate::config::Origin;

/// One page of the app, with what its link carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppPage<'a> {
    /// `/generations/{id}`: one generation, its pictures and downloads (signed in).
    Generation { id: &'a str },
    /// `/trial/{id}?token=…`: a free trial for whoever holds its signed link.
    Trial { id: &'a str, token: &'a str },
    /// `/export?p=…&r=…&sig=…`: downloads the archive through `/api/exports/download`.
    Export {
        email_hash: &'a str,
        request_id: &'a str,
        signature: &'a str,
    },
    /// `/unsubscribe?token=…`: a button that POSTs `/api/unsubscribe?token=…`.
    Unsubscribe { token: &'a str },
    /// `/credits`: the balance and the packs.
    Credits,
}

impl AppPage<'_> {
    /// The page's address at `origin`. The values are ids, hex and base64url tokens: none
    /// needs escaping in a URL.
    pub fn url(&self, origin: &Origin) -> String {
        let origin = origin.as_str();
        match self {
            Self::Generation { id } => format!("{origin}/generations/{id}"),
            Self::Trial { id, token } => format!("{origin}/trial/{id}?token={token}"),
            Self::Export {
                email_hash,
                request_id,
                signature,
            } => format!("{origin}/export?p={email_hash}&r={request_id}&sig={signature}"),
            Self::Unsubscribe { token } => format!("{origin}/unsubscribe?token={token}"),
            Self::Credits => format!("{origin}/credits"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_is_at_the_app_origin() {
        let origin: Origin = "https://anumi.app".parse().unwrap();
        let pages = [
            (
                AppPage::Generation { id: "g1" },
                "https://anumi.app/generations/g1",
            ),
            (
                AppPage::Trial {
                    id: "t1",
                    token: "9.ab",
                },
                "https://anumi.app/trial/t1?token=9.ab",
            ),
            (
                AppPage::Export {
                    email_hash: "h",
                    request_id: "r",
                    signature: "s",
                },
                "https://anumi.app/export?p=h&r=r&sig=s",
            ),
            (
                AppPage::Unsubscribe { token: "v1.a.b" },
                "https://anumi.app/unsubscribe?token=v1.a.b",
            ),
            (AppPage::Credits, "https://anumi.app/credits"),
        ];
        for (page, url) in pages {
            assert_eq!(page.url(&origin), url);
        }
    }
}
