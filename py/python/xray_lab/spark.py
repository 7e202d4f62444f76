"""xray-lab inside PySpark: the report's pipeline with the crate's decoder in `mapInArrow`.

    from xray_lab import spark as xs
    images = xs.read_images(spark, "chest_xray")            # binaryFile, recursive, *.jpeg
    images = xs.resplit(images, test=1000, validation=2000)  # the report's resplit, done right
    decoded = xs.with_features(images)                       # features, intensities, header facts
    train = xs.to_vectors(decoded.where("split = 'train' AND error IS NULL"))
    LinearRegression(featuresCol="vector", labelCol="label", regParam=0.1).fit(train)

What matters at scale, and what these helpers do about it:
- **Arrow's 2 GiB limit.** Spark hands `mapInArrow` batches of
  `spark.sql.execution.arrow.maxRecordsPerBatch` rows (default 10,000: 10,000 X-rays of 1 MB
  would overflow a binary column's 32-bit offsets). `with_features` sets it to
  `records_per_batch` (default 256) and also caps the rows of each batch it returns, so neither
  the files going in nor the features coming out come near 2 GiB.
- **One thread per Python worker** (`threads=1`): Spark already runs one task per core; the
  decoder then runs on the worker's own thread, with no thread pool that a fork could break.
- **Columns are read only when needed.** `binaryFile` reads a file's bytes only when `content`
  is used; `read_images` and `resplit` use paths alone.
"""

from __future__ import annotations

import time

import pyarrow as pa

import xray_lab

__all__ = ["read_images", "resplit", "with_features", "to_vectors", "features_schema",
           "report_pipeline"]

#: Rows per Arrow batch, in and out: 256 X-rays of up to 8 MB stay far below Arrow's 2 GiB.
DEFAULT_RECORDS_PER_BATCH = 256
_MAX_BATCH_BYTES = 1 << 30


def read_images(spark, root: str, glob: str = "*.jpeg", *, recursive: bool = True):
    """The report's load: `binaryFile` on `root` with a recursive glob, plus the folder facts
    of a `subset/class/file` tree: `subset` and `class` (the two folders above each file),
    `label` (the class's index in sorted order: NORMAL 0, PNEUMONIA 1) and `name`.

    Columns: path, name, subset, class, label, length, modificationTime, content. Listing the
    classes reads no file contents."""
    from pyspark.sql import functions as F

    df = (
        spark.read.format("binaryFile")
        .option("pathGlobFilter", glob)
        .option("recursiveFileLookup", str(recursive).lower())
        .load(root)
    )
    parts = F.split(F.col("path"), "/")
    df = (
        df.withColumn("name", F.element_at(parts, -1))
        .withColumn("class", F.element_at(parts, -2))
        .withColumn("subset", F.element_at(parts, -3))
    )
    classes = sorted(r["class"] for r in df.select("class").distinct().collect())
    if not classes:
        raise FileNotFoundError(f"no file matching {glob!r} under {root}")
    label = F.create_map(*[x for i, c in enumerate(classes) for x in (F.lit(c), F.lit(i))])
    df = df.withColumn("label", label[F.col("class")].cast("int"))
    return df.select("path", "name", "subset", "class", "label", "length", "modificationTime",
                     "content")


def resplit(images, *, test: int = 1000, validation: int = 2000, seed: int = 42,
            train_subset: str = "train", test_subset: str = "test", val_subset: str = "val"):
    """The report's resplit, done right: `test` and `validation` more images drawn from
    `train_subset` into the new test and validation sets, with no image in two of them and no
    patient either (the report's two `sample` calls overlapped, and people's images fell on
    both sides). Adds `patient` (the crate's rule on the file name; the path itself when the
    name names none) and `split` (train, test or validation).

    A patient with any image in the original test folder goes to test with all their images,
    one in the original val folder to validation; the other patients are drawn in a seeded
    order (xxhash64 of the patient and `seed`) until test has `test` more images and
    validation `validation` more. Deterministic: the same seed gives the same split."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType

    @F.udf(StringType())
    def patient(name):
        return xray_lab.patient_ids([name])[0]

    df = images.withColumn("patient", F.coalesce(patient("name"), F.col("path")))
    groups = df.groupBy("patient").agg(
        F.count(F.lit(1)).alias("n"),
        F.max((F.col("subset") == test_subset).cast("int")).alias("in_test"),
        F.max((F.col("subset") == val_subset).cast("int")).alias("in_val"),
        F.max((F.col("subset") == train_subset).cast("int")).alias("in_train"),
    )
    drawn = groups.where("in_test = 0 AND in_val = 0 AND in_train = 1")
    order = Window.orderBy(F.xxhash64("patient", F.lit(seed)), "patient")
    drawn = drawn.withColumn("upto", F.sum("n").over(order))
    drawn = drawn.withColumn(
        "split",
        F.when(F.col("upto") <= test, "test")
        .when(F.col("upto") <= test + validation, "validation")
        .otherwise("train"),
    ).select("patient", "split")
    fixed = groups.where("in_test = 1 OR in_val = 1").select(
        "patient", F.when(F.col("in_test") == 1, "test").otherwise("validation").alias("split"))
    other = groups.where("in_test = 0 AND in_val = 0 AND in_train = 0").select(
        "patient", F.lit("train").alias("split"))
    splits = drawn.unionByName(fixed).unionByName(other)
    return df.join(F.broadcast(splits), "patient").select(*images.columns, "patient", "split")


def features_schema(size: int = xray_lab.DEFAULT_SIZE, *, features: bool = True):
    """The Spark types of the columns `with_features` adds."""
    from pyspark.sql.types import (ArrayType, BooleanType, DoubleType, FloatType, IntegerType,
                                   StringType, StructField)

    spark_type = {
        "features": ArrayType(FloatType()),
        "width": IntegerType(), "height": IntegerType(), "mode": StringType(),
        "bit_depth": IntegerType(), "format": StringType(), "progressive": BooleanType(),
        "mean": DoubleType(), "std": DoubleType(), "min": IntegerType(), "max": IntegerType(),
        "error": StringType(),
    }
    return [StructField(f.name, spark_type[f.name]) for f in xray_lab.schema(size, features=features)]


def with_features(images, *, size: int = xray_lab.DEFAULT_SIZE, exact: bool = False,
                  features: bool = True, content: str = "content",
                  records_per_batch: int = DEFAULT_RECORDS_PER_BATCH, threads: int = 1):
    """Decodes the `content` column with `mapInArrow`: every other column is kept, `content`
    is dropped, and the columns of `xray_lab.decode` are added (`features` as an array of
    floats; `features=False` reads headers only). A file that cannot be decoded is a row with
    `error` set and null features, never a failed task.

    Sets the session's `spark.sql.execution.arrow.maxRecordsPerBatch` to `records_per_batch`
    (see the module's text); `threads` decoding threads per Python worker (default 1)."""
    from pyspark.sql.types import StructType

    if records_per_batch < 1:
        raise ValueError("records_per_batch must be at least 1")
    keep = [f for f in images.schema.fields if f.name != content]
    schema = StructType(keep + features_schema(size, features=features))
    arrow_schema = _arrow_schema(keep, size, features)
    row_bytes = size * size * 4 if features else 64
    step = max(1, min(records_per_batch, _MAX_BATCH_BYTES // row_bytes))
    images.sparkSession.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch",
                                 str(records_per_batch))
    names = [f.name for f in keep]

    def decode(batches):
        for batch in batches:
            for start in range(0, batch.num_rows, step):
                part = batch.slice(start, step)
                table = xray_lab.decode_batch(part.column(content), size=size, exact=exact,
                                              features=features, threads=threads)
                columns = [part.column(name) for name in names]
                for name in table.column_names:
                    column = table.column(name).combine_chunks()
                    if name == "features":
                        column = column.cast(pa.list_(pa.float32()))
                    columns.append(column)
                yield pa.RecordBatch.from_arrays(columns, schema=arrow_schema)

    return images.mapInArrow(decode, schema)


def to_vectors(df, column: str = "features", out: str = "vector"):
    """The array column as an MLlib dense vector column (`array_to_vector`), for MLlib's
    estimators."""
    from pyspark.ml.functions import array_to_vector

    return df.withColumn(out, array_to_vector(column))


def report_pipeline(spark, root: str, *, size: int = xray_lab.DEFAULT_SIZE, seed: int = 42,
                    reg_param: float = 0.1, test: int = 1000, validation: int = 2000,
                    records_per_batch: int = DEFAULT_RECORDS_PER_BATCH,
                    logistic: bool = True) -> dict:
    """The report's pipeline on these helpers, stage by stage, timed: load and count per subset
    and class; the resplit (done right) and count; image sizes (headers only) with min, max,
    mean and std per split; pixel intensities (decoded once, kept in memory) per split;
    features and MLlib training (`LinearRegression(regParam)`, as the report); evaluation on test
    and validation (RMSE, R²); then, beyond the report and in a stage of its own,
    `LogisticRegression(regParam)` with its accuracy and ROC AUC (`logistic=False` skips it).

    Returns a dict of stage seconds, counts, statistics and metrics (what
    `bench/spark_pipeline.py` prints)."""
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.evaluation import (BinaryClassificationEvaluator,
                                       MulticlassClassificationEvaluator, RegressionEvaluator)
    from pyspark.ml.regression import LinearRegression
    from pyspark.sql import functions as F

    stages, start = {}, time.perf_counter()
    t = start

    def stage(name):
        nonlocal t
        now = time.perf_counter()
        stages[name] = round(now - t, 3)
        t = now

    def per_class(df, by):
        return {f"{r[by]}/{r['class']}": r["count"]
                for r in df.groupBy(by, "class").count().collect()}

    images = read_images(spark, root)
    counts_before = per_class(images, "subset")
    stage("load and count")

    images = resplit(images, test=test, validation=validation, seed=seed).cache()
    counts_after = per_class(images, "split")
    leaks = (images.groupBy("patient").agg(F.countDistinct("split").alias("k"))
             .where("k > 1").count())
    stage("resplit and count")

    facts = with_features(images, features=False, records_per_batch=records_per_batch)
    size_stats = {r["split"]: r.asDict() for r in facts.groupBy("split").agg(
        *[f(c).alias(f"{c}_{f.__name__}") for c in ("width", "height")
          for f in (F.min, F.max, F.mean, F.stddev)]).collect()}
    size_points = len(facts.select("width", "height").collect())
    stage("image sizes")

    decoded = with_features(images, size=size, records_per_batch=records_per_batch).cache()
    # Every image has size x size pixels, so the split's pixels pool exactly from the images'
    # means and standard deviations.
    intensity_stats = {r["split"]: {k: r[k] for k in ("min", "max", "mean", "std")}
                       for r in decoded.where("error IS NULL").groupBy("split").agg(
        F.min("min").alias("min"), F.max("max").alias("max"), F.mean("mean").alias("mean"),
        F.sqrt(F.mean(F.col("std") ** 2 + F.col("mean") ** 2) - F.mean("mean") ** 2).alias("std"),
    ).collect()}
    rejects = [(r["path"], r["error"]) for r in decoded.where("error IS NOT NULL").collect()]
    stage("pixel intensities")

    data = to_vectors(decoded.where("error IS NULL")).select(
        "split", "vector", F.col("label").cast("double").alias("label"))
    train = data.where("split = 'train'").cache()
    linear = LinearRegression(featuresCol="vector", labelCol="label", regParam=reg_param).fit(train)
    stage("features and training")

    metrics = {}
    for name in ("test", "validation"):
        predictions = linear.transform(data.where(f"split = '{name}'")).cache()
        metrics[name] = {m: RegressionEvaluator(labelCol="label", metricName=m).evaluate(predictions)
                         for m in ("rmse", "r2")}
        predictions.unpersist()
    stage("evaluation")

    if logistic:
        model = LogisticRegression(featuresCol="vector", labelCol="label",
                                   regParam=reg_param).fit(train)
        for name in ("test", "validation"):
            predictions = model.transform(data.where(f"split = '{name}'")).cache()
            metrics[name]["logistic_accuracy"] = MulticlassClassificationEvaluator(
                labelCol="label", metricName="accuracy").evaluate(predictions)
            metrics[name]["logistic_roc_auc"] = BinaryClassificationEvaluator(
                labelCol="label", rawPredictionCol="rawPrediction",
                metricName="areaUnderROC").evaluate(predictions)
            predictions.unpersist()
        stage("logistic regression (beyond the report)")
    for df in (train, decoded, images):
        df.unpersist()

    return {
        "tool": "xray-lab in pyspark",
        "stages": stages,
        "seconds": round(time.perf_counter() - start, 3),
        "counts_before": counts_before,
        "counts_after": counts_after,
        "patients_in_two_splits": leaks,
        "size_stats": size_stats,
        "size_points": size_points,
        "intensity_stats": intensity_stats,
        "rejects": rejects,
        "metrics": metrics,
        "iterations": linear.summary.totalIterations,
    }


def _arrow_schema(keep, size, features):
    from pyspark.sql.pandas.types import to_arrow_type

    fields = [pa.field(f.name, to_arrow_type(f.dataType), f.nullable) for f in keep]
    for f in xray_lab.schema(size, features=features):
        if f.name == "features":
            f = pa.field("features", pa.list_(pa.float32()))
        fields.append(f)
    return pa.schema(fields)
