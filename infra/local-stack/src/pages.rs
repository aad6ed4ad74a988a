//! The look of the local-only pages under `/_local/` (mail viewer, checkout stand-in, the
//! index): one small layout, so a newcomer sees tidy pages that say plainly they are local.

use http::header::{self, HeaderValue};
use http::{Response, StatusCode};
use http_body_util::Full;
use hyper::body::Bytes;

use crate::server::Body;

/// The local pages' own policy: their inline style, forms to themselves, email HTML shown in
/// sandboxed `srcdoc` frames (which inherit this policy: emails' inline styles and remote
/// images are allowed there, scripts never), and never framed.
const LOCAL_PAGE_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src * data:; \
frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const STYLE: &str = "\
:root{color-scheme:light dark;--fg:#1d1b20;--muted:#625b71;--bg:#fbf8ff;--card:#fff;--line:#e6e0ec;--accent:#6750a4;--warn:#fff4d6;--warn-fg:#5c4300}\
@media (prefers-color-scheme:dark){:root{--fg:#e6e0e9;--muted:#cac4d0;--bg:#141218;--card:#1d1b20;--line:#49454f;--accent:#d0bcff;--warn:#3d3000;--warn-fg:#ffe08a}}\
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;color:var(--fg);background:var(--bg)}\
header{padding:12px 20px;border-bottom:1px solid var(--line);display:flex;gap:16px;align-items:baseline;flex-wrap:wrap}\
header strong{font-size:18px}header nav a{margin-right:12px}\
main{max-width:960px;margin:0 auto;padding:20px}\
a{color:var(--accent)}h1{font-size:24px;margin:0 0 12px}h2{font-size:18px;margin:0}\
.badge{display:inline-block;padding:2px 10px;border-radius:999px;background:var(--warn);color:var(--warn-fg);font-size:13px;font-weight:600}\
.card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:16px;margin:0 0 16px}\
.meta{color:var(--muted);font-size:14px;margin:4px 0 12px}\
pre{white-space:pre-wrap;word-break:break-word;background:var(--bg);border:1px solid var(--line);border-radius:8px;padding:12px;font-size:14px;margin:0}\
iframe{width:100%;height:420px;border:1px solid var(--line);border-radius:8px;background:#fff}\
details{margin-top:12px}summary{cursor:pointer;color:var(--muted)}\
ul.links{padding-left:20px;margin:8px 0 0}ul.links li{word-break:break-all}\
button,.button{font:inherit;padding:10px 20px;border-radius:999px;border:0;background:var(--accent);color:var(--bg);cursor:pointer;text-decoration:none;display:inline-block}\
.secondary{background:transparent;color:var(--accent);border:1px solid var(--line)}\
.row{display:flex;gap:12px;align-items:center;flex-wrap:wrap}\
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line)}";

/// A whole page: the layout around `body` (HTML, already escaped).
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{title} · Anumi local stack</title><style>{STYLE}</style></head><body>\
         <header><strong>Anumi local stack</strong><span class=\"badge\">local only</span>\
         <nav><a href=\"/_local/\">Index</a><a href=\"/_local/mail\">Mail</a><a href=\"/\">App</a></nav></header>\
         <main>{body}</main></body></html>",
        title = escape(title),
    )
}

/// An HTML response of a local page, with the local pages' security headers.
pub fn html(status: StatusCode, document: String) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(document)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(LOCAL_PAGE_CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// Text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_for_content_and_attributes() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        let document = page("<Mail>", "<p>hi</p>");
        assert!(document.contains("<title>&lt;Mail&gt; · Anumi local stack</title>"));
        assert!(document.contains("<main><p>hi</p></main>"));
    }
}
