"""xray_lab.spark on Spark Connect: what Databricks shared and serverless compute run, where the
client has no SparkContext, no RDDs and no JVM. pyspark 4's `SparkSession.builder.remote("local[2]")`
starts a local Connect server and talks to it over gRPC, as a Databricks notebook does.

scripts/python.sh runs this file in an environment of its own (py/requirements-connect.txt:
pyspark 4 with its Connect client) with XRAY_LAB_CONNECT=1, under which it must run; with
pyspark 3.5 (the other tests' environment) it is skipped."""
import os
import sys
import warnings

import pytest

pyspark = pytest.importorskip("pyspark")
if int(pyspark.__version__.split(".")[0]) < 4:
    if os.environ.get("XRAY_LAB_CONNECT"):
        pytest.fail(f"XRAY_LAB_CONNECT is set but pyspark is {pyspark.__version__}, not 4.x",
                    pytrace=False)
    pytest.skip("Spark Connect's local server needs pyspark 4", allow_module_level=True)

from pyspark.sql import SparkSession  # noqa: E402

from conftest import as_rows, check_equal_to_command  # noqa: E402
from xray_lab import spark as xs  # noqa: E402

os.environ["PYSPARK_PYTHON"] = sys.executable


@pytest.fixture(scope="module")
def spark():
    spark = (SparkSession.builder.remote("local[2]")
             .config("spark.sql.shuffle.partitions", "4").getOrCreate())
    yield spark
    spark.stop()


def test_a_connect_session_has_no_spark_context(spark):
    from pyspark.sql.connect.session import SparkSession as ConnectSession
    assert isinstance(spark, ConnectSession)
    with pytest.raises(Exception):
        spark.sparkContext  # what read_images and with_features must never need
    assert xs._is_connect(spark) and xs._is_connect(spark.range(1))
    assert xs._default_parallelism(spark) is None and xs._partitions(spark.range(1)) == 0


def test_the_pipeline_on_connect_gives_the_commands_rows(spark, real_sample, expected):
    with warnings.catch_warnings():
        # No session setting changed: Spark 4 sizes Arrow batches in bytes itself.
        warnings.simplefilter("error", UserWarning)
        images = xs.read_images(spark, str(real_sample))
        counts = {(r["split"], r["class"], r["label"]): r["count"]
                  for r in images.groupBy("split", "class", "label").count().collect()}
        assert counts == {("val", "NORMAL", 0): 9, ("val", "PNEUMONIA", 1): 9}
        # Connect keeps no column metadata: the first path says the files are local.
        assert xs._reads_by_path(images)
        for read in ("auto", "content"):
            decoded = xs.with_features(images, read=read)
            check_equal_to_command(as_rows(decoded), expected, real_sample)
        assert spark.conf.get("spark.sql.execution.arrow.maxRecordsPerBatch") == "10000"
    with pytest.raises(Exception, match="s3a://bucket"):
        xs.with_features(spark.createDataFrame([("s3a://bucket/a.jpeg",)], ["path"]),
                         read="path").collect()


def test_resplit_and_mllib_on_connect(spark, synthetic):
    result = xs.report_pipeline(spark, str(synthetic), size=32, test=40, validation=60)
    assert result["patients_in_two_splits"] == 0 and result["rejected"] == 0
    assert set(result["intensity_stats"]) == {"train", "test", "validation"}
    for name in ("test", "validation"):
        assert result["metrics"][name]["logistic_roc_auc"] > 0.7
