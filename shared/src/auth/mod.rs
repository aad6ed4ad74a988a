//! Sign-in with an emailed one-time code, and the session that follows.

mod api;
mod codes;
mod config;
mod guard;
mod session;

pub use api::{OtpApi, WalletView};
pub(crate) use api::{parse_email, request_locale};
pub use codes::{
    CODE_TTL_SECONDS, CodePurpose, MAX_ATTEMPTS, OneTimeCodes, VerifyOutcome, is_well_formed,
};
pub use config::{OtpConfig, OtpLimits, Secrets, Tables};
pub use guard::SignedIn;
pub use session::{SESSION_COOKIE, SESSION_TTL_SECONDS, SessionClaims, SessionError, SessionKeys};
