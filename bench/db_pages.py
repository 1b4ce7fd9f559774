#!/usr/bin/env python3
"""The database file of bench/db_pages.sh, and its report.

    db_pages.py create FILE MB        a database-like file: 4 KiB pages, each a
                                      row of random bytes and some text
                                      (about 3:1 compressible), fixed seed
    db_pages.py write FILE N ROUND    N page writes spread over the file
                                      (a different set of pages each round)
    db_pages.py report SIZES_TSV [TIMES_TSV]
                                      bytes added per incremental, per tool,
                                      and the ratios against the targets; with
                                      TIMES_TSV, glacier-backup's times too
"""
import os
import random
import sys
from collections import defaultdict

PAGE = 4096
NAMES = {"ours": "glacier-backup", "restic": "restic", "borg": "borg",
         "duplicity": "duplicity"}


def _texts():
    rng = random.Random(0)
    words = [b"alpha", b"beta", b"gamma", b"delta", b"row", b"1234", b"null", b"2026-12-07"]
    return [b" ".join(rng.choice(words) for _ in range(700))[:PAGE - PAGE // 4]
            for _ in range(256)]


TEXTS = _texts()


def page(rng):
    """A page: a quarter random bytes, the rest text rows (about 3:1 compressible)."""
    return (rng.randbytes(PAGE // 4) + rng.choice(TEXTS)).ljust(PAGE, b"\0")


def create(path, mb):
    rng = random.Random(1)
    pages = mb * 1000 * 1000 // PAGE
    with open(path, "wb") as f:
        for _ in range(pages):
            f.write(page(rng))


def write(path, n, rnd):
    rng = random.Random(1000 + rnd)
    pages = os.path.getsize(path) // PAGE
    with open(path, "r+b") as f:
        for i in range(n):
            # one page in each of n equal stretches: scattered, as a B-tree's are
            p = (pages * i) // n + rng.randrange(max(1, pages // n))
            f.seek(p * PAGE)
            f.write(page(rng))


def report_times(path):
    secs = {}
    with open(path) as f:
        for line in f:
            what, n, t = line.split()
            secs[(what, int(n))] = float(t)
    incs = sorted(n for what, n in secs if what == "backup" and n > 0)
    if incs:
        ratio = sum(secs[("backup", n)] / secs[("read", n)] for n in incs) / len(incs)
        print()
        mean_backup = sum(secs[("backup", n)] for n in incs) / len(incs)
        mean_read = sum(secs[("read", n)] for n in incs) / len(incs)
        print("glacier-backup incremental / one read of the file %6.2f  (mean of %d: %.2f s / %.2f s)" %
              (ratio, len(incs), mean_backup, mean_read))
        print("target: <= 2x one read: %s" % ("PASS" if ratio <= 2 else "MISS"))
        if mean_read < 0.5:
            print("  (the read took under 0.5 s: it came from a cache, the page cache or, on a")
            print("   virtual machine, the host's cache of its disk; --cold drops the page cache)")
    last = max((n for what, n in secs if what == "restore"), default=0)
    if last and ("restore", 0) in secs:
        ratio = secs[("restore", last)] / secs[("restore", 0)]
        print("glacier-backup restore through %d deltas / of the whole file %6.2f  (%.2f s / %.2f s)" %
              (last, ratio, secs[("restore", last)], secs[("restore", 0)]))
        if last >= 7:
            print("target: <= 1.5x: %s" % ("PASS" if ratio <= 1.5 else "MISS"))


def report(path):
    total = defaultdict(dict)
    with open(path) as f:
        for line in f:
            tool, n, b = line.split()
            total[tool][int(n)] = int(b)
    rows = []
    for tool, by_n in total.items():
        added = [by_n[n] - by_n[n - 1] for n in sorted(by_n) if n > 0]
        rows.append((tool, by_n[0], added))
    print()
    print("%-16s %14s   %s" % ("tool", "full (bytes)", "bytes added per incremental"))
    for tool, full, added in rows:
        print("%-16s %14d   %s" % (NAMES.get(tool, tool), full, "  ".join("%10d" % a for a in added)))
    mean = {t: sum(a) / len(a) for t, _, a in rows if a}
    if "ours" in mean:
        print()
        for t in ("restic", "borg", "duplicity"):
            if t in mean and mean[t] > 0:
                print("glacier-backup / %-10s %6.3f  (mean bytes per incremental)" %
                      (NAMES[t], mean["ours"] / mean[t]))
        if "duplicity" in mean:
            print("target: <= duplicity's: %s" % ("PASS" if mean["ours"] <= mean["duplicity"]
                                                  else "MISS"))
        if "restic" in mean:
            print("target: <= 1/10 of restic's: %s" % ("PASS" if mean["ours"] * 10 <= mean["restic"]
                                                      else "MISS"))


def main(argv):
    if len(argv) >= 4 and argv[1] == "create":
        create(argv[2], int(argv[3]))
    elif len(argv) >= 5 and argv[1] == "write":
        write(argv[2], int(argv[3]), int(argv[4]))
    elif len(argv) >= 3 and argv[1] == "report":
        report(argv[2])
        if len(argv) >= 4:
            report_times(argv[3])
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
