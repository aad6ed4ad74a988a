//! A clearly labelled local stand-in of Polar's hosted checkout, for `PolarServer=local`.
//!
//! The polar-webhook function answers `POST /checkout` there with the URL of
//! `GET /_local/polar/checkout?product_id=…&wallet_id=…&checkout_id=…&pack=…&credits=…&success_url=…`
//! (loopback only, like every `/_local/` route): a page that shows the pack, says that no
//! payment is taken, and has a Pay button and a Cancel link. The page itself changes
//! nothing. Pay is a form `POST` to the same URL: it sends the polar-webhook function an
//! `order.paid` event for that product and wallet, with amount 0 and
//! `metadata.local_stand_in`, signed with the function's own webhook secret exactly as
//! Polar signs (Standard Webhooks), through the same API Gateway event shape, then answers
//! 303 to the success URL with `{CHECKOUT_ID}` replaced, as Polar does. So the whole path
//! after a payment (signature check, crediting once, ledger, receipt) runs for real.
//!
//! A reload, a second click or a link scanner never buys twice: `GET` never pays, and the
//! order and webhook ids derive from the checkout id, so a repeated `POST` (even after a
//! restart) is the same order, which the function credits once.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use thiserror::Error;

use crate::gateway::Invoke;
use crate::pages::escape;

/// What the checkout URL carries (all from the function that created it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutRequest {
    pub product_id: String,
    pub wallet_id: String,
    pub checkout_id: String,
    /// The pack's name and credits, for the page only (the function credits from its own
    /// configuration).
    pub pack: String,
    pub credits: String,
    /// Polar's `success_url`, with `{CHECKOUT_ID}` still in it.
    pub success_url: String,
}

/// Why a checkout cannot go on.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum CheckoutError {
    #[error("{0} is required")]
    Missing(&'static str),
    #[error("checkout_id must be the function's local_… id")]
    CheckoutId,
    #[error("success_url must be a page of the app ({0})")]
    SuccessUrl(String),
    #[error("the polar-webhook function could not be invoked: {0}")]
    Invoke(String),
    #[error("the polar-webhook function answered {status}: {body}")]
    Rejected { status: String, body: String },
}

/// The polar-webhook function, the key its webhook secret gives, and the checkouts paid.
pub struct LocalCheckout {
    invoke: Arc<dyn Invoke>,
    key: Vec<u8>,
    /// The function's `APP_ORIGIN`: success URLs must point there, and Cancel goes there.
    app_origin: String,
    paid: Mutex<HashSet<String>>,
}

impl LocalCheckout {
    /// `secret` and `format` are the function's `POLAR_WEBHOOK_SECRET` and
    /// `POLAR_WEBHOOK_KEY_FORMAT`: the key is derived as the function derives it.
    pub fn new(invoke: Arc<dyn Invoke>, secret: &str, format: &str, app_origin: &str) -> Self {
        let decoded = secret
            .strip_prefix("whsec_")
            .and_then(|tail| STANDARD.decode(tail).ok())
            .filter(|key| !key.is_empty());
        let key = match (format, decoded) {
            ("raw", _) | (_, None) => secret.as_bytes().to_vec(),
            (_, Some(key)) => key,
        };
        Self {
            invoke,
            key,
            app_origin: app_origin.trim_end_matches('/').to_owned(),
            paid: Mutex::new(HashSet::new()),
        }
    }

    /// Reads and checks the checkout URL's query (`lookup` gives a decoded value by name).
    pub fn request(
        &self,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<CheckoutRequest, CheckoutError> {
        let required = |name: &'static str| {
            lookup(name)
                .filter(|v| !v.is_empty())
                .ok_or(CheckoutError::Missing(name))
        };
        let request = CheckoutRequest {
            product_id: required("product_id")?,
            wallet_id: required("wallet_id")?,
            checkout_id: required("checkout_id")?,
            pack: lookup("pack").unwrap_or_default(),
            credits: lookup("credits").unwrap_or_default(),
            success_url: required("success_url")?,
        };
        let id_ok = request
            .checkout_id
            .strip_prefix("local_")
            .is_some_and(|rest| {
                !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric())
            });
        if !id_ok {
            return Err(CheckoutError::CheckoutId);
        }
        // No open redirect: back to the app only.
        if !request
            .success_url
            .starts_with(&format!("{}/", self.app_origin))
        {
            return Err(CheckoutError::SuccessUrl(self.app_origin.clone()));
        }
        Ok(request)
    }

    /// The stand-in page for a checkout: the pack, the label, Pay and Cancel.
    pub fn page(&self, request: &CheckoutRequest, action: &str) -> String {
        let pack = if request.pack.is_empty() {
            escape(&request.product_id)
        } else {
            format!(
                "{} · {} credits",
                escape(&request.pack),
                escape(&request.credits)
            )
        };
        let body = format!(
            "<h1>Checkout</h1>\
             <p><span class=\"badge\">Local stand-in of Polar's checkout — no payment is taken</span></p>\
             <div class=\"card\"><h2>{pack}</h2>\
             <p class=\"meta\">Polar product {product} · checkout {checkout}</p>\
             <p>Paying here sends the service a signed <code>order.paid</code> webhook for amount 0, \
             as Polar would after a real payment, then returns to the app.</p>\
             <form method=\"post\" action=\"{action}\" class=\"row\">\
             <button type=\"submit\">Pay (no payment is taken)</button>\
             <a class=\"button secondary\" href=\"{cancel}\">Cancel</a></form></div>",
            product = escape(&request.product_id),
            checkout = escape(&request.checkout_id),
            action = escape(action),
            cancel = escape(&format!("{}/credits", self.app_origin)),
        );
        crate::pages::page("Checkout (local stand-in)", &body)
    }

    /// Pays once per checkout id (sends the signed `order.paid`, unless this checkout was
    /// already paid here) and returns the URL to send the buyer to.
    pub async fn pay(&self, request: &CheckoutRequest) -> Result<String, CheckoutError> {
        let already = self
            .paid
            .lock()
            .map(|paid| paid.contains(&request.checkout_id))
            .unwrap_or(false);
        if !already {
            let answer = self
                .invoke
                .invoke(self.order_paid(request, now_secs()))
                .await
                .map_err(|error| CheckoutError::Invoke(error.to_string()))?;
            let status = answer.get("statusCode").cloned().unwrap_or(Value::Null);
            if status != json!(200) {
                return Err(CheckoutError::Rejected {
                    status: status.to_string(),
                    body: answer
                        .get("body")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                });
            }
            if let Ok(mut paid) = self.paid.lock() {
                paid.insert(request.checkout_id.clone());
            }
            tracing::info!(checkout = %request.checkout_id, "local stand-in checkout sent a signed order.paid");
        }
        Ok(request
            .success_url
            .replace("{CHECKOUT_ID}", &request.checkout_id))
    }

    /// The API Gateway event of Polar's signed `order.paid` delivery for this checkout.
    fn order_paid(&self, request: &CheckoutRequest, now: u64) -> Value {
        let order_id = format!("local-{}", request.checkout_id);
        let body = json!({
            "type": "order.paid",
            "timestamp": "local",
            "data": {
                "id": order_id,
                "status": "paid",
                "paid": true,
                "product_id": request.product_id,
                "checkout_id": request.checkout_id,
                "metadata": {
                    "wallet_id": request.wallet_id,
                    "local_stand_in": "LOCAL STAND-IN CHECKOUT: no payment was taken",
                },
                "subtotal_amount": 0, "discount_amount": 0, "net_amount": 0, "tax_amount": 0,
                "total_amount": 0, "refunded_amount": 0, "refunded_tax_amount": 0,
                "currency": "usd",
            },
        })
        .to_string();
        let id = format!("msg_{}", request.checkout_id);
        let timestamp = now.to_string();
        let signature = format!(
            "v1,{}",
            STANDARD.encode(sign(&self.key, &id, &timestamp, &body))
        );
        json!({
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
        })
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn sign(key: &[u8], id: &str, timestamp: &str, body: &str) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::gateway::InvokeFuture;

    #[derive(Default)]
    struct Webhook {
        calls: AtomicUsize,
        events: Mutex<Vec<Value>>,
    }

    impl Invoke for Webhook {
        fn invoke(&self, event: Value) -> InvokeFuture<'_> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            self.events.lock().unwrap().push(event);
            Box::pin(async { Ok(json!({"statusCode": 200, "body": "{\"status\":\"credited\"}"})) })
        }
    }

    fn query(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn good() -> HashMap<String, String> {
        query(&[
            ("product_id", "prod_a"),
            ("wallet_id", "w1"),
            ("checkout_id", "local_abc123"),
            ("pack", "starter"),
            ("credits", "10"),
            (
                "success_url",
                "http://localhost:3000/credits?checkout_id={CHECKOUT_ID}",
            ),
        ])
    }

    fn checkout(webhook: &Arc<Webhook>) -> LocalCheckout {
        LocalCheckout::new(
            webhook.clone(),
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "auto",
            "http://localhost:3000",
        )
    }

    #[tokio::test]
    async fn paying_twice_sends_one_webhook_and_returns_to_the_success_url() {
        let webhook = Arc::new(Webhook::default());
        let checkout = checkout(&webhook);
        let q = good();
        let request = checkout.request(|name| q.get(name).cloned()).unwrap();
        for _ in 0..2 {
            let back = checkout.pay(&request).await.unwrap();
            assert_eq!(
                back,
                "http://localhost:3000/credits?checkout_id=local_abc123"
            );
        }
        assert_eq!(webhook.calls.load(Ordering::SeqCst), 1);
        let event = webhook.events.lock().unwrap()[0].clone();
        let body: Value = serde_json::from_str(event["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["data"]["id"], "local-local_abc123");
        assert_eq!(body["data"]["metadata"]["wallet_id"], "w1");
        assert_eq!(event["headers"]["webhook-id"], "msg_local_abc123");
        assert!(
            event["headers"]["webhook-signature"]
                .as_str()
                .unwrap()
                .starts_with("v1,")
        );
    }

    #[test]
    fn the_page_is_labelled_and_pays_only_by_post() {
        let webhook = Arc::new(Webhook::default());
        let checkout = checkout(&webhook);
        let q = good();
        let request = checkout.request(|name| q.get(name).cloned()).unwrap();
        let page = checkout.page(&request, "/_local/polar/checkout?a=1&b=2");
        assert!(page.contains("Local stand-in of Polar's checkout — no payment is taken"));
        assert!(page.contains("starter · 10 credits"));
        assert!(
            page.contains("<form method=\"post\" action=\"/_local/polar/checkout?a=1&amp;b=2\"")
        );
        assert!(page.contains("href=\"http://localhost:3000/credits\">Cancel</a>"));
        assert_eq!(webhook.calls.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn bad_checkouts_are_refused() {
        let webhook = Arc::new(Webhook::default());
        let checkout = checkout(&webhook);
        let with = |name: &str, value: &str| {
            let mut q = good();
            q.insert(name.to_owned(), value.to_owned());
            checkout.request(|n| q.get(n).cloned())
        };
        assert_eq!(
            with("checkout_id", ""),
            Err(CheckoutError::Missing("checkout_id"))
        );
        assert_eq!(
            with("checkout_id", "local_../x"),
            Err(CheckoutError::CheckoutId)
        );
        assert!(matches!(
            with("success_url", "https://evil.test/credits"),
            Err(CheckoutError::SuccessUrl(_))
        ));
        assert!(matches!(
            with("success_url", "http://localhost:3000.evil.test/"),
            Err(CheckoutError::SuccessUrl(_))
        ));
    }
}
