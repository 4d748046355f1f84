"""Reference outputs of the standard baselines (saliency, gradient x input, occlusion, attention, exact Shapley)
for iba-swift's tests, computed with PyTorch / transformers / captum.

Run in a throwaway environment outside the repository:
    python3 -m venv /tmp/venv-ref && /tmp/venv-ref/bin/pip install torch transformers captum safetensors numpy
    /tmp/venv-ref/bin/python scripts/reference/baselines_reference.py ../shared \
        Tests/AttributionTests/Fixtures/baselines-reference.json

Examples: those of ../shared/reference/iba-agnews-layer3.json (20 AG News rows) and iba-mnli-layer3.json (10 MNLI
pairs), their `ids` and `target` (the gold label); pair token types 0 through the first [SEP], 1 after. Each
attribution is followed by the degradation test of ORIGINAL.md section 3 (10 steps, most important first,
ties by position, the walk stops at n-1, deletion of the token and its type, unpadded prediction of the target).
Shapley: exact values by enumerating every coalition of the words (lime's `\\W+` bag of words) of short texts
(the first words of a few reference rows), mapped to word pieces as the contract's LIME mapping does.
"""
import csv
import itertools
import json
import math
import re
import sys

import numpy as np
import torch
import transformers
from transformers import BertForSequenceClassification, BertTokenizer

SEP_ID, CLS_ID, PAD_ID = 102, 101, 0
PAIR_SEPARATOR = " ****** "


def load_model(path):
    model = BertForSequenceClassification.from_pretrained(path, dtype=torch.float32, attn_implementation="eager")
    return model.eval()


def pair_types(ids):
    sep = ids.index(SEP_ID) if SEP_ID in ids else len(ids)
    return [0 if i <= sep else 1 for i in range(len(ids))]


def probabilities(model, inputs):
    """Softmax probabilities of each (ids, types), unpadded, one forward each."""
    out = []
    with torch.no_grad():
        for ids, types in inputs:
            logits = model(input_ids=torch.tensor([ids]), token_type_ids=torch.tensor([types])).logits
            out.append(torch.softmax(logits, -1)[0].tolist())
    return out


def embedding_gradient(model, ids, types, target):
    """e (embedding output, after its LayerNorm) and d softmax(logits)[target] / d e, via captum's layer attribution
    (multiply_by_inputs=False gives the gradient at the layer), checked against plain autograd."""
    from captum.attr import LayerGradientXActivation
    input_ids, token_types = torch.tensor([ids]), torch.tensor([types])

    def forward(input_ids, token_type_ids):
        return torch.softmax(model(input_ids=input_ids, token_type_ids=token_type_ids).logits, -1)

    gradient = LayerGradientXActivation(forward, model.bert.embeddings, multiply_by_inputs=False).attribute(
        input_ids, target=target, additional_forward_args=(token_types,))[0].detach()
    with torch.no_grad():
        e = model.bert.embeddings(input_ids=input_ids, token_type_ids=token_types)
    leaf = e.clone().requires_grad_(True)
    handle = model.bert.embeddings.register_forward_hook(lambda module, args, output: leaf)
    try:
        p = forward(input_ids, token_types)[0, target]
        (autograd,) = torch.autograd.grad(p, leaf)
    finally:
        handle.remove()
    assert torch.allclose(gradient, autograd[0], atol=1e-7, rtol=1e-5), "captum and autograd disagree"
    return e[0].detach(), gradient


def l2_normalised(v):
    norm = torch.linalg.vector_norm(v.double())
    return (v.double() / norm).float() if norm > 0 else v


def saliency_and_gradxinput(model, ids, types, target):
    e, g = embedding_gradient(model, ids, types, target)
    return (l2_normalised(torch.linalg.vector_norm(g, dim=-1)).tolist(),
            l2_normalised((e * g).sum(-1)).tolist())


def occlusion(model, ids, types, target):
    positions = [i for i, t in enumerate(ids) if t not in (CLS_ID, SEP_ID)]
    inputs = [(ids, types)] + [(ids[:i] + ids[i + 1:], types[:i] + types[i + 1:]) for i in positions]
    p = np.array([row[target] for row in probabilities(model, inputs)], dtype=np.float32)
    result = np.zeros(len(ids), dtype=np.float32)
    for k, i in enumerate(positions):
        result[i] = p[0] - p[k + 1]
    return result.tolist()


def attention(model, ids, types):
    with torch.no_grad():
        out = model(input_ids=torch.tensor([ids]), token_type_ids=torch.tensor([types]), output_attentions=True)
    return out.attentions[-1][0, :, 0, :].mean(0).tolist()


def degradation(model, ids, types, attribution, target, steps=10):
    """ORIGINAL.md section 3: the 9 degraded probabilities of the target and whether it stays the argmax."""
    n = len(ids)
    counts = []
    for g in np.round(np.linspace(0, 1, steps) * n):
        if int(g) not in counts:
            counts.append(int(g))
    counts += [counts[-1]] * (steps - len(counts))
    order = sorted(range(n), key=lambda i: (-attribution[i], i))   # ties by position
    special = [t in (CLS_ID, SEP_ID) for t in ids]
    inputs = []
    for k in counts[1:]:
        removed, walk = [], 0
        while len(removed) < k and walk < n - 1:
            if not special[order[walk]]:
                removed.append(order[walk])
            walk += 1
        kept = [i for i in range(n) if i not in set(removed)]
        inputs.append(([ids[i] for i in kept], [types[i] for i in kept]))
    probs = probabilities(model, inputs)
    return [row[target] for row in probs], [int(np.argmax(row)) == target for row in probs]


# --- exact Shapley values over lime's words -------------------------------------------------------------------

def lime_words(text):
    """lime 0.2.0 IndexedString(split_expression=r'\\W+', bow=True): runs of \\w (words) and separators."""
    pieces = [p for p in re.split(r"(\W+)", text) if p != ""]
    words = []
    for p in pieces:
        if re.fullmatch(r"\w+", p) and p not in words:
            words.append(p)
    return pieces, words


def removing(pieces, words, removed):
    gone = {words[w] for w in removed}
    return "".join(p for p in pieces if not (re.fullmatch(r"\w+", p) and p in gone))


def encode_text(tokenizer, text, is_pair, max_length=512):
    if is_pair and PAIR_SEPARATOR in text:
        a, b = text.split(PAIR_SEPARATOR, 1)
        enc = tokenizer(a, b, truncation=True, max_length=max_length)
    else:
        enc = tokenizer(text, truncation=True, max_length=max_length)
    return enc["input_ids"], enc["token_type_ids"]


def padded(ids, types, length=512):
    """The original protocol's LIME inputs: [PAD] (type 0) up to 512 tokens and NO attention mask."""
    return ids + [PAD_ID] * (length - len(ids)), types + [0] * (length - len(types))


def exact_shapley(model, tokenizer, text, is_pair, target, protocol):
    pieces, words = lime_words(text)
    m = len(words)
    values = {}
    for r in range(m + 1):
        for present in itertools.combinations(range(m), r):
            removed = [w for w in range(m) if w not in present]
            ids, types = encode_text(tokenizer, removing(pieces, words, removed), is_pair)
            if protocol == "original":
                ids, types = padded(ids, types)
            values[frozenset(present)] = probabilities(model, [(ids, types)])[0][target]
    phi = []
    for i in range(m):
        total = 0.0
        others = [w for w in range(m) if w != i]
        for r in range(m):
            weight = math.factorial(r) * math.factorial(m - r - 1) / math.factorial(m)
            for s in itertools.combinations(others, r):
                total += weight * (values[frozenset(s) | {i}] - values[frozenset(s)])
        phi.append(total)
    return words, phi, values[frozenset(range(m))], values[frozenset()]


def map_to_wordpieces(words, weights, tokens):
    """The contract's LIME mapping: explanation in decreasing |weight| (stable), keyed by lower case (later wins);
    a piece equal to a key gets its weight; a piece + following ## piece forming a key give both that weight;
    every other position gets the maximum weight (float32)."""
    explanation = sorted(zip(words, weights), key=lambda x: abs(x[1]), reverse=True)
    score = {w.lower(): v for w, v in explanation}
    maximum = float(np.float32(max(v for _, v in explanation)))
    out, i = [], 0
    while i < len(tokens):
        if tokens[i] in score:
            out.append(float(np.float32(score[tokens[i]]))); i += 1
        elif i + 1 < len(tokens) and tokens[i + 1].startswith("##") and \
                tokens[i] + tokens[i + 1].replace("##", "") in score:
            s = float(np.float32(score[tokens[i] + tokens[i + 1].replace("##", "")]))
            out += [s, s]; i += 2
        else:
            out.append(maximum); i += 1
    return out


def first_words(text, count):
    """The text up to the end of its `count`-th \\w run (separators inside kept)."""
    ends = [m.end() for m in re.finditer(r"\w+", text)]
    return text[:ends[count - 1]] if len(ends) >= count else text


# --- datasets --------------------------------------------------------------------------------------------------

def agnews_text(shared, index):
    with open(f"{shared}/data/agnews/test.csv", newline="", encoding="utf-8") as f:
        row = list(csv.reader(f))[index]
    return " ".join(row[1:]), None


def mnli_pair(shared, index):
    with open(f"{shared}/data/mnli/dev_matched.tsv", encoding="utf-8") as f:
        rows = [line.rstrip("\n").split("\t") for line in f][1:]
    return rows[index][8], rows[index][9]


# --- main ------------------------------------------------------------------------------------------------------

def run_dataset(shared, name, model_dir, reference_file):
    model = load_model(f"{shared}/models/{model_dir}")
    reference = json.load(open(f"{shared}/reference/{reference_file}"))
    examples, methods = [], ["saliency", "gradxinput", "occlusion", "attention"]
    for e in reference["examples"]:
        ids, target = e["ids"], e["target"]
        types = e.get("token_type_ids") or pair_types(ids)
        saliency, gradxinput = saliency_and_gradxinput(model, ids, types, target)
        attributions = {"saliency": saliency, "gradxinput": gradxinput,
                        "occlusion": occlusion(model, ids, types, target), "attention": attention(model, ids, types)}
        row = {"index": e["index"], "target": target, "ids": ids, "token_type_ids": types,
               "probabilities": probabilities(model, [(ids, types)])[0], "attributions": attributions,
               "degradation_prob": {}, "degradation_correct": {}}
        for method in methods:
            prob, correct = degradation(model, ids, types, attributions[method], target)
            row["degradation_prob"][method], row["degradation_correct"][method] = prob, correct
        examples.append(row)
        print(name, e["index"], "done", file=sys.stderr)
    means = {m: np.mean([x["degradation_prob"][m] for x in examples], axis=0).tolist() for m in methods}
    return {"model": f"models/{model_dir}", "reference": f"reference/{reference_file}", "examples": examples,
            "degradation_prob_mean": means}


def run_shapley(shared):
    """Exact Shapley values of short texts: the first 8 words of 3 AG News rows and the first 5 + 4 words of 2 MNLI
    pairs (corrected protocol), and the first 7 words of one AG News row under the original protocol (padded)."""
    cases = []
    plans = [("agnews", "minilm-agnews", "iba-agnews-layer3.json", 3, ["corrected"]),
             ("mnli", "minilm-mnli", "iba-mnli-layer3.json", 2, ["corrected"]),
             ("agnews", "minilm-agnews", "iba-agnews-layer3.json", 1, ["original"])]   # 512-token forwards: one row
    for dataset, model_dir, reference_file, count, protocols in plans:
        model = load_model(f"{shared}/models/{model_dir}")
        tokenizer = BertTokenizer(f"{shared}/models/{model_dir}/vocab.txt", do_lower_case=True)
        reference = json.load(open(f"{shared}/reference/{reference_file}"))
        for e in reference["examples"][:count]:
            if dataset == "agnews":
                text, pair = agnews_text(shared, e["index"])
                text = first_words(text, 8 if protocols == ["corrected"] else 7)
            else:
                text, pair = mnli_pair(shared, e["index"])
                text, pair = first_words(text, 5), first_words(pair, 4)
            enc = tokenizer(text, pair, truncation=True, max_length=512) if pair is not None else \
                tokenizer(text, truncation=True, max_length=512)
            ids, types = enc["input_ids"], enc["token_type_ids"]
            tokens = tokenizer.convert_ids_to_tokens(ids)
            joined = text + PAIR_SEPARATOR + pair if pair is not None else text
            for protocol in protocols:
                words, phi, full, empty = exact_shapley(model, tokenizer, joined, pair is not None, e["target"], protocol)
                attribution = map_to_wordpieces(words, phi, tokens)
                prob, correct = degradation(model, ids, types, attribution, e["target"])
                cases.append({"dataset": dataset, "model": f"models/{model_dir}", "index": e["index"],
                              "protocol": protocol, "text": text, "pair": pair, "target": e["target"],
                              "ids": ids, "token_type_ids": types, "tokens": tokens, "words": words,
                              "shapley": phi, "value_full": full, "value_empty": empty,
                              "attribution": attribution, "degradation_prob": prob, "degradation_correct": correct})
                print("shapley", dataset, e["index"], protocol, len(words), "words", file=sys.stderr)
    return cases


def main():
    shared, output = sys.argv[1], sys.argv[2]
    torch.manual_seed(0)
    torch.set_num_threads(1)   # the reference machine is shared: one thread avoids OpenMP spinning
    import captum
    result = {
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                     "captum": captum.__version__, "numpy": np.__version__, "python": sys.version.split()[0]},
        "agnews": run_dataset(shared, "agnews", "minilm-agnews", "iba-agnews-layer3.json"),
        "mnli": run_dataset(shared, "mnli", "minilm-mnli", "iba-mnli-layer3.json"),
        "shapley": run_shapley(shared),
    }
    with open(output, "w") as f:
        json.dump(result, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
