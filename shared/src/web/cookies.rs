use std::fmt;

use http::header::COOKIE;
use lambda_http::Request;

/// The value of cookie `name` on the request. API Gateway's payload 2.0 sends cookies in a
/// `cookies` array, which lambda_http folds into one `Cookie` header.
pub fn request_cookie<'r>(request: &'r Request, name: &str) -> Option<&'r str> {
    request
        .headers()
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|header| header.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// A `Set-Cookie` value. Always `Secure`, `SameSite=Lax` and `Path=/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetCookie {
    pub name: &'static str,
    pub value: String,
    pub max_age: i64,
    pub http_only: bool,
}

impl SetCookie {
    /// A cookie that removes `name` from the browser.
    pub fn expired(name: &'static str, http_only: bool) -> Self {
        Self {
            name,
            value: String::new(),
            max_age: 0,
            http_only,
        }
    }
}

impl fmt::Display for SetCookie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}={}; Max-Age={}; Path=/; Secure; SameSite=Lax",
            self.name, self.value, self.max_age
        )?;
        if self.http_only {
            f.write_str("; HttpOnly")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_cookies_among_several() {
        let request = http::Request::builder()
            .header("cookie", "locale=ja; session=abc.def.ghi")
            .body(lambda_http::Body::Empty)
            .unwrap();
        let request = Request::from(request);
        assert_eq!(request_cookie(&request, "session"), Some("abc.def.ghi"));
        assert_eq!(request_cookie(&request, "locale"), Some("ja"));
        assert_eq!(request_cookie(&request, "other"), None);
    }

    #[test]
    fn formats_secure_cookies() {
        let cookie = SetCookie {
            name: "session",
            value: "t".into(),
            max_age: 60,
            http_only: true,
        };
        assert_eq!(
            cookie.to_string(),
            "session=t; Max-Age=60; Path=/; Secure; SameSite=Lax; HttpOnly"
        );
        assert_eq!(
            SetCookie::expired("locale", false).to_string(),
            "locale=; Max-Age=0; Path=/; Secure; SameSite=Lax"
        );
    }
}
