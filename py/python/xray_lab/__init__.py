"""xray-lab's decoder for Python: image files in, features, intensity statistics and header facts out.

The Rust crate `xray_lab` decodes here exactly as `xray-lab features` does (the same code: a row
is bit for bit the command's row for the same file and settings), from a list of paths, a list of
bytes, or an Arrow binary column, and returns an Arrow table::

    import xray_lab
    table = xray_lab.decode(["chest_xray/val/NORMAL/NORMAL2-IM-1427-0001.jpeg"])
    table.column_names   # features, width, height, mode, bit_depth, format, progressive,
                         # mean, std, min, max, error
    x = xray_lab.matrix(table)            # numpy (rows, 22500) float32 in [0, 1]
    table.to_pandas(); polars.from_arrow(table)

`features` is 150x150 grayscale values in [0, 1] (the report's `decode_image`), row-major,
null when the file could not be decoded; `mean`, `std`, `min`, `max` are the decoded pixels'
intensities on the 0-255 scale; `width` ... `progressive` come from the file's header; `error`
says why a file gave no features (null when it did). A bad file is a row with an error, never an
exception, unless `on_error` says otherwise ("raise": a file that cannot be read at all raises
`OSError`; "drop": no row). `xray_lab.facts(files)` reads the headers alone (no decoding), and
`xray_lab.spark` runs the same inside Spark (`mapInArrow`).
"""

from __future__ import annotations

import os
from types import SimpleNamespace
from typing import Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute)

from . import _native
from ._native import __version__

__all__ = ["decode", "facts", "decode_batch", "matrix", "patient_ids", "schema", "columns",
           "DEFAULT_SIZE", "DEFAULT_MAX_PIXELS", "DEFAULT_EXTENSIONS", "ON_ERROR", "__version__"]

#: The report's side: 150 x 150 = 22,500 features per image (the crate's default).
DEFAULT_SIZE: int = _native.DEFAULT_SIZE
#: The crate's pixel limit (a larger image is an error row: a decompression bomb?).
DEFAULT_MAX_PIXELS: int = _native.DEFAULT_MAX_PIXELS
#: The extensions the crate's scan takes for images, compared without regard to case.
DEFAULT_EXTENSIONS: tuple[str, ...] = tuple(_native.DEFAULT_EXTENSIONS)
#: The crate's column names (`xray_lab::columns`): `columns.SPLIT` is the folder a file sits in
#: (`train`, `test`, `val`), `columns.SUBSET` the subset a resplit puts it in, and so on.
columns = SimpleNamespace(**_native.COLUMNS)

_ARROW = {"int32": pa.int32(), "string": pa.string(), "bool": pa.bool_(), "float64": pa.float64()}


def schema(size: int = DEFAULT_SIZE, *, features: bool = True, pixels: bool = True) -> pa.Schema:
    """The columns `decode` returns, in order (`pixels=False`: the columns of `facts`), as the
    crate names and types them."""
    fields = []
    if features and pixels:
        fields.append(pa.field(columns.FEATURES, pa.list_(pa.float32(), size * size)))
    fields += [pa.field(name, _ARROW[kind]) for name, kind in _native.HEADER_COLUMNS]
    if pixels:
        fields += [pa.field(name, _ARROW[kind]) for name, kind in _native.INTENSITY_COLUMNS]
    fields.append(pa.field(columns.ERROR, pa.string()))
    return pa.schema(fields)


def decode(
    files,
    *,
    size: int = DEFAULT_SIZE,
    exact: bool = False,
    features: bool = True,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    threads: int | None = None,
    on_error: str = "row",
) -> pa.Table:
    """Decodes `files` and returns one row per file, in order (see the module's text).

    `files`: paths (a list of `str` or `os.PathLike`, or an Arrow/polars/pandas string column)
    or contents (a list of `bytes`, or an Arrow binary column such as Spark's `binaryFile`
    `content`). `size`: the side of the square the images are resized to. `exact`: decode JPEGs
    at full resolution instead of scaling them down in the DCT domain first (slower; the
    default is what `xray-lab features` does by default). `features=False` leaves out the
    `features` column (the intensities are still computed from the decoded pixels).
    `threads`: decoding threads (default: one per core; 1 decodes on the calling thread).
    `on_error`: what a file that gives no features becomes (see `ON_ERROR`): "row" (the
    default: a row with `error` set), "raise" (an `OSError` when a file cannot be read at all;
    a file that reads but does not decode is still a row), "drop" (no row).
    """
    return _run(files, size=size, exact=exact, pixels=True, features=features,
                max_pixels=max_pixels, threads=threads, on_error=on_error)


def facts(files, *, threads: int | None = None, on_error: str = "row") -> pa.Table:
    """What each file's header says, without decoding it: width, height, mode, bit_depth,
    format, progressive, and error (null unless the header could not be read). Much faster
    than `decode`: the image sizes of the report's exploration. `on_error` as for `decode`."""
    return _run(files, size=DEFAULT_SIZE, exact=False, pixels=False, features=False,
                max_pixels=DEFAULT_MAX_PIXELS, threads=threads, on_error=on_error)


def _run(files, *, size, exact, pixels, features, max_pixels, threads, on_error) -> pa.Table:
    _check_on_error(on_error)
    if threads is None:
        threads = os.cpu_count() or 1
    column = _as_arrow(files)
    settings = dict(size=size, exact=exact, max_pixels=max_pixels, threads=threads)
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        paths = column.to_pylist()
        if any(p is None for p in paths):
            raise ValueError("a path is missing (null)")
        out = _native.decode_paths(paths, pixels=pixels, features=features, **settings)
        return _handled(_table(out, len(paths), size, features, pixels, None), out, on_error,
                        paths)
    if pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type):
        return decode_batch(column, pixels=pixels, features=features, on_error=on_error,
                            **settings)
    raise TypeError(f"files must be paths or file contents, not {column.type}")


def decode_batch(
    contents: pa.Array,
    *,
    size: int = DEFAULT_SIZE,
    exact: bool = False,
    features: bool = True,
    pixels: bool = True,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    threads: int = 1,
    on_error: str = "row",
) -> pa.Table:
    """`decode` (or, with `pixels=False`, `facts`) for one Arrow binary (binary, large binary
    or binary view) array, read in place: what the Spark helpers call on each batch. Null contents are error
    rows (bytes in hand cannot fail to be read: `on_error="raise"` keeps them rows too)."""
    _check_on_error(on_error)
    if isinstance(contents, pa.ChunkedArray):
        contents = contents.combine_chunks()
    if not isinstance(contents, pa.Array):
        raise TypeError(f"contents must be an Arrow binary array, not {type(contents).__name__}")
    n = len(contents)
    # Read in place through Arrow's C data interface (Arrow arrays are immutable: nothing can
    # change them while the native side decodes without the GIL).
    out = _native.decode_contents(contents, size=size, exact=exact, max_pixels=max_pixels,
                                  threads=threads, pixels=pixels, features=features)
    nulls = contents.is_null().to_numpy(zero_copy_only=False) if contents.null_count else None
    return _handled(_table(out, n, size, features, pixels, nulls), out, on_error, None)


#: What a file that gives no features can become: a row with `error` set; an `OSError` when it
#: cannot be read at all (missing, no permission, a mount gone: a retry may cure it) while a file
#: that reads but does not decode stays a row; or no row.
ON_ERROR = ("row", "raise", "drop")


def _check_on_error(on_error: str) -> None:
    if on_error not in ON_ERROR:
        raise ValueError(f"on_error must be one of {', '.join(map(repr, ON_ERROR))}, "
                         f"not {on_error!r}")


def _handled(table: pa.Table, out: dict, on_error: str, paths) -> pa.Table:
    if on_error == "raise":
        for i, unreadable in enumerate(out["unreadable"]):
            if unreadable:
                where = paths[i] if paths is not None else f"row {i}"
                raise OSError(f"{where}: {out[columns.ERROR][i]}")
    elif on_error == "drop":
        return table.filter(pa.compute.is_null(table.column(columns.ERROR)))
    return table


def matrix(table: pa.Table) -> np.ndarray:
    """The `features` column as a numpy `(rows, size * size)` float32 matrix (rows with an
    error are zeros: filter on `error` first to drop them)."""
    column = table.column(columns.FEATURES).combine_chunks()
    k = column.type.list_size
    values = column.values.to_numpy(zero_copy_only=False)
    return values[column.offset * k: (column.offset + len(column)) * k].reshape(len(column), k)


def patient_ids(names: Iterable[str]) -> list[str | None]:
    """The patient of each Kaggle file name (`person1946_bacteria_4874.jpeg` -> `person1946`,
    `NORMAL2-IM-1427-0001.jpeg` -> `IM-1427`; None when the name says none), by the crate's
    rule (`xray_lab::load::patient_id`)."""
    return _native.patient_ids([os.path.basename(str(n)) for n in names])


def _as_arrow(files) -> pa.Array:
    if isinstance(files, (pa.Array, pa.ChunkedArray)):
        return files.combine_chunks() if isinstance(files, pa.ChunkedArray) else files
    if hasattr(files, "to_arrow"):  # polars Series
        return _as_arrow(files.to_arrow())
    if hasattr(files, "to_numpy") and hasattr(files, "dtype"):  # pandas Series, numpy array
        files = files.tolist() if hasattr(files, "tolist") else list(files)
    files = list(files)
    if files and all(isinstance(f, (bytes, bytearray, memoryview)) for f in files):
        return pa.array([bytes(f) for f in files], pa.large_binary())
    return pa.array([os.fspath(f) for f in files], pa.large_string())


def _table(out: dict, n: int, size: int, features: bool, pixels: bool, nulls) -> pa.Table:
    error = out[columns.ERROR]
    if nulls is not None:
        error = ["no content (null)" if null else e for e, null in zip(error, nulls)]
    arrays = []
    target = schema(size, features=features, pixels=pixels)
    if features and pixels:
        values = pa.py_buffer(out[columns.FEATURES])
        flat = pa.Array.from_buffers(pa.float32(), n * size * size, [None, values])
        failed = pa.array([e is not None for e in error], pa.bool_())
        arrays.append(pa.FixedSizeListArray.from_arrays(flat, size * size, mask=failed))
    for field in list(target)[len(arrays):]:
        values = error if field.name == columns.ERROR else out[field.name]
        arrays.append(pa.array(values, field.type))
    return pa.Table.from_arrays(arrays, schema=target)
