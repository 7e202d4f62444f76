"""Shared fixtures: the real sample, the xray-lab command, a small synthetic dataset.

The command is the one `cargo test --release` built (scripts/test passes XRAY_LAB_BIN); the
features it writes are what the Python package must equal, bit for bit."""
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
REAL_SAMPLE = REPO / "crate" / "tests" / "fixtures" / "real-sample"


def xray_lab_bin() -> str:
    found = os.environ.get("XRAY_LAB_BIN")
    if not found:
        target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
        found = str(target / "release" / "xray-lab")
    if not Path(found).is_file():
        pytest.fail(f"the xray-lab command is not at {found}: build it (cargo build --release) "
                    "or set XRAY_LAB_BIN")
    return found


def run(*args) -> str:
    done = subprocess.run([xray_lab_bin(), *map(str, args)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="session")
def real_sample(tmp_path_factory) -> Path:
    """The 16 real X-rays in the Kaggle layout (val/NORMAL, val/PNEUMONIA) plus two bad files:
    a JPEG cut in half and a text file named .jpeg."""
    root = tmp_path_factory.mktemp("real") / "chest_xray"
    shutil.copytree(REAL_SAMPLE / "NORMAL", root / "val" / "NORMAL")
    shutil.copytree(REAL_SAMPLE / "PNEUMONIA", root / "val" / "PNEUMONIA")
    first = sorted((root / "val" / "NORMAL").glob("*.jpeg"))[0].read_bytes()
    (root / "val" / "NORMAL" / "truncated.jpeg").write_bytes(first[: len(first) // 2])
    (root / "val" / "PNEUMONIA" / "notes.jpeg").write_bytes(b"not an image at all\n")
    return root


def command_features(root: Path, tmp: Path, *extra) -> dict:
    """`xray-lab features` on `root`: {path: row} from the Arrow file it writes, and its report."""
    import json

    import pyarrow.ipc as ipc

    out = tmp / "features.arrow"
    report = json.loads(run("features", "--data", root, "--out", out, "--no-cache", "--json", *extra))
    table = ipc.open_file(out).read_all()
    rows = {row["path"]: row for row in table.to_pylist()}
    return {"rows": rows, "report": report}


@pytest.fixture(scope="session")
def expected(real_sample, tmp_path_factory) -> dict:
    return command_features(real_sample, tmp_path_factory.mktemp("cmd"))


@pytest.fixture(scope="session")
def synthetic(tmp_path_factory) -> Path:
    """A small synthetic dataset (about 290 images) in the Kaggle layout."""
    root = tmp_path_factory.mktemp("synthetic") / "chest_xray"
    run("synth", "--out", root, "--scale", "0.05")
    return root


# Helpers of the Spark tests (classic and Connect): rows by path, and the command's rows.
def as_rows(df, cols=("path", "features", "mean", "std", "min", "max", "error")):
    return {r["path"]: r for r in df.select(*cols).collect()}


def check_equal_to_command(rows, expected, real_sample):
    want = expected["rows"]
    for path, w in want.items():
        got = rows["file:" + path]
        assert got["error"] is None
        assert np.array_equal(np.array(got["features"], np.float32).view(np.uint32),
                              np.array(w["features"], np.float32).view(np.uint32)), path
        assert (got["mean"], got["std"], got["min"], got["max"]) == (w["mean"], w["std"], w["min"], w["max"])
    bad = {p for p, r in rows.items() if r["error"] is not None}
    assert bad == {"file:" + str(real_sample / "val" / "NORMAL" / "truncated.jpeg"),
                   "file:" + str(real_sample / "val" / "PNEUMONIA" / "notes.jpeg")}
    for p in bad:
        assert rows[p]["features"] is None
