#!/usr/bin/env bash
# The whole-dev-set MNLI comparison (README "MNLI, whole dev set"): every method in one cluster job over
# the 9,815 dev-matched pairs, then its small outputs (comparison table and figure, each method's
# summary) copied into docs/results/mnli-dev/. Resumable: run it again after a stop and it continues
# from the results log. About 4 hours on a 2-core machine.
#   scripts/mnli-dev.sh [OUTPUT] [extra iba-coordinator options, e.g. --test-sample 20]
# SHARED (default ../shared) holds the model and data; WORKERS (default 2) local workers; IBA_GEMM names
# the GEMM library (default: the one preferred on this CPU); a resume must use the log's library.
set -euo pipefail
cd "$(dirname "$0")/.."
# Absolute, so the data path in the run's settings (which --resume compares) does not depend on how SHARED was given.
shared=$(cd "${SHARED:-../shared}" 2>/dev/null && pwd) || { echo "mnli-dev: ${SHARED:-../shared} not found (set SHARED)" >&2; exit 2; }
out=${1:-mnli-dev}; shift || true
model="$shared/models/minilm-mnli" data="$shared/data/mnli/dev_matched.tsv"
for f in "$model" "$data"; do [ -e "$f" ] || { echo "mnli-dev: $f not found (set SHARED)" >&2; exit 2; }; done
[ -x .build/release/iba-coordinator ] || swift build -c release
resume=(); [ -e "$out/results.log.jsonl" ] && resume=(--resume)
start=$(date +%s)
.build/release/iba-coordinator --workers "${WORKERS:-2}" --methods iba,ig,random,lime --protocol corrected \
    --dataset mnli --layer 3 --model "$model" --data-path "$data" --output "$out" "${resume[@]}" "$@"
echo "mnli-dev: this invocation took $(( $(date +%s) - start )) s of wall time"
dest=docs/results/mnli-dev
[ $# -eq 0 ] || dest="$out/docs"   # a partial selection does not replace the committed whole-set results
mkdir -p "$dest"
cp "$out"/comparison.md "$out"/comparison.csv "$out"/comparison.svg "$dest"/
for m in iba ig random lime; do cp "$out/$m/summary.json" "$dest/summary-$m.json"; done
echo "mnli-dev: comparison and summaries in $dest"
