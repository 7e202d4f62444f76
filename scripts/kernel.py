#!/usr/bin/env python3
"""The xray-lab Jupyter kernel: evcxr, started in a build folder seeded from one built once.

Why this exists. evcxr 0.22 gives every kernel a new, empty build folder, and its `:cache`
leaves out path dependencies (cargo compiles them incrementally, and evcxr does not cache
incremental compiles). So every new kernel, and every restart, compiled the `xray_lab` crate
again at opt-level 2 and re-ran the build scripts' C compiles (libjpeg-turbo, zstd): 2-4 minutes
on 2 cores before the first cell answered, even on a machine that had built everything before.

Here the crate and all its dependencies are compiled once, exactly as evcxr compiles them (the
same Cargo.toml, profile, RUSTFLAGS, target and offline resolution), into a *seed* folder. Each
kernel gets a folder of its own made from the seed: the build products that rustc and the
linker only ever replace (never rewrite in place) are hard links, the small files cargo rewrites
in place (fingerprints, dep-info, build-script output) are copies. cargo then finds every
dependency fresh and compiles only the cells. Two kernels at once each have their own folder;
a crate edit is picked up at the next kernel start (the seed is brought up to date first,
within a time budget, and only what changed is compiled).

    python3 scripts/kernel.py prepare            build the seed, or bring it up to date
    python3 scripts/kernel.py install            register the "xray-lab" kernel with Jupyter
    python3 scripts/kernel.py run CONNECTION     what Jupyter runs (through the kernel spec)
    python3 scripts/kernel.py clean              remove the folders of kernels that have ended
    python3 scripts/kernel.py check              start one kernel as Jupyter does and prove it
                                                 used the seed's build of the crate (for tests)
    python3 scripts/kernel.py cli ARGS...        the xray-lab command, built from the seed
    python3 scripts/kernel.py execute --out DIR NB...
                                                 execute notebooks in one kernel, `:clear`
                                                 between them (the notebook test)

Environment: XRAY_LAB_EVCXR_HOME (default ~/.cache/xray-lab/evcxr) holds the seeds and the
kernels' folders; XRAY_LAB_KERNEL_REFRESH_SECONDS (default 40) bounds the seed update done at
a kernel start (Jupyter waits about a minute for a kernel to answer).

This mirrors evcxr 0.22.0's `Module::get_cargo_toml_contents` and `Config::cargo_command`
(see EVCXR_VERSION); the notebook test fails if a kernel started here has to compile the crate.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import functools
import json
import os
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

# The crate's cargo features the seed is built with, each a build of its own beside the plain
# one: notebook 07 asks for `pretrained` in its `:dep` line (notebooks 01-06 do not, and never
# compile the network), and `cli` builds the command with it. cargo keeps both builds of
# `xray_lab` side by side in the seed (their features differ, so do their file names); the
# dependencies' builds are shared, so the second costs one compile of the crate.
SEED_FEATURES = ((), ("pretrained",))


def cargo_toml(features: tuple[str, ...]) -> str:
    """The Cargo.toml evcxr writes for `:dep xray_lab = { path = "../crate"[, features = ...] }`."""
    listed = ", ".join(f'"{f}"' for f in features)
    return CARGO_TOML.format(crate=CRATE, features=f", features = [{listed}]" if features else "")

# Cells compile at opt-level 0, the crate and every dependency at evcxr's opt-level 2. A cell is a
# few lines that call the crate, so optimising it buys nothing at run time and costs about a
# second of every cell's compile (measured on notebook 05: its cells after the set-up took 29 s
# in all instead of 39 s). evcxr writes the kernel folder's own `.cargo/config.toml` and its
# Cargo.toml, so the setting lives in a config file above every kernel folder and the seed,
# where cargo finds it; `"*"` is every package but the cell's own, so the seed's builds stay as
# they are. (Profile settings in a config file take precedence over Cargo.toml's.)
#
# Tried and not kept: polars' crates at opt-level 0 as well (they are 62% of the seed's compile
# time). A bare machine's set-up took 1,188 s instead of about 1,526 s, but every cell took
# 0.6-0.9 s longer (notebook 02's small cells: 2.1 s instead of 1.3 s), and a student pays that
# on every cell, the set-up once.
CELL_PROFILE = """# Written by scripts/kernel.py: the cells of xray-lab kernels compile at opt-level 0, the
# crate and its dependencies at evcxr's opt-level 2.
[profile.dev]
opt-level = 0

[profile.dev.package."*"]
opt-level = 2

"""


# A kernel's folder is made of hard links wherever the file is only ever replaced, never
# rewritten in place: rustc renames rlibs and rmeta files into place, the linkers unlink or
# rename their output, cargo removes an uplifted file before linking it again. Copied, because
# something writes them in place: cargo's fingerprints and lock files (dot-files), rustc's
# dep-info (`.d`), and build scripts' `out/` folders (a build script that runs again in a kernel
# must not change the seed's files). A kernel folder then costs megabytes and a fraction of a
# second instead of gigabytes.
def linkable(rel: Path, name: str) -> bool:
    parts = rel.parts
    if name.endswith(".d") or name.startswith(".") or name == "output":
        return False
    return ".fingerprint" not in parts and "out" not in parts and "incremental" not in parts


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


def kernels_dir() -> Path:
    return evcxr_home() / "kernels"


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


def newest_source_mtime() -> int:
    """The newest modification time among the crate's sources and manifests."""
    newest = 0
    paths = [REPO / "Cargo.toml", REPO / "Cargo.lock", CRATE / "Cargo.toml"]
    for sub in ("src", "assets"):
        for root, _dirs, files in os.walk(CRATE / sub):
            paths.extend(Path(root) / f for f in files)
    for p in paths:
        try:
            newest = max(newest, p.stat().st_mtime_ns)
        except FileNotFoundError:
            pass
    return newest


def downloaded_crates_stamp() -> int:
    """Offline resolution picks the newest downloaded version: a new download can change it."""
    cache = Path(os.environ.get("CARGO_HOME", Path.home() / ".cargo")) / "registry" / "cache"
    try:
        return max(d.stat().st_mtime_ns for d in cache.iterdir())
    except (FileNotFoundError, ValueError):
        return 0


def stamp_of(facts: dict) -> dict:
    return {
        "sources": newest_source_mtime(),
        "downloads": downloaded_crates_stamp(),
        "rustc": facts["version"],
        "evcxr": EVCXR_VERSION,
        "cargo_toml": [cargo_toml(f) for f in SEED_FEATURES],
        "rustflags": evcxr_env("rustc")["RUSTFLAGS"],
        "cell_profile": CELL_PROFILE,
    }


class SeedLock:
    """flock on the seed: shared while kernels copy it, exclusive while it is built."""

    def __init__(self, seed: Path, exclusive: bool):
        seed.parent.mkdir(parents=True, exist_ok=True)
        self.file = open(seed.parent / f"{seed.name}.lock", "a+")
        self.mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH

    def __enter__(self):
        fcntl.flock(self.file, self.mode)
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.file, fcntl.LOCK_UN)
        self.file.close()


def write_cell_profile() -> None:
    config = evcxr_home() / ".cargo" / "config.toml"
    if not config.is_file() or config.read_text() != CELL_PROFILE:
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(CELL_PROFILE)


def write_seed_files(seed: Path, features: tuple[str, ...] = ()) -> None:
    write_cell_profile()
    (seed / "src").mkdir(parents=True, exist_ok=True)
    (seed / ".cargo").mkdir(exist_ok=True)
    toml = cargo_toml(features)
    if not (seed / "Cargo.toml").exists() or (seed / "Cargo.toml").read_text() != toml:
        (seed / "Cargo.toml").write_text(toml)
    lib = seed / "src" / "lib.rs"
    if not lib.exists():
        lib.write_text("// The seed's own code is never used: each kernel compiles its cells here.\n")
    (seed / ".cargo" / "config.toml").write_text("\n[net]\noffline = true\n")


def build_seed(seed: Path, facts: dict, rustc: str, timeout: float | None, quiet: bool) -> bool:
    """Brings the seed up to date, the crate built once per entry of SEED_FEATURES; True when
    cargo finished within `timeout` seconds (all builds together). Resolution is offline and
    from scratch, as a kernel's is (evcxr's first build has no dependencies, so the lock file is
    emptied before `:dep` resolves again). The seed is left with the plain Cargo.toml."""
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        for features in SEED_FEATURES:
            write_seed_files(seed, features)
            if features == SEED_FEATURES[0]:
                (seed / "Cargo.lock").unlink(missing_ok=True)
            left = None if deadline is None else max(deadline - time.monotonic(), 1.0)
            if not build_seed_once(seed, facts, rustc, left, quiet):
                return False
        return True
    finally:
        write_seed_files(seed)


def build_seed_once(seed: Path, facts: dict, rustc: str, timeout: float | None,
                    quiet: bool) -> bool:
    cmd = [tool("cargo"), "build", "--offline", "--target", facts["host"]]
    if quiet:
        cmd.append("--quiet")
    # A process group of its own, so that stopping cargo at the budget stops its rustc too.
    proc = subprocess.Popen(cmd, cwd=seed, env=evcxr_env(rustc), start_new_session=True,
                            stdout=sys.stderr if not quiet else subprocess.DEVNULL,
                            stderr=None if not quiet else subprocess.PIPE)
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        # As Ctrl-C would: cargo keeps every unit it finished, the next start goes on from there.
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
        return False
    if proc.returncode != 0:
        detail = err.decode(errors="replace") if err else ""
        raise SystemExit(f"building the kernel seed in {seed} failed:\n{detail}")
    return True


def fetch_crates() -> None:
    """Downloads the crates of Cargo.lock (and of a dependency added to the crate since), so
    that the offline resolution of the seed and of every kernel finds them."""
    subprocess.run([tool("cargo"), "fetch", "--quiet"], cwd=REPO, check=True)


def prepare(timeout: float | None = None, quiet: bool = False) -> bool:
    """Builds the seed or brings it up to date. Returns True when it is up to date."""
    rustc = tool("rustc")
    facts = rustc_facts(rustc)
    seed = seed_dir()
    stamp_file = seed / "xray-lab-seed.json"
    with SeedLock(seed, exclusive=True):
        stamp = stamp_of(facts)
        try:
            if json.loads(stamp_file.read_text()) == stamp:
                return True
        except (FileNotFoundError, ValueError):
            pass
        if timeout is None:
            fetch_crates()
        stamp_file.unlink(missing_ok=True)
        done = build_seed(seed, facts, rustc, timeout, quiet)
        if done:
            stamp_file.write_text(json.dumps(stamp, indent=1))
        return done


def copy_seed(seed: Path, dest: Path) -> None:
    """A kernel's own build folder: links for replace-only build products, copies for the rest
    (modification times kept: cargo compares them)."""
    for root, dirs, files in os.walk(seed):
        rel = Path(root).relative_to(seed)
        (dest / rel).mkdir(exist_ok=True)
        for name in files:
            src, dst = Path(root) / name, dest / rel / name
            if name == "xray-lab-seed.json":
                continue
            if rel.parts[:1] == ("target",) and linkable(rel, name):
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
    """Jupyter's entry point: make this kernel's folder, then become evcxr_jupyter."""
    global REPO, CRATE
    started = time.time()
    # Jupyter starts a kernel in its notebook's folder, and the notebooks' `:dep` names
    # `../crate`: bring the seed up to date for that checkout, wherever the kernel spec points
    # (it names the checkout that ran the set-up last).
    found = checkout_of(Path.cwd())
    if found:
        REPO, CRATE = found, found / "crate"
    clean()
    evcxr = tool("evcxr_jupyter")
    budget = float(os.environ.get("XRAY_LAB_KERNEL_REFRESH_SECONDS", "40"))
    seed = seed_dir()
    if not (seed / "target").is_dir():
        log(f"no seed in {seed}: this kernel builds the crate itself (minutes); "
            "run `python3 scripts/kernel.py prepare` once to make every start fast")
    else:
        try:
            if not prepare(timeout=budget, quiet=True):
                log(f"the crate changed and its rebuild took more than {budget:.0f} s: this "
                    "kernel finishes it; the next start goes on from where it stopped")
        except (SystemExit, OSError, subprocess.SubprocessError) as error:
            # A crate that does not compile must not keep the kernel from starting: the `:dep`
            # cell then shows the compiler's errors in the notebook, where the student looks.
            log(f"the seed could not be brought up to date: {error}")
    write_cell_profile()
    kernels_dir().mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=kernels_dir()))
    if (seed / "target").is_dir():
        with SeedLock(seed, exclusive=False):
            copy_seed(seed, folder)
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
    os.execve(evcxr, [evcxr, "--control_file", connection_file], env)


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


def check(timeout: float = 600) -> None:
    """Starts one kernel through jupyter_client, runs the notebooks' set-up cells, then notebook
    07's (the crate with its `pretrained` feature), and fails unless each `xray_lab` library the
    kernel linked is the seed's own file (a hard link to it): a kernel that compiled the crate
    again would have made a new one."""
    host = rustc_facts(tool("rustc"))["host"]
    seed_deps = seed_dir() / "target" / host / "debug" / "deps"
    if not any(seed_deps.glob("libxray_lab-*.rlib")):
        raise SystemExit(f"no seed build of the crate in {seed_deps}: run `kernel.py prepare`")
    started = time.perf_counter()
    with jupyter_kernel(KERNEL_NAME, timeout) as (km, client, ready):
        cells = [notebook_setup_cell(), "use xray_lab::prelude::*;", "xray_lab::DATA_ENV",
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
        print(f"kernel answered in {ready:.1f} s, set-up cells done at {total:.1f} s, "
              f"with the seed's build of the crate ({folders[0]})", file=sys.stderr)


def execute(notebooks: list[Path], out: Path, timeout: float) -> None:
    """Executes notebooks headless, one after another in one kernel started as Jupyter starts
    one (in their folder, which they must share), with evcxr's `:clear` between them: a new
    child process with no variables, items or dependencies, so each notebook runs as in a new
    kernel, while evcxr keeps its rust-analyzer's analysis of the crate and the build folder
    (about 30 s of each new kernel; see the README). Writes each executed notebook to `out`
    and stops at the first cell that fails, after writing that notebook with its error."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from jupyter_client.manager import KernelManager

    folders = {nb.resolve().parent for nb in notebooks}
    if len(folders) != 1:
        raise SystemExit("execute: the notebooks of one kernel must share a folder (their "
                         f"`:dep` paths are relative to it), not {sorted(map(str, folders))}")
    folder = folders.pop()
    out.mkdir(parents=True, exist_ok=True)
    km = KernelManager(kernel_name=KERNEL_NAME)
    km.start_kernel(cwd=str(folder))
    try:
        for index, path in enumerate(notebooks):
            if index > 0:
                control = km.client()
                control.start_channels()
                try:
                    control.wait_for_ready(timeout=timeout)
                    reply = control.execute_interactive(":clear", timeout=timeout,
                                                        output_hook=lambda m: None)
                finally:
                    control.stop_channels()
                if reply["content"]["status"] != "ok":
                    raise SystemExit(f"`:clear` failed before {path.name}: {reply['content']}")
            started = time.perf_counter()
            nb = nbformat.read(path, as_version=4)
            client = NotebookClient(nb, km=km, timeout=timeout, kernel_name=KERNEL_NAME,
                                    resources={"metadata": {"path": str(folder)}})
            failed = None
            try:
                client.execute()
            except CellExecutionError as error:
                failed = error
            finally:
                if client.kc is not None:
                    client.kc.stop_channels()
                nbformat.write(nb, out / path.name)
            if failed is not None:
                raise SystemExit(f"{path.name}: a cell failed\n{failed}")
            print(f"executed {path.name} in {time.perf_counter() - started:.1f} s"
                  + (" (after :clear, in the same kernel)" if index else " (a new kernel)"),
                  file=sys.stderr, flush=True)
    finally:
        km.shutdown_kernel(now=True)


def cli(args: list[str]) -> None:
    """Runs the `xray-lab` command built in the seed, with the kernels' own build of every
    dependency (evcxr's profile: opt-level 2 with debug assertions), so that the main job on a
    fresh machine compiles the dependency tree once. `cargo build --release` makes the faster
    build that the benchmarks use."""
    rustc = tool("rustc")
    facts = rustc_facts(rustc)
    seed = seed_dir()
    if not (seed / "target").is_dir():
        raise SystemExit(f"no seed in {seed}: run `python3 scripts/kernel.py prepare` first")
    with SeedLock(seed, exclusive=True):
        # This checkout's crate (the seed names the checkout prepared last). The seed's own lock
        # file is kept: the binary must use the kernels' dependency builds.
        # With the network (`embed`, `--pretrained`): the seed's second build of the crate, asked
        # for as notebook 07 asks (cargo takes no --features for a package outside a workspace).
        try:
            write_seed_files(seed, ("pretrained",))
            cmd = [tool("cargo"), "build", "--offline", "--quiet", "-p", "xray_lab",
                   "--bin", "xray-lab", "--target", facts["host"]]
            subprocess.run(cmd, cwd=seed, env=evcxr_env(rustc), check=True)
        finally:
            write_seed_files(seed)
    binary = seed / "target" / facts["host"] / "debug" / "xray-lab"
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = os.pathsep.join(
        p for p in (facts["libdir"], env.get("LD_LIBRARY_PATH", "")) if p)
    os.execve(binary, [str(binary), *args], env)


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


def main() -> None:
    if sys.argv[1:2] == ["cli"]:
        # Everything after `cli` is the command's own (argparse would take `--help` for ours).
        cli(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("prepare", help="build the seed, or bring it up to date")
    sub.add_parser("install", help="register the xray-lab kernel with Jupyter")
    run_parser = sub.add_parser("run", help="start a kernel (Jupyter calls this)")
    run_parser.add_argument("connection_file")
    sub.add_parser("clean", help="remove the folders of kernels that have ended")
    sub.add_parser("check", help="start one kernel and prove it used the seed (for tests)")
    sub.add_parser("cli", help="run the xray-lab command built in the seed (ARGS... after it)")
    exec_parser = sub.add_parser(
        "execute", help="execute notebooks in one kernel, `:clear` between them (for tests)")
    exec_parser.add_argument("--out", type=Path, required=True,
                             help="folder for the executed notebooks")
    exec_parser.add_argument("--timeout", type=float, default=1800, help="seconds per cell")
    exec_parser.add_argument("notebooks", type=Path, nargs="+")
    args = parser.parse_args()
    if args.command == "prepare":
        started = time.time()
        up_to_date = prepare()
        print(f"kernel seed {seed_dir()} up to date ({time.time() - started:.0f} s)"
              if up_to_date else "kernel seed not finished", file=sys.stderr)
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
