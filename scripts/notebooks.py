#!/usr/bin/env python3
"""Executes notebooks headless with the xray-lab kernel: `./scripts/run` and the notebook test.

    python3 scripts/notebooks.py --out output/notebooks notebooks/*.ipynb
    python3 scripts/notebooks.py --jobs 1 ...     # one kernel at a time (little memory)

Two kernels at a time (`--jobs`, XRAY_LAB_NOTEBOOK_JOBS), each started as Jupyter starts one (the
kernel spec's own argv, from the notebooks' folder) and kept for the next notebook, with evcxr's
`:clear` between them: a new child process with no variables, items or dependencies, so each
notebook runs as in a new kernel, while evcxr keeps its rust-analyzer's analysis of the crate
and its build folder (about 30 s of a new kernel; README, "The kernel"). Why two: a notebook's
time is mostly evcxr's, which works on one core (rust-analyzer, then rustc and the linker for
each cell), so on 2 cores two notebooks take little longer than one. Each kernel has a build
folder of its own (scripts/kernel.py), and the caches the notebooks share are written
atomically, so two kernels never see each other's half-written files.

The notebooks run in the order given, except that one whose `:dep` asks for the crate's
`pretrained` feature waits until that variant is built for the kernels (the command line starts
`kernel.py prepare` for it in the background, under `nice`, unless --network-ready) and then
runs next, ahead of the rest, in a new kernel (a kernel's folder is a copy of the seed as it was
when the kernel started). Each executed notebook is written to `--out`, a failing one with its
error; the first failure stops the run (the notebooks already running finish).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
KERNEL_NAME = "xray-lab"
NETWORK_FEATURE = "pretrained"
PREPARE_LOG = Path("/tmp/xray-lab-prepare-pretrained.log")


def needs_network(notebook: Path) -> bool:
    """Whether the notebook's `:dep` line asks for the crate's `pretrained` feature."""
    cells = json.loads(notebook.read_text())["cells"]
    for cell in cells:
        for line in cell["source"] if cell["cell_type"] == "code" else []:
            if line.lstrip().startswith(":dep") and f'"{NETWORK_FEATURE}"' in line:
                return True
    return False


class Schedule:
    """Which notebook runs next: the order given, the network's notebooks as soon as it is built."""

    def __init__(self, notebooks: list[Path], network_ready: threading.Event):
        self.waiting = list(notebooks)
        self.network = {nb for nb in notebooks if needs_network(nb)}
        self.network_ready = network_ready
        self.failed = False
        self.lock = threading.Lock()

    def next(self) -> Path | None:
        while True:
            with self.lock:
                if self.failed or not self.waiting:
                    return None
                ready = self.network_ready.is_set()
                pick = next((nb for nb in self.waiting if nb in self.network and ready), None) \
                    or next((nb for nb in self.waiting if nb not in self.network), None)
                if pick is not None:
                    self.waiting.remove(pick)
                    return pick
            # Only notebooks that need the network are left: wait for its build.
            self.network_ready.wait(timeout=5)

    def stop(self) -> None:
        with self.lock:
            self.failed = True


class Lane:
    """One kernel, kept from notebook to notebook with `:clear` between them."""

    def __init__(self, folder: Path, timeout: float):
        self.folder, self.timeout = folder, timeout
        self.km = None
        self.network = False

    def kernel(self, network: bool):
        """The lane's kernel for a notebook: the one running, cleared, or a new one when there
        is none or the notebook needs the network and the running kernel started before it."""
        from jupyter_client.manager import KernelManager

        if self.km is not None and network and not self.network:
            self.close()
        if self.km is None:
            self.km = KernelManager(kernel_name=KERNEL_NAME)
            self.km.start_kernel(cwd=str(self.folder))
            self.network = network
            return self.km, "a new kernel"
        control = self.km.client()
        control.start_channels()
        try:
            control.wait_for_ready(timeout=self.timeout)
            reply = control.execute_interactive(":clear", timeout=self.timeout,
                                                output_hook=lambda m: None)
        finally:
            control.stop_channels()
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"`:clear` failed: {reply['content']}")
        return self.km, "the lane's kernel after :clear"

    def execute(self, path: Path, out: Path) -> tuple[str, str | None]:
        """Executes one notebook into `out`; returns how its kernel started and the error of
        the cell that failed, if one did."""
        import nbformat
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError

        km, how = self.kernel(needs_network(path))
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(nb, km=km, timeout=self.timeout, kernel_name=KERNEL_NAME,
                                resources={"metadata": {"path": str(self.folder)}})
        failed = None
        try:
            client.execute()
        except CellExecutionError as error:
            failed = str(error)
        finally:
            if client.kc is not None:
                client.kc.stop_channels()
            nbformat.write(nb, out / path.name)
        return how, failed

    def close(self) -> None:
        if self.km is not None:
            self.km.shutdown_kernel(now=True)
            self.km = None


def execute(notebooks: list[Path], out: Path, jobs: int = 2, timeout: float = 1800,
            network_ready: threading.Event | None = None, say=None) -> list[tuple[Path, str]]:
    """Executes the notebooks `jobs` at a time (see the module's text); returns the failures
    (notebook, error). `network_ready`, when given, is set once the crate's network variant is
    built for the kernels; without it the variant is taken as built."""
    say = say or (lambda message: print(message, file=sys.stderr, flush=True))
    folders = {nb.resolve().parent for nb in notebooks}
    if len(folders) != 1:
        raise SystemExit("the notebooks must share a folder (their `:dep` paths are relative to "
                         f"it), not {sorted(map(str, folders))}")
    folder = folders.pop()
    out.mkdir(parents=True, exist_ok=True)
    if network_ready is None:
        network_ready = threading.Event()
        network_ready.set()
    schedule = Schedule(notebooks, network_ready)
    failures: list[tuple[Path, str]] = []

    def run_lane(number: int) -> None:
        lane = Lane(folder, timeout)
        try:
            while (notebook := schedule.next()) is not None:
                started = time.time()
                try:
                    how, failed = lane.execute(notebook, out)
                except Exception as error:  # a kernel that died or did not start
                    how, failed = "", f"{type(error).__name__}: {error}"
                if failed is not None:
                    schedule.stop()
                    failures.append((notebook, failed))
                    say(f"{notebook.name} FAILED after {time.time() - started:.0f} s")
                    return
                say(f"{notebook.name} done in {time.time() - started:.0f} s ({how}, lane "
                    f"{number} of {jobs})")
        finally:
            lane.close()

    lanes = [threading.Thread(target=run_lane, args=(i + 1,)) for i in range(max(1, jobs))]
    for thread in lanes:
        thread.start()
    for thread in lanes:
        thread.join()
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for executed notebooks")
    parser.add_argument("--jobs", type=int,
                        default=int(os.environ.get("XRAY_LAB_NOTEBOOK_JOBS", "2")),
                        help="kernels at once (default 2, or XRAY_LAB_NOTEBOOK_JOBS)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per cell")
    parser.add_argument("--network-ready", action="store_true",
                        help="the crate's network variant is built for the kernels already "
                        "(`kernel.py prepare`): do not build it here")
    parser.add_argument("--started", type=float, default=time.time(),
                        help="the clock the progress lines count from (seconds since the epoch)")
    parser.add_argument("notebooks", type=Path, nargs="+")
    args = parser.parse_args()
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    print_lock = threading.Lock()

    def say(message: str) -> None:
        with print_lock:
            print(f"== [{time.time() - args.started:.0f} s] {message}", flush=True)

    # The crate's network variant for the kernels, in the background: the notebooks before the
    # first one that needs it run meanwhile.
    network_ready = threading.Event()
    prepare = None
    if args.network_ready or not any(needs_network(nb) for nb in args.notebooks):
        network_ready.set()
    else:
        say("building the crate's pretrained variant for the kernels in the background "
            f"(about 2 min; notebooks that need it wait for it; log: {PREPARE_LOG})")
        with PREPARE_LOG.open("w") as log:
            prepare = subprocess.Popen(
                ["nice", "-n", "10", sys.executable, str(REPO / "scripts" / "kernel.py"),
                 "prepare"], stdout=log, stderr=subprocess.STDOUT)

    prepare_failed = threading.Event()

    def watch_prepare() -> None:
        if prepare.wait() != 0:
            prepare_failed.set()
        else:
            say("the pretrained variant is built")
        network_ready.set()

    if prepare is not None:
        threading.Thread(target=watch_prepare, daemon=True).start()
    say(f"executing {len(args.notebooks)} notebooks, {args.jobs} kernel(s) at a time")
    failures = execute(args.notebooks, args.out, args.jobs, args.timeout, network_ready, say)
    if prepare is not None and not failures:
        prepare.wait()
        time.sleep(0.1)  # watch_prepare's line first
    if prepare_failed.is_set():
        sys.stderr.write(PREPARE_LOG.read_text())
        sys.stderr.write("building the crate's pretrained variant for the kernels failed "
                         f"(above; {PREPARE_LOG})\n")
        return 1
    for notebook, error in failures:
        sys.stderr.write(f"\n{notebook}: a cell failed (the notebook with its error is in "
                         f"{args.out}):\n{error}\n")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
