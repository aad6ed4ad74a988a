#!/usr/bin/env bash
# Installs what the other scripts need, once per machine and again when pins change:
# the pinned Python tools in the git-ignored .venv. Sourced by the other scripts.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
STAMP="$VENV/.requirements.sha256"
want="$(sha256sum "$ROOT/infra/requirements.txt" | cut -d' ' -f1)"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
  echo "==> installing pinned Python tools into .venv (about a minute, once)"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$ROOT/infra/requirements.txt"
  echo "$want" > "$STAMP"
fi
export PATH="$VENV/bin:$PATH"

# Local AWS credentials and region: the emulation accepts any; real ones are never needed.
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-local}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-local}"
export AWS_REGION="${AWS_REGION:-ap-northeast-1}"
export AWS_DEFAULT_REGION="$AWS_REGION"

# Starts moto on $1 (host:port) in the background, waits until it answers, and records its
# pid in MOTO_PID. The caller stops it.
start_moto() {
  local listen="$1" host="${1%:*}" port="${1##*:}"
  # infra/moto_server.py: moto's server with DynamoDB writes serialized and both parts of
  # sent email kept (see its docstring). MOTO_DISABLE_GLOBAL_CORS: S3 answers CORS by each
  # bucket's own rules, as AWS does, so a missing or wrong CorsConfiguration fails here.
  MOTO_DISABLE_GLOBAL_CORS=1 "$VENV/bin/python" "$ROOT/infra/moto_server.py" -H "$host" -p "$port" >"${MOTO_LOG:-/dev/null}" 2>&1 &
  MOTO_PID=$!
  for _ in $(seq 1 100); do
    if curl -fsS "http://$listen/moto-api/data.json" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$MOTO_PID" 2>/dev/null; then echo "moto failed to start on $listen" >&2; return 1; fi
    sleep 0.1
  done
  echo "moto did not answer on $listen within 10 s" >&2
  return 1
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
