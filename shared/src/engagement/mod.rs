//! The `engagement` function's HTTP API: the public refund form, marketing consent and
//! one-click unsubscribe, first-party analytics events, and feedback.
//!
//! - `POST /refund-requests` (public): lead capture (`refund-form`), the request for
//!   support, a confirmation email; an `Idempotency-Key` header makes retries safe.
//! - `GET`/`POST /me/marketing` (signed in): the explicit marketing opt-in or opt-out.
//! - `GET /unsubscribe?token=…` only shows a confirmation page whose button POSTs, so link
//!   scanners that prefetch links unsubscribe nobody; `POST /unsubscribe?token=…` (RFC 8058
//!   one-click, body `List-Unsubscribe=One-Click`) unsubscribes, without sign-in, the same
//!   answer for any genuine token whether or not the address is on the list.
//! - `POST /events`, `POST /feedback` (public; signed-in adds the wallet).

mod config;
mod pages;

pub use config::{EngagementConfig, EngagementLimits};

use std::sync::Arc;

use aws_config::SdkConfig;
use http::header::{ACCEPT, CONTENT_TYPE};
use http::{Method, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use tracing::{error, info, warn};

use crate::analytics::{self, AnalyticsEvents};
use crate::auth::{SESSION_COOKIE, SessionKeys, SignedIn, parse_email, request_locale};
use crate::clock::{Clock, rfc3339};
use crate::email::{Mailer, templates};
use crate::leads::{LeadList, LeadSource};
use crate::marketing::{Consent, ConsentVia, ONE_CLICK_BODY, UnsubscribeTokens};
use crate::privacy::{IpHasher, keyed_hash};
use crate::rate_limit::{Limit, RateLimiter};
use crate::store::StoreError;
use crate::support::feedback::{Feedback, FeedbackStore};
use crate::support::refunds::{Recorded, RefundRequest, RefundRequests};
use crate::wallets::Wallets;
use crate::web::{self, ApiError, DEFAULT_BODY_LIMIT, json_body, request_cookie};

/// Events are a name, a device id and a few short values: anything bigger is not one.
pub const EVENT_BODY_LIMIT: usize = 4 * 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RefundForm {
    email: String,
    order_id: Option<String>,
    reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MarketingChoice {
    opt_in: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventBody {
    name: String,
    #[serde(default)]
    context: Option<Value>,
    device_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FeedbackBody {
    message: String,
    email: Option<String>,
    page: Option<String>,
}

type ApiResult = Result<Response<Body>, ApiError>;

#[derive(Debug)]
pub struct EngagementApi {
    clock: Arc<dyn Clock>,
    signed_in: SignedIn,
    leads: LeadList,
    consent: Consent,
    tokens: UnsubscribeTokens,
    refunds: RefundRequests,
    events: AnalyticsEvents,
    feedback: FeedbackStore,
    limiter: RateLimiter,
    mailer: Mailer,
    ip_hasher: IpHasher,
    config: EngagementConfig,
}

impl EngagementApi {
    pub fn new(config: EngagementConfig, aws: &SdkConfig, clock: Arc<dyn Clock>) -> Self {
        let dynamodb = crate::aws::dynamodb(aws);
        Self {
            signed_in: SignedIn::new(
                SessionKeys::new(&config.session_secret),
                Wallets::new(dynamodb.clone(), &config.wallets_table),
                clock.clone(),
            ),
            leads: LeadList::new(dynamodb.clone(), &config.leads_table),
            consent: Consent::new(dynamodb.clone(), &config.leads_table),
            tokens: UnsubscribeTokens::new(config.unsubscribe_key.clone()),
            refunds: RefundRequests::new(dynamodb.clone(), &config.refund_requests_table),
            events: AnalyticsEvents::new(dynamodb.clone(), &config.analytics_table),
            feedback: FeedbackStore::new(dynamodb.clone(), &config.feedback_table),
            limiter: RateLimiter::new(dynamodb, &config.rate_limits_table, clock.clone()),
            mailer: Mailer::new(crate::aws::sesv2(aws), &config.email_from),
            ip_hasher: IpHasher::new(config.ip_hash_salt.clone()),
            clock,
            config,
        }
    }

    pub async fn handle(&self, request: Request) -> Response<Body> {
        let path = request.uri().path().to_owned();
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let (route, result) = match (segments.as_slice(), request.method()) {
            (["refund-requests"], &Method::POST) => {
                ("refund_request", self.refund_request(&request).await)
            }
            (["me", "marketing"], &Method::GET) => {
                ("marketing_get", self.marketing_state(&request).await)
            }
            (["me", "marketing"], &Method::POST) => {
                ("marketing_set", self.marketing_choice(&request).await)
            }
            (["unsubscribe"], &Method::GET) => {
                ("unsubscribe_page", self.unsubscribe_page(&request))
            }
            (["unsubscribe"], &Method::POST) => ("unsubscribe", self.unsubscribe(&request).await),
            (["events"], &Method::POST) => ("event", self.event(&request).await),
            (["feedback"], &Method::POST) => ("feedback", self.record_feedback(&request).await),
            (
                ["refund-requests"]
                | ["me", "marketing"]
                | ["unsubscribe"]
                | ["events"]
                | ["feedback"],
                _,
            ) => ("known", Err(ApiError::method_not_allowed())),
            _ => ("unknown", Err(ApiError::not_found())),
        };
        web::respond(route, request.method(), result)
    }

    async fn refund_request(&self, request: &Request) -> ApiResult {
        let body: RefundForm = json_body(request, DEFAULT_BODY_LIMIT)?;
        let email = parse_email(&body.email)?;
        let idempotency_key = request
            .headers()
            .get("idempotency-key")
            .map(|value| value.to_str().unwrap_or("\u{0}"));
        let now = self.clock.now();
        let refund = RefundRequest::new(
            email,
            body.order_id.as_deref(),
            &body.reason,
            idempotency_key,
            request_locale(request),
            now,
        )
        .map_err(|invalid| ApiError::bad_request(invalid.code(), invalid.to_string()))?;

        let ip_hash = self.ip_hash(request);
        self.limit(
            &format!("refund-ip#{ip_hash}"),
            self.config.limits.refund_requests_per_ip,
        )
        .await?;
        let email_hash = keyed_hash(&self.config.ip_hash_salt, "email", refund.email.as_str());
        self.limit(
            &format!("refund-email#{email_hash}"),
            self.config.limits.refund_requests_per_email,
        )
        .await?;

        // The lead first: the person gave us the address at the refund form whatever
        // happens next.
        self.leads
            .capture(&refund.email, LeadSource::RefundForm, now)
            .await
            .map_err(internal)?;
        let recorded = self.refunds.record(&refund).await.map_err(internal)?;
        let (status, confirmation_sent) = match recorded {
            Recorded::Duplicate => (StatusCode::OK, None),
            Recorded::New => {
                let message = templates::refund_request_received(
                    refund.locale,
                    &refund.reference(),
                    refund.order_id.as_deref(),
                );
                let sent = match self.mailer.send(&refund.email, &message).await {
                    Ok(_) => true,
                    // The request is recorded and support will answer; the email is a
                    // courtesy, so its failure does not undo the request.
                    Err(mail_error) => {
                        error!(error = %mail_error, request = %refund.request_id, "refund confirmation not sent");
                        false
                    }
                };
                (StatusCode::CREATED, Some(sent))
            }
        };
        info!(request = %refund.request_id, duplicate = recorded == Recorded::Duplicate, "refund request recorded");
        Ok(web::json_response(
            status,
            &json!({
                "status": "received",
                "request_id": refund.request_id,
                "reference": refund.reference(),
                "confirmation_sent": confirmation_sent,
            }),
        ))
    }

    async fn marketing_state(&self, request: &Request) -> ApiResult {
        let wallet = self.signed_in.wallet(request).await?;
        let state = self
            .consent
            .state(&wallet.email)
            .await
            .map_err(internal)?
            .unwrap_or_default();
        Ok(web::json_response(StatusCode::OK, &consent_view(&state)))
    }

    /// The explicit choice of the signed-in person. The wallet's email joins the lead list
    /// (source `sign-in`) if it is somehow not there, so the choice has a row to live on.
    async fn marketing_choice(&self, request: &Request) -> ApiResult {
        let wallet = self.signed_in.wallet(request).await?;
        let body: MarketingChoice = json_body(request, DEFAULT_BODY_LIMIT)?;
        self.limit(
            &format!("marketing-wallet#{}", wallet.id),
            self.config.limits.marketing_changes_per_wallet,
        )
        .await?;
        let now = self.clock.now();
        self.leads
            .capture(&wallet.email, LeadSource::SignIn, now)
            .await
            .map_err(internal)?;
        let change = self
            .consent
            .set(&wallet.email, body.opt_in, ConsentVia::Account, now)
            .await
            .map_err(internal)?;
        info!(opt_in = body.opt_in, change = ?change, "marketing consent set");
        let state = self
            .consent
            .state(&wallet.email)
            .await
            .map_err(internal)?
            .unwrap_or_default();
        Ok(web::json_response(StatusCode::OK, &consent_view(&state)))
    }

    /// Safe for link scanners: shows what the button will do, changes nothing.
    fn unsubscribe_page(&self, request: &Request) -> ApiResult {
        let locale = request_locale(request);
        let token = query_token(request);
        let Some(email) = token.and_then(|token| self.tokens.verify(token)) else {
            return Ok(pages::html(
                StatusCode::BAD_REQUEST,
                &pages::invalid_link(locale),
            ));
        };
        // Relative to this page: the API may sit under a prefix (/api behind CloudFront), and
        // an absolute `/unsubscribe` would post to the app's page of that name instead.
        let action = format!("?token={}", token.unwrap_or_default());
        Ok(pages::html(
            StatusCode::OK,
            &pages::confirm(locale, email.as_str(), &action),
        ))
    }

    /// RFC 8058 one-click unsubscribe (and the confirmation page's button). Idempotent; a
    /// genuine token for an address not on the list gets the same answer and writes nothing.
    async fn unsubscribe(&self, request: &Request) -> ApiResult {
        let locale = request_locale(request);
        let wants_html = accepts_html(request);
        let Some(email) = query_token(request).and_then(|token| self.tokens.verify(token)) else {
            warn!("unsubscribe with an invalid token");
            return if wants_html {
                Ok(pages::html(
                    StatusCode::BAD_REQUEST,
                    &pages::invalid_link(locale),
                ))
            } else {
                Err(ApiError::bad_request(
                    "invalid_token",
                    "This unsubscribe link is not valid.",
                ))
            };
        };
        if !is_one_click_body(request) {
            return Err(ApiError::bad_request(
                "invalid_unsubscribe_body",
                "Send List-Unsubscribe=One-Click as a form field.",
            ));
        }
        let ip_hash = self.ip_hash(request);
        self.limit(
            &format!("unsubscribe-ip#{ip_hash}"),
            self.config.limits.unsubscribes_per_ip,
        )
        .await?;
        let change = self
            .consent
            .set(&email, false, ConsentVia::UnsubscribeLink, self.clock.now())
            .await
            .map_err(internal)?;
        info!(change = ?change, "unsubscribed");
        if wants_html {
            Ok(pages::html(StatusCode::OK, &pages::done(locale)))
        } else {
            Ok(web::json_response(
                StatusCode::OK,
                &json!({ "status": "unsubscribed" }),
            ))
        }
    }

    async fn event(&self, request: &Request) -> ApiResult {
        let body: EventBody = json_body(request, EVENT_BODY_LIMIT)?;
        let event = analytics::clean(&body.name, body.context.as_ref(), &body.device_id)
            .map_err(|invalid| ApiError::bad_request(invalid.code(), invalid.to_string()))?;
        let ip_hash = self.ip_hash(request);
        self.limit(
            &format!("events-ip#{ip_hash}"),
            self.config.limits.events_per_ip,
        )
        .await?;
        let device_hash = keyed_hash(&self.config.ip_hash_salt, "device", &event.device_id);
        self.limit(
            &format!("events-device#{device_hash}"),
            self.config.limits.events_per_device,
        )
        .await?;
        // Signed in: the wallet email is attached. A stale or bad cookie only makes the
        // event anonymous; analytics never refuses an action for it.
        let wallet = self.optional_wallet(request).await;
        if let Some(reason) = wallet.as_ref().and_then(analytics::withheld_for) {
            // Restricted or objected: not stored, and the client needs nothing else.
            return Ok(web::json_response(
                StatusCode::ACCEPTED,
                &json!({ "status": "dropped", "reason": reason }),
            ));
        }
        self.events
            .record(&event, wallet.as_ref().map(|w| &w.email), self.clock.now())
            .await
            .map_err(internal)?;
        Ok(web::json_response(
            StatusCode::ACCEPTED,
            &json!({ "status": "recorded", "dropped": event.dropped }),
        ))
    }

    async fn record_feedback(&self, request: &Request) -> ApiResult {
        let body: FeedbackBody = json_body(request, DEFAULT_BODY_LIMIT)?;
        let email = body.email.as_deref().map(parse_email).transpose()?;
        let wallet = self.optional_wallet(request).await;
        let feedback = Feedback::new(
            &body.message,
            body.page.as_deref(),
            wallet.map(|w| w.id),
            email,
            self.clock.now(),
        )
        .map_err(|invalid| ApiError::bad_request(invalid.code(), invalid.to_string()))?;
        let ip_hash = self.ip_hash(request);
        self.limit(
            &format!("feedback-ip#{ip_hash}"),
            self.config.limits.feedback_per_ip,
        )
        .await?;
        self.feedback.record(&feedback).await.map_err(internal)?;
        info!(feedback = %feedback.feedback_id, signed_in = feedback.wallet_id.is_some(), "feedback recorded");
        Ok(web::json_response(
            StatusCode::CREATED,
            &json!({ "status": "received" }),
        ))
    }

    async fn optional_wallet(&self, request: &Request) -> Option<crate::wallets::Wallet> {
        request_cookie(request, SESSION_COOKIE)?;
        self.signed_in.wallet(request).await.ok()
    }

    async fn limit(&self, key: &str, limit: Limit) -> Result<(), ApiError> {
        self.limiter.enforce(key, limit).await
    }

    fn ip_hash(&self, request: &Request) -> String {
        self.ip_hasher.hash_request(request).as_str().to_owned()
    }
}

fn consent_view(state: &crate::marketing::ConsentState) -> Value {
    json!({
        "opt_in": state.opt_in,
        "opt_in_at": state.opt_in_at.map(rfc3339),
        "opt_out_at": state.opt_out_at.map(rfc3339),
    })
}

fn query_token(request: &Request) -> Option<&str> {
    request
        .query_string_parameters_ref()
        .and_then(|query| query.first("token"))
}

fn accepts_html(request: &Request) -> bool {
    request
        .headers()
        .get(ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// RFC 8058: the POST carries `List-Unsubscribe=One-Click`, form-urlencoded or as a
/// multipart/form-data field.
fn is_one_click_body(request: &Request) -> bool {
    let media = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|media| media.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let body = match request.body() {
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes.as_slice(),
        _ => &[],
    };
    if body.len() > 4096 {
        return false;
    }
    let body = String::from_utf8_lossy(body);
    match media.as_str() {
        "application/x-www-form-urlencoded" => body.split('&').any(|pair| pair == ONE_CLICK_BODY),
        "multipart/form-data" => {
            body.contains("name=\"List-Unsubscribe\"") && body.contains("One-Click")
        }
        _ => false,
    }
}

fn internal(error: StoreError) -> ApiError {
    error!(error = %error, "storage failure");
    ApiError::internal()
}
