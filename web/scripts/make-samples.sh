#!/usr/bin/env bash
# Remakes the landing page's style samples (public/samples/<style>.webp) with the local
# stylizer from the drawn test portrait (tests/fixtures/selfie.jpg): small WebP files the
# page lazy-loads below the fold. Run after the stylizer changes; needs cwebp (Debian: webp).
set -euo pipefail
WEB="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="$(cd "$WEB/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$ROOT"
# Workspace-wide, as every other build here: `-p shared` alone would rebuild the AWS SDK
# with another feature set.
cargo build --quiet --locked --workspace --examples
"${CARGO_TARGET_DIR:-$ROOT/target}/debug/examples/imaging_samples" "$work" tests/fixtures/selfie.jpg
mkdir -p "$WEB/public/samples"
for style in anime chibi watercolor; do
  cwebp -quiet -resize 320 0 -q 72 -m 6 "$work/selfie/avatar-$style.png" -o "$WEB/public/samples/$style.webp"
done
ls -l "$WEB/public/samples"
