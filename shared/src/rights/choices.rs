//! The other rights of policy section 6, for the signed-in person:
//!
//! - Rectification: `POST /me/email {new_email}` sends a code to the new address only;
//!   `POST /me/email/verify {new_email, code}` moves the wallet to it in one transaction,
//!   then moves the lead row and re-points the analytics events stored under the old
//!   address (up to `REPOINT_MAX_EVENTS` in the request; any beyond keep the old address
//!   until they expire within 90 days); events after the change carry the new one.
//! - Restriction: `POST /me/restriction {restricted}`, on the wallet (with time and history)
//!   and mirrored on the lead row; while it holds no uploads, analytics or marketing.
//! - Objection and withdrawal: `POST /me/consent {marketing?, analytics?}`; marketing on the
//!   lead row's `consent_history` (via `dsr`), analytics objection on the wallet.
//! - `GET /me/privacy`: the current choices and their times.
//!
//! Every choice is an attribute of the wallet item or the lead row, so an export shows it.

use std::sync::Arc;

use aws_config::SdkConfig;
use http::StatusCode;
use lambda_http::{Body, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use tracing::{error, info, warn};

use super::{StoresConfig, mail};
use crate::analytics::AnalyticsEvents;
use crate::auth::{CODE_TTL_SECONDS, CodePurpose, OneTimeCodes, OtpLimits, VerifyOutcome};
use crate::clock::{Clock, rfc3339};
use crate::email::Mailer;
use crate::leads::{LeadList, LeadSource};
use crate::marketing::{Consent, ConsentVia};
use crate::rate_limit::{Limit, RateLimiter};
use crate::store::{StoreError, get_n};
use crate::wallets::{EmailMove, Wallet, WalletChoice, WalletSession, Wallets};
use crate::web::ApiError;

type ApiResult = Result<Response<Body>, ApiError>;

/// Privacy-choice changes per wallet per hour: plenty for a person, a wall for a script.
const CHOICE_CHANGES_PER_HOUR: Limit = Limit::per(30, 3600);
/// Events re-pointed within the request: a few seconds of updates, 25 at a time.
const REPOINT_MAX_EVENTS: usize = 5_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailChangeRequest {
    pub new_email: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailChangeVerify {
    pub new_email: String,
    pub code: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestrictionRequest {
    pub restricted: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentRequest {
    pub marketing: Option<bool>,
    pub analytics: Option<bool>,
}

#[derive(Debug)]
pub struct Choices {
    wallets: Wallets,
    leads: LeadList,
    consent: Consent,
    events: AnalyticsEvents,
    codes: OneTimeCodes,
    limiter: RateLimiter,
    limits: OtpLimits,
    mailer: Mailer,
    clock: Arc<dyn Clock>,
}

impl Choices {
    pub fn new(
        config: &StoresConfig,
        analytics_table: &str,
        aws: &SdkConfig,
        wallets: Wallets,
        mailer: Mailer,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let dynamodb = crate::aws::dynamodb(aws);
        Self {
            leads: LeadList::new(dynamodb.clone(), &config.leads_table),
            consent: Consent::new(dynamodb.clone(), &config.leads_table),
            events: AnalyticsEvents::new(dynamodb.clone(), analytics_table),
            codes: OneTimeCodes::new(
                dynamodb.clone(),
                &config.otp_codes_table,
                config.email_hash_key.clone(),
                clock.clone(),
            )
            .for_purpose(CodePurpose::EmailChange),
            limiter: RateLimiter::new(dynamodb, &config.rate_limits_table, clock.clone()),
            limits: OtpLimits::default(),
            wallets,
            mailer,
            clock,
        }
    }

    /// Sends a code to the new address. The answer never says whether the address has a
    /// wallet: that is told only after the code proves the address is the caller's.
    pub async fn request_email_change(
        &self,
        wallet: &Wallet,
        body: EmailChangeRequest,
    ) -> ApiResult {
        let new = crate::auth::parse_email(&body.new_email)?;
        if new == wallet.email {
            return Err(ApiError::bad_request(
                "same_email",
                "That is already your sign-in email.",
            ));
        }
        // The sign-in limits, on the same keys: a new address gets no more codes per hour
        // by being asked for through this route.
        let email_hash = self.codes.email_hash(&new);
        self.limit(
            &format!("email-change-wallet#{}", wallet.id),
            self.limits.codes_per_email,
        )
        .await?;
        self.limit(
            &format!("otp-resend#{email_hash}"),
            self.limits.resend_interval,
        )
        .await?;
        self.limit(
            &format!("otp-email#{email_hash}"),
            self.limits.codes_per_email,
        )
        .await?;
        let code = self
            .codes
            .issue_bound(&new, &wallet.id)
            .await
            .map_err(internal)?;
        let message = mail::email_change_code(wallet.locale, &code, CODE_TTL_SECONDS / 60);
        if let Err(send_error) = self.mailer.send(&new, &message).await {
            error!(error = %send_error, "email-change code not sent");
            if let Err(store_error) = self.codes.withdraw(&new).await {
                error!(error = %store_error, "withdrawing an unsent code failed");
            }
            return Err(ApiError::unavailable(
                "email_unavailable",
                "We could not send the email right now. Try again in a minute.",
            ));
        }
        info!("email-change code sent");
        Ok(crate::web::json_response(
            StatusCode::ACCEPTED,
            &json!({ "status": "code_sent", "expires_in": CODE_TTL_SECONDS }),
        ))
    }

    /// Checks the code and moves the wallet, then its lead row; both addresses are told.
    /// Every session of the wallet ends with the move; `session` (the caller's next one,
    /// whose cookie the caller sets) is then the wallet's only session.
    pub async fn verify_email_change(
        &self,
        wallet: &Wallet,
        body: EmailChangeVerify,
        session: &WalletSession,
    ) -> ApiResult {
        let new = crate::auth::parse_email(&body.new_email)?;
        let code = body.code.trim();
        if !crate::auth::is_well_formed(code) {
            return Err(ApiError::bad_request(
                "invalid_code_format",
                "The code is six digits.",
            ));
        }
        self.limit(
            &format!("email-verify-wallet#{}", wallet.id),
            self.limits.verifies_per_ip,
        )
        .await?;
        let outcome = self
            .codes
            .verify_bound(&new, &wallet.id, code)
            .await
            .map_err(internal)?;
        if outcome == VerifyOutcome::Rejected {
            warn!("email-change code rejected");
            return Err(ApiError::bad_request(
                "invalid_code",
                "The code is wrong, used or expired. Check it, or ask for a new one.",
            ));
        }
        let now = self.clock.now();
        let old = &wallet.email;
        match self
            .wallets
            .change_email(&wallet.id, old, &new, session, now)
            .await
            .map_err(internal)?
        {
            EmailMove::Moved => {}
            EmailMove::EmailTaken => {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "email_taken",
                    "That address already has an Anumi account.",
                ));
            }
            EmailMove::Stale => {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "email_changed",
                    "Your sign-in email changed meanwhile; reload and try again.",
                ));
            }
        }
        // The wallet has moved; the code is spent, so the steps after it log rather than
        // fail the request (nothing could retry them).
        if let Err(store_error) = self.leads.move_to(old, &new, now).await {
            error!(error = %store_error, "lead row not moved after an email change");
        }
        match self
            .events
            .repoint(old, &new, now, REPOINT_MAX_EVENTS)
            .await
        {
            Ok(moved) => info!(moved, "analytics events re-pointed"),
            Err(store_error) => {
                error!(error = %store_error, "analytics events not re-pointed after an email change");
            }
        }
        for (to, to_new) in [(old, false), (&new, true)] {
            if let Err(send_error) = self
                .mailer
                .send(to, &mail::email_changed(wallet.locale, to_new))
                .await
            {
                error!(error = %send_error, to_new, "email-change confirmation not sent");
            }
        }
        info!("sign-in email changed");
        Ok(crate::web::json_response(
            StatusCode::OK,
            &json!({ "email": new.as_str() }),
        ))
    }

    /// Sets or lifts the restriction, on the wallet and on the lead row.
    pub async fn restrict(&self, wallet: &Wallet, body: RestrictionRequest) -> ApiResult {
        self.choice_limit(wallet).await?;
        let now = self.clock.now();
        let changed = self
            .wallets
            .set_choice(&wallet.id, WalletChoice::Restricted, body.restricted, now)
            .await
            .map_err(internal)?;
        if changed {
            // The row must exist to carry the flag, or a later capture could lack it.
            self.leads
                .capture(&wallet.email, LeadSource::SignIn, now)
                .await
                .map_err(internal)?;
            self.consent
                .set_restricted(&wallet.email, body.restricted, now)
                .await
                .map_err(internal)?;
        }
        info!(restricted = body.restricted, changed, "restriction set");
        self.privacy(wallet).await
    }

    /// Withdraws or gives consent: marketing on the lead row, analytics on the wallet.
    pub async fn consent(&self, wallet: &Wallet, body: ConsentRequest) -> ApiResult {
        if body.marketing.is_none() && body.analytics.is_none() {
            return Err(ApiError::bad_request(
                "nothing_to_change",
                "Send marketing and/or analytics as true or false.",
            ));
        }
        self.choice_limit(wallet).await?;
        let now = self.clock.now();
        if let Some(opt_in) = body.marketing {
            self.leads
                .capture(&wallet.email, LeadSource::SignIn, now)
                .await
                .map_err(internal)?;
            self.consent
                .set(&wallet.email, opt_in, ConsentVia::Dsr, now)
                .await
                .map_err(internal)?;
        }
        if let Some(allowed) = body.analytics {
            self.wallets
                .set_choice(&wallet.id, WalletChoice::AnalyticsObjected, !allowed, now)
                .await
                .map_err(internal)?;
        }
        info!(marketing = ?body.marketing, analytics = ?body.analytics, "consent set");
        self.privacy(wallet).await
    }

    /// The current choices with the time each took its present state.
    pub async fn privacy(&self, wallet: &Wallet) -> ApiResult {
        let item = self
            .wallets
            .item(&wallet.id)
            .await
            .map_err(internal)?
            .unwrap_or_default();
        let flag = |name: &str| item.get(name).and_then(|v| v.as_bool().ok()) == Some(&true);
        let at = |name: &str| get_n(&item, name).map(rfc3339);
        let marketing = self
            .consent
            .state(&wallet.email)
            .await
            .map_err(internal)?
            .unwrap_or_default();
        let view: Value = json!({
            "restricted": flag(WalletChoice::Restricted.attribute()),
            "restricted_at": at(WalletChoice::Restricted.stamp()),
            "analytics_objected": flag(WalletChoice::AnalyticsObjected.attribute()),
            "analytics_objected_at": at(WalletChoice::AnalyticsObjected.stamp()),
            "marketing_opt_in": marketing.opt_in,
            "marketing_opt_in_at": marketing.opt_in_at.map(rfc3339),
            "marketing_opt_out_at": marketing.opt_out_at.map(rfc3339),
        });
        Ok(crate::web::json_response(StatusCode::OK, &view))
    }

    async fn choice_limit(&self, wallet: &Wallet) -> Result<(), ApiError> {
        self.limit(
            &format!("privacy-choices-wallet#{}", wallet.id),
            CHOICE_CHANGES_PER_HOUR,
        )
        .await
    }

    async fn limit(&self, key: &str, limit: Limit) -> Result<(), ApiError> {
        self.limiter.enforce(key, limit).await
    }
}

fn internal(error: StoreError) -> ApiError {
    error!(error = %error, "storage failure");
    ApiError::internal()
}
