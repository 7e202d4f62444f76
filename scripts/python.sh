#!/usr/bin/env bash
# The Python package (py/): builds the abi3 wheel with maturin, installs it into the project's
# Python environment, and with `test` runs its tests (pytest: plain Python, then Spark in local
# mode and on a standalone cluster). Inside scripts/test (XRAY_LAB_TREE set, by `kernel.py
# test-tree`) the wheel builds on the tests' build of the tree, in its profile, so the crate and
# its dependencies are not built again; that wheel links Rust's standard library dynamically and
# finds it through LD_LIBRARY_PATH, which scripts/test sets (so auditwheel's repair, which
# would bundle it, is skipped): a wheel for the tests, not to hand out. Alone, it builds the release wheel.
#   bash scripts/python.sh build     the wheel, in $CARGO_TARGET_DIR/wheels, installed
#   bash scripts/python.sh test      build, then pytest py/tests
# It installs what it needs when missing: Java 17 (apt) and the environment $XRAY_LAB_PY_VENV
# (default ~/.cache/xray-lab/py-venv) with py/requirements.txt (maturin, pyspark, pytest, ...).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$(pwd)/target}"
venv="${XRAY_LAB_PY_VENV:-$HOME/.cache/xray-lab/py-venv}"
python="$venv/bin/python"
started=$(date +%s)
step() { echo "== [$(( $(date +%s) - started )) s] $*"; }

# Spark needs Java 17 (or later); the package's environment is its own (Spark 3.5's MLlib wants
# numpy 1.x, and Jupyter's environment stays as it is), made again only when
# py/requirements.txt changes. Here rather than in setup.sh: the notebooks need neither.
if ! command -v java >/dev/null && command -v apt-get >/dev/null; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo -n"
  step "installing Java 17 (apt, for Spark; about 30 s)"
  $SUDO apt-get install -y -qq openjdk-17-jre-headless >/dev/null 2>&1 \
    || { $SUDO apt-get update -qq >/dev/null 2>&1 && $SUDO apt-get install -y -qq openjdk-17-jre-headless >/dev/null 2>&1; } \
    || echo "   (could not install Java: the Spark tests will say so)"
fi
if ! cmp -s py/requirements.txt "$venv/xray-lab-requirements.txt"; then
  step "the Python environment for the package and Spark in $venv (pyspark, pyarrow, maturin, pytest; pip, about 1 min once)"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r py/requirements.txt
  cp py/requirements.txt "$venv/xray-lab-requirements.txt"
fi
step "building the wheel (maturin)"

wheels="$CARGO_TARGET_DIR/wheels"
rm -f "$wheels"/xray_lab-*.whl
# With the crate's features as the tests build it (`--all-features`), so that maturin reuses that
# build of the crate instead of compiling it again without them (the wheel calls none of them).
if [ -n "${XRAY_LAB_TREE:-}" ]; then
  (cd "$XRAY_LAB_TREE" && "$venv/bin/maturin" build --profile dev --target "$XRAY_LAB_HOST" --quiet \
    --auditwheel skip -m "$top/py/Cargo.toml" -i "$python" -o "$wheels" --features xray_lab/pretrained)
else
  "$venv/bin/maturin" build --release --quiet -m py/Cargo.toml -i "$python" -o "$wheels" \
    --features xray_lab/pretrained
fi
wheel=$(ls "$wheels"/xray_lab-*.whl)
"$python" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps "$wheel"
echo "   built and installed $(basename "$wheel")"

if [ "${1:-build}" = test ]; then
  export XRAY_LAB_BIN="${XRAY_LAB_BIN:-$CARGO_TARGET_DIR/release/xray-lab}"
  # Run from py/tests so that the installed wheel, not py/python, is what `import xray_lab` finds.
  cd py/tests
  "$python" -m pytest -q -p no:cacheprovider .
fi
