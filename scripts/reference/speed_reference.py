"""The original's computation in PyTorch, timed per example: the yardstick of scripts/bench.sh's `pytorch` rows.

What bazingagin/IBA's main.py does for `--method iba` (scripts/methods.py, IBA.py, Degradation.py), per example:
one no-grad forward for the feature map entering layer L (the estimator's one sample), the bottleneck on layer L's
output (std sqrt(1e-5)), 10 Adam steps (lr 1) on a batch of 10 copies, each a forward and a backward with the
model's parameters left trainable as the original leaves them (so autograd also computes every weight gradient),
then the degradation test: one forward for the original prediction and one per deletion count, each alone. The
attribution and degradation probabilities are returned, so the run can be checked against iba-swift's.

Run in a throwaway environment outside the repository (never a dependency of the product):
    python3 -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install torch transformers safetensors numpy
    /tmp/torchvenv/bin/python scripts/reference/speed_reference.py --model ../shared/models/minilm-agnews \
        --dataset agnews --data-path ../shared/data/agnews/test.csv --layer 3 --test-sample 10 --threads 1
`--random-bert-base` builds a bert-base-uncased-shaped classifier with random weights instead (time does not
depend on the weights' values). Examples are chosen as the original chooses them (np.random.seed(3), choice
without replacement; IMDB files in sorted order, pos then neg). Prints one JSON object: per-example wall and CPU
seconds, their sums, torch's version and threads, and the ISA the libraries report.
"""
import argparse
import csv
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

SPECIALS = {"[CLS]", "[SEP]"}
MNLI_LABELS = ["contradiction", "entailment", "neutral"]


def read_dataset(kind, path):
    rows = []
    if kind == "agnews":
        with open(path, newline="", encoding="utf-8") as f:
            for r in csv.reader(f):
                rows.append((" ".join(r[1:]), None, int(r[0]) - 1))
    elif kind == "mnli":
        with open(path, encoding="utf-8") as f:
            next(f)
            for line in f:
                c = line.rstrip("\n").split("\t")
                rows.append((c[8], c[9], MNLI_LABELS.index(c[-1])))
    elif kind == "imdb":
        for label, sub in ((0, "pos"), (1, "neg")):
            d = os.path.join(path, sub)
            for name in sorted(os.listdir(d)):
                with open(os.path.join(d, name), encoding="utf-8") as f:
                    rows.append((f.read().strip(), None, label))
    else:
        sys.exit(f"unknown dataset {kind}")
    return rows


class Bottleneck(torch.nn.Module):
    """IBA.py's InformationBottleneck: alpha starts at 5, capacity kept for the loss and the heatmap."""

    def __init__(self, mean, std):
        super().__init__()
        self.mean, self.std = mean, std
        self.alpha = torch.nn.Parameter(torch.full((1, *mean.shape), 5.0))
        self.capacity = None

    def forward(self, x):
        lamb = torch.sigmoid(self.alpha).expand(x.shape[0], x.shape[1], -1)
        x_norm = (x - self.mean) / self.std
        log_var = torch.log((1 - lamb) ** 2)
        mu = x_norm * lamb
        clamped = torch.clamp(log_var, -10, 10)
        t_norm = mu + (clamped / 2).exp() * torch.randn_like(mu)
        self.capacity = -0.5 * (1 + log_var - mu ** 2 - log_var.exp())
        return t_norm * self.std + self.mean


def iba_heatmap(model, ids, types, target, layer, beta=1e-5, lr=1.0, steps=10, batch=10):
    with torch.no_grad():
        feature = model(ids, token_type_ids=types, output_hidden_states=True).hidden_states[layer][0]
    bottleneck = Bottleneck(feature, float(np.sqrt(1e-5)))

    def hook(module, inputs, output):
        if isinstance(output, tuple):
            return (bottleneck(output[0]),) + tuple(output[1:])
        return bottleneck(output)

    handle = model.bert.encoder.layer[layer].register_forward_hook(hook)
    try:
        optimizer = torch.optim.Adam(bottleneck.parameters(), lr=lr)
        batch_ids, labels = ids.expand(batch, -1), torch.tensor([target]).expand(batch)
        batch_types = types.expand(batch, -1)
        for _ in range(steps):
            optimizer.zero_grad()
            model.zero_grad(set_to_none=True)  # the original accumulates them unread; autograd computes them either way
            logits = model(batch_ids, token_type_ids=batch_types, output_hidden_states=True).logits
            loss = F.cross_entropy(logits, labels) + beta * bottleneck.capacity.mean()
            loss.backward()
            optimizer.step()
    finally:
        handle.remove()
    heat = bottleneck.capacity[0].detach().sum(-1).numpy()
    heat = heat - heat.min()
    return heat / heat.max()


def degradation(model, ids, types, tokens, attribution, target, steps=10):
    n = len(tokens)
    counts = list(dict.fromkeys(int(g) for g in np.round(np.linspace(0, 1, steps) * n)))
    counts += [counts[-1]] * (steps - len(counts))
    order = np.argsort(-attribution)
    probs = []
    with torch.no_grad():
        probs.append(F.softmax(model(ids, token_type_ids=types).logits, -1)[0, target].item())
        for k in counts[1:]:
            removed, i = [], 0
            while len(removed) < k and i != n - 1:
                if tokens[order[i]] not in SPECIALS:
                    removed.append(order[i])
                i += 1
            keep = sorted(set(range(n)) - set(removed))
            logits = model(ids[:, keep], token_type_ids=types[:, keep]).logits
            probs.append(F.softmax(logits, -1)[0, target].item())
    return probs


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model")
    p.add_argument("--random-bert-base", action="store_true")
    p.add_argument("--vocab", help="vocab.txt for --random-bert-base")
    p.add_argument("--labels", type=int, default=2)
    p.add_argument("--dataset", required=True)
    p.add_argument("--data-path", required=True)
    p.add_argument("--layer", type=int, default=8)
    p.add_argument("--test-sample", default="10")
    p.add_argument("--max-length", type=int, default=512)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--attn", default="eager", help="eager (the original's BERT) or sdpa")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)

    if a.random_bert_base:
        config = BertConfig(num_labels=a.labels, attn_implementation=a.attn)
        model = BertForSequenceClassification(config)
        tokenizer = BertTokenizer(a.vocab, do_lower_case=True)
    else:
        model = BertForSequenceClassification.from_pretrained(a.model, dtype=torch.float32, attn_implementation=a.attn)
        tokenizer = BertTokenizer(os.path.join(a.model, "vocab.txt"), do_lower_case=True)
    model.eval()

    rows = read_dataset(a.dataset, a.data_path)
    np.random.seed(3)
    chosen = range(len(rows)) if a.test_sample == "all" else np.random.choice(len(rows), int(a.test_sample), replace=False)

    examples, wall0, cpu0 = [], time.perf_counter(), time.process_time()
    for index in chosen:
        text, pair, target = rows[int(index)]
        w, c = time.perf_counter(), time.process_time()
        enc = tokenizer(text, pair, truncation=True, max_length=a.max_length, return_token_type_ids=True)
        ids = torch.tensor([enc["input_ids"]])
        types = torch.tensor([enc["token_type_ids"]])
        tokens = tokenizer.convert_ids_to_tokens(enc["input_ids"])
        heat = iba_heatmap(model, ids, types, target, a.layer)
        probs = degradation(model, ids, types, tokens, heat, target)
        examples.append({"index": int(index), "n": len(tokens), "wall_s": time.perf_counter() - w,
                         "cpu_s": time.process_time() - c, "attribution": [round(float(x), 6) for x in heat],
                         "degradation_prob": probs})
    print(json.dumps({
        "torch": torch.__version__, "threads": torch.get_num_threads(), "attn": a.attn,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "mkl": torch.backends.mkl.is_available(), "layer": a.layer, "examples": examples,
        "wall_s": time.perf_counter() - wall0, "cpu_s": time.process_time() - cpu0}))


if __name__ == "__main__":
    main()
