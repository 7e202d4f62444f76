"""`xray-lab report`'s pipeline written the careful single-machine Python way, timed stage by stage:
Pillow (draft mode, one process per core) for decoding, numpy and scikit-learn for the models,
matplotlib for the figures. The reference `bench/pipeline.py` compares `xray-lab report` with.

    python3 bench/report_python.py --data DATASET --split SPLIT.csv --out DIR [--processes 2]

SPLIT.csv is the split file `xray-lab split --out` writes (columns `path` relative to DATASET,
`subset`), so both tools train and test on the same images; the split itself costs xray-lab
0.02 s and is not what is measured. The stages do what xray-lab's do:

1. scan: every *.jpeg/*.jpg/*.png under DATASET, class from the folder;
2. image facts: file size, width, height and channels from each header (Pillow opens lazily);
3. features: 150x150 grayscale in [0,1] and a 256-bin histogram per image (Pillow `draft`,
   `convert("L")`, `resize` bicubic) in a pool of processes; size and intensity statistics per
   subset and class;
4. training and evaluation: ridge regression (the report's model; six penalties relative to the
   mean squared norm of a centred row, solved together as scikit-learn does for several
   targets, the best on validation RMSE), logistic regression (C=1, balanced, 100 iterations),
   a decision tree on 16 principal components of 10x10 block means, a random forest (200 trees,
   depth 16) on 15x15 block means, and the two shortcut checks on the file facts; per model and
   subset: RMSE, R², ROC AUC, the ROC curve and the confusion at the threshold chosen on
   validation;
5. figures: the report's figures and the model figures, each as SVG and PNG, three dashboards.

Prints one JSON line with the stage seconds and the test metrics; writes DIR/metrics.json.
"""
import argparse
import csv
import json
import multiprocessing as mp
import os
import time
import warnings

import numpy as np
from PIL import Image

SIZE = 150
EXTENSIONS = (".jpeg", ".jpg", ".png")


def decode(path):
    try:
        with Image.open(path) as im:
            im.draft("L", (SIZE, SIZE))
            im = im.convert("L").resize((SIZE, SIZE), Image.BICUBIC)
            a = np.asarray(im, dtype=np.uint8).reshape(-1)
            return a, np.bincount(a, minlength=256)
    except Exception as e:  # a bad file is a reject, not the end of the run
        return None, str(e)


def header(path):
    with Image.open(path) as im:
        return os.path.getsize(path), im.width, im.height, len(im.getbands())


def pool_blocks(x, factor):
    n = x.shape[0]
    side = SIZE // factor
    blocks = x.reshape(n, SIZE, SIZE)[:, : side * factor, : side * factor]
    return blocks.reshape(n, side, factor, side, factor).mean(axis=(2, 4))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--split", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--processes", type=int, default=2)
    args = ap.parse_args()
    start = time.perf_counter()
    stages = {}

    def stage(name, since):
        now = time.perf_counter()
        stages[name] = round(now - since, 3)
        print(f"   {name}: {now - since:.2f} s", flush=True)
        return now

    t = start
    # 1. scan
    paths, classes = [], []
    for folder, dirs, files in os.walk(args.data):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for f in sorted(files):
            if f.lower().endswith(EXTENSIONS) and not f.startswith("."):
                paths.append(os.path.join(folder, f))
                classes.append(os.path.basename(folder))
    subset_of = {}
    with open(args.split) as f:
        for row in csv.DictReader(f):
            subset_of[os.path.join(args.data, row["path"])] = row["subset"]
    subsets = np.array([subset_of.get(p, "") for p in paths])
    labels = np.array([c == "PNEUMONIA" for c in classes], dtype=np.int64)
    t = stage("scan and split", t)

    # 2. image facts
    facts = np.array([header(p) for p in paths], dtype=np.float64)
    t = stage("image facts", t)

    # 3. features
    x = np.empty((len(paths), SIZE * SIZE), dtype=np.float32)
    hists = np.zeros((len(paths), 256), dtype=np.int64)
    rejects = []
    with mp.Pool(args.processes) as pool:
        for i, (row, h) in enumerate(pool.imap(decode, paths, chunksize=32)):
            if row is None:
                rejects.append((paths[i], h))
                x[i] = np.nan
            else:
                x[i] = row
                hists[i] = h
    x /= 255.0
    import pandas as pd

    table = pd.DataFrame({"subset": subsets, "label": labels, "width": facts[:, 1], "height": facts[:, 2]})
    size_stats = table.groupby("subset")[["width", "height"]].agg(["min", "max", "mean", "std"])
    intensity = {}
    levels = np.arange(256)
    for s in ("train", "validation", "test"):
        h = hists[subsets == s].sum(axis=0)
        mean = (h * levels).sum() / h.sum()
        std = np.sqrt((h * (levels - mean) ** 2).sum() / h.sum())
        nz = np.nonzero(h)[0]
        intensity[s] = {"min": int(nz[0]), "max": int(nz[-1]), "mean": float(mean), "std": float(std)}
    t = stage("features", t)

    # 4. training and evaluation
    from sklearn.decomposition import PCA
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.metrics import confusion_matrix, mean_squared_error, r2_score, roc_auc_score, roc_curve
    from sklearn.preprocessing import StandardScaler
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.tree import DecisionTreeClassifier

    warnings.filterwarnings("ignore", category=ConvergenceWarning)  # 100 iterations, as xray-lab

    ok = ~np.isnan(x[:, 0])
    idx = {s: np.nonzero((subsets == s) & ok)[0] for s in ("train", "validation", "test")}
    y = {s: labels[i] for s, i in idx.items()}
    results, models = [], {}

    def score(name, fn, data):
        scores = {s: fn(data[s]) for s in data}
        fpr, tpr, thr = roc_curve(y["validation"], scores["validation"])
        threshold = thr[np.argmax(tpr - fpr)]
        for s in ("train", "validation", "test"):
            pred = (scores[s] >= threshold).astype(int)
            tn, fp, fn_, tp = confusion_matrix(y[s], pred, labels=[0, 1]).ravel()
            results.append({
                "model": name, "subset": s, "roc_auc": roc_auc_score(y[s], scores[s]),
                "rmse": float(np.sqrt(mean_squared_error(y[s], scores[s]))), "r2": r2_score(y[s], scores[s]),
                "accuracy": (tp + tn) / len(pred), "recall": tp / max(tp + fn_, 1),
                "specificity": tn / max(tn + fp, 1), "roc": roc_curve(y[s], scores[s])[:2],
                "confusion": (tn, fp, fn_, tp), "scores": scores[s],
            })

    pixels = {s: x[i] for s, i in idx.items()}
    centred = pixels["train"] - pixels["train"].mean(axis=0)
    scale = float((centred * centred).sum(axis=1).mean())
    del centred
    alphas = np.array([1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0]) * scale
    ridge = Ridge(alpha=alphas).fit(pixels["train"], np.tile(y["train"], (len(alphas), 1)).T.astype(np.float64))
    path = [float(np.sqrt(mean_squared_error(y["validation"], p)))
            for p in ridge.predict(pixels["validation"]).T]
    best = int(np.argmin(path))
    models["linear regression (report)"] = ridge
    score("linear regression (report)", lambda a: ridge.predict(a)[:, best], pixels)

    logistic = LogisticRegression(C=1.0, class_weight="balanced", max_iter=100).fit(pixels["train"], y["train"])
    models["logistic regression"] = logistic
    score("logistic regression", lambda a: logistic.predict_proba(a)[:, 1], pixels)

    coarse = {s: pool_blocks(a, 15).reshape(len(a), -1) for s, a in pixels.items()}
    pooled = {s: pool_blocks(a, 10).reshape(len(a), -1) for s, a in pixels.items()}
    pca = PCA(16).fit(coarse["train"])
    projected = {s: pca.transform(a) for s, a in coarse.items()}
    tree = DecisionTreeClassifier(max_depth=6, min_samples_leaf=20, class_weight="balanced",
                                  random_state=42).fit(projected["train"], y["train"])
    score("decision tree", lambda a: tree.predict_proba(a)[:, 1], projected)
    forest = RandomForestClassifier(200, max_depth=16, class_weight="balanced", n_jobs=args.processes,
                                    random_state=42).fit(pooled["train"], y["train"])
    score("random forest", lambda a: forest.predict_proba(a)[:, 1], pooled)

    fact_rows = np.column_stack([facts[:, 0] / 1000, facts[:, 1], facts[:, 2],
                                 facts[:, 1] / facts[:, 2], facts[:, 3]])
    fx = {s: fact_rows[i] for s, i in idx.items()}
    scaler = StandardScaler().fit(fx["train"])
    shortcut = LogisticRegression(C=1000.0 / len(idx["train"]), class_weight="balanced").fit(
        scaler.transform(fx["train"]), y["train"])
    score("shortcut: logistic regression", lambda a: shortcut.predict_proba(scaler.transform(a))[:, 1], fx)
    shortcut_forest = RandomForestClassifier(200, max_depth=16, class_weight="balanced", n_jobs=args.processes,
                                             random_state=42).fit(fx["train"], y["train"])
    score("shortcut: random forest", lambda a: shortcut_forest.predict_proba(a)[:, 1], fx)
    t = stage("training and evaluation", t)

    # 5. figures
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figdir = os.path.join(args.out, "figures")
    os.makedirs(figdir, exist_ok=True)
    names = ["train", "validation", "test"]

    def save(fig, name):
        for ext in ("svg", "png"):
            fig.savefig(os.path.join(figdir, f"{name}.{ext}"), dpi=100)
        plt.close(fig)

    counts = {s: [int(((subsets == s) & (labels == k)).sum()) for k in (0, 1)] for s in names}
    before = {}
    for p, k in zip(paths, labels):
        folder = os.path.relpath(p, args.data).split(os.sep)[0]
        before[folder] = before.get(folder, 0) + 1
    test_rows = [r for r in results if r["subset"] == "test"]

    def bars(ax, keys, values, title):
        ax.bar(keys, values)
        ax.set_title(title)

    drawers = {
        "images_before_and_after": lambda ax: bars(ax, list(before) + names,
                                                   list(before.values()) + [sum(counts[s]) for s in names], "before / after"),
        "images_per_subset": lambda ax: bars(ax, names, [sum(counts[s]) for s in names], "images per subset"),
        "classes_per_subset": lambda ax: [ax.bar(np.arange(3) + k * 0.4, [counts[s][k] for s in names], 0.4)
                                          for k in (0, 1)],
        "classes_stacked": lambda ax: [ax.bar(names, [counts[s][k] for s in names],
                                              bottom=[counts[s][0] if k else 0 for s in names]) for k in (0, 1)],
        "subset_shares": lambda ax: ax.pie([sum(counts[s]) for s in names], labels=names, autopct="%1.0f%%"),
        "population_graph": lambda ax: [ax.barh(names, [-counts[s][0] for s in names]),
                                        ax.barh(names, [counts[s][1] for s in names])],
        "image_sizes": lambda ax: [ax.scatter(facts[labels == k, 1], facts[labels == k, 2], s=2) for k in (0, 1)],
        "height_histogram": lambda ax: ax.hist([facts[labels == k, 2] for k in (0, 1)], bins=40),
        "height_stats_per_subset": lambda ax: size_stats["height"].loc[names].plot.bar(ax=ax),
        "intensity_histograms": lambda ax: [ax.plot(hists[labels == k].sum(axis=0) / hists[labels == k].sum())
                                            for k in (0, 1)],
        "intensity_stats_per_subset": lambda ax: pd.DataFrame(intensity).T.loc[names].plot.bar(ax=ax),
        "sample_grid": lambda ax: ax.imshow(np.vstack([np.hstack([x[i].reshape(SIZE, SIZE) for i in row])
                                                       for row in np.arange(16).reshape(4, 4)]), cmap="gray"),
        "roc_curves": lambda ax: [ax.plot(*r["roc"], label=r["model"]) for r in test_rows],
        "score_histograms": lambda ax: [ax.hist(r["scores"], bins=30, alpha=0.5) for r in test_rows],
        "confusion_matrices": lambda ax: ax.imshow(np.array([r["confusion"] for r in test_rows])),
        "coefficients_linear_regression": lambda ax: ax.imshow(ridge.coef_[best].reshape(SIZE, SIZE), cmap="RdBu"),
        "coefficients_logistic_regression": lambda ax: ax.imshow(logistic.coef_[0].reshape(SIZE, SIZE), cmap="RdBu"),
        "ridge_path": lambda ax: ax.semilogx(alphas, path, marker="o"),
        "model_comparison": lambda ax: ax.barh([r["model"] for r in test_rows], [r["roc_auc"] for r in test_rows]),
        "color_legend": lambda ax: [ax.bar([k], [1], label=c) for k, c in enumerate(("NORMAL", "PNEUMONIA"))],
    }
    for name, draw in drawers.items():
        fig, ax = plt.subplots(figsize=(8, 5))
        draw(ax)
        save(fig, name)
    dashboards = {
        "distribution": ["images_before_and_after", "images_per_subset", "classes_per_subset", "classes_stacked"],
        "proportions": ["subset_shares", "population_graph", "classes_stacked", "color_legend"],
        "everything": list(drawers)[:16],
    }
    for name, panels in dashboards.items():
        cols = 4 if len(panels) > 4 else 2
        fig, axes = plt.subplots((len(panels) + cols - 1) // cols, cols, figsize=(6 * cols, 4 * ((len(panels) + cols - 1) // cols)))
        for ax, panel in zip(axes.ravel(), panels):
            drawers[panel](ax)
            ax.set_title(panel)
        for ext in ("svg", "png"):
            os.makedirs(os.path.join(args.out, "dashboards"), exist_ok=True)
            fig.savefig(os.path.join(args.out, "dashboards", f"{name}.{ext}"), dpi=100)
        plt.close(fig)
    t = stage("figures and dashboards", t)

    summary = {
        "tool": "pillow+scikit-learn",
        "stages": stages,
        "seconds": round(time.perf_counter() - start, 3),
        "images": len(paths),
        "rejects": rejects,
        "test": {r["model"]: {k: float(r[k]) for k in ("roc_auc", "accuracy", "recall", "specificity")}
                 for r in test_rows},
    }
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
