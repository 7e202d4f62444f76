#!/usr/bin/env bash
# Installs what the project needs and a fresh machine lacks: Jupyter (pip), the evcxr Rust
# kernel (cargo) and, optionally, nasm (apt). Safe to run again: each step is skipped when its tool is already there.
set -euo pipefail
EVCXR_VERSION=0.22.0

if ! command -v cargo >/dev/null; then
  echo "cargo not found: install Rust from https://rustup.rs first" >&2
  exit 1
fi
export PATH="$HOME/.cargo/bin:$PATH"

# nasm lets the mozjpeg crate build libjpeg-turbo with its SIMD code (without it the build still
# works, with plain C, and cargo prints a warning). Optional: installed when apt can do it.
if ! command -v nasm >/dev/null && command -v apt-get >/dev/null; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo -n"
  echo "== installing nasm (apt; optional, for libjpeg-turbo's SIMD)"
  { $SUDO apt-get install -y -qq nasm >/dev/null 2>&1 \
      || { $SUDO apt-get update -qq >/dev/null 2>&1 && $SUDO apt-get install -y -qq nasm >/dev/null 2>&1; }; } \
    || echo "   (could not install nasm: decoding works, a little slower)"
fi

if ! python3 -c "import nbconvert, nbclient, jupyterlab" 2>/dev/null || ! command -v jupyter >/dev/null; then
  echo "== installing Jupyter (pip)"
  python3 -m pip install --quiet --disable-pip-version-check -r "$(dirname "$0")/../requirements.txt"
fi

if ! command -v evcxr_jupyter >/dev/null; then
  echo "== installing the evcxr Jupyter kernel $EVCXR_VERSION (cargo; about 5-15 minutes, once)"
  cargo install --locked --quiet evcxr_jupyter --version "$EVCXR_VERSION"
fi
if ! jupyter kernelspec list 2>/dev/null | grep -q '^ *rust '; then
  evcxr_jupyter --install >/dev/null
fi
