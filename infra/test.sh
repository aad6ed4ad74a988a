#!/usr/bin/env bash
# Runs every check and test: formatting, lints, the template check, unit tests and the
# system tests against a private AWS emulation (moto) that this script starts and stops.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
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
trap 'kill "$MOTO_PID" 2>/dev/null || true' EXIT
export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
echo "==> AWS emulation on $AWS_ENDPOINT_URL"

echo "==> cargo build (the local-stack test runs the real binaries)"
cargo build --workspace --bins --locked

echo "==> cargo test"
cargo test --workspace --locked -- "$@"

echo "==> the local stylizer's pictures, on the fixture and a real photograph"
./infra/render-samples.sh "$ROOT/.local/stylizer-samples"
