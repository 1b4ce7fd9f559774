#!/usr/bin/env python3
"""Restores a glacier-backup set with stock tools only: age, zstd, tar, rdiff.

usage: restore-set.py IDENTITY TARGET ARCHIVE...

ARCHIVE... are the set's full backup and then its incrementals in order, up to
the backup point wanted (…-full…, …-i01…, …-i02…). Each is extracted into
TARGET; then the paths its manifest marks deleted are removed, and the files
its .glacier-backup/deltas.json lists are rebuilt with `rdiff patch` from the
version already in TARGET, each checked against its SHA-256. Every file an
archive holds is checked against its checksums member. Exits 1 on any
mismatch, naming the file.
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys

META = ".glacier-backup"


def fail(msg):
    sys.stderr.write("restore-set: " + msg + "\n")
    sys.exit(1)


def name(obj, key):
    if key in obj:
        return os.fsencode(obj[key])
    if key + "_hex" in obj:
        return bytes.fromhex(obj[key + "_hex"])
    return None


def lines(path):
    """The entry lines of a manifest-shaped document (head, one object a line, tail)."""
    with open(path, "rb") as f:
        next(f)
        for line in f:
            line = line.strip()
            if not line or line.startswith(b"]"):
                break
            yield json.loads(line.lstrip(b","))


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def extract(identity, archive, target):
    age = subprocess.Popen(["age", "-d", "-i", identity, archive], stdout=subprocess.PIPE)
    zstd = subprocess.Popen(["zstd", "-d", "-q"], stdin=age.stdout, stdout=subprocess.PIPE)
    age.stdout.close()
    tar = subprocess.Popen(["tar", "-xf", "-", "-C", target], stdin=zstd.stdout)
    zstd.stdout.close()
    if tar.wait() or zstd.wait() or age.wait():
        fail("cannot extract " + archive)


def apply_archive(identity, archive, target):
    meta = os.path.join(target, META)
    shutil.rmtree(meta, ignore_errors=True)
    extract(identity, archive, target)
    tb = os.fsencode(target)
    entries = {}
    for e in lines(os.path.join(meta, "manifest.json")):
        path = name(e, "path")
        entries[path] = e
        if e["type"] == "deleted":
            p = os.path.join(tb, path)
            if os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p)
            elif os.path.lexists(p):
                os.unlink(p)
    deltas = os.path.join(meta, "deltas.json")
    if os.path.exists(deltas):
        for d in lines(deltas):
            path = os.fsencode(d["path"])
            basis = os.path.join(tb, path)
            if not os.path.exists(basis) or sha256(basis) != d["basis_sha256"]:
                fail("%s: the version its delta applies to is missing or different "
                     "(apply the set's archives in order)" % d["path"])
            out = basis + b".rdiff-new"
            subprocess.run(["rdiff", "patch", basis, os.path.join(tb, os.fsencode(d["member"])),
                            out], check=True)
            if sha256(out) != d["sha256"]:
                os.unlink(out)
                fail("%s: rebuilt from its delta, the content does not match" % d["path"])
            e = entries[path]
            os.chmod(out, e["mode"])
            mtime = e["mtime"] * 10**9 + e.get("mtime_nsec", 0)
            os.utime(out, ns=(mtime, mtime))
            os.replace(out, basis)
    for c in lines(os.path.join(meta, "checksums.json")):
        p = os.path.join(tb, name(c, "path"))
        if sha256(p) != c["sha256"]:
            fail("%s: content does not match the checksums of %s" % (os.fsdecode(p), archive))
    shutil.rmtree(meta)


def main(argv):
    if len(argv) < 4:
        sys.stderr.write(__doc__)
        return 2
    identity, target, archives = argv[1], argv[2], argv[3:]
    os.makedirs(target, exist_ok=True)
    for a in archives:
        apply_archive(identity, a, target)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
