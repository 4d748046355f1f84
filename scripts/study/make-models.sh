#!/usr/bin/env bash
# Makes every classifier the study needs that ../shared does not ship, with `iba finetune` from the pretrained
# MiniLM encoder (scripts/setup.sh fetches it). Seeded and reproducible; a model already made is skipped.
#   minilm-imdb            IMDB, ../shared/data/imdb/train (1,500 reviews), accuracy on test (500 reviews)
#   minilm-agnews-seed2/3  AG News, ../shared/data/agnews/train.csv (5,700 rows), two more seeds for the
#                          "how much is the model" comparison (the shipped minilm-agnews is the first)
# Usage: scripts/study/make-models.sh [SHARED] [MODELS]   (defaults ../shared and models/)
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED=$(cd "${1:-../shared}" && pwd)
MODELS=${2:-models}
IBA=.build/release/iba
ENCODER=models/all-minilm-l6-v2
[ -x "$IBA" ] && [ -f "$ENCODER/model.safetensors" ] || { echo "run scripts/setup.sh first" >&2; exit 1; }
mkdir -p "$MODELS" "$MODELS/logs"

# Accuracy at the evaluation's input length (512 word pieces): the original prediction of a degradation run.
accuracy() {  # model dataset data-path
    local out; out=$(mktemp -d)
    "$IBA" evaluate --model "$1" --dataset "$2" --data-path "$3" --method random --test-sample all --degrad-steps 2 \
        --no-aopc --quiet --output "$out/run" >/dev/null
    python3 -c "import json,sys; s=json.load(open(sys.argv[1])); print(f'{s[\"original_accuracy\"]:.4f} on {s[\"n\"]} examples')" \
        "$out/run/summary.json"
    rm -rf "$out"
}

finetune() {  # name dataset labels train eval seed extra...
    local name=$1 dataset=$2 labels=$3 train=$4 eval=$5 seed=$6; shift 6
    if [ -f "$MODELS/$name/model.safetensors" ]; then echo "== $name: already made"; return; fi
    echo "== $name: fine-tuning (seed $seed)"
    local start=$SECONDS
    "$IBA" finetune --model "$ENCODER" --num-labels "$labels" --dataset "$dataset" --train "$train" --eval "$eval" \
        --seed "$seed" --quiet --output "$MODELS/$name.partial" "$@" | tee "$MODELS/logs/$name.txt"
    rm -rf "$MODELS/$name" && mv "$MODELS/$name.partial" "$MODELS/$name"
    echo "wall seconds $((SECONDS - start))" | tee -a "$MODELS/logs/$name.txt"
}

finetune minilm-imdb imdb 2 "$SHARED/data/imdb/train" "$SHARED/data/imdb/test" 1 \
    --epochs 3 --batch-size 16 --lr 5e-5 --max-length 256
echo "minilm-imdb accuracy at 512 word pieces: $(accuracy "$MODELS/minilm-imdb" imdb "$SHARED/data/imdb/test")" \
    | tee -a "$MODELS/logs/minilm-imdb.txt"
for seed in 2 3; do
    finetune "minilm-agnews-seed$seed" agnews 4 "$SHARED/data/agnews/train.csv" "$SHARED/data/agnews/test.csv" "$seed" \
        --epochs 3 --batch-size 32 --lr 1e-4 --max-length 128
done
echo "== models in $MODELS (logs in $MODELS/logs)"
