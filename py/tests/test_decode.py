"""The package from plain Python: the same rows as `xray-lab features`, from every input kind."""
import os
import zipfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

import xray_lab


def files(root: Path) -> list[str]:
    return sorted(str(p) for p in root.rglob("*.jpeg"))


def test_rows_equal_the_command_bit_for_bit(real_sample, expected):
    paths = files(real_sample)
    table = xray_lab.decode(paths)
    assert table.num_rows == len(paths) == 18
    rows = dict(zip(paths, table.to_pylist()))
    good = expected["rows"]
    assert len(good) == 16
    for path, want in good.items():
        got = rows[path]
        assert got["error"] is None
        # Bit for bit: compare the float32 bytes, not values within a tolerance.
        assert np.array_equal(np.array(got["features"], np.float32).view(np.uint32),
                              np.array(want["features"], np.float32).view(np.uint32)), path
        for k in ("mean", "std", "min", "max"):
            assert got[k] == want[k], (path, k)
    # The command's rejects are the rows with an error, and both give the same reason.
    rejects = {r["path"]: r["reason"] for r in expected["report"]["rejects"]}
    errors = {p: r["error"] for p, r in rows.items() if r["error"] is not None}
    assert set(errors) == set(rejects) == {
        str(real_sample / "val" / "NORMAL" / "truncated.jpeg"),
        str(real_sample / "val" / "PNEUMONIA" / "notes.jpeg"),
    }
    assert errors == rejects
    for path in errors:
        assert rows[path]["features"] is None


def test_other_sizes_and_exact_decoding_match_the_command(real_sample, tmp_path):
    from conftest import command_features

    want = command_features(real_sample, tmp_path, "--size", "32", "--exact")["rows"]
    paths = sorted(want)
    table = xray_lab.decode(paths, size=32, exact=True)
    assert table.schema.field("features").type.list_size == 32 * 32
    x = xray_lab.matrix(table)
    assert x.shape == (16, 1024) and x.dtype == np.float32
    assert np.array_equal(x, np.array([want[p]["features"] for p in paths], np.float32))


def test_header_facts_agree_with_pillow(real_sample):
    from PIL import Image

    paths = [p for p in files(real_sample) if "truncated" not in p and "notes" not in p]
    table = xray_lab.facts(paths)
    assert "features" not in table.column_names and "mean" not in table.column_names
    # Facts alone and facts beside the features are the same; features=False keeps the rest.
    full = xray_lab.decode(paths)
    assert full.select(table.column_names).equals(table)
    assert xray_lab.decode(paths, features=False).equals(full.drop(["features"]))
    for path, row in zip(paths, table.to_pylist()):
        with Image.open(path) as img:
            assert (row["width"], row["height"], row["mode"]) == (*img.size, img.mode)
            assert row["progressive"] == bool(img.info.get("progressive", 0))
        assert (row["bit_depth"], row["format"], row["error"]) == (8, "jpeg", None)


def test_every_kind_of_input_gives_the_same_table(real_sample):
    import pandas as pd
    import polars as pl

    paths = files(real_sample)
    contents = [Path(p).read_bytes() for p in paths]
    want = xray_lab.decode(paths, size=64)
    binary = pa.array(contents, pa.binary())
    inputs = {
        "Path objects": [Path(p) for p in paths],
        "bytes": contents,
        "arrow binary": binary,
        "arrow large binary": pa.array(contents, pa.large_binary()),
        "chunked": pa.chunked_array([binary.slice(0, 5), binary.slice(5)]),
        "polars": pl.Series(paths),
        "pandas": pd.Series(paths),
        "numpy": np.array(paths, dtype=object),
    }
    for name, given in inputs.items():
        got = xray_lab.decode(given, size=64)
        assert got.equals(want), name
    # A slice (an array whose offsets do not start at 0) reads the right files.
    assert xray_lab.decode(binary.slice(3, 4), size=64).equals(want.slice(3, 4))
    # One thread or several: the same rows.
    assert xray_lab.decode(paths, size=64, threads=1).equals(want)


def test_every_arrow_binary_layout_is_read_in_place(real_sample):
    """The contents come in through Arrow's C data interface: binary, large binary and binary
    view (what polars and Spark 4 may hand over) give the same rows, slices included; anything
    else is refused with its type named, never read as bytes."""
    from xray_lab import _native

    contents = [Path(p).read_bytes() for p in files(real_sample)]
    want = _native.decode_contents(pa.array(contents, pa.binary()), size=64)
    assert sum(e is None for e in want["error"]) >= 16
    for kind in (pa.large_binary(), pa.binary_view()):
        assert _native.decode_contents(pa.array(contents, kind), size=64) == want, kind
    sliced = _native.decode_contents(pa.array(contents, pa.binary_view()).slice(2, 5), size=64)
    assert sliced["error"] == want["error"][2:7]
    with pytest.raises(TypeError, match="Utf8"):  # a string array
        _native.decode_contents(pa.array(["a.jpeg"]), size=64)
    with pytest.raises(TypeError, match="bytes"):
        _native.decode_contents(b"".join(contents), size=64)


def test_bad_input_is_an_error_row_never_an_exception(tmp_path):
    missing = str(tmp_path / "nowhere.jpeg")
    table = xray_lab.decode(pa.array([b"", None, b"\xff\xd8\xff\xe0garbage"], pa.binary()))
    errors = table.column("error").to_pylist()
    assert errors[0] == "empty file (0 bytes)"
    assert errors[1] == "no content (null)"
    assert "JPEG" in errors[2]
    assert table.column("features").null_count == 3
    row = xray_lab.decode([missing]).to_pylist()[0]
    assert "No such file" in row["error"] and row["features"] is None
    with pytest.raises(ValueError, match="size"):
        xray_lab.decode([missing], size=0)
    with pytest.raises(TypeError):
        xray_lab.decode(pa.array([1, 2]))


def test_patients_by_the_crates_rule():
    assert xray_lab.patient_ids(["a/person1946_bacteria_4874.jpeg", "NORMAL2-IM-1427-0001.jpeg",
                                 "IM-0115-0001.jpeg", "photo.png"]) == [
        "person1946", "IM-1427", "IM-0115", None]


def test_works_after_fork(real_sample):
    """A Spark worker forks from a daemon that may have imported the package: decoding in the
    child must work (no thread pool is started at import or by threads=1)."""
    paths = files(real_sample)[:4]
    want = xray_lab.decode(paths, threads=1).column("mean").to_pylist()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            got = xray_lab.decode(paths, threads=1).column("mean").to_pylist()
            os.write(write, repr(got).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as f:
        got = f.read()
    os.waitpid(pid, 0)
    assert got == repr(want)


def test_the_spark_daemon_prefers_the_installed_pyspark_of_the_same_release(tmp_path):
    from xray_lab.spark_daemon import prefer_installed_pyspark

    def tree(name, version):
        (tmp_path / name / "pyspark").mkdir(parents=True)
        (tmp_path / name / "pyspark" / "version.py").write_text(f'__version__ = "{version}"\n')
        return str(tmp_path / name)

    archive = str(tmp_path / "lib" / "pyspark.zip")
    (tmp_path / "lib").mkdir()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("pyspark/version.py", '__version__ = "3.5.3"\n')
    same, other, empty = tree("same", "3.5.3"), tree("other", "3.4.1"), str(tmp_path / "empty")

    path = [archive, empty, same]
    assert prefer_installed_pyspark(path) and path == [empty, same, archive]
    path = [archive, other, same]  # the first pyspark found is another release: left alone
    assert not prefer_installed_pyspark(path) and path == [archive, other, same]
    path = [empty, same]
    assert not prefer_installed_pyspark(path) and path == [empty, same]


def test_the_package_takes_its_defaults_and_columns_from_the_crate(real_sample):
    # One contract: the native module hands over the crate's defaults and column names
    # (xray_lab::columns), and the tables decode returns are built to that schema.
    assert xray_lab.DEFAULT_SIZE == 150 and xray_lab.DEFAULT_MAX_PIXELS == 100_000_000
    assert (xray_lab.columns.SPLIT, xray_lab.columns.SUBSET) == ("split", "subset")
    table = xray_lab.decode(files(real_sample)[:2])
    assert table.schema == xray_lab.schema()
    assert table.column_names[0] == xray_lab.columns.FEATURES
    assert table.column_names[-1] == xray_lab.columns.ERROR
    assert xray_lab.facts(files(real_sample)[:2]).schema == xray_lab.schema(pixels=False)


def test_on_error_chooses_what_a_bad_file_becomes(real_sample, tmp_path):
    good = files(real_sample)[0]
    truncated = str(real_sample / "val" / "NORMAL" / "truncated.jpeg")
    gone = str(tmp_path / "gone.jpeg")
    table = xray_lab.decode([good, truncated, gone])
    assert table.num_rows == 3 and table.column("error").null_count == 1
    # "raise": a file that cannot be read at all is an OSError naming it; one that reads but
    # does not decode stays a row.
    with pytest.raises(OSError, match="gone.jpeg"):
        xray_lab.decode([good, truncated, gone], on_error="raise")
    with pytest.raises(OSError, match="gone.jpeg"):
        xray_lab.facts([good, gone], on_error="raise")
    assert xray_lab.decode([good, truncated], on_error="raise").num_rows == 2
    # "drop": only the files that gave features.
    dropped = xray_lab.decode([good, truncated, gone], on_error="drop")
    assert dropped.num_rows == 1 and dropped.column("error").null_count == 1
    with pytest.raises(ValueError, match="on_error"):
        xray_lab.decode([good], on_error="skip")


def test_the_package_parses_as_python_3_9():
    # The wheel is abi3 for CPython 3.9 and later (requires-python >= 3.9); no 3.9 interpreter
    # is at hand here, so at least the grammar is checked: no syntax newer than 3.9's.
    import ast

    modules = sorted(Path(xray_lab.__file__).parent.glob("*.py"))
    assert {m.name for m in modules} >= {"__init__.py", "spark.py", "spark_daemon.py"}
    for module in modules:
        ast.parse(module.read_text(), filename=str(module), feature_version=(3, 9))
