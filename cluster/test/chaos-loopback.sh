#!/usr/bin/env bash
# Hostile cases against the cluster, on loopback only, bounded in time: every run and every
# hostile peer has a hard timeout and the script stops by itself. Uses cluster-demo (a fake
# computation with known results), so a wrong output is detected by comparing with the expected
# lines. It signals only processes it started (its coordinators, their workers, its hostile peers).
#
#   cluster/test/chaos-loopback.sh [--demo .build/release/cluster-demo] [--trials N] [--short]   (CHAOS_SHORT=1 = --short)
#
# Cases (issue 12), each trial:
#   pause       SIGSTOP the coordinator for 5 s, 1.5 s into a 2-worker run, then SIGCONT (item 1)
#   pause-all   SIGSTOP the coordinator and its workers together for 5 s (liveness 0.6 s), then SIGCONT
#   kill        kill -9 one worker mid-run (its examples must be re-issued)
#   term        SIGTERM the coordinator mid-run, then --resume: no orphaned workers, identical output
#   flood-hello 1,000 HELLOs on one connection against a 4 MB manifest: one MANIFEST back at most,
#               the coordinator's peak RSS (VmHWM) under the bound below
#   flood-fetch 1,000 FETCHes of 1 MiB (credit is 4) from a peer that does not read: peak RSS under the bound
#   bad-record  a peer answering every example with a forged RESULT (extra fields, UTF-16, non-finite
#               numbers, NaN, cut short, wrong index): all rejected and re-issued, none in the results log
#   takeover    a peer with a valid CURVE key reusing another worker's routing id gets no session
#   liar        one of 3 workers returns plausible wrong results; --verify 1 catches it (item 11)
# Cases (issue 24), each trial:
#   orphans     SIGTERM, and in another run kill -9, to a coordinator 0.3 s into starting 40 workers:
#               no process of the run may be left 5 s later
#   downgrade   a finished run's results log relabelled as format 1, its chain stripped and a value
#               edited: --resume must refuse it (exit non-zero, naming the format) and write no output
#   mixed-threads  the real iba-coordinator (--workers 0 --verify 1) with two iba-worker processes
#               started by hand at --threads 1 and --threads 2, on models/demo-agnews: no worker may be
#               called suspect or untrusted, and the outputs must equal a plain `iba evaluate`; once on
#               the default GEMM library and once with OPENBLAS_CORETYPE=Haswell IBA_GEMM=openblas (the
#               AVX2 kernels, where a thread's share of the rows used to change the bits). Skipped, and
#               said so, when those executables or the model are missing.
#
# Prints one table: cases, crashes, hangs, wrong outputs, lost examples, processes left behind (all but
# cases must be 0), and the coordinator's peak RSS under the floods. Exit status 0 only if the table is clean.
# Every process a run starts carries CHAOS_MARK in its environment: that is how leftovers are found.
set -uo pipefail

DEMO=.build/release/cluster-demo
TRIALS=6
[ "${CHAOS_SHORT:-0}" = 1 ] && TRIALS=1
COUNT=60
while [ $# -gt 0 ]; do
    case "$1" in
        --demo) DEMO="$2"; shift ;;
        --trials) TRIALS="$2"; shift ;;
        --short) TRIALS=1 ;;
        *) sed -n '2,37p' "$0"; exit 2 ;;
    esac
    shift
done
[ -x "$DEMO" ] || { echo "chaos: $DEMO not built (swift build -c release --product cluster-demo)" >&2; exit 2; }
RUN_TIMEOUT=60       # seconds, any one coordinator run
PEER_TIMEOUT=30      # seconds, any one hostile peer
RSS_BOUND_KB=$((96 * 1024))    # the coordinator's peak RSS under a flood: ~40 MiB measured; 1,000 queued manifests or chunks would be GBs
WORK=$(mktemp -d /tmp/iba-chaos.XXXXXX)
STARTED=()           # pids this script started (each `timeout` wrapper)
MARK="iba-chaos-$$-$RANDOM"

# kill_tree PID: PID and its descendants (children found by parent pid, so only our own processes).
kill_tree() {
    local child
    for child in $(pgrep -P "$1" 2>/dev/null); do kill_tree "$child"; done
    kill -KILL "$1" 2>/dev/null
}
cleanup() {
    local p
    for p in "${STARTED[@]}"; do kill_tree "$p"; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Expected output: {"index":i,"value":sin(i)} per line, as a fault-free 1-worker run writes it.
timeout $RUN_TIMEOUT "$DEMO" coordinator --bind tcp://127.0.0.1:0 --count $COUNT --out "$WORK/expected" --workers 1 --delay-ms 1 \
    --heartbeat 0.2 2>/dev/null || { echo "chaos: reference run failed" >&2; exit 1; }

cases=0; crashes=0; hangs=0; wrong=0; lost=0; leftover=0
declare -A peak_rss=()

# check NAME STATUS OUTFILE: classify one finished run.
check() {
    local name=$1 status=$2 out=$3
    cases=$((cases + 1))
    if [ "$status" -eq 124 ]; then hangs=$((hangs + 1)); echo "chaos: $name: HANG" >&2; return; fi
    if [ "$status" -ge 128 ]; then crashes=$((crashes + 1)); echo "chaos: $name: CRASH (status $status)" >&2; return; fi
    local missing
    missing=$(grep -c -e '"failed"' -e '"missing"' "$out" 2>/dev/null || true)
    lost=$((lost + ${missing:-0}))
    if ! cmp -s "$out" "$WORK/expected"; then wrong=$((wrong + 1)); echo "chaos: $name: WRONG OUTPUT (status $status)" >&2; fi
}

# defence_failed NAME WHAT: a hostile case the coordinator did not withstand (counted as a wrong output).
defence_failed() { wrong=$((wrong + 1)); echo "chaos: $1: $2" >&2; }

# launch OUT ARGS...: a coordinator run in the background under timeout. Sets $pid (the timeout
# wrapper) and $coordinator (the coordinator process itself, once it exists).
launch() {
    local out=$1; shift
    CHAOS_MARK=$MARK timeout $RUN_TIMEOUT "$DEMO" coordinator --bind tcp://127.0.0.1:0 --count $COUNT --out "$out" "$@" \
        2>"$out.err" &
    pid=$!
    STARTED+=("$pid")
    coordinator=""
    for _ in $(seq 100); do
        coordinator=$(pgrep -P "$pid" | head -1)
        [ -n "$coordinator" ] && break
        sleep 0.02
    done
    coordinator=${coordinator:-$pid}
}

# endpoint_of OUT: the port the coordinator bound, from its log (waits up to 10 s).
endpoint_of() {
    local endpoint=""
    for _ in $(seq 100); do
        endpoint=$(grep -o 'coordinator on tcp://127.0.0.1:[0-9]*' "$1.err" 2>/dev/null | head -1 | sed 's/coordinator on //')
        [ -n "$endpoint" ] && break
        sleep 0.1
    done
    echo "$endpoint"
}

# finish: waits for the run, tracking the coordinator's peak RSS (VmHWM, kB); sets $status and $peak_kb.
finish() {
    peak_kb=0
    local hwm
    while kill -0 "$pid" 2>/dev/null; do
        hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$coordinator/status" 2>/dev/null)
        [ -n "$hwm" ] && [ "$hwm" -gt "$peak_kb" ] && peak_kb=$hwm
        sleep 0.1
    done
    wait "$pid"; status=$?
}

# marked: live (not zombie) processes carrying this script's CHAOS_MARK.
marked() {
    local f p
    for f in /proc/[0-9]*/environ; do
        p=${f#/proc/}; p=${p%/environ}
        grep -qz "^CHAOS_MARK=$MARK\$" "$f" 2>/dev/null || continue
        [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" = "Z" ] && continue
        echo "$p"
    done
}

# left_behind NAME: after a run, wait up to 5 s for its processes to leave; count and kill any that stay.
left_behind() {
    local rest
    for _ in $(seq 50); do
        rest=$(marked)
        [ -z "$rest" ] && return
        sleep 0.1
    done
    leftover=$((leftover + $(echo "$rest" | wc -w)))
    echo "chaos: $1: processes left behind: $(echo $rest)" >&2
    kill -KILL $rest 2>/dev/null
}

# hostile OUT ARGS...: one hostile peer in the foreground, bounded; sets $hostile_status.
hostile() {
    local out=$1; shift
    timeout $PEER_TIMEOUT "$DEMO" hostile "$@" 2>>"$out.hostile" &
    local peer=$!
    STARTED+=("$peer")
    wait "$peer"; hostile_status=$?
    cat "$out.hostile" >&2
}

# note_rss CASE: keep the largest peak seen for CASE; over the bound is a failed defence.
note_rss() {
    local name=$1
    [ "$peak_kb" -gt "${peak_rss[$name]:-0}" ] && peak_rss[$name]=$peak_kb
    if [ "$peak_kb" -gt "$RSS_BOUND_KB" ]; then defence_failed "$name" "coordinator peak RSS $((peak_kb / 1024)) MiB over the bound $((RSS_BOUND_KB / 1024)) MiB"; fi
}

fault_cases() {
    local trial=$1 out log workers w
    # pause: the coordinator frozen for 5 s mid-run
    out="$WORK/pause-$trial"
    launch "$out" --workers 2 --delay-ms 100 --heartbeat 1
    sleep 1.5
    kill -STOP "$coordinator" 2>/dev/null; sleep 5; kill -CONT "$coordinator" 2>/dev/null
    finish; check "pause #$trial" $status "$out"

    # pause-all: the coordinator and its workers frozen together for 5 s, far past the 0.6 s liveness
    # (a SIGSTOP of the whole job, a VM pause): neither side may blame the other's silence
    out="$WORK/pause-all-$trial"
    launch "$out" --workers 2 --delay-ms 100 --heartbeat 0.2
    sleep 1.5
    workers=$(pgrep -P "$coordinator" | tr '\n' ' ')
    kill -STOP "$coordinator" $workers 2>/dev/null; sleep 5; kill -CONT "$coordinator" $workers 2>/dev/null
    finish; check "pause-all #$trial" $status "$out"
    if grep -q "silent for" "$out.err" 2>/dev/null; then
        echo "chaos: pause-all #$trial: a worker was blamed for the job's pause" >&2; wrong=$((wrong + 1))
    fi

    # kill: one worker killed with SIGKILL mid-run
    out="$WORK/kill-$trial"
    launch "$out" --workers 2 --delay-ms 50 --heartbeat 0.2
    sleep 1
    w=$(pgrep -P "$coordinator" -f "worker" | head -1)
    [ -n "$w" ] && kill -KILL "$w"
    finish; check "kill #$trial" $status "$out"

    # term: SIGTERM to the coordinator, then --resume finishes the run
    out="$WORK/term-$trial"
    log="$WORK/term-$trial.jsonl"
    launch "$out" --workers 2 --log "$log" --delay-ms 50 --heartbeat 0.2
    sleep 1
    workers=$(pgrep -P "$coordinator" -f "worker" | tr '\n' ' ')
    kill -TERM "$coordinator"
    finish
    sleep 2
    for w in $workers; do
        if kill -0 "$w" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$w/stat" 2>/dev/null)" != "Z" ]; then
            echo "chaos: term #$trial: worker $w orphaned" >&2; wrong=$((wrong + 1)); kill -KILL "$w"
        fi
    done
    launch "$out" --log "$log" --resume --workers 2 --delay-ms 50 --heartbeat 0.2
    finish; check "term #$trial" $status "$out"
    left_behind "term #$trial"

    # orphans: a signal while 40 workers are being started (in batches); nothing may stay behind
    local signal
    for signal in TERM KILL; do
        out="$WORK/orphans-$signal-$trial"
        launch "$out" --workers 40 --allow-many-workers --delay-ms 50 --heartbeat 0.2
        sleep 0.3
        kill -"$signal" "$coordinator" 2>/dev/null
        finish
        cases=$((cases + 1))
        [ "$status" -eq 124 ] && { hangs=$((hangs + 1)); echo "chaos: orphans-$signal #$trial: HANG" >&2; }
        left_behind "orphans-$signal #$trial"
    done

    # downgrade: a chained log relabelled as format 1, chain stripped, a value edited: --resume refuses it
    out="$WORK/downgrade-$trial"
    log="$WORK/downgrade-$trial.jsonl"
    launch "$out" --workers 2 --log "$log" --delay-ms 1 --heartbeat 0.2
    finish; check "downgrade run #$trial" $status "$out"
    sed -i -e 's/"version":2/"version":1/' -e 's/^{"chain":"[0-9a-f]*",/{/' -e '3s/"value":[-0-9.e]*/"value":0.5/' "$log"
    rm -f "$out"
    launch "$out" --log "$log" --resume --workers 2 --delay-ms 1 --heartbeat 0.2
    finish
    cases=$((cases + 1))
    if [ "$status" -eq 0 ] || [ -s "$out" ] || ! grep -q "older than the format" "$out.err"; then
        defence_failed "downgrade #$trial" "a downgraded, edited results log was resumed (status $status)"
    fi
    left_behind "downgrade #$trial"
}

hostile_cases() {
    local trial=$1 out log endpoint id forged
    # flood-hello: a 4 MB manifest must not be queued once per HELLO
    out="$WORK/flood-hello-$trial"
    launch "$out" --workers 2 --delay-ms 100 --heartbeat 0.2 --payload-bytes 4000000
    endpoint=$(endpoint_of "$out")
    hostile "$out" --connect "$endpoint" --mode flood-hello --seconds 1
    [ "$hostile_status" -eq 0 ] || defence_failed "flood-hello #$trial" "hostile peer status $hostile_status (more than one MANIFEST?)"
    finish; check "flood-hello #$trial" $status "$out"; note_rss flood-hello

    # flood-fetch: FETCHes far beyond the credit from a peer that reads nothing
    out="$WORK/flood-fetch-$trial"
    [ -f "$WORK/model.bin" ] || head -c $((32 << 20)) /dev/urandom > "$WORK/model.bin"
    launch "$out" --workers 2 --delay-ms 100 --heartbeat 0.2 --ship "$WORK/model.bin"
    endpoint=$(endpoint_of "$out")
    hostile "$out" --connect "$endpoint" --mode flood-fetch --seconds 2
    [ "$hostile_status" -eq 0 ] || defence_failed "flood-fetch #$trial" "hostile peer status $hostile_status"
    finish; check "flood-fetch #$trial" $status "$out"; note_rss flood-fetch

    # bad-record: forged results are rejected, re-issued, never logged
    out="$WORK/bad-record-$trial"
    log="$WORK/bad-record-$trial.jsonl"
    launch "$out" --workers 2 --delay-ms 50 --heartbeat 0.2 --log "$log"
    endpoint=$(endpoint_of "$out")
    hostile "$out" --connect "$endpoint" --mode bad-record --seconds 20
    finish; check "bad-record #$trial" $status "$out"
    forged=$(grep -o 'bad-record: [0-9]*' "$out.hostile" | grep -o '[0-9]*$')
    [ "${forged:-0}" -gt 0 ] || defence_failed "bad-record #$trial" "the hostile peer got no example to forge"
    [ "$(grep -c . "$log")" -eq $((COUNT + 1)) ] || defence_failed "bad-record #$trial" "results log has $(grep -c . "$log") lines, not $((COUNT + 1))"
    ! grep -q -e steps -e 1e999 -e NaN "$log" || defence_failed "bad-record #$trial" "a forged record reached the results log"

    # takeover: key "evil" (valid) reusing local-0's routing id
    out="$WORK/takeover-$trial"
    [ -d "$WORK/keys" ] || "$DEMO" keygen "$WORK/keys" local-0 local-1 evil
    launch "$out" --workers 2 --delay-ms 100 --heartbeat 0.2 --keys "$WORK/keys"
    id=""
    for _ in $(seq 100); do
        id=$(grep -o 'worker local-0 \[[^]]*\] joined' "$out.err" 2>/dev/null | head -1 | sed 's/.*\[\(.*\)\].*/\1/')
        [ -n "$id" ] && break
        sleep 0.1
    done
    if [ -n "$id" ]; then
        hostile "$out" --connect "$(endpoint_of "$out")" --mode takeover --identity "$id" --keys "$WORK/keys" --name evil --seconds 1
        [ "$hostile_status" -eq 0 ] || defence_failed "takeover #$trial" "hostile peer status $hostile_status (session taken over?)"
    else
        defence_failed "takeover #$trial" "local-0 never joined"
    fi
    finish; check "takeover #$trial" $status "$out"

    # liar: one of three workers fabricates; --verify 1 must catch it and recompute its examples
    out="$WORK/liar-$trial"
    launch "$out" --workers 3 --liars 1 --verify 1 --delay-ms 20 --heartbeat 0.2
    finish; check "liar #$trial" $status "$out"
    grep -q 'worker local-0 untrusted' "$out.err" || defence_failed "liar #$trial" "the lying worker was not marked untrusted"
    left_behind "liar #$trial"
}

IBA_BIN=$(dirname "$DEMO")
MODEL=${CHAOS_MODEL:-models/demo-agnews}
MIXED_COUNT=4
GEMM_ENV=()          # the variable assignments of the GEMM variant being run (env's arguments)

# mixed_run OUT THREADS... : `iba-coordinator --workers 0 --verify 1` and one iba-worker per THREADS value,
# started by hand (the launcher gives every worker the same --worker-threads); sets $status.
mixed_run() {
    local out=$1 threads endpoint=""; shift
    CHAOS_MARK=$MARK env "${GEMM_ENV[@]}" timeout $RUN_TIMEOUT "$IBA_BIN/iba-coordinator" --workers 0 \
        --bind tcp://127.0.0.1:0 --verify 1 --model "$MODEL" --test-sample $MIXED_COUNT --output "$out" --quiet \
        >"$out.out" 2>"$out.err" &
    pid=$!
    STARTED+=("$pid")
    coordinator=$pid
    for _ in $(seq 300); do
        endpoint=$(grep -o 'coordinator at tcp://127.0.0.1:[0-9]*' "$out.err" 2>/dev/null | head -1)
        endpoint=${endpoint#coordinator at }
        [ -n "$endpoint" ] && break
        sleep 0.1
    done
    for threads in "$@"; do
        CHAOS_MARK=$MARK env "${GEMM_ENV[@]}" timeout $RUN_TIMEOUT "$IBA_BIN/iba-worker" \
            --connect "${endpoint:-tcp://127.0.0.1:1}" --model "$MODEL" --threads "$threads" --name "threads-$threads" \
            2>"$out.worker-$threads.err" &
        STARTED+=("$!")
    done
    finish
}

mixed_thread_cases() {
    local trial=$1 variant out f
    if [ ! -x "$IBA_BIN/iba" ] || [ ! -x "$IBA_BIN/iba-coordinator" ] || [ ! -x "$IBA_BIN/iba-worker" ] \
        || [ ! -f "$MODEL/config.json" ]; then
        echo "chaos: mixed-threads SKIPPED: needs $IBA_BIN/iba, iba-coordinator, iba-worker and $MODEL" >&2
        return
    fi
    for variant in default avx2; do
        out="$WORK/mixed-$variant-$trial"
        GEMM_ENV=()
        [ "$variant" = avx2 ] && GEMM_ENV=(OPENBLAS_CORETYPE=Haswell IBA_GEMM=openblas)
        CHAOS_MARK=$MARK env "${GEMM_ENV[@]}" timeout $RUN_TIMEOUT "$IBA_BIN/iba" evaluate --model "$MODEL" \
            --test-sample $MIXED_COUNT --output "$out-plain" --quiet >"$out-plain.out" 2>"$out-plain.err" \
            || echo "chaos: mixed-threads $variant: the plain run failed: $(tail -2 "$out-plain.err")" >&2
        mixed_run "$out" 1 2
        cases=$((cases + 1))
        local name="mixed-threads $variant #$trial"
        if [ "$status" -eq 124 ]; then hangs=$((hangs + 1)); echo "chaos: $name: HANG" >&2
        elif [ "$status" -ge 128 ]; then crashes=$((crashes + 1)); echo "chaos: $name: CRASH" >&2
        elif [ "$status" -ne 0 ]; then defence_failed "$name" "status $status: $(tail -3 "$out.err")"
        fi
        if grep -qi -e suspect -e untrusted "$out.err"; then
            defence_failed "$name" "a worker was doubted: $(grep -i -e suspect -e untrusted "$out.err" | head -2)"
        fi
        grep -q "verification: $MIXED_COUNT example(s) agreed by two workers" "$out.err" \
            || defence_failed "$name" "not every example was verified: $(grep verification "$out.err")"
        lost=$((lost + MIXED_COUNT - $(grep -c . "$out/results.jsonl" 2>/dev/null || echo 0)))
        for f in "$out-plain"/results.jsonl "$out-plain"/*.npy; do
            cmp -s "$f" "$out/${f##*/}" \
                || { wrong=$((wrong + 1)); echo "chaos: $name: ${f##*/} differs from the plain run" >&2; }
        done
        left_behind "$name"
    done
}

for trial in $(seq 1 "$TRIALS"); do
    fault_cases "$trial"
    hostile_cases "$trial"
    mixed_thread_cases "$trial"
done

printf '%-8s %-8s %-6s %-14s %-14s %-14s\n' cases crashes hangs "wrong outputs" "lost examples" "left behind"
printf '%-8s %-8s %-6s %-14s %-14s %-14s\n' $cases $crashes $hangs $wrong $lost $leftover
for name in flood-hello flood-fetch; do
    printf 'coordinator peak RSS under %s: %d MiB (bound %d MiB)\n' "$name" $((${peak_rss[$name]:-0} / 1024)) $((RSS_BOUND_KB / 1024))
done
[ $((crashes + hangs + wrong + lost + leftover)) -eq 0 ]
