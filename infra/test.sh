#!/usr/bin/env bash
# Runs every check and test: formatting, lints, the template check, unit tests and the
# system tests against a private AWS emulation (moto) that this script starts and stops;
# then the web app's checks, unit tests and browser tests (Playwright in Debian's
# Chromium) against a local stack on free ports serving the built app, and the API
# contract tests (schemathesis, infra/contract.sh).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
source "$ROOT/infra/stack.sh"
cd "$ROOT"

echo "==> cargo fmt --check"
cargo fmt --all -- --check

echo "==> template.yaml (SAM translated offline, then cfn-lint)"
./infra/check-template.sh

echo "==> cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

# A private emulation on a free port: tests never touch a developer's running stack.
port="$(free_port)"
MOTO_LOG="${MOTO_LOG:-$(mktemp)}" start_moto "127.0.0.1:$port"
trap 'kill "${STACK_PID:-}" 2>/dev/null || true; kill "$MOTO_PID" 2>/dev/null || true' EXIT
export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
echo "==> AWS emulation on $AWS_ENDPOINT_URL"

echo "==> cargo build (the local-stack test runs the real binaries)"
cargo build --workspace --bins --locked

echo "==> cargo test"
cargo test --workspace --locked -- "$@"

# The web app against the real local stack, as a person's browser reaches it.
if ! build_web; then
  echo "==> no web app: done"
  exit 0
fi

# Hook for the API contract tests (schemathesis against the running stack, bounded in time).
run_contract_tests() {
  if [ -x "$ROOT/infra/contract.sh" ]; then
    echo "==> API contract (infra/contract.sh against $BASE_URL/api)"
    "$ROOT/infra/contract.sh" "$BASE_URL/api"
  else
    echo "==> no infra/contract.sh: API contract tests skipped"
  fi
}

has_script() {
  python3 -c 'import json,sys; sys.exit(0 if sys.argv[1] in json.load(open(sys.argv[2])).get("scripts", {}) else 1)' \
    "$1" "$ROOT/web/package.json"
}

if has_script check; then
  echo "==> npm --prefix web run check"
  npm --prefix web run check
fi
if has_script test; then
  echo "==> npm --prefix web test (Vitest)"
  npm --prefix web test
fi

stack_port="$(free_port)"
export BASE_URL="http://localhost:$stack_port"
export MAIL_URL="$BASE_URL/_local/mail.json"
# Two admins: the review story and the campaign story sign in back to back, and one address
# would wait out the sign-in resend cooldown.
export ADMIN_EMAILS="${ADMIN_EMAILS:-admin@e2e.example.com,news-admin@e2e.example.com}"
export ADMIN_EMAIL="${ADMIN_EMAILS%%,*}"
export SCREENSHOT_DIR="${SCREENSHOT_DIR:-$ROOT/.local/screenshots}"
stack_log="$(mktemp)"
echo "==> local stack with the web app on $BASE_URL (log: $stack_log)"
export STACK_PREFIX="e2e$(date +%s)-"
start_stack "127.0.0.1:$stack_port" "$AWS_ENDPOINT_URL" "$ROOT/web/dist" "$stack_log"

if has_script e2e; then
  ensure_chromium
  mkdir -p "$SCREENSHOT_DIR"
  echo "==> npm --prefix web run e2e (screenshots: $SCREENSHOT_DIR)"
  npm --prefix web run e2e
  echo "==> screenshots of every page at both viewports: $SCREENSHOT_DIR"
fi

run_contract_tests
