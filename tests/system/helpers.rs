//! `spawn_app`: a fresh, isolated copy of the service's storage in the local AWS emulation
//! for each test, created from template.yaml, with the real handlers built over it.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::AttributeValue;
use http::HeaderMap;
use lambda_http::{Body, Response};
use serde_json::{Value, json};
use shared::auth::{OtpApi, OtpConfig};
use shared::billing::{BillingApi, BillingConfig};
use shared::clock::{Clock, ManualClock};
use shared::delivery::{DeliveryConfig, GenerationWorker};
use shared::engagement::{EngagementApi, EngagementConfig};
use shared::moderation::review::{ReviewApi, ReviewConfig};
use shared::moderation::{ModerationConfig, ModerationWorker};
use shared::retention::{RetentionConfig, RetentionJob};
use shared::rights::api::{RightsApi, RightsConfig};
use shared::rights::worker::{ArchiveConfig, ArchiveWorker};
use shared::uploads::{UploadsApi, UploadsConfig};

pub const CLIENT_IP: &str = "203.0.113.7";

/// The local webhook endpoint secret (Standard Webhooks form: whsec_ + base64 of the key).
pub const POLAR_WEBHOOK_SECRET: &str = "whsec_bG9jYWwtcG9sYXItd2ViaG9vay1rZXktMDEyMzQ1Njc4OQ==";

/// Local development secrets: long enough for the checks, obviously not production ones.
pub fn local_secrets() -> [(&'static str, String); 8] {
    [
        (
            "SESSION_SECRET",
            "local-session-secret-0123456789abcdef".to_owned(),
        ),
        (
            "IP_HASH_SALT",
            "local-ip-hash-salt-0123456789abcdef".to_owned(),
        ),
        (
            "OTP_HASH_KEY",
            "local-otp-hash-key-0123456789abcdef".to_owned(),
        ),
        (
            "POLAR_ACCESS_TOKEN",
            "polar_oat_local_test_token".to_owned(),
        ),
        // whsec_ + base64("local-polar-webhook-key-0123456789"): the newer key format.
        ("POLAR_WEBHOOK_SECRET", POLAR_WEBHOOK_SECRET.to_owned()),
        (
            "TRIAL_LINK_SECRET",
            "local-trial-link-secret-0123456789abcdef".to_owned(),
        ),
        // Cloudflare's documented always-pass dummy secret; trial tests pick others.
        (
            "TURNSTILE_SECRET",
            shared::providers::turnstile::DUMMY_SECRET_PASSES.to_owned(),
        ),
        (
            "UNSUBSCRIBE_KEY",
            "local-unsubscribe-key-0123456789abcdef".to_owned(),
        ),
    ]
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Where the built binaries are: `ANUMI_BIN_DIR`, else the cargo target directory's debug/.
pub fn bin_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("ANUMI_BIN_DIR") {
        return PathBuf::from(dir);
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map_or_else(|_| repo_root().join("target"), PathBuf::from);
    target.join("debug")
}

pub fn emulation_endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL").expect(
        "AWS_ENDPOINT_URL is not set: run the tests with ./infra/test.sh, which starts the AWS emulation",
    )
}

/// The SDK configuration, loaded the way the functions load it (honouring AWS_ENDPOINT_URL).
/// One per test: each test has its own runtime, and pooled connections must not outlive it.
pub async fn sdk() -> SdkConfig {
    shared::aws::load_sdk_config().await
}

pub fn template() -> &'static local_stack::template::Template {
    static TEMPLATE: OnceLock<local_stack::template::Template> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        local_stack::template::Template::load(repo_root().join("template.yaml"))
            .expect("template.yaml parses")
    })
}

pub struct TestApp {
    pub api: OtpApi,
    pub uploads: UploadsApi,
    pub moderation: ModerationWorker,
    pub delivery: GenerationWorker,
    pub review: ReviewApi,
    pub retention: RetentionJob,
    pub engagement: EngagementApi,
    /// The engagement function's environment, to build its parts (marketing mailer) in tests.
    pub engagement_env: HashMap<String, String>,
    /// Every function's environment as the template gives it, by logical id.
    pub function_env: BTreeMap<String, HashMap<String, String>>,
    pub billing: BillingApi,
    pub rights: RightsApi,
    pub archive: ArchiveWorker,
    pub clock: ManualClock,
    pub sdk: SdkConfig,
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// Physical names of this test's tables, buckets and queues, by the template's logical ids.
    pub tables: BTreeMap<String, String>,
    pub resources: BTreeMap<String, String>,
    /// A random mail domain: every address this test uses is unique to it.
    pub domain: String,
}

/// Provisions this test's resources from template.yaml under a fresh prefix and builds
/// every handler from the environment the template gives its function, with the local
/// providers (no OpenAI keys in tests) and this test's admin.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

pub async fn spawn_app_with(overrides: &[(&str, &str)]) -> TestApp {
    let sdk = sdk().await;
    let id = uuid::Uuid::new_v4().simple().to_string();
    let prefix = format!("t{}-", &id[..12]);
    let domain = format!("{}.example.com", &id[12..24]);
    let template = template();
    let params: HashMap<String, String> = [
        ("ModerationProvider", "local".to_owned()),
        ("ImageProvider", "local".to_owned()),
        ("AdminEmails", format!("admin@{domain}")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let provisioned = local_stack::provision::provision(template, &sdk, &prefix, &params)
        .await
        .expect("provisioning the test's resources from template.yaml");
    let mut env = BTreeMap::new();
    for function in template.functions() {
        let mut vars: HashMap<String, String> = provisioned
            .env_for(&function)
            .expect("the template resolves the function's environment")
            .into_iter()
            .collect();
        for (name, value) in local_secrets() {
            if vars.contains_key(name) {
                vars.insert(name.to_owned(), value);
            }
        }
        for (name, value) in overrides {
            vars.insert((*name).to_owned(), (*value).to_owned());
        }
        env.insert(function.logical_id.clone(), vars);
    }
    let clock = ManualClock::starting_now();
    let shared_clock: Arc<dyn Clock> = Arc::new(clock.clone());
    let resources: BTreeMap<String, String> = provisioned
        .resources()
        .keys()
        .filter_map(|id| Some((id.clone(), provisioned.physical_name(id)?.to_owned())))
        .collect();
    let tables = template
        .tables()
        .iter()
        .filter_map(|table| {
            Some((
                table.logical_id.clone(),
                resources.get(&table.logical_id)?.clone(),
            ))
        })
        .collect();
    let of = |function: &str| {
        env.get(function)
            .unwrap_or_else(|| panic!("template.yaml defines {function}"))
    };
    TestApp {
        api: OtpApi::new(
            OtpConfig::from_env(of("OtpFunction")).expect("otp configuration"),
            &sdk,
            shared_clock.clone(),
        ),
        uploads: UploadsApi::new(
            UploadsConfig::from_env(of("UploadPresignFunction"))
                .expect("upload-presign configuration"),
            &sdk,
            shared_clock.clone(),
        )
        .expect("upload-presign clients"),
        moderation: ModerationWorker::new(
            ModerationConfig::from_env(of("ModerateFunction")).expect("moderate configuration"),
            shared::moderation::moderator_from_env(of("ModerateFunction"))
                .expect("moderation provider"),
            &sdk,
            shared_clock.clone(),
        ),
        delivery: GenerationWorker::new(
            DeliveryConfig::from_env(of("GenerateFunction")).expect("generate configuration"),
            shared::delivery::avatar_maker_from_env(of("GenerateFunction"))
                .expect("image provider"),
            &sdk,
            shared_clock.clone(),
        ),
        review: ReviewApi::new(
            ReviewConfig::from_env(of("AdminFunction")).expect("admin configuration"),
            &sdk,
            shared_clock.clone(),
        ),
        rights: RightsApi::new(
            RightsConfig::from_env(of("DsrExportFunction")).expect("dsr-export configuration"),
            &sdk,
            shared_clock.clone(),
        ),
        archive: ArchiveWorker::new(
            ArchiveConfig::from_env(of("DsrArchiveFunction")).expect("dsr-archive configuration"),
            &sdk,
            shared_clock.clone(),
        ),
        retention: RetentionJob::new(
            RetentionConfig::from_env(of("RetentionCronFunction"))
                .expect("retention configuration"),
            &sdk,
            shared_clock.clone(),
        ),
        engagement: EngagementApi::new(
            EngagementConfig::from_env(of("EngagementFunction")).expect("engagement configuration"),
            &sdk,
            shared_clock.clone(),
        ),
        billing: BillingApi::new(
            BillingConfig::from_env(of("PolarWebhookFunction"))
                .expect("polar-webhook configuration"),
            &sdk,
            shared_clock,
        ),
        engagement_env: of("EngagementFunction").clone(),
        function_env: env.clone(),
        clock,
        dynamodb: shared::aws::dynamodb(&sdk),
        sdk,
        tables,
        resources,
        domain,
    }
}

/// One HTTP answer, read into parts the tests look at.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn from(response: Response<Body>) -> Self {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = match response.body() {
            Body::Text(text) => serde_json::from_str(text).expect("responses are JSON"),
            Body::Binary(bytes) => serde_json::from_slice(bytes).expect("responses are JSON"),
            _ => Value::Null,
        };
        Self {
            status,
            headers,
            body,
        }
    }

    pub fn error_code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }

    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .map(|value| value.to_str().unwrap().to_owned())
            .collect()
    }

    /// The `name=value` pair of a cookie set by this answer, ready for a `Cookie` header.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.set_cookies()
            .into_iter()
            .find(|cookie| cookie.starts_with(&format!("{name}=")))
            .map(|cookie| cookie.split(';').next().unwrap().to_owned())
    }
}

/// A request built from a fixture in events/otp, as API Gateway sends it.
pub struct Call {
    event: Value,
}

impl Call {
    pub fn fixture(name: &str) -> Self {
        Self::event("otp", name)
    }

    /// A fixture from `events/<function>/`.
    pub fn event(function: &str, name: &str) -> Self {
        let path = repo_root().join("events").join(function).join(name);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        Self {
            event: serde_json::from_str(&text).expect("fixtures are JSON"),
        }
    }

    pub fn body(mut self, body: &str) -> Self {
        self.event["body"] = json!(body);
        self.event["headers"]["content-length"] = json!(body.len().to_string());
        self
    }

    pub fn json(self, body: Value) -> Self {
        self.body(&body.to_string())
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.event["headers"][name] = json!(value);
        self
    }

    pub fn without_header(mut self, name: &str) -> Self {
        if let Some(headers) = self.event["headers"].as_object_mut() {
            headers.remove(name);
        }
        self
    }

    pub fn cookies(mut self, cookies: &[&str]) -> Self {
        self.event["cookies"] = json!(cookies);
        self
    }

    /// Sets the query string (`a=1&b=2`) as API Gateway passes it.
    pub fn raw_query(mut self, query: &str) -> Self {
        self.event["rawQueryString"] = json!(query);
        let params: serde_json::Map<String, Value> = query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (k.to_owned(), json!(v)))
            .collect();
        self.event["queryStringParameters"] = Value::Object(params);
        self
    }

    pub fn source_ip(mut self, ip: &str) -> Self {
        self.event["requestContext"]["http"]["sourceIp"] = json!(ip);
        self
    }

    pub fn route(mut self, method: &str, path: &str) -> Self {
        self.event["rawPath"] = json!(path);
        self.event["requestContext"]["http"]["method"] = json!(method);
        self.event["requestContext"]["http"]["path"] = json!(path);
        let route_key = format!("{method} {path}");
        self.event["routeKey"] = json!(route_key);
        self.event["requestContext"]["routeKey"] = json!(route_key);
        self
    }

    /// The fixture's body as text.
    pub fn event_body(&self) -> String {
        self.event["body"].as_str().unwrap_or_default().to_owned()
    }

    pub fn request(&self) -> lambda_http::Request {
        lambda_http::request::from_str(&self.event.to_string())
            .expect("the event deserializes as lambda_http does in Lambda")
    }

    /// Sends the request to the otp function.
    pub async fn send(self, app: &TestApp) -> Answer {
        Answer::from(app.api.handle(self.request()).await)
    }

    pub async fn send_to_uploads(self, app: &TestApp) -> Answer {
        Answer::from(app.uploads.handle(self.request()).await)
    }

    pub async fn send_to_rights(self, app: &TestApp) -> Answer {
        Answer::from(app.rights.handle(self.request()).await)
    }

    pub async fn send_to_admin(self, app: &TestApp) -> Answer {
        Answer::from(app.review.handle(self.request()).await)
    }

    pub async fn send_to_engagement(self, app: &TestApp) -> Answer {
        Answer::from(app.engagement.handle(self.request()).await)
    }

    /// Sends to the engagement function and returns an HTML answer as (status, headers, text).
    pub async fn page_from_engagement(self, app: &TestApp) -> (u16, HeaderMap, String) {
        let response = app.engagement.handle(self.request()).await;
        let text = match response.body() {
            Body::Text(text) => text.clone(),
            other => panic!("expected a text body, got {other:?}"),
        };
        (response.status().as_u16(), response.headers().clone(), text)
    }

    /// Replaces the query string (`rawQueryString` and `queryStringParameters`).
    pub fn query(mut self, pairs: &[(&str, &str)]) -> Self {
        let raw: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        self.event["rawQueryString"] = json!(raw.join("&"));
        let map: serde_json::Map<String, Value> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), json!(v)))
            .collect();
        self.event["queryStringParameters"] = Value::Object(map);
        self
    }

    pub async fn send_to_billing(self, app: &TestApp) -> Answer {
        Answer::from(app.billing.handle(self.request()).await)
    }
}

impl TestApp {
    pub fn email(&self, name: &str) -> String {
        format!("{name}@{}", self.domain)
    }

    pub async fn start(&self, email: &str) -> Answer {
        Call::fixture("start.json")
            .json(json!({ "email": email }))
            .send(self)
            .await
    }

    pub async fn verify(&self, email: &str, code: &str) -> Answer {
        Call::fixture("verify.json")
            .json(json!({ "email": email, "code": code }))
            .send(self)
            .await
    }

    pub async fn me(&self, session_cookie: &str) -> Answer {
        Call::fixture("me.json")
            .cookies(&[session_cookie])
            .send(self)
            .await
    }

    /// Signs in with the code from the email and returns the `session=…` cookie.
    pub async fn sign_in(&self, email: &str) -> String {
        assert_eq!(self.start(email).await.status, 202);
        // Mail goes to the normalized address, however the email was typed.
        let code = latest_code(&email.trim().to_lowercase()).await;
        let answer = self.verify(email, &code).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer.cookie("session").expect("a session cookie")
    }

    pub fn table(&self, logical_id: &str) -> &str {
        &self.tables[logical_id]
    }

    /// The wallets of this test, with the credit ledger every balance change is recorded in.
    pub fn wallets(&self) -> shared::wallets::Wallets {
        shared::wallets::Wallets::new(self.dynamodb.clone(), self.table("WalletsTable"))
            .with_ledger(self.ledger())
    }

    pub fn ledger(&self) -> shared::billing::ledger::Ledger {
        shared::billing::ledger::Ledger::new(
            self.dynamodb.clone(),
            self.table("LedgerTable"),
            Arc::new(self.clock.clone()),
        )
    }

    pub async fn scan(&self, logical_id: &str) -> Vec<HashMap<String, AttributeValue>> {
        self.dynamodb
            .scan()
            .table_name(self.table(logical_id))
            .consistent_read(true)
            .send()
            .await
            .expect("scan")
            .items
            .unwrap_or_default()
    }

    /// Every item of every table of this test, as text, for "never stored" checks.
    pub async fn everything_stored(&self) -> String {
        let mut all = String::new();
        for logical_id in self.tables.keys() {
            for item in self.scan(logical_id).await {
                all.push_str(&format!("{item:?}\n"));
            }
        }
        all
    }
}

/// The messages the emulation's SES accepted for `to`, oldest first (subject, body).
pub async fn sent_mail(to: &str) -> Vec<(String, String)> {
    let data = emulation_state().await;
    data["ses"]["Message"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|message| {
            message["destinations"]["ToAddresses"]
                .as_array()
                .is_some_and(|to_addresses| to_addresses.iter().any(|a| a == to))
        })
        .map(|m| {
            (
                m["subject"].as_str().unwrap_or_default().to_owned(),
                m["body"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// The raw MIME messages the emulation's SES accepted for `to`, oldest first.
pub async fn sent_raw_mail(to: &str) -> Vec<String> {
    let data = emulation_state().await;
    data["ses"]["RawMessage"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|message| {
            message["destinations"]
                .as_array()
                .is_some_and(|destinations| destinations.iter().any(|a| a == to))
        })
        .map(|m| m["raw_data"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The emulation's SES state (its sent messages). `infra/moto_server.py` dumps one service
/// from copies of moto's live lists; a connection refused under load is asked again.
pub async fn emulation_state() -> Value {
    let url = format!(
        "{}{}",
        emulation_endpoint(),
        local_stack::mailbox::DATA_PATH
    );
    let mut last_error = String::new();
    for _ in 0..20 {
        match reqwest::get(&url).await {
            Ok(response) if response.status().is_success() => match response.json().await {
                Ok(data) => return data,
                Err(error) => last_error = error.to_string(),
            },
            Ok(response) => last_error = format!("status {}", response.status()),
            Err(error) => last_error = error.to_string(),
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the emulation's state could not be read: {last_error}");
}

/// The code in the latest sign-in email to `to`.
pub async fn latest_code(to: &str) -> String {
    let mail = sent_mail(to).await;
    let (_, body) = mail
        .last()
        .unwrap_or_else(|| panic!("no mail was sent to the test address"));
    extract_code(body).expect("the email holds a six-digit code")
}

pub fn extract_code(body: &str) -> Option<String> {
    let bytes = body.as_bytes();
    (0..bytes.len().saturating_sub(5)).find_map(|i| {
        let window = &bytes[i..i + 6];
        let bounded = (i == 0 || !bytes[i - 1].is_ascii_digit())
            && bytes.get(i + 6).is_none_or(|b| !b.is_ascii_digit());
        (bounded && window.iter().all(u8::is_ascii_digit))
            .then(|| String::from_utf8(window.to_vec()).unwrap())
    })
}

/// A code that is certainly not `code`.
pub fn wrong_code(code: &str) -> String {
    let first = (code.as_bytes()[0] - b'0' + 1) % 10;
    format!("{first}{}", &code[1..])
}

/// A buffer that a tracing subscriber writes into, to check what was logged.
#[derive(Clone, Default)]
pub struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl LogBuffer {
    pub fn contents(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl Write for LogBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub fn now(app: &TestApp) -> i64 {
    app.clock.now()
}
