"""A start-up for Spark's Python workers that costs less: Spark's own daemon (`pyspark.daemon`),
run after two things it does not do. Turn it on when the session is made::

    SparkSession.builder.config("spark.python.daemon.module", "xray_lab.spark_daemon")

(`xray_lab.spark.DAEMON_MODULE` names it.) It must be set before the session starts, and the
package must be installed where the workers run, as `with_features` already needs.

1. **pyspark from its installed package, not from `pyspark.zip`.** Spark puts its
   `python/lib/pyspark.zip` first on the workers' `sys.path`, and that archive holds no compiled
   bytecode: Python compiles every pyspark module it imports from there again, in the daemon
   and in every worker it forks (here 1.4-1.9 s to import what a `mapInArrow` worker needs,
   against 0.6-0.9 s from the installed package). When the installed pyspark is the same
   release as the archive (its `pyspark/version.py` is the same file: true of a `pip install
   pyspark`), the archive goes to the end of `sys.path`, where it still serves anything the
   package lacks. Otherwise nothing changes.
2. **What every `mapInArrow` worker imports, imported once before the workers are forked**:
   pyarrow, pandas, pyspark's Arrow serializers and version checks (which import setuptools'
   distutils) and xray_lab's native module. A forked worker starts with them. The only threads
   running at the fork are OpenBLAS's (numpy's, in Spark's own daemon too) and jemalloc's
   background thread (pyarrow's allocator, made for forks: the child starts its own); the
   decoder starts none (`threads=1` decodes on the worker's own thread).

Measured (2026-11-28, 2 cores, `local[*]`, cold page cache, 1,580 X-rays; see the README): with
1. alone, the first Python job's workers ran our code 1.8 s after the job started instead of
2.8-3.3 s; with both, the first decoding pass took 4.4 and 5.1 s (two runs) instead of 5.1-6.3 s
(five runs, median 6.0). Later jobs reuse the workers, as before.
"""

from __future__ import annotations

import os
import sys
import zipfile


def prefer_installed_pyspark(path: list[str] | None = None) -> bool:
    """Moves Spark's `pyspark.zip` entries of `path` (default `sys.path`) after the others when
    the first installed pyspark on `path` is the same release. Says whether it moved them."""
    path = sys.path if path is None else path
    archives = [p for p in path if os.path.basename(p) == "pyspark.zip"]
    if not archives:
        return False
    try:
        with zipfile.ZipFile(archives[0]) as archive:
            zipped = archive.read("pyspark/version.py")
    except (OSError, KeyError, zipfile.BadZipFile):
        return False
    for entry in path:
        if entry in archives:
            continue
        try:
            with open(os.path.join(entry or ".", "pyspark", "version.py"), "rb") as f:
                same = f.read() == zipped
        except OSError:
            continue
        if same:
            for archive in archives:
                path.remove(archive)
            path.extend(archives)
            return True
        return False  # the first pyspark on the path is another release: leave the order alone
    return False


def preload() -> None:
    """Imports, in the daemon, what each `mapInArrow` worker would import after its fork."""
    import pyarrow  # noqa: F401
    import pyspark.worker  # noqa: F401

    try:
        import pandas  # noqa: F401
        import pyarrow.pandas_compat  # noqa: F401
        import pyspark.sql.pandas.serializers  # noqa: F401
        from pyspark.sql.pandas.utils import (require_minimum_pandas_version,
                                              require_minimum_pyarrow_version)

        # The workers' version checks import distutils (through setuptools' shim: setuptools and
        # pkg_resources, 0.2 s a worker here): once, here.
        require_minimum_pandas_version()
        require_minimum_pyarrow_version()
    except ImportError:  # pandas is optional for pyspark; the workers then say what is missing
        pass
    import xray_lab._native  # noqa: F401


def main() -> None:
    prefer_installed_pyspark()
    preload()
    from pyspark import daemon

    daemon.manager()


if __name__ == "__main__":
    main()
