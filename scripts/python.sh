#!/usr/bin/env bash
# The Python package (py/): builds the abi3 wheel with maturin, installs it into the project's
# Python environment, and with `test` runs its tests (pytest: plain Python, then Spark in local
# mode and on a standalone cluster; Spark Connect; the wheel a cluster installs and the sdist,
# each in a new environment). Inside scripts/test (XRAY_LAB_TREE set, by `kernel.py
# test-tree`) the wheel for the tests builds on the tests' build of the tree, in its profile, so
# the crate and its dependencies are not built again; that wheel links Rust's standard library
# dynamically and finds it through LD_LIBRARY_PATH, which scripts/test sets (so auditwheel's
# repair, which would bundle it, is skipped): a wheel for the tests, not to hand out. Alone,
# `build` builds the release wheel.
#   bash scripts/python.sh build     the wheel, in $CARGO_TARGET_DIR/wheels, installed
#   bash scripts/python.sh test      build, then pytest py/tests; then the checks of `dist`
#   bash scripts/python.sh wheels    the wheels to hand out and the sdist, in $XRAY_LAB_DIST
#                                    (default ~/.cache/xray-lab/dist): manylinux2014 (glibc
#                                    2.17) for x86-64 and aarch64, abi3 for CPython 3.9 and
#                                    later, linked by zig (maturin --zig), without the network
# It installs what it needs when missing: Java 17 (apt) and the environment $XRAY_LAB_PY_VENV
# (default ~/.cache/xray-lab/py-venv) with py/requirements.txt (maturin, ziglang, pyspark,
# pytest, ...); for the Spark Connect test, ~/.cache/xray-lab/connect-venv with
# py/requirements-connect.txt (pyspark 4 and its Connect client).
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
# environment DIR REQUIREMENTS: a virtual environment with those pinned packages, made again
# only when the file changes.
environment() {
  if ! cmp -s "$2" "$1/xray-lab-requirements.txt"; then
    rm -rf "$1"
    python3 -m venv "$1"
    "$1/bin/pip" install --quiet --disable-pip-version-check -r "$2"
    cp "$2" "$1/xray-lab-requirements.txt"
  fi
}
if ! cmp -s py/requirements.txt "$venv/xray-lab-requirements.txt"; then
  step "the Python environment for the package and Spark in $venv (pyspark, pyarrow, maturin, ziglang, pytest; pip, about 1 min once)"
  environment "$venv" py/requirements.txt
fi

dist="${XRAY_LAB_DIST:-$HOME/.cache/xray-lab/dist}"
# dist_wheel TARGET: the release wheel to hand out for one Rust target, in $dist. Its own build
# folder (kept between runs), without the tests' settings (their dynamically linked standard
# library): the wheel must run on a node that has no Rust. zig links it against glibc 2.17's
# symbols (manylinux2014: CentOS 7, Amazon Linux 2, RHEL 7 and later) and cross-links aarch64;
# maturin checks the result against the manylinux policy before it writes the wheel.
# dist_env [NAME=VALUE...] COMMAND...: COMMAND in that build folder and environment.
dist_env() {
  env -u RUSTFLAGS -u CARGO_BUILD_BUILD_DIR -u LD_LIBRARY_PATH -u RUSTC \
    CARGO_TARGET_DIR="$HOME/.cache/xray-lab/dist-build" "$@"
}
dist_wheel() {
  rustup target add "$1" >/dev/null 2>&1 || true
  dist_env PATH="$venv/bin:$PATH" "$venv/bin/maturin" build --release --strip --zig \
    --compatibility manylinux2014 --target "$1" --quiet -m "$top/py/Cargo.toml" -i "$python" \
    -o "$dist"
}
command="${1:-build}"
if [ "$command" != wheels ]; then
  step "building the wheel (maturin)"

  wheels="$CARGO_TARGET_DIR/wheels"
  rm -f "$wheels"/xray_lab-*.whl
  # With the crate's features as the tests build it (`--all-features`), so that maturin reuses that
  # build of the crate instead of compiling it again without them (the wheel calls none of them).
  if [ -n "${XRAY_LAB_TREE:-}" ]; then
    (cd "$XRAY_LAB_TREE" && "$venv/bin/maturin" build --profile dev --target "$XRAY_LAB_HOST" --quiet \
      --auditwheel skip -m "$top/py/Cargo.toml" -i "$python" -o "$wheels" --features xray_lab/pretrained)
  else
    # Alone: the release wheel for this machine, without the network code (nothing calls it).
    "$venv/bin/maturin" build --release --quiet -m py/Cargo.toml -i "$python" -o "$wheels"
  fi
  wheel=$(ls "$wheels"/xray_lab-*.whl)
  "$python" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps "$wheel"
  echo "   built and installed $(basename "$wheel")"
fi

if [ "$command" = test ]; then
  export XRAY_LAB_BIN="${XRAY_LAB_BIN:-$CARGO_TARGET_DIR/release/xray-lab}"
  # Run from py/tests so that the installed wheel, not py/python, is what `import xray_lab` finds.
  (cd py/tests && "$python" -m pytest -q -p no:cacheprovider .)

  connect="$HOME/.cache/xray-lab/connect-venv"
  step "Spark Connect: pyspark 4 in $connect (pip, about 1 min once), the same wheel, a local Connect server"
  environment "$connect" py/requirements-connect.txt
  "$connect/bin/pip" install --quiet --disable-pip-version-check --force-reinstall --no-deps "$wheel"
  (cd py/tests && XRAY_LAB_CONNECT=1 PYSPARK_PYTHON="$connect/bin/python" \
    "$connect/bin/python" -m pytest -q -p no:cacheprovider test_connect.py)

  step "the wheel a cluster installs: manylinux2014 x86-64, abi3 (a release build with zig; about 15 min from nothing on 2 cores, then the changed crates)"
  rm -f "$dist"/xray_lab-*.whl "$dist"/xray_lab-*.tar.gz
  dist_wheel x86_64-unknown-linux-gnu
  shipped=$(ls "$dist"/xray_lab-*manylinux2014_x86_64.whl)
  echo "   built $(basename "$shipped")"
  checks=$(mktemp -d)
  # A new environment, as a cluster node's: pip takes numpy and pyarrow from the wheel's own
  # requirements (their latest releases, not the pinned ones above); the plain Python tests run
  # on it (the command's rows bit for bit, every input kind, bad input, a fork).
  python3 -m venv "$checks/wheel"
  "$checks/wheel/bin/pip" install --quiet --disable-pip-version-check "$shipped" pytest pandas polars pillow
  (cd py/tests && "$checks/wheel/bin/python" -m pytest -q -p no:cacheprovider test_decode.py)

  step "the sdist: built, then built from and installed into a new environment (the changed crates only: the dependencies come from the wheel's build)"
  "$venv/bin/maturin" sdist -m py/Cargo.toml -o "$dist" >/dev/null
  sdist=$(ls "$dist"/xray_lab-*.tar.gz)
  python3 -m venv "$checks/sdist"
  "$checks/sdist/bin/pip" install --quiet --disable-pip-version-check maturin==1.7.4 ziglang==0.17.1 pytest pandas polars pillow
  # maturin's build backend, told to build as dist_wheel does (zig, manylinux2014), in the same
  # build folder, so that only the crates the sdist carries are compiled again.
  dist_env PATH="$checks/sdist/bin:$PATH" \
    MATURIN_PEP517_ARGS="--zig --compatibility manylinux2014 --target x86_64-unknown-linux-gnu" \
    "$checks/sdist/bin/pip" install --quiet --disable-pip-version-check --no-build-isolation "$sdist"
  (cd py/tests && "$checks/sdist/bin/python" -m pytest -q -p no:cacheprovider test_decode.py)
  rm -rf "$checks"
fi

if [ "$command" = wheels ]; then
  rm -f "$dist"/xray_lab-*.whl "$dist"/xray_lab-*.tar.gz
  for target in x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu; do
    step "the wheel for $target (release, zig)"
    dist_wheel "$target"
  done
  "$venv/bin/maturin" sdist -m py/Cargo.toml -o "$dist" >/dev/null
  step "in $dist:"
  ls -la "$dist"
fi
