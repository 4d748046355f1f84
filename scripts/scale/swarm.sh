#!/usr/bin/env bash
# A thousand simulated workers (one process, one DEALER socket each: cluster-demo swarm) against one
# cluster-demo coordinator (of BIN), for docs/SCALING.md: every result once, no expiry, the coordinator's
# CPU, peak memory and file descriptors.
#   scripts/scale/swarm.sh BIN WORKERS COUNT DELAY_MS OUT
#   e.g. scripts/scale/swarm.sh .build/release 1000 60000 500 /tmp/swarm-1000
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:?bin}; workers=${2:?workers}; count=${3:?count}; delay=${4:?delay ms}; out=${5:?output dir}
swarm_bin=${SWARM_BIN:-$here/.build/release}
rm -rf "$out"; mkdir -p "$out"
port=$((20000 + RANDOM % 20000))
/usr/bin/time -v "$bin/cluster-demo" coordinator --bind "tcp://127.0.0.1:$port" --count "$count" \
    --out "$out/results.txt" --worker-timeout 120 > "$out/coordinator.out" 2> "$out/coordinator.err" &
coordinator=$!
sleep 0.5
"$swarm_bin/cluster-demo" swarm --connect "tcp://127.0.0.1:$port" --workers "$workers" --delay-ms "$delay" \
    --results demo --max-seconds 900 > "$out/swarm.out" 2> "$out/swarm.err" &
swarmpid=$!
start=$(date +%s.%N)
wait "$coordinator" || { echo "coordinator failed: $(tail -3 "$out/coordinator.err")"; kill "$swarmpid" 2>/dev/null; exit 1; }
end=$(date +%s.%N)
wait "$swarmpid" || true
echo "workers $workers, $count results, delay $delay ms: wall $(echo "$end - $start" | bc) s"
echo "distinct results: $(grep -c '"value"' "$out/results.txt") of $count; missing or failed: $(grep -c -E 'missing|failed' "$out/results.txt")"
echo "expiries (silent for): $(grep -c 'silent for' "$out/coordinator.err"); requeues: $(grep -o 'requeued [0-9]*' "$out/coordinator.err" | tail -1)"
grep -E "coordinator CPU|run finished|open-files" "$out/coordinator.err" | tail -3
grep -E "Maximum resident|User time|System time" "$out/coordinator.err"
cat "$out/swarm.out"
