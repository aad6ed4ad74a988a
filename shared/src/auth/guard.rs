//! Who is calling: the session cookie checked and its wallet loaded, for every API that
//! needs a signed-in person. One check for all: the token's signature and expiry, then the
//! wallet (one GetItem, which every signed-in route needs anyway) and, on that same item,
//! whether the token's session is still live. So ending a session costs no read per request.

use std::sync::Arc;

use lambda_http::Request;
use tracing::error;

use super::session::{SESSION_COOKIE, SessionClaims, SessionKeys};
use crate::clock::Clock;
use crate::email::EmailAddress;
use crate::wallets::{Wallet, Wallets};
use crate::web::{ApiError, request_cookie};

#[derive(Debug)]
pub struct SignedIn {
    keys: SessionKeys,
    wallets: Wallets,
    clock: Arc<dyn Clock>,
}

impl SignedIn {
    pub fn new(keys: SessionKeys, wallets: Wallets, clock: Arc<dyn Clock>) -> Self {
        Self {
            keys,
            wallets,
            clock,
        }
    }

    pub fn keys(&self) -> &SessionKeys {
        &self.keys
    }

    /// The caller's wallet if its email is one of `admins` (admins sign in with codes like
    /// everyone); 401 without a session, 403 for anyone else.
    pub async fn admin(
        &self,
        request: &Request,
        admins: &[EmailAddress],
    ) -> Result<Wallet, ApiError> {
        let wallet = self.wallet(request).await?;
        if admins.contains(&wallet.email) {
            Ok(wallet)
        } else {
            Err(ApiError::new(
                http::StatusCode::FORBIDDEN,
                "forbidden",
                "Admins only.",
            ))
        }
    }

    /// The caller's wallet; 401 without a valid, unexpired token whose session the
    /// wallet still lists (ended by sign-out, "sign out everywhere", an email change) for an
    /// existing wallet (a token of an erased wallet is no session).
    pub async fn wallet(&self, request: &Request) -> Result<Wallet, ApiError> {
        Ok(self.session(request).await?.0)
    }

    /// The caller's wallet and the claims of their live session.
    pub async fn session(&self, request: &Request) -> Result<(Wallet, SessionClaims), ApiError> {
        let claims = self.token(request).ok_or_else(ApiError::unauthorized)?;
        let wallet = self
            .wallets
            .get(&claims.sub)
            .await
            .map_err(|store_error| {
                error!(error = %store_error, "storage failure");
                ApiError::internal()
            })?
            .filter(|wallet| wallet.has_session(&claims.sid, self.clock.now()))
            .ok_or_else(ApiError::unauthorized)?;
        Ok((wallet, claims))
    }

    /// The claims of the request's session token if it is genuine and unexpired, without
    /// asking whether the session is still live (signing out needs no more).
    pub fn token(&self, request: &Request) -> Option<SessionClaims> {
        let token = request_cookie(request, SESSION_COOKIE)?;
        self.keys.verify(token, self.clock.now()).ok()
    }
}
