//! `GET /catalog`: public, cacheable, and every value the one the API enforces.

use serde_json::{Value, json};
use shared::generation::imaging::bubble::MAX_QUOTE_CHARS;
use shared::uploads::UploadsConfig;

use shared::providers::turnstile::DUMMY_SECRET_PASSES;

use crate::helpers::{Answer, CLIENT_IP, Call, TestApp, spawn_app, spawn_app_with};
use crate::pipeline::{full_order, selfie_bytes};
use crate::trial::{siteverify, trial_app, trial_body};

async fn catalog(app: &TestApp) -> Answer {
    Call::event("upload-presign", "catalog.json")
        .send_to_uploads(app)
        .await
}

#[tokio::test]
async fn the_catalog_is_public_cacheable_and_exactly_what_the_api_enforces() {
    let app = spawn_app_with(&[
        ("POLAR_PRODUCTS", "starter=prod_a:10:500usd,pro=prod_b:50"),
        ("TURNSTILE_SITE_KEY", "1x00000000000000000000AA"),
        ("PRICE_STICKERS", "2"),
        ("MAX_UPLOAD_BYTES", "2000000"),
    ])
    .await;
    let answer = catalog(&app).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.headers["cache-control"], "public, max-age=300");
    assert_eq!(answer.headers["content-type"], "application/json");
    assert!(answer.headers.get("set-cookie").is_none());
    assert_eq!(
        answer.body,
        json!({
            "styles": ["anime", "chibi", "watercolor"],
            "costs": {"avatar": 1, "stickers": 2, "speech_bubble": 1},
            "packs": [
                {"product": "starter", "credits": 10, "price": {"amount": 500, "currency": "usd"}},
                {"product": "pro", "credits": 50, "price": null},
            ],
            "turnstile": {"site_key": "1x00000000000000000000AA"},
            "upload": {"max_bytes": 2_000_000, "content_types": ["image/jpeg", "image/png", "image/webp"]},
            "quote": {"max_chars": MAX_QUOTE_CHARS},
        })
    );

    // The same figures are what an order is held to.
    let person = app.person_with_credits("kai", 10).await;
    let order = app.order(&person, full_order()).await;
    assert_eq!(order.status, 201, "{}", order.body);
    let costs = &answer.body["costs"];
    let sum: i64 = ["avatar", "stickers", "speech_bubble"]
        .iter()
        .map(|product| costs[product].as_i64().unwrap())
        .sum();
    assert_eq!(order.body["cost"], json!(sum));
    let mut too_big = full_order();
    too_big["content_length"] = json!(answer.body["upload"]["max_bytes"].as_i64().unwrap() + 1);
    assert_eq!(
        app.order(&person, too_big).await.error_code(),
        "image_too_large"
    );
    let mut long = full_order();
    long["quote"] = json!("あ".repeat(MAX_QUOTE_CHARS + 1));
    assert_eq!(
        app.order(&person, long).await.error_code(),
        "quote_too_long"
    );
    let mut gif = full_order();
    gif["content_type"] = json!("image/gif");
    assert_eq!(
        app.order(&person, gif).await.error_code(),
        "unsupported_image_type"
    );
    // And the packs are the ones checkout sells (polar-webhook reads the same setting).
    let billing =
        shared::billing::BillingConfig::from_env(&app.function_env["PolarWebhookFunction"])
            .unwrap();
    let sold: Vec<Value> = billing
        .products
        .iter()
        .map(|pack| json!({"product": pack.name, "credits": pack.credits}))
        .collect();
    let listed: Vec<Value> = answer.body["packs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pack| json!({"product": pack["product"], "credits": pack["credits"]}))
        .collect();
    assert_eq!(sold, listed);
}

#[tokio::test]
async fn without_a_site_key_the_catalog_says_null_and_the_template_gives_both_functions_the_packs()
{
    let app = spawn_app().await;
    let answer = catalog(&app).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["turnstile"], json!({"site_key": null}));
    let uploads = &app.function_env["UploadPresignFunction"];
    assert_eq!(
        uploads["POLAR_PRODUCTS"], app.function_env["PolarWebhookFunction"]["POLAR_PRODUCTS"],
        "one PolarProducts parameter for the catalog and checkout"
    );
    assert!(UploadsConfig::from_env(uploads).is_ok());
    // Only GET.
    let post = Call::event("upload-presign", "catalog.json")
        .route("POST", "/catalog")
        .send_to_uploads(&app)
        .await;
    assert_eq!(post.status, 405);
}

#[tokio::test]
async fn upload_instructions_list_only_the_headers_a_browser_script_sets() {
    let server = siteverify().await;
    let app = trial_app(DUMMY_SECRET_PASSES, &server).await;
    let person = app.person_with_credits("lena", 3).await;
    let paid = app.order(&person, full_order()).await;
    // The trial's upload is presigned the same way.
    let trial = app
        .start_trial(
            trial_body("5b0c6a39-2f4e-4f0e-9a4c-1a5b7e1d2c3f", None),
            CLIENT_IP,
        )
        .await;
    for order in [&paid, &trial] {
        assert_eq!(order.status, 201, "{}", order.body);
        let upload = &order.body["upload"];
        // Not content-length (the browser sets it from the body and forbids scripts to),
        // not the SDK's x-amzn-trace-id: only what the client must set.
        assert_eq!(upload["headers"], json!({ "content-type": "image/jpeg" }));
        let url = upload["url"].as_str().unwrap();
        assert!(
            url.contains("X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost"),
            "the signature still binds the length: {url}"
        );
    }
    // Those headers and the body are all S3 needs (what a browser's PUT sends).
    let mut request = reqwest::Client::new().put(paid.body["upload"]["url"].as_str().unwrap());
    for (name, value) in paid.body["upload"]["headers"].as_object().unwrap() {
        request = request.header(name.as_str(), value.as_str().unwrap());
    }
    let response = request.body(selfie_bytes()).send().await.unwrap();
    assert!(response.status().is_success(), "{}", response.status());
}
