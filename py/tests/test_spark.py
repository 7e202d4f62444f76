"""xray_lab.spark on real Spark: local mode with 2 workers, and a standalone cluster (a master
and a worker on the loopback address, started here and stopped at the end)."""
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

pyspark = pytest.importorskip("pyspark")
from pyspark.sql import SparkSession  # noqa: E402
from pyspark.sql import functions as F  # noqa: E402

import xray_lab  # noqa: E402
from conftest import as_rows, check_equal_to_command  # noqa: E402
from xray_lab import spark as xs  # noqa: E402

# Spark's Python workers must be this interpreter (the one with xray_lab installed).
os.environ["PYSPARK_PYTHON"] = sys.executable
os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable


def session(master: str, name: str, **conf) -> SparkSession:
    builder = SparkSession.builder
    for key, value in conf.items():
        builder = builder.config(key, value)
    spark = (
        builder.master(master).appName(name)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.pyspark.python", sys.executable)
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


@pytest.fixture(scope="module")
def spark():
    spark = session("local[2]", "xray-lab tests")
    yield spark
    spark.stop()


def test_read_images_the_reports_way(spark, real_sample):
    images = xs.read_images(spark, str(real_sample))
    counts = {(r["split"], r["class"], r["label"]): r["count"]
              for r in images.groupBy("split", "class", "label").count().collect()}
    assert counts == {("val", "NORMAL", 0): 9, ("val", "PNEUMONIA", 1): 9}


def test_features_in_spark_equal_the_command(spark, real_sample, expected):
    decoded = xs.with_features(xs.read_images(spark, str(real_sample)))
    assert "content" not in decoded.columns
    rows = as_rows(decoded)
    assert len(rows) == 18  # the corrupt files are rows with an error: the job did not fail
    check_equal_to_command(rows, expected, real_sample)


def test_files_read_by_the_decoder_or_shipped_by_spark_give_the_same_rows(spark, real_sample,
                                                                          expected, tmp_path):
    images = xs.read_images(spark, str(real_sample))
    # Local files: the decoder reads them itself ("auto"), and the resplit's join keeps that.
    largest = max(p.stat().st_size for p in real_sample.rglob("*.jpeg"))
    said = {"xray_lab.local_files": True, "xray_lab.largest_file": largest, "xray_lab.files": 18}
    assert images.schema["path"].metadata == said
    assert xs.resplit(images).schema["path"].metadata == said
    # A frame without that metadata (Spark Connect keeps none) is judged by its first path.
    bare = images.select(F.concat("path", F.lit("")).alias("path"), "content")
    assert xs._reads_by_path(bare) and xs._largest_file(bare.select("path")) == 0
    for read in ("path", "content"):
        check_equal_to_command(as_rows(xs.with_features(images, read=read)), expected, real_sample)
        facts = {r["path"]: (r["width"], r["height"], r["error"] is None)
                 for r in xs.with_facts(images, read=read).collect()}
        assert len(facts) == 18 and sum(ok for *_, ok in facts.values()) == 17  # the text file
    with pytest.raises(ValueError, match="read must be"):
        xs.with_features(images, read="bytes")

    # Hadoop's paths are not escaped: a name with a space, a percent sign and a hash.
    folder = tmp_path / "odd" / "val" / "NORMAL"
    folder.mkdir(parents=True)
    source = sorted((real_sample / "val" / "NORMAL").glob("NORMAL2-*.jpeg"))[0]
    odd = folder / "a b%20#c.jpeg"
    odd.write_bytes(source.read_bytes())
    images = xs.read_images(spark, str(tmp_path / "odd"))
    [row] = xs.with_features(images, read="path").collect()
    assert row["error"] is None and row["mean"] == expected["rows"][str(source)]["mean"]


def test_content_batches_are_sized_from_the_largest_file(spark, real_sample, expected):
    # Spark 3.5 counts Arrow batches in rows (10,000 by default): reading `content`, the rows
    # are lowered to what the largest file allows in BATCH_BYTES, once, and said.
    key = "spark.sql.execution.arrow.maxRecordsPerBatch"
    spark.conf.unset(key)
    images = xs.read_images(spark, str(real_sample))
    largest = max(p.stat().st_size for p in real_sample.rglob("*.jpeg"))
    with pytest.warns(UserWarning, match="maxRecordsPerBatch"):
        decoded = xs.with_features(images, read="content")
    assert spark.conf.get(key) == str(xs.BATCH_BYTES // largest)
    check_equal_to_command(as_rows(decoded), expected, real_sample)
    # Small enough already: nothing is set (and nothing said).
    spark.conf.set(key, "8")
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        xs.with_facts(images, read="content")
    assert spark.conf.get(key) == "8"
    spark.conf.unset(key)


def test_a_tiny_batch_size_gives_the_same_rows(spark, real_sample, expected):
    key = "spark.sql.execution.arrow.maxRecordsPerBatch"
    before = spark.conf.get(key, None)
    by_path = xs.with_features(xs.read_images(spark, str(real_sample)), records_per_batch=1)
    check_equal_to_command(as_rows(by_path), expected, real_sample)
    # Paths alone go in: the session's setting, which every Arrow UDF shares, is left alone.
    assert spark.conf.get(key, None) == before
    # Reading content, the batches going in must stay under Arrow's 2 GiB: it is set, and said.
    with pytest.warns(UserWarning, match="maxRecordsPerBatch"):
        decoded = xs.with_features(xs.read_images(spark, str(real_sample)), records_per_batch=1,
                                   read="content")
    assert spark.conf.get(key) == "1"
    check_equal_to_command(as_rows(decoded), expected, real_sample)
    facts = xs.with_facts(xs.read_images(spark, str(real_sample)), records_per_batch=3)
    assert "features" not in facts.columns and "mean" not in facts.columns
    stats = xs.with_features(xs.read_images(spark, str(real_sample)), features=False)
    assert "features" not in stats.columns
    means = {r["path"]: r["mean"] for r in stats.collect()}
    assert all(means["file:" + p] == w["mean"] for p, w in expected["rows"].items())
    sizes = {r["path"]: (r["width"], r["height"], r["mode"]) for r in facts.collect()}
    from PIL import Image
    for path in expected["rows"]:
        with Image.open(path) as img:
            assert sizes["file:" + path] == (*img.size, img.mode)


def test_a_file_the_decoder_cannot_read_fails_the_task_unless_told_otherwise(spark, real_sample):
    # A path the decoder cannot open (here one on S3 read by path; on a cluster, a mount missing
    # on a worker): by default the task fails, so Spark retries it and the job does not
    # "succeed" on rows of I/O errors; a file that reads but does not decode stays a row.
    good = "file:" + str(sorted((real_sample / "val" / "NORMAL").glob("*.jpeg"))[0])
    truncated = "file:" + str(real_sample / "val" / "NORMAL" / "truncated.jpeg")
    remote = "s3a://bucket/chest_xray/val/NORMAL/IM-0001-0001.jpeg"
    images = spark.createDataFrame([(good,), (truncated,), (remote,)], ["path"]).coalesce(1)
    with pytest.raises(Exception, match="s3a://bucket"):
        xs.with_features(images, read="path").collect()
    rows = {r["path"]: r["error"]
            for r in xs.with_features(images, read="path", on_error="row").collect()}
    assert rows[good] is None and rows[truncated] is not None and rows[remote] is not None
    kept = xs.with_features(images, read="path", features=False, on_error="drop").collect()
    assert [r["path"] for r in kept] == [good]
    with pytest.raises(ValueError, match="on_error"):
        xs.with_features(images, read="path", on_error="ignore")


def test_an_nih_style_dataset_labels_and_patients_from_a_table(spark, real_sample, tmp_path):
    # NIH ChestX-ray14's layout: one flat folder of PNG files (00000001_000.png: patient 1,
    # image 0), whose names give no class and no patient by the Kaggle rule, and a CSV with the
    # label and the patient of each. Made small here: 8 patients of 3 images.
    import csv
    import warnings
    from PIL import Image
    sources = [p for p in sorted(real_sample.rglob("*.jpeg")) if p.name[0].isupper()]
    folder, rows = tmp_path / "nih" / "images", []
    folder.mkdir(parents=True)
    for k in range(24):
        patient, finding = k // 3, ("No Finding", "Pneumonia")[k // 3 % 2]
        name = f"{patient + 1:08d}_{k % 3:03d}." + ("PNG" if k == 0 else "png")
        with Image.open(sources[k % len(sources)]) as img:
            img.convert("L").save(folder / name, format="PNG")
        if k != 23:  # one image the table does not list
            rows.append({"Image Index": name, "Finding Labels": finding,
                         "Patient ID": str(patient + 1)})
    rows.append(rows[0] | {"Image Index": "00009999_000.png"})  # listed, not on disk
    with open(tmp_path / "Data_Entry.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, ["Image Index", "Finding Labels", "Patient ID"])
        writer.writeheader()
        writer.writerows(rows)
    with pytest.raises(FileNotFoundError, match="no file matching"):
        xs.read_images(spark, str(folder))  # the report's *.jpeg glob
    images = xs.read_images(spark, str(folder), extensions=xray_lab.DEFAULT_EXTENSIONS)
    assert images.count() == 24  # .png and .PNG alike
    table = (spark.read.option("header", True).csv(str(tmp_path / "Data_Entry.csv"))
             .withColumnRenamed("Image Index", "name"))
    with pytest.warns(UserWarning, match="1 images have no row in the table"):
        labelled = xs.with_labels(images, table, label="Finding Labels", patient="Patient ID")
    got = {r["name"]: r for r in labelled.collect()}
    assert len(got) == 23 and labelled.columns[:8] == images.columns
    assert {(r["class"], r["label"]) for r in got.values()} == {("No Finding", 0), ("Pneumonia", 1)}
    assert got["00000002_001.png"]["class"] == "Pneumonia"
    assert {r["split"] for r in got.values()} == {"train"}
    assert labelled.schema["path"].metadata["xray_lab.local_files"]
    with pytest.raises(ValueError, match="more than one row"):
        xs.with_labels(images, table.unionByName(table.limit(1)), label="Finding Labels")
    # Without a patient column the names give none: the resplit says so.
    with pytest.warns(UserWarning, match="23 images have no patient"):
        xs.resplit(labelled, test=6, validation=6)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        split = xs.resplit(labelled, test=6, validation=6, patient="Patient ID")
    got = split.select("patient", "subset").distinct().collect()
    assert len(got) == 8, "a patient in two subsets"
    assert {r["subset"] for r in got} == {"train", "test", "validation"}
    decoded = xs.with_features(split, features=False).collect()
    assert len(decoded) == 23 and all(r["error"] is None for r in decoded)


def test_another_decoder_runs_in_the_same_plan(spark, real_sample):
    # What bench/spark.py's control run does with Pillow: the plan stays, the decoder changes.
    def marked(paths, **settings):
        table = xray_lab.decode(paths, **settings)
        at = table.schema.get_field_index("format")
        return table.set_column(at, "format", pa.array(["marked"] * len(paths)))

    images = xs.read_images(spark, str(real_sample))
    rows = xs.with_features(images, features=False, decoder=marked, on_error="row").collect()
    assert len(rows) == 18 and {r["format"] for r in rows} == {"marked"}
    with pytest.raises(ValueError, match="decoder= reads by path"):
        xs.with_features(images, read="content", decoder=marked)


def test_too_many_failed_files_fail_the_job_with_their_reasons(spark, real_sample):
    decoded = xs.with_facts(xs.read_images(spark, str(real_sample)), on_error="row")
    summary = xs.error_summary(decoded)
    assert (summary["rows"], summary["count"]) == (18, 1)  # the text file; the cut JPEG's header reads
    assert summary["examples"] == [("file:" + str(real_sample / "val" / "PNEUMONIA" / "notes.jpeg"),
                                    summary["examples"][0][1])]
    assert xs.check_errors(decoded, max_share=0.1) == summary
    with pytest.raises(xs.TooManyErrors, match=r"(?s)1 of 18 files failed \(5.56%.*notes\.jpeg"):
        xs.check_errors(decoded, max_share=0.05)
    with pytest.raises(ValueError, match="max_share"):
        xs.check_errors(decoded, max_share=5)


def test_by_path_each_task_decodes_a_like_share_of_the_bytes(spark, synthetic):
    # binaryFile packs files largest first, so the partitions read_images merges differ in
    # bytes; by path the rows are dealt out round-robin before decoding.
    images = xs.read_images(spark, str(synthetic))
    decoded = xs.with_features(images, read="path", features=False)
    shares = [r["bytes"] for r in decoded.groupBy(F.spark_partition_id().alias("task"))
              .agg(F.sum("length").alias("bytes")).collect()]
    assert len(shares) == images.rdd.getNumPartitions() == 2
    assert max(shares) < 1.2 * min(shares), shares
    assert decoded.count() == images.count()
    # Beyond DEAL_SORTED_UP_TO files, a hash of the path deals them: no sorted window (which
    # moves every path row to one partition), every row kept, the same partitions.
    assert "Window" in xs._deal(images, 2)._jdf.queryExecution().optimizedPlan().toString()
    hashed = xs._deal(images, 2, sorted_up_to=10)
    assert "Window" not in hashed._jdf.queryExecution().optimizedPlan().toString()
    assert hashed.rdd.getNumPartitions() == 2
    assert sorted(r["path"] for r in hashed.select("path").collect()) == \
        sorted(r["path"] for r in images.select("path").collect())


def test_patients_in_spark_follow_the_crates_rule(spark, synthetic, real_sample):
    names = ["IM-0115-0001.jpeg", "IM-0115-0002.JPEG", "NORMAL2-IM-1427-0001.jpeg",
             "person1946_bacteria_4874.jpeg", "person1_virus_6.jpeg", "person22_virus_55.jpg",
             "personal_photo.jpeg", "person_1.jpeg", "XIM-0001-0001.jpeg", "IM-.jpeg",
             "IM-12ab.jpeg", "photo.png", "", "noextension", "a.b.IM-7.jpeg", "x-IM-3-IM-4.jpeg",
             "person_IM-12-1.jpeg", "person7"]
    names += [p.name for root in (synthetic, real_sample) for p in root.rglob("*.jpeg")]
    df = spark.createDataFrame([(n,) for n in names], "name string")
    got = [r["patient"] for r in df.select(xs.patient_column("name").alias("patient")).collect()]
    assert got == xray_lab.patient_ids(names)
    assert got[:4] == ["IM-0115", "IM-0115", "IM-1427", "person1946"]


def test_resplit_is_disjoint_by_patient_and_deterministic(spark, synthetic):
    images = xs.read_images(spark, str(synthetic))
    n = {r["split"]: r["count"] for r in images.groupBy("split").count().collect()}
    split = xs.resplit(images, test=40, validation=60, seed=7)
    rows = split.select("path", "patient", "subset", "split").collect()
    assert len(rows) == sum(n.values()) and len({r["path"] for r in rows}) == len(rows)
    per_patient = {}
    for r in rows:
        per_patient.setdefault(r["patient"], set()).add(r["subset"])
    assert all(len(s) == 1 for s in per_patient.values()), "a patient in two splits"
    got = {s: sum(1 for r in rows if r["subset"] == s) for s in ("train", "test", "validation")}
    # Whole patients are moved, so a split may end short of its count by less than a patient.
    largest = max(sum(1 for r in rows if r["patient"] == p) for p in per_patient)
    assert n["test"] + 40 - largest < got["test"] <= n["test"] + 40
    assert n["val"] + 60 - largest < got["validation"] <= n["val"] + 60
    # The defaults: the report's 1,000 and 2,000 as shares of Kaggle's 5,216 training images.
    default = xs.resplit(images).groupBy("subset").count().collect()
    got = {r["subset"]: r["count"] for r in default}
    share = n["train"] / 5216
    assert n["test"] + round(1000 * share) - largest < got["test"] <= n["test"] + round(1000 * share)
    assert got["train"] >= n["train"] - round(1000 * share) - round(2000 * share) > 0
    again = xs.resplit(xs.read_images(spark, str(synthetic)), test=40, validation=60, seed=7)
    assert {(r["path"], r["subset"]) for r in again.select("path", "subset").collect()} == \
        {(r["path"], r["subset"]) for r in rows}


def persisted(spark) -> int:
    return spark.sparkContext._jsc.getPersistentRDDs().size()


def test_the_reports_pipeline_on_mllib(spark, synthetic):
    before = persisted(spark)
    result = xs.report_pipeline(spark, str(synthetic), size=32, test=40, validation=60)
    assert result["patients_in_two_splits"] == 0
    assert set(result["stages"]) == {"load and count", "resplit and count", "image sizes",
                                     "pixel intensities", "features and training", "evaluation",
                                     "logistic regression (beyond the report)"}
    assert set(result["intensity_stats"]) == {"train", "test", "validation"}
    assert result["rejected"] == 0 and result["rejects"] == []
    # What it kept in memory (the listing, the training and held-out vectors) it let go.
    assert persisted(spark) == before
    for name in ("test", "validation"):
        m = result["metrics"][name]
        assert 0 < m["rmse"] < 0.6 and m["r2"] < 1
        # The synthetic phantom's classes are separable enough for a linear model on 32x32.
        assert m["logistic_roc_auc"] > 0.7 and m["logistic_accuracy"] > 0.6


def test_the_pipelines_statistics_are_sparks_and_the_pixels_own(spark, real_sample, expected):
    # The pipeline aggregates its one pass in Spark: the same numbers as Spark's
    # min/max/mean/stddev, and the pooled pixel statistics equal those of every pixel.
    decoded = xs.with_features(xs.read_images(spark, str(real_sample)), features=False,
                               on_error="row")
    decoded = decoded.withColumn("subset", F.col("split"))
    [want] = decoded.where("width IS NOT NULL").groupBy("subset").agg(
        *[f(c).alias(f"{c}_{f.__name__}") for c in ("width", "height")
          for f in (F.min, F.max, F.mean, F.stddev)]).collect()
    sizes, intensities, errors = xs._statistics(decoded)
    got = sizes["val"]
    assert got.keys() == want.asDict().keys()
    for k, v in want.asDict().items():
        assert got[k] == pytest.approx(v, rel=1e-12), k
    pixels = np.concatenate([np.rint(np.array(w["features"], np.float64) * 255)
                             for w in expected["rows"].values()])
    stats = intensities["val"]
    assert (stats["min"], stats["max"]) == (pixels.min(), pixels.max())
    assert stats["mean"] == pytest.approx(pixels.mean(), rel=1e-9)
    assert stats["std"] == pytest.approx(pixels.std(), rel=1e-9)
    assert (errors["rows"], errors["count"], errors["read_headers"]) == (18, 2, {"val": 17})
    assert {p.rsplit("/", 1)[1] for p, _ in errors["examples"]} == {"truncated.jpeg", "notes.jpeg"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A standalone Spark cluster on 127.0.0.1: one master, one worker with 2 cores."""
    home = Path(pyspark.__file__).parent
    logs = tmp_path_factory.mktemp("spark-logs")
    port, web = free_port(), free_port()
    env = dict(os.environ, SPARK_HOME=str(home), SPARK_LOG_DIR=str(logs),
               SPARK_LOCAL_IP="127.0.0.1", PYSPARK_PYTHON=sys.executable)
    spark_class = str(home / "bin" / "spark-class")
    master = subprocess.Popen(
        [spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
         "--port", str(port), "--webui-port", str(web)],
        env=env, stdout=open(logs / "master.log", "w"), stderr=subprocess.STDOUT)
    url = f"spark://127.0.0.1:{port}"
    worker = subprocess.Popen(
        [spark_class, "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
         "--cores", "2", "--memory", "2g", "--webui-port", str(free_port()), url],
        env=env, stdout=open(logs / "worker.log", "w"), stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 120
        while True:
            try:
                state = urllib.request.urlopen(f"http://127.0.0.1:{web}/json/", timeout=2).read()
                if b'"aliveworkers" : 1' in state or b'"aliveworkers": 1' in state:
                    break
            except OSError:
                pass
            if time.time() > deadline or master.poll() is not None or worker.poll() is not None:
                raise RuntimeError("the standalone cluster did not start:\n"
                                   + (logs / "master.log").read_text()[-2000:]
                                   + (logs / "worker.log").read_text()[-2000:])
            time.sleep(0.5)
        yield url
    finally:
        for p in (worker, master):
            p.terminate()
        for p in (worker, master):
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()


def test_on_a_standalone_cluster(spark, cluster, real_sample, expected):
    spark.stop()  # one SparkContext per process: the local session gives way to the cluster's
    # The cluster's workers start from xray-lab's daemon (the local session's from Spark's own).
    remote = session(cluster, "xray-lab on a cluster",
                     **{"spark.python.daemon.module": xs.DAEMON_MODULE})
    try:
        assert remote.sparkContext.master == cluster
        decoded = xs.with_features(xs.read_images(remote, str(real_sample)), records_per_batch=4)
        check_equal_to_command(as_rows(decoded), expected, real_sample)

        def where_from(batches):
            import pyspark
            for batch in batches:
                yield pa.RecordBatch.from_arrays(
                    [pa.array([pyspark.__file__] * batch.num_rows)], names=["pyspark"])

        # The workers imported the installed pyspark (compiled once), not Spark's pyspark.zip.
        origins = {r["pyspark"] for r in remote.range(4, numPartitions=2)
                   .mapInArrow(where_from, "pyspark string").collect()}
        assert origins == {pyspark.__file__}, origins
        data = xs.to_vectors(decoded.where("error IS NULL"))
        assert data.select(F.col("vector")).first()["vector"].size == 150 * 150
    finally:
        remote.stop()


def test_unity_catalog_volumes_are_read_by_path():
    # Databricks mounts a Unity Catalog volume on every node at /Volumes/..., and binaryFile
    # lists it as dbfs:/Volumes/...: both are read by the decoder itself, as local files are.
    assert xs._local_path("dbfs:/Volumes/main/xray/raw/train/NORMAL/a.jpeg") == \
        "/Volumes/main/xray/raw/train/NORMAL/a.jpeg"
    assert xs._local_path("/Volumes/main/xray/raw/a.jpeg") == "/Volumes/main/xray/raw/a.jpeg"
    assert xs._local_path("file:/data/a b.jpeg") == "/data/a b.jpeg"
    assert xs._local_path("s3a://bucket/a.jpeg") == "s3a://bucket/a.jpeg"
    assert xs._is_local("dbfs:/Volumes/main/xray/raw/a.jpeg")
    assert xs._is_local("file:/data/a.jpeg")
    for other in ("s3a://bucket/chest_xray/a.jpeg", "abfss://c@a.dfs.core.windows.net/a.jpeg",
                  "gs://bucket/a.jpeg", "hdfs://nn:8020/a.jpeg", "dbfs:/FileStore/a.jpeg"):
        assert not xs._is_local(other), other
