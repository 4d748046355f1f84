#!/usr/bin/env bash
# Regenerates the README's figures with the tool itself (needs models/demo-agnews from scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
.build/release/iba explain --layers all --format svg --output docs/figures/heatmap-layers.svg
.build/release/iba explain --format html --output docs/figures/heatmap.html
