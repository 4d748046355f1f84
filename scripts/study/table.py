#!/usr/bin/env python3
"""The README's "Does IBA beat the baselines?" table from the study's outputs (standard library only).

For each dataset directory (docs/results/study/<dataset>/<job>/ with comparison.csv and pairs.csv): IBA's best
layer (highest AOPC comprehensiveness), its probability after the first removal step and AOPC with 95% intervals,
the same for IG, LIME, random and the strongest of the new baselines, and the paired verdicts of IBA's best
layer against each. Choosing the best layer on the same examples favours IBA a little; the table says so.

    scripts/study/table.py docs/results/study/{agnews,rte,mnli,imdb}/corrected > table.md
"""
import csv
import os
import sys

NEW_BASELINES = ["saliency", "gradxinput", "occlusion", "attention", "kernelshap"]
AOPC = "aopc_comprehensiveness"


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def cell(row, column):
    if row is None or not row.get(column):
        return "-"
    value = float(row[column])
    lo, hi = row.get(column + "_lo"), row.get(column + "_hi")
    return f"{value:.3f} [{float(lo):.3f}, {float(hi):.3f}]" if lo and hi else f"{value:.3f}"


def verdict(pairs, a, b, metric):
    for row in pairs:
        if row["metric"] != metric:
            continue
        if (row["method_a"], row["method_b"]) in ((a, b), (b, a)):
            text = row["verdict"].replace(a, "IBA")
            return f"{text} (p_holm {float(row['p_holm']):.2g})"
    return "-"


def summarize(directory):
    comparison = read_rows(os.path.join(directory, "comparison.csv"))
    pairs = read_rows(os.path.join(directory, "pairs.csv"))
    by_name = {row["method"]: row for row in comparison}
    first_step = next(c for c in comparison[0] if c.startswith("prob_") and not c.endswith(("_lo", "_hi")))
    iba = [row for row in comparison if row["method"].startswith("iba")]
    best = max(iba, key=lambda row: (float(row[AOPC]), -float(row[first_step])))
    present = [name for name in NEW_BASELINES if name in by_name]
    strongest = max(present, key=lambda name: float(by_name[name][AOPC])) if present else None
    others = [("IG", "ig"), ("LIME", "lime"), ("random", "random")] + ([(strongest, strongest)] if strongest else [])
    lines = [f"**{os.path.basename(os.path.dirname(directory.rstrip('/')))}** ({best['n']} examples; "
             f"IBA's best layer by AOPC: {best['method']}; first step = {first_step[5:]} removed)", "",
             f"| method | p after {first_step[5:]} | AOPC comprehensiveness | IBA ({best['method']}) vs it, "
             f"p after {first_step[5:]} | IBA vs it, AOPC |", "| --- | --- | --- | --- | --- |",
             f"| IBA ({best['method']}) | {cell(best, first_step)} | {cell(best, AOPC)} | | |"]
    for label, name in others:
        row = by_name.get(name)
        if row is None:
            continue
        lines.append(f"| {label} | {cell(row, first_step)} | {cell(row, AOPC)} | "
                     f"{verdict(pairs, best['method'], name, first_step)} | {verdict(pairs, best['method'], name, AOPC)} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    print("\n".join(summarize(d) for d in sys.argv[1:] if os.path.exists(os.path.join(d, "comparison.csv"))))
