#!/usr/bin/env bash
# The study's jobs one after another, each resumed where it stopped (a finished job costs a second: its
# results log already holds every example). Stop it any time; run it again to go on.
#   scripts/study/queue.sh [DATASET/JOB ...]      default: the whole study, cheapest verdicts first
# Environment as scripts/study/run.sh (RUNS, BIN, WORKERS, SHARED, MODELS).
set -uo pipefail
cd "$(dirname "$0")/../.."
jobs=("$@")
[ ${#jobs[@]} -gt 0 ] || jobs=(rte/corrected mnli/corrected agnews/corrected imdb/corrected rte/original
                               mnli/original agnews/original imdb/original mnli/replace agnews/seed2 agnews/seed3)
for job in "${jobs[@]}"; do
    echo "queue: $job ($(date -u +%FT%TZ))"
    bash scripts/study/run.sh "${job%/*}" "${job#*/}" || echo "queue: $job stopped with status $? (run again to resume)"
done
