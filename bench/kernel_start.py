#!/usr/bin/env python3
"""How long a student waits for a notebook kernel: start N fresh kernels the way Jupyter starts
them (jupyter_client's KernelManager, the kernel spec's own argv, each kernel its own build
folder), run the notebooks' set-up cells and then small cells, and print medians.

    python3 bench/kernel_start.py --kernel xray-lab --kernel rust --runs 3
    python3 bench/kernel_start.py --kernel xray-lab --concurrent 2     # two kernels at once
    python3 bench/kernel_start.py --evcxr lean=PATH --evcxr default=PATH # two evcxr builds

Timed per kernel: `start` (process started until it answers kernel_info), the set-up cell
(`:dep` with the crate), `use` (the prelude), then the first cell that defines a variable, as
nearly every notebook's first real cell does (`let dataset = load::scan(..)?` on the 16 real
X-rays, shown with `head`), then two small cells: `1 + 1` and a figure of counts (their work is
milliseconds; what is left is evcxr compiling and linking the cell). `first output` is the time
from starting the kernel to the first output of that `let` cell: what a student waits before
the first result of their own (evcxr infers the type of every variable a cell defines with
rust-analyzer, and the first inference in a kernel analyses the whole crate graph). Kernels run
one after another (alternating kernel specs, or evcxr builds given with --evcxr, when several
are given, so that all see the same machine load), or in groups with --concurrent.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
REAL = REPO / "crate" / "tests" / "fixtures" / "real-sample"
sys.path.insert(0, str(REPO / "scripts"))
from kernel import jupyter_kernel, notebook_setup_cell  # noqa: E402

CELLS = [
    ("setup", notebook_setup_cell()),
    ("use", "use xray_lab::prelude::*;"),
    ("let", f'let dataset = load::scan("{REAL}")?;\ndataset.images.head(Some(3))'),
    ("1 + 1", "1 + 1"),
    ("figure", "plot::images_per_subset(&dataset.images)?"),
]


def run_cell(client, code: str, timeout: float) -> tuple[float, float | None, str | None]:
    """Executes one cell; returns its wall time, the clock (perf_counter) at its first output,
    and the error text, if any."""
    started = time.perf_counter()
    msg_id = client.execute(code, store_history=True)
    error, first_output = None, None
    while True:
        msg = client.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if first_output is None and kind in ("execute_result", "display_data", "stream"):
            first_output = time.perf_counter()
        if kind == "error":
            error = f"{content.get('ename')}: {content.get('evalue')}"
        elif kind == "stream" and content.get("name") == "stderr" and content["text"].strip():
            error = (error or "") + content["text"]
        elif kind == "status" and content["execution_state"] == "idle":
            break
    reply = client.get_shell_msg(timeout=timeout)
    if reply["content"].get("status") == "error" and error is None:
        error = reply["content"].get("evalue", "error")
    return time.perf_counter() - started, first_output, error


def one_kernel(name: str, timeout: float) -> dict:
    """Starts one kernel as Jupyter does, from the notebooks folder, and times it."""
    launched = time.perf_counter()
    with jupyter_kernel(name, timeout) as (_km, client, answered):
        times = {"start": answered}
        for label, code in CELLS:
            seconds, first_output, error = run_cell(client, code, timeout)
            if error:
                raise RuntimeError(f"{name}: cell `{label}` failed: {error}")
            times[label] = seconds
            if label == "let":
                if first_output is None:
                    raise RuntimeError(f"{name}: the `let` cell showed no output")
                times["first output"] = first_output - launched
        return times


def run_group(name: str, size: int, timeout: float) -> list[dict]:
    results: list = [None] * size

    def work(i: int) -> None:
        try:
            results[i] = one_kernel(name, timeout)
        except Exception as error:  # reported below, after the others finish
            results[i] = error

    threads = [threading.Thread(target=work, args=(i,)) for i in range(size)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        if isinstance(r, Exception):
            raise r
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kernel", action="append", help="kernel spec name (repeatable)")
    parser.add_argument("--runs", type=int, default=3, help="kernels per spec (default 3)")
    parser.add_argument("--concurrent", type=int, default=1, help="kernels started at once")
    parser.add_argument("--warmup", action="store_true",
                        help="one untimed kernel per spec first (fills evcxr's own cache)")
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--json", help="also write every measurement to this file")
    parser.add_argument("--evcxr", action="append", metavar="LABEL=PATH",
                        help="an evcxr_jupyter binary for the xray-lab kernel (XRAY_LAB_EVCXR; "
                        "repeatable: each is a row of its own)")
    args = parser.parse_args()
    # A row is a kernel spec, with the evcxr_jupyter it runs when --evcxr names several.
    rows: dict[str, tuple[str, str | None]] = {}
    for name in args.kernel or ["xray-lab"]:
        for given in args.evcxr or [None]:
            if given is None:
                rows[name] = (name, None)
                continue
            label, _, path = given.partition("=")
            if not path:
                parser.error(f"--evcxr {given}: expected LABEL=PATH")
            rows[f"{name} ({label})"] = (name, path)
    kernels = list(rows)

    def use_row(row: str) -> str:
        name, path = rows[row]
        if path:
            os.environ["XRAY_LAB_EVCXR"] = path
        else:
            os.environ.pop("XRAY_LAB_EVCXR", None)
        return name

    if args.warmup:
        for row in kernels:
            print(f"warm-up: {row}", file=sys.stderr, flush=True)
            one_kernel(use_row(row), args.timeout)
    measured: dict[str, list[dict]] = {name: [] for name in kernels}
    for run in range(args.runs):
        for row in kernels:
            for times in run_group(use_row(row), args.concurrent, args.timeout):
                measured[row].append(times)
                print(f"run {run + 1} {row}: " + ", ".join(
                    f"{k} {v:.1f} s" for k, v in times.items()), file=sys.stderr, flush=True)

    labels = ["start", "setup", "use", "let", "first output"] + [l for l, _ in CELLS[3:]]
    together = f", {args.concurrent} at once" if args.concurrent > 1 else ""
    print(f"\nmedian seconds over {args.runs * args.concurrent} kernels per spec{together}")
    print("| kernel | " + " | ".join(labels) + " |")
    print("|---|" + "---|" * len(labels))
    for name, runs in measured.items():
        cells = [f"{statistics.median(r[l] for r in runs):.1f}" for l in labels]
        print(f"| {name} | " + " | ".join(cells) + " |")
    if args.json:
        Path(args.json).write_text(json.dumps(measured, indent=1))


if __name__ == "__main__":
    main()
