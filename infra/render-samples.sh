#!/usr/bin/env bash
# Renders the local stylizer's pictures (every style, sticker and speech bubble, plus an
# overview sheet per input) on the drawn fixture and on real photographs, so a person can
# judge what a newcomer without provider keys is shown.
#
# The photographs are scikit-image's public-domain sample portraits (astronaut.png, a NASA
# portrait; camera.png, the cameraman, grey, rendered with RENDER_ALL=1): the repo does
# not hold them. They are taken from
# scikit-image's wheel on PyPI, downloaded once into the git-ignored .local/ cache.
#
#   ./infra/render-samples.sh [output-dir]      (default: .local/stylizer-samples)
#
# Set RENDER_RELEASE=1 to render with an optimised build (the times it prints are then
# the ones that matter for deployment; a debug build takes 10-20 s a style). Without network and without a cached wheel, only
# the fixture is rendered, and the script says so.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUT="${1:-.local/stylizer-samples}"
CACHE=".local/sample-photos"
SKIMAGE_VERSION="0.26.0"
mkdir -p "$CACHE"

photos=()
if [ ! -f "$CACHE/astronaut.png" ]; then
  wheel_dir="$CACHE/wheel"
  if python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary :all: \
    --python-version 3.11 --platform manylinux_2_28_x86_64 \
    -d "$wheel_dir" "scikit-image==$SKIMAGE_VERSION" >/dev/null 2>&1; then
    wheel="$(ls "$wheel_dir"/scikit_image-*.whl | head -n1)"
    python3 - "$wheel" "$CACHE" <<'PY'
import sys, zipfile
wheel, cache = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as archive:
    for name in ("astronaut.png", "camera.png"):
        with open(f"{cache}/{name}", "wb") as out:
            out.write(archive.read(f"skimage/data/{name}"))
PY
    rm -rf "$wheel_dir"
  else
    echo "render-samples: scikit-image's wheel could not be downloaded; rendering the fixture only" >&2
  fi
fi
wanted=(astronaut)
if [ "${RENDER_ALL:-0}" = 1 ]; then wanted+=(camera); fi
for photo in "${wanted[@]}"; do
  if [ -f "$CACHE/$photo.png" ]; then photos+=("$CACHE/$photo.png"); fi
done

profile=()
if [ "${RENDER_RELEASE:-0}" = 1 ]; then profile=(--release); fi
cargo build --quiet --locked "${profile[@]}" --workspace --examples
bin="${CARGO_TARGET_DIR:-$ROOT/target}/$([ "${RENDER_RELEASE:-0}" = 1 ] && echo release || echo debug)/examples/imaging_samples"
"$bin" \
  "$OUT" tests/fixtures/selfie.jpg "${photos[@]}"
echo "==> stylizer samples (open overview.png in each folder): $OUT"
