#!/usr/bin/env bash
# cluster/slurm.sbatch on a real Slurm: a throwaway single-node cluster on this machine (Debian's
# slurm-wlm + munge; its own munge key and socket, slurm.conf, state, spool, logs and pid files in a
# temporary directory, daemons bound to loopback), the script submitted with the model on EXAMPLES
# examples, `scontrol requeue`d once some results are in its results log, and the requeued run checked:
# it resumed from the log (computed only the examples left) and wrote a results.jsonl identical to
# `iba evaluate` with the same options. Every daemon it started is stopped by its pid. Needs root;
# installs slurm-wlm and munge with apt-get when missing.
# Usage: cluster/test/slurm-requeue.sh [MODEL_DIR] [EXAMPLES]   (default: models/demo-agnews, 16 examples)
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(realpath .build/release)
model=$(realpath "${1:-models/demo-agnews}")
examples=${2:-16}
timeout_seconds=${SLURM_TEST_TIMEOUT:-300}
log() { echo "slurm-test: [${SECONDS}s] $*" >&2; }
fail() { log "FAIL: $*"; exit 1; }

[ "$(id -u)" = 0 ] || fail "needs root (slurmd launches jobs as their user)"
[ -x "$bin/iba-coordinator" ] && [ -x "$bin/iba-worker" ] && [ -x "$bin/iba" ] || fail "build first: swift build -c release"
[ "$examples" -ge 4 ] || fail "EXAMPLES must be at least 4 (the job is requeued after a quarter of them)"
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null \
    || ! command -v munged >/dev/null; then
    log "installing slurm-wlm and munge"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y slurm-wlm munge >/dev/null 2>&1 \
        || { apt-get update >/dev/null && apt-get install -y slurm-wlm munge >/dev/null; } \
        || fail "apt-get install slurm-wlm munge failed"
fi
node=$(hostname -s)
getent hosts "$node" >/dev/null || fail "this host's name $node does not resolve (add it to /etc/hosts): the job script reaches its coordinator by node name"

work=$(mktemp -d "${TMPDIR:-/tmp}/iba-slurm-test.XXXXXX")
chmod 755 "$work"   # munged wants its socket's directories searchable by all
daemons=()          # "name pid", stopped in reverse order
job=""
cleanup() {
    local status=$? name pid
    trap - EXIT INT TERM
    if [ "$status" != 0 ]; then   # the temporary directory goes: show what it knew
        [ -n "$job" ] && log "job $job: $(squeue -h -j "$job" -o '%T %r' 2>/dev/null)"
        for file in "$work/log/slurmctld.log" "$work/log/slurmd.log" "$work/iba-eval-$job.out"; do
            [ -s "$file" ] && { log "last lines of $(basename "$file"):"; tail -n 15 "$file" >&2; }
        done
    fi
    if [ -n "$job" ] && squeue -h -j "$job" 2>/dev/null | grep -q .; then
        log "cancelling job $job"
        scancel "$job" 2>/dev/null || true
        for _ in $(seq 40); do squeue -h -j "$job" 2>/dev/null | grep -q . || break; sleep 0.5; done
    fi
    for ((i = ${#daemons[@]} - 1; i >= 0; i--)); do
        read -r name pid <<< "${daemons[i]}"
        kill "$pid" 2>/dev/null || continue
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && { log "$name (pid $pid) ignored SIGTERM: killing it"; kill -9 "$pid" 2>/dev/null || true; }
        wait "$pid" 2>/dev/null || true
    done
    # Anything left from the job (slurmstepd, srun, coordinator, workers) carries this cluster's
    # SLURM_CONF in its environment: nothing else on the machine does.
    for environ in /proc/[0-9]*/environ; do
        pid=${environ#/proc/}; pid=${pid%/environ}
        [ "$pid" = $$ ] && continue
        if tr '\0' '\n' 2>/dev/null < "$environ" | grep -qxF "SLURM_CONF=$work/slurm.conf"; then
            log "killing leftover process $pid: $(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null)"
            kill -9 "$pid" 2>/dev/null || true
        fi
    done
    if [ -n "${watchdog:-}" ]; then pkill -P "$watchdog" 2>/dev/null || true; kill "$watchdog" 2>/dev/null || true; fi
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT
trap 'fail "interrupted"' INT
trap 'fail "timed out after $timeout_seconds s"' TERM
( sleep "$timeout_seconds" && kill -TERM $$ ) 2>/dev/null &
watchdog=$!

# wait_for SECONDS DESCRIPTION COMMAND...: poll COMMAND every 0.2 s.
wait_for() {
    local seconds=$1 what=$2; shift 2
    local end=$((SECONDS + seconds))
    until "$@"; do
        [ "$SECONDS" -lt "$end" ] || fail "no $what after $seconds s"
        sleep 0.2
    done
}
free_port() {
    local port
    while :; do
        port=$((20000 + RANDOM % 20000))
        ss -Hltn "sport = :$port" 2>/dev/null | grep -q . || { echo "$port"; return; }
    done
}

# munge: a key and a socket of its own, so a system munged (if any) is left alone.
mkdir -p "$work/munge" "$work/state" "$work/spool" "$work/log" "$work/out"
chmod 755 "$work/munge"
if command -v mungekey >/dev/null; then
    mungekey --create --keyfile "$work/munge/munge.key"
else
    dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 2>/dev/null
fi
chmod 600 "$work/munge/munge.key"
munged --foreground --socket="$work/munge/munge.socket" --key-file="$work/munge/munge.key" \
    --log-file="$work/log/munged.log" --pid-file="$work/munge/munged.pid" --seed-file="$work/munge/munged.seed" \
    2>>"$work/log/munged.log" &
daemons+=("munged $!")
wait_for 10 "munged socket" test -S "$work/munge/munge.socket"
munge -S "$work/munge/munge.socket" -n | unmunge -S "$work/munge/munge.socket" >/dev/null || fail "munge does not work: $(tail -3 "$work/log/munged.log")"

# slurm.conf: this node with its real CPUs and memory (slurmd -C), no cgroup plugin (none works in
# this container), short KillWait so a requeue takes seconds.
ctld_port=$(free_port); slurmd_port=$(free_port); coordinator_port=$(free_port)
node_line=$(slurmd -C | head -n 1)
cpus=$(sed -n 's/.* CPUs=\([0-9]*\).*/\1/p' <<< "$node_line")
cat > "$work/slurm.conf" <<EOF
ClusterName=ibatest
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
CommunicationParameters=NoInAddrAny,NoCtldInAddrAny
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$work/munge/munge.socket
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
KillWait=5
MinJobAge=600
MailProg=/bin/true
$node_line NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=test Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$work/slurm.conf
slurmctld -D -f "$SLURM_CONF" >>"$work/log/slurmctld.out" 2>&1 &
daemons+=("slurmctld $!")
slurmd -D -f "$SLURM_CONF" >>"$work/log/slurmd.out" 2>&1 &
daemons+=("slurmd $!")
node_idle() { [ "$(sinfo -h -n "$node" -o %t 2>/dev/null)" = idle ]; }
wait_for 30 "idle node $node (slurmctld.log: $work/log/slurmctld.log)" node_idle
log "$(sinfo -V) up: node $node ($cpus CPUs), slurmctld on 127.0.0.1:$ctld_port"

# The job: the repository's script as is; what differs from a real cluster is in sbatch's options
# and the environment variables the script reads.
job=$(COORDINATOR="$bin/iba-coordinator" WORKER="$bin/iba-worker" PORT=$coordinator_port BIND="tcp://127.0.0.1:$coordinator_port" \
    RESULTS_DIR="$work/out" sbatch --parsable --nodes=1 --cpus-per-task="$cpus" --time=10 --chdir="$work" \
    --output="$work/iba-eval-%j.out" cluster/slurm.sbatch \
    --model "$model" --test-sample "$examples" --heartbeat 0.5 --worker-timeout 120)
job=${job%%;*}
out="$work/out/iba-$job"
results_log="$out/results.log.jsonl"
job_state() { scontrol show job "$job" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p'; }
job_is() { [ "$(job_state)" = "$1" ]; }
results_logged() { local lines; lines=$( (cat "$results_log" 2>/dev/null || true) | wc -l); echo $((lines > 0 ? lines - 1 : 0)); }
log "submitted job $job ($examples examples, $cpus worker(s): one per CPU)"
wait_for 60 "running job $job" job_is RUNNING

first=$((examples / 4))
enough_results() {
    case $(job_state) in RUNNING) ;; *) fail "job $job is $(job_state) before the requeue: $(tail -5 "$work/iba-eval-$job.out")";; esac
    [ "$(results_logged)" -ge "$first" ]
}
wait_for 120 "$first results in $results_log" enough_results
log "requeueing job $job after $(results_logged) result(s)"
scontrol requeue "$job"
wait_for 30 "pending job $job after the requeue" job_is PENDING
done_before=$(results_logged)
[ "$done_before" -lt "$examples" ] || fail "the first run finished all $examples examples before the requeue: pass more examples"
log "job $job pending again, $done_before of $examples result(s) in its results log"
scontrol update JobId="$job" StartTime=now   # a requeued job otherwise waits 120 s (cred_expire)

finished() {
    case $(job_state) in
        COMPLETED) return 0 ;;
        PENDING|CONFIGURING|RUNNING|COMPLETING) return 1 ;;
        *) fail "job $job ended $(job_state): $(tail -20 "$work/iba-eval-$job.out")" ;;
    esac
}
wait_for 240 "completed job $job" finished
restarts=$(scontrol show job "$job" | sed -n 's/.*Restarts=\([0-9]*\).*/\1/p')

log "job $job completed; the same evaluation with iba evaluate"
timeout 300 "$bin/iba" evaluate --model "$model" --test-sample "$examples" --output "$work/reference" --quiet \
    >/dev/null 2>"$work/reference.err" || fail "iba evaluate failed: $(tail -5 "$work/reference.err")"

output="$work/iba-eval-$job.out"
grep -h "^job \|\[cluster\] coordinator on\|\[cluster\] run finished\|DUE TO JOB REQUEUE" "$output" >&2 || true
[ "$restarts" = 1 ] || fail "job $job restarted $restarts time(s), expected 1"
grep -q "restart 1" "$output" || fail "the job's output shows no restart"
resumed=$(grep -h "\[cluster\] coordinator on" "$output" | sed -n '2s/.* \([0-9]*\) from the results log.*/\1/p')
[ -n "$resumed" ] || fail "the requeued job's coordinator did not report resuming from its results log"
[ "$resumed" = "$done_before" ] || fail "the requeued job resumed $resumed result(s), the log held $done_before"
[ "$(results_logged)" = "$examples" ] || fail "results log holds $(results_logged) results, expected $examples (each example once)"
computed=$((examples - resumed))
log "second run: $resumed result(s) from the results log, $computed computed"
[ "$computed" -lt "$examples" ] || fail "the requeued job computed every example again"
cmp -s "$work/reference/results.jsonl" "$out/results.jsonl" || fail "results.jsonl differs from iba evaluate's"
log "PASS: job $job requeued after $done_before of $examples result(s), resumed from its results log (computed only the $computed left); results.jsonl identical to iba evaluate"
