//! Telling the person about a held selfie, in their language: that automated moderation
//! held it for review, that its credits came back and what happens next (when moderation
//! blocks it); then the review's outcome (approved: the avatar is being made; confirmed:
//! the photo is deleted).
//!
//! Each email goes once per generation: its flag on the generation record is claimed by a
//! conditional write before sending and given back when the send fails, so the caller's
//! retry (an SQS redelivery, the admin's repeated click) sends it then. A free trial has no
//! account: it is told only if an email was saved with its link.

use std::sync::Arc;

use tracing::info;

use crate::clock::{Clock, rfc3339};
use crate::config::Origin;
use crate::email::{Email, EmailAddress, MailError, Mailer, templates};
use crate::generations::{BLOCKED_RETENTION_SECONDS, Generation, Generations, Notice};
use crate::locale::Locale;
use crate::store::StoreError;
use crate::trials::Trials;
use crate::wallets::Wallets;

/// Which email to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeldSelfieNotice {
    Held,
    Approved,
    Confirmed,
}

#[derive(Debug, thiserror::Error)]
pub enum NoticeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Mail(#[from] MailError),
}

#[derive(Clone, Debug)]
pub struct Notices {
    generations: Generations,
    wallets: Wallets,
    trials: Trials,
    mailer: Mailer,
    app_origin: Origin,
    clock: Arc<dyn Clock>,
}

impl Notices {
    pub fn new(
        generations: Generations,
        wallets: Wallets,
        trials: Trials,
        mailer: Mailer,
        app_origin: Origin,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            generations,
            wallets,
            trials,
            mailer,
            app_origin,
            clock,
        }
    }

    /// Sends `notice` about generation `id` unless it went already (or there is no one to
    /// tell). Reads the record afresh: the caller's copy predates the transition.
    pub async fn tell(&self, id: &str, notice: HeldSelfieNotice) -> Result<(), NoticeError> {
        let Some(generation) = self.generations.get(id).await? else {
            return Ok(());
        };
        let Some((to, locale)) = self.recipient(&generation).await? else {
            return Ok(());
        };
        let flag = match notice {
            HeldSelfieNotice::Held => Notice::Held,
            HeldSelfieNotice::Approved | HeldSelfieNotice::Confirmed => Notice::Reviewed,
        };
        if !self.generations.claim_notice(id, flag).await? {
            return Ok(());
        }
        let email = self.email(&generation, notice, locale);
        if let Err(failure) = self.mailer.send(&to, &email).await {
            self.generations.release_notice(id, flag).await?;
            return Err(failure.into());
        }
        info!(generation = id, notice = ?notice, "held-selfie email sent");
        Ok(())
    }

    /// The wallet's address and language, or the address saved with a live trial.
    async fn recipient(
        &self,
        generation: &Generation,
    ) -> Result<Option<(EmailAddress, Locale)>, StoreError> {
        match generation.trial_id() {
            Some(trial_id) => Ok(self
                .trials
                .contact(trial_id, self.clock.now())
                .await?
                .map(|contact| (contact.email, contact.locale))),
            None => Ok(self
                .wallets
                .get(&generation.wallet_id)
                .await?
                .map(|wallet| (wallet.email, wallet.locale))),
        }
    }

    fn email(&self, generation: &Generation, notice: HeldSelfieNotice, locale: Locale) -> Email {
        // A trial cost nothing and has no account page: its own link shows the state.
        let trial = generation.trial_id().is_some();
        let credits = (!trial).then_some(generation.cost);
        match notice {
            HeldSelfieNotice::Held => {
                let blocked_at = generation.blocked_at.unwrap_or_else(|| self.clock.now());
                let link =
                    crate::email::AppPage::Generation { id: &generation.id }.url(&self.app_origin);
                templates::selfie_held(
                    locale,
                    credits,
                    &rfc3339(blocked_at + BLOCKED_RETENTION_SECONDS),
                    (!trial).then_some(link.as_str()),
                )
            }
            HeldSelfieNotice::Approved => templates::review_outcome(locale, true, credits),
            HeldSelfieNotice::Confirmed => templates::review_outcome(locale, false, credits),
        }
    }
}
