#!/usr/bin/env bash
# SSH launching for real: a throwaway sshd on a loopback port (its own host key, one client key,
# no change to ~/.ssh), `iba-coordinator --hosts` starting two workers through it with --ssh, the
# model shipped to them (--ship-model; their --model points nowhere), one remote worker killed with
# SIGKILL mid-run (the launcher relaunches it over SSH), and results.jsonl compared with
# `iba evaluate`. Needs root (sshd) and openssh-server.
# Usage: cluster/test/ssh-launch.sh [MODEL_DIR] [EXAMPLES]   (default: models/demo-agnews, 40 examples; the other
# worker is paused from the kill until the relaunch, so it cannot finish them all first)
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(realpath .build/release)
model=$(realpath "${1:-models/demo-agnews}")
examples=${2:-40}
sshd=$(command -v sshd || echo /usr/sbin/sshd)
log() { echo "ssh-test: $*" >&2; }
[ -x "$sshd" ] || { log "sshd is not installed (apt-get install openssh-server)"; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/iba-ssh-test.XXXXXX")
cleanup() {
    [ -f "$work/sshd.pid" ] && kill "$(cat "$work/sshd.pid")" 2>/dev/null || true
    pkill -9 -f "iba-worker.*$work" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

port=$((20000 + RANDOM % 20000))
ssh-keygen -q -t ed25519 -N "" -f "$work/host_key"
ssh-keygen -q -t ed25519 -N "" -f "$work/client_key"
cp "$work/client_key.pub" "$work/authorized_keys"
cat > "$work/sshd_config" <<EOF
Port $port
ListenAddress 127.0.0.1
HostKey $work/host_key
AuthorizedKeysFile $work/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
PidFile $work/sshd.pid
EOF
cat > "$work/ssh_config" <<EOF
Host iba-ssh-test
    HostName 127.0.0.1
    Port $port
    IdentityFile $work/client_key
    IdentitiesOnly yes
    StrictHostKeyChecking no
    UserKnownHostsFile /dev/null
    LogLevel ERROR
EOF
mkdir -p /run/sshd
"$sshd" -f "$work/sshd_config" -E "$work/sshd.log"
for _ in $(seq 50); do ssh -F "$work/ssh_config" -o BatchMode=yes iba-ssh-test true 2>/dev/null && break; sleep 0.1; done
ssh -F "$work/ssh_config" -o BatchMode=yes iba-ssh-test true || { log "sshd did not come up"; cat "$work/sshd.log" >&2; exit 1; }
log "sshd on 127.0.0.1:$port"
echo "2/$(id -un)@iba-ssh-test" > "$work/hosts"

"$bin/iba" evaluate --model "$model" --test-sample "$examples" --output "$work/reference" --quiet >/dev/null
"$bin/iba-coordinator" --workers 0 --hosts "$work/hosts" --ssh "ssh -F $work/ssh_config" --advertise 127.0.0.1 \
    --bind tcp://127.0.0.1:0 --remote-worker "$bin/iba-worker" --worker-model "$work/no-model-here" \
    --worker-model-cache "$work/cache" --ship-model --heartbeat 0.5 --worker-timeout 120 \
    --model "$model" --test-sample "$examples" --output "$work/cluster" 2>"$work/coordinator.log" >/dev/null &
coordinator=$!
results="$work/cluster/results.log.jsonl"
for _ in $(seq 600); do [ "$(cat "$results" 2>/dev/null | wc -l)" -ge 4 ] && break; sleep 0.1; done
victim=$(pgrep -f "^$bin/iba-worker .*--name iba-ssh-test-0" | head -1 || true)   # the remote worker, not the local ssh client
ps -o pid,ppid,args -p "$victim" >&2 || true
[ -n "$victim" ] || { log "no remote worker found to kill"; kill "$coordinator"; exit 1; }
# The survivor is paused until the relaunch is seen, so a busy machine cannot let it finish the run first.
survivor=$(pgrep -f "^$bin/iba-worker .*--name iba-ssh-test-1" | head -1 || true)
[ -n "$survivor" ] && kill -STOP "$survivor"
log "killing remote worker iba-ssh-test-0 (pid $victim) after $(($(wc -l < "$results") - 1)) result(s)"
kill -9 "$victim"
for _ in $(seq 600); do grep -q "relaunching" "$work/coordinator.log" && break; sleep 0.1; done
grep -q "relaunching" "$work/coordinator.log" || { log "no relaunch 60 s after the kill; processes:"; ps -ef --forest | grep -B2 -A2 "iba-ssh-test" >&2 || true; }
[ -n "$survivor" ] && kill -CONT "$survivor"
status=0; wait "$coordinator" || status=$?
grep -h "joined\|silent\|relaunching\|is fetching\|run finished" "$work/coordinator.log" >&2 || true
grep -h "is in the cache" "$work/cluster/workers/"*.log >&2 || true
[ "$status" = 0 ] || { log "FAIL: coordinator exit status $status"; tail -20 "$work/coordinator.log" >&2; exit 1; }
grep -q "relaunching" "$work/coordinator.log" || {
    log "FAIL: the killed worker was not relaunched (its ssh client had not exited)"
    tail -20 "$work/sshd.log" >&2 || true
    exit 1
}
if cmp -s "$work/reference/results.jsonl" "$work/cluster/results.jsonl"; then
    log "PASS: workers started over SSH, model shipped, one killed and relaunched; results.jsonl identical to iba evaluate"
else
    log "FAIL: results differ"; exit 1
fi
