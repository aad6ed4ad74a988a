//! The admin's campaign routes (in the `admin` function):
//!
//! - `POST /admin/campaigns` `{id, subject: {en, ja}, text: {en, ja}}` stores the campaign
//!   and queues it for the sender: 202. The id is a UUID the client makes, so a repeated
//!   request (a double click, a retry after a timeout) creates nothing new and only queues
//!   it again, which the sender shrugs off; another content under the same id is a 409.
//! - `GET /admin/campaigns`: the newest campaigns with their progress.

use std::sync::Arc;

use aws_config::SdkConfig;
use http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use tracing::{error, info};

use super::{Campaign, CampaignContent, Campaigns, Created, Localized};
use crate::auth::{SessionKeys, SignedIn};
use crate::clock::{Clock, rfc3339};
use crate::config::{ConfigError, EnvSource, Settings};
use crate::email::EmailAddress;
use crate::moderation::review::ReviewConfig;
use crate::wallets::Wallets;
use crate::web::{self, ApiError};

/// Two languages of up to 10,000 characters each, at up to 3 bytes a character.
const BODY_LIMIT: usize = 96 * 1024;
const LIST_LIMIT: usize = 50;

#[derive(Clone, Debug)]
pub struct CampaignConfig {
    pub campaigns_table: String,
    pub campaign_queue_url: String,
}

impl CampaignConfig {
    pub fn from_env(source: &dyn EnvSource) -> Result<Self, ConfigError> {
        let settings = Settings::new(source);
        Ok(Self {
            campaigns_table: settings.required("CAMPAIGNS_TABLE")?,
            campaign_queue_url: settings.required("CAMPAIGN_QUEUE_URL")?,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewCampaign {
    id: String,
    subject: Localized,
    text: Localized,
}

#[derive(Debug)]
pub struct CampaignApi {
    signed_in: SignedIn,
    admins: Vec<EmailAddress>,
    campaigns: Campaigns,
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    clock: Arc<dyn Clock>,
}

type ApiResult = Result<Response<Body>, ApiError>;

impl CampaignApi {
    /// Admins and sessions as the review queue has them.
    pub fn new(
        admin: &ReviewConfig,
        config: CampaignConfig,
        aws: &SdkConfig,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let dynamodb = crate::aws::dynamodb(aws);
        Self {
            signed_in: SignedIn::new(
                SessionKeys::new(&admin.session_secret),
                Wallets::new(dynamodb.clone(), &admin.wallets_table),
                clock.clone(),
            ),
            admins: admin.admins.clone(),
            campaigns: Campaigns::new(dynamodb, &config.campaigns_table),
            sqs: crate::aws::sqs(aws),
            queue_url: config.campaign_queue_url,
            clock,
        }
    }

    /// `true` for the paths this API answers.
    pub fn serves(path: &str) -> bool {
        path.trim_end_matches('/') == "/admin/campaigns"
    }

    pub async fn handle(&self, request: Request) -> Response<Body> {
        let (route, result) = match *request.method() {
            Method::GET => ("campaigns", self.list(&request).await),
            Method::POST => ("start_campaign", self.start(&request).await),
            _ => ("known", Err(ApiError::method_not_allowed())),
        };
        web::respond(route, request.method(), result)
    }

    async fn start(&self, request: &Request) -> ApiResult {
        let admin = self.signed_in.admin(request, &self.admins).await?;
        let body: NewCampaign = web::json_body(request, BODY_LIMIT)?;
        if uuid::Uuid::parse_str(&body.id).is_err() {
            return Err(ApiError::bad_request(
                "invalid_campaign",
                "id must be a UUID made by the client (it makes a repeat harmless).",
            ));
        }
        let content = CampaignContent::new(body.subject, body.text)
            .map_err(|invalid| ApiError::bad_request("invalid_campaign", invalid.to_string()))?;
        let campaign = Campaign {
            id: body.id,
            content,
            created_at: self.clock.now(),
            created_by: admin.id,
            pages: 0,
            cursor: None,
            sent: 0,
            finished_at: None,
        };
        let stored = match self
            .campaigns
            .create(&campaign)
            .await
            .map_err(|e| ApiError::storage(&e))?
        {
            Created::New => campaign,
            Created::Exists(stored) if stored.content == campaign.content => *stored,
            Created::Exists(_) => {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "campaign_exists",
                    "Another campaign already has this id.",
                ));
            }
        };
        if stored.finished_at.is_none() {
            super::sender::queue(&self.sqs, &self.queue_url, &stored.id)
                .await
                .map_err(|e| {
                    error!(error = %e, "queueing a campaign");
                    ApiError::unavailable(
                        "queue_unavailable",
                        "The campaign is saved but could not be queued; send it again.",
                    )
                })?;
        }
        info!(campaign = %stored.id, "campaign queued");
        Ok(web::json_response(
            StatusCode::ACCEPTED,
            &json!({ "campaign": view(&stored) }),
        ))
    }

    async fn list(&self, request: &Request) -> ApiResult {
        self.signed_in.admin(request, &self.admins).await?;
        let campaigns = self
            .campaigns
            .list(LIST_LIMIT)
            .await
            .map_err(|e| ApiError::storage(&e))?;
        Ok(web::json_response(
            StatusCode::OK,
            &json!({ "campaigns": campaigns.iter().map(view).collect::<Vec<_>>() }),
        ))
    }
}

fn view(campaign: &Campaign) -> Value {
    json!({
        "id": campaign.id,
        "subject": campaign.content.subject(),
        "created_at": rfc3339(campaign.created_at),
        "status": if campaign.finished_at.is_some() { "sent" } else { "sending" },
        "sent": campaign.sent,
        "finished_at": campaign.finished_at.map(rfc3339),
    })
}
