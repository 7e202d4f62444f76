"""The report's own pipeline, in PySpark as the report wrote it, timed stage by stage.

    python3 bench/report_spark.py --data DATASET [--master 'local[*]'] [--json OUT.json]

What it runs is the report's code (chest-xray-report.txt, section 5) with the gaps filled the
way the report's text describes them:

1. load: `spark.read.format("binaryFile")` with `recursiveFileLookup` and `pathGlobFilter
   "*.jpeg"` on train, test and val; images per subset and class (the first plot).
2. resplit: the report's two Bernoulli samples from train (`sample(1000/n, seed=42)` and
   `sample(2000/n, seed=43)`, with n at least 5,216 so that smaller sets keep the report's shares), `subtract` twice, `union` into the new test set; images per
   subset and class again (the second plot).
3. image sizes: a Pillow UDF giving width and height; min/max/mean/std of each per subset.
4. pixel intensities: a Pillow UDF giving each image's 256-bin grayscale histogram, summed per
   subset and class; min/max/mean/std of the pixels per subset.
5. features and training: the report's `decode_image` UDF (Pillow open, 150x150, /255, a list of
   22,500 floats; plus `convert("L")`, which the report's text says it did and which keeps RGB
   files at 22,500 values), label 1 for PNEUMONIA, MLlib `LinearRegression(regParam=0.1)`.
6. evaluation: RMSE and R² on the new test and validation sets (`RegressionEvaluator`).

Like the report, nothing is cached: each stage reads the files again, as Spark's lazy plans do
when a DataFrame is not persisted. Driver memory is raised to 8 GB (the default 1 GB does not
hold the training matrix), in Spark's favour. `--master local` is the report's own setting (one
core); the default `local[*]` uses every core.

Prints one JSON line: the stage seconds, total seconds, counts and the metrics.
"""
import argparse
import io
import json
import os
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--master", default="local[*]")
    ap.add_argument("--json")
    args = ap.parse_args()

    start = time.perf_counter()
    stages = {}

    def stage(name, since):
        now = time.perf_counter()
        stages[name] = round(now - since, 3)
        print(f"   {name}: {now - since:.1f} s", flush=True)
        return now

    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F
    from pyspark.sql.types import ArrayType, FloatType, IntegerType, LongType, StructField, StructType

    spark = (
        SparkSession.builder.master(args.master)
        .appName("chest-xray-report")
        .config("spark.driver.memory", "8g")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    t = stage("start Spark", start)

    def read(subset):
        df = (
            spark.read.format("binaryFile")
            .option("recursiveFileLookup", "true")
            .option("pathGlobFilter", "*.jpeg")
            .load(os.path.join(args.data, subset))
        )
        label = F.when(F.col("path").contains("/PNEUMONIA/"), 1).otherwise(0)
        return df.withColumn("label", label)

    def per_class(df):
        return {r["label"]: r["count"] for r in df.groupBy("label").count().collect()}

    # 1. load, and the images per subset and class
    train_df, test_df, val_df = read("train"), read("test"), read("val")
    counts_before = {name: per_class(df) for name, df in
                     [("train", train_df), ("test", test_df), ("val", val_df)]}
    t = stage("load and count", t)

    # 2. the report's resplit (its code, verbatim apart from names)
    # On a set smaller than Kaggle's 5,216 training images the counts become the report's shares
    # (1,000 and 2,000 of 5,216), or the fractions would exceed 1.
    n_train = max(train_df.count(), 5216)
    test_from_train_df = train_df.sample(fraction=1000 / n_train, seed=42)
    validation_from_train_df = train_df.sample(fraction=2000 / n_train, seed=43)
    train_remaining_df = train_df.subtract(test_from_train_df).subtract(validation_from_train_df)
    new_test_df = test_df.union(test_from_train_df)
    validation_df = validation_from_train_df
    subsets = {"train": train_remaining_df, "test": new_test_df, "validation": validation_df}
    counts_after = {name: per_class(df) for name, df in subsets.items()}
    overlap = test_from_train_df.select("path").intersect(validation_from_train_df.select("path")).count()
    t = stage("resplit and count", t)

    tagged = None
    for name, df in subsets.items():
        df = df.withColumn("subset", F.lit(name))
        tagged = df if tagged is None else tagged.union(df)

    # 3. image sizes
    @F.udf(StructType([StructField("width", IntegerType()), StructField("height", IntegerType())]))
    def image_size(content):
        from PIL import Image
        with Image.open(io.BytesIO(content)) as img:
            return img.size

    sizes = tagged.withColumn("size", image_size("content")).select("subset", "size.width", "size.height")
    size_stats = [r.asDict() for r in sizes.groupBy("subset").agg(
        *[f(c).alias(f"{c}_{f.__name__}") for c in ("width", "height")
          for f in (F.min, F.max, F.mean, F.stddev)]).collect()]
    size_points = sizes.collect()  # the scatter plot's points
    t = stage("image sizes", t)

    # 4. pixel intensities
    @F.udf(ArrayType(LongType()))
    def histogram(content):
        import numpy as np
        from PIL import Image
        with Image.open(io.BytesIO(content)) as img:
            return [int(v) for v in img.convert("L").histogram()]

    hist = tagged.withColumn("h", histogram("content")).select("subset", "label", "h")
    sums = {}
    for r in hist.collect():
        key = (r["subset"], r["label"])
        acc = sums.setdefault(key, [0] * 256)
        for i, v in enumerate(r["h"]):
            acc[i] += v
    intensity_stats = {}
    for (subset, _), h in sums.items():
        acc = intensity_stats.setdefault(subset, [0] * 256)
        for i, v in enumerate(h):
            acc[i] += v
    for subset, h in intensity_stats.items():
        n = sum(h)
        mean = sum(i * v for i, v in enumerate(h)) / n
        var = sum((i - mean) ** 2 * v for i, v in enumerate(h)) / n
        nz = [i for i, v in enumerate(h) if v]
        intensity_stats[subset] = {"min": nz[0], "max": nz[-1], "mean": mean, "std": var ** 0.5}
    t = stage("pixel intensities", t)

    # 5. the report's features and model
    def decode_image(content):
        import numpy as np
        from PIL import Image
        img = Image.open(io.BytesIO(content)).convert("L")
        img = img.resize((150, 150))
        img_array = np.array(img).astype(np.float32).flatten() / 255.0
        return img_array.tolist()

    decode_image_udf = F.udf(decode_image, ArrayType(FloatType()))
    from pyspark.ml.functions import array_to_vector
    from pyspark.ml.regression import LinearRegression
    from pyspark.ml.evaluation import RegressionEvaluator

    def featurize(df):
        return df.withColumn("features", array_to_vector(decode_image_udf(df["content"]))) \
                 .select("features", F.col("label").cast("double").alias("label"))

    lr = LinearRegression(featuresCol="features", labelCol="label", regParam=0.1)
    model = lr.fit(featurize(train_remaining_df))
    t = stage("features and training", t)

    # 6. evaluation
    metrics = {}
    for name in ("test", "validation"):
        predictions = model.transform(featurize(subsets[name])).cache()
        metrics[name] = {
            m: RegressionEvaluator(labelCol="label", predictionCol="prediction", metricName=m)
            .evaluate(predictions)
            for m in ("rmse", "r2")
        }
        predictions.unpersist()
    iterations = model.summary.totalIterations
    t = stage("evaluation", t)
    spark.stop()

    result = {
        "tool": "pyspark",
        "master": args.master,
        "spark": __import__("pyspark").__version__,
        "stages": stages,
        "seconds": round(time.perf_counter() - start, 3),
        "counts_before": counts_before,
        "counts_after": counts_after,
        "test_validation_overlap": overlap,
        "size_stats": size_stats,
        "size_points": len(size_points),
        "intensity_stats": intensity_stats,
        "metrics": metrics,
        "iterations": iterations,
    }
    line = json.dumps(result)
    print(line)
    if args.json:
        with open(args.json, "w") as f:
            f.write(line + "\n")


if __name__ == "__main__":
    main()
