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
echo "==> arm64 release zips (cargo lambda)"
cargo lambda build --release --arm64 --output-format zip -p otp -p hello-lambda
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
zip_size() { stat -c %s "$target_dir/lambda/$1/bootstrap.zip"; }

echo "==> host release builds for timing"
cargo build --release -p otp -p hello-lambda -p local-stack

port="$(free_port)"
start_moto "127.0.0.1:$port"
trap 'kill "$MOTO_PID" 2>/dev/null || true' EXIT
export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
release="$target_dir/release"

secret="bench-only-secret-0123456789abcdef0123456789"
measure() {
  "$release/local-stack" measure-cold-start --runs "$RUNS" "$@"
}
hello="$(measure --bin "$release/hello-lambda" --event events/hello-lambda/invoke.json)"
# The otp function with the template's environment and a real sign-in start as the warm
# request (limits raised so every run does the full work).
otp="$(measure --bin "$release/otp" --template template.yaml --function OtpFunction \
  --prefix bench- --endpoint "$AWS_ENDPOINT_URL" \
  --param "SessionSecret=$secret" --param "IpHashSalt=$secret" --param "OtpHashKey=$secret" \
  --env OTP_RESEND_INTERVAL_SECONDS=0 --env OTP_CODES_PER_EMAIL_PER_HOUR=1000000 \
  --env OTP_STARTS_PER_IP_PER_HOUR=1000000 \
  --event events/otp/start.json)"

python3 - "$hello" "$otp" "$(zip_size hello-lambda)" "$(zip_size otp)" "$RUNS" <<'PY'
import json, re, sys, platform, datetime
hello, otp = json.loads(sys.argv[1]), json.loads(sys.argv[2])
hello_zip, otp_zip, runs = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
def row(name, m, z, base=None):
    ratio = f"{m['median_ms'] / base['median_ms']:.2f}x" if base else "1.00x"
    return (f"| {name} | {z/1024/1024:.2f} MB | {m['median_ms']:.1f} ms | {m['p90_ms']:.1f} ms | "
            f"{ratio} | {m['peak_rss_kb']/1024:.1f} MB |")
table = "\n".join([
    f"Measured {datetime.date.today()} on {platform.machine()} ({runs} cold starts each).",
    "",
    "| function | arm64 zip | cold start p50 | p90 | vs hello | peak RSS (warm) |",
    "|---|---|---|---|---|---|",
    row("hello-world (baseline)", hello, hello_zip),
    row("otp", otp, otp_zip, hello),
])
print(table)
text = open("BENCHMARKS.md").read()
text = re.sub(r"(<!-- figures -->\n).*?(<!-- /figures -->)", lambda m: m.group(1) + table + "\n" + m.group(2), text, flags=re.S)
open("BENCHMARKS.md", "w").write(text)
PY
