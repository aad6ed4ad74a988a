//! The security headers of every response of the app's origin, as CloudFront's response
//! headers policy sends them when deployed (`template.yaml`, `ResponseHeadersPolicy`), so a
//! Content-Security-Policy violation shows up locally, in the browser tests, and not first
//! in production.

use http::HeaderMap;
use http::header::{self, HeaderName, HeaderValue};

/// The app's Content-Security-Policy. `{storage}` stands for the origins the presigned S3
/// URLs point at (the selfie `PUT`, the pictures shown): the emulation locally, the
/// buckets' S3 endpoints when deployed. The only third party is Cloudflare Turnstile (its
/// script and its frame). `'wasm-unsafe-eval'` lets the app compile its own WebAssembly
/// (the quote rules), nothing else. Styles come from the app's own files (inline `style`
/// attributes are refused; CSSOM changes from script are allowed, as CSP allows them).
///
/// This is the one copy of the policy: a unit test checks that template.yaml's
/// `ResponseHeadersPolicy` says the same.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; \
script-src 'self' 'wasm-unsafe-eval' https://challenges.cloudflare.com; \
frame-src https://challenges.cloudflare.com; \
connect-src 'self' {storage}; \
img-src 'self' data: blob: {storage}; \
style-src 'self'; \
font-src 'self'; \
object-src 'none'; \
base-uri 'none'; \
form-action 'self'; \
frame-ancestors 'none'";

/// Where the storage origins go in [`CONTENT_SECURITY_POLICY`].
pub const STORAGE_PLACEHOLDER: &str = "{storage}";

/// The policy with `storage_origins` (e.g. `http://127.0.0.1:4566`) in place.
pub fn content_security_policy(storage_origins: &[String]) -> String {
    CONTENT_SECURITY_POLICY.replace(STORAGE_PLACEHOLDER, &storage_origins.join(" "))
}

/// The other headers of CloudFront's `SecurityHeadersConfig`, as the template sets them.
/// `Strict-Transport-Security` is sent as deployed; browsers ignore it over plain HTTP.
pub const OTHER_HEADERS: &[(&str, &str)] = &[
    (
        "strict-transport-security",
        "max-age=63072000; includeSubDomains; preload",
    ),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "strict-origin-when-cross-origin"),
];

/// The headers every response of the app's origin carries.
#[derive(Debug, Clone)]
pub struct SecurityHeaders {
    headers: Vec<(HeaderName, HeaderValue)>,
}

/// A storage origin that cannot go into a header.
#[derive(Debug, thiserror::Error)]
#[error("{0:?} cannot be a Content-Security-Policy source")]
pub struct InvalidOrigin(pub String);

impl SecurityHeaders {
    /// The headers, with presigned URLs pointing at `storage_origins`.
    pub fn new(storage_origins: &[String]) -> Result<SecurityHeaders, InvalidOrigin> {
        if let Some(bad) = storage_origins
            .iter()
            .find(|o| o.is_empty() || o.contains([';', ',', ' ', '\'']))
        {
            return Err(InvalidOrigin(bad.clone()));
        }
        let csp = content_security_policy(storage_origins);
        let mut headers = vec![(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::try_from(csp.as_str()).map_err(|_| InvalidOrigin(csp.clone()))?,
        )];
        headers.extend(OTHER_HEADERS.iter().map(|(name, value)| {
            (
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            )
        }));
        Ok(SecurityHeaders { headers })
    }

    /// Sets the headers on a response, replacing any the function set (CloudFront's policy
    /// overrides origin headers too).
    pub fn apply(&self, out: &mut HeaderMap) {
        for (name, value) in &self.headers {
            out.insert(name.clone(), value.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_names_only_turnstile_and_the_storage_as_other_origins() {
        let csp = content_security_policy(&["http://127.0.0.1:4566".to_owned()]);
        assert!(csp.contains("connect-src 'self' http://127.0.0.1:4566;"));
        assert!(csp.contains("img-src 'self' data: blob: http://127.0.0.1:4566;"));
        assert!(csp.contains("frame-ancestors 'none'"));
        let others: Vec<&str> = csp
            .split([';', ' '])
            .filter(|source| source.contains("://"))
            .filter(|source| *source != "http://127.0.0.1:4566")
            .collect();
        assert!(
            others
                .iter()
                .all(|o| *o == "https://challenges.cloudflare.com"),
            "{others:?}"
        );
        assert!(!csp.contains("unsafe-inline") && !csp.contains("'unsafe-eval'"));
    }

    #[test]
    fn headers_are_set_over_whatever_the_response_had() {
        let headers = SecurityHeaders::new(&["http://127.0.0.1:4566".to_owned()]).unwrap();
        let mut out = HeaderMap::new();
        out.insert("x-frame-options", HeaderValue::from_static("ALLOWALL"));
        headers.apply(&mut out);
        assert_eq!(out["x-frame-options"], "DENY");
        assert_eq!(out["x-content-type-options"], "nosniff");
        assert!(out.contains_key("content-security-policy"));
        assert!(out.contains_key("referrer-policy"));
        assert!(SecurityHeaders::new(&["x; script-src *".to_owned()]).is_err());
    }
}

/// The deployed policy in `template.yaml` (CloudFront's `SiteResponseHeadersPolicy`) must be
/// this one: its `${Storage}` is our `{storage}`.
#[cfg(test)]
mod template_tests {
    use serde_norway::Value;

    use super::*;

    fn security_headers_config() -> Value {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../template.yaml");
        let text = std::fs::read_to_string(path).expect("template.yaml");
        let template: Value = serde_norway::from_str(&text).expect("template.yaml parses");
        template["Resources"]["SiteResponseHeadersPolicy"]["Properties"]
            ["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
            .clone()
    }

    #[test]
    fn the_template_sends_the_same_content_security_policy() {
        let config = security_headers_config();
        let csp = &config["ContentSecurityPolicy"]["ContentSecurityPolicy"];
        let Value::Tagged(sub) = csp else {
            panic!("template.yaml: SiteResponseHeadersPolicy's CSP is not a !Sub: {csp:?}");
        };
        let text = match &sub.value {
            Value::Sequence(parts) => parts.first().and_then(Value::as_str),
            other => other.as_str(),
        }
        .expect("the !Sub's text");
        assert_eq!(
            text.replace("${Storage}", STORAGE_PLACEHOLDER),
            CONTENT_SECURITY_POLICY
        );
    }

    #[test]
    fn the_template_sends_the_same_other_headers() {
        let config = security_headers_config();
        let hsts = &config["StrictTransportSecurity"];
        let mut deployed = format!(
            "max-age={}",
            hsts["AccessControlMaxAgeSec"]
                .as_u64()
                .expect("HSTS max age")
        );
        if hsts["IncludeSubdomains"].as_bool() == Some(true) {
            deployed.push_str("; includeSubDomains");
        }
        if hsts["Preload"].as_bool() == Some(true) {
            deployed.push_str("; preload");
        }
        let ours = |name: &str| {
            OTHER_HEADERS
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| *v)
                .unwrap_or_default()
        };
        assert_eq!(ours("strict-transport-security"), deployed);
        assert_eq!(
            config["ContentTypeOptions"]["Override"].as_bool(),
            Some(true)
        );
        assert_eq!(ours("x-content-type-options"), "nosniff");
        assert_eq!(
            Some(ours("x-frame-options")),
            config["FrameOptions"]["FrameOption"].as_str()
        );
        assert_eq!(
            Some(ours("referrer-policy")),
            config["ReferrerPolicy"]["ReferrerPolicy"].as_str()
        );
    }
}
