#!/usr/bin/env bash
# One job of the study "Does IBA beat the baselines?" (README): a whole comparison through iba-coordinator,
# resumable, its small outputs copied into docs/results/study/DATASET/JOB/.
#   scripts/study/run.sh DATASET JOB [extra iba-coordinator options]
# DATASET: agnews (the original's 1,000-row selection of test.csv, minilm-agnews), rte (all 139 dev pairs,
# minilm-rte), mnli (the original's 1,000-pair selection of dev_matched.tsv, minilm-mnli), imdb (the original's
# selection of 200 test reviews, minilm-imdb from scripts/study/make-models.sh).
# JOB: corrected  every method, IBA at every layer, the corrected protocol (gold label everywhere)
#      original   the paper's setting: iba,ig,lime,random under the original protocol, IBA two thirds up
#                 (layer 4 of MiniLM's 6, as the paper's layer 8 of BERT's 12)
#      replace    corrected, removed tokens replaced by [MASK] instead of deleted
#      seed2|seed3  corrected on the AG News classifiers fine-tuned with other seeds (agnews only)
# Environment: SHARED (default ../shared), MODELS (default models), RUNS (default study-runs; put it outside
# the work tree to keep runs across checkouts: the
# directories with their results logs; a second invocation resumes), WORKERS (default 2), BIN (default
# .build/release: where iba-coordinator and iba-worker are; a copy keeps a long run safe from rebuilds).
set -euo pipefail
cd "$(dirname "$0")/../.."
dataset=${1:?usage: run.sh DATASET JOB}; job=${2:?usage: run.sh DATASET JOB}; shift 2
shared=$(cd "${SHARED:-../shared}" 2>/dev/null && pwd) || { echo "study: ${SHARED:-../shared} not found" >&2; exit 2; }
models=$(cd "${MODELS:-models}" 2>/dev/null && pwd) || { echo "study: ${MODELS:-models} not found" >&2; exit 2; }
all_methods=iba@all,ig,lime,random,saliency,gradxinput,occlusion,attention,kernelshap
case $dataset in
    agnews) model=$shared/models/minilm-agnews data=$shared/data/agnews/test.csv sample=1000 ;;
    rte)    model=$shared/models/minilm-rte data=$shared/data/rte/dev.tsv sample=all ;;
    mnli)   model=$shared/models/minilm-mnli data=$shared/data/mnli/dev_matched.tsv sample=1000 ;;
    imdb)   model=$models/minilm-imdb data=$shared/data/imdb/test sample=200 ;;
    *) echo "study: unknown dataset $dataset" >&2; exit 2 ;;
esac
options=(--methods "$all_methods" --protocol corrected)
case $job in
    corrected) ;;
    original) options=(--methods iba,ig,lime,random --protocol original --layer 4) ;;
    replace) options+=(--replace) ;;
    seed2|seed3)
        [ "$dataset" = agnews ] || { echo "study: $job is an AG News job" >&2; exit 2; }
        model=$models/minilm-agnews-$job ;;
    *) echo "study: unknown job $job" >&2; exit 2 ;;
esac
[ -e "$model/model.safetensors" ] || { echo "study: no model at $model (scripts/study/make-models.sh)" >&2; exit 2; }
out=${RUNS:-study-runs}/$dataset/$job
resume=(); [ -e "$out/results.log.jsonl" ] && resume=(--resume)
start=$(date +%s)
"${BIN:-.build/release}"/iba-coordinator --workers "${WORKERS:-2}" "${options[@]}" --dataset "$dataset" --model "$model" \
    --data-path "$data" --test-sample "$sample" --output "$out" "${resume[@]}" "$@"
echo "study $dataset/$job: this invocation took $(( $(date +%s) - start )) s of wall time on ${WORKERS:-2} worker(s)"
dest=docs/results/study/$dataset/$job
[ $# -eq 0 ] || dest="$out/docs"   # a run with extra options does not replace the committed results
mkdir -p "$dest"
for f in comparison.md comparison.csv comparison.svg pairs.md pairs.csv layers.svg progress.json; do
    [ -e "$out/$f" ] && cp "$out/$f" "$dest/"
done
for d in "$out"/*/; do
    [ -e "$d/summary.json" ] && cp "$d/summary.json" "$dest/summary-$(basename "$d").json"
done
echo "study $dataset/$job: outputs in $dest"
