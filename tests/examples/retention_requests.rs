//! The figure "retention-cron requests per 1,000 deletions" (BENCHMARKS.md): provisions the
//! template's tables and buckets in the running AWS emulation under a fresh prefix, stores
//! 1,000 selfies through the real transitions (ordered, arrived), moves the clock 31 days and
//! counts every HTTP request one retention run sends, by operation, with an SDK interceptor
//! (retries would count too). Not a test: a measurement to read.
//!
//! `AWS_ENDPOINT_URL=http://127.0.0.1:4566 cargo run --release -p system-tests --example
//! retention_requests` with the emulation running (`./infra/dev.sh`, or `./infra/bench.sh`).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use aws_sdk_s3::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_s3::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_s3::error::BoxError;
use shared::billing::ledger::Ledger;
use shared::clock::{Clock, ManualClock};
use shared::generation::style::Style;
use shared::generations::{Charge, Generation, Generations, Status};
use shared::retention::{RetentionConfig, RetentionJob};
use shared::wallets::Wallets;

const SELFIES: usize = 1000;

/// Counts requests by operation: DynamoDB's `X-Amz-Target`, S3's method and query.
#[derive(Debug, Clone, Default)]
struct Counter(Arc<Mutex<BTreeMap<String, usize>>>);

impl Intercept for Counter {
    fn name(&self) -> &'static str {
        "RequestCounter"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request();
        let operation = match request.headers().get("x-amz-target") {
            Some(target) => target.rsplit('.').next().unwrap_or(target).to_owned(),
            None => {
                let query = request.uri().split_once('?').map_or("", |(_, q)| q);
                format!(
                    "S3 {} ?{}",
                    request.method(),
                    query.split('&').next().unwrap_or("")
                )
            }
        };
        *self.0.lock().unwrap().entry(operation).or_default() += 1;
        Ok(())
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let sdk = shared::aws::load_sdk_config().await;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let template = local_stack::template::Template::load(root.join("template.yaml"))
        .expect("template.yaml parses");
    let prefix = format!("fig{}-", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let provisioned = local_stack::provision::provision(&template, &sdk, &prefix, &HashMap::new())
        .await
        .expect("the emulation is running (AWS_ENDPOINT_URL) and takes the template");
    // The function's configuration as the template gives it (the secrets are never used here).
    let function = template
        .functions()
        .into_iter()
        .find(|function| function.logical_id == "RetentionCronFunction")
        .expect("template.yaml defines RetentionCronFunction");
    let mut env: HashMap<String, String> = provisioned
        .env_for(&function)
        .expect("the template resolves the function's environment")
        .into_iter()
        .collect();
    env.insert(
        "OTP_HASH_KEY".into(),
        "figure-only-key-0123456789abcdef0123".into(),
    );
    let config = RetentionConfig::from_env(&env).expect("retention configuration");

    // 1,000 selfies that arrived, through the code paths the service uses.
    let clock = ManualClock::starting_now();
    let dynamodb = shared::aws::dynamodb(&sdk);
    let s3 = shared::aws::s3(&sdk);
    let ledger = Ledger::new(
        dynamodb.clone(),
        &config.ledger_table,
        Arc::new(clock.clone()),
    );
    let wallets = Wallets::new(dynamodb.clone(), &config.wallets_table).with_ledger(ledger);
    let generations =
        Generations::new(dynamodb.clone(), &config.generations_table, wallets.clone());
    let email = shared::email::EmailAddress::parse("figure@example.com").unwrap();
    let wallet = wallets
        .find_or_create(&email, shared::locale::Locale::En, clock.now())
        .await
        .expect("a wallet");
    wallets
        .add_credits(&wallet.id, SELFIES as i64)
        .await
        .unwrap();
    for i in 0..SELFIES {
        let id = format!("g{i:04}");
        let key = format!("selfies/{}/{id}", wallet.id);
        let generation = Generation {
            id: id.clone(),
            wallet_id: wallet.id.clone(),
            created_at: clock.now(),
            status: Status::AwaitingUpload,
            style: Style::Anime,
            products: vec![],
            quote: None,
            cost: 1,
            charge: Charge::Reserved,
            selfie_key: key.clone(),
            content_type: "image/jpeg".into(),
            content_length: 3,
            blocked_at: None,
            selfie_uploaded_at: None,
            selfie_deleted_at: None,
            deliverables: BTreeMap::new(),
            failure: None,
            review_outcome: None,
        };
        generations.create_reserved(&generation).await.unwrap();
        s3.put_object()
            .bucket(&config.selfie_bucket)
            .key(&key)
            .body(b"jpg".to_vec().into())
            .send()
            .await
            .unwrap();
        generations.mark_queued(&id, clock.now()).await.unwrap();
    }

    clock.advance(31 * 24 * 3600);
    let counter = Counter::default();
    let counted_dynamodb = aws_sdk_dynamodb::Client::from_conf(
        dynamodb
            .config()
            .to_builder()
            .interceptor(counter.clone())
            .build(),
    );
    let counted_s3 = aws_sdk_s3::Client::from_conf(
        s3.config()
            .to_builder()
            .interceptor(counter.clone())
            .build(),
    );
    let job = RetentionJob::from_clients(config, counted_dynamodb, counted_s3, Arc::new(clock));
    let report = job.run().await.expect("the run succeeds");
    let deleted = report.count("SelfiesDeleted");
    assert_eq!(deleted as usize, SELFIES, "every selfie was due");

    let counts = counter.0.lock().unwrap().clone();
    let total: usize = counts.values().sum();
    println!("selfies deleted: {deleted}");
    for (operation, count) in &counts {
        println!("  {operation}: {count}");
    }
    println!(
        "requests: {total} ({:.1} per 1,000 deletions)",
        total as f64 * 1000.0 / deleted as f64
    );
}
