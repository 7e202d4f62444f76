"""xray-lab's decoder inside PySpark against the report's own PySpark pipeline, and the Python
package against Pillow from plain Python: the same files, the same run (issue 17).

    bash scripts/python.sh build               # the wheel, installed in the py environment
    ~/.cache/xray-lab/py-venv/bin/python bench/spark.py --data DATASET [--repeats 3] [--json OUT]

1. Spark, `local[*]`, stage by stage, each pipeline in a process of its own (a new JVM),
   alternating, page cache dropped before each run when run as root:
   - `report_spark.py`: the report's code (binaryFile, its resplit, Pillow UDFs for sizes,
     histograms and `decode_image`, MLlib `LinearRegression(regParam=0.1)`, RMSE and R²);
   - `xray_lab.spark.report_pipeline`: the same stages with the crate's decoder in
     `mapInArrow`, its workers started by `xray_lab.spark_daemon` (one pass for the header
     facts and the intensities, the files read by the decoder itself; a second decode for the
     features, handed to MLlib uncached, since MLlib caches its own blocks), the resplit done right, the same
     MLlib model and metrics; its logistic regression (beyond the report) is timed apart and
     left out of the total compared.
`--throughput` times decoding alone inside Spark (every file to features, no training), for
the README's at-scale guide.

2. Plain Python, every file to 150x150 features: `xray_lab.decode` (one thread per core)
   against Pillow with `draft` (DCT scaling) in one process per core, as `pillow_features.py`.

Prints the tables (medians of the repeats) and one JSON line.
"""
import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from pipeline import drop_caches, timed  # noqa: E402

REPORT_STAGES = ["start Spark", "load and count", "resplit and count", "image sizes",
                 "pixel intensities", "features and training", "evaluation"]
DECODING = ["image sizes", "pixel intensities"]


def ours(data: str, master: str) -> dict:
    """One run of the pipeline on xray_lab.spark, in this process."""
    start = time.perf_counter()
    from pyspark.sql import SparkSession

    from xray_lab import spark as xs

    # The workers start from xray-lab's daemon (the installed pyspark, the decoder preloaded).
    spark = (SparkSession.builder.master(master).appName("xray-lab pipeline")
             .config("spark.python.daemon.module", xs.DAEMON_MODULE)
             .config("spark.driver.memory", "8g")
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.pyspark.python", sys.executable)
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    started = round(time.perf_counter() - start, 3)
    result = xs.report_pipeline(spark, data)
    spark.stop()
    result["stages"] = {"start Spark": started, **result["stages"]}
    result["seconds"] = round(time.perf_counter() - start, 3)
    return result


def throughput(data: str, master: str) -> dict:
    """Decoding alone in Spark: every file of `data` to 150x150 features and statistics through
    `with_features`, summed so that nothing is skipped (no training). For the README's
    at-scale guide."""
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    from xray_lab import spark as xs

    spark = (SparkSession.builder.master(master).appName("xray-lab throughput")
             .config("spark.python.daemon.module", xs.DAEMON_MODULE)
             .config("spark.driver.memory", "4g").config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.pyspark.python", sys.executable).getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    images = xs.read_images(spark, data)
    t = time.perf_counter()
    n = images.count()
    listing = time.perf_counter() - t
    partitions = images.rdd.getNumPartitions()
    t = time.perf_counter()
    row = xs.with_features(images).agg(
        F.count(F.lit(1)).alias("rows"), F.sum(F.col("error").isNull().cast("int")).alias("ok"),
        F.sum(F.aggregate("features", F.lit(0.0), lambda acc, v: acc + v)).alias("total"),
    ).first()
    seconds = time.perf_counter() - t
    spark.stop()
    megabytes = sum(p.stat().st_size for p in Path(data).rglob("*.jpeg")) / 1e6
    return {"images": n, "decoded": row["ok"], "partitions": partitions,
            "listing_seconds": round(listing, 2), "seconds": round(seconds, 2),
            "images_per_second": round(n / seconds, 1), "megabytes": round(megabytes, 1)}


def pillow_vs_package(paths: list[str], repeats: int) -> dict:
    """Seconds to turn every file into 150x150 features, medians; the package in this process
    (threads = cores), Pillow in a pool of one process per core."""
    import multiprocessing as mp

    import numpy as np

    import xray_lab

    import pillow_features

    cores = os.cpu_count() or 1
    times = {"xray_lab.decode": [], "Pillow draft, one process per core": []}
    for _ in range(repeats):
        drop_caches()
        t = time.perf_counter()
        table = xray_lab.decode(paths)
        times["xray_lab.decode"].append(time.perf_counter() - t)
        drop_caches()
        t = time.perf_counter()
        with mp.get_context("fork").Pool(cores, initializer=pillow_features.init,
                                         initargs=(150, True)) as pool:
            rows = pool.map(pillow_features.features, paths, chunksize=16)
        times["Pillow draft, one process per core"].append(time.perf_counter() - t)
    ours_x = xray_lab.matrix(table)
    theirs = np.array(rows, np.float32)
    ok = np.array([e is None for e in table.column("error").to_pylist()])
    ok &= ~np.isnan(theirs).any(axis=1)  # rows either side rejected
    diff = float(np.abs(ours_x[ok] - theirs[ok]).mean()) * 255
    return {name: statistics.median(v) for name, v in times.items()} | {
        "images": len(paths), "mean_abs_diff_0_255": diff}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--master", default="local[*]")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--json")
    ap.add_argument("--throughput", action="store_true",
                    help="only time decoding every file in Spark (with_features), for the guide")
    ap.add_argument("--ours", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--throughput-run", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.ours:
        print(json.dumps(ours(args.data, args.master)))
        return
    if args.throughput:
        drop_caches()
        seconds, peak_mb, out = timed([sys.executable, __file__, "--data", args.data, "--master",
                                       args.master, "--throughput-run"],
                                      env=dict(os.environ, PYSPARK_PYTHON=sys.executable))
        result = json.loads(out.strip().splitlines()[-1]) | {"wall": round(seconds, 1),
                                                            "peak_mb": round(peak_mb)}
        print(json.dumps(result))
        return
    if args.throughput_run:
        print(json.dumps(throughput(args.data, args.master)))
        return

    python = sys.executable
    runs = {"report": [], "xray-lab": []}
    for r in range(args.repeats):
        for name, cmd in (
            ("report", [python, HERE / "report_spark.py", "--data", args.data, "--master", args.master]),
            ("xray-lab", [python, __file__, "--data", args.data, "--master", args.master, "--ours"]),
        ):
            drop_caches()
            seconds, peak_mb, out = timed(cmd, env=dict(os.environ, PYSPARK_PYTHON=python))
            result = json.loads(out.strip().splitlines()[-1])
            result["wall"], result["peak_mb"] = seconds, peak_mb
            runs[name].append(result)
            print(f"   run {r + 1}, {name}: {seconds:.1f} s, {peak_mb:.0f} MB", flush=True)

    def median_stage(name, stage):
        return statistics.median(run["stages"].get(stage, 0.0) for run in runs[name])

    extra = "logistic regression (beyond the report)"
    rows = []
    for stage in REPORT_STAGES:
        a, b = median_stage("report", stage), median_stage("xray-lab", stage)
        rows.append((stage, a, b))
    total_a = sum(a for _, a, _ in rows)
    total_b = sum(b for _, _, b in rows)
    dec_a = sum(a for s, a, _ in rows if s in DECODING)
    dec_b = sum(b for s, _, b in rows if s in DECODING)
    images = sum(runs["xray-lab"][0]["counts_before"].values())
    print(f"\n{images} images, master {args.master}, {args.repeats} run(s) each, medians\n")
    print("| stage | report's PySpark (s) | xray-lab in PySpark (s) | ratio |")
    print("|---|---:|---:|---:|")
    for stage, a, b in rows:
        print(f"| {stage} | {a:.1f} | {b:.1f} | {a / b if b else float('inf'):.1f}x |")
    print(f"| **decoding stages** (sizes, intensities) | {dec_a:.1f} | {dec_b:.1f} | {dec_a / dec_b:.1f}x |")
    print(f"| **whole pipeline** (sum of the stages) | {total_a:.1f} | {total_b:.1f} | {total_a / total_b:.1f}x |")
    print(f"| {extra} | | {median_stage('xray-lab', extra):.1f} | |")
    for name in runs:
        last = runs[name][-1]
        print(f"{name}: peak {statistics.median(r['peak_mb'] for r in runs[name]):.0f} MB; "
              f"metrics {json.dumps(last['metrics'])}; overlap/leaks "
              f"{last.get('test_validation_overlap', last.get('patients_in_two_splits'))}")

    paths = sorted(str(p) for p in Path(args.data).rglob("*.jpeg"))
    plain = pillow_vs_package(paths, max(args.repeats, 3))
    a, b = plain["Pillow draft, one process per core"], plain["xray_lab.decode"]
    print(f"\nplain Python, {len(paths)} files to 150x150 features, medians of {max(args.repeats, 3)}:")
    print(f"| Pillow draft, one process per core | {a:.2f} s | {len(paths) / a:.0f} img/s |")
    print(f"| xray_lab.decode | {b:.2f} s | {len(paths) / b:.0f} img/s | {a / b:.1f}x |")
    print(f"mean |difference| of the features: {plain['mean_abs_diff_0_255']} of 255")

    line = json.dumps({"images": images, "master": args.master, "runs": runs, "plain": plain})
    print(line)
    if args.json:
        Path(args.json).write_text(line + "\n")


if __name__ == "__main__":
    main()
