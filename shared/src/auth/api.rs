//! The `otp` function's HTTP API: `POST /auth/otp/start`, `POST /auth/otp/verify`,
//! `POST /auth/logout`, `POST /auth/logout-all`, `GET /me`, `POST /locale`.

use std::sync::Arc;

use aws_config::SdkConfig;
use http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tracing::{error, info, warn};

use super::codes::{self, CODE_TTL_SECONDS, OneTimeCodes, VerifyOutcome};
use super::config::OtpConfig;
use super::guard::SignedIn;
use super::session::{SESSION_COOKIE, SessionKeys};
use crate::clock::{Clock, rfc3339};
use crate::email::{EmailAddress, InvalidEmail, Mailer, templates};
use crate::leads::{LeadList, LeadSource};
use crate::locale::Locale;
use crate::privacy::IpHasher;
use crate::rate_limit::{Limit, RateLimiter};
use crate::store::StoreError;
use crate::wallets::{Wallet, Wallets};
use crate::web::{self, ApiError, DEFAULT_BODY_LIMIT, SetCookie, json_body, request_cookie};

const LOCALE_COOKIE: &str = "locale";
const LOCALE_COOKIE_MAX_AGE: i64 = 365 * 24 * 3600;

/// The handler and everything it needs, built once per cold start.
#[derive(Debug)]
pub struct OtpApi {
    clock: Arc<dyn Clock>,
    codes: OneTimeCodes,
    wallets: Wallets,
    leads: LeadList,
    limiter: RateLimiter,
    mailer: Mailer,
    signed_in: SignedIn,
    ip_hasher: IpHasher,
    config: OtpConfig,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StartRequest {
    email: String,
    locale: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyRequest {
    email: String,
    code: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LocaleRequest {
    locale: String,
}

/// The signed-in wallet as the API shows it.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct WalletView {
    pub email: String,
    pub credits: i64,
    pub locale: String,
    pub created_at: String,
}

impl From<&Wallet> for WalletView {
    fn from(wallet: &Wallet) -> Self {
        Self {
            email: wallet.email.as_str().to_owned(),
            credits: wallet.credits,
            locale: wallet.locale.as_str().to_owned(),
            created_at: rfc3339(wallet.created_at),
        }
    }
}

type ApiResult = Result<Response<Body>, ApiError>;

#[derive(Debug, Clone, Copy)]
enum Route {
    Start,
    Verify,
    Logout,
    LogoutAll,
    Me,
    Locale,
    Unknown,
}

impl Route {
    fn name(self) -> &'static str {
        match self {
            Self::Start => "otp_start",
            Self::Verify => "otp_verify",
            Self::Logout => "logout",
            Self::LogoutAll => "logout_all",
            Self::Me => "me",
            Self::Locale => "locale",
            Self::Unknown => "unknown",
        }
    }
}

impl OtpApi {
    pub fn new(config: OtpConfig, aws: &SdkConfig, clock: Arc<dyn Clock>) -> Self {
        let dynamodb = crate::aws::dynamodb(aws);
        let tables = &config.tables;
        let wallets = Wallets::new(dynamodb.clone(), &tables.wallets);
        Self {
            codes: OneTimeCodes::new(
                dynamodb.clone(),
                &tables.otp_codes,
                config.secrets.otp_hash_key.clone(),
                clock.clone(),
            ),
            signed_in: SignedIn::new(
                SessionKeys::new(&config.secrets.session),
                wallets.clone(),
                clock.clone(),
            ),
            wallets,
            leads: LeadList::new(dynamodb.clone(), &tables.leads),
            limiter: RateLimiter::new(dynamodb, &tables.rate_limits, clock.clone()),
            mailer: Mailer::new(crate::aws::sesv2(aws), &config.email_from),
            ip_hasher: IpHasher::new(config.secrets.ip_hash_salt.clone()),
            clock,
            config,
        }
    }

    /// Routes one API Gateway request. Every failure becomes a JSON error response.
    pub async fn handle(&self, request: Request) -> Response<Body> {
        let route = match request.uri().path() {
            "/auth/otp/start" => Route::Start,
            "/auth/otp/verify" => Route::Verify,
            "/auth/logout" => Route::Logout,
            "/auth/logout-all" => Route::LogoutAll,
            "/me" => Route::Me,
            "/locale" => Route::Locale,
            _ => Route::Unknown,
        };
        let method = request.method();
        let result = match (route, method) {
            (Route::Start, &Method::POST) => self.start(&request).await,
            (Route::Verify, &Method::POST) => self.verify(&request).await,
            (Route::Logout, &Method::POST) => self.logout(&request).await,
            (Route::LogoutAll, &Method::POST) => self.logout_all(&request).await,
            (Route::Me, &Method::GET) => self.me(&request).await,
            (Route::Locale, &Method::POST) => self.set_locale(&request).await,
            (Route::Unknown, _) => Err(ApiError::not_found()),
            _ => Err(ApiError::method_not_allowed()),
        };
        web::respond(route.name(), method, result)
    }

    /// Emails a sign-in code. The answer is the same whether or not the email has a
    /// wallet, so the endpoint cannot be used to find out who has an account.
    async fn start(&self, request: &Request) -> ApiResult {
        let body: StartRequest = json_body(request, DEFAULT_BODY_LIMIT)?;
        let email = parse_email(&body.email)?;
        let chosen_locale = body.locale.as_deref().map(parse_locale).transpose()?;
        let locale = chosen_locale.unwrap_or_else(|| request_locale(request));

        let ip_hash = self.ip_hash(request);
        self.limit(
            &format!("otp-start-ip#{ip_hash}"),
            self.config.limits.starts_per_ip,
        )
        .await?;
        let email_hash = self.codes.email_hash(&email);
        self.limit(
            &format!("otp-resend#{email_hash}"),
            self.config.limits.resend_interval,
        )
        .await?;
        self.limit(
            &format!("otp-email#{email_hash}"),
            self.config.limits.codes_per_email,
        )
        .await?;

        // The lead is recorded first: the person gave us this email at the sign-in page
        // whether or not the mail then goes out, and a storage failure here leaves nothing
        // else behind.
        let captured = self
            .leads
            .capture(&email, LeadSource::SignIn, self.clock.now())
            .await
            .map_err(internal)?;
        let code = self.codes.issue(&email).await.map_err(internal)?;
        let message = templates::sign_in_code(locale, &code, CODE_TTL_SECONDS / 60);
        if let Err(send_error) = self.mailer.send(&email, &message).await {
            error!(error = %send_error, email_hash = %short(&email_hash), "sign-in email not sent");
            // A code nobody received must not stay valid.
            if let Err(store_error) = self.codes.withdraw(&email).await {
                error!(error = %store_error, "withdrawing an unsent code failed");
            }
            return Err(ApiError::unavailable(
                "email_unavailable",
                "We could not send the email right now. Try again in a minute.",
            ));
        }
        info!(email_hash = %short(&email_hash), lead = ?captured, "sign-in code sent");

        let response = web::json_response(
            StatusCode::ACCEPTED,
            &json!({ "status": "code_sent", "expires_in": CODE_TTL_SECONDS }),
        );
        let cookies: Vec<SetCookie> = chosen_locale.map(locale_cookie).into_iter().collect();
        Ok(web::with_cookies(response, &cookies))
    }

    async fn verify(&self, request: &Request) -> ApiResult {
        let body: VerifyRequest = json_body(request, DEFAULT_BODY_LIMIT)?;
        let email = parse_email(&body.email)?;
        let code = body.code.trim();
        if !codes::is_well_formed(code) {
            return Err(ApiError::bad_request(
                "invalid_code_format",
                "The code is six digits.",
            ));
        }
        let ip_hash = self.ip_hash(request);
        self.limit(
            &format!("otp-verify-ip#{ip_hash}"),
            self.config.limits.verifies_per_ip,
        )
        .await?;

        let email_hash = short(&self.codes.email_hash(&email)).to_owned();
        if self.codes.verify(&email, code).await.map_err(internal)? == VerifyOutcome::Rejected {
            warn!(email_hash = %email_hash, "sign-in code rejected");
            return Err(ApiError::bad_request(
                "invalid_code",
                "The code is wrong, used or expired. Check it, or ask for a new one.",
            ));
        }
        let now = self.clock.now();
        let wallet = self
            .wallets
            .find_or_create(&email, request_locale(request), now)
            .await
            .map_err(internal)?;
        let session = SessionKeys::new_session(now);
        self.wallets
            .open_session(&wallet, &session, now)
            .await
            .map_err(internal)?;
        info!(email_hash = %email_hash, "signed in");
        let response = web::json_response(
            StatusCode::OK,
            &json!({ "wallet": WalletView::from(&wallet) }),
        );
        Ok(web::with_cookies(
            response,
            &[
                self.signed_in.keys().cookie(&wallet.id, &session),
                locale_cookie(wallet.locale),
            ],
        ))
    }

    /// Ends the session on the server (a copy of the cookie stops working) and removes the
    /// cookie. Answers the same with no session or a dead one: there is nothing to end.
    async fn logout(&self, request: &Request) -> ApiResult {
        if let Some(claims) = self.signed_in.token(request) {
            self.wallets
                .close_session(&claims.sub, &claims.sid)
                .await
                .map_err(internal)?;
        }
        Ok(signed_out())
    }

    /// "Sign out everywhere": ends every session of the caller's wallet, this one included.
    async fn logout_all(&self, request: &Request) -> ApiResult {
        let wallet = self.signed_in_wallet(request).await?;
        self.wallets
            .close_all_sessions(&wallet.id)
            .await
            .map_err(internal)?;
        info!("signed out everywhere");
        Ok(signed_out())
    }

    async fn me(&self, request: &Request) -> ApiResult {
        let wallet = self.signed_in_wallet(request).await?;
        Ok(web::json_response(
            StatusCode::OK,
            &WalletView::from(&wallet),
        ))
    }

    /// Remembers the language in the `locale` cookie, and on the wallet when signed in.
    async fn set_locale(&self, request: &Request) -> ApiResult {
        let body: LocaleRequest = json_body(request, DEFAULT_BODY_LIMIT)?;
        let locale = parse_locale(&body.locale)?;
        if request_cookie(request, SESSION_COOKIE).is_some() {
            let wallet = self.signed_in_wallet(request).await?;
            self.wallets
                .set_locale(&wallet.id, locale)
                .await
                .map_err(internal)?;
        }
        let response = web::json_response(StatusCode::OK, &json!({ "locale": locale.as_str() }));
        Ok(web::with_cookies(response, &[locale_cookie(locale)]))
    }

    async fn signed_in_wallet(&self, request: &Request) -> Result<Wallet, ApiError> {
        self.signed_in.wallet(request).await
    }

    async fn limit(&self, key: &str, limit: Limit) -> Result<(), ApiError> {
        self.limiter.enforce(key, limit).await
    }

    fn ip_hash(&self, request: &Request) -> String {
        self.ip_hasher.hash_request(request).as_str().to_owned()
    }
}

pub(crate) fn parse_email(raw: &str) -> Result<EmailAddress, ApiError> {
    EmailAddress::parse(raw).map_err(|error| match error {
        InvalidEmail::TooLong => ApiError::bad_request("field_too_long", error.to_string()),
        InvalidEmail::Malformed => ApiError::bad_request("invalid_email", error.to_string()),
    })
}

fn parse_locale(raw: &str) -> Result<Locale, ApiError> {
    raw.parse()
        .map_err(|error: crate::locale::UnsupportedLocale| {
            ApiError::bad_request("invalid_locale", error.to_string())
        })
}

/// The language of a request: the `locale` cookie, else `Accept-Language`, else English.
pub(crate) fn request_locale(request: &Request) -> Locale {
    request_cookie(request, LOCALE_COOKIE)
        .and_then(|value| value.parse().ok())
        .or_else(|| {
            request
                .headers()
                .get(http::header::ACCEPT_LANGUAGE)
                .and_then(|value| value.to_str().ok())
                .and_then(Locale::from_accept_language)
        })
        .unwrap_or_default()
}

fn signed_out() -> Response<Body> {
    let response = web::json_response(StatusCode::OK, &json!({ "status": "signed_out" }));
    web::with_cookies(response, &[SetCookie::expired(SESSION_COOKIE, true)])
}

fn locale_cookie(locale: Locale) -> SetCookie {
    SetCookie {
        name: LOCALE_COOKIE,
        value: locale.as_str().to_owned(),
        max_age: LOCALE_COOKIE_MAX_AGE,
        // The web app reads the language to render before it calls the API.
        http_only: false,
    }
}

/// Enough of a keyed hash to correlate log lines, no more.
fn short(hash: &str) -> &str {
    &hash[..hash.len().min(16)]
}

fn internal(error: StoreError) -> ApiError {
    error!(error = %error, "storage failure");
    ApiError::internal()
}
