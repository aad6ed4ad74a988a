#!/usr/bin/env bash
# Checks a running API against its contract, openapi.yaml, with schemathesis: every
# operation gets generated valid and invalid requests, and every answer must be no 5xx, a
# status the spec lists for the operation, with the listed content type, headers and body
# schema. Bounded in time (CONTRACT_TIMEOUT seconds, default 240).
#
#   infra/contract.sh <api-base-url>
#
# <api-base-url> is the API root: http://127.0.0.1:3000 (local-stack serving the API at the
# root) or http://localhost:3000/api (with --web-dir, the app's origin).
#
# With AWS_ENDPOINT_URL (the emulation the stack runs on), it first signs in as
# CONTRACT_EMAIL (default: a fresh address per run) through the API and grants the wallet
# credits, so the signed-in routes are exercised signed in; a stack started with
# AdminEmails=$CONTRACT_EMAIL gets its admin routes exercised as an admin. Without it they
# are exercised signed out only, and the script says so.
#
# Nothing is excluded: operations that cannot succeed blind (the Polar webhook needs a
# Standard Webhooks signature, the export download and the trial page need signed links,
# the email change needs the emailed code) are still sent generated requests and must
# answer their documented 4xx, never a 5xx. Their success paths are covered by the system
# tests (tests/system), which can sign.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$ROOT"

base="${1:?usage: infra/contract.sh <api-base-url>}"
base="${base%/}"
budget="${CONTRACT_TIMEOUT:-240}"

headers=()
if [ -n "${AWS_ENDPOINT_URL:-}" ]; then
  email="${CONTRACT_EMAIL:-contract-$(date +%s)-$$@example.com}"
  session="$(python infra/contract_session.py "$base" "$email" 1000)"
  headers=(--header "Cookie: session=$session")
  echo "==> contract: signed in as $email (1000 credits)"
else
  echo "==> contract: no AWS_ENDPOINT_URL, so signed-in routes are checked signed out only (401)" >&2
fi

# The API's own answers decide: schemathesis follows no redirect (the export download's
# 303 points at S3), and retries nothing.
report="${CONTRACT_REPORT_DIR:-$(mktemp -d)}"
# Signing out ends the session on the server (so does "sign out everywhere"): run first,
# they would leave every later signed-in request a 401. So they get a pass of their own,
# after the others, with the same session; nothing is left out.
ends_session=(signOut signOutEverywhere)
schemathesis_pass() { # <name> <seconds> <filter arguments...>
  local name="$1" seconds="$2"
  shift 2
  echo "==> contract ($name): schemathesis against $base (report: $report/$name)"
  timeout --kill-after=10 "$seconds" schemathesis --no-color run openapi.yaml \
    --url "$base" \
    "${headers[@]}" \
    "$@" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
    --phases examples,coverage,fuzzing \
    --max-examples "${CONTRACT_MAX_EXAMPLES:-10}" \
    --workers "${CONTRACT_WORKERS:-2}" \
    --max-redirects 0 \
    --request-timeout 20 \
    --seed "${CONTRACT_SEED:-20261129}" \
    --report junit --report-dir "$report/$name" \
    || {
      local status=$?
      [ "$status" -eq 124 ] && echo "contract: schemathesis ($name) did not finish within ${seconds}s" >&2
      [ "$failed" -ne 0 ] || failed=$status
    }
}
failed=0
exclude=() include=()
for id in "${ends_session[@]}"; do
  exclude+=(--exclude-operation-id "$id")
  include+=(--include-operation-id "$id")
done
schemathesis_pass signed-in "$budget" "${exclude[@]}"
schemathesis_pass sign-out 120 "${include[@]}"
exit "$failed"
