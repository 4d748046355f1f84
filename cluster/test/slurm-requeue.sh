#!/usr/bin/env bash
# cluster/slurm.sbatch on a real Slurm: a throwaway cluster of two nodes on this one machine (Debian's
# slurm-wlm + munge; two slurmd, `slurmd -N n1` and `slurmd -N n2`, each on its own port, sharing the
# machine's CPUs; its own munge key and socket, slurm.conf, state, spools, logs and pid files in a
# temporary directory, daemons bound to loopback). The script is submitted with --nodes=2 (coordinator on
# n1, a worker on each node); once a quarter of the results are in its results log and workers of both
# nodes have joined, n1's worker is paused (SIGSTOP until the requeue, so the run cannot end first) and node n2
# dies: its slurmd, slurmstepd and worker are killed with SIGKILL at once. Slurm
# marks n2 DOWN and requeues the job; n2's slurmd comes back, the job runs again on both nodes, resumes
# from its results log (computes only the examples left) and writes a results.jsonl identical to
# `iba evaluate` with the same options. Then cluster/slurm-parts.sh runs the same evaluation as a job
# array of two parts (--part 1/2 and 2/2, one node each) and a merge job, whose results.jsonl must be
# identical too. Every daemon it started is stopped by its pid. Needs root; installs slurm-wlm and munge
# with apt-get when missing.
# SLURM_TEST_NODES=1: one node, the job `scontrol requeue`d mid-run instead; SLURM_TEST_PARTS=0: no job
# array; SLURM_TEST_TIMEOUT: seconds before the watchdog fails the test (default 900).
# Usage: cluster/test/slurm-requeue.sh [MODEL_DIR] [EXAMPLES]   (default: models/demo-agnews, 16 examples)
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(realpath .build/release)
model=$(realpath "${1:-models/demo-agnews}")
examples=${2:-16}
timeout_seconds=${SLURM_TEST_TIMEOUT:-900}
nodes=${SLURM_TEST_NODES:-2}
parts_test=${SLURM_TEST_PARTS:-1}
log() { echo "slurm-test: [${SECONDS}s] $*" >&2; }
fail() { log "FAIL: $*"; exit 1; }

[ "$(id -u)" = 0 ] || fail "needs root (slurmd launches jobs as their user)"
[ -x "$bin/iba-coordinator" ] && [ -x "$bin/iba-worker" ] && [ -x "$bin/iba" ] || fail "build first: swift build -c release"
[ "$examples" -ge 4 ] || fail "EXAMPLES must be at least 4 (the job is requeued after a quarter of them)"
case $nodes in 1|2) ;; *) fail "SLURM_TEST_NODES must be 1 or 2, not $nodes" ;; esac
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null \
    || ! command -v munged >/dev/null; then
    log "installing slurm-wlm and munge"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y slurm-wlm munge >/dev/null 2>&1 \
        || { apt-get update >/dev/null && apt-get install -y slurm-wlm munge >/dev/null; } \
        || fail "apt-get install slurm-wlm munge failed"
fi
host=$(hostname -s)

work=$(mktemp -d "${TMPDIR:-/tmp}/iba-slurm-test.XXXXXX")
chmod 755 "$work"   # munged wants its socket's directories searchable by all
daemons=()          # "name pid", stopped in reverse order
job=""
cleanup() {
    local status=$? name pid file
    trap - EXIT INT TERM
    if [ "$status" != 0 ]; then   # the temporary directory goes: show what it knew
        [ -n "$job" ] && log "job $job: $(squeue -h -j "$job" -o '%T %r' 2>/dev/null)"
        for file in "$work/log/slurmctld.log" "$work"/log/slurmd-n*.log "$work"/iba-*.out; do
            [ -s "$file" ] && { log "last lines of $(basename "$file"):"; tail -n 15 "$file" >&2; }
        done
    fi
    if [ -n "${SLURM_CONF:-}" ] && squeue -h 2>/dev/null | grep -q .; then   # SLURM_CONF: this cluster's jobs only
        log "cancelling the jobs left: $(squeue -h -o %i 2>/dev/null | tr '\n' ' ')"
        scancel --user=root 2>/dev/null || true
        for _ in $(seq 40); do squeue -h 2>/dev/null | grep -q . || break; sleep 0.5; done
    fi
    for ((i = ${#daemons[@]} - 1; i >= 0; i--)); do
        read -r name pid <<< "${daemons[i]}"
        kill "$pid" 2>/dev/null || continue
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && { log "$name (pid $pid) ignored SIGTERM: killing it"; kill -9 "$pid" 2>/dev/null || true; }
        wait "$pid" 2>/dev/null || true
    done
    # Anything left from the jobs (slurmstepd, srun, coordinator, workers) carries this cluster's
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

# slurm.conf: nodes n1..nN on this machine, one slurmd each (`slurmd -N nK`, its own port, spool, log and
# pid file through %n), the machine's CPUs and memory (slurmd -C) shared between them; no cgroup plugin
# (none works in this container); short KillWait so a requeue takes seconds, SlurmdTimeout=3 and
# MessageTimeout=2 so a dead node is DOWN (and its job requeued) within about 8 s (SlurmdTimeout=6: 27 s).
ctld_port=$(free_port); coordinator_port=$(free_port); parts_port=$(free_port)
node_line=$(slurmd -C | head -n 1)
cpus=$(sed -n 's/.* CPUs=\([0-9]*\).*/\1/p' <<< "$node_line")
memory=$(sed -n 's/.* RealMemory=\([0-9]*\).*/\1/p' <<< "$node_line")
per_node=$((cpus / nodes > 0 ? cpus / nodes : 1))
cat > "$work/slurm.conf" <<CONF
ClusterName=ibatest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
CommunicationParameters=NoInAddrAny,NoCtldInAddrAny
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$work/munge/munge.socket
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool/%n
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd-%n.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd-%n.log
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
SlurmdTimeout=3
MessageTimeout=2
KillWait=5
MinJobAge=600
MailProg=/bin/true
PartitionName=test Nodes=n[1-$nodes] Default=YES MaxTime=INFINITE State=UP
CONF
for k in $(seq "$nodes"); do
    echo "NodeName=n$k NodeHostname=$host NodeAddr=127.0.0.1 Port=$(free_port) CPUs=$per_node" \
        "RealMemory=$((memory / nodes)) State=UNKNOWN" >> "$work/slurm.conf"
    mkdir -p "$work/spool/n$k"
done
export SLURM_CONF=$work/slurm.conf
slurmctld -D -f "$SLURM_CONF" >>"$work/log/slurmctld.out" 2>&1 &
daemons+=("slurmctld $!")
# A node's slurmd carries a marker in its environment (kill_node finds it by it).
start_slurmd() {
    IBA_SLURM_TEST_NODE="$work/n$1" slurmd -D -N "n$1" -f "$SLURM_CONF" >>"$work/log/slurmd-n$1.out" 2>&1 &
    daemons+=("slurmd-n$1 $!")
    disown "$!"   # killed on purpose (kill_node): no "Killed" notice from the shell
}
for k in $(seq "$nodes"); do start_slurmd "$k"; done
node_idle() { [ "$(sinfo -h -n "n$1" -o %t 2>/dev/null)" = idle ]; }
all_idle() { for k in $(seq "$nodes"); do node_idle "$k" || return 1; done; }
wait_for 30 "idle nodes n1..n$nodes (slurmctld.log: $work/log/slurmctld.log)" all_idle
log "$(sinfo -V) up: $nodes node(s) on this machine, $per_node of its $cpus CPUs each;" \
    "slurmctld on 127.0.0.1:$ctld_port"
sinfo -N -o '%N %t %c %P' >&2

# The job: the repository's script as is; what differs from a real cluster is in sbatch's options
# and the environment variables the script reads.
job=$(COORDINATOR="$bin/iba-coordinator" WORKER="$bin/iba-worker" PORT=$coordinator_port BIND="tcp://127.0.0.1:$coordinator_port" \
    RESULTS_DIR="$work/out" sbatch --parsable --nodes="$nodes" --cpus-per-task="$per_node" --time=10 --chdir="$work" \
    --output="$work/iba-eval-%j.out" cluster/slurm.sbatch \
    --model "$model" --test-sample "$examples" --heartbeat 0.5 --worker-timeout 120)
job=${job%%;*}
out="$work/out/iba-$job"
output="$work/iba-eval-$job.out"
results_log="$out/results.log.jsonl"
job_state() { scontrol show job "$job" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p'; }
job_is() { [ "$(job_state)" = "$1" ]; }
results_logged() { local lines; lines=$( (cat "$results_log" 2>/dev/null || true) | wc -l); echo $((lines > 0 ? lines - 1 : 0)); }
log "submitted job $job ($examples examples, --nodes=$nodes, $per_node worker(s) per node)"
wait_for 60 "running job $job" job_is RUNNING

# Workers of every node joined the current run (the output after its last "job J (restart R)" line).
joined_everywhere() {
    local k run
    run=$(awk '/^job [0-9]+ \(restart /{text=""} {text=text $0 "\n"} END{printf "%s", text}' "$output" 2>/dev/null)
    for k in $(seq "$nodes"); do grep -q "\[cluster\] worker n$k-0 .* joined" <<< "$run" || return 1; done
}
first=$((examples / 4))
enough_results() {
    case $(job_state) in RUNNING) ;; *) fail "job $job is $(job_state) before the requeue: $(tail -5 "$output")";; esac
    [ "$(results_logged)" -ge "$first" ] && joined_everywhere
}
wait_for 180 "$first results in $results_log and workers of n1..n$nodes" enough_results

# The pids of the processes whose environment holds all the given lines (this script's excluded).
pids_with_environment() {
    local environ pid text line
    for environ in /proc/[0-9]*/environ; do
        pid=${environ#/proc/}; pid=${pid%/environ}
        [ "$pid" = $$ ] && continue
        text=$(tr '\0' '\n' 2>/dev/null < "$environ") || continue
        for line in "$@"; do grep -qxF "$line" <<< "$text" || continue 2; done
        echo "$pid"
    done
}
# The job's tasks on node K (Slurm sets SLURMD_NODENAME=nK).
node_tasks() { pids_with_environment "SLURM_CONF=$SLURM_CONF" "SLURMD_NODENAME=n$1"; }

# Node K dies as a machine does: all its processes at once, with SIGKILL: its slurmd (its marker), its
# slurmstepd processes (each listens on a socket in the node's spool directory; slurmd starts them with an
# environment of their own) and the job's tasks on it.
kill_node() {
    local pid pids=() killed=()
    pids+=($(pids_with_environment "IBA_SLURM_TEST_NODE=$work/n$1") $(node_tasks "$1"))
    pids+=($(ss -xlpH 2>/dev/null | grep -F " $work/spool/n$1/" | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u))
    for pid in "${pids[@]}"; do killed+=("$pid $(cat "/proc/$pid/comm" 2>/dev/null) $(tr '\0' ' ' < "/proc/$pid/cmdline" \
        2>/dev/null | cut -c1-70)"); done
    [ ${#killed[@]} -gt 0 ] || fail "no process of node n$1 found"
    for entry in "${killed[@]}"; do kill -9 "${entry%% *}" 2>/dev/null || true; done
    log "node n$1 killed (SIGKILL):"
    printf '    %s\n' "${killed[@]}" >&2
    printf '%s\n' "${killed[@]}" | grep -q "^[0-9]* slurmd slurmd -D -N n$1 " || fail "n$1's slurmd was not among them"
    printf '%s\n' "${killed[@]}" | grep -q "^[0-9]* slurmstepd " || fail "no slurmstepd of n$1 was among them"
    printf '%s\n' "${killed[@]}" | grep -q "^[0-9]* iba-worker " || fail "no worker of n$1 was among them"
}
# The workers of node K stop (SIGSTOP) where they are: a fast machine would otherwise finish every example in
# the ~10 s Slurm takes to call a dead node DOWN, and the requeue would find nothing left to resume. They
# continue (SIGCONT) once the job is requeued, so Slurm's SIGTERM ends them as it would a running worker.
paused=()
pause_workers() {
    local pid
    for pid in $(node_tasks "$1"); do
        [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = iba-worker ] && kill -STOP "$pid" 2>/dev/null && paused+=("$pid")
    done
    [ ${#paused[@]} -gt 0 ] || fail "no worker of node n$1 found to pause"
    log "node n$1's worker(s) paused (SIGSTOP): ${paused[*]}"
}
coordinator_gone() { ! pgrep -f "bind tcp://127.0.0.1:$coordinator_port" >/dev/null; }
node_down() { case $(sinfo -h -n "n$1" -o %t 2>/dev/null) in down*) return 0 ;; *) return 1 ;; esac; }
if [ "$nodes" = 2 ]; then
    pause_workers 1
    log "killing node n2 after $(results_logged) result(s)"
    kill_node 2
    wait_for 60 "node n2 DOWN" node_down 2
    wait_for 60 "job $job requeued after n2 went down" job_is PENDING
    kill -CONT "${paused[@]}" 2>/dev/null || true
    log "n2 is $(sinfo -h -n n2 -o '%t (%E)'); job $job $(job_state) ($(squeue -h -j "$job" -o %r))"
else
    log "requeueing job $job after $(results_logged) result(s)"
    scontrol requeue "$job"
    wait_for 30 "pending job $job after the requeue" job_is PENDING
fi
wait_for 30 "the end of the first run's coordinator" coordinator_gone
done_before=$(results_logged)
[ "$done_before" -lt "$examples" ] || fail "the first run finished all $examples examples before the requeue: pass more examples"
log "job $job pending again, $done_before of $examples result(s) in its results log"
if [ "$nodes" = 2 ]; then
    start_slurmd 2
    wait_for 60 "node n2 back (idle)" node_idle 2
    # A node back within a second of its death re-registers once more on slurmctld's next ping; a job
    # allocated in between finds the node counted idle, and its worker step waits forever ("Requested nodes
    # are busy"). A real node takes minutes to come back: let a few ping rounds pass.
    sleep 5
    node_idle 2 || fail "n2 is $(sinfo -h -n n2 -o %t) 5 s after coming back"
    log "n2's slurmd restarted: n2 idle"
fi
scontrol update JobId="$job" StartTime=now   # a requeued job otherwise waits 120 s (cred_expire)

# finished JOB NAME: the job completed (fails the test if it ended otherwise).
finished() {
    local state
    state=$(scontrol show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')
    case $state in
        COMPLETED) return 0 ;;
        PENDING|CONFIGURING|RUNNING|COMPLETING) return 1 ;;
        *) fail "$2 $1 ended $state: $(tail -20 "$work/$2-$1.out" 2>/dev/null)" ;;
    esac
}
wait_for 300 "completed job $job" finished "$job" iba-eval
restarts=$(scontrol show job "$job" | sed -n 's/.*Restarts=\([0-9]*\).*/\1/p')

log "job $job completed; the same evaluation with iba evaluate"
timeout 300 "$bin/iba" evaluate --model "$model" --test-sample "$examples" --output "$work/reference" --quiet \
    >/dev/null 2>"$work/reference.err" || fail "iba evaluate failed: $(tail -5 "$work/reference.err")"

grep -h "^job \|\[cluster\] coordinator on\|\[cluster\] worker .* joined\|\[cluster\] run finished\|DUE TO " \
    "$output" >&2 || true
grep -h "n2.*not responding\|NODE_FAIL\|[Rr]equeue" "$work/log/slurmctld.log" | cut -c1-150 >&2 || true
[ "$restarts" = 1 ] || fail "job $job restarted $restarts time(s), expected 1"
grep -q "restart 1" "$output" || fail "the job's output shows no restart"
joined_everywhere || fail "the requeued run had no worker on every node (n1..n$nodes)"
resumed=$(grep -h "\[cluster\] coordinator on" "$output" | sed -n '2s/.* \([0-9]*\) from the results log.*/\1/p')
[ -n "$resumed" ] || fail "the requeued job's coordinator did not report resuming from its results log"
[ "$resumed" = "$done_before" ] || fail "the requeued job resumed $resumed result(s), the log held $done_before"
[ "$(results_logged)" = "$examples" ] || fail "results log holds $(results_logged) results, expected $examples (each example once)"
computed=$((examples - resumed))
log "second run: $resumed result(s) from the results log, $computed computed"
[ "$computed" -lt "$examples" ] || fail "the requeued job computed every example again"
cmp -s "$work/reference/results.jsonl" "$out/results.jsonl" || fail "results.jsonl differs from iba evaluate's"
how=$([ "$nodes" = 2 ] && echo "requeued by Slurm when node n2 died" || echo "requeued")
log "PASS: job $job on $nodes node(s) $how after $done_before of $examples result(s), resumed from its results log" \
    "(computed only the $computed left); results.jsonl identical to iba evaluate"

[ "$parts_test" = 1 ] || exit 0
# The same evaluation as a job array of one part per node (cluster/slurm-parts.sh) and its merge job.
submitted=$(IBA="$bin/iba" COORDINATOR="$bin/iba-coordinator" WORKER="$bin/iba-worker" PORT=$parts_port \
    BIND_ADDRESS=127.0.0.1 RESULTS_DIR="$work/out" \
    SBATCH_OPTIONS="--nodes=1 --cpus-per-task=$per_node --time=10 --chdir=$work" \
    bash cluster/slurm-parts.sh "$nodes" --model "$model" --test-sample "$examples" --heartbeat 0.5 \
    --worker-timeout 120)
log "$submitted"
array=$(sed -n 's/^array job \([0-9]*\) .*/\1/p' <<< "$submitted")
merge_job=$(sed -n 's/.* merge job \([0-9]*\):.*/\1/p' <<< "$submitted")
[ -n "$array" ] && [ -n "$merge_job" ] || fail "cluster/slurm-parts.sh did not name its jobs: $submitted"
job=$merge_job   # what cleanup reports on a failure
wait_for 300 "completed merge job $merge_job" finished "$merge_job" iba-merge
for k in $(seq "$nodes"); do
    part_out=$(grep -l "part $k of $nodes" "$work"/iba-eval-*.out) || fail "no output of array task $k"
    grep -h "^job \|\[cluster\] coordinator on\|\[cluster\] worker .* joined\|\[cluster\] run finished" "$part_out" >&2
    [ -s "$work/out/iba-$array/part-$k/part.json" ] || fail "part $k of array job $array has no part.json"
done
grep -v "^|\|^$" "$work/iba-merge-$merge_job.out" | cut -c1-150 >&2 || true
cmp -s "$work/reference/results.jsonl" "$work/out/iba-$array/merged/results.jsonl" \
    || fail "the merged results.jsonl differs from iba evaluate's"
log "PASS: job array $array ($nodes parts, one node each) merged by job $merge_job:" \
    "results.jsonl identical to iba evaluate"
