#!/usr/bin/env python3
"""Writes a synthetic tree of small files for bench/run.sh --small-files.

    gen_tree.py OUT_DIR N_DIRS N_FILES [--seed N] [--jobs N]

OUT_DIR/dNNNNN/fNNNNN.txt, N_DIRS directories of N_FILES files each. Every file
is 0-8 KiB (uniform) cut at a random offset from an 8 MiB corpus that mixes
English-like text, columns of numbers and base64 of random bytes, so the data
compresses, but not too well, and files are rarely identical. Deterministic for
a given seed. Directories are spread over --jobs processes (default: cores).
"""
import argparse
import base64
import os
import random
import sys
from multiprocessing import Pool

MAX_SIZE = 8 * 1024
CORPUS_SIZE = 8 * 1024 * 1024


def make_corpus(seed):
    rng = random.Random(seed)
    letters = "etaoinshrdlucmfwypvbgkjqxz"
    weights = [12.7, 9.1, 8.2, 7.5, 7.0, 6.7, 6.3, 6.1, 6.0, 4.3, 4.0, 2.8, 2.8, 2.4,
               2.2, 2.0, 2.0, 1.9, 1.5, 1.0, 0.8, 0.15, 0.15, 0.1, 0.1, 0.07]
    vocab = ["".join(rng.choices(letters, weights, k=rng.randint(1, 10))) for _ in range(5000)]
    parts, size = [], 0
    while size < CORPUS_SIZE:
        kind = rng.random()
        if kind < 0.65:  # prose
            words = rng.choices(vocab, k=rng.randint(20, 200))
            chunk = " ".join(words) + ".\n"
        elif kind < 0.85:  # numeric columns
            chunk = "".join("%d\t%.4f\t%d\n" % (rng.randint(0, 10**6), rng.random() * 1000,
                                                 rng.randint(0, 99))
                            for _ in range(rng.randint(5, 60)))
        else:  # incompressible
            chunk = base64.encodebytes(rng.randbytes(rng.randint(200, 3000))).decode()
        parts.append(chunk)
        size += len(chunk)
    return "".join(parts).encode()[:CORPUS_SIZE]


CORPUS = b""


def init_worker(seed):
    global CORPUS
    CORPUS = make_corpus(seed)


def write_dir(args):
    out, d, n_files, seed = args
    rng = random.Random(seed * 1_000_003 + d)
    path = os.path.join(out, "d%05d" % d)
    os.mkdir(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    total = 0
    for f in range(n_files):
        size = rng.randint(0, MAX_SIZE)
        off = rng.randrange(0, CORPUS_SIZE - MAX_SIZE)
        fd = os.open(os.path.join(path, "f%05d.txt" % f), flags, 0o644)
        if size:
            os.write(fd, CORPUS[off:off + size])
        os.close(fd)
        total += size
    return total


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("n_dirs", type=int)
    ap.add_argument("n_files", type=int)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    tasks = [(a.out, d, a.n_files, a.seed) for d in range(a.n_dirs)]
    with Pool(a.jobs, initializer=init_worker, initargs=(a.seed,)) as pool:
        total = sum(pool.imap_unordered(write_dir, tasks, chunksize=4))
    print("%d files, %.1f MB" % (a.n_dirs * a.n_files, total / 1e6), file=sys.stderr)


if __name__ == "__main__":
    main()
