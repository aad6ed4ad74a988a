//! The `campaign-send` worker: a queue message names a campaign; the worker mails its
//! audience page by page from the campaign's cursor, paced, until it finishes or its time
//! is nearly up, and then queues the campaign again to go on. See the module above for why
//! nobody is mailed twice.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use tracing::{info, warn};

use super::{Advanced, Audience, Campaign, Campaigns};
use crate::clock::Clock;
use crate::config::{BaseUrl, ConfigError, EnvSource, Origin, Settings};
use crate::email::{EmailAddress, Mailer, Sender};
use crate::locale::Locale;
use crate::marketing::{Consent, MarketingMailer, UnsubscribeTokens};
use crate::queue::{RetryLater, handle_batch};
use crate::wallets::Wallets;

const MIN_SECRET_BYTES: usize = 32;

#[derive(Clone, Debug)]
pub struct CampaignSenderConfig {
    /// `EMAIL_FROM` and `SUPPORT_EMAIL`.
    pub sender: Sender,
    pub app_origin: Origin,
    pub api_origin: BaseUrl,
    pub leads_table: String,
    pub wallets_table: String,
    pub campaigns_table: String,
    pub campaign_queue_url: String,
    pub unsubscribe_key: SecretString,
    /// `CAMPAIGN_SEND_RATE`, messages a second, default 10: under SES's lowest production
    /// sending rate (14 a second); set it to the account's own quota.
    pub send_rate: u32,
    /// `CAMPAIGN_PAGE_SIZE`, addresses per page, default 25: the work lost to a crash.
    pub page_size: i32,
}

impl CampaignSenderConfig {
    pub fn from_env(source: &dyn EnvSource) -> Result<Self, ConfigError> {
        let settings = Settings::new(source);
        let send_rate: u32 = settings.parsed_or("CAMPAIGN_SEND_RATE", 10)?;
        if !(1..=1000).contains(&send_rate) {
            return Err(ConfigError::Invalid {
                name: "CAMPAIGN_SEND_RATE",
                reason: "must be 1-1000 messages a second".into(),
            });
        }
        let page_size: i32 = settings.parsed_or("CAMPAIGN_PAGE_SIZE", 25)?;
        if !(1..=100).contains(&page_size) {
            return Err(ConfigError::Invalid {
                name: "CAMPAIGN_PAGE_SIZE",
                reason: "must be 1-100 addresses".into(),
            });
        }
        Ok(Self {
            sender: Sender::from_env(source)?,
            app_origin: settings.parsed("APP_ORIGIN")?,
            api_origin: settings.parsed("API_ORIGIN")?,
            leads_table: settings.required("LEADS_TABLE")?,
            wallets_table: settings.required("WALLETS_TABLE")?,
            campaigns_table: settings.required("CAMPAIGNS_TABLE")?,
            campaign_queue_url: settings.required("CAMPAIGN_QUEUE_URL")?,
            unsubscribe_key: settings.secret("UNSUBSCRIBE_KEY", MIN_SECRET_BYTES)?,
            send_rate,
            page_size,
        })
    }
}

/// The queue message: which campaign to go on with (its progress is on its row).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignJob {
    pub campaign: String,
}

/// Queues `campaign` for the sender.
pub async fn queue(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    campaign: &str,
) -> Result<(), String> {
    let body = serde_json::to_string(&CampaignJob {
        campaign: campaign.to_owned(),
    })
    .map_err(|e| e.to_string())?;
    sqs.send_message()
        .queue_url(queue_url)
        .message_body(body)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| crate::aws::failure("SendMessage", e))
}

#[derive(Debug)]
pub struct CampaignSender {
    campaigns: Campaigns,
    audience: Audience,
    wallets: Wallets,
    mailer: MarketingMailer,
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    /// Between two sends of one run.
    interval: Duration,
    page_size: i32,
    clock: Arc<dyn Clock>,
}

impl CampaignSender {
    pub fn new(config: CampaignSenderConfig, aws: &SdkConfig, clock: Arc<dyn Clock>) -> Self {
        let dynamodb = crate::aws::dynamodb(aws);
        Self {
            campaigns: Campaigns::new(dynamodb.clone(), &config.campaigns_table),
            audience: Audience::new(dynamodb.clone(), &config.leads_table),
            wallets: Wallets::new(dynamodb.clone(), &config.wallets_table),
            mailer: MarketingMailer::new(
                Mailer::new(crate::aws::sesv2(aws), &config.sender),
                Consent::new(dynamodb, &config.leads_table),
                UnsubscribeTokens::new(config.unsubscribe_key),
                config.app_origin,
                config.api_origin,
            ),
            sqs: crate::aws::sqs(aws),
            queue_url: config.campaign_queue_url,
            interval: Duration::from_secs(1) / config.send_rate,
            page_size: config.page_size,
            clock,
        }
    }

    /// Handles a batch; each run stops starting new pages once `budget` has passed (the
    /// function's remaining time, less a margin for the page in flight).
    pub async fn handle(&self, event: SqsEvent, budget: Duration) -> SqsBatchResponse {
        let started = Instant::now();
        handle_batch(&event, "campaign", |message| {
            self.handle_message(message, started, budget)
        })
        .await
    }

    async fn handle_message(
        &self,
        message: &SqsMessage,
        started: Instant,
        budget: Duration,
    ) -> Result<(), RetryLater> {
        let Some(job) = message
            .body
            .as_deref()
            .and_then(|body| serde_json::from_str::<CampaignJob>(body).ok())
        else {
            // Retrying cannot make it readable.
            warn!("campaign message without a campaign id; dropped");
            return Ok(());
        };
        self.run(&job.campaign, started, budget).await
    }

    /// Sends `campaign` from its cursor, a page at a time.
    pub async fn run(
        &self,
        campaign: &str,
        started: Instant,
        budget: Duration,
    ) -> Result<(), RetryLater> {
        let mut pace = tokio::time::interval(self.interval);
        pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let Some(current) = self.campaigns.get(campaign).await? else {
                warn!(campaign, "campaign not found; message dropped");
                return Ok(());
            };
            if current.finished_at.is_some() {
                return Ok(());
            }
            let page = self
                .audience
                .page(current.cursor.as_deref(), self.page_size)
                .await?;
            let mut sent = 0;
            for address in &page.addresses {
                if self.deliver(&current, address, &mut pace).await? {
                    sent += 1;
                }
            }
            let now = self.clock.now();
            match self
                .campaigns
                .advance(&current, page.next.as_deref(), sent, now)
                .await?
            {
                Advanced::Lost => {
                    // Its messages still count; the cursor is the other run's.
                    self.campaigns.add_sent(campaign, sent).await?;
                    info!(
                        campaign,
                        "another run is sending this campaign; this one stops"
                    );
                    return Ok(());
                }
                Advanced::Yes if page.next.is_none() => {
                    info!(campaign, sent = current.sent + sent, "campaign sent");
                    return Ok(());
                }
                Advanced::Yes => {}
            }
            if started.elapsed() >= budget {
                // Go on in a fresh invocation; the cursor is already saved.
                queue(&self.sqs, &self.queue_url, campaign)
                    .await
                    .map_err(RetryLater)?;
                info!(
                    campaign,
                    "time is nearly up; the campaign goes on in the next run"
                );
                return Ok(());
            }
        }
    }

    /// Claims, then sends one message; `false` when the address is skipped.
    async fn deliver(
        &self,
        campaign: &Campaign,
        address: &EmailAddress,
        pace: &mut tokio::time::Interval,
    ) -> Result<bool, RetryLater> {
        let locale = self
            .wallets
            .find_by_email(address)
            .await?
            .map_or(Locale::En, |wallet| wallet.locale);
        let email = campaign.content.render(locale);
        // The wait comes before the claim, so that only the send itself lies between a
        // claim and its message: a run cut short while it waits has claimed nothing.
        pace.tick().await;
        let now = self.clock.now();
        if !self
            .audience
            .claim(address, &campaign.id, &email.subject, now)
            .await?
        {
            return Ok(false);
        }
        match self.mailer.send_consented(address, locale, email).await {
            Ok(_) => Ok(true),
            Err(error) => {
                // SES refused it: nothing went out, so the address may be tried again.
                self.audience.release(address, &campaign.id).await?;
                Err(RetryLater::because(error))
            }
        }
    }
}
