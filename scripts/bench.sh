#!/usr/bin/env bash
# Benchmarks (never timed tests): each case reports seconds per example, the minimal arithmetic,
# achieved GFLOP/s and the fraction of the sgemm peak measured by the same run with the same
# thread count; the -bf16bwd / -bf16 cases (IBA --precision bf16-backward / bf16) also against a
# bfloat16 GEMM peak, and are skipped without native bf16. Writes bench-results/bench-<threads>t.json.
# The attention rows time attention forward + backward alone at MiniLM's shapes (12 heads of 32, 10 sequences of
# 32 ... 512 tokens, and [CLS]-only queries), the sgemm path and the fused kernel in one run, with their time ratio.
# The gemm-shapes rows time every GEMM shape class of MiniLM and bert-base through sgemm on oneDNN and OpenBLAS in one
# process, each against the sgemm peak of the same run; DNNL_MAX_CPU_ISA=AVX2 OPENBLAS_CORETYPE=Haswell restricts both
# libraries to AVX2 (the run prints the ISA and core each library uses).
# Uses ../shared for the MiniLM and fine-tuning cases if present. BENCH_BEFORE=1 (the default) adds a "-fulltop" row
# after each IBA and fine-tuning case: the same work with the top layer computing every token's row (round 1's path),
# so the [CLS]-only saving is measured before/after in one run.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release -Xswiftc -enable-testing >/dev/null
mkdir -p bench-results
default_cases=attention,gemm-shapes,minilm,bert128,bert254,bert384,bert512,degradation,finetune,lime,occlusion
default_cases+=,minilm-bf16bwd,minilm-bf16,bert384-bf16bwd,bert384-bf16
cases="${BENCH_CASES:-$default_cases}"
before=(); [ "${BENCH_BEFORE:-1}" = 1 ] && before=(--before)
cpu=$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)
bin=${BENCH_BIN:-.build/release}
# Figures of a `/usr/bin/time -v` report: wall seconds, CPU seconds (user + sys), peak resident MiB.
wall_of() { awk '/Elapsed/{k = split($8, t, ":"); s = 0; for (i = 1; i <= k; i++) s = 60 * s + t[i]; print s}' "$1"; }
cpu_of() { awk '/User time/{u = $4} /System time/{s = $4} END{print u + s}' "$1"; }
rss_of() { awk '/Maximum resident/{print $6 / 1024}' "$1"; }
[ "${BENCH_KERNELS:-1}" = 1 ] && for threads in ${BENCH_THREADS:-1 2}; do
    echo "== $threads thread(s), $cpu"
    OPENBLAS_NUM_THREADS=$threads "$bin/iba-bench" --threads "$threads" --shared ../shared \
        --cases "$cases" "${before[@]}" --json "bench-results/bench-${threads}t.json"
done

# Cluster: examples/s with 1 and 2 local workers (IBA on the demo model, the embedded AG News rows),
# coordinator overhead per example (the random method, whose compute is negligible), peak memory per
# worker, and how much of the second worker's memory is shared with the first (memory-mapped weights).
model=${BENCH_MODEL:-models/demo-agnews}
if [ -d "$model" ] && [ "${BENCH_CLUSTER:-1}" = 1 ]; then
    n=${BENCH_CLUSTER_EXAMPLES:-40}
    calc() { awk "BEGIN { print $1 }"; }
    out=$(mktemp -d)
    echo "== cluster ($model, $n examples, IBA)"
    for workers in 1 2; do
        start=$(date +%s.%N)
        .build/release/iba-coordinator --workers "$workers" --model "$model" --test-sample "$n" --output "$out/w$workers" --quiet >/dev/null 2>&1 &
        coordinator=$!
        # Memory of each worker mid-run: resident, and the part shared with other processes.
        sleep 8
        for pid in $(pgrep -P "$coordinator"); do
            awk -v pid="$pid" '/^Rss:/{rss=$2} /^Shared_Clean:/{sc=$2} /^Shared_Dirty:/{sd=$2} /^Pss:/{pss=$2}
                END {printf "  worker %s: resident %.0f MiB, shared %.0f MiB, proportional %.0f MiB\n", pid, rss/1024, (sc+sd)/1024, pss/1024}' "/proc/$pid/smaps_rollup" || true
        done
        wait "$coordinator"
        end=$(date +%s.%N)
        rate=$(calc "$n / ($end - $start)")
        printf "  %d worker(s): %.2f examples/s (%.1f s)\n" "$workers" "$rate" "$(calc "$end - $start")"
        eval "rate$workers=$rate"
        grep -h "peak resident" "$out/w$workers"/workers/*.log | sed 's/^/  /' || true
    done
    printf "  scaling 2 vs 1 worker: %.2fx\n" "$(calc "$rate2 / $rate1")"
    if cmp -s "$out/w1/results.jsonl" "$out/w2/results.jsonl"; then echo "  1- and 2-worker results.jsonl identical"; else echo "  1- and 2-worker results.jsonl DIFFER"; fi
    m=200
    s0=$(date +%s.%N); .build/release/iba evaluate --model "$model" --method random --test-sample $m --threads 1 --output "$out/r0" --quiet >/dev/null; s1=$(date +%s.%N)
    .build/release/iba-coordinator --workers 1 --model "$model" --method random --test-sample $m --output "$out/r1" --quiet >/dev/null 2>"$out/r1.log"; s2=$(date +%s.%N)
    printf "  coordinator overhead: %.1f ms per example (random method, %d examples: cluster %.2f s vs in-process %.2f s, incl. worker start-up)\n" \
        "$(calc "1000 * (($s2 - $s1) - ($s1 - $s0)) / $m")" "$m" "$(calc "$s2 - $s1")" "$(calc "$s1 - $s0")"
    # The coordinator's own CPU time (its poll loop and libzmq's I/O thread) during the run, per example.
    grep -h "coordinator CPU" "$out/r1.log" | sed 's/^/  /' || true
    rm -rf "$out"
fi

# Memory and the forwards of one example on 512-piece inputs (issue 27, items 1 and 4): `iba evaluate` on IMDB test
# reviews with the MiniLM IMDB classifier, one thread, each method run twice back to back: "before" with no activation
# budget (IBA_ACTIVATION_BUDGET_MB=0: every batch in one pass, every tape keeping every layer, round 2's path) and
# "after" with the default budget. Peak RSS of the process (/usr/bin/time; load does not change it), seconds per
# example and their ratio (load does), and whether results.jsonl is identical. random is the degradation test and
# AOPC alone. BENCH_MEMORY=0 skips it; BENCH_MEMORY_SAMPLE examples (default 2), BENCH_MEMORY_METHODS to choose.
imdb_model=${BENCH_IMDB_MODEL:-models/minilm-imdb}
imdb_data=${BENCH_IMDB_DATA:-../shared/data/imdb/test}
# Without the fine-tuned IMDB classifier (scripts/study/make-models.sh makes it), a MiniLM-shaped one with random weights:
# memory and time do not depend on the weights' values, the results' numbers do (compared before/after all the same).
if [ ! -d "$imdb_model" ] && [ -d ../shared/models/minilm-agnews ] && [ "${BENCH_MEMORY:-1}${BENCH_BERT_MEMORY:-1}" != 00 ]; then
    imdb_model=$(mktemp -d)/random-minilm
    "$bin/iba-bench" --write-random-bert-base "$imdb_model" --shape minilm --labels 2 \
        --vocab-from ../shared/models/minilm-agnews
    echo "== (no models/minilm-imdb: the memory rows use a MiniLM-shaped classifier with random weights, $imdb_model)"
fi
if [ "${BENCH_MEMORY:-1}" = 1 ] && [ -d "$imdb_model" ] && [ -d "$imdb_data" ] && [ -x /usr/bin/time ]; then
    n=${BENCH_MEMORY_SAMPLE:-2}
    echo "== memory and forwards, $imdb_model on $n IMDB test reviews (512 pieces), 1 thread, $cpu, GEMMs on ${IBA_GEMM:-the preferred library}"
    printf "  %-34s %12s %12s %10s %10s %7s  %s\n" method "before MiB" "after MiB" "before s/ex" "after s/ex" time results
    out=$(mktemp -d)
    for methods in ${BENCH_MEMORY_METHODS:-random iba ig lime occlusion kernelshap iba,ig,lime,random iba@all,random}; do
        for path in before after; do
            budget=(); [ "$path" = before ] && budget=(env IBA_ACTIVATION_BUDGET_MB=0)
            "${budget[@]}" /usr/bin/time -v "$bin/iba" evaluate --dataset imdb --data-path "$imdb_data" \
                --model "$imdb_model" --methods "$methods" --test-sample "$n" --threads 1 --output "$out/$path" --quiet \
                >/dev/null 2>"$out/$path.time"
            printf -v "${path}_rss" %s "$(rss_of "$out/$path.time")"
            printf -v "${path}_s" %s "$(awk -v w="$(wall_of "$out/$path.time")" -v n="$n" 'BEGIN{print w / n}')"
        done
        same=differ; cmp -s <(find "$out/before" -name results.jsonl | sort | xargs cat) \
                            <(find "$out/after" -name results.jsonl | sort | xargs cat) && same=identical
        printf "  %-34s %12.0f %12.0f %10.2f %10.2f %6.2fx  %s\n" "$methods" "$before_rss" "$after_rss" "$before_s" "$after_s" \
            "$(awk "BEGIN { print $after_s / $before_s }")" "$same"
        rm -rf "$out/before" "$out/after"
    done
    rm -rf "$out"
fi

# bert-base at 512 pieces (issue 27, item 4: at most 2 GB per process): a bert-base-sized classifier with random weights
# (`iba-bench --write-random-bert-base`, MiniLM IMDB's vocabulary and labels; memory and time do not depend on the
# weights' values), the same reviews, one thread, the default path only. Peak RSS includes the 418 MiB of
# memory-mapped weights. BENCH_BERT_MEMORY=0 skips it; BENCH_BERT_MEMORY_METHODS to choose.
if [ "${BENCH_BERT_MEMORY:-1}" = 1 ] && [ -d "$imdb_model" ] && [ -d "$imdb_data" ] && [ -x /usr/bin/time ]; then
    n=${BENCH_MEMORY_SAMPLE:-2}
    out=$(mktemp -d)
    "$bin/iba-bench" --write-random-bert-base "$out/bert-base" --vocab-from "$imdb_model"
    echo "== memory, bert-base (random weights, 12 layers, IBA at layer 8) on $n IMDB test reviews (512 pieces), 1 thread, $cpu"
    printf "  %-34s %12s %10s\n" method "peak MiB" "s/ex"
    for methods in ${BENCH_BERT_MEMORY_METHODS:-random iba ig lime kernelshap occlusion iba,ig,lime,random}; do
        /usr/bin/time -v "$bin/iba" evaluate --dataset imdb --data-path "$imdb_data" --model "$out/bert-base" \
            --methods "$methods" --test-sample "$n" --threads 1 --output "$out/run" --quiet >/dev/null 2>"$out/time" \
            || { echo "  $methods failed:"; tail -5 "$out/time"; continue; }
        printf "  %-34s %12.0f %10.2f\n" "$methods" "$(rss_of "$out/time")" \
            "$(awk -v w="$(wall_of "$out/time")" -v n="$n" 'BEGIN{print w / n}')"
        rm -rf "$out/run"
    done
    rm -rf "$out"
fi

# Against the original's computation in PyTorch (issue 27's yardstick): scripts/reference/speed_reference.py (bazingagin/IBA's
# IBA and degradation test per example: trainable parameters, every copy through every layer, one forward per deletion)
# and `iba evaluate --method iba` on the same examples (the original's selection), alternating, at 1 thread and at every
# core (both tools' default), best of BENCH_TORCH_REPEATS (2; 1 for bert-base). Seconds of wall time per example: ours
# the whole process (start-up and model load included), PyTorch the sum of its per-example times (imports and model load
# excluded). "ours" runs as it does by default (IBA, the degradation test and AOPC), "same work" with --no-aopc (AOPC is
# ours, not the original's). "agreement": the lowest Pearson correlation of the two attributions of an example.
# Runs when BENCH_TORCH_PYTHON names a Python with torch and transformers (a throwaway venv: the script's docstring).
# BENCH_BIN picks the build (default .build/release); BENCH_BEFORE_BIN adds a column for another build (an earlier
# commit). To stand in for a CPU without AVX-512 on an AVX-512 one: build with
# `swift build -c release --scratch-path .build-avx2 -Xcc -DIBA_AVX2_ONLY` (our C kernels without their AVX-512
# versions) and run with BENCH_BIN=.build-avx2/release DNNL_MAX_CPU_ISA=AVX2 OPENBLAS_CORETYPE=Haswell (our libraries)
# ATEN_CPU_CAPABILITY=avx2 MKL_ENABLE_INSTRUCTIONS=AVX2 ONEDNN_MAX_CPU_ISA=AVX2 (PyTorch's).
# The last row: whole-job CPU seconds per MNLI pair for the original's four methods under the corrected protocol (the
# issue's 3.8 was the whole dev set run so), BENCH_TORCH_MNLI_PAIRS pairs (40), 1 thread.
if [ -n "${BENCH_TORCH_PYTHON:-}" ] && [ -d ../shared/models ] && [ -x /usr/bin/time ]; then
    before_bin=${BENCH_BEFORE_BIN:-}
    out=$(mktemp -d)
    reference=scripts/reference/speed_reference.py
    min() { awk -v a="$1" -v b="$2" 'BEGIN{print (b < a) ? b : a}'; }
    echo "== against the original in PyTorch, $cpu"
    "$BENCH_TORCH_PYTHON" -c 'import torch, transformers; print("  torch", torch.__version__, "ATen", torch.backends.cpu.get_cpu_capability(), "transformers", transformers.__version__)'
    echo "  ours: $("$bin/iba-bench" --print-isa), build $bin${before_bin:+; before: build $before_bin}"
    # A bert-base-shaped classifier with random weights that both read, and 2 IMDB test reviews of over 300 words.
    "$bin/iba-bench" --write-random-bert-base "$out/bert-base" --vocab-from ../shared/models/minilm-agnews --labels 2
    mkdir -p "$out/long/pos" "$out/long/neg"
    for f in $(cd ../shared/data/imdb/test/pos && for g in *.txt; do [ "$(wc -w < "$g")" -gt 300 ] && echo "$g"; done | sort | head -2); do
        cp "../shared/data/imdb/test/pos/$f" "$out/long/pos/"
    done
    printf "  %-44s %3s %9s %9s %9s %8s %9s %8s  %s\n" "case (wall s per example)" thr PyTorch before ours speed-up "same work" speed-up agreement
    ours_run() {  # bin output threads options...: wall seconds per example of one `iba evaluate`
        local b=$1 o=$2 t=$3; shift 3
        rm -rf "$o"
        /usr/bin/time -v "$b/iba" evaluate --method iba --threads "$t" --output "$o" --quiet "$@" >/dev/null 2>"$o.time"
        awk -v n="$(wc -l < "$o/results.jsonl")" -v w="$(wall_of "$o.time")" 'BEGIN{print w / n}'
    }
    run_case() {  # name repeats model dataset data layer sample max_length
        local name=$1 repeats=$2 model=$3 dataset=$4 data=$5 layer=$6 sample=$7 max=$8 threads
        local args=(--model "$model" --dataset "$dataset" --data-path "$data" --layer "$layer" --test-sample "$sample" --max-length "$max")
        for threads in ${BENCH_TORCH_THREADS:-1 $(nproc)}; do
            local torch=1e9 ours=1e9 same=1e9 prior=1e9 t
            for ((r = 0; r < repeats; r++)); do
                "$BENCH_TORCH_PYTHON" "$reference" "${args[@]}" --threads "$threads" > "$out/torch.json" 2>/dev/null
                t=$("$BENCH_TORCH_PYTHON" -c 'import json, sys; d = json.load(open(sys.argv[1])); print(sum(e["wall_s"] for e in d["examples"]) / len(d["examples"]))' "$out/torch.json")
                torch=$(min "$torch" "$t")
                ours=$(min "$ours" "$(ours_run "$bin" "$out/ours" "$threads" "${args[@]}")")
                same=$(min "$same" "$(ours_run "$bin" "$out/same" "$threads" "${args[@]}" --no-aopc)")
                [ -n "$before_bin" ] && prior=$(min "$prior" "$(ours_run "$before_bin" "$out/before" "$threads" "${args[@]}")")
            done
            agreement=$("$BENCH_TORCH_PYTHON" - "$out/torch.json" "$out/ours/results.jsonl" <<'PY'
import json, sys
import numpy as np
torch_run = {e["index"]: e["attribution"] for e in json.load(open(sys.argv[1]))["examples"]}
ours = [json.loads(line) for line in open(sys.argv[2])]
r = [float(np.corrcoef(torch_run[e["index"]], e["attribution"])[0, 1]) for e in ours if e["index"] in torch_run]
print(f"{min(r):.4f} ({len(r)} ex)" if len(r) == len(ours) == len(torch_run) else "examples differ")
PY
)
            [ -n "$before_bin" ] || prior=nan
            printf "  %-44s %3d %9.3f %9.3f %9.3f %7.1fx %9.3f %7.1fx  %s\n" "$name" "$threads" "$torch" "$prior" "$ours" \
                "$(awk -v a="$torch" -v b="$ours" 'BEGIN{print a / b}')" "$same" "$(awk -v a="$torch" -v b="$same" 'BEGIN{print a / b}')" "$agreement"
        done
    }
    repeats=${BENCH_TORCH_REPEATS:-2}
    run_case "IBA MiniLM layer 3, AG News, 10 rows" "$repeats" ../shared/models/minilm-agnews agnews ../shared/data/agnews/test.csv 3 10 512
    run_case "IBA MiniLM layer 3, MNLI, 10 pairs" "$repeats" ../shared/models/minilm-mnli mnli ../shared/data/mnli/dev_matched.tsv 3 10 512
    run_case "IBA bert-base layer 8, 2 reviews at 254 pieces" "${BENCH_TORCH_REPEATS:-1}" "$out/bert-base" imdb "$out/long" 8 all 254
    pairs=${BENCH_TORCH_MNLI_PAIRS:-40}
    for b in ${before_bin:+"$before_bin"} "$bin"; do
        rm -rf "$out/job"
        /usr/bin/time -v "$b/iba" evaluate --model ../shared/models/minilm-mnli --dataset mnli --data-path ../shared/data/mnli/dev_matched.tsv \
            --methods iba,ig,lime,random --protocol corrected --layer 3 --test-sample "$pairs" --threads 1 --output "$out/job" \
            --quiet >/dev/null 2>"$out/job.time"
        printf "  whole job (build %s), --methods iba,ig,lime,random --protocol corrected, MiniLM MNLI layer 3, %d pairs, 1 thread: %.2f CPU s per pair, peak RSS %.0f MiB\n" \
            "$b" "$pairs" "$(awk -v c="$(cpu_of "$out/job.time")" -v n="$pairs" 'BEGIN{print c / n}')" "$(rss_of "$out/job.time")"
    done
    rm -rf "$out"
fi
