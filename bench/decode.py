"""Benchmark: decode-to-features with xray-lab (DCT downscaling and exact) against Pillow (draft
mode and plain decode, one process per core), on the same files in the same run.

    python3 bench/decode.py --data DIR [--data DIR2 ...] [--repeats 5]

Needs numpy and pyarrow (pip install numpy pyarrow) and a release build of xray-lab
(cargo build --release). The files are read once first, so every run reads from the page cache.
The four runs alternate within each repeat, so the shared machine's noise hits all of them
alike; the table gives medians. Peak memory is the peak resident set of the measured process
(for Pillow, the parent that holds the matrix; each worker adds its own Python).
Needs /usr/bin/time (Debian: apt install time).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow.ipc as ipc

ROOT = Path(__file__).resolve().parent.parent


def run_measured(cmd, work):
    """Runs one command under /usr/bin/time: (stdout, wall seconds, peak RSS of that process in MB).
    (A fork from this Python would carry Python's own peak into the child's count.)"""
    stats = work / "time.txt"
    start = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", stats] + [str(c) for c in cmd],
                          capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(map(str, cmd))} failed:\n{proc.stderr}")
    peak_kb = int(stats.read_text().split()[-1])
    return proc.stdout, wall, peak_kb / 1024


def read_arrow(path, side):
    table = ipc.open_file(path).read_all()
    paths = table.column("path").to_pylist()
    values = table.column("features").combine_chunks().flatten().to_numpy()
    return paths, values.reshape(len(paths), side * side)


def bench(data, binary, repeats, side, work):
    files = [p for p in Path(data).rglob("*") if p.is_file()]
    total_bytes = 0
    for p in files:  # into the page cache
        total_bytes += len(p.read_bytes())
    rust_out = {m: work / f"rust-{m}.arrow" for m in ("dct", "exact")}
    pil_out = {m: work / f"pillow-{m}.f32" for m in ("draft", "plain")}
    rust = lambda m: [binary, "features", "--data", data, "--out", rust_out[m], "--no-cache",
                      "--json", "--size", str(side)] + (["--exact"] if m == "exact" else [])
    run_measured(rust("dct"), work)  # warm-up, and the file list for Pillow
    paths, _ = read_arrow(rust_out["dct"], side)
    data_bytes = sum(os.path.getsize(p) for p in paths)
    listing = work / "files.txt"
    listing.write_text("\n".join(paths) + "\n")
    pillow = lambda m: [sys.executable, ROOT / "bench/pillow_features.py", listing, pil_out[m],
                        "--size", str(side), "--processes", str(os.cpu_count())] + (
                            ["--draft"] if m == "draft" else [])
    runs = {k: [] for k in ("xray-lab dct", "xray-lab exact", "Pillow draft", "Pillow plain")}
    for _ in range(repeats):
        for name, cmd in (("xray-lab dct", rust("dct")), ("Pillow draft", pillow("draft")),
                          ("xray-lab exact", rust("exact")), ("Pillow plain", pillow("plain"))):
            out, wall, peak = run_measured(cmd, work)
            runs[name].append((wall, peak))
    n = len(paths)
    matrix_mb = n * side * side * 4 / 1e6
    feats = {m: read_arrow(rust_out[m], side)[1] for m in rust_out}
    pil = {m: np.fromfile(pil_out[m], dtype=np.float32).reshape(n, side * side) for m in pil_out}
    mad = lambda a, b: float(np.nanmean(np.abs(a - b)) * 255)
    result = {
        "data": str(data), "images": n, "megabytes": data_bytes / 1e6, "matrix_mb": matrix_mb,
        "cores": os.cpu_count(), "repeats": repeats,
        "runs": {k: {"seconds": statistics.median(w for w, _ in v),
                     "images_per_second": n / statistics.median(w for w, _ in v),
                     "mb_per_second": data_bytes / 1e6 / statistics.median(w for w, _ in v),
                     "peak_mb": statistics.median(p for _, p in v)} for k, v in runs.items()},
        "mean_abs_diff_0_255": {
            "xray-lab dct vs xray-lab exact": mad(feats["dct"], feats["exact"]),
            "xray-lab exact vs Pillow plain": mad(feats["exact"], pil["plain"]),
            "xray-lab dct vs Pillow draft": mad(feats["dct"], pil["draft"]),
            "Pillow draft vs Pillow plain": mad(pil["draft"], pil["plain"]),
        },
    }
    return result


def table(r):
    lines = [f"**{r['data']}**: {r['images']} images, {r['megabytes']:.0f} MB, {r['cores']} cores, "
             f"median of {r['repeats']} runs (whole process, from the page cache); "
             f"feature matrix {r['matrix_mb']:.0f} MB",
             "", "| run | seconds | images/s | MB/s | peak memory (MB) | vs Pillow draft |", "|---|---|---|---|---|---|"]
    draft = r["runs"]["Pillow draft"]["images_per_second"]
    for k, v in r["runs"].items():
        lines.append(f"| {k} | {v['seconds']:.2f} | {v['images_per_second']:.0f} | {v['mb_per_second']:.0f} | "
                     f"{v['peak_mb']:.0f} | {v['images_per_second'] / draft:.2f}x |")
    lines += ["", "| features compared | mean absolute difference (0-255) |", "|---|---|"]
    for k, v in r["mean_abs_diff_0_255"].items():
        lines.append(f"| {k} | {v:.2f} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", action="append", required=True)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--size", type=int, default=150)
    ap.add_argument("--binary", default=str(ROOT / "target/release/xray-lab"))
    ap.add_argument("--json", help="also write the results as JSON here")
    args = ap.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as work:
        for data in args.data:
            r = bench(data, args.binary, args.repeats, args.size, Path(work))
            results.append(r)
            print(table(r), "\n", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
