#!/usr/bin/env bash
# Writes a JSONL dataset of N rows of 12-word texts with labels 0-3 (deterministic), for the coordinator
# scale runs (scripts/scale/coordinator.sh, docs/SCALING.md).
#   scripts/scale/dataset.sh N FILE
set -euo pipefail
rows=${1:?rows}; out=${2:?file}
awk -v n="$rows" 'BEGIN {
    split("oil prices rose sharply as markets feared supply cuts while traders watched the gulf region closely " \
          "team won the final match after a late goal stunned fans in the crowded stadium tonight", w, " ")
    for (i = 0; i < n; i++) {
        line = ""
        for (k = 0; k < 12; k++) line = line (k ? " " : "") w[1 + (i * 7 + k * 13) % length(w)]
        printf "{\"text\":\"%s %d\",\"label\":%d}\n", line, i, i % 4
    }
}' > "$out"
