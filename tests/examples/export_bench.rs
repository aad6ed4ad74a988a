//! Export time and peak memory for one person with many analytics events.
//!
//! ```sh
//! # against a running emulation (./infra/dev.sh, or bench.sh's private one):
//! AWS_ENDPOINT_URL=http://127.0.0.1:4566 cargo run --release -p system-tests --example export_bench -- 100000
//! ```
//!
//! Provisions the template's resources under a fresh prefix, seeds N analytics events of one
//! person straight into the AnalyticsTable (BatchWriteItem, the item shape
//! `shared::analytics` writes: nine in ten signed in with the person's email, one in ten
//! anonymous on the same device, so both the `by-email` and the `by-device` pass of the
//! export carry rows), resets the peak-RSS counter, runs the real archive worker (query
//! pages -> zip on disk -> streamed upload -> email) and prints wall time, the archive size
//! and VmHWM of the export alone, as one JSON line.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use shared::clock::{Clock, SystemClock};
use shared::email::EmailAddress;
use shared::rights::worker::{ArchiveConfig, ArchiveWorker, ExportJob};
use shared::wallets::Wallets;

fn vm_hwm_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let rows: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let template = local_stack::template::Template::load(root.join("template.yaml")).unwrap();
    let sdk = shared::aws::load_sdk_config().await;
    let prefix = format!("bench{}-", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let provisioned = local_stack::provision::provision(&template, &sdk, &prefix, &HashMap::new())
        .await
        .expect("provisioning (is AWS_ENDPOINT_URL an emulation?)");
    let function = template
        .functions()
        .into_iter()
        .find(|f| f.logical_id == "DsrArchiveFunction")
        .unwrap();
    let mut env: HashMap<String, String> = provisioned
        .env_for(&function)
        .unwrap()
        .into_iter()
        .collect();
    env.insert(
        "OTP_HASH_KEY".into(),
        "bench-only-key-0123456789abcdef0123".into(),
    );
    env.insert("APP_ORIGIN".into(), "https://anumi.app".into());
    let config = ArchiveConfig::from_env(&env).unwrap();
    let email = EmailAddress::parse("bench@example.com").unwrap();
    let dynamodb = shared::aws::dynamodb(&sdk);
    let wallets = Wallets::new(dynamodb.clone(), &config.stores.wallets_table);
    let now = SystemClock.now();
    let wallet = wallets
        .find_or_create(&email, Default::default(), now)
        .await
        .unwrap();

    let seeding = Instant::now();
    let table = config.stores.analytics_table.clone();
    let device = uuid::Uuid::new_v4().to_string();
    for chunk_start in (0..rows).step_by(25) {
        let requests: Vec<WriteRequest> = (chunk_start..(chunk_start + 25).min(rows))
            .map(|i| {
                let at = now - i as i64;
                let context = [("page".to_owned(), AttributeValue::S("/pricing".into()))]
                    .into_iter()
                    .collect();
                let mut item: HashMap<String, AttributeValue> = [
                    (
                        "event_id",
                        AttributeValue::S(uuid::Uuid::new_v4().to_string()),
                    ),
                    ("name", AttributeValue::S("pricing_viewed".into())),
                    ("context", AttributeValue::M(context)),
                    ("device_id", AttributeValue::S(device.clone())),
                    ("occurred_at", AttributeValue::N(at.to_string())),
                    (
                        "ttl",
                        AttributeValue::N((at + shared::analytics::TTL_SECONDS).to_string()),
                    ),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect();
                if i % 10 != 0 {
                    item.insert(
                        "wallet_email".to_owned(),
                        AttributeValue::S(email.as_str().to_owned()),
                    );
                }
                let put = PutRequest::builder().set_item(Some(item)).build().unwrap();
                WriteRequest::builder().put_request(put).build()
            })
            .collect();
        let mut pending = requests;
        while !pending.is_empty() {
            let output = dynamodb
                .batch_write_item()
                .request_items(&table, pending)
                .send()
                .await
                .unwrap();
            pending = output
                .unprocessed_items
                .and_then(|mut items| items.remove(&table))
                .unwrap_or_default();
        }
    }
    let seeding = seeding.elapsed();

    let worker = ArchiveWorker::new(config.clone(), &sdk, Arc::new(SystemClock));
    let rights = shared::rights::Rights::new(config.stores.clone(), &sdk);
    let requester = rights.requester(email, Some(wallet.id.clone()), Default::default());
    let record = rights.requests.start_export(&requester, now).await.unwrap();
    let before = vm_hwm_kb();
    // Resets VmHWM to the current RSS (Linux), so the figure is the export's own peak.
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let started = Instant::now();
    worker
        .process(&ExportJob {
            email_hash: requester.email_hash.clone(),
            request_id: record.request_id.clone(),
        })
        .await
        .expect("the export succeeds");
    let elapsed = started.elapsed();
    let archive = shared::aws::s3(&sdk)
        .head_object()
        .bucket(&config.stores.exports_bucket)
        .key(shared::rights::requests::export_key(
            &requester.email_hash,
            &record.request_id,
        ))
        .send()
        .await
        .unwrap();
    println!(
        "{}",
        serde_json::json!({
            "analytics_events": rows,
            "seed_seconds": seeding.as_secs_f64(),
            "export_seconds": elapsed.as_secs_f64(),
            "archive_bytes": archive.content_length(),
            "vm_hwm_kb_before_export": before,
            "vm_hwm_kb_during_export": vm_hwm_kb(),
            "hwm_reset": reset,
        })
    );
}
