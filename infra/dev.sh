#!/usr/bin/env bash
# Runs the whole service locally: the AWS emulation on 127.0.0.1:4566, every table, bucket,
# queue and SES identity of template.yaml created in it, the real function binaries behind a
# local Lambda Runtime API, and the HTTP API on 127.0.0.1:3000. Emails print to the console.
# Ctrl-C stops everything.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$ROOT"

EMULATION="${EMULATION:-127.0.0.1:4566}"
LISTEN="${LISTEN:-127.0.0.1:3000}"
APP_ORIGIN="${APP_ORIGIN:-http://localhost:5173}"

echo "==> building the functions"
cargo build --workspace --bins

mkdir -p .local
MOTO_LOG=.local/moto.log start_moto "$EMULATION"
trap 'kill "$MOTO_PID" 2>/dev/null || true; rm -f .local/endpoint' EXIT
export AWS_ENDPOINT_URL="http://$EMULATION"
# Where this stack's emulation listens, for the helper scripts (infra/grant-credits.py).
echo "$AWS_ENDPOINT_URL" > .local/endpoint

# Local-only secrets, made once per checkout and kept in the git-ignored .local/.
secret() {
  local file=".local/$1"
  [ -s "$file" ] || python3 -c 'import secrets; print(secrets.token_urlsafe(48))' > "$file"
  cat "$file"
}

# OpenAI when a key is given (OPENAI_API_KEY=sk-... ./infra/dev.sh), otherwise the local
# stand-ins, which say what they are in every record they write.
if [ -n "${OPENAI_API_KEY:-}" ]; then
  providers=(--param ModerationProvider=openai --param ImageProvider=openai --param "OpenAiApiKey=$OPENAI_API_KEY")
else
  providers=(--param ModerationProvider=local --param ImageProvider=local)
fi

# Turnstile: with a real secret (TURNSTILE_SECRET=0x... ./infra/dev.sh) Cloudflare verifies;
# otherwise Cloudflare's documented always-pass dummy secret and the local siteverify
# stand-in, which says so in every log line (prod refuses both).
if [ -n "${TURNSTILE_SECRET:-}" ]; then
  turnstile=(--param TurnstileProvider=cloudflare --param "TurnstileSecret=$TURNSTILE_SECRET")
else
  turnstile=(--param TurnstileProvider=local --param "TurnstileSecret=1x0000000000000000000000000000000AA")
fi

target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
"$target_dir/debug/local-stack" serve \
  --template template.yaml \
  --endpoint "$AWS_ENDPOINT_URL" \
  --listen "$LISTEN" \
  --bin-dir "$target_dir/debug" \
  --prefix anumi-local- \
  --param "AppOrigin=$APP_ORIGIN" \
  --param "SessionSecret=$(secret session-secret)" \
  --param "IpHashSalt=$(secret ip-hash-salt)" \
  --param "OtpHashKey=$(secret otp-hash-key)" \
  --param "TrialLinkSecret=$(secret trial-link-secret)" \
  --param "UnsubscribeKey=$(secret unsubscribe-key)" \
  --param "ApiOrigin=http://$LISTEN" \
  --param "AdminEmails=${ADMIN_EMAILS:-}" \
  --param PolarServer=local \
  --env "PolarWebhookFunction:POLAR_LOCAL_CHECKOUT_URL=http://$LISTEN/_local/polar/checkout" \
  --param "PolarAccessToken=local-no-polar-token" \
  --param "PolarWebhookSecret=whsec_$(secret polar-webhook-key | python3 -c 'import base64,sys; print(base64.b64encode(sys.stdin.read().strip().encode()).decode())')" \
  "${providers[@]}" \
  "${turnstile[@]}"
