#!/usr/bin/env bash
# Builds the quote rules (crates/quote-rules, the code the server checks quotes with) as a
# WebAssembly module for the browser: web/src/quote/quote_rules.wasm, imported by
# src/quote/rules.ts. Built, not committed (.gitignore), so it cannot drift from the Rust.
# Needs the wasm32-unknown-unknown target (`rustup target add wasm32-unknown-unknown`).
set -euo pipefail
WEB="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="$(cd "$WEB/.." && pwd)"
OUT="$WEB/src/quote/quote_rules.wasm"
cd "$ROOT"

# The release profile (LTO, panic=abort, strip) with opt-level "z": smallest code; the
# tables are data and do not shrink. --crate-type makes the library a cdylib for this
# build only, so the server's builds stay a plain rlib.
CARGO_PROFILE_RELEASE_OPT_LEVEL=z cargo rustc --quiet --locked -p quote-rules --lib --release \
  --target wasm32-unknown-unknown --crate-type cdylib

target_dir="$(cargo metadata --format-version 1 --no-deps | node -e \
  'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')"
cp "$target_dir/wasm32-unknown-unknown/release/quote_rules.wasm" "$OUT"
echo "quote rules: $OUT ($(wc -c < "$OUT") bytes)"
