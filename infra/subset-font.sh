#!/usr/bin/env bash
# Reproduces shared/assets/fonts/BIZUDPGothic-Bold-subset.ttf, the font of the speech-bubble
# add-on: BIZ UDPGothic Bold (SIL OFL 1.1, Debian package fonts-morisawa-bizud-gothic)
# subset to what quotes may contain, so the Lambda carries ~2 MB instead of 4.6 MB.
#
# The glyph set: ASCII, Latin-1 Supplement, General Punctuation, CJK Symbols and
# Punctuation, Hiragana, Katakana, half/full-width forms, every character of JIS X 0208
# (its symbols, kana and the kanji of levels 1 and 2) and the four 2010 jōyō kanji that
# JIS X 0208 lacks. The TrueType (glyf) outlines are kept as they are, because ab_glyph
# reads them; hinting, layout and vertical tables go, because the renderer uses none.
#
# Needs root for apt-get (or the package already installed) and Python 3 with venv.
# Usage: infra/subset-font.sh [output.ttf]
set -euo pipefail

FONTTOOLS_VERSION=4.68.0
SOURCE=/usr/share/fonts/truetype/bizud-gothic/BIZUDPGothic-Bold.ttf
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUTPUT="${1:-$ROOT/shared/assets/fonts/BIZUDPGothic-Bold-subset.ttf}"
VENV="${FONT_VENV:-/tmp/subset-font-venv}"

if [[ ! -f "$SOURCE" ]]; then
  apt-get install -y fonts-morisawa-bizud-gothic
fi
if [[ ! -x "$VENV/bin/pyftsubset" ]]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "fonttools==$FONTTOOLS_VERSION"
fi

UNICODES="$(mktemp)"
trap 'rm -f "$UNICODES"' EXIT

# JIS X 0208 comes from Python's own EUC-JP codec (row r, cell c is the byte pair
# 0xA0+r, 0xA0+c), so no character table has to be downloaded or committed.
python3 - "$UNICODES" <<'PY'
import sys

ranges = [
    (0x0020, 0x007E),  # ASCII
    (0x00A0, 0x00FF),  # Latin-1 Supplement
    (0x2000, 0x206F),  # General Punctuation
    (0x3000, 0x303F),  # CJK Symbols and Punctuation
    (0x3040, 0x309F),  # Hiragana
    (0x30A0, 0x30FF),  # Katakana
    (0xFF00, 0xFFEF),  # Halfwidth and Fullwidth Forms
]
codepoints = {cp for low, high in ranges for cp in range(low, high + 1)}
for row in range(1, 95):
    for cell in range(1, 95):
        try:
            text = bytes([0xA0 + row, 0xA0 + cell]).decode("euc_jp")
        except UnicodeDecodeError:
            continue
        codepoints.update(ord(c) for c in text)
# Jōyō kanji added in 2010 that JIS X 0208 does not have.
codepoints.update([0x20B9F, 0x5861, 0x525D, 0x9830])
with open(sys.argv[1], "w") as out:
    out.write(",".join(f"U+{cp:04X}" for cp in sorted(codepoints)))
PY

"$VENV/bin/pyftsubset" "$SOURCE" \
  --unicodes-file="$UNICODES" \
  --output-file="$OUTPUT" \
  --no-hinting \
  --layout-features='' \
  --drop-tables+=GSUB,vhea,vmtx,DSIG,meta,gasp \
  --name-IDs='*' \
  --name-languages='*' \
  --notdef-outline \
  --no-recalc-timestamp
ls -l "$OUTPUT"
