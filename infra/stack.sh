#!/usr/bin/env bash
# The local stack's start, shared by ./infra/dev.sh and ./infra/test.sh (sourced after
# bootstrap.sh, from the repository root):
#
#   build_web                  install the web app's dependencies when stale, build web/dist
#   start_stack LISTEN ENDPOINT WEB_DIR LOGFILE
#                              run `local-stack serve` for template.yaml against the emulation
#                              at ENDPOINT, listening on LISTEN (host:port), serving WEB_DIR
#                              (empty: the API at the root) and logging to LOGFILE ("-": this
#                              terminal); waits until it answers and sets STACK_PID.
#
# The app's origin is http://localhost:PORT (Chromium treats localhost as secure, so the
# Secure session cookie works), the API is that origin + /api. Secrets are made once per
# checkout in the git-ignored .local/. Providers are the labelled local stand-ins unless
# keys are given: OPENAI_API_KEY=sk-..., TURNSTILE_SECRET=0x... (and TURNSTILE_SITE_KEY).
# ADMIN_EMAILS=you@example.com makes you an admin of the review queue.

# A local-only secret, made once and kept in .local/.
local_secret() {
  local file="$ROOT/.local/$1"
  mkdir -p "$ROOT/.local"
  [ -s "$file" ] || python3 -c 'import secrets; print(secrets.token_urlsafe(48))' > "$file"
  cat "$file"
}

# The directory cargo builds into (CARGO_TARGET_DIR or the workspace's target/).
target_dir() {
  cargo metadata --format-version 1 --no-deps \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])'
}

build_web() {
  if [ ! -f "$ROOT/web/package.json" ]; then
    echo "==> no web/package.json: serving the API only"
    return 1
  fi
  # The app loads the quote rules as WebAssembly built from the Rust crate.
  if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    echo "==> rustup target add wasm32-unknown-unknown (the web build compiles the quote rules)"
    rustup target add wasm32-unknown-unknown
  fi
  if [ -f "$ROOT/web/package-lock.json" ] && \
     [ ! -f "$ROOT/web/node_modules/.package-lock.json" -o "$ROOT/web/package-lock.json" -nt "$ROOT/web/node_modules/.package-lock.json" ]; then
    echo "==> npm ci --prefix web"
    npm ci --prefix "$ROOT/web" --no-audit --no-fund --prefer-offline
  fi
  echo "==> npm run build --prefix web"
  npm run build --prefix "$ROOT/web"
}

start_stack() {
  local listen="$1" endpoint="$2" web_dir="$3" log="$4"
  local port="${listen##*:}"
  local app_origin="${APP_ORIGIN:-http://localhost:$port}"
  local base api_origin
  local args=()
  if [ -n "$web_dir" ]; then
    args+=(--web-dir "$web_dir")
    base="$app_origin"
    api_origin="$app_origin/api"
  else
    base="http://$listen"
    api_origin="http://$listen"
  fi
  if [ -n "${OPENAI_API_KEY:-}" ]; then
    args+=(--param ModerationProvider=openai --param ImageProvider=openai --param "OpenAiApiKey=$OPENAI_API_KEY")
  else
    args+=(--param ModerationProvider=local --param ImageProvider=local)
  fi
  # Turnstile: Cloudflare with a real secret; otherwise Cloudflare's documented always-pass
  # dummy secret and the local siteverify stand-in, which says so in every log line (prod
  # refuses both).
  if [ -n "${TURNSTILE_SECRET:-}" ]; then
    args+=(--param TurnstileProvider=cloudflare --param "TurnstileSecret=$TURNSTILE_SECRET")
  else
    args+=(--param TurnstileProvider=local --param "TurnstileSecret=1x0000000000000000000000000000000AA")
  fi
  if [ -n "${TURNSTILE_SITE_KEY:-}" ] && grep -q '^  TurnstileSiteKey:' "$ROOT/template.yaml"; then
    args+=(--param "TurnstileSiteKey=$TURNSTILE_SITE_KEY")
  fi
  local webhook_key
  webhook_key="whsec_$(local_secret polar-webhook-key | python3 -c 'import base64,sys; print(base64.b64encode(sys.stdin.read().strip().encode()).decode())')"
  local bin
  bin="$(target_dir)/debug"
  local command=(
    "$bin/local-stack" serve
    --template "$ROOT/template.yaml"
    --endpoint "$endpoint"
    --listen "$listen"
    --bin-dir "$bin"
    --prefix "${STACK_PREFIX:-anumi-local-}"
    --param "AppOrigin=$app_origin"
    --param "ApiOrigin=$api_origin"
    --param "SessionSecret=$(local_secret session-secret)"
    --param "IpHashSalt=$(local_secret ip-hash-salt)"
    --param "OtpHashKey=$(local_secret otp-hash-key)"
    --param "TrialLinkSecret=$(local_secret trial-link-secret)"
    --param "UnsubscribeKey=$(local_secret unsubscribe-key)"
    --param "AdminEmails=${ADMIN_EMAILS:-}"
    --param PolarServer=local
    --param "PolarAccessToken=local-no-polar-token"
    --param "PolarWebhookSecret=$webhook_key"
    --env "PolarWebhookFunction:POLAR_LOCAL_CHECKOUT_URL=$base/_local/polar/checkout"
    "${args[@]}"
  )
  if [ "$log" = "-" ]; then
    "${command[@]}" &
  else
    "${command[@]}" >"$log" 2>&1 &
  fi
  STACK_PID=$!
  # Every function starts (and is provisioned) before the gateway answers.
  for _ in $(seq 1 600); do
    if curl -fs -m 5 -o /dev/null "http://$listen/_local/"; then return 0; fi
    if ! kill -0 "$STACK_PID" 2>/dev/null; then
      echo "local-stack stopped while starting${log:+ (log: $log)}" >&2
      [ "$log" != "-" ] && tail -n 40 "$log" >&2
      return 1
    fi
    sleep 0.2
  done
  echo "local-stack did not answer on $listen within 120 s" >&2
  return 1
}

# Debian's Chromium, which Playwright drives (it cannot download its own browser here).
# With Noto CJK, so the Japanese pages' screenshots show their words, not boxes.
ensure_chromium() {
  if [ ! -x /usr/bin/chromium ] || [ ! -d /usr/share/fonts/opentype/noto ]; then
    echo "==> apt-get install -y chromium fonts-noto-cjk (Playwright drives Debian's Chromium)"
    apt-get install -y chromium fonts-noto-cjk || { apt-get update && apt-get install -y chromium fonts-noto-cjk; }
  fi
}
