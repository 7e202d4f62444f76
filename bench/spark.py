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
   - the control (`--no-control` leaves it out): `report_pipeline`'s plan with Pillow's
     `draft` decoding in the same `mapInArrow` (`pillow_features.arrow_decode`, through
     `with_features(decoder=...)`), so that the table separates what the plan gains (the
     report's code against our plan with Pillow) from what the decoder gains (our plan with
     Pillow against our plan with the crate's decoder).
   The ratios are quoted as the ratio of the medians and the min-max of the per-repeat ratios.
   A run whose page cache cannot be dropped (not root) is refused unless `--warm` is given; each
   run records which it had.
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

#: The control: xray_lab.spark's plan with Pillow decoding inside the same mapInArrow.
CONTROL = "our plan, Pillow"
REPORT_STAGES = ["start Spark", "load and count", "resplit and count", "image sizes",
                 "pixel intensities", "features and training", "evaluation"]
DECODING = ["image sizes", "pixel intensities"]


def ours(data: str, master: str, pillow: bool = False) -> dict:
    """One run of the pipeline on xray_lab.spark, in this process; `pillow`: the control, the
    same plan with Pillow's `draft` decoding inside the same `mapInArrow`
    (`pillow_features.arrow_decode`; the workers import it from this folder, on PYTHONPATH)."""
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
    decoder = None
    if pillow:
        import pillow_features
        decoder = pillow_features.arrow_decode
    result = xs.report_pipeline(spark, data, decoder=decoder)
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
    ap.add_argument("--warm", action="store_true",
                    help="measure with a warm page cache when it cannot be dropped (not root); "
                         "without it such a run is refused")
    ap.add_argument("--no-control", action="store_true",
                    help="leave out the control run (our plan with Pillow inside mapInArrow)")
    ap.add_argument("--ours", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--pillow", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--throughput-run", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.ours:
        print(json.dumps(ours(args.data, args.master, pillow=args.pillow)))
        return

    def cold() -> str:
        """The page cache dropped before a run ("dropped"), or, told so, left warm ("warm")."""
        if drop_caches():
            return "dropped"
        if not args.warm:
            sys.exit("cannot drop the page cache (writing /proc/sys/vm/drop_caches needs root): "
                     "run as root, or pass --warm to measure with the files in memory")
        return "warm"

    if args.throughput:
        cache = cold()
        seconds, peak_mb, out = timed([sys.executable, __file__, "--data", args.data, "--master",
                                       args.master, "--throughput-run"],
                                      env=dict(os.environ, PYSPARK_PYTHON=sys.executable))
        result = json.loads(out.strip().splitlines()[-1]) | {"wall": round(seconds, 1),
                                                            "peak_mb": round(peak_mb),
                                                            "page_cache": cache}
        print(json.dumps(result))
        return
    if args.throughput_run:
        print(json.dumps(throughput(args.data, args.master)))
        return

    python = sys.executable
    ours_cmd = [python, __file__, "--data", args.data, "--master", args.master, "--ours"]
    pipelines = [("report", [python, HERE / "report_spark.py", "--data", args.data,
                             "--master", args.master]),
                 ("xray-lab", ours_cmd)]
    if not args.no_control:
        pipelines.append((CONTROL, ours_cmd + ["--pillow"]))
    runs = {name: [] for name, _ in pipelines}
    # The workers of the control import pillow_features from here.
    env = dict(os.environ, PYSPARK_PYTHON=python,
               PYTHONPATH=os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])))
    for r in range(args.repeats):
        for name, cmd in pipelines:  # alternating: the machine's noise hits each alike
            cache = cold()
            seconds, peak_mb, out = timed(cmd, env=env)
            result = json.loads(out.strip().splitlines()[-1])
            result["wall"], result["peak_mb"], result["page_cache"] = seconds, peak_mb, cache
            runs[name].append(result)
            print(f"   run {r + 1}, {name}: {seconds:.1f} s, {peak_mb:.0f} MB, page cache {cache}",
                  flush=True)

    def median_stage(name, stage):
        return statistics.median(run["stages"].get(stage, 0.0) for run in runs[name])

    def spread(a, b, stages):
        """The ratio a/b of the summed stages in each repeat (runs r of both), as min-max."""
        ratios = [sum(x["stages"].get(s, 0.0) for s in stages)
                  / sum(y["stages"].get(s, 0.0) for s in stages)
                  for x, y in zip(runs[a], runs[b])]
        return f"{min(ratios):.1f}-{max(ratios):.1f}x"

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
    caches = sorted({run["page_cache"] for rs in runs.values() for run in rs})
    print(f"\n{images} images, master {args.master}, {args.repeats} run(s) each, alternating, "
          f"page cache {' and '.join(caches)} before each run; medians (ratio: of the medians, "
          "then min-max of the per-repeat ratios)\n")
    control = CONTROL in runs
    print("| stage | report's PySpark (s) | xray-lab in PySpark (s) | ratio |"
          + (" our plan, Pillow decoding (s) |" if control else ""))
    print("|---|---:|---:|---:|" + ("---:|" if control else ""))
    for stage, a, b in rows:
        c = f" {median_stage(CONTROL, stage):.1f} |" if control else ""
        print(f"| {stage} | {a:.1f} | {b:.1f} | {a / b if b else float('inf'):.1f}x |{c}")
    for label, stages, a, b in (("**decoding stages** (sizes, intensities)", DECODING, dec_a, dec_b),
                                ("**whole pipeline** (sum of the stages)", REPORT_STAGES,
                                 total_a, total_b)):
        c = (f" {sum(median_stage(CONTROL, s) for s in stages):.1f} |") if control else ""
        print(f"| {label} | {a:.1f} | {b:.1f} | {a / b:.1f}x ({spread('report', 'xray-lab', stages)}) |{c}")
    print(f"| {extra} | | {median_stage('xray-lab', extra):.1f} | |"
          + (f" {median_stage(CONTROL, extra):.1f} |" if control else ""))
    if control:
        # What the plan gains (the report's code against our plan with Pillow) and what the
        # decoder gains (our plan with Pillow against our plan with the crate's decoder).
        print(f"\ndecoding stages: the plan {spread('report', CONTROL, DECODING)} "
              f"(report / our plan with Pillow), the decoder {spread(CONTROL, 'xray-lab', DECODING)} "
              f"(our plan with Pillow / with the crate's); per-repeat min-max")
    for name in runs:
        last = runs[name][-1]
        print(f"{name}: peak {statistics.median(r['peak_mb'] for r in runs[name]):.0f} MB; "
              f"metrics {json.dumps(last['metrics'])}; overlap/leaks "
              f"{last.get('test_validation_overlap', last.get('patients_in_two_splits'))}")

    paths = sorted(str(p) for p in Path(args.data).rglob("*.jpeg"))
    cold()  # refuses here too unless the cache can be dropped or --warm was given
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
