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
