#!/usr/bin/env python3
"""Reference numbers for the comparison statistics (Sources/Evaluation/Statistics), from NumPy, SciPy and
statsmodels, written as JSON for Tests/EvaluationTests/Statistics.

    python3 -m venv /tmp/venv-stats && /tmp/venv-stats/bin/pip install numpy scipy statsmodels
    /tmp/venv-stats/bin/python scripts/reference/statistics_reference.py \
        > Tests/EvaluationTests/Fixtures/statistics-reference.json

Every vector is fixed here (small ones by hand, longer ones from NumPy's seeded generator and then
written out), so the Swift tests read both inputs and expected outputs from the JSON.
"""
import json
import math
import sys

import numpy as np
import scipy
import scipy.stats
import statsmodels
from statsmodels.stats.multitest import multipletests


def floats(values):
    return [float(v) for v in values]


def wilcoxon_case(name, d):
    d = floats(d)
    nonzero = [v for v in d if v != 0]
    with np.errstate(all="ignore"):
        # 'approx' in SciPy < 1.13 is 'asymptotic' since (still accepted as an alias).
        result = scipy.stats.wilcoxon(d, zero_method="wilcox", correction=False, method="asymptotic")
    p = float(result.pvalue)
    z = float(result.zstatistic)
    return {
        "name": name, "differences": d, "n": len(nonzero),
        "statistic": float(result.statistic),
        # SciPy gives NaN when every difference is zero; the Swift code reports p = 1 and no z there.
        "z": None if math.isnan(z) else z,
        "p": None if math.isnan(p) else p,
    }


def wilcoxon_cases(rng):
    cases = [
        ("ties and zeros", [1, 2, 0, 0, 0, -3, 4, 4, -4, 5, 0.5, 6]),
        ("all zero", [0, 0, 0, 0]),
        ("one nonzero", [0, 0, 0.25]),
        ("n = 3", [0.1, -0.2, 0.3]),
        ("all positive", [0.5, 1.5, 2.5, 0.25, 3, 4, 0.125]),
        ("all negative, tied", [-1, -1, -1, -2, -2]),
        ("mixed signs, tied magnitudes", [1, -1, 2, -2, 3, 3, -3, 0, 4, -0.5]),
    ]
    # Probability differences on the scale of a run: n ~ 200, shifted, quantised to float32 and with zeros.
    shifted = np.float32(rng.normal(0.03, 0.1, 200)).astype(np.float64)
    shifted[::17] = 0
    cases.append(("n = 200, shifted", shifted))
    centred = np.round(rng.normal(0, 0.2, 240), 2)  # many ties
    cases.append(("n = 240, centred, rounded", centred))
    return [wilcoxon_case(name, d) for name, d in cases]


def percentile_cases(rng):
    cases = [
        ("four", [3.0, 1.0, 4.0, 2.0]),
        ("one", [7.5]),
        ("two", [-1.0, 1.0]),
        ("ties", [1, 1, 1, 2, 2, 3, 5, 5, 5, 5]),
        ("2000 normal", rng.normal(0.45, 0.01, 2000)),
        ("2000 skewed", rng.exponential(1.0, 2000)),
    ]
    qs = [0, 2.5, 25, 50, 97.5, 100, 100 / 3]
    out = []
    for name, values in cases:
        values = floats(values)
        out.append({"name": name, "values": values, "q": qs,
                    "expected": floats(np.percentile(np.array(values), qs))})
    return out


def holm_cases(rng):
    cases = [
        ("textbook", [0.01, 0.04, 0.03, 0.005]),
        ("ties", [0.02, 0.02, 0.5, 0.001, 0.02]),
        ("capped at 1", [0.3, 0.6, 0.9, 0.2]),
        ("with ones", [1.0, 0.001, 1.0]),
        ("twelve", rng.uniform(0, 0.2, 12) ** 2),
        ("one", [0.04]),
    ]
    return [{"name": name, "p": floats(p), "expected": floats(multipletests(floats(p), method="holm")[1])}
            for name, p in cases]


def pairs_case(rng):
    """Three methods on 40 examples, some failed (None) per method; rows for each pair and metric as
    PairedComparison builds them: a - b over the examples both scored."""
    n = 40
    methods = ["iba", "ig", "random"]
    first_step = {
        "iba": rng.uniform(0.2, 0.9, n),
        "ig": None, "random": None,
    }
    first_step["ig"] = np.clip(first_step["iba"] - rng.normal(0.08, 0.1, n), 0, 1)
    first_step["random"] = np.clip(first_step["iba"] + rng.normal(0.0, 0.1, n), 0, 1)
    comprehensiveness = {m: rng.normal(mu, 0.1, n) for m, mu in zip(methods, [0.2, 0.3, 0.2])}
    failed = {"iba": {3}, "ig": {3, 17}, "random": {25}}
    values = {}
    for metric, source in [("prob_11%", first_step), ("aopc_comprehensiveness", comprehensiveness)]:
        values[metric] = {m: [None if p in failed[m] else float(np.float32(source[m][p])) for p in range(n)]
                          for m in methods}
    values["prob_11%"]["random"][5] = values["prob_11%"]["iba"][5]  # a zero difference
    rows = []
    for a in range(len(methods)):
        for b in range(a + 1, len(methods)):
            for metric in ["prob_11%", "aopc_comprehensiveness"]:
                va, vb = values[metric][methods[a]], values[metric][methods[b]]
                d = [x - y for x, y in zip(va, vb) if x is not None and y is not None]
                case = wilcoxon_case("", d)
                rows.append({"method_a": methods[a], "method_b": methods[b], "metric": metric, "n": len(d),
                             "mean_diff": float(np.mean(d)), "p_wilcoxon": case["p"]})
    holm = multipletests([r["p_wilcoxon"] for r in rows], method="holm")[1]
    for row, p in zip(rows, holm):
        row["p_holm"] = float(p)
    return {"methods": methods, "examples": n, "values": values, "rows": rows}


def main():
    rng = np.random.default_rng(20240611)
    reference = {
        "versions": {"numpy": np.__version__, "scipy": scipy.__version__, "statsmodels": statsmodels.__version__},
        "percentile": percentile_cases(rng),
        "wilcoxon": wilcoxon_cases(rng),
        "holm": holm_cases(rng),
        "pairs": pairs_case(rng),
    }
    json.dump(reference, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
