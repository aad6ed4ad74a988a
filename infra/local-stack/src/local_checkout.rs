//! A clearly labelled local stand-in of Polar's hosted checkout, for `PolarServer=local`.
//!
//! The polar-webhook function answers `POST /checkout` there with a URL of
//! `GET /_local/polar/checkout?product_id=…&wallet_id=…` (loopback only, like every
//! `/_local/` route). Visiting it takes no payment: it sends the polar-webhook function an
//! `order.paid` event for that product and wallet, with amount 0 and
//! `metadata.local_stand_in`, signed with the function's own webhook secret exactly as
//! Polar signs (Standard Webhooks), through the same API Gateway event shape. So the whole
//! path after a payment (signature check, crediting once, ledger, receipt) runs for real.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::gateway::Invoke;

/// The polar-webhook function and the key its webhook secret gives.
pub struct LocalCheckout {
    invoke: Arc<dyn Invoke>,
    key: Vec<u8>,
}

impl LocalCheckout {
    /// `secret` and `format` are the function's `POLAR_WEBHOOK_SECRET` and
    /// `POLAR_WEBHOOK_KEY_FORMAT`: the key is derived as the function derives it.
    pub fn new(invoke: Arc<dyn Invoke>, secret: &str, format: &str) -> Self {
        let decoded = secret
            .strip_prefix("whsec_")
            .and_then(|tail| STANDARD.decode(tail).ok())
            .filter(|key| !key.is_empty());
        let key = match (format, decoded) {
            ("raw", _) | (_, None) => secret.as_bytes().to_vec(),
            (_, Some(key)) => key,
        };
        Self { invoke, key }
    }

    /// Sends the signed `order.paid` and reports what the function answered.
    pub async fn pay(&self, product_id: &str, wallet_id: &str) -> Result<Value, String> {
        let order_id = format!("local-{}", uuid::Uuid::new_v4());
        let body = json!({
            "type": "order.paid",
            "timestamp": "local",
            "data": {
                "id": order_id,
                "status": "paid",
                "paid": true,
                "product_id": product_id,
                "metadata": {
                    "wallet_id": wallet_id,
                    "local_stand_in": "LOCAL STAND-IN CHECKOUT: no payment was taken",
                },
                "subtotal_amount": 0, "discount_amount": 0, "net_amount": 0, "tax_amount": 0,
                "total_amount": 0, "refunded_amount": 0, "refunded_tax_amount": 0,
                "currency": "usd",
            },
        })
        .to_string();
        let id = format!("msg_local_{}", uuid::Uuid::new_v4().simple());
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let timestamp = now.to_string();
        let signature = format!(
            "v1,{}",
            STANDARD.encode(sign(&self.key, &id, &timestamp, &body))
        );
        let event = json!({
            "version": "2.0",
            "routeKey": "POST /webhooks/polar",
            "rawPath": "/webhooks/polar",
            "rawQueryString": "",
            "headers": {
                "content-type": "application/json",
                "user-agent": "anumi-local-checkout-stand-in",
                "webhook-id": id,
                "webhook-timestamp": timestamp,
                "webhook-signature": signature,
            },
            "requestContext": {
                "accountId": crate::ACCOUNT_ID,
                "apiId": "local",
                "domainName": "127.0.0.1",
                "domainPrefix": "local",
                "http": {
                    "method": "POST",
                    "path": "/webhooks/polar",
                    "protocol": "HTTP/1.1",
                    "sourceIp": "127.0.0.1",
                    "userAgent": "anumi-local-checkout-stand-in",
                },
                "requestId": uuid::Uuid::new_v4().to_string(),
                "routeKey": "POST /webhooks/polar",
                "stage": "$default",
                "time": "",
                "timeEpoch": now * 1000,
            },
            "isBase64Encoded": false,
            "body": body,
        });
        let answer = self
            .invoke
            .invoke(event)
            .await
            .map_err(|error| error.to_string())?;
        tracing::info!(%order_id, "local stand-in checkout sent a signed order.paid");
        Ok(json!({
            "local_stand_in": "LOCAL STAND-IN CHECKOUT: no payment was taken. A signed order.paid webhook was sent to the polar-webhook function.",
            "order_id": order_id,
            "webhook_status": answer.get("statusCode").cloned().unwrap_or(Value::Null),
            "webhook_answer": answer
                .get("body")
                .and_then(Value::as_str)
                .and_then(|text| serde_json::from_str::<Value>(text).ok())
                .unwrap_or(Value::Null),
        }))
    }
}

fn sign(key: &[u8], id: &str, timestamp: &str, body: &str) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    mac.finalize().into_bytes().to_vec()
}
