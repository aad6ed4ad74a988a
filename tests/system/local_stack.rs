//! The local stack as a person uses it: the real `otp` binary behind the Lambda Runtime API
//! emulator, the HTTP API on a local port, sign-in with the code from the emulated mailbox.

use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::process::{Child, Command};

use crate::helpers::{bin_dir, emulation_endpoint, latest_code, local_secrets, repo_root};

struct Stack {
    _child: Child,
    base: String,
}

async fn start_stack(prefix: &str, extra: &[String]) -> Stack {
    let bin_dir = bin_dir();
    let binary = bin_dir.join("local-stack");
    assert!(
        binary.exists() && bin_dir.join("otp").exists(),
        "build the binaries first (cargo build --bins); looked in {}",
        bin_dir.display()
    );
    let port = free_port();
    let mut command = Command::new(binary);
    command
        .arg("serve")
        .args([
            "--template",
            repo_root().join("template.yaml").to_str().unwrap(),
        ])
        .args(["--endpoint", &emulation_endpoint()])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--bin-dir", bin_dir.to_str().unwrap()])
        .args(["--prefix", prefix])
        .args(["--param", "AppOrigin=http://localhost:5173"])
        .args([
            "--param",
            "ModerationProvider=local",
            "--param",
            "ImageProvider=local",
        ])
        .args(extra);
    let names = [
        ("SESSION_SECRET", "SessionSecret"),
        ("IP_HASH_SALT", "IpHashSalt"),
        ("OTP_HASH_KEY", "OtpHashKey"),
        ("POLAR_ACCESS_TOKEN", "PolarAccessToken"),
        ("POLAR_WEBHOOK_SECRET", "PolarWebhookSecret"),
        ("TRIAL_LINK_SECRET", "TrialLinkSecret"),
        ("TURNSTILE_SECRET", "TurnstileSecret"),
        ("UNSUBSCRIBE_KEY", "UnsubscribeKey"),
    ];
    for (env_name, value) in local_secrets() {
        let param = names.iter().find(|(e, _)| *e == env_name).unwrap().1;
        command.args(["--param", &format!("{param}={value}")]);
    }
    let child = command
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("local-stack starts");
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..300 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Stack {
                _child: child,
                base,
            };
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("local-stack did not listen on {base} within 30 s");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_over_http_through_the_local_stack() {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let stack = start_stack(&format!("ls{}-", &id[..10]), &[]).await;
    let client = reqwest::Client::new();
    let email = format!("curl@{}.example.com", &id[10..22]);

    let session = sign_in(&client, &stack.base, &email).await;
    assert!(
        session.contains("HttpOnly"),
        "the gateway passes the cookie through: {session}"
    );
    let pair = session.split(';').next().unwrap().to_owned();

    let me = get_json(&client, &format!("{}/me", stack.base), &pair).await;
    assert_eq!(me["email"], json!(email));

    let unknown = client
        .get(format!("{}/nope", stack.base))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);

    // API Gateway sets Host itself: a hostile one neither breaks the function (lambda_http
    // panicked on `a b`) nor changes which handler answers.
    let port = stack
        .base
        .rsplit(':')
        .next()
        .unwrap()
        .parse::<u16>()
        .unwrap();
    for hostile in ["a b", "[::1", "@", "evil.test/auth/otp/start?"] {
        let reply = raw_request(
            port,
            &format!(
                "GET /me HTTP/1.1\r\nHost: {hostile}\r\nCookie: {pair}\r\nConnection: close\r\n\r\n"
            ),
        )
        .await;
        assert!(reply.starts_with("HTTP/1.1 200"), "{hostile}: {reply}");
        assert!(reply.contains(&email), "{hostile}: {reply}");
        let anonymous = raw_request(
            port,
            &format!("GET /me HTTP/1.1\r\nHost: {hostile}\r\nConnection: close\r\n\r\n"),
        )
        .await;
        assert!(
            anonymous.starts_with("HTTP/1.1 401"),
            "{hostile}: {anonymous}"
        );
    }
}

/// Sends `request` as it is and reads the whole answer.
async fn raw_request(port: u16, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).await.unwrap();
    String::from_utf8_lossy(&reply).into_owned()
}

/// A signed-in GET answered with JSON.
async fn get_json(client: &reqwest::Client, url: &str, session: &str) -> Value {
    client
        .get(url)
        .header("cookie", session)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Signs in over HTTP with the emailed code; the `Set-Cookie` value of the session.
async fn sign_in(client: &reqwest::Client, base: &str, email: &str) -> String {
    let started = client
        .post(format!("{base}/auth/otp/start"))
        .json(&json!({ "email": email }))
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), 202);
    let code = latest_code(email).await;
    let verified = client
        .post(format!("{base}/auth/otp/verify"))
        .json(&json!({ "email": email, "code": code }))
        .send()
        .await
        .unwrap();
    assert_eq!(verified.status(), 200);
    verified
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("session="))
        .expect("a session cookie")
}

/// The whole way as a person sees it: the S3 upload event reaches `moderate` through the
/// queue in AWS's shape, the job reaches `generate`, and the result and email come back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_selfie_uploaded_to_s3_comes_back_as_avatars_through_the_local_stack() {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let prefix = format!("lp{}-", &id[..10]);
    let stack = start_stack(&prefix, &[]).await;
    let client = reqwest::Client::new();
    let email = format!("pipeline@{}.example.com", &id[10..22]);
    let session = sign_in(&client, &stack.base, &email).await;
    let session = session.split(';').next().unwrap().to_owned();

    // Credits as a purchase would add them (billing is another issue).
    let sdk = crate::helpers::sdk().await;
    let wallets = shared::wallets::Wallets::new(
        shared::aws::dynamodb(&sdk),
        local_stack::naming::table_name(&prefix, "WalletsTable"),
    )
    .with_ledger(shared::billing::ledger::Ledger::new(
        shared::aws::dynamodb(&sdk),
        local_stack::naming::table_name(&prefix, "LedgerTable"),
        std::sync::Arc::new(shared::clock::SystemClock),
    ));
    let wallet = wallets
        .find_by_email(&shared::email::EmailAddress::parse(&email).unwrap())
        .await
        .unwrap()
        .unwrap();
    wallets.add_credits(&wallet.id, 2).await.unwrap();

    let selfie = std::fs::read(repo_root().join("tests/fixtures/selfie.jpg")).unwrap();
    let order: Value = client
        .post(format!("{}/uploads", stack.base))
        .header("cookie", &session)
        .json(&json!({
            "content_type": "image/jpeg",
            "content_length": selfie.len(),
            "style": "watercolor",
            "products": ["stickers"],
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let generation_id = order["generation_id"]
        .as_str()
        .expect("an order")
        .to_owned();
    let upload = &order["upload"];
    let mut put = client.put(upload["url"].as_str().unwrap());
    for (name, value) in upload["headers"].as_object().unwrap() {
        put = put.header(name.as_str(), value.as_str().unwrap());
    }
    assert!(put.body(selfie).send().await.unwrap().status().is_success());

    let mut generation = Value::Null;
    // Up to 5 minutes: the debug-build stylizer is slow when the machine is busy (CI).
    for _ in 0..600 {
        generation = get_json(
            &client,
            &format!("{}/generations/{generation_id}", stack.base),
            &session,
        )
        .await;
        if generation["status"] == "ready" || generation["status"] == "failed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(generation["status"], "ready", "{generation}");
    assert_eq!(generation["charge"], "charged");
    let bundle = client
        .get(generation["downloads"]["bundle.zip"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let zip =
        zip::ZipArchive::new(std::io::Cursor::new(bundle.to_vec())).expect("the bundle opens");
    assert!(
        zip.file_names()
            .any(|name| name.is_ok_and(|n| n == "sticker.png"))
    );
    let me = get_json(&client, &format!("{}/me", stack.base), &session).await;
    assert_eq!(me["credits"], 0, "two credits, charged once");
    let ready = crate::helpers::sent_mail(&email)
        .await
        .into_iter()
        .filter(|(subject, _)| subject.contains("ready"))
        .count();
    assert_eq!(ready, 1);
}

/// The engagement routes as a browser and a mail provider reach them: JSON bodies, the
/// query-string token, and the RFC 8058 form body through the local gateway.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engagement_routes_over_http_through_the_local_stack() {
    use secrecy::SecretString;
    use shared::email::EmailAddress;
    use shared::marketing::UnsubscribeTokens;

    let id = uuid::Uuid::new_v4().simple().to_string();
    let stack = start_stack(&format!("le{}-", &id[..10]), &[]).await;
    let client = reqwest::Client::new();

    let event = client
        .post(format!("{}/events", stack.base))
        .json(&json!({
            "name": "pricing_viewed",
            "device_id": "6f1c2a9e-3b7d-4c55-9e2a-0d4b8f1a7c33",
            "context": { "page": "/pricing", "balance": 3 },
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(event.status(), 202);
    assert_eq!(event.json::<Value>().await.unwrap()["dropped"], 1);

    let key = local_secrets()
        .into_iter()
        .find(|(name, _)| *name == "UNSUBSCRIBE_KEY")
        .unwrap()
        .1;
    let email = EmailAddress::parse(&format!("list@{}.example.com", &id[10..22])).unwrap();
    let token = UnsubscribeTokens::new(SecretString::from(key)).token(&email);
    let url = format!("{}/unsubscribe?token={token}", stack.base);
    let page = client.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(page.text().await.unwrap().contains("One-Click"));
    let one_click = client
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(one_click.status(), 200);
    assert_eq!(
        one_click.json::<Value>().await.unwrap(),
        json!({ "status": "unsubscribed" })
    );
}

/// `PolarServer=local`: checkout answers the labelled stand-in page; showing it changes
/// nothing, its Pay button (a POST) sends the polar-webhook function a correctly signed
/// `order.paid` and returns to the success URL as Polar does, and paying twice credits once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_stand_in_checkout_credits_once_through_a_signed_webhook() {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let stack = start_stack(
        &format!("lc{}-", &id[..10]),
        &["--param".into(), "PolarServer=local".into()],
    )
    .await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let email = format!("buyer@{}.example.com", &id[10..22]);
    let session = sign_in(&client, &stack.base, &email).await;
    let session = session.split(';').next().unwrap().to_owned();

    let checkout: Value = client
        .post(format!("{}/checkout", stack.base))
        .header("cookie", &session)
        .json(&json!({ "product": "starter" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(checkout["local_stand_in"], json!(true), "{checkout}");
    let checkout_id = checkout["checkout_id"].as_str().unwrap().to_owned();
    let url = checkout["checkout_url"].as_str().unwrap();
    let path = &url[url
        .find("/_local/polar/checkout")
        .expect("the stand-in page")..];
    let page_url = format!("{}{path}", stack.base);

    for _ in 0..2 {
        let page = client.get(&page_url).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(html.contains("Local stand-in of Polar's checkout — no payment is taken"));
        assert!(html.contains("starter · 10 credits"), "{html}");
        assert!(html.contains("<form method=\"post\""));
    }
    let me = get_json(&client, &format!("{}/me", stack.base), &session).await;
    assert_eq!(me["credits"], json!(0), "showing the page buys nothing");

    for _ in 0..2 {
        let paid = client.post(&page_url).send().await.unwrap();
        assert_eq!(paid.status(), 303);
        assert_eq!(
            paid.headers()["location"],
            format!("http://localhost:5173/credits?checkout_id={checkout_id}").as_str()
        );
    }
    let me = get_json(&client, &format!("{}/me", stack.base), &session).await;
    assert_eq!(me["credits"], json!(10), "two clicks on Pay credit once");
}

/// The selfie bucket answers a browser's preflight by its own CORS rule (template.yaml,
/// AppOrigin resolved), as S3 does: the app's origin may PUT, any other is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_selfie_bucket_answers_preflights_from_the_app_origin_only() {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let prefix = format!("lx{}-", &id[..10]);
    let stack = start_stack(&prefix, &[]).await;
    let client = reqwest::Client::new();
    let email = format!("cors@{}.example.com", &id[10..22]);
    let session = sign_in(&client, &stack.base, &email).await;
    let session = session.split(';').next().unwrap().to_owned();
    let sdk = crate::helpers::sdk().await;
    let wallets = shared::wallets::Wallets::new(
        shared::aws::dynamodb(&sdk),
        local_stack::naming::table_name(&prefix, "WalletsTable"),
    )
    .with_ledger(shared::billing::ledger::Ledger::new(
        shared::aws::dynamodb(&sdk),
        local_stack::naming::table_name(&prefix, "LedgerTable"),
        std::sync::Arc::new(shared::clock::SystemClock),
    ));
    let wallet = wallets
        .find_by_email(&shared::email::EmailAddress::parse(&email).unwrap())
        .await
        .unwrap()
        .unwrap();
    wallets.add_credits(&wallet.id, 1).await.unwrap();
    let order: Value = client
        .post(format!("{}/uploads", stack.base))
        .header("cookie", &session)
        .json(&json!({
            "content_type": "image/jpeg",
            "content_length": 1000,
            "style": "anime",
            "products": [],
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = order["upload"]["url"].as_str().expect("an upload URL");
    let preflight = |origin: &'static str| {
        client
            .request(reqwest::Method::OPTIONS, url)
            .header("origin", origin)
            .header("access-control-request-method", "PUT")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let allowed = preflight("http://localhost:5173").await.unwrap();
    assert!(allowed.status().is_success(), "{}", allowed.status());
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "http://localhost:5173"
    );
    let methods = allowed.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap();
    assert!(methods.contains("PUT"), "{methods}");
    let refused = preflight("http://evil.example").await.unwrap();
    assert!(
        !refused.status().is_success()
            || refused
                .headers()
                .get("access-control-allow-origin")
                .is_none(),
        "another origin must be refused: {} {:?}",
        refused.status(),
        refused.headers()
    );
}

/// `serve --web-dir`: one origin for the app and the API, as CloudFront serves them: the
/// static app with its SPA fallback and a real 404 for a missing asset, the API under
/// `/api` with the prefix stripped, the security headers on both; and the mail viewer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_and_the_api_share_one_origin_with_web_dir() {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let web = std::env::temp_dir().join(format!("web-{id}"));
    std::fs::create_dir_all(web.join("assets")).unwrap();
    std::fs::write(
        web.join("index.html"),
        "<!doctype html><title>Anumi</title>",
    )
    .unwrap();
    std::fs::write(web.join("assets/app-1a2b3c.js"), "console.log(1)").unwrap();
    let stack = start_stack(
        &format!("lw{}-", &id[..10]),
        &["--web-dir".into(), web.to_str().unwrap().into()],
    )
    .await;
    let client = reqwest::Client::new();
    let csp = |response: &reqwest::Response| {
        response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned()
    };

    let page = client
        .get(format!("{}/generations/g-1", stack.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["cache-control"], "no-cache");
    assert!(csp(&page).contains("frame-ancestors 'none'"));
    assert!(csp(&page).contains(&format!("connect-src 'self' {}", emulation_endpoint())));
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    assert!(page.text().await.unwrap().contains("<title>Anumi"));
    let asset = client
        .get(format!("{}/assets/app-1a2b3c.js", stack.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        asset.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let missing = client
        .get(format!("{}/assets/app-000000.js", stack.base))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

    let email = format!("one@{}.example.com", &id[10..22]);
    let session = sign_in(&client, &format!("{}/api", stack.base), &email).await;
    let pair = session.split(';').next().unwrap().to_owned();
    let me = client
        .get(format!("{}/api/me", stack.base))
        .header("cookie", &pair)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    assert!(csp(&me).contains("default-src 'self'"));
    assert_eq!(me.json::<Value>().await.unwrap()["email"], json!(email));
    let not_api = client
        .get(format!("{}/me", stack.base))
        .header("cookie", &pair)
        .send()
        .await
        .unwrap();
    assert_eq!(
        not_api.headers()["content-type"],
        "text/html; charset=utf-8",
        "outside /api is the app"
    );

    let mail: Value = client
        .get(format!("{}/_local/mail.json", stack.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let code_mail = mail
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["to"] == json!([email]))
        .expect("the sign-in email in the viewer's JSON");
    assert!(
        code_mail["text"]
            .as_str()
            .unwrap()
            .chars()
            .any(|c| c.is_ascii_digit())
    );
    assert!(code_mail["html"].as_str().unwrap().contains('<'));
    let viewer = client
        .get(format!("{}/_local/mail", stack.base))
        .send()
        .await
        .unwrap();
    assert_eq!(viewer.headers()["content-type"], "text/html; charset=utf-8");
    let viewer = viewer.text().await.unwrap();
    assert!(viewer.contains(&email) && viewer.contains("<iframe"));
}
