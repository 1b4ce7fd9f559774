#!/usr/bin/env python3
"""Summarises the measurements of bench/run.sh.

    report.py TIMES_TSV SIZES_TSV MODE

TIMES_TSV lines: label rep wall_s peak_rss_kb user_s sys_s
SIZES_TSV lines: label bytes (output size after the first/full backup)
MODE: "tree" or "small-files" (the small-files case adds two targets).
Prints a table of medians and the target ratios with PASS/MISS. Labels ending
in ".cold" (bench/run.sh --cold) add a table of cold beside warm times and the
cold targets.
"""
import statistics
import sys
from collections import defaultdict

ROWS = [
    ("stat_walk", "stat-only walk (find -printf)"),
    ("tar_zstd", "tar | zstd -3 -T0"),
    ("ours_full", "glacier-backup backup --full"),
    ("ours_nochange", "glacier-backup backup (no change)"),
    ("ours_restore", "glacier-backup restore"),
    ("restic_full", "restic backup (first)"),
    ("restic_nochange", "restic backup (no change)"),
    ("restic_restore", "restic restore"),
    ("borg_full", "borg create (first)"),
    ("borg_nochange", "borg create (no change)"),
    ("borg_extract", "borg extract"),
]
OURS = ("ours_full", "ours_nochange", "ours_restore")


def main():
    times_path, sizes_path, mode = sys.argv[1:4]
    samples = defaultdict(list)
    with open(times_path) as f:
        for line in f:
            label, _rep, wall, rss, user, sys_ = line.split()
            samples[label].append((float(wall), int(rss), float(user), float(sys_)))
    sizes = {}
    with open(sizes_path) as f:
        for line in f:
            label, n = line.split()
            sizes[label] = int(n)

    med = {}
    for label, s in samples.items():
        med[label] = {
            "wall": statistics.median(x[0] for x in s),
            "rss": statistics.median(x[1] for x in s) / 1024.0,  # MiB
            "user": statistics.median(x[2] for x in s),
            "sys": statistics.median(x[3] for x in s),
            "n": len(s),
            "min": min(x[0] for x in s),
            "max": max(x[0] for x in s),
        }

    print()
    print("%-40s %9s %13s %9s %8s %8s %6s %10s" %
          ("operation (median of n)", "wall s", "min-max s", "RSS MiB", "user s", "sys s",
           "CPU%", "out MB"))
    for label, title in ROWS:
        if label not in med:
            continue
        m = med[label]
        cpu = 100.0 * (m["user"] + m["sys"]) / m["wall"] if m["wall"] > 0 else 0.0
        size = "%.1f" % (sizes[label] / 1e6) if label in sizes else "-"
        print("%-40s %9.3f %13s %9.1f %8.2f %8.2f %6.0f %10s" %
              ("%s (%d)" % (title, m["n"]), m["wall"], "%.2f-%.2f" % (m["min"], m["max"]),
               m["rss"], m["user"], m["sys"], cpu, size))

    def wall_ratio(a, b):
        if a in med and b in med and med[b]["wall"] > 0:
            return med[a]["wall"] / med[b]["wall"]
        return None

    def cpu_ratio(a, b):
        if a in med and b in med and med[b]["user"] + med[b]["sys"] > 0:
            return (med[a]["user"] + med[a]["sys"]) / (med[b]["user"] + med[b]["sys"])
        return None

    ours_rss = max((med[l]["rss"] for l in OURS if l in med), default=None)
    small = mode == "small-files"
    # (description, value, limit, strict, unit); limit None = shown for information only
    checks = [
        ("our full / tar|zstd", wall_ratio("ours_full", "tar_zstd"), 1.3 if small else 1.1,
         False, "x"),
        ("our no-change / stat walk", wall_ratio("ours_nochange", "stat_walk"),
         1.5 if small else 3.0, False, "x"),
        ("our restore / restic restore", wall_ratio("ours_restore", "restic_restore"),
         1.0 if small else 0.4, small, "x"),
        ("our full / restic full", wall_ratio("ours_full", "restic_full"),
         0.35 if small else None, False, "x"),
        ("our no-change / restic no-change", wall_ratio("ours_nochange", "restic_nochange"),
         None, False, "x"),
        ("our full / borg full", wall_ratio("ours_full", "borg_full"), None, False, "x"),
        ("our restore / borg extract", wall_ratio("ours_restore", "borg_extract"), None, False,
         "x"),
        # CPU seconds (user + sys): steadier than wall clock on a busy machine
        ("our full / tar|zstd, CPU time", cpu_ratio("ours_full", "tar_zstd"), None, False, "x"),
        ("our no-change / stat walk, CPU time", cpu_ratio("ours_nochange", "stat_walk"), None,
         False, "x"),
        ("our restore / restic restore, CPU", cpu_ratio("ours_restore", "restic_restore"), None,
         False, "x"),
        # 100 MB
        ("our peak RSS (max of 3 ops)", ours_rss, 95.4 if small else None, False, " MiB"),
    ]
    for tool in ("restic", "borg"):
        rss = max((med[l]["rss"] for l in med if l.startswith(tool)), default=None)
        if rss is not None:
            checks.append(("%s peak RSS" % tool, rss, None, False, " MiB"))

    print()
    print("%-37s %10s %10s  %s" % ("ratio", "value", "target", "result"))
    missed = 0
    for desc, value, limit, strict, unit in checks:
        if value is None:
            if limit is not None:
                print("%-37s %10s %10s  %s" % (desc, "n/a", ("< " if strict else "<= ") +
                                                 "%g" % limit, "n/a (not measured)"))
            continue
        shown = ("%.2f" % value) + unit
        if limit is None:
            print("%-37s %10s %10s  %s" % (desc, shown, "-", "info"))
            continue
        ok = value < limit if strict else value <= limit
        missed += not ok
        print("%-37s %10s %10s  %s" % (desc, shown, ("< " if strict else "<= ") + "%g" % limit
                                      + unit.strip(), "PASS" if ok else "MISS"))
    missed += print_cold(med, small)
    print()
    print("%d target(s) missed" % missed if missed else "all measured targets met")


def print_cold(med, small):
    """The cold pass beside the warm one, and the cold targets; returns the misses."""
    if not any(label.endswith(".cold") for label in med):
        return 0
    print()
    print("page cache dropped before every command (cold) beside a warm cache:")
    print("%-40s %9s %9s %11s" % ("operation (median wall s)", "warm", "cold", "cold/warm"))
    for label, title in ROWS:
        warm, cold = med.get(label), med.get(label + ".cold")
        if not warm or not cold:
            continue
        print("%-40s %9.3f %9.3f %10.2fx" % (title, warm["wall"], cold["wall"],
                                            cold["wall"] / warm["wall"] if warm["wall"] else 0))

    def cold_ratio(a, b):
        a, b = a + ".cold", b + ".cold"
        if a in med and b in med and med[b]["wall"] > 0:
            return med[a]["wall"] / med[b]["wall"]
        return None

    checks = [
        ("cold: our full / tar|zstd", cold_ratio("ours_full", "tar_zstd"), 0.8 if small else 1.0),
        ("cold: our full / restic full", cold_ratio("ours_full", "restic_full"),
         0.5 if small else None),
        ("cold: our no-change / stat walk", cold_ratio("ours_nochange", "stat_walk"),
         1.5 if small else None),
        ("cold: our restore / restic restore", cold_ratio("ours_restore", "restic_restore"), None),
    ]
    print()
    print("%-37s %10s %10s  %s" % ("cold ratio", "value", "target", "result"))
    missed = 0
    for desc, value, limit in checks:
        if value is None:
            if limit is not None:
                print("%-37s %10s %10s  %s" % (desc, "n/a", "<= %g" % limit, "n/a (not measured)"))
            continue
        if limit is None:
            print("%-37s %10s %10s  %s" % (desc, "%.2fx" % value, "-", "info"))
            continue
        ok = value <= limit
        missed += not ok
        print("%-37s %10s %10s  %s" % (desc, "%.2fx" % value, "<= %gx" % limit,
                                      "PASS" if ok else "MISS"))
    return missed


if __name__ == "__main__":
    main()
