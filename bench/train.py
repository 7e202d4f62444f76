#!/usr/bin/env python3
"""Fit and predict times of the linear models, xray-lab against scikit-learn, on the same matrices
in the same run (issue 6): n = 2,800 and 5,200 images, p = 22,500 (150x150) and 4,096 (64x64)
features decoded from the dataset (the synthetic default unless XRAY_LAB_DATA is set).

    cargo build --release --example train_bench
    pip install numpy scikit-learn              # and: apt install time
    python3 bench/train.py --repeats 3

Models: ridge (scikit-learn Ridge(alpha=1), solver auto: Cholesky on the n x n kernel when p > n;
xray-lab RidgeRegression::fit(x, 1.0)) and L2 logistic regression with balanced class weights
(scikit-learn LogisticRegression(C=1, lbfgs, max_iter=100, class_weight="balanced"); xray-lab
LogisticRegression with its defaults, the same objective and iteration cap). Each fit runs in its
own process under /usr/bin/time, the tools alternating, so the machine's noise hits both alike;
the table gives medians and the peak resident memory of the process.
"""
import argparse, json, os, statistics, subprocess, sys, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
EXAMPLE = TARGET / "release" / "examples" / "train_bench"
SIZES = [(2800, 22500), (5200, 22500), (2800, 4096), (5200, 4096)]

SKLEARN = r'''
import json, sys, time
import numpy as np
from sklearn.linear_model import Ridge, LogisticRegression
d, n, p = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
x = np.fromfile(f"{d}/x_{n}_{p}.f32", dtype=np.float32).reshape(n, p)
y = np.fromfile(f"{d}/y_{n}_{p}.u8", dtype=np.uint8).astype(np.float64)
t = time.perf_counter(); r = Ridge(alpha=1.0).fit(x, y); fit = time.perf_counter() - t
t = time.perf_counter(); r.predict(x); pred = time.perf_counter() - t
print(json.dumps(dict(tool="scikit-learn", model="ridge", n=n, p=p, fit_s=fit, predict_s=pred)))
t = time.perf_counter()
m = LogisticRegression(C=1.0, max_iter=100, class_weight="balanced").fit(x, y)
fit = time.perf_counter() - t
t = time.perf_counter(); m.predict_proba(x); pred = time.perf_counter() - t
print(json.dumps(dict(tool="scikit-learn", model="logistic", n=n, p=p, fit_s=fit, predict_s=pred, iterations=int(m.n_iter_[0]))))
'''


def timed(cmd):
    out = subprocess.run(["/usr/bin/time", "-f", "PEAK_KB %M"] + cmd, capture_output=True, text=True, check=True)
    peak = [int(l.split()[1]) for l in out.stderr.splitlines() if l.startswith("PEAK_KB")][0]
    return [json.loads(l) for l in out.stdout.splitlines() if l.startswith("{")], peak / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--dir", default=None, help="where the matrices go (default: a temporary folder)")
    args = ap.parse_args()
    d = args.dir or tempfile.mkdtemp(prefix="xray-lab-train-bench-")
    subprocess.run([str(EXAMPLE), d, "0"], check=True)  # decode and write the matrices only
    rows = {}
    for _ in range(args.repeats):
        for n, p in SIZES:
            for tool, cmd in [("xray-lab", [str(EXAMPLE), "fit", d, str(n), str(p)]),
                              ("scikit-learn", [sys.executable, "-c", SKLEARN, d, str(n), str(p)])]:
                results, peak = timed(cmd)
                for r in results:
                    rows.setdefault((r["model"], n, p, tool), []).append((r["fit_s"], r["predict_s"], peak))
    print("| model | n | p | xray-lab fit (s) | scikit-learn fit (s) | ratio | xray-lab predict (s) | scikit-learn predict (s) | peak MB xray-lab / scikit-learn |")
    print("|---|---|---|---|---|---|---|---|---|")
    for model in ["ridge", "logistic"]:
        for n, p in SIZES:
            ours, theirs = rows[(model, n, p, "xray-lab")], rows[(model, n, p, "scikit-learn")]
            med = lambda rs, k: statistics.median(r[k] for r in rs)
            print(f"| {model} | {n:,} | {p:,} | {med(ours,0):.2f} | {med(theirs,0):.2f} | {med(ours,0)/med(theirs,0):.2f} "
                  f"| {med(ours,1):.3f} | {med(theirs,1):.3f} | {med(ours,2):.0f} / {med(theirs,2):.0f} |")
    print(f"\n(medians of {args.repeats} runs; peak memory is the whole process: both fits plus the matrix)")


if __name__ == "__main__":
    main()
