#!/usr/bin/env bash
# The Python package (py/): builds the abi3 wheel with maturin on the tests' cargo build (the
# release profile and the same target folder, so the crate and its dependencies are not built
# again), installs it into the project's Python environment, and with `test` runs its tests
# (pytest: plain Python, then Spark in local mode and on a standalone cluster).
#   bash scripts/python.sh build     the wheel, in $CARGO_TARGET_DIR/wheels, installed
#   bash scripts/python.sh test      build, then pytest py/tests
# The environment is made by scripts/setup.sh: $XRAY_LAB_PY_VENV (default
# ~/.cache/xray-lab/py-venv) with py/requirements.txt (maturin, pyspark, pyarrow, pytest, ...).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$(pwd)/target}"
venv="${XRAY_LAB_PY_VENV:-$HOME/.cache/xray-lab/py-venv}"
python="$venv/bin/python"
[ -x "$python" ] || { echo "no Python environment at $venv: run scripts/setup.sh" >&2; exit 1; }

wheels="$CARGO_TARGET_DIR/wheels"
rm -f "$wheels"/xray_lab-*.whl
"$venv/bin/maturin" build --release --quiet -m py/Cargo.toml -i "$python" -o "$wheels"
wheel=$(ls "$wheels"/xray_lab-*.whl)
"$python" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps "$wheel"
echo "   built and installed $(basename "$wheel")"

if [ "${1:-build}" = test ]; then
  export XRAY_LAB_BIN="${XRAY_LAB_BIN:-$CARGO_TARGET_DIR/release/xray-lab}"
  # Run from py/tests so that the installed wheel, not py/python, is what `import xray_lab` finds.
  cd py/tests
  "$python" -m pytest -q -p no:cacheprovider .
fi
