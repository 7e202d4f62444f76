#!/usr/bin/env python3
"""The whole pipeline, three ways, on the same files in one run (issue 7):

- `xray-lab report` cold (an empty feature cache) and warm (the second run, cache reused);
- the same pipeline in Python: Pillow draft mode in one process per core, scikit-learn,
  matplotlib (`bench/report_python.py`);
- the report's own PySpark pipeline (`bench/report_spark.py`), with the report's own
  `.master("local")` (one core) and with `local[*]` (both cores).

    cargo build --release
    pip install numpy pandas pillow scikit-learn matplotlib pyspark==3.5.3   # Spark needs Java 17
    python3 bench/pipeline.py --data DATASET [--repeats 3] [--spark-repeats 1] [--markdown OUT.md]

"Cold" means the operating system's page cache is dropped before the run (when this process may
write /proc/sys/vm/drop_caches, i.e. as root; the table says which) and xray-lab starts with an
empty cache folder. Both xray-lab and Python read one split file made by `xray-lab split`
beforehand, so they train and test on the same images; Spark does the report's own resplit.
Each repeat runs the tools one after the other so the shared machine's noise hits all alike;
the table gives medians and the peak resident memory of the whole process tree (sampled from
/proc every 0.2 s, so Spark's JVM and Python workers count; at least /usr/bin/time's peak).
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
XRAY_LAB = TARGET / "release" / "xray-lab"


def drop_caches():
    try:
        subprocess.run(["sync"], check=True)
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return True
    except OSError:
        return False


def tree_rss_kb(root):
    """Resident memory of `root` and all its descendants (kB), from /proc."""
    children, rss = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
            rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE") // 1024
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total


def timed(cmd, env=None):
    """Run a command; wall seconds, peak MB of the whole process tree, stdout.

    The tree is sampled every 0.2 s (a JVM started by PySpark is a grandchild that
    /usr/bin/time would not count); /usr/bin/time's peak of the largest process is the floor."""
    start = time.perf_counter()
    proc = subprocess.Popen(["/usr/bin/time", "-f", "PEAK_KB %M"] + [str(c) for c in cmd],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    peak_tree = 0
    while proc.poll() is None:
        peak_tree = max(peak_tree, tree_rss_kb(proc.pid))
        time.sleep(0.2)
    stdout, stderr = proc.communicate()
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{cmd[0]} failed ({proc.returncode}):\n{stdout[-2000:]}\n{stderr[-4000:]}")
    peak = [int(l.split()[1]) for l in stderr.splitlines() if l.startswith("PEAK_KB")][-1]
    return seconds, max(peak, peak_tree) / 1024, stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--spark-repeats", type=int, default=1)
    ap.add_argument("--spark-master", action="append",
                    help="Spark masters to run (repeatable); default: 'local' (one core, the report's "
                         "own setting) and 'local[*]' (every core)")
    ap.add_argument("--markdown", help="append the table to this file")
    args = ap.parse_args()
    data = os.path.abspath(args.data)
    work = Path(tempfile.mkdtemp(prefix="xray-lab-pipeline-bench-"))
    split = work / "split.csv"
    subprocess.run([XRAY_LAB, "split", "--data", data, "--out", split], check=True, capture_output=True)
    images = sum(1 for line in open(split)) - 1
    runs = {}  # name -> list of (seconds, peak MB, stages)
    dropped = None

    def record(name, seconds, peak, stages):
        runs.setdefault(name, []).append((seconds, peak, stages))
        print(f"{name}: {seconds:.1f} s, peak {peak:.0f} MB", flush=True)

    for r in range(args.repeats):
        cache = work / f"cache-{r}"
        env = dict(os.environ, XRAY_LAB_CACHE=str(cache))
        for label in ("xray-lab report, cold", "xray-lab report, warm"):
            if label.endswith("cold"):
                dropped = drop_caches()
            out = work / f"xray-{r}-{label[-4:]}"
            seconds, peak, _ = timed([XRAY_LAB, "report", "--data", data, "--split", split, "--out", out], env)
            stages = json.load(open(out / "metrics.json"))["stages"]
            record(label, seconds, peak, dict(stages))
        dropped = drop_caches()
        out = work / f"python-{r}"
        seconds, peak, stdout = timed([sys.executable, ROOT / "bench" / "report_python.py", "--data", data,
                                       "--split", split, "--out", out])
        record("Pillow draft + scikit-learn, cold", seconds, peak,
               json.loads(stdout.strip().splitlines()[-1])["stages"])
    masters = args.spark_master or ["local", "local[*]"]
    names = {"local": "the report's PySpark pipeline as it ran it (master local: one core), cold",
             "local[*]": "the report's PySpark pipeline on every core (local[*]), cold"}
    for r in range(args.spark_repeats):
        for master in masters:
            dropped = drop_caches()
            seconds, peak, stdout = timed([sys.executable, ROOT / "bench" / "report_spark.py", "--data", data,
                                           "--master", master])
            result = json.loads(stdout.strip().splitlines()[-1])
            record(names.get(master, f"PySpark, master {master}, cold"), seconds, peak, result["stages"])
            spark_result = result

    base = statistics.median(s for s, _, _ in runs["xray-lab report, cold"])
    lines = [
        f"**{data}**: {images:,} images, 2 cores, {time.strftime('%Y-%m-%d')}; "
        f"page cache {'dropped before each cold run' if dropped else 'not dropped (not root)'}; "
        f"medians of {args.repeats} (Spark: {args.spark_repeats} run{'s' if args.spark_repeats > 1 else ''})",
        "",
        "| pipeline | seconds | images/s | peak memory (MB) | time / xray-lab cold |",
        "|---|---|---|---|---|",
    ]
    for name, rs in runs.items():
        s = statistics.median(x for x, _, _ in rs)
        m = statistics.median(x for _, x, _ in rs)
        lines.append(f"| {name} | {s:.1f} | {images / s:.0f} | {m:.0f} | {s / base:.1f}x |")
    lines += ["", "Stages (median seconds):", ""]
    for name, rs in runs.items():
        keys = list(rs[0][2])
        parts = [f"{k} {statistics.median(r[2].get(k, 0) for r in rs):.1f}" for k in keys]
        lines.append(f"- {name}: " + ", ".join(parts))
    lines += ["", f"Spark's resplit: test and validation samples overlapped in "
              f"{spark_result['test_validation_overlap']} images; its linear regression on test: "
              f"RMSE {spark_result['metrics']['test']['rmse']:.3f}, R² {spark_result['metrics']['test']['r2']:.3f}"]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.markdown:
        with open(args.markdown, "a") as f:
            f.write(text + "\n")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
