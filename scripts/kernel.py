#!/usr/bin/env python3
"""The xray-lab Jupyter kernel: evcxr, started in a build folder seeded from one built once.

Why this exists. evcxr 0.22 gives every kernel a new, empty build folder, and its `:cache`
leaves out path dependencies (cargo compiles them incrementally, and evcxr does not cache
incremental compiles). So every new kernel, and every restart, compiled the `xray_lab` crate
again at opt-level 2 and re-ran the build scripts' C compiles (libjpeg-turbo, zstd): 2-4 minutes
on 2 cores before the first cell answered, even on a machine that had built everything before.

Here the crate and all its dependencies are compiled once, exactly as evcxr compiles them (the
same Cargo.toml, profile, RUSTFLAGS, target and offline resolution), into a *seed* folder. Each
kernel gets a folder of its own made from the seed: the build products that rustc only ever
replaces (never rewrites in place) are hard links, the files cargo or a linker may write in place
(fingerprints, dep-info, build-script output and executables, the cells' library) are copies.
cargo then finds every dependency fresh and compiles only the cells. Two kernels at once each
have their own folder. The crates are those of the committed Cargo.lock, vendored: no download
on the machine can change what a kernel resolves.

A seed is never built in while kernels copy it: a refresh builds the next one in a linked copy
(`seed.next`) and renames it into place. A kernel start that finds the crate changed starts that
refresh in a process of its own, waits for it at most XRAY_LAB_KERNEL_REFRESH_SECONDS, and
otherwise starts at once from the seed in place (its `:dep` cell then compiles the changed crate).

    python3 scripts/kernel.py prepare            build the seed, or bring it up to date
                                                 [--variants plain,pretrained]
    python3 scripts/kernel.py install            register the "xray-lab" kernel with Jupyter
    python3 scripts/kernel.py evcxr              the evcxr_jupyter the kernel runs (0.22.0)
    python3 scripts/kernel.py run CONNECTION     what Jupyter runs (through the kernel spec)
    python3 scripts/kernel.py refresh            what a kernel start runs in the background
    python3 scripts/kernel.py clean              remove the folders of kernels that have ended
    python3 scripts/kernel.py check              start one kernel as Jupyter does and prove it
                                                 used the seed's build of the crate, changed
                                                 none of its files, and resolves Cargo.lock
    python3 scripts/kernel.py cli ARGS...        the xray-lab command, built from the seed
    python3 scripts/kernel.py test-tree          the test command's build folder, from the seed
    python3 scripts/kernel.py execute --out DIR NB...
                                                 execute notebooks in one kernel, `:clear`
                                                 between them (the notebook test)

Environment: XRAY_LAB_EVCXR_HOME (default ~/.cache/xray-lab/evcxr) holds the seed, the vendored
crates and the kernels' folders; XRAY_LAB_KERNEL_REFRESH_SECONDS (default 40) bounds how long a
kernel start waits for a refresh (Jupyter waits about a minute for a kernel to answer);
XRAY_LAB_EVCXR names an evcxr_jupyter to use (it must be version 0.22.0).

This mirrors evcxr 0.22.0's `Module::get_cargo_toml_contents` and `Config::cargo_command`
(see EVCXR_VERSION); the notebook test fails if a kernel started here has to compile the crate.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import functools
import hashlib
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EVCXR_VERSION = "0.22.0"
KERNEL_NAME = "xray-lab"
# The checkout whose crate the seed is brought up to date for: this script's, or, for a kernel,
# the one its notebook belongs to (see `run`).
REPO = Path(__file__).resolve().parent.parent
CRATE = REPO / "crate"

# evcxr 0.22.0, Module::get_cargo_toml_contents, for one `:dep` line, at evcxr's default
# opt-level. Only the profile and the dependency matter to cargo's fingerprints; the rest is
# kept identical so that evcxr finds the file as it would have written it.
CARGO_TOML = """
[package]
name = "ctx"
version = "1.0.0"
edition = "2024"

[lib]
crate-type = ["cdylib"]
path = "src/lib.rs"

[profile.dev]
opt-level = 2
debug = false
strip = "debuginfo"
rpath = true
lto = false
debug-assertions = true
codegen-units = 16
panic = 'unwind'
incremental = true
overflow-checks = true

[dependencies]
xray_lab = {{ path = "{crate}"{features} }}

"""

def cargo_toml(features: tuple[str, ...]) -> str:
    """The Cargo.toml evcxr writes for `:dep xray_lab = { path = "../crate"[, features = ...] }`."""
    listed = ", ".join(f'"{f}"' for f in features)
    return CARGO_TOML.format(crate=CRATE, features=f", features = [{listed}]" if features else "")

# Cells compile at opt-level 0, the crate and every dependency at evcxr's opt-level 2, polars at
# opt-level 1. A cell is a few lines that call the crate, so optimising it buys nothing at run
# time and costs about a second of every cell's compile (measured on notebook 05: its cells after
# the set-up took 29 s in all instead of 39 s). evcxr writes the kernel folder's own
# `.cargo/config.toml` and its Cargo.toml, so the settings live in a config file above every
# kernel folder and the seed, where cargo finds it; `"*"` is every package but the cell's own, so
# the seed's builds stay as they are. (Profile settings in a config file take precedence over
# Cargo.toml's.)
#
# polars' crates are 62% of the seed's compile time. At opt-level 0 a bare machine's set-up took
# 1,188 s instead of about 1,526 s, but every cell took 0.6-0.9 s longer (notebook 02's small
# cells: 2.1 s instead of 1.3 s); opt-level 1 keeps most of the saving and its code is close to
# opt-level 2's: small cells took 1.0-1.5 s after it, as before (README, "Set-up").
#
# `lto = "off"`: evcxr's `lto = false` is thin-local LTO within each crate. Measured both ways,
# a trade: from bare, the set-up took 760 s with LTO off and 985 s with thin-local LTO (the seed
# 729 s against 961 s), the first notebook was done at 858 s against 1,105 s; but the code is
# slower without it: `xray-lab report --pretrained` on 1,465 images 31.7 s against 27.9 s, its
# size-blind decoding 5.2 s against 3.4 s (medians of 3). Off, for the 15 minutes to the first
# notebook on a new machine; README, "Set-up", has both runs.
POLARS_CRATES = (
    "polars", "polars-arrow", "polars-arrow-format", "polars-async", "polars-buffer",
    "polars-compute", "polars-config", "polars-core", "polars-dtype", "polars-error",
    "polars-expr", "polars-io", "polars-lazy", "polars-mem-engine", "polars-ops", "polars-plan",
    "polars-row", "polars-schema", "polars-utils",
)
CELL_PROFILE = """# Written by scripts/kernel.py: the cells of xray-lab kernels compile at opt-level 0, the
# crate and its dependencies at evcxr's opt-level 2, polars at opt-level 1.
[profile.dev]
opt-level = 0
lto = "off"

[profile.dev.package."*"]
opt-level = 2

# The workspace's own packages, when the test command builds them on the kernels' tree
# (`kernel.py test-tree`): as the kernels build the crate.
[profile.dev.package.xray_lab]
opt-level = 2

[profile.dev.package.xray_lab_py]
opt-level = 2
""" + "".join(f'\n[profile.dev.package.{name}]\nopt-level = 1\n' for name in POLARS_CRATES)

# The crates come from a copy of the committed Cargo.lock's crates (`cargo vendor`), never from
# the registry: evcxr resolves a kernel's `:dep` afresh (its first build, with no dependency,
# empties the lock file), and offline resolution picks the newest version downloaded, so any
# other download on the machine (another project, a `cargo install`) moved the kernels off the
# lock and made each of them compile the tree again. With the registry replaced by the vendored
# folder, the one version of each crate there is the lock's. The price: a kernel of this kind
# cannot `:dep` a crate that is not in Cargo.lock (evcxr's own "Rust" kernel can).
SOURCE_PIN = """
# The crates of the checkout's Cargo.lock, vendored (scripts/kernel.py): kernels resolve those.
[source.crates-io]
replace-with = "xray-lab-locked"

[source.xray-lab-locked]
directory = "{vendor}"
"""


def cargo_config() -> str:
    """The config file above the seed and every kernel folder: the cells' profile, and the
    vendored crates once they are there."""
    vendor = vendor_dir()
    pin = SOURCE_PIN.format(vendor=vendor) if (vendor / LOCK_COPY).is_file() else ""
    return CELL_PROFILE + pin


# A kernel's folder is made of hard links wherever the file is only ever replaced, never
# rewritten in place: rustc renames rlibs and rmeta files into place, cargo removes an uplifted
# file before linking it again. Copied, because something writes them in place: cargo's
# fingerprints and lock files (dot-files), rustc's dep-info (`.d`), build scripts' `out/`
# folders (a build script that runs again in a kernel must not change the seed's files), and
# what a linker may write again in a kernel: mold rewrites an existing output file in place, so
# the cells' own library (`libctx`), build-script executables and the crate's binaries are copies
# (all the copies: about 100 MB a kernel). The dependencies' other libraries (proc-macros) are never linked again: their
# versions are pinned and their builds fresh. A kernel also gets no `incremental/` folder: it
# only ever compiles its cells, and rustc's caches of the crate are gigabytes; the seed's
# refresh keeps them (links, but for rustc's lock files) to rebuild the crate faster.
def linkable(rel: Path, name: str) -> bool:
    parts = rel.parts
    if name.endswith(".d") or name.startswith(".") or name == "output":
        return False
    if ".fingerprint" in parts or "out" in parts or "build" in parts:
        return False
    # What a linker may write again in a kernel: the cells' library, the crate's binaries.
    built_here = name.startswith(("libctx", "xray-lab", "xray_lab"))
    return not (built_here and not name.endswith((".rlib", ".rmeta")))


def log(message: str) -> None:
    print(f"[xray-lab kernel] {message}", file=sys.stderr, flush=True)


def evcxr_home() -> Path:
    env = os.environ.get("XRAY_LAB_EVCXR_HOME")
    return Path(env) if env else Path.home() / ".cache" / "xray-lab" / "evcxr"


def seed_dir() -> Path:
    # One seed per machine, not per checkout: the dependencies' builds do not depend on where the
    # crate is, and cargo keeps one build of `xray_lab` per checkout path side by side, so a new
    # clone (CI's, a student's second copy) compiles the crate alone, not the tree.
    return evcxr_home() / "seed"


def staging_dir() -> Path:
    """Where a refresh builds the next seed: the seed a kernel copies is never built in."""
    return evcxr_home() / "seed.next"


def vendor_dir() -> Path:
    return evcxr_home() / "vendor"


LOCK_COPY = "xray-lab-Cargo.lock"


def kernels_dir() -> Path:
    return evcxr_home() / "kernels"


def private_evcxr_root() -> Path:
    """Where scripts/setup.sh installs evcxr_jupyter when the one on PATH is another version."""
    return Path.home() / ".cache" / "xray-lab" / f"evcxr-jupyter-{EVCXR_VERSION}"


# Both are asked of rustup and rustc once per process: a kernel start needs them several times.
@functools.lru_cache(maxsize=None)
def tool(name: str) -> str:
    """The tool as evcxr finds it: rustup's real binary first, else PATH."""
    cargo_bin = Path.home() / ".cargo" / "bin"
    path = os.environ.get("PATH", "") + os.pathsep + str(cargo_bin)
    rustup = shutil.which("rustup", path=path)
    if rustup and name in ("rustc", "cargo"):
        out = subprocess.run([rustup, "which", name], capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    found = shutil.which(name, path=path)
    if not found:
        raise SystemExit(f"{name} not found: install Rust (rustup) and run scripts/setup.sh")
    return found


def installed_version(binary: Path) -> str | None:
    """The version of evcxr_jupyter that `cargo install` recorded for this binary (in its install
    root's `.crates2.json`), or None when cargo did not install it."""
    root = binary.resolve().parent.parent
    try:
        installs = json.loads((root / ".crates2.json").read_text())["installs"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    for key, info in installs.items():
        name, version, *_ = key.split() + ["", ""]
        if name == "evcxr_jupyter" and "evcxr_jupyter" in info.get("bins", []):
            return version
    return None


def find_evcxr() -> tuple[Path | None, str]:
    """The evcxr_jupyter the kernel runs: `XRAY_LAB_EVCXR`, the one scripts/setup.sh installs
    for this project, or the one on PATH, whichever is version EVCXR_VERSION first. Another
    version writes another Cargo.toml, and every kernel would compile the tree again; so it is
    refused, and the second value says why."""
    candidates = []
    if os.environ.get("XRAY_LAB_EVCXR"):
        candidates.append(Path(os.environ["XRAY_LAB_EVCXR"]))
    candidates.append(private_evcxr_root() / "bin" / "evcxr_jupyter")
    path = os.environ.get("PATH", "") + os.pathsep + str(Path.home() / ".cargo" / "bin")
    on_path = shutil.which("evcxr_jupyter", path=path)
    if on_path:
        candidates.append(Path(on_path))
    refused = []
    for binary in candidates:
        if not binary.is_file():
            continue
        version = installed_version(binary)
        if version == EVCXR_VERSION:
            return binary, ""
        refused.append(f"{binary} is version {version}" if version else
                       f"{binary} was not installed by `cargo install`, so its version is unknown")
    why = "; ".join(refused) or "no evcxr_jupyter found"
    return None, (f"the xray-lab kernel needs evcxr_jupyter {EVCXR_VERSION} ({why}): run "
                  f"scripts/setup.sh, which installs it into {private_evcxr_root()} and leaves "
                  "yours as it is")


@functools.lru_cache(maxsize=None)
def rustc_facts(rustc: str) -> dict:
    version = subprocess.run([rustc, "-vV"], capture_output=True, text=True, check=True).stdout
    host = next(l.split(": ", 1)[1] for l in version.splitlines() if l.startswith("host: "))
    libdir = subprocess.run(
        [rustc, "--print", "target-libdir"], capture_output=True, text=True, check=True
    ).stdout.strip()
    return {"version": version, "host": host, "libdir": libdir}


def evcxr_env(rustc: str) -> dict:
    """The environment evcxr 0.22 gives cargo (Config::cargo_command), minus its cache wrapper,
    which changes no fingerprint. The linker flag follows evcxr's choice: mold, then lld."""
    env = dict(os.environ)
    rustflags = ["-Cprefer-dynamic"]
    if not shutil.which("mold") and shutil.which("lld"):
        rustflags.append("-Clink-arg=-fuse-ld=lld")
    env.update(
        CARGO_TARGET_DIR="target",
        CARGO_BUILD_BUILD_DIR="target",
        RUSTC=rustc,
        RUSTFLAGS=" ".join(rustflags),
    )
    for name in ("RUSTC_WRAPPER", "CARGO_BUILD_RUSTC_WRAPPER", "CARGO_INCREMENTAL"):
        env.pop(name, None)
    return env


def source_digests() -> dict[str, str]:
    """A digest of each of the crate's sources and manifests, by path in the checkout. Contents,
    not modification times: a file restored with an old time (an archive, `cp -p`) is a change
    too."""
    paths = [REPO / "Cargo.toml", REPO / "Cargo.lock", CRATE / "Cargo.toml"]
    for sub in ("src", "assets"):
        for root, _dirs, files in os.walk(CRATE / sub):
            paths.extend(Path(root) / f for f in files)
    digests = {}
    for p in sorted(paths):
        try:
            digests[str(p.relative_to(REPO))] = hashlib.sha256(p.read_bytes()).hexdigest()[:16]
        except FileNotFoundError:
            pass
    return digests


# The variants of the seed: the crate built once per set of cargo features, side by side (their
# features differ, so do their file names; the dependencies' builds are shared, so the second
# costs one compile of the crate). Notebook 07 asks for `pretrained` in its `:dep` line
# (notebooks 01-06 do not, and never compile the network); `cli` uses it when it is built.
VARIANTS = {"plain": (), "pretrained": ("pretrained",)}


def stamp_of(facts: dict) -> dict:
    """What the seed was built from; `variants` (added by `refresh`) says which are built."""
    digests = source_digests()
    return {
        "checkout": str(REPO),
        "sources": hashlib.sha256(json.dumps(digests).encode()).hexdigest(),
        "files": digests,
        "rustc": facts["version"],
        "evcxr": EVCXR_VERSION,
        "cargo_toml": {name: cargo_toml(f) for name, f in VARIANTS.items()},
        "rustflags": evcxr_env("rustc")["RUSTFLAGS"],
        "cargo_config": cargo_config(),
    }


def read_stamp(seed: Path) -> dict | None:
    try:
        return json.loads((seed / "xray-lab-seed.json").read_text())
    except (OSError, ValueError):
        return None


def seed_serves(stamp: dict | None, want: dict, variants: tuple[str, ...]) -> bool:
    """True when a seed with `stamp` is this checkout's build, with these variants built."""
    if stamp is None:
        return False
    same = all(stamp.get(k) == v for k, v in want.items() if k != "files")
    return same and set(variants) <= set(stamp.get("variants", []))


class FileLock:
    """flock with a deadline: shared while kernels copy the seed, exclusive for the moment a
    refresh puts a new seed in its place, and for the one refresh that may run at a time.
    `acquired` is False when the deadline passed first (None waits for as long as it takes)."""

    def __init__(self, path: Path, exclusive: bool, deadline: float | None = None):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.file = open(path, "a+")
        self.mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        self.deadline = deadline
        self.acquired = False

    def __enter__(self):
        if self.deadline is None:
            fcntl.flock(self.file, self.mode)
            self.acquired = True
            return self
        end = time.monotonic() + self.deadline
        while True:
            try:
                fcntl.flock(self.file, self.mode | fcntl.LOCK_NB)
                self.acquired = True
                return self
            except BlockingIOError:
                if time.monotonic() >= end:
                    return self
                time.sleep(0.2)

    def __exit__(self, *exc):
        if self.acquired:
            fcntl.flock(self.file, fcntl.LOCK_UN)
        self.file.close()


def seed_lock(exclusive: bool, deadline: float | None = None) -> FileLock:
    return FileLock(evcxr_home() / "seed.lock", exclusive, deadline)


def refresh_lock(deadline: float | None = None) -> FileLock:
    return FileLock(evcxr_home() / "refresh.lock", True, deadline)


def write_cargo_config() -> None:
    config = evcxr_home() / ".cargo" / "config.toml"
    text = cargo_config()
    if not config.is_file() or config.read_text() != text:
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(text)


def write_seed_files(seed: Path, features: tuple[str, ...] = ()) -> None:
    write_cargo_config()
    (seed / "src").mkdir(parents=True, exist_ok=True)
    (seed / ".cargo").mkdir(exist_ok=True)
    toml = cargo_toml(features)
    if not (seed / "Cargo.toml").exists() or (seed / "Cargo.toml").read_text() != toml:
        (seed / "Cargo.toml").write_text(toml)
    lib = seed / "src" / "lib.rs"
    if not lib.exists():
        lib.write_text("// The seed's own code is never used: each kernel compiles its cells here.\n")
    (seed / ".cargo" / "config.toml").write_text("\n[net]\noffline = true\n")


def build_variant(folder: Path, facts: dict, rustc: str, timeout: float | None,
                  quiet: bool) -> bool:
    cmd = [tool("cargo"), "build", "--offline", "--target", facts["host"]]
    if quiet:
        cmd.append("--quiet")
    # A process group of its own, so that stopping cargo at the budget stops its rustc too.
    proc = subprocess.Popen(cmd, cwd=folder, env=evcxr_env(rustc), start_new_session=True,
                            stdout=sys.stderr if not quiet else subprocess.DEVNULL,
                            stderr=None if not quiet else subprocess.PIPE)
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        # As Ctrl-C would: cargo keeps every unit it finished, the next refresh goes on from there.
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
        return False
    if proc.returncode != 0:
        detail = err.decode(errors="replace") if err else ""
        raise SystemExit(f"building the kernel seed in {folder} failed:\n{detail}")
    return True


def pin_sources(online: bool) -> None:
    """Vendors the crates of this checkout's Cargo.lock into vendor_dir(), once per lock
    (`cargo vendor`: a second or two when they are downloaded, about 600 MB)."""
    lock = (REPO / "Cargo.lock").read_bytes()
    vendor = vendor_dir()
    try:
        if (vendor / LOCK_COPY).read_bytes() == lock:
            return
    except OSError:
        pass
    home = evcxr_home()
    fresh, old = home / f"vendor.next-{os.getpid()}", home / f"vendor.old-{os.getpid()}"
    shutil.rmtree(fresh, ignore_errors=True)
    cmd = [tool("cargo"), "vendor", "--locked", "--versioned-dirs", "--quiet", str(fresh)]
    if not online:
        cmd.insert(2, "--offline")
    subprocess.run(cmd, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    (fresh / LOCK_COPY).write_bytes(lock)
    if vendor.exists():
        vendor.rename(old)
    fresh.rename(vendor)
    shutil.rmtree(old, ignore_errors=True)


def touch_changed(old: dict | None, digests: dict[str, str]) -> None:
    """Gives the files whose contents changed since the seed's build the current time: cargo
    compares modification times, and a file restored with an older one would look fresh to it."""
    if not old or old.get("checkout") != str(REPO):
        return
    before = old.get("files", {})
    for rel, digest in digests.items():
        if before.get(rel) != digest:
            with contextlib.suppress(OSError):
                os.utime(REPO / rel)


def prune_gone_checkouts(folder: Path, host: str) -> int:
    """Removes the builds of the crate whose checkout no longer exists (a deleted CI clone): each
    checkout path is a build of its own in the seed (about 30 MB, and rustc's caches), and
    every kernel folder would link them. Returns how many builds went."""
    deps = folder / "target" / host / "debug" / "deps"
    removed = 0
    for info in deps.glob("xray_lab-*.d"):
        try:
            first = info.read_text(errors="replace").split("\n", 1)[0]
        except OSError:
            continue
        sources = [w for w in first.split(": ", 1)[-1].split() if w.endswith("lib.rs")]
        if not sources or Path(sources[0]).exists():
            continue
        unit = info.stem  # xray_lab-HASH
        for f in deps.glob(f"*{unit}*"):
            f.unlink(missing_ok=True)
        fingerprint = folder / "target" / host / "debug" / ".fingerprint"
        for d in fingerprint.glob(f"{unit}*"):
            shutil.rmtree(d, ignore_errors=True)
        removed += 1
    return removed


def fetch_crates() -> None:
    """Downloads the crates of Cargo.lock (and of a dependency added to the crate since)."""
    subprocess.run([tool("cargo"), "fetch", "--quiet"], cwd=REPO, check=True)


def refresh(variants: tuple[str, ...] = tuple(VARIANTS), timeout: float | None = None,
            quiet: bool = False, online: bool = True, wait: float | None = None) -> bool:
    """Brings the seed up to date for this checkout with these variants built: in the staging
    folder, a linked copy of the seed, which then takes the seed's place in one rename. A kernel
    never waits for a build: it copies whichever seed is in place. One refresh runs at a time
    (`wait`: how long to wait for another one; None, for as long as it takes). Returns True when
    the seed serves these variants; False when the build passed `timeout` seconds (it goes on
    from there the next time) or another refresh held the lock past `wait`."""
    rustc = tool("rustc")
    facts = rustc_facts(rustc)
    seed, staging = seed_dir(), staging_dir()
    with refresh_lock(wait) as lock:
        if not lock.acquired:
            return False
        want = stamp_of(facts)
        current = read_stamp(seed)
        if seed_serves(current, want, variants):
            return True
        if online:
            fetch_crates()
        pin_sources(online)
        want = stamp_of(facts)  # the config now names the vendored crates
        deadline = None if timeout is None else time.monotonic() + timeout
        if not staging.is_dir() or read_stamp(staging) is not None:
            # No interrupted refresh to go on with: start from the seed in place.
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir(parents=True)
            if (seed / "target").is_dir():
                with seed_lock(exclusive=False):
                    copy_seed(seed, staging, kernel=False)
            shutil.copy2(REPO / "Cargo.lock", staging / "Cargo.lock")
        touch_changed(current, want["files"])
        prune_gone_checkouts(staging, facts["host"])
        # What the seed had stays built: a background refresh after a crate edit builds the
        # network's variant too, even when the kernel that started it needs only the plain one.
        kept = current.get("variants", []) if current else []
        build = [v for v in VARIANTS if v in variants or v in kept]
        try:
            for name in build:
                write_seed_files(staging, VARIANTS[name])
                left = None if deadline is None else max(deadline - time.monotonic(), 1.0)
                if not build_variant(staging, facts, rustc, left, quiet):
                    return False
        finally:
            write_seed_files(staging)
        (staging / "xray-lab-seed.json").write_text(json.dumps({**want, "variants": build},
                                                                 indent=1))
        old = evcxr_home() / f"seed.old-{os.getpid()}"
        # Kernels hold the shared lock for the second or two they take to copy the seed.
        with seed_lock(exclusive=True):
            if seed.exists():
                seed.rename(old)
            staging.rename(seed)
        shutil.rmtree(old, ignore_errors=True)
        return True


def start_background_refresh(variants: tuple[str, ...]) -> Path:
    """Starts `kernel.py refresh` in a process of its own that outlives the kernel; returns its
    log file. It does nothing when another refresh is running."""
    log_file = evcxr_home() / "refresh.log"
    with open(log_file, "ab") as out:
        subprocess.Popen(
            [sys.executable, str(REPO / "scripts" / "kernel.py"), "refresh", "--quiet",
             "--variants", ",".join(variants)],
            cwd=REPO, stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True)
    return log_file


def copy_seed(seed: Path, dest: Path, kernel: bool = True) -> None:
    """A build folder made from the seed: links for replace-only build products, copies for the
    rest (modification times kept: cargo compares them). A kernel's folder leaves out rustc's
    incremental caches; a refresh's staging folder keeps them."""
    for root, dirs, files in os.walk(seed):
        rel = Path(root).relative_to(seed)
        if "incremental" in rel.parts and kernel:
            dirs.clear()
            continue
        (dest / rel).mkdir(exist_ok=True)
        for name in files:
            src, dst = Path(root) / name, dest / rel / name
            if name == "xray-lab-seed.json":
                continue
            if "incremental" in rel.parts:
                ok = not name.endswith(".lock")
            else:
                ok = rel.parts[:1] == ("target",) and linkable(rel, name)
            if ok:
                try:
                    os.link(src, dst)
                    continue
                except OSError:
                    pass  # another file system: copy
            shutil.copy2(src, dst, follow_symlinks=False)


def process_alive(pid: int, started: str) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return started == process_start(pid)


def process_start(pid: int) -> str:
    """The process's start time (Linux), to tell a reused PID from the kernel that owned it."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def clean() -> int:
    """Removes the folders of kernels whose process has ended (killed ones included)."""
    removed = 0
    root = kernels_dir()
    if not root.is_dir():
        return 0
    for folder in root.iterdir():
        owner = folder / "xray-lab-kernel.json"
        try:
            try:
                info = json.loads(owner.read_text())
                if process_alive(int(info["pid"]), info["started"]):
                    continue
            except (OSError, ValueError, KeyError):
                # Being made right now by another start, or broken: only an old one is removed.
                if time.time() - folder.stat().st_mtime < 600:
                    continue
        except FileNotFoundError:
            # Another kernel starting at the same time removed it first (two notebooks opened
            # at once both clean up): nothing left to do.
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed += 1
    return removed


def checkout_of(folder: Path) -> Path | None:
    """The checkout a folder belongs to: the nearest folder at or above it that holds
    `crate/Cargo.toml` and `scripts/kernel.py`."""
    for candidate in (folder, *folder.parents):
        if (candidate / "crate" / "Cargo.toml").is_file() and (
            candidate / "scripts" / "kernel.py"
        ).is_file():
            return candidate.resolve()
    return None


def run(connection_file: str) -> None:
    """Jupyter's entry point: make this kernel's folder, then become evcxr_jupyter. A start never
    waits for a build longer than XRAY_LAB_KERNEL_REFRESH_SECONDS (default 40; Jupyter waits
    about a minute for a kernel to answer): when the crate changed since the seed was built, the
    rebuild runs in a process of its own that outlives this start, and the kernel copies the
    seed in place."""
    global REPO, CRATE
    started = time.time()
    # Jupyter starts a kernel in its notebook's folder, and the notebooks' `:dep` names
    # `../crate`: bring the seed up to date for that checkout, wherever the kernel spec points
    # (it names the checkout that ran the set-up last).
    found = checkout_of(Path.cwd())
    if found:
        REPO, CRATE = found, found / "crate"
    clean()
    evcxr, why = find_evcxr()
    if evcxr is None:
        log(why)
        sys.exit(1)
    budget = float(os.environ.get("XRAY_LAB_KERNEL_REFRESH_SECONDS", "40"))
    seed = seed_dir()
    if not (seed / "target").is_dir():
        log(f"no seed in {seed}: this kernel builds the crate itself (minutes); "
            "run `python3 scripts/kernel.py prepare` once to make every start fast")
    else:
        try:
            want = stamp_of(rustc_facts(tool("rustc")))

            def fresh() -> bool:
                return seed_serves(read_stamp(seed), want, ("plain",))

            if not fresh():
                log_file = start_background_refresh(("plain",))
                end = time.monotonic() + budget
                while time.monotonic() < end and not fresh():
                    time.sleep(0.5)
                if not fresh():
                    log(f"the crate changed since the seed was built; its rebuild goes on in the "
                        f"background (about 2 minutes a variant; log: {log_file}). This kernel "
                        "compiles the changed crate itself at its `:dep` cell; the next one "
                        "starts from the new build")
        except (SystemExit, OSError, subprocess.SubprocessError) as error:
            # A crate that does not compile must not keep the kernel from starting: the `:dep`
            # cell then shows the compiler's errors in the notebook, where the student looks.
            log(f"the seed could not be brought up to date: {error}")
    write_cargo_config()
    kernels_dir().mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=kernels_dir()))
    if (seed / "target").is_dir():
        # The exclusive lock is held only while a refresh renames a new seed into place.
        with seed_lock(exclusive=False, deadline=20) as lock:
            if not lock.acquired:
                log("the seed stayed locked for 20 s: copying it anyway")
            try:
                copy_seed(seed, folder)
            except OSError as error:
                # cargo builds what a partial copy lacks: slower, never wrong.
                log(f"copying the seed failed ({error}): this kernel compiles what is missing")
    (folder / "xray-lab-kernel.json").write_text(
        json.dumps({"pid": os.getpid(), "started": process_start(os.getpid())}))
    env = dict(os.environ)
    env["EVCXR_TMPDIR"] = str(folder)
    env["XRAY_LAB_KERNEL_DIR"] = str(folder)
    # evcxr links each cell with a relative rpath to the toolchain's libstd that misses by one
    # folder level outside /tmp ("dlopen failed"); the loader path finds it wherever we are.
    libdir = rustc_facts(tool("rustc"))["libdir"]
    env["LD_LIBRARY_PATH"] = os.pathsep.join(
        p for p in (libdir, env.get("LD_LIBRARY_PATH", "")) if p)
    log(f"kernel folder {folder} ready in {time.time() - started:.1f} s")
    # exec keeps the PID Jupyter knows, so interrupts and shutdowns reach evcxr itself.
    os.execve(evcxr, [str(evcxr), "--control_file", connection_file], env)


def notebook_setup_cell() -> str:
    """The notebooks' own set-up cell (notebook 01's first code cell)."""
    nb = json.loads((REPO / "notebooks" / "01_load_and_explore.ipynb").read_text())
    return "".join(next(c for c in nb["cells"] if c["cell_type"] == "code")["source"])


@contextlib.contextmanager
def jupyter_kernel(name: str, timeout: float):
    """A kernel started as Jupyter starts one (jupyter_client, the kernel spec's own argv, from
    the notebooks folder). Yields the manager, a client with its channels open, and the seconds
    until the kernel answered; shuts the kernel down afterwards."""
    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name=name)
    started = time.perf_counter()
    km.start_kernel(cwd=str(REPO / "notebooks"))
    client = km.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=timeout)
        yield km, client, time.perf_counter() - started
    finally:
        client.stop_channels()
        km.shutdown_kernel(now=False)


def check_pinned() -> int:
    """Fails unless a kernel's `:dep` resolves only crates of the committed Cargo.lock, with no
    registry at all: a folder under the kernels' cargo config, evcxr's Cargo.toml with the
    network's feature, an empty CARGO_HOME (no index, no downloads) and `cargo metadata
    --offline`. Whatever the registry holds, a newer version of any crate included, cannot enter.
    Returns how many crates were resolved."""
    import tomllib  # Python 3.11, as the project's environment (environment.yml, py/)

    packages = tomllib.loads((REPO / "Cargo.lock").read_text())["package"]
    locked = {(p["name"], p["version"]) for p in packages if "source" in p}
    home = evcxr_home()
    home.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=home, prefix="pinned-") as folder, \
            tempfile.TemporaryDirectory(prefix="empty-cargo-home-") as empty:
        write_seed_files(Path(folder), VARIANTS["pretrained"])
        env = evcxr_env(tool("rustc"))
        env["CARGO_HOME"] = empty
        out = subprocess.run([tool("cargo"), "metadata", "--offline", "--format-version", "1"],
                             cwd=folder, env=env, capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit("a kernel's `:dep` does not resolve from the vendored crates "
                             f"alone:\n{out.stderr}")
        resolved = {(p["name"], p["version"]) for p in json.loads(out.stdout)["packages"]
                    if p.get("source")}
    outside = sorted(resolved - locked)
    if outside:
        raise SystemExit(f"a kernel resolves crates that are not in Cargo.lock: {outside[:10]}")
    return len(resolved)


def linker_outputs(seed: Path) -> dict[str, tuple[int, int, int]]:
    """The seed's files that a linker wrote, each with its inode, size and modification time."""
    found = {}
    for root, dirs, files in os.walk(seed / "target"):
        dirs[:] = [d for d in dirs if d != "incremental"]
        for name in files:
            path = Path(root) / name
            st = path.lstat()
            if st.st_mode & 0o111 and not path.is_symlink():
                found[str(path.relative_to(seed))] = (st.st_ino, st.st_size, st.st_mtime_ns)
    return found


def check(timeout: float = 600) -> None:
    """Starts one kernel through jupyter_client, runs the notebooks' set-up cells, then notebook
    07's (the crate with its `pretrained` feature), and fails unless each `xray_lab` library the
    kernel linked is the seed's own file (a hard link to it): a kernel that compiled the crate
    again would have made a new one. It also fails when the kernel's links changed any file of
    the seed, or when a kernel's crates could come from anywhere but Cargo.lock."""
    host = rustc_facts(tool("rustc"))["host"]
    seed_deps = seed_dir() / "target" / host / "debug" / "deps"
    if not any(seed_deps.glob("libxray_lab-*.rlib")):
        raise SystemExit(f"no seed build of the crate in {seed_deps}: run `kernel.py prepare`")
    crates = check_pinned()
    before = linker_outputs(seed_dir())
    started = time.perf_counter()
    with jupyter_kernel(KERNEL_NAME, timeout) as (km, client, ready):
        cells = [notebook_setup_cell(), "use xray_lab::prelude::*;", "xray_lab::DATA_ENV",
                 "let answer = 6 * 7;", "answer",
                 ':dep xray_lab = { path = "../crate", features = ["pretrained"] }',
                 "xray_lab::pretrained::NAME"]
        for code in cells:
            reply = client.execute_interactive(code, timeout=timeout, output_hook=lambda m: None)
            if reply["content"]["status"] != "ok":
                raise SystemExit(f"the cell {code!r} failed: {reply['content']}")
        total = time.perf_counter() - started
        pid = km.provisioner.process.pid
        folders = list(kernels_dir().glob(f"{pid}-*"))
        if len(folders) != 1:
            raise SystemExit(f"no kernel folder for process {pid} in {kernels_dir()}")
        deps = folders[0] / "target" / host / "debug" / "deps"
        # Every checkout has its own build of the crate in the seed; the kernel links this one's.
        # (Read after the kernel started: another checkout may have added its build meanwhile.)
        seed_libs = {p.name: p.stat().st_ino for p in seed_deps.glob("libxray_lab-*.rlib")}
        libs = {p.name: p.stat().st_ino for p in deps.glob("libxray_lab-*.rlib")}
        rebuilt = [name for name, ino in libs.items() if seed_libs.get(name) != ino]
        if rebuilt or not libs:
            raise SystemExit(f"the kernel in {folders[0]} compiled xray_lab again: {rebuilt} "
                             f"are not the seed's {sorted(seed_libs)}")
        after = linker_outputs(seed_dir())
        changed = sorted(k for k, v in before.items() if k in after and after[k] != v)
        if changed:
            raise SystemExit(f"the kernel's builds changed the seed's own files: {changed[:5]}")
        print(f"kernel answered in {ready:.1f} s, set-up cells done at {total:.1f} s, "
              f"with the seed's build of the crate ({folders[0]}); its {crates} crates all "
              "from Cargo.lock", file=sys.stderr)


def execute(notebooks: list[Path], out: Path, timeout: float) -> None:
    """Executes notebooks headless, one after another in one kernel, with evcxr's `:clear`
    between them (scripts/notebooks.py, one lane). Writes each executed notebook to `out` and
    stops at the first cell that fails, after writing that notebook with its error."""
    sys.path.insert(0, str(REPO / "scripts"))
    from notebooks import execute as execute_notebooks

    failures = execute_notebooks(notebooks, out, jobs=1, timeout=timeout)
    for path, error in failures:
        raise SystemExit(f"{path.name}: a cell failed\n{error}")


def linked_copy(name: str) -> tuple[Path, dict]:
    """A build folder of its own under the kernel home, made from the seed and made again when
    the seed changed (links: a second or two): where `cli` and the test command build, so that
    the seed itself is never built in. Returns the folder and the seed's stamp."""
    seed = seed_dir()
    if not (seed / "target").is_dir():
        raise SystemExit(f"no seed in {seed}: run `python3 scripts/kernel.py prepare` first")
    folder = evcxr_home() / name
    with seed_lock(exclusive=False, deadline=20):
        stamp = read_stamp(seed) or {}
        if read_stamp(folder) != stamp:
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            copy_seed(seed, folder, kernel=False)
            (folder / "xray-lab-seed.json").write_text(json.dumps(stamp, indent=1))
    return folder, stamp


def cli(args: list[str]) -> None:
    """Runs the `xray-lab` command built from the seed, with the kernels' own build of every
    dependency (evcxr's profile: opt-level 2 with debug assertions, polars at 1), so that the
    main job on a fresh machine compiles the dependency tree once. It is built in a folder of its
    own made from the seed, with the network when the seed has the crate's `pretrained`
    variant. `cargo build --release` makes the faster build that the benchmarks use."""
    rustc = tool("rustc")
    facts = rustc_facts(rustc)
    with FileLock(evcxr_home() / "cli.lock", exclusive=True):
        folder, stamp = linked_copy("cli")
        variant = "pretrained" if "pretrained" in stamp.get("variants", []) else "plain"
        # This checkout's crate, asked for as a notebook asks (cargo takes no --features for a
        # package outside a workspace).
        write_seed_files(folder, VARIANTS[variant])
        cmd = [tool("cargo"), "build", "--offline", "--quiet", "-p", "xray_lab",
               "--bin", "xray-lab", "--target", facts["host"]]
        subprocess.run(cmd, cwd=folder, env=evcxr_env(rustc), check=True)
    binary = folder / "target" / facts["host"] / "debug" / "xray-lab"
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = os.pathsep.join(
        p for p in (facts["libdir"], env.get("LD_LIBRARY_PATH", "")) if p)
    os.execve(binary, [str(binary), *args], env)


def test_tree() -> dict[str, str]:
    """The test command's build, on the kernels' tree: a linked copy of the seed (`tests`), the
    workspace's dev profile (evcxr's, Cargo.toml) with the kernels' cargo config (found from the
    folder, which cargo must be run in), their RUSTFLAGS and target. cargo then finds polars and
    every other dependency built, and compiles the crate's tests, the command and the Python
    package's extension. Returns the environment to run cargo or maturin with, in the folder
    XRAY_LAB_TREE: test binaries link the standard library dynamically (`-Cprefer-dynamic`, as
    evcxr's cells do), so the loader path names the toolchain's."""
    rustc = tool("rustc")
    facts = rustc_facts(rustc)
    with FileLock(evcxr_home() / "tests.lock", exclusive=True):
        folder, stamp = linked_copy("tests")
    missing = [v for v in VARIANTS if v not in stamp.get("variants", [])]
    if missing:
        log(f"the seed lacks the crate's {missing} build: `python3 scripts/kernel.py prepare` "
            "first, or the tests compile it")
    env = evcxr_env(rustc)
    target = str(folder / "target")
    return {
        "XRAY_LAB_TREE": str(folder),
        "XRAY_LAB_HOST": facts["host"],
        "CARGO_TARGET_DIR": target,
        "CARGO_BUILD_BUILD_DIR": target,
        "RUSTC": env["RUSTC"],
        "RUSTFLAGS": env["RUSTFLAGS"],
        "LD_LIBRARY_PATH": os.pathsep.join(
            p for p in (facts["libdir"], os.environ.get("LD_LIBRARY_PATH", "")) if p),
    }


# The kernel spec runs this launcher, not a checkout's kernel.py directly: it finds the checkout
# of the notebook being opened (Jupyter starts a kernel in its notebook's folder) and runs that
# checkout's kernel.py, so a kernel spec registered by a checkout that is gone since (a CI clone,
# a copy that was moved) no longer kills every kernel with "Kernel died before replying". The
# checkout that registered the spec serves notebooks outside any checkout.
LAUNCHER = """# Written by scripts/kernel.py install: runs the kernel.py of the notebook's own checkout.
import os, pathlib, sys
here = pathlib.Path.cwd()
for folder in (here, *here.parents):
    if (folder / "crate" / "Cargo.toml").is_file() and (folder / "scripts" / "kernel.py").is_file():
        break
else:
    folder = pathlib.Path({fallback!r})
script = folder / "scripts" / "kernel.py"
if not script.is_file():
    sys.exit(f"[xray-lab kernel] no xray-lab checkout above {{here}} and none at {{folder}}: "
             "run scripts/setup.sh in your checkout to register the kernel again")
os.execv(sys.executable, [sys.executable, str(script), *sys.argv[1:]])
"""


def install(user: bool = True) -> None:
    """Registers the kernel: evcxr's own kernel spec (logos, editor support) with our argv."""
    from jupyter_client.kernelspec import KernelSpecManager

    manager = KernelSpecManager()
    try:
        rust = Path(manager.get_kernel_spec("rust").resource_dir)
    except Exception:
        raise SystemExit("the evcxr `rust` kernel is not registered: run scripts/setup.sh")
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / KERNEL_NAME
        shutil.copytree(rust, spec)
        (spec / "launch.py").write_text(LAUNCHER.format(fallback=str(REPO)))
        installed = Path(manager.install_kernel_spec(str(spec), KERNEL_NAME, user=user))
    (installed / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, str(installed / "launch.py"), "run", "{connection_file}"],
        "display_name": "Rust (xray-lab)",
        "language": "rust",
        "interrupt_mode": "message",
        "metadata": {"debugger": False},
    }, indent=1))


def variant_list(text: str) -> tuple[str, ...]:
    names = tuple(v for v in text.split(",") if v)
    unknown = [v for v in names if v not in VARIANTS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown variant {unknown}: {', '.join(VARIANTS)}")
    return names


def main() -> None:
    if sys.argv[1:2] == ["cli"]:
        # Everything after `cli` is the command's own (argparse would take `--help` for ours).
        cli(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    variants_help = f"the crate's variants to build, comma-separated ({', '.join(VARIANTS)})"
    prepare_parser = sub.add_parser("prepare", help="build the seed, or bring it up to date")
    prepare_parser.add_argument("--variants", type=variant_list, default=tuple(VARIANTS),
                                help=variants_help + "; default all")
    refresh_parser = sub.add_parser(
        "refresh", help="what a kernel start runs in the background: `prepare` offline")
    refresh_parser.add_argument("--variants", type=variant_list, default=tuple(VARIANTS),
                                help=variants_help)
    refresh_parser.add_argument("--quiet", action="store_true")
    sub.add_parser("install", help="register the xray-lab kernel with Jupyter")
    sub.add_parser("evcxr", help="print the evcxr_jupyter the kernel runs, or why there is none")
    run_parser = sub.add_parser("run", help="start a kernel (Jupyter calls this)")
    run_parser.add_argument("connection_file")
    sub.add_parser("clean", help="remove the folders of kernels that have ended")
    sub.add_parser("check", help="start one kernel and prove it used the seed (for tests)")
    sub.add_parser("cli", help="run the xray-lab command built from the seed (ARGS... after it)")
    sub.add_parser("test-tree", help="make the test command's build folder from the seed; print "
                   "the shell exports to build in it (scripts/test)")
    exec_parser = sub.add_parser(
        "execute", help="execute notebooks in one kernel, `:clear` between them (for tests)")
    exec_parser.add_argument("--out", type=Path, required=True,
                             help="folder for the executed notebooks")
    exec_parser.add_argument("--timeout", type=float, default=1800, help="seconds per cell")
    exec_parser.add_argument("notebooks", type=Path, nargs="+")
    args = parser.parse_args()
    if args.command == "prepare":
        started = time.time()
        refresh(args.variants)
        print(f"kernel seed {seed_dir()} up to date with {', '.join(args.variants)} "
              f"({time.time() - started:.0f} s)", file=sys.stderr)
    elif args.command == "refresh":
        started = time.time()
        done = refresh(args.variants, quiet=args.quiet, online=False)
        print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} refresh of {REPO}: "
              + (f"seed up to date ({time.time() - started:.0f} s)" if done else
                 "another refresh was running"), file=sys.stderr)
    elif args.command == "evcxr":
        found, why = find_evcxr()
        if found is None:
            raise SystemExit(why)
        print(found)
    elif args.command == "test-tree":
        for key, value in test_tree().items():
            print(f"export {key}={shlex.quote(value)}")
    elif args.command == "install":
        install()
    elif args.command == "run":
        run(args.connection_file)
    elif args.command == "check":
        check()
    elif args.command == "execute":
        execute(args.notebooks, args.out, args.timeout)
    elif args.command == "clean":
        print(f"removed {clean()} kernel folder(s)", file=sys.stderr)


if __name__ == "__main__":
    main()
