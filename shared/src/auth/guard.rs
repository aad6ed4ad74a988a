//! Who is calling: the session cookie checked and its wallet loaded, for every API that
//! needs a signed-in person.

use std::sync::Arc;

use lambda_http::Request;
use tracing::error;

use super::session::{SESSION_COOKIE, SessionKeys};
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

    /// The caller's wallet; 401 without a valid, unexpired session for an existing wallet
    /// (a token of an erased wallet is no session).
    pub async fn wallet(&self, request: &Request) -> Result<Wallet, ApiError> {
        let token = request_cookie(request, SESSION_COOKIE).ok_or_else(ApiError::unauthorized)?;
        let claims = self
            .keys
            .verify(token, self.clock.now())
            .map_err(|_| ApiError::unauthorized())?;
        self.wallets
            .get(&claims.sub)
            .await
            .map_err(|store_error| {
                error!(error = %store_error, "storage failure");
                ApiError::internal()
            })?
            .ok_or_else(ApiError::unauthorized)
    }
}
