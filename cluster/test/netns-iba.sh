#!/usr/bin/env bash
# The several-hosts test with the real executables: iba-coordinator in one network namespace,
# iba-worker in two others, one worker's link cut mid-run and restored (cluster/test/netns-topology.sh),
# and the run's results.jsonl compared with a run without the cut. Needs root. The workers have no
# model on their "disk": the coordinator ships it (--ship-model) into a cache per worker name.
# Usage: cluster/test/netns-iba.sh [MODEL_DIR] [EXAMPLES]   (default: models/demo-agnews, 24 examples)
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(realpath .build/release)
model=$(realpath "${1:-models/demo-agnews}")
examples=${2:-24}
work=$(mktemp -d "${TMPDIR:-/tmp}/iba-netns-cmds.XXXXXX")
trap 'rm -rf "$work"' EXIT

cat > "$work/coordinator.sh" <<SH
#!/usr/bin/env bash
set -e
"$bin/iba-coordinator" --workers 0 --bind "\$1" --model "$model" --test-sample $examples \
    --heartbeat 0.5 --worker-timeout 120 --ship-model --quiet --output "\$2.d" >/dev/null
cp "\$2.d/results.jsonl" "\$2"
SH
cat > "$work/worker.sh" <<SH
#!/usr/bin/env bash
exec "$bin/iba-worker" --connect "\$1" --name "\$2" --idle-exit 60 --model "$work/no-model-here" --model-cache "$work/cache-\$2"
SH
chmod +x "$work/coordinator.sh" "$work/worker.sh"
bash cluster/test/netns-topology.sh --coordinator "$work/coordinator.sh {BIND} {OUT}" --worker "$work/worker.sh {CONNECT} {NAME}" \
    --cut-after 3 --cut-for 4 --timeout 600
