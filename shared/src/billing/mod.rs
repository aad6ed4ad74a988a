//! Billing: credit packs sold through Polar, the webhook that credits paid orders exactly
//! once and takes refunded credits back, and the ledger of every credit change.
//!
//! `POST /checkout {product}` (signed in) creates a Polar checkout for one of our packs with
//! the wallet id in its metadata; `POST /webhooks/polar` verifies the Standard Webhooks
//! signature over the raw body and then:
//! - `order.paid`: the order id, the webhook id, the balance change and its ledger entry
//!   are one conditional transaction, so 50 concurrent deliveries credit once; the receipt
//!   email is claimed by a flag on the order, so it goes out once.
//! - `order.refunded`: Polar sends the cumulative `refunded_amount`; the credits matching
//!   the newly refunded part go back (never below zero; what was already spent is recorded
//!   as a shortfall), once per increment; then the refund confirmation email.
//! - any other type: acknowledged (200) and ignored, so Polar does not retry it.
//!
//! Answers: 401 `invalid_signature` changes nothing; 400 `malformed_event` for a signed
//! body we cannot read (Polar retries non-2xx, so after a fix the event is not lost);
//! 409 `order_not_credited` for a refund of an order whose `order.paid` has not arrived yet
//! (retried until it has); 503 when storage or email fails (retried).
//!
//! `POLAR_SERVER=local` (refused in prod): checkout answers the URL of the local stack's
//! labelled stand-in checkout (`infra/local-stack/src/local_checkout.rs`), which takes no
//! payment and sends this function a correctly signed `order.paid` for amount 0.

pub mod config;
pub mod ledger;
pub mod orders;
pub mod polar;
pub mod signature;

use std::collections::HashMap;
use std::sync::Arc;

use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::TransactWriteItem;
use http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use tracing::{error, info, warn};

use crate::auth::SessionKeys;
use crate::auth::SignedIn;
use crate::clock::Clock;
use crate::email::{AppPage, Mailer, templates};
use crate::store::{StoreError, get_n, get_s, n, s};
use crate::wallets::{Wallet, Wallets};
use crate::web::{self, ApiError, DEFAULT_BODY_LIMIT, json_body};
pub use config::{BillingConfig, CreditPack, PolarServer, Price, parse_products};
use ledger::{Entry, Ledger, LedgerKind, Money, Reference};
use orders::{OrderRecord, Orders, order_key, webhook_key};
use polar::{PolarClient, PolarError};

/// Polar's webhook bodies are a few kilobytes; anything far larger is not Polar.
const WEBHOOK_BODY_LIMIT: usize = 256 * 1024;
/// Concurrent refunds of one order retry their compare-and-set this many times.
const REFUND_ATTEMPTS: usize = 8;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckoutRequest {
    product: String,
}

#[derive(Debug, Deserialize)]
struct WebhookEvent {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    data: Value,
}

/// The fields of Polar's Order schema we use (amounts in the currency's minor unit).
#[derive(Debug, Deserialize)]
struct PolarOrder {
    id: String,
    #[serde(default)]
    status: String,
    product_id: Option<String>,
    product: Option<PolarProduct>,
    #[serde(default)]
    metadata: HashMap<String, Value>,
    net_amount: i64,
    #[serde(default)]
    total_amount: i64,
    #[serde(default)]
    refunded_amount: i64,
    #[serde(default)]
    refunded_tax_amount: i64,
    currency: String,
}

#[derive(Debug, Deserialize)]
struct PolarProduct {
    id: String,
}

impl PolarOrder {
    fn product_id(&self) -> Option<&str> {
        self.product_id
            .as_deref()
            .or(self.product.as_ref().map(|p| p.id.as_str()))
    }

    fn wallet_id(&self) -> Option<&str> {
        self.metadata.get("wallet_id").and_then(Value::as_str)
    }
}

type ApiResult = Result<Response<Body>, ApiError>;

#[derive(Debug)]
pub struct BillingApi {
    signed_in: SignedIn,
    wallets: Wallets,
    orders: Orders,
    dynamodb: aws_sdk_dynamodb::Client,
    mailer: Mailer,
    polar: Option<PolarClient>,
    clock: Arc<dyn Clock>,
    config: BillingConfig,
}

impl BillingApi {
    pub fn new(config: BillingConfig, aws: &SdkConfig, clock: Arc<dyn Clock>) -> Self {
        let dynamodb = crate::aws::dynamodb(aws);
        let wallets = Wallets::new(dynamodb.clone(), &config.wallets_table).with_ledger(
            Ledger::new(dynamodb.clone(), &config.ledger_table, clock.clone()),
        );
        let polar = config.server.base_url().map(|base| {
            PolarClient::new(base, config.access_token.clone())
                .expect("the HTTPS client builds with the compiled-in roots")
        });
        Self {
            signed_in: SignedIn::new(
                SessionKeys::new(&config.session_secret),
                wallets.clone(),
                clock.clone(),
            ),
            wallets,
            orders: Orders::new(dynamodb.clone(), &config.orders_table),
            dynamodb,
            mailer: Mailer::new(crate::aws::sesv2(aws), &config.email_from),
            polar,
            clock,
            config,
        }
    }

    pub async fn handle(&self, request: Request) -> Response<Body> {
        let path = request.uri().path().to_owned();
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let (route, result) = match (segments.as_slice(), request.method()) {
            (["checkout"], &Method::POST) => ("checkout", self.checkout(&request).await),
            (["webhooks", "polar"], &Method::POST) => {
                ("polar_webhook", self.webhook(&request).await)
            }
            (["checkout"] | ["webhooks", "polar"], _) => {
                ("known", Err(ApiError::method_not_allowed()))
            }
            _ => ("unknown", Err(ApiError::not_found())),
        };
        web::respond(route, request.method(), result)
    }

    async fn checkout(&self, request: &Request) -> ApiResult {
        let wallet = self.signed_in.wallet(request).await?;
        let body: CheckoutRequest = json_body(request, DEFAULT_BODY_LIMIT)?;
        let pack = self.config.pack_named(&body.product).ok_or_else(|| {
            ApiError::bad_request("unknown_product", "No credit pack has that name.")
        })?;
        let Some(polar) = &self.polar else {
            // POLAR_SERVER=local (never in prod): the local stack's labelled stand-in page,
            // which takes no payment: its Pay button sends a signed order.paid (once per
            // checkout id) and returns to the success URL as Polar does.
            let checkout_id = format!("local_{}", uuid::Uuid::new_v4().simple());
            let url = format!(
                "{}?product_id={}&wallet_id={}&checkout_id={checkout_id}&pack={}&credits={}&success_url={}",
                self.config.local_checkout_url,
                query_encode(&pack.polar_product_id),
                query_encode(&wallet.id),
                query_encode(&pack.name),
                pack.credits,
                query_encode(&self.config.success_url),
            );
            return Ok(web::json_response(
                StatusCode::CREATED,
                &json!({ "checkout_url": url, "checkout_id": checkout_id, "product": pack.name, "credits": pack.credits, "local_stand_in": true }),
            ));
        };
        let checkout = polar
            .create_checkout(
                &pack.polar_product_id,
                wallet.email.as_str(),
                &wallet.id,
                &self.config.success_url,
            )
            .await
            .map_err(|failure| {
                error!(error = %failure, pack = %pack.name, "checkout creation failed");
                match failure {
                    PolarError::Rejected { .. } | PolarError::BadResponse => ApiError::new(
                        StatusCode::BAD_GATEWAY,
                        "payment_provider_error",
                        "The payment provider refused the checkout. We are looking into it.",
                    ),
                    PolarError::Unavailable(_) => ApiError::unavailable(
                        "payment_provider_unavailable",
                        "The payment provider is unavailable. Try again in a moment.",
                    ),
                }
            })?;
        info!(checkout = %checkout.id, pack = %pack.name, "checkout created");
        Ok(web::json_response(
            StatusCode::CREATED,
            &json!({ "checkout_url": checkout.url, "checkout_id": checkout.id, "product": pack.name, "credits": pack.credits }),
        ))
    }

    async fn webhook(&self, request: &Request) -> ApiResult {
        let body: &[u8] = match request.body() {
            Body::Text(text) => text.as_bytes(),
            Body::Binary(bytes) => bytes,
            _ => &[],
        };
        if body.len() > WEBHOOK_BODY_LIMIT {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "The body is too large for a webhook.",
            ));
        }
        let header = |name: &str| {
            request
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
        };
        let webhook_id = header("webhook-id");
        self.config
            .webhook
            .verify(
                webhook_id,
                header("webhook-timestamp"),
                header("webhook-signature"),
                body,
                self.clock.now(),
            )
            .map_err(|reason| {
                warn!(%reason, "webhook signature refused");
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "invalid_signature",
                    "The webhook signature is not valid.",
                )
            })?;
        let webhook_id = webhook_id.unwrap_or_default();
        let event: WebhookEvent = serde_json::from_slice(body).map_err(|_| malformed())?;
        match event.kind.as_str() {
            "order.paid" => {
                let order: PolarOrder =
                    serde_json::from_value(event.data).map_err(|_| malformed())?;
                self.order_paid(webhook_id, order).await
            }
            "order.refunded" => {
                let order: PolarOrder =
                    serde_json::from_value(event.data).map_err(|_| malformed())?;
                self.order_refunded(webhook_id, order).await
            }
            other => {
                info!(event_type = other, "webhook event ignored");
                Ok(acknowledged("ignored"))
            }
        }
    }

    async fn order_paid(&self, webhook_id: &str, order: PolarOrder) -> ApiResult {
        let now = self.clock.now();
        let pack = order
            .product_id()
            .and_then(|id| self.config.pack_for_product(id));
        let wallet = match order.wallet_id() {
            Some(id) => self.wallets.get(id).await.map_err(internal)?,
            None => None,
        };
        let mut record = OrderRecord {
            order_id: order.id.clone(),
            wallet_id: order.wallet_id().unwrap_or_default().to_owned(),
            status: "credited".to_owned(),
            pack: pack.map(|p| p.name.clone()),
            credits: pack.map_or(0, |p| p.credits),
            net_amount: order.net_amount,
            total_amount: order.total_amount,
            currency: order.currency.clone(),
            refunded_amount: 0,
            refunded_tax_amount: 0,
            credits_refunded: 0,
        };
        let (Some(pack), Some(wallet)) = (pack, wallet) else {
            // Paid, but not for a pack and wallet we know: acknowledged (a retry cannot
            // fix it), recorded without credits and logged loudly for support to resolve.
            record.status = if pack.is_none() {
                "unknown_product"
            } else {
                "unknown_wallet"
            }
            .to_owned();
            record.credits = 0;
            self.orders
                .record_unmatched(&record, now)
                .await
                .map_err(internal)?;
            error!(order = %order.id, reason = %record.status, "paid order not credited: needs support");
            return Ok(acknowledged(&record.status));
        };
        let mut entry = Entry::new(
            LedgerKind::Purchase,
            pack.credits,
            Reference::Order(order.id.clone()),
        );
        entry.money = Some(Money {
            amount: order.total_amount,
            currency: order.currency.clone(),
        });
        let mut items = vec![
            self.orders.put_order(&record, now).map_err(internal)?,
            self.orders
                .put_webhook(webhook_id, "order.paid", &order.id, &wallet.id, now, &[])
                .map_err(internal)?,
        ];
        items.extend(
            self.wallets
                .change_credits(&wallet.id, "attribute_exists(pk)", &[], &entry)
                .map_err(internal)?,
        );
        let status = match self.transact(items).await {
            Ok(true) => {
                info!(order = %order.id, credits = pack.credits, "order credited");
                "credited"
            }
            Ok(false) => match self.orders.get(&order.id).await.map_err(internal)? {
                Some(_) => "duplicate",
                // Cancelled for another reason (the wallet vanished meanwhile): retry.
                None => return Err(internal("order transaction cancelled")),
            },
            Err(store) => return Err(internal(store)),
        };
        let paid = format_money(order.total_amount, &order.currency);
        let email = templates::purchase_receipt(
            wallet.locale,
            pack.credits,
            &paid,
            &order.id,
            &AppPage::Credits.url(&self.config.app_origin),
        );
        self.email_once(&order_key(&order.id), "receipt_email", &wallet, &email)
            .await?;
        Ok(acknowledged(status))
    }

    async fn order_refunded(&self, webhook_id: &str, order: PolarOrder) -> ApiResult {
        for _ in 0..REFUND_ATTEMPTS {
            let Some(record) = self.orders.get(&order.id).await.map_err(internal)? else {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "order_not_credited",
                    "This order has not been credited yet; deliver order.paid first.",
                ));
            };
            if record.status != "credited" {
                warn!(order = %order.id, status = %record.status, "refund of an order that was never credited");
                return Ok(acknowledged("ignored"));
            }
            if let Some(seen) = self
                .orders
                .webhook(webhook_id, self.clock.now())
                .await
                .map_err(internal)?
            {
                return self.refund_email(webhook_id, &record, &seen).await;
            }
            if order.refunded_amount <= record.refunded_amount {
                return Ok(acknowledged("duplicate"));
            }
            let target =
                if order.refunded_amount >= record.net_amount || order.status == "refunded" {
                    record.credits
                } else {
                    // Round down: a partial refund never takes back more than it paid for.
                    (i128::from(record.credits) * i128::from(order.refunded_amount)
                        / i128::from(record.net_amount.max(1))) as i64
                }
                .max(record.credits_refunded);
            let due = target - record.credits_refunded;
            let wallet = self
                .wallets
                .get(&record.wallet_id)
                .await
                .map_err(internal)?;
            let balance = wallet.as_ref().map_or(0, |w| w.credits.max(0));
            let take = due.min(balance);
            let shortfall = due - take;
            let refunded_now = (order.refunded_amount - record.refunded_amount)
                + (order.refunded_tax_amount - record.refunded_tax_amount).max(0);
            let now = self.clock.now();
            let mut items = vec![
                self.orders
                    .advance_refund(
                        &order.id,
                        record.refunded_amount,
                        order.refunded_amount,
                        order.refunded_tax_amount,
                        target,
                        shortfall,
                    )
                    .map_err(internal)?,
                self.orders
                    .put_webhook(
                        webhook_id,
                        "order.refunded",
                        &order.id,
                        &record.wallet_id,
                        now,
                        &[
                            ("credits_taken", n(take)),
                            ("credits_shortfall", n(shortfall)),
                            ("refund_amount", n(refunded_now)),
                            ("currency", s(&record.currency)),
                        ],
                    )
                    .map_err(internal)?,
            ];
            if let Some(wallet) = &wallet {
                let mut entry = Entry::new(
                    LedgerKind::Refund,
                    -take,
                    Reference::Order(order.id.clone()),
                );
                entry.money = Some(Money {
                    amount: -refunded_now,
                    currency: record.currency.clone(),
                });
                entry.shortfall = shortfall;
                // Compare-and-set on the balance: `take` was computed from it.
                items.extend(
                    self.wallets
                        .change_credits(
                            &wallet.id,
                            "attribute_exists(pk) AND credits = :seen",
                            &[(":seen", n(wallet.credits))],
                            &entry,
                        )
                        .map_err(internal)?,
                );
            }
            match self.transact(items).await {
                Ok(true) => {
                    info!(order = %order.id, credits_taken = take, shortfall, "refund recorded");
                    let seen = self
                        .orders
                        .webhook(webhook_id, self.clock.now())
                        .await
                        .map_err(internal)?
                        .ok_or_else(|| internal("refund record missing after its transaction"))?;
                    return self.refund_email(webhook_id, &record, &seen).await;
                }
                // Another delivery or a spend moved something: read again and retry.
                Ok(false) => continue,
                Err(store) => return Err(internal(store)),
            }
        }
        Err(internal("refund kept conflicting"))
    }

    async fn refund_email(
        &self,
        webhook_id: &str,
        record: &OrderRecord,
        seen: &crate::store::Item,
    ) -> ApiResult {
        let Some(wallet) = self
            .wallets
            .get(&record.wallet_id)
            .await
            .map_err(internal)?
        else {
            return Ok(acknowledged("refunded"));
        };
        let refunded = format_money(
            get_n(seen, "refund_amount").unwrap_or_default(),
            get_s(seen, "currency").unwrap_or(&record.currency),
        );
        let email = templates::refund_confirmation(
            wallet.locale,
            &refunded,
            get_n(seen, "credits_taken").unwrap_or_default(),
            get_n(seen, "credits_shortfall").unwrap_or_default(),
            &record.order_id,
            &AppPage::Credits.url(&self.config.app_origin),
        );
        self.email_once(&webhook_key(webhook_id), "refund_email", &wallet, &email)
            .await?;
        Ok(acknowledged("refunded"))
    }

    /// Sends `email` once per `pk`: the flag is claimed first; a failed send gives it back
    /// and answers 503, so Polar's retry sends it.
    async fn email_once(
        &self,
        pk: &str,
        flag: &str,
        wallet: &Wallet,
        email: &templates::Email,
    ) -> Result<(), ApiError> {
        if !self.orders.claim_email(pk, flag).await.map_err(internal)? {
            return Ok(());
        }
        if let Err(failure) = self.mailer.send(&wallet.email, email).await {
            error!(error = %failure, flag, "billing email failed");
            self.orders
                .release_email(pk, flag)
                .await
                .map_err(internal)?;
            return Err(ApiError::unavailable(
                "email_unavailable",
                "The email could not be sent; deliver the webhook again.",
            ));
        }
        Ok(())
    }

    /// Runs one transaction: `Ok(false)` when a condition cancelled it.
    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<bool, StoreError> {
        match self
            .dynamodb
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_transaction_canceled_exception()) =>
            {
                Ok(false)
            }
            Err(error) => Err(StoreError::from_sdk(
                "TransactWriteItems",
                self.orders.table(),
                &error,
            )),
        }
    }
}

fn acknowledged(status: &str) -> Response<Body> {
    web::json_response(StatusCode::OK, &json!({ "status": status }))
}

fn malformed() -> ApiError {
    ApiError::bad_request(
        "malformed_event",
        "The signed body is not an event we can read.",
    )
}

fn internal(failure: impl std::fmt::Display) -> ApiError {
    error!(error = %failure, "billing failure");
    ApiError::unavailable("billing_unavailable", "Try again in a moment.")
}

fn query_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// `1999, "usd"` → `USD 19.99`; zero-decimal currencies (JPY, KRW) have no fraction.
pub fn format_money(amount: i64, currency: &str) -> String {
    let code = currency.to_ascii_uppercase();
    let sign = if amount < 0 { "-" } else { "" };
    let abs = amount.unsigned_abs();
    if matches!(code.as_str(), "JPY" | "KRW" | "VND" | "CLP" | "ISK") {
        format!("{code} {sign}{abs}")
    } else {
        format!("{code} {sign}{}.{:02}", abs / 100, abs % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_formatted_in_its_minor_unit() {
        assert_eq!(format_money(1999, "usd"), "USD 19.99");
        assert_eq!(format_money(5, "eur"), "EUR 0.05");
        assert_eq!(format_money(1200, "jpy"), "JPY 1200");
        assert_eq!(format_money(-250, "usd"), "USD -2.50");
    }
}
