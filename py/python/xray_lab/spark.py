"""xray-lab inside PySpark: the report's pipeline with the crate's decoder in `mapInArrow`.

    from xray_lab import spark as xs
    spark = (SparkSession.builder                            # the workers start faster (below)
             .config("spark.python.daemon.module", xs.DAEMON_MODULE).getOrCreate())
    images = xs.read_images(spark, "chest_xray")            # binaryFile, recursive, *.jpeg
    images = xs.resplit(images, test=1000, validation=2000)  # the report's resplit, done right
    decoded = xs.with_features(images)                       # features, intensities, header facts
    train = xs.to_vectors(decoded.where("subset = 'train' AND error IS NULL"))
    LinearRegression(featuresCol="vector", labelCol="label", regParam=0.1).fit(train)

What matters at scale, and what these helpers do about it:
- **Arrow's 2 GiB limit, and memory.** Reading by path (local and mounted files), the
  batches going in hold no file contents and no setting is touched. Reading `content`, a batch
  holds the files' bytes: Spark 4 caps it at `spark.sql.execution.arrow.maxBytesPerBatch`
  (64 MiB by default) by itself; Spark 3.5 counts rows only (`maxRecordsPerBatch`, default
  10,000: 10,000 X-rays of 1 MB would overflow a binary column's 32-bit offsets), so there
  `with_features` lowers that session-wide setting, with a warning, to the rows of the largest
  file that fit in `BATCH_BYTES` (64 MiB), and only when it must. The batches it returns hold
  at most 64 MiB of features either way.
- **Errors the caller chooses** (`on_error`): by default a file that cannot be read at all
  (missing, no permission, a mount gone, or a path on a file system the decoder cannot open)
  fails the task, so Spark retries it and a job never "succeeds" on rows of I/O errors; a file
  that reads but does not decode is a row with `error` set. "row" makes every failure a row,
  "drop" leaves failed files out.
- **One thread per Python worker** (`threads=1`): Spark already runs one task per core; the
  decoder then runs on the worker's own thread, with no thread pool that a fork could break.
- **Columns are read only when needed.** `binaryFile` reads a file's bytes only when `content`
  is used; `read_images` and `resplit` use paths alone.
- **Files on a local or mounted file system are read by the decoder itself.** For `file:`
  paths (a laptop, Colab, a cluster's shared mount) and Unity Catalog volumes
  `with_features` hands the Python workers the paths alone and the crate reads each file,
  instead of Spark reading every file into the JVM and shipping its bytes to Python through
  Arrow (on 1,580 X-rays that round trip alone cost about a second per pass). Other file
  systems (s3a, abfss, gs, hdfs) go through `content`.
- **Spark Connect** (Databricks shared and serverless compute, `SparkSession.builder.remote`):
  nothing here asks for a SparkContext or an RDD; where Connect cannot say something classic
  Spark can (the cores, column metadata), the helpers ask Spark with a small job or leave
  Spark's own choice (tested on a local Connect server of pyspark 4).
- **Tasks of equal work.** `binaryFile` packs the files into partitions largest first, so the
  partitions `read_images` merges differ in bytes (105 MB against 37 MB for 1,580 X-rays on 2
  cores): reading by path, `with_features` deals the rows out by size before decoding, largest
  first like cards (a shuffle of the small path rows; the files' bytes are never shuffled).
- **Workers that start faster.** `DAEMON_MODULE` (`xray_lab.spark_daemon`) as the session's
  `spark.python.daemon.module` has the workers import the installed pyspark instead of
  compiling it from Spark's `pyspark.zip`, and import the decoder once before they are forked
  (that module says how much it saves).
"""

from __future__ import annotations

import math
import os
import time
import warnings

import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute)

import xray_lab
from xray_lab import columns

__all__ = ["read_images", "with_labels", "resplit", "patient_column", "with_features",
           "with_facts", "to_vectors", "features_schema", "error_summary", "check_errors",
           "TooManyErrors", "report_pipeline", "DAEMON_MODULE"]

#: The Python workers' start-up to give the session's `spark.python.daemon.module`:
#: `SparkSession.builder.config("spark.python.daemon.module", DAEMON_MODULE)`.
DAEMON_MODULE = "xray_lab.spark_daemon"

#: The bytes of file contents an Arrow batch going into the decoder holds at most, reading
#: `content`: Spark 4's default `spark.sql.execution.arrow.maxBytesPerBatch` (64 MiB), far below
#: Arrow's 2 GiB per binary column. Spark 3.5 counts batches in rows only
#: (`maxRecordsPerBatch`, default 10,000), so there the rows are worked out from the largest file.
BATCH_BYTES = 64 << 20
#: The `path` column's metadata keys (classic Spark keeps them through selections and joins;
#: Spark Connect drops column metadata, and then one path and one aggregate are read instead):
#: whether the files are on a local (or mounted) file system, and the largest file's bytes.
_LOCAL = "xray_lab.local_files"
_LARGEST = "xray_lab.largest_file"
_FILES = "xray_lab.files"
#: Up to this many files, `with_features` deals them out by size in one sorted order (a window
#: without a partition: every path row sorted on one core, about a second per million rows);
#: beyond it, by a hash of the path, which needs no order and evens the bytes out by numbers.
DEAL_SORTED_UP_TO = 1_000_000


def read_images(spark, root: str, glob: str = "*.jpeg", *, recursive: bool = True,
                partitions: int | None = None, extensions=None):
    """The report's load: `binaryFile` on `root` with a recursive glob, plus the folder facts
    of a `split/class/file` tree: `split` and `class` (the two folders above each file, named
    as the crate names them: `xray_lab.columns`),
    `label` (the class's index in sorted order: NORMAL 0, PNEUMONIA 1) and `name`.

    Columns: path, name, split, class, label, length, modificationTime, content. Listing the
    classes reads no file contents.

    `glob` is the report's `pathGlobFilter` (`*.jpeg`); `extensions` (a list, such as
    `xray_lab.DEFAULT_EXTENSIONS`: jpeg, jpg, png) replaces it with those extensions in lower and
    upper case, as the crate's scan takes them.

    `partitions`: how many tasks the files are spread over. `binaryFile` makes one partition
    per ~25 small files (its 4 MB open cost per file against 128 MB partitions): 50 for 1,580
    X-rays, and each task costs a Python worker round trip (about 0.2 s here). The default,
    one partition per core and one more per 10,000 files, decoded the same files 2.2x faster
    on 2 cores; see the README's guide."""
    from pyspark.sql import functions as F

    if extensions is not None:
        cases = sorted({c for e in extensions for c in (e.lower().lstrip("."),
                                                        e.upper().lstrip("."))})
        if not cases:
            raise ValueError("extensions is empty: no file would be read")
        glob = "*.{" + ",".join(cases) + "}"
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
        .withColumn(columns.SPLIT, F.element_at(parts, -3))
    )
    # One job lists the files: the classes, how many files, the largest, and one path (whose
    # scheme says whether the decoder can read them itself).
    listing = df.groupBy("class").agg(F.count(F.lit(1)).alias("count"),
                                      F.max("length").alias("largest"),
                                      F.first("path").alias("path")).collect()
    classes = sorted(r["class"] for r in listing)
    if not classes:
        raise FileNotFoundError(f"no file matching {glob!r} under {root}")
    if partitions is None:
        cores = _default_parallelism(spark)
        files = sum(r["count"] for r in listing)
        partitions = cores + files // 10_000 if cores else None
    # coalesce never adds partitions, so no need to ask how many there are (which Spark
    # Connect cannot: it has no RDDs). Where the cores are not known (Spark Connect), Spark's
    # own partitions stay.
    if partitions is not None:
        df = df.coalesce(partitions)
    label = F.create_map(*[x for i, c in enumerate(classes) for x in (F.lit(c), F.lit(i))])
    df = df.withColumn("label", label[F.col("class")].cast("int"))
    # Said in the column's metadata, which selections and joins keep: `with_features` then lets
    # the decoder read the files itself, and sizes its batches, without another job.
    facts = {_LOCAL: _is_local(listing[0]["path"]),
             _LARGEST: max(r["largest"] for r in listing),
             _FILES: sum(r["count"] for r in listing)}
    df = df.withColumn("path", F.col("path").alias("path", metadata=facts))
    return df.select("path", "name", columns.SPLIT, "class", "label", "length", "modificationTime",
                     "content")


def with_labels(images, table, *, name: str = "name", label: str = "label",
                patient: str | None = None, split: str | None = None):
    """Labels from a table instead of folder names (a flat folder of images and a CSV, as NIH
    ChestX-ray14's `Data_Entry_2017.csv` or CheXpert's `train.csv`): `table` is a DataFrame with
    one row per image, matched on the column `name` of both (the file name, as `read_images`
    gives it; or `path`). Its column `label` becomes `class` (as a string) and `label` the
    class's index in sorted order, as folder names give them.

    `patient`: the table's column of patient ids, kept under its name, for
    `resplit(patient=...)`. `split`: the table's column saying which folder split (`train`,
    `test`, `val`) each image is in; without it every image is in `train`, and `resplit` draws
    test and validation from them.

    An image with no row in the table is left out, and a warning says how many (one Spark job
    over the listing counts them and finds the classes); a name on two rows of the table is an
    error, since the image's label would be ambiguous."""
    from pyspark.sql import functions as F

    for column, where in ((name, images), (name, table), (label, table)):
        if column not in where.columns:
            side = "images" if where is images else "table"
            raise ValueError(f"no column {column!r} in the {side} (it has {where.columns})")
    wanted = [name, label] + [c for c in (patient, split) if c is not None]
    twice = table.groupBy(name).count().where("count > 1").limit(3).collect()
    if twice:
        raise ValueError(f"the table names an image on more than one row: "
                         f"{', '.join(repr(r[name]) for r in twice)}")
    given = table.select(*wanted).withColumn("__class", F.col(label).cast("string")).drop(label)
    kept = [c for c in images.columns if c not in (columns.CLASS, columns.LABEL)
            and c not in wanted[2:] and (c != columns.SPLIT or split is None)]
    joined = images.select(*kept).join(given, name, "left")
    counts = {r["__class"]: r["count"] for r in joined.groupBy("__class").count().collect()}
    missing = counts.pop(None, 0)
    if missing:
        warnings.warn(f"{missing} images have no row in the table (by {name!r}): left out",
                      stacklevel=2)
    classes = sorted(counts)
    if not classes:
        raise ValueError(f"no image of the listing is in the table (matched by {name!r})")
    index = F.create_map(*[x for i, c in enumerate(classes) for x in (F.lit(c), F.lit(i))])
    out = (joined.where(F.col("__class").isNotNull())
           .withColumn(columns.CLASS, F.col("__class"))
           .withColumn(columns.LABEL, index[F.col("__class")].cast("int")).drop("__class"))
    if split is None:
        out = out.withColumn(columns.SPLIT, F.lit("train"))
    else:
        out = out.withColumnRenamed(split, columns.SPLIT) if split != columns.SPLIT else out
    first = [c for c in images.columns if c in out.columns]
    return out.select(*first, *[c for c in out.columns if c not in first])


#: The report's resplit: 1,000 and 2,000 images of Kaggle's 5,216 training images.
REPORT_TEST, REPORT_VALIDATION, KAGGLE_TRAIN = 1000, 2000, 5216


def resplit(images, *, test: int | None = None, validation: int | None = None, seed: int = 42,
            train_folder: str = "train", test_folder: str = "test", val_folder: str = "val",
            patient: str | None = None, cache: bool = True):
    """The report's resplit, done right: `test` and `validation` more images drawn from
    the `train_folder` into the new test and validation sets, with no image in two of them and no
    patient either (the report's two `sample` calls overlapped, and people's images fell on
    both sides). Adds `patient` (the crate's rule on the file name; the path itself when the
    name names none) and `subset` (train, test or validation), the crate's `xray-lab split` columns.

    A patient with any image in the original test folder goes to test with all their images,
    one in the original val folder to validation; the other patients are drawn in a seeded
    order (xxhash64 of the patient and `seed`) until test has `test` more images and
    validation `validation` more. Deterministic: the same seed gives the same split.

    `patient`: a column of `images` that names each image's patient (a dataset whose file
    names follow no Kaggle rule: NIH ChestX-ray14's `00000001_000.png`, CheXpert's folders),
    instead of the crate's rule on the file name. An image with no patient is its own patient,
    so the guarantee holds only for named ones: when the file names leave any image without a
    patient and no `patient` column is given, a warning says how many.

    `test` and `validation` default to the report's 1,000 and 2,000, or the same shares of a
    training folder smaller than Kaggle's 5,216 images (as `xray-lab split` does), so that a
    small dataset keeps a training set.

    `cache`: the split is drawn over every path (a listing of the files and a window over the
    patients); by default its small path -> subset table is kept in Spark's memory (one short
    row per image), so that later actions read it instead of listing and drawing again.
    `cache=False` leaves caching to the caller (as `report_pipeline` does, which caches the
    listing with its split once and unpersists it at the end)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    # The split is worked out on the paths alone (no file is read), kept in memory, then joined
    # to the images.
    named = F.col(patient) if patient is not None else patient_column("name")
    df = images.select("path", "name", columns.SPLIT, named.alias("__patient")).select(
        "path", "name", columns.SPLIT,
        F.coalesce(F.col("__patient"), F.col("path")).alias(columns.PATIENT),
        F.col("__patient").isNull().alias("__unnamed"))
    groups = df.groupBy("patient").agg(
        F.count(F.lit(1)).alias("n"),
        F.max(F.col("__unnamed").cast("int")).alias("unnamed"),
        F.max((F.col(columns.SPLIT) == test_folder).cast("int")).alias("in_test"),
        F.max((F.col(columns.SPLIT) == val_folder).cast("int")).alias("in_val"),
        F.max((F.col(columns.SPLIT) == train_folder).cast("int")).alias("in_train"),
    )
    unnamed = groups.agg(F.sum("unnamed")).first()[0] or 0
    if unnamed:
        warnings.warn(f"{unnamed} images have no patient "
                      f"({'in the column ' + patient if patient else 'in their file names'}): "
                      "each is kept as its own patient, so the resplit cannot keep their "
                      "patients' other images with them; give resplit(patient=...) a column",
                      stacklevel=2)
    drawn = groups.where("in_test = 0 AND in_val = 0 AND in_train = 1")
    if test is None or validation is None:
        n = drawn.agg(F.sum("n")).first()[0] or 0
        share = min(1.0, n / KAGGLE_TRAIN)
        test = round(REPORT_TEST * share) if test is None else test
        validation = round(REPORT_VALIDATION * share) if validation is None else validation
    order = Window.orderBy(F.xxhash64("patient", F.lit(seed)), "patient")
    drawn = drawn.withColumn("upto", F.sum("n").over(order))
    drawn = drawn.withColumn(
        columns.SUBSET,
        F.when(F.col("upto") <= test, "test")
        .when(F.col("upto") <= test + validation, "validation")
        .otherwise("train"),
    ).select("patient", columns.SUBSET)
    fixed = groups.where("in_test = 1 OR in_val = 1").select(
        "patient", F.when(F.col("in_test") == 1, "test").otherwise("validation").alias(columns.SUBSET))
    other = groups.where("in_test = 0 AND in_val = 0 AND in_train = 0").select(
        "patient", F.lit("train").alias(columns.SUBSET))
    splits = drawn.unionByName(fixed).unionByName(other)
    assignment = df.join(F.broadcast(splits), "patient").select("path", "patient", columns.SUBSET)
    if cache:
        assignment = assignment.cache()
        assignment.count()
    base = images.drop(columns.PATIENT)  # a patient column given is in the assignment's
    return base.join(F.broadcast(assignment), "path").select(*base.columns, columns.PATIENT,
                                                            columns.SUBSET)


def patient_column(name: str = "name"):
    """The patient of each file name as a Spark column: the crate's rule
    (`xray_lab::load::patient_id`, also `xray_lab.patient_ids`) in Spark SQL, so that no Python
    worker is needed for it. `person1946_bacteria_4874.jpeg` -> `person1946`,
    `NORMAL2-IM-1427-0001.jpeg` -> `IM-1427`, null when the name names none. The tests check it
    against the crate's rule on every file name they have."""
    from pyspark.sql import functions as F

    stem = F.regexp_replace(F.col(name), r"\.[^.]*$", "")  # the name without its extension
    person = F.regexp_extract(stem, r"^person([0-9]+)(_.*)?$", 1)
    # The first "IM-": only the bare name or a batch prefix ending in "-" (NORMAL2-) before it.
    before = F.substring_index(stem, "IM-", 1)
    digits = F.regexp_extract(F.regexp_extract(stem, r"^.*?IM-(.*)$", 1), r"^([0-9]+)(-.*)?$", 1)
    return (F.when(stem.startswith("person"),
                   F.when(person != "", F.concat(F.lit("person"), person)))
            .when((F.instr(stem, "IM-") > 0) & ((before == "") | before.endswith("-"))
                  & (digits != ""), F.concat(F.lit("IM-"), digits)))


def features_schema(size: int = xray_lab.DEFAULT_SIZE, *, features: bool = True,
                    pixels: bool = True):
    """The Spark types of the columns `with_features` (or, `pixels=False`, `with_facts`) adds."""
    from pyspark.sql.types import (ArrayType, BooleanType, DoubleType, FloatType, IntegerType,
                                   StringType, StructField)

    def spark_type(arrow):
        if pa.types.is_list(arrow) or pa.types.is_fixed_size_list(arrow):
            return ArrayType(FloatType())
        return {pa.int32(): IntegerType(), pa.string(): StringType(), pa.bool_(): BooleanType(),
                pa.float64(): DoubleType()}[arrow]

    return [StructField(f.name, spark_type(f.type))
            for f in xray_lab.schema(size, features=features, pixels=pixels)]


def with_features(images, *, size: int = xray_lab.DEFAULT_SIZE, exact: bool = False,
                  features: bool = True, content: str = "content", read: str = "auto",
                  records_per_batch: int | None = None, threads: int = 1,
                  on_error: str = "raise", decoder=None):
    """Decodes every image with `mapInArrow` (its `content` bytes, or the file at its `path`:
    see `read`): every other column is kept, `content` is dropped, and the columns of
    `xray_lab.decode` are added: `features` (an array of floats; left out with
    `features=False`, which still decodes for the intensities), the header facts and the
    intensities. A file that cannot be decoded is a row with `error` set and null features;
    `on_error` (see `xray_lab.ON_ERROR`; the module's text) says what a file that cannot be read
    at all does: "raise" (the default) fails the task, so Spark retries it; "row" makes it a row
    with `error` set; "drop" leaves every failed file out.

    `read`: "content" decodes the `content` column's bytes; "path" has the decoder read each
    `path` itself (the files must be on a file system every worker sees: `file:` paths);
    "auto" (the default) is "path" when `read_images` found the files on a local file system,
    else "content". The rows are the same either way; by path they are first dealt out by
    size over the same number of partitions, so that each task decodes about as many bytes.

    `records_per_batch`: by default the batches are sized in bytes (see the module's text); a
    number caps the rows of the batches coming out and, reading `content`, sets the session's
    `spark.sql.execution.arrow.maxRecordsPerBatch` (with a warning). `threads`: decoding
    threads per Python worker (default 1).

    `decoder`: another function in `xray_lab.decode`'s place (the same arguments, a table of the
    same columns), run in the same plan, reading by path; the workers must be able to import
    it. For measuring what the plan gains apart from the decoder: `bench/spark.py` runs Pillow
    through it."""
    if decoder is not None and read != "path" and not (read == "auto" and _reads_by_path(images)):
        raise ValueError("decoder= reads by path: the files must be local (read='path')")
    return _decode_in_spark(images, size=size, exact=exact, pixels=True, features=features,
                            content=content, read=read, records_per_batch=records_per_batch,
                            threads=threads, on_error=on_error, decoder=decoder)


def with_facts(images, *, content: str = "content", read: str = "auto",
               records_per_batch: int | None = None, threads: int = 1,
               on_error: str = "raise"):
    """The header facts of every file (`xray_lab.facts`: width, height, mode, bit_depth,
    format, progressive, error) without decoding it, `content` dropped: the report's image
    sizes. `read` and `on_error` as for `with_features`."""
    return _decode_in_spark(images, size=xray_lab.DEFAULT_SIZE, exact=False, pixels=False,
                            features=False, content=content, read=read,
                            records_per_batch=records_per_batch, threads=threads,
                            on_error=on_error)


def _decode_in_spark(images, *, size, exact, pixels, features, content, read,
                     records_per_batch, threads, on_error, decoder=None):
    from pyspark.sql.types import StructType

    xray_lab._check_on_error(on_error)
    if records_per_batch is not None and records_per_batch < 1:
        raise ValueError("records_per_batch must be at least 1")
    if read not in ("auto", "path", "content"):
        raise ValueError(f"read must be 'auto', 'path' or 'content', not {read!r}")
    if read == "auto":
        read = "path" if _reads_by_path(images) else "content"
    if read == "path" and "path" not in images.columns:
        raise ValueError("read='path' needs a `path` column (read_images gives one)")
    if read == "content" and content not in images.columns:
        raise ValueError(f"no `{content}` column to decode (read_images gives one)")
    keep = [f for f in images.schema.fields if f.name != content]
    if read == "path":
        # The JVM never reads the files: `content` is not asked for. To decode, the rows are
        # dealt out over as many partitions as before, largest file first, like cards (file k of
        # the size order to partition k mod n), so that each task decodes a like share of the
        # bytes (binaryFile packs them largest first); only the small path rows are shuffled.
        # Spark's own round-robin `repartition` sorts each partition's rows by their bytes
        # first, so its shares depend on the paths (1.3x apart on the synthetic set, seen in a
        # test). Reading headers alone costs the same per file whatever its size: no shuffle.
        partitions = _partitions(images) if pixels else 0
        images = images.select([f.name for f in keep])
        if partitions > 1:
            images = _deal(images, partitions)
    schema = StructType(keep + features_schema(size, features=features, pixels=pixels))
    arrow_schema = _arrow_schema(keep, size, features, pixels)
    # The batches coming out hold at most BATCH_BYTES of features (745 rows of 150 x 150), or
    # `records_per_batch` rows.
    row_bytes = size * size * 4 if features and pixels else 64
    step = max(1, BATCH_BYTES // row_bytes)
    if records_per_batch is not None:
        step = min(step, records_per_batch)
    if read == "content":
        _size_input_batches(images, records_per_batch)
    names = [f.name for f in keep]
    # "raise" is the decoder's own; "drop" filters the kept columns with the decoded ones.
    decoder_on_error = "raise" if on_error == "raise" else "row"
    decode_paths = decoder if decoder is not None else xray_lab.decode

    def decode(batches):
        for batch in batches:
            for start in range(0, batch.num_rows, step):
                part = batch.slice(start, step)
                if read == "path":
                    paths = [_local_path(p) for p in part.column("path").to_pylist()]
                    table = (decode_paths(paths, size=size, exact=exact, features=features,
                                          threads=threads, on_error=decoder_on_error)
                             if pixels
                             else xray_lab.facts(paths, threads=threads,
                                                 on_error=decoder_on_error))
                else:
                    table = xray_lab.decode_batch(part.column(content), size=size, exact=exact,
                                                  pixels=pixels, features=features,
                                                  threads=threads, on_error=decoder_on_error)
                if on_error == "drop":
                    ok = pa.compute.is_null(table.column(columns.ERROR).combine_chunks())
                    part, table = part.filter(ok), table.filter(ok)
                arrays = [part.column(name) for name in names]
                for name in table.column_names:
                    column = table.column(name).combine_chunks()
                    if name == columns.FEATURES:
                        column = column.cast(pa.list_(pa.float32()))
                    arrays.append(column)
                yield pa.RecordBatch.from_arrays(arrays, schema=arrow_schema)

    return images.mapInArrow(decode, schema)


def to_vectors(df, column: str = "features", out: str = "vector"):
    """The array column as an MLlib dense vector column (`array_to_vector`), for MLlib's
    estimators."""
    from pyspark.ml.functions import array_to_vector

    return df.withColumn(out, array_to_vector(column))


def report_pipeline(spark, root: str, *, size: int = xray_lab.DEFAULT_SIZE, seed: int = 42,
                    reg_param: float = 0.1, test: int | None = None,
                    validation: int | None = None,
                    records_per_batch: int | None = None,
                    logistic: bool = True, max_error_share: float | None = None,
                    cache_training: bool = False, decoder=None) -> dict:
    """The report's pipeline on these helpers, stage by stage, timed: load and count per subset
    and class; the resplit (done right) and count; image sizes with min, max, mean and std per
    split and pixel intensities per split (one pass reads the header facts and decodes for the
    intensities; Spark aggregates its small rows per split in one job: no row per image comes
    to the driver); features and MLlib training (`LinearRegression(regParam)`, as the report);
    evaluation on test and validation (RMSE, R²); then, beyond the report and in a stage of its
    own, `LogisticRegression(regParam)` with its accuracy and ROC AUC (`logistic=False` skips
    it).

    Files that fail are left out of training and counted (`rejected`, with the first reasons in
    `rejects`); `max_error_share` (0.01: one in a hundred) raises `TooManyErrors` after the
    statistics pass when more failed. The training set goes to MLlib uncached (MLlib caches its
    own blocks of it; `cache_training=True` caches the vectors too: decoded once, held twice).
    What it keeps in memory it unpersists before returning. `decoder`: as for `with_features`
    (the benchmark's control run).

    Returns a dict of stage seconds, counts, statistics and metrics (what
    `bench/spark.py` compares with the report's)."""
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
    counts_before = per_class(images, columns.SPLIT)
    stage("load and count")

    raw = images
    split = resplit(images, test=test, validation=validation, seed=seed, cache=False)
    # The listing and its split, without the files' contents (a short row per image), kept in
    # memory once for every stage below: the files are listed and the split drawn once. Reading
    # by path the decoder reads the files from it; reading `content`, each pass joins it to the
    # scan's bytes (broadcast: the bytes are never shuffled).
    cached = split.drop("content").cache()
    images = cached if _reads_by_path(cached) else raw.select("path", "content").join(
        F.broadcast(cached), "path")
    assignment = cached.select("path", "patient", columns.SUBSET)
    counts_after = {f"{r[columns.SUBSET]}/{r['class']}": r["count"] for r in cached.select(
        columns.SUBSET, "class").groupBy(columns.SUBSET, "class").count().collect()}
    if not any(key.startswith("train/") for key in counts_after):
        raise ValueError(f"no training images left after the resplit of {root}: every patient "
                         "has images in the test or val folder (or test and validation took the "
                         "rest); give smaller test= and validation=")
    leaks = (assignment.groupBy("patient").agg(F.countDistinct(columns.SUBSET).alias("k"))
             .where("k > 1").count())
    stage("resplit and count")

    # One pass gives the header facts and the intensities (decoded, without the features); its
    # small rows (no features: about a hundred bytes an image) are kept in memory for the
    # statistics, computed by Spark per split in one job, and the first reasons of any failures.
    # No row per image comes to the driver. The features stage decodes again: keeping 22,500
    # numbers per image in Spark's cache here was slower (2 cores, 1,580 files: 13 s against 9 s
    # for these two stages with a header-only pass).
    described = with_features(images, size=size, features=False,
                              records_per_batch=records_per_batch, decoder=decoder)
    described = described.select(columns.SUBSET, "path", *_STAT_COLUMNS, columns.ERROR).cache()
    size_stats, intensity_stats, errors = _statistics(described)
    stage("image sizes")
    size_points = sum(errors["read_headers"].values())
    rejects = errors["examples"]
    described.unpersist()
    if max_error_share is not None:
        _check_share(errors, max_error_share)
    stage("pixel intensities")

    decoded = with_features(images, size=size, records_per_batch=records_per_batch,
                            decoder=decoder)
    data = to_vectors(decoded.where("error IS NULL")).select(
        columns.SUBSET, "vector", F.col("label").cast("double").alias("label"))
    # MLlib's LinearRegression and LogisticRegression (Spark 3.5 and 4) standardize their input
    # into blocks and cache those during training, whatever the input ("Be careful of double
    # caching!", they warn when it is cached too). So by default the training set goes in
    # uncached: one copy in memory, MLlib's, at the cost of decoding it twice (MLlib's
    # statistics pass, then its blocks). `cache_training=True` decodes it once into Spark's
    # cache and keeps two copies. The held-out images, read by every evaluation, are cached.
    train = data.where(F.col(columns.SUBSET) == "train")
    if cache_training:
        train = train.cache()
    held_out = data.where(F.col(columns.SUBSET) != "train").cache()
    linear = LinearRegression(featuresCol="vector", labelCol="label", regParam=reg_param).fit(train)
    stage("features and training")

    metrics = {}
    for name in ("test", "validation"):
        predictions = linear.transform(held_out.where(F.col(columns.SUBSET) == name)).cache()
        metrics[name] = {m: RegressionEvaluator(labelCol="label", metricName=m).evaluate(predictions)
                         for m in ("rmse", "r2")}
        predictions.unpersist()
    stage("evaluation")

    if logistic:
        model = LogisticRegression(featuresCol="vector", labelCol="label",
                                   regParam=reg_param).fit(train)
        for name in ("test", "validation"):
            predictions = model.transform(held_out.where(F.col(columns.SUBSET) == name)).cache()
            metrics[name]["logistic_accuracy"] = MulticlassClassificationEvaluator(
                labelCol="label", metricName="accuracy").evaluate(predictions)
            metrics[name]["logistic_roc_auc"] = BinaryClassificationEvaluator(
                labelCol="label", rawPredictionCol="rawPrediction",
                metricName="areaUnderROC").evaluate(predictions)
            predictions.unpersist()
        stage("logistic regression (beyond the report)")
    if cache_training:
        train.unpersist()
    held_out.unpersist()
    if cached is not None:
        cached.unpersist()

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
        "rejected": errors["count"],
        "metrics": metrics,
        "iterations": linear.summary.totalIterations,
    }


#: The columns of the statistics pass that the per-split statistics read.
_STAT_COLUMNS = ("width", "height", "mean", "std", "min", "max")


def _statistics(described):
    """Per split, in one Spark job over the statistics pass's rows: min, max, mean and
    (sample) standard deviation of width and height over the files whose header was read, as
    Spark's `min`, `max`, `mean` and `stddev` give them; and the min, max, mean and standard
    deviation of every decoded pixel (0-255) over the files that decoded. Every image has
    size x size pixels, so a split's pixels pool exactly from the images' means and standard
    deviations: mean of means, and the root of the mean of (std² + mean²) less the mean².
    Then the failures: how many, and the first reasons (a second job, only when there are any)."""
    from pyspark.sql import functions as F

    decoded = F.col(columns.ERROR).isNull()
    aggregates = [f(F.col(c)).alias(f"{c}_{name}") for c in ("width", "height")
                  for name, f in (("min", F.min), ("max", F.max), ("mean", F.mean),
                                  ("stddev", F.stddev))]
    aggregates += [
        F.count("width").alias("headers"),
        F.count(F.lit(1)).alias("rows"),
        F.count(F.when(decoded, 1)).alias("decoded"),
        F.min(F.when(decoded, F.col("min"))).alias("pixel_min"),
        F.max(F.when(decoded, F.col("max"))).alias("pixel_max"),
        F.mean(F.when(decoded, F.col("mean"))).alias("pixel_mean"),
        F.mean(F.when(decoded, F.col("std") * F.col("std") + F.col("mean") * F.col("mean")))
        .alias("pixel_square"),
    ]
    sizes, intensities, headers, rows, failed = {}, {}, {}, 0, 0
    for r in described.groupBy(columns.SUBSET).agg(*aggregates).collect():
        split, r = r[columns.SUBSET], r.asDict()
        rows += r["rows"]
        failed += r["rows"] - r["decoded"]
        headers[split] = r["headers"]
        if r["headers"]:
            sizes[split] = {columns.SUBSET: split,
                            **{f"{c}_{n}": r[f"{c}_{n}"] for c in ("width", "height")
                               for n in ("min", "max", "mean", "stddev")}}
        if r["decoded"]:
            mean = r["pixel_mean"]
            intensities[split] = {"min": r["pixel_min"], "max": r["pixel_max"], "mean": mean,
                                  "std": math.sqrt(max(r["pixel_square"] - mean * mean, 0.0))}
    examples = []
    if failed:
        examples = [(e["path"], e[columns.ERROR]) for e in described.where(~decoded)
                    .select("path", columns.ERROR).limit(ERROR_EXAMPLES).collect()]
    errors = {"rows": rows, "count": failed, "share": failed / rows if rows else 0.0,
              "examples": examples, "read_headers": headers}
    return sizes, intensities, errors


#: How many failed files an error summary names (the first ones Spark finds).
ERROR_EXAMPLES = 10


class TooManyErrors(ValueError):
    """More of the files failed than the caller allows: the message says how many, and why
    the first ones did."""


def error_summary(decoded, *, examples: int = ERROR_EXAMPLES) -> dict:
    """How the files of a decoded frame (`with_features` or `with_facts`, `on_error="row"`)
    fared: `rows`, `count` (rows with `error` set), `share` and `examples`, the (path, error)
    of the first failed files Spark finds. One job counts, a second one (only when some
    failed) finds the examples: run it on a cached or saved frame, or each job decodes again."""
    from pyspark.sql import functions as F

    counts = decoded.agg(F.count(F.lit(1)).alias("rows"),
                         F.count(F.col(columns.ERROR)).alias("failed")).first()
    rows, failed = counts["rows"], counts["failed"]
    found = []
    if failed and examples:
        found = [(r["path"] if "path" in decoded.columns else None, r[columns.ERROR])
                 for r in decoded.where(F.col(columns.ERROR).isNotNull())
                 .select(*[c for c in ("path", columns.ERROR) if c in decoded.columns])
                 .limit(examples).collect()]
    return {"rows": rows, "count": failed, "share": failed / rows if rows else 0.0,
            "examples": found}


def check_errors(decoded, max_share: float, *, examples: int = ERROR_EXAMPLES) -> dict:
    """`error_summary`, raising `TooManyErrors` (with the share and the first reasons) when
    more than `max_share` of the rows (0.01: one file in a hundred) failed."""
    summary = error_summary(decoded, examples=examples)
    _check_share(summary, max_share)
    return summary


def _check_share(summary: dict, max_share: float) -> None:
    if not 0 <= max_share <= 1:
        raise ValueError(f"max_share must lie in [0, 1], not {max_share}")
    if summary["count"] and summary["share"] > max_share:
        reasons = "\n".join(f"  {path}: {error}" for path, error in summary["examples"])
        raise TooManyErrors(
            f"{summary['count']} of {summary['rows']} files failed ({summary['share']:.2%}, "
            f"more than the {max_share:.2%} allowed); the first:\n{reasons}")


def _is_local(path: str) -> bool:
    """Whether the decoder can read a file Spark listed at `path` itself: a `file:` path (a
    laptop, or a cluster's shared mount) or a Unity Catalog volume (mounted on every Databricks
    node). `binaryFile` gives every path with its scheme, so no Hadoop setting is asked (which
    Spark Connect could not). Anything else (s3a, abfss, gs, hdfs, dbfs) goes through
    `content`: Spark reads those files, and the decoder never sees a path it cannot open."""
    from urllib.parse import urlparse

    if _volume_path(str(path)) is not None:
        return True
    return urlparse(str(path)).scheme.lower() == "file"


def _reads_by_path(images) -> bool:
    """Whether these files are on a local (or mounted) file system: what `read_images` wrote in
    the `path` column's metadata, or (where it is gone: Spark Connect keeps no column metadata,
    or a frame not made by `read_images`) what the first path says, at the cost of a small job."""
    if "path" not in images.columns:
        return False
    metadata = images.schema["path"].metadata or {}
    if _LOCAL in metadata:
        return bool(metadata[_LOCAL])
    first = images.select("path").first()
    return first is not None and first["path"] is not None and _is_local(first["path"])


def _largest_file(images) -> int:
    """The largest file's bytes: from the `path` column's metadata, else from `length`."""
    metadata = (images.schema["path"].metadata or {}) if "path" in images.columns else {}
    if _LARGEST in metadata:
        return int(metadata[_LARGEST])
    if "length" not in images.columns:
        return 0
    from pyspark.sql import functions as F
    return int(images.agg(F.max("length")).first()[0] or 0)


def _has_setting(conf, key: str) -> bool:
    """Whether this Spark knows the setting `key` (asked without a default: with one, an unset
    setting gives the default back, whether Spark knows it or not)."""
    try:
        return conf.get(key) is not None
    except Exception:  # Spark 3.5 does not know it
        return False


def _size_input_batches(images, records_per_batch) -> None:
    """Reading `content`, Arrow batches of at most `BATCH_BYTES` of files going in. Spark 4
    does it by itself (`maxBytesPerBatch`, 64 MiB by default): nothing is set. Spark 3.5
    counts rows only: when its `maxRecordsPerBatch` times the largest file exceeds
    `BATCH_BYTES`, it is lowered, a session-wide setting, and a warning says so. A
    `records_per_batch` given sets it in any case."""
    conf = images.sparkSession.conf
    key = "spark.sql.execution.arrow.maxRecordsPerBatch"
    if records_per_batch is None:
        if _has_setting(conf, "spark.sql.execution.arrow.maxBytesPerBatch"):
            return
        largest = max(_largest_file(images), 1)
        current = int(conf.get(key, None) or 10_000)
        if 0 < current and current * largest <= BATCH_BYTES:
            return
        records_per_batch = max(1, BATCH_BYTES // largest)
    if conf.get(key, None) != str(records_per_batch):
        warnings.warn(f"xray_lab.spark sets the session's {key} to {records_per_batch} (the files "
                      f"come in Arrow batches, which hold at most 2 GiB); it applies to every "
                      "Arrow UDF of this session", stacklevel=4)
        conf.set(key, str(records_per_batch))


def _deal(images, partitions: int, sorted_up_to: int = DEAL_SORTED_UP_TO):
    """`images` over `partitions` partitions, dealt by file size (the `length` column; in
    order of path without it): partition k gets the files k, k + n, k + 2n, ... of the largest
    first order. Beyond `sorted_up_to` files (as `read_images` counted them), by a hash of the
    path instead: no global order to sort, and with that many files a random deal gives each
    task a like share of the bytes."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    files = (images.schema["path"].metadata or {}).get(_FILES, 0)
    if files > sorted_up_to:
        deal = F.pmod(F.xxhash64("path"), F.lit(partitions))
    else:
        by = [F.col("length").desc(), F.col("path")] if "length" in images.columns \
            else [F.col("path")]
        deal = (F.row_number().over(Window.orderBy(*by)) - 1) % partitions
    return (images.withColumn("__deal", deal)
            .repartitionByRange(partitions, "__deal").drop("__deal"))


def _is_connect(session_or_frame) -> bool:
    """Whether a session (or a DataFrame) is Spark Connect's: a client with no SparkContext, no
    RDDs and no JVM to ask."""
    return type(session_or_frame).__module__.startswith("pyspark.sql.connect")


def _default_parallelism(spark):
    """The session's default parallelism (the cores of a local session), or None where it
    cannot be known: on Spark Connect the client sees no cores, unless the session sets
    `spark.default.parallelism`."""
    if not _is_connect(spark):
        return spark.sparkContext.defaultParallelism
    value = spark.conf.get("spark.default.parallelism", None)
    return int(value) if value else None


def _partitions(df) -> int:
    """How many partitions `df` has (0 on Spark Connect, which has no RDDs to ask)."""
    return 0 if _is_connect(df) else df.rdd.getNumPartitions()


def _local_path(uri: str) -> str:
    """A path as `binaryFile` gives it (`file:/data/a b.jpeg`: Hadoop's form, not escaped) as a
    local path (`/data/a b.jpeg`)."""
    if uri.startswith("file:"):
        rest = uri[len("file:"):]
        return "/" + rest.lstrip("/") if rest.startswith("/") else rest
    volume = _volume_path(uri)
    return volume if volume is not None else uri


def _volume_path(uri: str):
    """A Unity Catalog volume's path as every Databricks node mounts it (`dbfs:/Volumes/c/s/v/a`
    -> `/Volumes/c/s/v/a`), or None for any other path."""
    for prefix in ("dbfs:/Volumes/", "/Volumes/"):
        if uri.startswith(prefix):
            return "/Volumes/" + uri[len(prefix):]
    return None


def _arrow_schema(keep, size, features, pixels):
    from pyspark.sql.pandas.types import to_arrow_type

    fields = [pa.field(f.name, to_arrow_type(f.dataType), f.nullable) for f in keep]
    for f in xray_lab.schema(size, features=features, pixels=pixels):
        if f.name == "features":
            f = pa.field("features", pa.list_(pa.float32()))
        fields.append(f)
    return pa.schema(fields)
