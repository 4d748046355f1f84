#!/usr/bin/env bash
# Benchmarks (never timed tests): each case reports seconds per example, the minimal arithmetic,
# achieved GFLOP/s and the fraction of the sgemm peak measured by the same run with the same
# thread count. Writes bench-results/bench-<threads>t.json. Uses ../shared for the MiniLM case if present.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release -Xswiftc -enable-testing --product iba-bench >/dev/null
mkdir -p bench-results
cases="${BENCH_CASES:-minilm,bert128,bert384,bert512,degradation}"
for threads in ${BENCH_THREADS:-1 2}; do
    echo "== $threads thread(s)"
    OPENBLAS_NUM_THREADS=$threads .build/release/iba-bench --threads "$threads" --shared ../shared \
        --cases "$cases" --json "bench-results/bench-${threads}t.json"
done
