#!/usr/bin/env bash
# Benchmarks each function beside a hello-world lambda_runtime binary, in one run:
#   zip size    cargo lambda build --release --arm64 --output-format zip (what is deployed)
#   cold start  exec -> first Runtime API poll with config and SDK clients built
#               (median of N runs, host release build behind the local Runtime API)
#   peak RSS    VmHWM after one cold and one warm invocation of a real request
# Writes the figures to BENCHMARKS.md (between the markers) and prints them.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$ROOT"
RUNS="${RUNS:-20}"

rustup target add aarch64-unknown-linux-gnu >/dev/null
# binary, template function, warm-invocation event
FUNCTIONS=(
  "otp OtpFunction events/otp/start.json"
  "upload-presign UploadPresignFunction events/upload-presign/list-generations.json"
  "moderate ModerateFunction events/moderate/s3-test-event.json"
  "generate GenerateFunction events/generate/job.json"
  "admin AdminFunction events/admin/review-queue.json"
  "retention-cron RetentionCronFunction events/retention-cron/scheduled.json"
  "engagement EngagementFunction events/engagement/event.json"
  "polar-webhook PolarWebhookFunction events/polar-webhook/unknown-event.json"
  "dsr-export DsrExportFunction events/dsr-export/download.json"
  "dsr-archive DsrArchiveFunction events/dsr-archive/job.json"
  "campaign-send CampaignSendFunction events/campaign-send/job.json"
)
packages=(-p hello-lambda)
for entry in "${FUNCTIONS[@]}"; do read -r bin _ _ <<<"$entry"; packages+=(-p "$bin"); done

echo "==> arm64 release zips (cargo lambda)"
cargo lambda build --release --arm64 --output-format zip "${packages[@]}"
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
zip_size() { stat -c %s "$target_dir/lambda/$1/bootstrap.zip"; }

echo "==> host release builds for timing"
cargo build --release "${packages[@]}" -p local-stack

port="$(free_port)"
start_moto "127.0.0.1:$port"
trap 'kill "$MOTO_PID" 2>/dev/null || true' EXIT
export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
release="$target_dir/release"

secret="bench-only-secret-0123456789abcdef0123456789"
# Standard Webhooks form (whsec_ + base64 key), as Polar issues endpoint secrets.
webhook_secret="whsec_$(printf %s "$secret" | base64 -w0)"
measure() {
  "$release/local-stack" measure-cold-start --runs "$RUNS" "$@"
}
results="$(mktemp)"
echo "hello-lambda $(zip_size hello-lambda) $(measure --bin "$release/hello-lambda" --event events/hello-lambda/invoke.json)" >> "$results"
# Each function with the template's environment, local providers, and a real request as
# the warm invocation (limits raised so every otp run does the full work).
for entry in "${FUNCTIONS[@]}"; do
  read -r bin function event <<<"$entry"
  echo "$bin $(zip_size "$bin") $(measure --bin "$release/$bin" --template template.yaml --function "$function" \
    --prefix bench- --endpoint "$AWS_ENDPOINT_URL" \
    --param "SessionSecret=$secret" --param "IpHashSalt=$secret" --param "OtpHashKey=$secret" \
    --param "UnsubscribeKey=$secret" --param "TrialLinkSecret=$secret" \
    --param "PolarAccessToken=$secret" --param "PolarWebhookSecret=$webhook_secret" --param PolarServer=local \
    --param TurnstileProvider=local --param "TurnstileSecret=1x0000000000000000000000000000000AA" \
    --param ModerationProvider=local --param ImageProvider=local \
    --env OTP_RESEND_INTERVAL_SECONDS=0 --env OTP_CODES_PER_EMAIL_PER_HOUR=1000000 \
    --env OTP_STARTS_PER_IP_PER_HOUR=1000000 \
    --event "$event")" >> "$results"
done

python3 - "$results" "$RUNS" <<'PY'
import json, re, sys, platform, datetime
rows = []
for line in open(sys.argv[1]):
    name, size, report = line.split(" ", 2)
    rows.append((name, int(size), json.loads(report)))
runs = sys.argv[2]
base = rows[0][2]
def row(name, z, m):
    ratio = m["median_ms"] / base["median_ms"]
    label = "hello-world (baseline)" if name == "hello-lambda" else name
    return (f"| {label} | {z/1024/1024:.2f} MB | {m['median_ms']:.1f} ms | {m['p90_ms']:.1f} ms | "
            f"{ratio:.2f}x | {m['peak_rss_kb']/1024:.1f} MB |")
table = "\n".join([
    f"Measured {datetime.date.today()} on {platform.machine()} ({runs} cold starts each).",
    "",
    "| function | arm64 zip | cold start p50 | p90 | vs hello | peak RSS (warm) |",
    "|---|---|---|---|---|---|",
    *[row(*r) for r in rows],
])
print(table)
text = open("BENCHMARKS.md").read()
text = re.sub(r"(<!-- figures -->\n).*?(<!-- /figures -->)", lambda m: m.group(1) + table + "\n" + m.group(2), text, flags=re.S)
open("BENCHMARKS.md", "w").write(text)
PY

# Export of one person with EXPORT_BENCH_ROWS analytics events (default 100,000): wall time
# and the export's own peak RSS (docs in tests/examples/export_bench.rs). Against moto, the
# time is the emulator's (its paged index queries cost O(n) each); the memory figure is ours.
echo "==> export of one person with ${EXPORT_BENCH_ROWS:-100000} analytics events"
cargo build --release -p system-tests --example export_bench
"$release/examples/export_bench" "${EXPORT_BENCH_ROWS:-100000}"
