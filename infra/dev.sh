#!/usr/bin/env bash
# Runs the whole service locally: the AWS emulation on 127.0.0.1:4566, every table, bucket,
# queue and SES identity of template.yaml created in it, the real function binaries behind a
# local Lambda Runtime API, and the web app with its API at http://localhost:3000 (the API
# under /api, as CloudFront serves it). Emails are listed at http://localhost:3000/_local/mail.
# Ctrl-C stops everything.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
source "$ROOT/infra/stack.sh"
cd "$ROOT"

EMULATION="${EMULATION:-127.0.0.1:4566}"
LISTEN="${LISTEN:-127.0.0.1:3000}"

echo "==> building the functions"
cargo build --workspace --bins

web_dir=""
if build_web; then web_dir="$ROOT/web/dist"; fi

mkdir -p .local
MOTO_LOG=.local/moto.log start_moto "$EMULATION"
trap 'kill "${STACK_PID:-}" 2>/dev/null || true; kill "$MOTO_PID" 2>/dev/null || true; rm -f .local/endpoint' EXIT
export AWS_ENDPOINT_URL="http://$EMULATION"
# Where this stack's emulation listens, for the helper scripts (infra/grant-credits.py).
echo "$AWS_ENDPOINT_URL" > .local/endpoint

start_stack "$LISTEN" "$AWS_ENDPOINT_URL" "$web_dir" -
wait "$STACK_PID"
