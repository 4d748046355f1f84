#!/usr/bin/env bash
# One coordinator run under load, for docs/SCALING.md: iba-coordinator (of BIN) over N rows of a JSONL
# dataset, --method random on the demo model, fed by simulated workers (cluster-demo swarm of SWARM_BIN:
# synthetic but valid results, no model computation) or by real iba-worker processes (WORKERS_REAL=K).
# Prints the coordinator's own CPU note and /usr/bin/time's peak RSS and CPU.
#   scripts/scale/coordinator.sh BIN ROWS OUT [SWARM_WORKERS]      (METHODS=iba,ig,lime,random: several methods)
#   e.g. scripts/scale/coordinator.sh /tmp/before-bin 20000 /tmp/scale-before-20k 8
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:?bin dir}; rows=${2:?rows}; out=${3:?output dir}; swarm=${4:-8}
swarm_bin=${SWARM_BIN:-$here/.build/release}
data=/tmp/iba-scale-$rows.jsonl
[ -f "$data" ] || bash "$here/scripts/scale/dataset.sh" "$rows" "$data"
rm -rf "$out"; mkdir -p "$out"
port=$((20000 + RANDOM % 20000))
workers=0; [ -n "${WORKERS_REAL:-}" ] && workers=$WORKERS_REAL
method=(--method random); [ -n "${METHODS:-}" ] && method=(--methods "$METHODS")
/usr/bin/time -v "$bin/iba-coordinator" --model "$here/models/demo-agnews" --dataset jsonl --data-path "$data" \
    "${method[@]}" --test-sample all --output "$out/run" --quiet --workers "$workers" \
    --bind "tcp://127.0.0.1:$port" --worker-timeout 120 > "$out/coordinator.out" 2> "$out/coordinator.err" &
coordinator=$!
if [ -z "${WORKERS_REAL:-}" ]; then
    sleep 1
    "$swarm_bin/cluster-demo" swarm --connect "tcp://127.0.0.1:$port" --workers "$swarm" --results evaluation \
        > "$out/swarm.out" 2> "$out/swarm.err" &
    swarmpid=$!
fi
start=$(date +%s.%N)
wait "$coordinator" || { echo "coordinator failed:"; tail -5 "$out/coordinator.err"; exit 1; }
end=$(date +%s.%N)
[ -n "${swarmpid:-}" ] && wait "$swarmpid" || true
seconds=$(echo "$end - $start" | bc)
echo "rows $rows: wall $seconds s, $(echo "scale=0; $rows / $seconds" | bc) results/s"
grep -h "coordinator CPU" "$out/coordinator.out" "$out/coordinator.err" | tail -1
grep -E "Maximum resident|User time|System time" "$out/coordinator.err"
cat "$out/swarm.out" 2>/dev/null || true
