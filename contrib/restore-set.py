#!/usr/bin/env python3
"""Restores a glacier-backup set with stock tools only: age, zstd, GNU tar,
rdiff and setfacl, besides python3.

usage: restore-set.py IDENTITY TARGET ARCHIVE...

ARCHIVE... are the set's full backup and then its incrementals in order, up to
the backup point wanted (…-full…, …-i01…, …-i02…). For each archive:

1. its .glacier-backup/ members (manifest, deltas, checksums) are extracted;
2. the files its deltas.json lists against an earlier backup are rebuilt with
   `rdiff patch` from the version already in TARGET (an edited file from its
   own previous version; a renamed, moved or copied one from the path it came
   from), each basis and result checked against its SHA-256;
3. the archive is extracted with GNU tar --xattrs --acls;
4. the paths its manifest marks "deleted" are removed, metadata-only entries
   ("content_unchanged": mode, owner, xattrs or ACLs changed) are applied, the
   rebuilt files are put in place with their metadata, then the files whose
   delta applies to a file of the same archive (a copy of a file new in it);
5. every file the archive holds is checked against its checksums member, and
   directories get back their times.

Exits 1 on any mismatch, naming the file. Owners, devices and security.* need
root, as with any tar.
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys

META = b".glacier-backup"


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


def extract(identity, archive, target, members=()):
    age = subprocess.Popen(["age", "-d", "-i", identity, archive], stdout=subprocess.PIPE)
    zstd = subprocess.Popen(["zstd", "-d", "-q"], stdin=age.stdout, stdout=subprocess.PIPE)
    age.stdout.close()
    tar = subprocess.Popen(["tar", "--xattrs", "--xattrs-include=*", "--acls", "-xf", "-",
                            "-C", target] + list(members), stdin=zstd.stdout)
    zstd.stdout.close()
    if tar.wait() or zstd.wait() or age.wait():
        fail("cannot extract " + archive)


def acl_for_setfacl(text):
    # SCHILY.acl text carries the numeric id as a fourth field: setfacl wants
    # "tag:qualifier:perms", so the id stands in for the name.
    out = []
    for e in text.split(","):
        f = e.split(":")
        if len(f) == 4:
            f = [f[0], f[3], f[2]]
        out.append(":".join(f))
    return ",".join(out)


def apply_metadata(path, e, strict=True):
    """Owner, mode, xattrs and ACLs of manifest entry `e`. Not strict: what
    only root may do (another owner) is skipped, as tar skips it."""
    try:
        os.chown(path, e["uid"], e["gid"], follow_symlinks=False)  # drops capabilities: first
    except PermissionError:
        if strict:
            raise
    os.chmod(path, e["mode"])
    wanted = {k: bytes.fromhex(v) for k, v in e.get("xattrs", {}).items()}
    for k in os.listxattr(path, follow_symlinks=False):
        if not k.startswith("system.") and k not in wanted:
            os.removexattr(path, k, follow_symlinks=False)
    for k, v in wanted.items():
        os.setxattr(path, k, v, follow_symlinks=False)
    if e.get("acl_access"):
        subprocess.run(["setfacl", "--set", acl_for_setfacl(e["acl_access"]), path], check=True)
    elif strict or shutil.which("setfacl"):
        subprocess.run(["setfacl", "-b", path], check=True)
    os.chmod(path, e["mode"])  # the mode's group bits, not the ACL mask's


def set_mtime(path, e):
    t = e["mtime"] * 10**9 + e.get("mtime_nsec", 0)
    os.utime(path, ns=(t, t), follow_symlinks=False)


def dir_times(root):
    times = {}
    for d, _, _ in os.walk(root):
        times[d] = os.lstat(d).st_mtime_ns
    return times


def remove(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)


def rebuild(tb, d, out):
    """Applies delta row `d` to its basis in TARGET, into `out`."""
    basis = os.path.join(tb, os.fsencode(d.get("basis_path", d["path"])))
    if not os.path.isfile(basis) or sha256(basis) != d["basis_sha256"]:
        fail("%s: the version its delta applies to (%s) is missing or different "
             "(apply the set's archives in order)" % (d["path"], os.fsdecode(basis)))
    subprocess.run(["rdiff", "patch", basis, os.path.join(tb, os.fsencode(d["member"])), out],
                   check=True)
    if sha256(out) != d["sha256"]:
        os.unlink(out)
        fail("%s: rebuilt from its delta, the content does not match" % d["path"])


def apply_archive(identity, archive, target):
    tb = os.fsencode(target)
    meta = os.path.join(tb, META)
    shutil.rmtree(meta, ignore_errors=True)
    extract(identity, archive, target, [os.fsdecode(META)])
    manifest = os.path.join(meta, b"manifest.json")
    with open(manifest, "rb") as f:
        seq = json.loads(next(f) + b"]}")["backup"]["seq"]
    deltas = []
    if os.path.exists(os.path.join(meta, b"deltas.json")):
        deltas = list(lines(os.path.join(meta, b"deltas.json")))
    rebuilt = os.path.join(meta, b"rebuilt")
    os.makedirs(rebuilt)
    earlier = [d for d in deltas if d["basis_seq"] < seq]
    for i, d in enumerate(earlier):
        rebuild(tb, d, os.path.join(rebuilt, b"%d" % i))

    before = dir_times(tb)
    extract(identity, archive, target)
    entries = {}
    dirs = {}
    for e in lines(manifest):
        path = os.path.join(tb, name(e, "path"))
        entries[name(e, "path")] = e
        if e["type"] == "deleted":
            remove(path)
        elif e["type"] == "dir":
            dirs[path] = e["mtime"] * 10**9 + e.get("mtime_nsec", 0)
        elif e.get("content_unchanged"):
            apply_metadata(path, e)
            set_mtime(path, e)

    def put(src, d):
        e = entries[os.fsencode(d["path"])]
        apply_metadata(src, e, strict=False)
        set_mtime(src, e)
        os.replace(src, os.path.join(tb, os.fsencode(d["path"])))

    for i, d in enumerate(earlier):
        put(os.path.join(rebuilt, b"%d" % i), d)
    for d in deltas:  # bases in this archive come first in key order
        if d["basis_seq"] >= seq:
            out = os.path.join(rebuilt, b"same")
            rebuild(tb, d, out)
            put(out, d)

    for c in lines(os.path.join(meta, b"checksums.json")):
        p = os.path.join(tb, name(c, "path"))
        if sha256(p) != c["sha256"]:
            fail("%s: content does not match the checksums of %s" % (os.fsdecode(p), archive))
    shutil.rmtree(meta)
    # Directories get the time this archive records, else the one they had;
    # deepest first, so setting one does not move its parent's.
    for d, t in before.items():
        dirs.setdefault(d, t)
    for d in sorted(dirs, reverse=True):
        if os.path.isdir(d) and not os.path.islink(d):
            os.utime(d, ns=(dirs[d], dirs[d]), follow_symlinks=False)


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
