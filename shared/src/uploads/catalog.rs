//! `GET /catalog`: what the app needs to show before anyone signs in (the styles, what each
//! product costs, the packs for sale, the Turnstile site key, the upload and quote limits),
//! every value read from the same configuration and constants the API enforces, so the
//! page and the server cannot disagree. Public and the same for everyone: cacheable.

use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, StatusCode};
use lambda_http::{Body, Response};
use serde::Serialize;

use super::{ALLOWED_CONTENT_TYPES, UploadsConfig};
use crate::billing::Price;
use crate::generation::imaging::bubble::MAX_QUOTE_CHARS;
use crate::generation::style::Style;
use crate::uploads::Prices;

/// Browsers and CloudFront may keep it five minutes: a price change shows within that.
const CACHE_SECONDS: u32 = 300;

#[derive(Debug, Serialize)]
struct Catalog<'a> {
    styles: &'a [Style],
    costs: Prices,
    packs: Vec<Pack<'a>>,
    turnstile: Turnstile<'a>,
    upload: Upload,
    quote: QuoteLimits,
}

#[derive(Debug, Serialize)]
struct Pack<'a> {
    /// The name `POST /checkout` takes.
    product: &'a str,
    credits: i64,
    price: Option<&'a Price>,
}

#[derive(Debug, Serialize)]
struct Turnstile<'a> {
    site_key: Option<&'a str>,
}

#[derive(Debug, Serialize)]
struct Upload {
    max_bytes: i64,
    content_types: &'static [&'static str],
}

#[derive(Debug, Serialize)]
struct QuoteLimits {
    max_chars: usize,
}

/// The answer, rendered once at start (nothing in it changes while the function runs).
#[derive(Debug, Clone)]
pub(super) struct CatalogPage(String);

impl CatalogPage {
    pub(super) fn new(config: &UploadsConfig) -> Self {
        let catalog = Catalog {
            styles: &Style::ALL,
            costs: config.prices,
            packs: config
                .catalog
                .packs
                .iter()
                .map(|pack| Pack {
                    product: &pack.name,
                    credits: pack.credits,
                    price: pack.price.as_ref(),
                })
                .collect(),
            turnstile: Turnstile {
                site_key: config.catalog.turnstile_site_key.as_deref(),
            },
            upload: Upload {
                max_bytes: config.max_upload_bytes,
                content_types: &ALLOWED_CONTENT_TYPES,
            },
            quote: QuoteLimits {
                max_chars: MAX_QUOTE_CHARS,
            },
        };
        Self(serde_json::to_string(&catalog).expect("the catalog serializes"))
    }

    pub(super) fn response(&self) -> Response<Body> {
        let mut response = Response::new(Body::Text(self.0.clone()));
        *response.status_mut() = StatusCode::OK;
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(
            CACHE_CONTROL,
            HeaderValue::from_str(&format!("public, max-age={CACHE_SECONDS}"))
                .expect("a valid header value"),
        );
        response
    }
}
