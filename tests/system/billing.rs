//! Billing: Polar checkout, the signed webhook (paid orders credited exactly once, refunds,
//! receipts) and the ledger that every credit change writes.

use serde_json::{Value, json};
use shared::billing::signature::signature_header;
use shared::email::EmailAddress;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{
    Answer, Call, POLAR_WEBHOOK_SECRET, TestApp, sent_mail, spawn_app, spawn_app_with,
};
use crate::pipeline::{blocked_marker_png, full_order, selfie_bytes};

const STARTER: &str = "polar-product-id-starter";

/// The key the newer (base64) derivation gives for the local secret.
fn base64_key() -> Vec<u8> {
    use base64_decode::decode;
    decode(POLAR_WEBHOOK_SECRET.strip_prefix("whsec_").unwrap())
}

mod base64_decode {
    /// A tiny standard-alphabet decoder, so the test does not share the code under test.
    pub fn decode(text: &str) -> Vec<u8> {
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut bits = 0u32;
        let mut count = 0;
        let mut out = Vec::new();
        for c in text.bytes().filter(|c| *c != b'=') {
            let value = alphabet.iter().position(|a| *a == c).unwrap() as u32;
            bits = (bits << 6) | value;
            count += 6;
            if count >= 8 {
                count -= 8;
                out.push((bits >> count) as u8);
                bits &= (1 << count) - 1;
            }
        }
        out
    }
}

/// A Polar order as the fixture has it, for `wallet_id`, with the given refund state.
pub(crate) fn order(wallet_id: &str, order_id: &str, status: &str, refunded: i64) -> Value {
    let fixture: Value = serde_json::from_str(
        Call::event("polar-webhook", "order-paid.json")
            .event_body()
            .as_str(),
    )
    .unwrap();
    let mut data = fixture["data"].clone();
    data["id"] = json!(order_id);
    data["metadata"]["wallet_id"] = json!(wallet_id);
    data["status"] = json!(status);
    data["refunded_amount"] = json!(refunded);
    data["refunded_tax_amount"] = json!(refunded / 10);
    data
}

pub(crate) fn event(kind: &str, data: Value) -> String {
    json!({ "type": kind, "timestamp": "2026-11-22T07:48:54Z", "data": data }).to_string()
}

/// A delivery of `body` signed with `key` at `timestamp`, as Polar sends it.
fn signed(body: &str, id: &str, timestamp: i64, key: &[u8]) -> Call {
    let timestamp = timestamp.to_string();
    Call::event("polar-webhook", "order-paid.json")
        .body(body)
        .header("webhook-id", id)
        .header("webhook-timestamp", &timestamp)
        .header(
            "webhook-signature",
            &signature_header(key, id, &timestamp, body.as_bytes()),
        )
}

struct Buyer {
    email: String,
    session: String,
    wallet_id: String,
}

impl TestApp {
    async fn buyer(&self, name: &str) -> Buyer {
        let email = self.email(name);
        let session = self.sign_in(&email).await;
        let wallet = self
            .wallets()
            .find_by_email(&EmailAddress::parse(&email).unwrap())
            .await
            .unwrap()
            .unwrap();
        Buyer {
            email,
            session,
            wallet_id: wallet.id,
        }
    }

    pub(crate) async fn deliver(&self, body: &str, id: &str) -> Answer {
        signed(body, id, self.clock_now(), &base64_key())
            .send_to_billing(self)
            .await
    }

    async fn balance(&self, wallet_id: &str) -> i64 {
        self.wallets()
            .get(wallet_id)
            .await
            .unwrap()
            .unwrap()
            .credits
    }

    async fn ledger_sum(&self, wallet_id: &str) -> i64 {
        self.ledger().balance(wallet_id).await.unwrap()
    }
}

#[tokio::test]
async fn a_signed_order_paid_delivered_fifty_times_at_once_credits_once_with_one_receipt() {
    let app = spawn_app().await;
    let buyer = app.buyer("mio").await;
    let body = event("order.paid", order(&buyer.wallet_id, "ord-1", "paid", 0));

    let deliveries = (0..50).map(|_| app.deliver(&body, "msg-paid-1"));
    let answers = futures_util::future::join_all(deliveries).await;
    for answer in &answers {
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    let credited = answers
        .iter()
        .filter(|a| a.body["status"] == json!("credited"))
        .count();
    assert_eq!(credited, 1, "exactly one delivery credits");

    assert_eq!(app.balance(&buyer.wallet_id).await, 10);
    let entries = app.ledger().entries(&buyer.wallet_id).await.unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].kind, "purchase");
    assert_eq!(entries[0].credits, 10);
    assert_eq!(entries[0].order_id.as_deref(), Some("ord-1"));
    assert_eq!(entries[0].amount, Some(1100));
    assert_eq!(entries[0].currency.as_deref(), Some("usd"));

    let receipts: Vec<_> = sent_mail(&buyer.email)
        .await
        .into_iter()
        .filter(|(subject, _)| subject.contains("receipt"))
        .collect();
    assert_eq!(receipts.len(), 1, "one receipt");
    assert!(receipts[0].1.contains("USD 11.00"), "{}", receipts[0].1);
    assert!(receipts[0].1.contains("ord-1"));

    // The same order under another webhook id (Polar resending) still credits nothing.
    let again = app.deliver(&body, "msg-paid-2").await;
    assert_eq!(again.body["status"], json!("duplicate"));
    assert_eq!(app.balance(&buyer.wallet_id).await, 10);
}

#[tokio::test]
async fn refused_webhooks_change_nothing() {
    let app = spawn_app().await;
    let buyer = app.buyer("ren").await;
    let body = event("order.paid", order(&buyer.wallet_id, "ord-x", "paid", 0));
    let now = app.clock_now();
    let key = base64_key();

    let tampered = signed(&body, "m-1", now, &key).body(&body.replace("ord-x", "ord-y"));
    let stale = signed(&body, "m-2", now - 301, &key);
    let future = signed(&body, "m-3", now + 301, &key);
    let wrong_secret = signed(&body, "m-4", now, b"some-other-endpoint-secret-0123");
    let raw_key_when_base64_expected_is_fine_under_auto =
        signed(&body, "m-5", now, POLAR_WEBHOOK_SECRET.as_bytes());
    let missing = ["webhook-id", "webhook-timestamp", "webhook-signature"]
        .map(|name| signed(&body, "m-6", now, &key).without_header(name));

    for call in [tampered, stale, future, wrong_secret]
        .into_iter()
        .chain(missing)
    {
        let answer = call.send_to_billing(&app).await;
        assert_eq!(answer.status, 401, "{}", answer.body);
        assert_eq!(answer.error_code(), "invalid_signature");
    }
    assert_eq!(app.balance(&buyer.wallet_id).await, 0);
    assert!(app.scan("OrdersTable").await.is_empty());
    assert!(app.scan("LedgerTable").await.is_empty());
    assert!(
        sent_mail(&buyer.email)
            .await
            .iter()
            .all(|(s, _)| !s.contains("receipt"))
    );

    // Under `auto` the older derivation (the whole secret string's bytes) is accepted too.
    let answer = raw_key_when_base64_expected_is_fine_under_auto
        .send_to_billing(&app)
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(app.balance(&buyer.wallet_id).await, 10);
}

#[tokio::test]
async fn each_key_derivation_alone_accepts_only_its_own_signatures() {
    // One whsec_ secret, two derivations: its base64-decoded tail (secrets since
    // 2026-09-08) or the bytes of the whole string (older secrets).
    let raw_key = POLAR_WEBHOOK_SECRET.as_bytes().to_vec();
    for (format, accepted_key, refused_key) in [
        ("raw", raw_key.clone(), base64_key()),
        ("base64", base64_key(), raw_key.clone()),
    ] {
        let app = spawn_app_with(&[("POLAR_WEBHOOK_KEY_FORMAT", format)]).await;
        let buyer = app.buyer(format).await;
        let body = event("order.paid", order(&buyer.wallet_id, "ord-k", "paid", 0));
        let now = app.clock_now();
        let refused = signed(&body, "m-refused", now, &refused_key)
            .send_to_billing(&app)
            .await;
        assert_eq!(refused.status, 401, "{format}");
        assert_eq!(app.balance(&buyer.wallet_id).await, 0);
        let accepted = signed(&body, "m-accepted", now, &accepted_key)
            .send_to_billing(&app)
            .await;
        assert_eq!(accepted.status, 200, "{format}: {}", accepted.body);
        assert_eq!(app.balance(&buyer.wallet_id).await, 10);
    }
}

#[tokio::test]
async fn partial_then_full_refunds_take_the_matching_credits_back_once_and_email() {
    let app = spawn_app().await;
    let buyer = app.buyer("sora").await;
    let paid = event("order.paid", order(&buyer.wallet_id, "ord-r", "paid", 0));
    assert_eq!(app.deliver(&paid, "m-paid").await.status, 200);
    assert_eq!(app.balance(&buyer.wallet_id).await, 10);

    // 30% of the net amount (1000) refunded: 3 of the 10 credits go back, once.
    let partial = event(
        "order.refunded",
        order(&buyer.wallet_id, "ord-r", "partially_refunded", 300),
    );
    let answers =
        futures_util::future::join_all((0..5).map(|_| app.deliver(&partial, "m-ref-1"))).await;
    assert!(
        answers.iter().all(|a| a.status == 200),
        "{:?}",
        answers.iter().map(|a| &a.body).collect::<Vec<_>>()
    );
    assert_eq!(app.balance(&buyer.wallet_id).await, 7);
    // The same cumulative amount under another webhook id takes nothing more.
    let again = app.deliver(&partial, "m-ref-1b").await;
    assert_eq!(again.body["status"], json!("duplicate"));
    assert_eq!(app.balance(&buyer.wallet_id).await, 7);

    // The rest refunded (cumulative 1000), a minute later: the other 7 go back.
    app.clock.advance(60);
    let full = event(
        "order.refunded",
        order(&buyer.wallet_id, "ord-r", "refunded", 1000),
    );
    assert_eq!(app.deliver(&full, "m-ref-2").await.status, 200);
    assert_eq!(app.deliver(&full, "m-ref-2").await.status, 200);
    assert_eq!(app.balance(&buyer.wallet_id).await, 0);

    let entries = app.ledger().entries(&buyer.wallet_id).await.unwrap();
    let refunds: Vec<_> = entries.iter().filter(|e| e.kind == "refund").collect();
    assert_eq!(
        refunds.iter().map(|e| e.credits).collect::<Vec<_>>(),
        [-3, -7],
        "entries are ordered by time"
    );
    assert_eq!(refunds[0].amount, Some(-330), "300 net + 30 tax");
    assert_eq!(app.ledger_sum(&buyer.wallet_id).await, 0);

    let mails: Vec<_> = sent_mail(&buyer.email)
        .await
        .into_iter()
        .filter(|(subject, _)| subject.contains("refund"))
        .collect();
    assert_eq!(mails.len(), 2, "one confirmation per refunded increment");
    assert!(
        mails[0].1.contains("Credits taken back: 3"),
        "{}",
        mails[0].1
    );
    assert!(
        mails[1].1.contains("Credits taken back: 7"),
        "{}",
        mails[1].1
    );
}

#[tokio::test]
async fn a_refund_after_spending_never_goes_below_zero_and_records_the_shortfall() {
    let app = spawn_app().await;
    let buyer = app.buyer("kai").await;
    let paid = event("order.paid", order(&buyer.wallet_id, "ord-s", "paid", 0));
    assert_eq!(app.deliver(&paid, "m-paid").await.status, 200);
    let upload = Call::event("upload-presign", "create-upload.json")
        .json(full_order())
        .cookies(&[&buyer.session])
        .send_to_uploads(&app)
        .await;
    assert_eq!(upload.status, 201, "{}", upload.body);
    assert_eq!(app.balance(&buyer.wallet_id).await, 7);

    let full = event(
        "order.refunded",
        order(&buyer.wallet_id, "ord-s", "refunded", 1000),
    );
    assert_eq!(app.deliver(&full, "m-ref").await.status, 200);
    assert_eq!(app.balance(&buyer.wallet_id).await, 0);
    let entries = app.ledger().entries(&buyer.wallet_id).await.unwrap();
    let refund = entries.iter().find(|e| e.kind == "refund").unwrap();
    assert_eq!((refund.credits, refund.shortfall), (-7, 3));
    assert_eq!(app.ledger_sum(&buyer.wallet_id).await, 0);
    let (_, body) = sent_mail(&buyer.email)
        .await
        .into_iter()
        .find(|(subject, _)| subject.contains("refund"))
        .unwrap();
    assert!(
        body.contains("3 of the refunded credits had already been used"),
        "{body}"
    );
}

#[tokio::test]
async fn a_refund_before_its_payment_is_retried_and_unknown_events_are_ignored() {
    let app = spawn_app().await;
    let buyer = app.buyer("aoi").await;
    let early = event(
        "order.refunded",
        order(&buyer.wallet_id, "ord-e", "refunded", 1000),
    );
    let answer = app.deliver(&early, "m-early").await;
    assert_eq!(answer.status, 409, "Polar retries it");
    assert_eq!(answer.error_code(), "order_not_credited");

    let unknown = Call::event("polar-webhook", "unknown-event.json").event_body();
    let answer = app.deliver(&unknown, "m-unknown").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["status"], json!("ignored"));

    let malformed = json!({ "type": "order.paid", "data": { "id": 5 } }).to_string();
    let answer = app.deliver(&malformed, "m-bad").await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.error_code(), "malformed_event");

    // A paid order for no wallet we know: acknowledged, recorded for support, no credits.
    let stray = event(
        "order.paid",
        order("no-such-wallet", "ord-stray", "paid", 0),
    );
    let answer = app.deliver(&stray, "m-stray").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["status"], json!("unknown_wallet"));
    assert!(app.scan("LedgerTable").await.is_empty());
    assert_eq!(app.balance(&buyer.wallet_id).await, 0);
}

#[tokio::test]
async fn balance_equals_the_sum_of_the_ledger_through_purchase_generation_and_block() {
    let app = spawn_app().await;
    let buyer = app.buyer("nao").await;
    let paid = event("order.paid", order(&buyer.wallet_id, "ord-g", "paid", 0));
    assert_eq!(app.deliver(&paid, "m-paid").await.status, 200);
    let person = crate::pipeline::Person {
        email: buyer.email.clone(),
        session: buyer.session.clone(),
    };

    // Reserved, then charged when the deliverables are ready.
    app.clock.advance(60);
    let made = app.order(&person, full_order()).await;
    assert_eq!(made.status, 201, "{}", made.body);
    app.upload(&made, selfie_bytes()).await;
    let id = made.body["generation_id"].as_str().unwrap();
    assert!(
        app.deliver_upload_event(id)
            .await
            .batch_item_failures
            .is_empty()
    );
    assert!(
        app.run_generation_queue()
            .await
            .iter()
            .all(|r| r.batch_item_failures.is_empty())
    );

    // Reserved, then returned when moderation blocks the selfie (later, so the ledger's
    // time order is the order of events).
    app.clock.advance(60);
    let blocked = app
        .order(&person, json!({ "content_type": "image/png", "content_length": blocked_marker_png().len(), "style": "anime" }))
        .await;
    assert_eq!(blocked.status, 201, "{}", blocked.body);
    app.upload(&blocked, blocked_marker_png()).await;
    app.clock.advance(60);
    app.deliver_upload_event(blocked.body["generation_id"].as_str().unwrap())
        .await;

    let balance = app.balance(&buyer.wallet_id).await;
    assert_eq!(balance, 7);
    assert_eq!(app.credits(&person).await, 7);
    assert_eq!(app.ledger_sum(&buyer.wallet_id).await, balance);
    let kinds: Vec<String> = app
        .ledger()
        .entries(&buyer.wallet_id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, ["purchase", "reserve", "reserve", "return"]);
}

#[tokio::test]
async fn no_card_detail_and_no_customer_email_is_stored() {
    let app = spawn_app().await;
    let buyer = app.buyer("hana").await;
    let mut data = order(&buyer.wallet_id, "ord-p", "paid", 0);
    data["customer"]["email"] = json!("payer-elsewhere@example.org");
    data["payment_method"] =
        json!({ "card": { "brand": "visa", "last4": "4242", "exp_month": 12 } });
    assert_eq!(
        app.deliver(&event("order.paid", data), "m-p").await.status,
        200
    );
    let ledger_and_orders = format!(
        "{:?}{:?}",
        app.scan("LedgerTable").await,
        app.scan("OrdersTable").await
    );
    for forbidden in [
        "payer-elsewhere",
        buyer.email.as_str(),
        "Example Buyer",
        "4242",
        "visa",
        "card",
        "billing_address",
    ] {
        assert!(!ledger_and_orders.contains(forbidden), "{forbidden} stored");
    }
    assert!(!app.everything_stored().await.contains("payer-elsewhere"));
}

#[tokio::test]
async fn checkout_asks_polar_for_a_session_with_the_wallet_and_email() {
    let polar = MockServer::start().await;
    let app = spawn_app_with(&[("POLAR_SERVER", "custom"), ("POLAR_API_BASE", &polar.uri())]).await;
    let buyer = app.buyer("emi").await;
    Mock::given(method("POST"))
        .and(path("/v1/checkouts/"))
        .and(header("authorization", "Bearer polar_oat_local_test_token"))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "products": [STARTER],
            "customer_email": buyer.email,
            "metadata": { "wallet_id": buyer.wallet_id },
            "success_url": "https://anumi.app/credits?checkout_id={CHECKOUT_ID}",
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "id": "co_123", "status": "open", "client_secret": "cs_1",
            "url": "https://sandbox.polar.sh/checkout/polar_c_123",
            "product_id": STARTER, "amount": 1000, "currency": "usd",
            "expires_at": "2026-11-22T08:48:54Z",
        })))
        .expect(1)
        .mount(&polar)
        .await;

    let checkout = |product: &str| {
        Call::event("polar-webhook", "checkout.json")
            .json(json!({ "product": product }))
            .cookies(&[&buyer.session])
    };
    let answer = checkout("starter").send_to_billing(&app).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(
        answer.body["checkout_url"],
        json!("https://sandbox.polar.sh/checkout/polar_c_123")
    );
    assert_eq!(answer.body["credits"], json!(10));

    let unknown = checkout(STARTER).send_to_billing(&app).await;
    assert_eq!(
        (unknown.status, unknown.error_code()),
        (400, "unknown_product")
    );
    let credits_chosen = Call::event("polar-webhook", "checkout.json")
        .json(json!({ "product": "starter", "credits": 1000 }))
        .cookies(&[&buyer.session])
        .send_to_billing(&app)
        .await;
    assert_eq!(
        (credits_chosen.status, credits_chosen.error_code()),
        (400, "unknown_field")
    );
    let anonymous = Call::event("polar-webhook", "checkout.json")
        .json(json!({ "product": "starter" }))
        .send_to_billing(&app)
        .await;
    assert_eq!(anonymous.status, 401);
}

#[tokio::test]
async fn polar_failures_map_to_clear_codes() {
    for (status, expected_status, code) in [
        (401, 502, "payment_provider_error"),
        (422, 502, "payment_provider_error"),
        (500, 503, "payment_provider_unavailable"),
        (503, 503, "payment_provider_unavailable"),
    ] {
        let polar = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v1/checkouts/"))
            .respond_with(
                ResponseTemplate::new(status).set_body_json(json!({ "detail": "failure" })),
            )
            .mount(&polar)
            .await;
        let app =
            spawn_app_with(&[("POLAR_SERVER", "custom"), ("POLAR_API_BASE", &polar.uri())]).await;
        let buyer = app.buyer("fail").await;
        let answer = Call::event("polar-webhook", "checkout.json")
            .json(json!({ "product": "pro" }))
            .cookies(&[&buyer.session])
            .send_to_billing(&app)
            .await;
        assert_eq!(
            answer.status, expected_status,
            "Polar {status}: {}",
            answer.body
        );
        assert_eq!(answer.error_code(), code);
    }
}
