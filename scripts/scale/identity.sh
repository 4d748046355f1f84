#!/usr/bin/env bash
# The outputs of OLD_BIN and NEW_BIN (two builds' .build/release) on the same jobs, compared file by file:
# results.jsonl, summaries, .npy, comparison and pairs files byte for byte. Lines that hold wall-clock time
# (summary.json's "seconds", report.html's rates, the comparison's seconds per example) are the only ones
# allowed to differ, and only when real workers computed (the swarm's times are fixed).
#   scripts/scale/identity.sh OLD_BIN NEW_BIN [WORK_DIR]
set -uo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
old=${1:?old bin}; new=${2:?new bin}; work=${3:-/tmp/iba-identity}
model=$here/models/demo-agnews
agnews=$here/Sources/Evaluation/Resources/agnews-demo-test.csv
rm -rf "$work"; mkdir -p "$work"
bash "$here/scripts/scale/dataset.sh" 300 "$work/rows.jsonl"
timeish='"seconds"|seconds|per second|examples/s|/s<|_s,|s/ex'
failures=0
# What may differ between two runs of one job: the wall-clock lines of summary.json, the seconds per example
# (the comparison's last column), and report.html's numeric cells once the rest is equal (rates, seconds).
normalize() {
    case "$1" in
        *.csv|*.md) sed -E 's/[,|][^,|]*[|]?$//' "$1" ;;
        *.html) sed 's/></>\n</g' "$1" | grep -Ev '^<td( class="num")?>[0-9.]+</td>$' ;;
        *) grep -Ev "$timeish" "$1" ;;
    esac
}
compare() {  # name dirA dirB
    local name=$1 a=$2 b=$3
    for f in $(cd "$a" && find . -type f ! -name '*.log.jsonl' ! -name progress.json ! -name '.iba*' ! -path './workers/*' | sort); do
        if cmp -s "$a/$f" "$b/$f"; then
            echo "same  $name $f"
        elif [ -z "$(diff <(normalize "$a/$f") <(normalize "$b/$f"))" ]; then
            echo "time  $name $f (only wall-clock lines differ)"
        else
            echo "DIFF  $name $f"; failures=$((failures + 1))
        fi
    done
}
run() {  # name args...
    local name=$1; shift
    for side in old new; do
        local bin=$old; [ $side = new ] && bin=$new
        "$bin/$1" "${@:2}" --output "$work/$name-$side" --quiet > "$work/$name-$side.out" 2>&1 \
            || { echo "FAIL  $name ($side): $(tail -2 "$work/$name-$side.out")"; failures=$((failures + 1)); }
    done
    compare "$name" "$work/$name-old" "$work/$name-new"
}
run evaluate-one iba evaluate --model "$model" --dataset agnews --data-path "$agnews" --test-sample 8 --method random
run evaluate-three iba evaluate --model "$model" --dataset agnews --data-path "$agnews" --test-sample 8 --methods iba,ig,random
run cluster-two iba-coordinator --workers 2 --model "$model" --dataset agnews --data-path "$agnews" --test-sample 8 \
    --methods random,ig
run jsonl-cluster iba-coordinator --workers 2 --model "$model" --dataset jsonl --data-path "$work/rows.jsonl" \
    --test-sample all --method random --degrad-steps 5
run jsonl-local iba evaluate --model "$model" --dataset jsonl --data-path "$work/rows.jsonl" --test-sample 100 \
    --methods random,saliency --degrad-steps 4
echo "$failures difference(s)"
[ "$failures" = 0 ]
