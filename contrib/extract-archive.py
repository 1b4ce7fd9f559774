#!/usr/bin/env python3
"""Extracts one decrypted, decompressed glacier-backup archive (a pax tar on
stdin) into DIR with GNU tar, then does what tar cannot from the archive's
manifest: deletes the paths marked "deleted", applies metadata-only entries
("content_unchanged": the mode, owner, xattrs or ACLs changed, the content is
in an earlier archive), and gives directories back the times that extracting
and deleting moved. Run it for the full and then each incremental, in order:

  age -d -i identity.txt ARCHIVE | zstd -d | python3 extract-archive.py DIR

Needs python3, GNU tar and setfacl; owners, devices and security.* need root.
"""
import json
import os
import shutil
import subprocess
import sys


def name(entry, key):
    if key in entry:
        return os.fsencode(entry[key])
    if key + "_hex" in entry:
        return bytes.fromhex(entry[key + "_hex"])
    return None


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


def apply_metadata(path, e):
    os.chown(path, e["uid"], e["gid"], follow_symlinks=False)  # drops capabilities: before xattrs
    os.chmod(path, e["mode"])
    wanted = {k: bytes.fromhex(v) for k, v in e.get("xattrs", {}).items()}
    for k in os.listxattr(path, follow_symlinks=False):
        if not k.startswith("system.") and k not in wanted:
            os.removexattr(path, k, follow_symlinks=False)
    for k, v in wanted.items():
        os.setxattr(path, k, v, follow_symlinks=False)
    if e.get("acl_access"):
        subprocess.run(["setfacl", "--set", acl_for_setfacl(e["acl_access"]), path], check=True)
    else:
        subprocess.run(["setfacl", "-b", path], check=True)
    os.chmod(path, e["mode"])  # the mode's group bits, not the ACL mask's


def dir_times(root):
    times = {}
    for d, _, _ in os.walk(root):
        times[d] = os.lstat(d).st_mtime_ns
    return times


def main(root):
    os.makedirs(root, exist_ok=True)
    before = dir_times(root)
    subprocess.run(["tar", "--xattrs", "--xattrs-include=*", "--acls", "-x", "-f", "-", "-C", root],
                   check=True)
    member = os.path.join(root, ".glacier-backup", "manifest.json")
    with open(member, "rb") as f:
        manifest = json.load(f)
    entries = manifest["entries"]
    rootb = os.fsencode(root)
    for e in entries:
        path = os.path.join(rootb, name(e, "path"))
        if e["type"] == "deleted":
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            elif os.path.lexists(path):
                os.unlink(path)
        elif e.get("content_unchanged"):
            apply_metadata(path, e)
            os.utime(path, ns=(e["mtime"] * 10**9 + e.get("mtime_nsec", 0),) * 2,
                     follow_symlinks=False)
    # Directories get the time this archive records, else the one they had.
    times = {os.fsdecode(os.path.join(rootb, name(e, "path"))): e["mtime"] * 10**9 +
             e.get("mtime_nsec", 0) for e in entries if e["type"] == "dir"}
    for d, t in before.items():
        times.setdefault(d, t)
    # Deepest first: setting a directory's time does not move its parent's.
    for d in sorted(times, reverse=True):
        if os.path.isdir(d) and not os.path.islink(d):
            os.utime(d, ns=(times[d], times[d]), follow_symlinks=False)


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.stdin.isatty():
        sys.exit(__doc__)
    main(sys.argv[1])
