#!/usr/bin/env bash
# Several "hosts" on one machine: network namespaces joined by a bridge.
# Runs a coordinator and workers across them, cuts one worker's link
# mid-run (ip link set ... down), restores it, and checks that the run
# completes with output identical to a local run. Needs root and iproute2.
#
# Topology (all addresses exist only inside the namespaces created here):
#   ns iba-TAG-sw   bridge br0 (no address)
#   ns iba-TAG-c    eth0 10.77.0.1/24    coordinator
#   ns iba-TAG-wK   eth0 10.77.0.1K/24   worker K (K = 1..WORKERS)
#
# Usage:
#   cluster/test/netns-topology.sh --demo .build/release/cluster-demo          # the fake computation
#   cluster/test/netns-topology.sh --coordinator 'iba-coordinator ... --bind {BIND} --output {OUT}' \
#                         --worker 'iba-worker --connect {CONNECT} --name {NAME}'
#   cluster/test/netns-topology.sh --setup-only                                 # topology + ping, then teardown
# Placeholders: {BIND} coordinator endpoint to bind, {CONNECT} endpoint to
# connect, {NAME} worker name, {OUT} the output file compared between runs.
# The commands must write {OUT} deterministically and exit 0 when done.
set -euo pipefail

WORKERS=2
CUT_AFTER=2        # seconds into the run before the link of worker 1 goes down
CUT_FOR=4          # seconds the link stays down (longer than the heartbeat liveness)
TIMEOUT=300        # seconds a run may take
PORT=5555
COORDINATOR_CMD=""
WORKER_CMD=""
SETUP_ONLY=0
KEEP=0

usage() { sed -n '2,24p' "$0"; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
        --demo)
            demo=$(realpath "$2"); shift
            COORDINATOR_CMD="$demo coordinator --bind {BIND} --count 120 --heartbeat 0.5 --worker-timeout 30 --out {OUT}"
            WORKER_CMD="$demo worker --connect {CONNECT} --name {NAME} --delay-ms 100 --heartbeat 0.5 --idle-exit 30" ;;
        --coordinator) COORDINATOR_CMD="$2"; shift ;;
        --worker) WORKER_CMD="$2"; shift ;;
        --workers) WORKERS="$2"; shift ;;
        --cut-after) CUT_AFTER="$2"; shift ;;
        --cut-for) CUT_FOR="$2"; shift ;;
        --timeout) TIMEOUT="$2"; shift ;;
        --setup-only) SETUP_ONLY=1 ;;
        --keep-output) KEEP=1 ;;
        *) usage ;;
    esac
    shift
done
if [ "$SETUP_ONLY" = 0 ] && { [ -z "$COORDINATOR_CMD" ] || [ -z "$WORKER_CMD" ]; }; then usage; fi
[ "$(id -u)" = 0 ] || { echo "netns-test: needs root (network namespaces)" >&2; exit 2; }

TAG=$(printf '%04x' $((RANDOM)))
NS_SW="iba-$TAG-sw"
NS_C="iba-$TAG-c"
SUBNET=10.77.0
WORK=$(mktemp -d "${TMPDIR:-/tmp}/iba-netns.XXXXXX")
PIDS=()
NAMESPACES=()

log() { echo "netns-test: $*" >&2; }

cleanup() {
    local status=$?
    for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true; done
    # Deleting a namespace deletes the veth ends inside it (and so their peers).
    for ns in "${NAMESPACES[@]:-}"; do [ -n "$ns" ] && ip netns del "$ns" 2>/dev/null || true; done
    if [ "$KEEP" = 1 ]; then log "outputs kept in $WORK"; else rm -rf "$WORK"; fi
    exit $status
}
trap cleanup EXIT INT TERM

ns_name() { [ "$1" = c ] && echo "$NS_C" || echo "iba-$TAG-w$1"; }
ns_addr() { [ "$1" = c ] && echo "$SUBNET.1" || echo "$SUBNET.$((10 + $1))"; }
# Interface names stay under 15 characters: v<TAG><host> inside, b<TAG><host> on the bridge.

add_host() {  # add_host c|K
    local host=$1 ns inner outer
    ns=$(ns_name "$host"); inner="v$TAG$host"; outer="b$TAG$host"
    ip netns add "$ns"; NAMESPACES+=("$ns")
    # Created inside the switch namespace, so the root namespace never holds either end.
    ip -n "$NS_SW" link add "$inner" type veth peer name "$outer"
    ip -n "$NS_SW" link set "$inner" netns "$ns"
    ip -n "$NS_SW" link set "$outer" master br0 up
    ip -n "$ns" link set lo up
    ip -n "$ns" link set "$inner" name eth0
    ip -n "$ns" addr add "$(ns_addr "$host")/24" dev eth0
    ip -n "$ns" link set eth0 up
}

# No ping here, maybe: a TCP connect to a closed port that is *refused*
# proves the coordinator's address answers; a timeout means it does not.
reachable() {  # reachable K
    local answer
    answer=$(ip netns exec "$(ns_name "$1")" timeout 3 bash -c "exec 3<>/dev/tcp/$(ns_addr c)/9" 2>&1 || true)
    case "$answer" in *refused*) return 0 ;; *) return 1 ;; esac
}

setup() {
    ip netns add "$NS_SW"; NAMESPACES+=("$NS_SW")
    ip -n "$NS_SW" link add br0 type bridge
    ip -n "$NS_SW" link set br0 up
    add_host c
    for k in $(seq 1 "$WORKERS"); do add_host "$k"; done
    for k in $(seq 1 "$WORKERS"); do
        reachable "$k" || { log "worker $k cannot reach the coordinator"; exit 1; }
    done
    log "topology up: coordinator $(ns_addr c), $WORKERS worker namespace(s), tag $TAG"
}

expand() {  # expand TEMPLATE BIND CONNECT NAME OUT
    local s=$1
    s=${s//\{BIND\}/$2}; s=${s//\{CONNECT\}/$3}; s=${s//\{NAME\}/$4}; s=${s//\{OUT\}/$5}
    echo "$s"
}

wait_for() {  # wait_for PID SECONDS -> exit status of PID, 124 on timeout
    local pid=$1 deadline=$((SECONDS + $2))
    while kill -0 "$pid" 2>/dev/null; do
        [ $SECONDS -ge $deadline ] && return 124
        sleep 0.2
    done
    wait "$pid"
}

# run NAME CUT: coordinator in its namespace, one worker per worker
# namespace (or one worker over loopback for the local reference run).
run() {
    local name=$1 cut=$2 out="$WORK/$1.out" coordinator_pid status worker_pids=()
    if [ "$name" = local ]; then
        local bind="tcp://127.0.0.1:$PORT" connect="tcp://127.0.0.1:$PORT"
    else
        local bind="tcp://$(ns_addr c):$PORT" connect="tcp://$(ns_addr c):$PORT"
    fi
    ip netns exec "$NS_C" $(expand "$COORDINATOR_CMD" "$bind" "$connect" coordinator "$out") \
        2>"$WORK/$name.coordinator.log" &
    coordinator_pid=$!; PIDS+=("$coordinator_pid")
    sleep 0.5
    if [ "$name" = local ]; then
        ip netns exec "$NS_C" $(expand "$WORKER_CMD" "$bind" "$connect" local-1 "$out") \
            2>"$WORK/$name.worker-1.log" &
        PIDS+=("$!"); worker_pids+=("$!")
    else
        for k in $(seq 1 "$WORKERS"); do
            ip netns exec "$(ns_name "$k")" $(expand "$WORKER_CMD" "$bind" "$connect" "ns-$k" "$out") \
                2>"$WORK/$name.worker-$k.log" &
            PIDS+=("$!"); worker_pids+=("$!")
        done
    fi
    if [ "$cut" = 1 ]; then
        sleep "$CUT_AFTER"
        log "cutting worker 1's link for $CUT_FOR s"
        ip -n "$NS_SW" link set "b${TAG}1" down
        sleep "$CUT_FOR"
        ip -n "$NS_SW" link set "b${TAG}1" up
        log "worker 1's link restored"
    fi
    status=0
    wait_for "$coordinator_pid" "$TIMEOUT" || status=$?
    if [ "$status" != 0 ]; then
        log "$name run: coordinator exit status $status; its log:"
        tail -20 "$WORK/$name.coordinator.log" >&2
        exit 1
    fi
    log "$name run finished: $(wc -l < "$out") output line(s)"
    # Workers leave on the coordinator's DONE (or after their idle timeout).
    for pid in "${worker_pids[@]}"; do
        status=0
        wait_for "$pid" 15 || status=$?
        [ "$status" = 0 ] || log "$name run: a worker exited with status $status"
    done
}

setup
if [ "$SETUP_ONLY" = 1 ]; then log "setup only: tearing down"; exit 0; fi
run local 0
run cluster 1
grep -h "silent for\|joined\|run finished" "$WORK/cluster.coordinator.log" >&2 || true
grep -h "greeting again\|exits\|is in the cache" "$WORK"/cluster.worker-*.log >&2 || true
if cmp -s "$WORK/local.out" "$WORK/cluster.out"; then
    log "PASS: cluster output identical to the local run"
else
    log "FAIL: outputs differ"; diff "$WORK/local.out" "$WORK/cluster.out" | head -5 >&2
    exit 1
fi
