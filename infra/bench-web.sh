#!/usr/bin/env bash
# Measures the web app's budgets in Debian's Chromium against the local stack as
# ./infra/dev.sh runs it (debug binaries, local providers), in one run beside a baseline page:
#   first page    gzipped JS+CSS of the landing page (budget 60 KB), all it loads (150 KB)
#   LCP           landing page (1.0 s), a generation page with its pictures (1.5 s), and a
#                 one-heading static page from the same server as the baseline
#   selfie->shown click on "Upload and spend" to the avatar decoded on its page (5 s)
# Writes the figures to BENCHMARKS.md (between the web markers) and prints them. A command,
# not a test: nothing fails on a figure.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
source "$ROOT/infra/stack.sh"
cd "$ROOT"

echo "==> cargo build (the functions, as ./infra/dev.sh runs them)"
cargo build --workspace --bins --locked
build_web
ensure_chromium
# The baseline: one heading, no script, from the same server as the app.
printf '<!doctype html><html lang="en"><meta charset="utf-8"><title>Baseline</title><h1>Baseline page</h1></html>\n' \
  > web/dist/bench-baseline.html

mkdir -p .local
moto_port="$(free_port)"
MOTO_LOG=.local/bench-moto.log start_moto "127.0.0.1:$moto_port"
stack_port="$(free_port)"
trap 'kill "${STACK_PID:-}" "$MOTO_PID" 2>/dev/null || true; rm -f web/dist/bench-baseline.html' EXIT
STACK_PREFIX=bench-web- start_stack "127.0.0.1:$stack_port" "http://127.0.0.1:$moto_port" web/dist .local/bench-stack.log

out="$ROOT/web/test-results/bench.json"
rm -f "$out"
echo "==> measuring in Chromium (BENCH_RUNS=${BENCH_RUNS:-5})"
(cd web && BASE_URL="http://localhost:$stack_port" MAIL_URL="http://localhost:$stack_port/_local/mail.json" \
  BENCH_OUT="$out" npx playwright test -c playwright.bench.config.ts)

python3 - "$out" <<'PY'
import datetime, json, re, sys
f = json.load(open(sys.argv[1]))
kb = lambda b: f"{b / 1024:.1f} KB"
s = lambda ms: f"{ms / 1000:.2f} s"
rows = [
    ("JS + CSS of the first page (gzip)", "≤ 60 KB", kb(f["first_page_js_css_gz_bytes"])),
    (f"everything the first page loads ({f['first_load_files']} files)", "≤ 150 KB", kb(f["first_load_total_bytes"])),
    ("LCP, baseline page (one heading, same server)", "—", s(f["lcp_baseline_ms"])),
    ("LCP, landing page", "≤ 1.0 s", s(f["lcp_landing_ms"])),
    ("LCP, generation page with its pictures", "≤ 1.5 s", s(f["lcp_generation_ms"])),
    ("selfie submitted → avatar shown (local stylizer)", "< 5 s", s(f["selfie_to_avatar_ms"])),
    ("  of which the upload (click → 100%)", "—", s(f["selfie_upload_ms"])),
]
table = "\n".join(
    [f"Measured {datetime.date.today()} on x86_64, Chromium headless, median of the runs.", "",
     "| figure | budget | measured |", "|---|---|---|"]
    + [f"| {a} | {b} | {c} |" for a, b, c in rows])
print(table)
path = "BENCHMARKS.md"
text = open(path).read()
block = f"<!-- web-figures -->\n{table}\n<!-- /web-figures -->"
if "<!-- web-figures -->" in text:
    text = re.sub(r"<!-- web-figures -->.*?<!-- /web-figures -->", lambda _: block, text, flags=re.S)
else:
    text += f"\n## Web app\n\nProduced by `./infra/bench-web.sh`.\n\n{block}\n"
open(path, "w").write(text)
PY
