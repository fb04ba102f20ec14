#!/usr/bin/env bash
# Renders the app icon's PNGs (48, 128, 256 px, hicolor sizes) from org.truce.Truce.svg with
# rsvg-convert (Debian: librsvg2-bin). Run after editing the SVG; the PNGs are committed.
set -euo pipefail
cd "$(dirname "$0")"
command -v rsvg-convert >/dev/null || { echo "error: rsvg-convert missing; apt-get install librsvg2-bin" >&2; exit 1; }
for size in 48 128 256; do
  rsvg-convert --width "$size" --height "$size" --format png \
    --output "org.truce.Truce-${size}.png" org.truce.Truce.svg
  echo "org.truce.Truce-${size}.png"
done
