"""The report's decoding with Pillow, done well: open, (draft), convert("L"), resize to 150x150
(BICUBIC, Pillow's default), /255, one process per core. The reference for `bench/decode.py`.

    python3 bench/pillow_features.py FILE_LIST OUT.f32 [--draft] [--size 150] [--processes 2]

FILE_LIST holds one image path per line; OUT.f32 gets the rows x size*size float32 matrix in that
order (a failed file gives a row of NaN). Prints a JSON line: images, seconds, images_per_second.
"""
import argparse
import json
import multiprocessing as mp
import time

import numpy as np
from PIL import Image

SIZE = 150
DRAFT = False


def init(size, draft):
    global SIZE, DRAFT
    SIZE, DRAFT = size, draft


def features(path):
    try:
        with Image.open(path) as im:
            if DRAFT:
                im.draft("L", (SIZE, SIZE))
            im = im.convert("L").resize((SIZE, SIZE), Image.BICUBIC)
            return np.asarray(im, dtype=np.float32).reshape(-1) / 255.0
    except Exception:  # a bad file: a row of NaN, as a reject
        return np.full(SIZE * SIZE, np.nan, dtype=np.float32)


def arrow_decode(paths, *, size=150, exact=False, features=True, threads=1, on_error="row"):
    """`xray_lab.decode`'s table (the same columns and types) made by Pillow with `draft`, one
    file after another: the decoder of bench/spark.py's control run, which puts it in
    `xray_lab.spark`'s plan (`with_features(decoder=...)`) so that the plan's gain and the
    decoder's gain show apart. The header columns are Pillow's (its mode and format names);
    the intensities are those of the size x size pixels, on 0-255, as the crate's. `exact`,
    `threads` and `on_error` are accepted and ignored: one thread, every failure a row."""
    import pyarrow as pa

    import xray_lab

    schema = xray_lab.schema(size, features=features)
    columns = {f.name: [] for f in schema}
    values = []
    for path in paths:
        try:
            with Image.open(path) as im:
                fmt, (width, height), mode = im.format, im.size, im.mode
                progressive = bool(im.info.get("progressive") or im.info.get("progression"))
                im.draft("L", (size, size))
                pixels = np.asarray(im.convert("L").resize((size, size), Image.BICUBIC),
                                    dtype=np.uint8).reshape(-1)
        except Exception as e:  # a bad file: a row with its reason
            for name in columns:
                columns[name].append(str(e) if name == "error" else None)
            values.append(np.zeros(size * size, np.float32))
            continue
        as_float = pixels.astype(np.float64)
        row = {"width": width, "height": height, "mode": mode,
               "bit_depth": {"1": 1, "I;16": 16, "I": 32, "F": 32}.get(mode, 8), "format": fmt,
               "progressive": progressive, "mean": float(as_float.mean()),
               "std": float(as_float.std()), "min": float(pixels.min()),
               "max": float(pixels.max()), "error": None}
        for name in columns:
            if name != "features":
                columns[name].append(row[name])
        values.append(pixels.astype(np.float32) / 255.0)
    arrays = []
    for field in schema:
        if field.name == "features":
            flat = pa.array(np.concatenate(values) if values else np.zeros(0, np.float32))
            failed = pa.array([e is not None for e in columns["error"]], pa.bool_())
            arrays.append(pa.FixedSizeListArray.from_arrays(flat, size * size, mask=failed))
        else:
            arrays.append(pa.array(columns[field.name], field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file_list")
    ap.add_argument("out")
    ap.add_argument("--draft", action="store_true")
    ap.add_argument("--size", type=int, default=150)
    ap.add_argument("--processes", type=int, default=2)
    args = ap.parse_args()
    paths = [p for p in open(args.file_list).read().splitlines() if p]
    start = time.perf_counter()
    matrix = np.empty((len(paths), args.size * args.size), dtype=np.float32)
    with mp.Pool(args.processes, initializer=init, initargs=(args.size, args.draft)) as pool:
        for i, row in enumerate(pool.imap(features, paths, chunksize=32)):
            matrix[i] = row
    seconds = time.perf_counter() - start
    matrix.tofile(args.out)
    print(json.dumps({"images": len(paths), "seconds": seconds, "images_per_second": len(paths) / seconds}))


if __name__ == "__main__":
    main()
