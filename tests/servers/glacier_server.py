#!/usr/bin/env python3
"""A small, faithful Amazon S3 Glacier vault server (REST API 2012-06-01) for tests.

Written from the API reference, for what moto lacks or gets wrong: multipart
uploads, tree hashes above 1 MiB, RetrievalByteRange, ranged job output with
x-amz-sha256-tree-hash, paging, and Glacier's JSON errors. State lives in
memory. Every API request must carry a valid SigV4 signature (service
"glacier", this server's region, the key pair printed at start; recomputed
with botocore) and x-amz-glacier-version: 2012-06-01.

Simplifications, on purpose: jobs finish `--job-delay` seconds after they
start, whatever the tier; an inventory reflects the vault when the job started
(real inventories lag by a day or more); DescribeVault counts are current.

Test-only control paths (unsigned, outside the API's namespace):
  GET  /_test/requests  the API requests so far: [{"method", "path", "query",
                        "content_range", "status"}]
  POST /_test/fail      {"status", "code", "message", "count", "path_contains"}:
                        the next `count` API requests whose path contains
                        `path_contains` fail with that error; with "tamper":
                        true instead, they succeed but the reply is damaged
                        (first body byte flipped, or a wrong tree hash echoed)

Prints one JSON line when ready:
  {"endpoint": "http://127.0.0.1:PORT", "access_key_id": "...",
   "secret_access_key": "...", "region": "..."}
and exits when stdin closes.
"""
import argparse
import csv
import datetime
import hashlib
import io
import json
import re
import secrets
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ACCESS_KEY = "AKIAGLACIERTEST00001"
SECRET_KEY = "glacier/test/secret/key/0123456789abcdefghij"
ACCOUNT = "123456789012"
MiB = 1 << 20
MAX_SKEW = datetime.timedelta(minutes=15)
PAGE_LIMIT = None  # --page-limit: Glacier may return fewer items than asked for


class ApiError(Exception):
    def __init__(self, status, code, message, kind="Client"):
        super().__init__(message)
        self.status, self.code, self.message, self.kind = status, code, message, kind


def bad(message):
    return ApiError(400, "InvalidParameterValueException", message)


def missing(message):
    return ApiError(400, "MissingParameterValueException", message)


def not_found(message):
    return ApiError(404, "ResourceNotFoundException", message)


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def tree_hash(data):
    """SHA-256 of each 1 MiB chunk, then of adjacent pairs, until one remains."""
    level = [hashlib.sha256(data[i:i + MiB]).digest() for i in range(0, len(data), MiB)]
    if not level:
        return hashlib.sha256(b"").hexdigest()
    while len(level) > 1:
        level = [hashlib.sha256(b"".join(level[i:i + 2])).digest() if i + 1 < len(level)
                 else level[i] for i in range(0, len(level), 2)]
    return level[0].hex()


def tree_hash_aligned(start, length, total):
    """True when [start, start+length) is a node of the tree over `total` bytes."""
    if length == 0 or start + length > total:
        return False
    if start == 0 and length == total:
        return True
    node = MiB
    while node < length:
        node *= 2
    return start % node == 0 and (length == node or start + length == total) and start % MiB == 0


def check_description(text, what="archive description"):
    if len(text) > 1024 or any(not 0x20 <= ord(c) <= 0x7E for c in text):
        raise bad("Invalid %s: at most 1024 printable ASCII characters" % what)


def page(items, marker, limit, key, default_limit=50, max_limit=1000):
    """Returns (page, next marker) for a list sorted in listing order."""
    try:
        limit = int(limit) if limit is not None else default_limit
    except ValueError:
        raise bad("Invalid limit: %r" % limit)
    if not 1 <= limit <= max_limit:
        raise bad("Invalid limit: %d" % limit)
    if PAGE_LIMIT:
        limit = min(limit, PAGE_LIMIT)
    start = 0
    if marker is not None:
        keys = [key(i) for i in items]
        if marker not in keys:
            raise bad("Invalid marker: %s" % marker)
        start = keys.index(marker)
    chunk = items[start:start + limit]
    rest = items[start + limit:]
    return chunk, (key(rest[0]) if rest else None)


class Vault:
    def __init__(self, name, region):
        self.name = name
        self.arn = "arn:aws:glacier:%s:%s:vaults/%s" % (region, ACCOUNT, name)
        self.created = time.time()
        self.changed = None
        self.archives = {}  # id -> dict(description, created, data, tree_hash)
        self.uploads = {}   # id -> dict(description, part_size, created, parts{offset: (data, hash)})
        self.jobs = {}      # id -> dict (see initiate_job)

    def describe(self):
        return {"VaultARN": self.arn, "VaultName": self.name, "CreationDate": iso(self.created),
                "LastInventoryDate": iso(self.changed) if self.changed else None,
                "NumberOfArchives": len(self.archives),
                "SizeInBytes": sum(len(a["data"]) for a in self.archives.values())}


class State:
    def __init__(self, region, job_delay):
        self.region = region
        self.job_delay = job_delay
        self.lock = threading.Lock()
        self.vaults = {}
        self.log = []
        self.faults = []  # dicts from /_test/fail

    def vault(self, name):
        if name not in self.vaults:
            raise not_found("Vault not found for ARN: arn:aws:glacier:%s:%s:vaults/%s"
                            % (self.region, ACCOUNT, name))
        return self.vaults[name]


def new_id(n):
    return secrets.token_urlsafe(n)[:n]


# ---- operations: each takes (state, request) and returns (status, headers, body) ----

def list_vaults(st, rq):
    vaults = sorted(st.vaults.values(), key=lambda v: v.name)
    chunk, marker = page(vaults, rq.query.get("marker"), rq.query.get("limit"),
                         key=lambda v: v.arn, default_limit=10)
    return 200, {}, {"VaultList": [v.describe() for v in chunk], "Marker": marker}


def create_vault(st, rq, name):
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,255}", name):
        raise bad("Invalid vault name: %s" % name)
    st.vaults.setdefault(name, Vault(name, st.region))
    return 201, {"Location": "/%s/vaults/%s" % (ACCOUNT, name)}, None


def delete_vault(st, rq, name):
    v = st.vault(name)
    if v.archives:
        raise bad("Vault not empty or recently written to: %s" % v.arn)
    del st.vaults[name]
    return 204, {}, None


def upload_archive(st, rq, v):
    description = rq.headers.get("x-amz-archive-description", "")
    check_description(description)
    if not rq.body:
        raise bad("Invalid Content-Length: 0")
    checksum = rq.require_header("x-amz-sha256-tree-hash")
    actual = tree_hash(rq.body)
    if checksum != actual:
        raise bad("Checksum mismatch: expected %s (calculated), got %s" % (actual, checksum))
    archive_id = new_id(138)
    v.archives[archive_id] = {"description": description, "created": time.time(),
                              "data": rq.body, "tree_hash": actual}
    v.changed = time.time()
    return 201, {"Location": "/%s/vaults/%s/archives/%s" % (ACCOUNT, v.name, archive_id),
                 "x-amz-archive-id": archive_id, "x-amz-sha256-tree-hash": actual}, None


def delete_archive(st, rq, v, archive_id):
    if archive_id not in v.archives:
        raise not_found("Archive not found for ARN: %s/archives/%s" % (v.arn, archive_id))
    del v.archives[archive_id]
    v.changed = time.time()
    return 204, {}, None


def initiate_upload(st, rq, v):
    description = rq.headers.get("x-amz-archive-description", "")
    check_description(description)
    size = rq.require_header("x-amz-part-size")
    if not size.isdigit() or int(size) < MiB or int(size) > 4096 * MiB or \
            int(size) & (int(size) - 1):
        raise bad("Invalid part size: %s (a power of two times 1 MiB, up to 4 GiB)" % size)
    upload_id = new_id(92)
    v.uploads[upload_id] = {"description": description, "part_size": int(size),
                            "created": time.time(), "parts": {}}
    return 201, {"Location": "/%s/vaults/%s/multipart-uploads/%s" % (ACCOUNT, v.name, upload_id),
                 "x-amz-multipart-upload-id": upload_id}, None


def get_upload(v, upload_id):
    if upload_id not in v.uploads:
        raise not_found("The upload ID was not found: %s" % upload_id)
    return v.uploads[upload_id]


def describe_upload(v, upload_id, u):
    return {"MultipartUploadId": upload_id, "VaultARN": v.arn,
            "ArchiveDescription": u["description"], "PartSizeInBytes": u["part_size"],
            "CreationDate": iso(u["created"])}


def list_uploads(st, rq, v):
    ids = sorted(v.uploads, key=lambda i: (v.uploads[i]["created"], i))
    chunk, marker = page(ids, rq.query.get("marker"), rq.query.get("limit"), key=lambda i: i)
    return 200, {}, {"UploadsList": [describe_upload(v, i, v.uploads[i]) for i in chunk],
                     "Marker": marker}


def upload_part(st, rq, v, upload_id):
    u = get_upload(v, upload_id)
    m = re.fullmatch(r"bytes (\d+)-(\d+)/\*", rq.require_header("Content-Range"))
    if not m:
        raise bad("Invalid Content-Range: %s" % rq.headers.get("Content-Range"))
    first, last = int(m.group(1)), int(m.group(2))
    size = u["part_size"]
    if first % size or last < first or last - first + 1 > size:
        raise bad("Content-Range %d-%d does not align with the part size %d" % (first, last, size))
    if last - first + 1 != len(rq.body):
        raise bad("Content-Range %d-%d does not match Content-Length %d"
                  % (first, last, len(rq.body)))
    checksum = rq.require_header("x-amz-sha256-tree-hash")
    actual = tree_hash(rq.body)
    if checksum != actual:
        raise bad("Checksum mismatch: expected %s (calculated), got %s" % (actual, checksum))
    u["parts"][first] = (rq.body, actual)
    return 204, {"x-amz-sha256-tree-hash": actual}, None


def list_parts(st, rq, v, upload_id):
    u = get_upload(v, upload_id)
    offsets = sorted(u["parts"])
    chunk, marker = page(offsets, rq.query.get("marker"), rq.query.get("limit"), key=str)
    body = describe_upload(v, upload_id, u)
    body["Parts"] = [{"RangeInBytes": "%d-%d" % (o, o + len(u["parts"][o][0]) - 1),
                      "SHA256TreeHash": u["parts"][o][1]} for o in chunk]
    body["Marker"] = marker
    return 200, {}, body


def complete_upload(st, rq, v, upload_id):
    u = get_upload(v, upload_id)
    size = rq.require_header("x-amz-archive-size")
    checksum = rq.require_header("x-amz-sha256-tree-hash")
    if not size.isdigit():
        raise bad("Invalid x-amz-archive-size: %s" % size)
    data, offset = [], 0
    for o in sorted(u["parts"]):
        part = u["parts"][o][0]
        if o != offset or (offset and len(data[-1]) != u["part_size"]):
            raise bad("The parts do not form a contiguous archive (a gap or a short part "
                      "before %d)" % o)
        data.append(part)
        offset += len(part)
    if offset != int(size) or offset == 0:
        raise bad("Archive size %s does not match the %d bytes uploaded" % (size, offset))
    body = b"".join(data)
    actual = tree_hash(body)
    if checksum != actual:
        raise bad("Checksum mismatch: expected %s (calculated), got %s" % (actual, checksum))
    del v.uploads[upload_id]
    archive_id = new_id(138)
    v.archives[archive_id] = {"description": u["description"], "created": time.time(),
                              "data": body, "tree_hash": actual}
    v.changed = time.time()
    return 201, {"Location": "/%s/vaults/%s/archives/%s" % (ACCOUNT, v.name, archive_id),
                 "x-amz-archive-id": archive_id, "x-amz-sha256-tree-hash": actual}, None


def abort_upload(st, rq, v, upload_id):
    get_upload(v, upload_id)
    del v.uploads[upload_id]
    return 204, {}, None


def inventory_output(v, fmt):
    rows = [{"ArchiveId": i, "ArchiveDescription": a["description"],
             "CreationDate": iso(a["created"]), "Size": len(a["data"]),
             "SHA256TreeHash": a["tree_hash"]} for i, a in v.archives.items()]
    if fmt == "CSV":
        out = io.StringIO()
        w = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else
                           ["ArchiveId", "ArchiveDescription", "CreationDate", "Size",
                            "SHA256TreeHash"])
        w.writeheader()
        w.writerows(rows)
        return out.getvalue().encode(), "text/csv"
    doc = {"VaultARN": v.arn, "InventoryDate": iso(time.time()), "ArchiveList": rows}
    return json.dumps(doc).encode(), "application/json"


def initiate_job(st, rq, v):
    try:
        params = json.loads(rq.body or b"{}")
    except ValueError:
        raise bad("The job parameters are not valid JSON")
    if not isinstance(params, dict):
        raise bad("The job parameters are not a JSON object")
    kind = params.get("Type")
    description = params.get("Description") or ""
    check_description(description, "job description")
    now = time.time()
    job = {"JobId": new_id(92), "JobDescription": description or None,
           "CreationDate": now, "done_at": now + st.job_delay, "SNSTopic": params.get("SNSTopic"),
           "VaultARN": v.arn}
    if kind == "inventory-retrieval":
        fmt = params.get("Format") or "JSON"
        if fmt not in ("JSON", "CSV"):
            raise bad("Invalid Format: %s" % fmt)
        for p in ("ArchiveId", "RetrievalByteRange", "Tier"):
            if p in params:
                raise bad("%s is not allowed for an inventory-retrieval job" % p)
        job["Action"] = "InventoryRetrieval"
        job["output"], job["content_type"] = inventory_output(v, fmt)
    elif kind == "archive-retrieval":
        archive_id = params.get("ArchiveId")
        if not archive_id:
            raise missing("Required parameter missing: ArchiveId")
        if archive_id not in v.archives:
            raise not_found("Archive not found for ARN: %s/archives/%s" % (v.arn, archive_id))
        tier = params.get("Tier") or "Standard"
        if tier not in ("Expedited", "Standard", "Bulk"):
            raise bad("Invalid Tier: %s" % tier)
        archive = v.archives[archive_id]
        total = len(archive["data"])
        start, end = 0, total - 1
        if params.get("RetrievalByteRange") is not None:
            m = re.fullmatch(r"(\d+)-(\d+)", str(params["RetrievalByteRange"]))
            if not m:
                raise bad("Invalid RetrievalByteRange: %s" % params["RetrievalByteRange"])
            start, end = int(m.group(1)), int(m.group(2))
            if start % MiB or end < start or end >= total or \
                    ((end + 1) % MiB and end != total - 1):
                raise bad("The byte range %d-%d is not megabyte aligned or lies outside the "
                          "archive (%d bytes)" % (start, end, total))
        data = archive["data"][start:end + 1]
        job.update({"Action": "ArchiveRetrieval", "ArchiveId": archive_id, "Tier": tier,
                    "ArchiveSizeInBytes": total, "ArchiveSHA256TreeHash": archive["tree_hash"],
                    "RetrievalByteRange": "%d-%d" % (start, end), "output": data,
                    "content_type": "application/octet-stream",
                    "SHA256TreeHash": tree_hash(data) if tree_hash_aligned(
                        start, end - start + 1, total) else None})
    else:
        raise bad("Invalid job Type: %s" % kind)
    v.jobs[job["JobId"]] = job
    return 202, {"Location": "/%s/vaults/%s/jobs/%s" % (ACCOUNT, v.name, job["JobId"]),
                 "x-amz-job-id": job["JobId"]}, None


def describe(job):
    done = time.time() >= job["done_at"]
    inventory = job["Action"] == "InventoryRetrieval"
    d = {k: job.get(k) for k in ("JobId", "JobDescription", "Action", "ArchiveId", "VaultARN",
                                 "ArchiveSizeInBytes", "SNSTopic", "SHA256TreeHash",
                                 "ArchiveSHA256TreeHash", "RetrievalByteRange", "Tier")}
    d.update({"CreationDate": iso(job["CreationDate"]), "Completed": done,
              "StatusCode": "Succeeded" if done else "InProgress",
              "StatusMessage": "Succeeded" if done else None,
              "CompletionDate": iso(job["done_at"]) if done else None,
              "InventorySizeInBytes": len(job["output"]) if inventory and done else None})
    return d


def get_job(v, job_id):
    if job_id not in v.jobs:
        raise not_found("The job ID was not found: %s" % job_id)
    return v.jobs[job_id]


def list_jobs(st, rq, v):
    jobs = sorted(v.jobs.values(), key=lambda j: (j["CreationDate"], j["JobId"]))
    descs = [describe(j) for j in jobs]
    completed = rq.query.get("completed")
    if completed is not None:
        if completed not in ("true", "false"):
            raise bad("Invalid completed: %s" % completed)
        descs = [d for d in descs if d["Completed"] == (completed == "true")]
    status = rq.query.get("statuscode")
    if status is not None:
        if status not in ("InProgress", "Succeeded", "Failed"):
            raise bad("Invalid statuscode: %s" % status)
        descs = [d for d in descs if d["StatusCode"] == status]
    chunk, marker = page(descs, rq.query.get("marker"), rq.query.get("limit"),
                         key=lambda d: d["JobId"], max_limit=50)
    return 200, {}, {"JobList": chunk, "Marker": marker}


def describe_job(st, rq, v, job_id):
    return 200, {}, describe(get_job(v, job_id))


def job_output(st, rq, v, job_id):
    job = get_job(v, job_id)
    if not describe(job)["Completed"]:
        raise bad("The job is not currently available for download: %s" % job_id)
    data, total = job["output"], len(job["output"])
    headers = {"Content-Type": job["content_type"], "Accept-Ranges": "bytes"}
    status, start, end = 200, 0, total - 1
    spec = rq.headers.get("Range")
    if spec is not None:
        m = re.fullmatch(r"bytes=(\d+)-(\d*)", spec)
        if not m:
            raise bad("Invalid Range: %s" % spec)
        start = int(m.group(1))
        end = min(int(m.group(2)), total - 1) if m.group(2) else total - 1
        if start > end:
            raise ApiError(416, "InvalidParameterValueException",
                           "The range %s is not satisfiable for %d bytes" % (spec, total))
        status = 206
        headers["Content-Range"] = "bytes %d-%d/%d" % (start, end, total)
    body = data[start:end + 1]
    if job["Action"] == "ArchiveRetrieval" and tree_hash_aligned(start, len(body), total):
        headers["x-amz-sha256-tree-hash"] = tree_hash(body)
    return status, headers, body


ROUTES = [  # (method, path pattern under /ACCOUNT/vaults, handler, needs the vault)
    ("GET", r"", list_vaults, False),
    ("PUT", r"/([^/]+)", create_vault, False),
    ("DELETE", r"/([^/]+)", delete_vault, False),
    ("GET", r"/([^/]+)", lambda st, rq, v: (200, {}, v.describe()), True),
    ("POST", r"/([^/]+)/archives", upload_archive, True),
    ("DELETE", r"/([^/]+)/archives/([^/]+)", delete_archive, True),
    ("POST", r"/([^/]+)/multipart-uploads", initiate_upload, True),
    ("GET", r"/([^/]+)/multipart-uploads", list_uploads, True),
    ("PUT", r"/([^/]+)/multipart-uploads/([^/]+)", upload_part, True),
    ("GET", r"/([^/]+)/multipart-uploads/([^/]+)", list_parts, True),
    ("POST", r"/([^/]+)/multipart-uploads/([^/]+)", complete_upload, True),
    ("DELETE", r"/([^/]+)/multipart-uploads/([^/]+)", abort_upload, True),
    ("POST", r"/([^/]+)/jobs", initiate_job, True),
    ("GET", r"/([^/]+)/jobs", list_jobs, True),
    ("GET", r"/([^/]+)/jobs/([^/]+)", describe_job, True),
    ("GET", r"/([^/]+)/jobs/([^/]+)/output", job_output, True),
]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, and 100-continue for large bodies
    state = None  # set in main()

    def log_message(self, *args):
        pass

    def require_header(self, name):
        value = self.headers.get(name)
        if value is None:
            raise missing("Required header missing: %s" % name)
        return value

    def do_GET(self):
        self.dispatch()

    do_PUT = do_POST = do_DELETE = do_HEAD = do_GET

    def dispatch(self):
        url = urllib.parse.urlsplit(self.path)
        self.query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        length = self.headers.get("Content-Length")
        self.body = self.rfile.read(int(length)) if length else b""
        if url.path.startswith("/_test/"):
            return self.control(url.path)
        st = self.state
        try:
            self.authenticate()
            if self.headers.get("x-amz-glacier-version") != "2012-06-01":
                raise missing("Required header missing or wrong: x-amz-glacier-version")
            declared = self.headers.get("x-amz-content-sha256")
            if declared is not None and declared != hashlib.sha256(self.body).hexdigest():
                raise bad("Checksum mismatch: x-amz-content-sha256 does not match the body")
            m = re.fullmatch(r"/([^/]+)/vaults(/.*)?", url.path)
            if not m or m.group(1) not in ("-", ACCOUNT):
                raise ApiError(404, "ResourceNotFoundException", "No such resource: %s" % url.path)
            rest = urllib.parse.unquote(m.group(2) or "")
            tamper = False
            with st.lock:
                for fault in st.faults:
                    if fault["count"] > 0 and fault.get("path_contains", "") in url.path:
                        fault["count"] -= 1
                        tamper = fault.get("tamper", False)
                        if not tamper:
                            raise ApiError(fault["status"], fault["code"],
                                           fault.get("message", "injected"),
                                           "Server" if fault["status"] >= 500 else "Client")
                for method, pattern, handler, needs_vault in ROUTES:
                    rm = re.fullmatch(pattern, rest)
                    if method == self.command and rm:
                        args = list(rm.groups())
                        if needs_vault:
                            args[0] = st.vault(args[0])
                        status, headers, body = handler(st, self, *args)
                        break
                else:
                    raise ApiError(405, "UnsupportedOperation",
                                   "%s %s is not an operation" % (self.command, url.path))
            if tamper and isinstance(body, bytes) and body:
                body = bytes([body[0] ^ 1]) + body[1:]
            elif tamper and "x-amz-sha256-tree-hash" in headers:
                headers["x-amz-sha256-tree-hash"] = hashlib.sha256(b"tampered").hexdigest()
        except ApiError as e:
            status, headers = e.status, {"Content-Type": "application/json"}
            body = {"code": e.code, "message": e.message, "type": e.kind}
        self.record(url, status)
        self.reply(status, headers, body)

    def authenticate(self):
        auth = self.headers.get("Authorization", "")
        m = re.fullmatch(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request,"
                         r"\s*SignedHeaders=([^,]+),\s*Signature=([0-9a-f]{64})", auth)
        if not m:
            raise ApiError(403, "MissingAuthenticationTokenException",
                           "Missing or malformed Authorization header")
        key, _, region, service, signed, signature = m.groups()
        if key != ACCESS_KEY:
            raise ApiError(403, "UnrecognizedClientException",
                           "The security token included in the request is invalid.")
        if service != "glacier" or region != self.state.region:
            raise ApiError(403, "InvalidSignatureException",
                           "Credential should be scoped to a valid region and service "
                           "(glacier in %s), not %s in %s" % (self.state.region, service, region))
        amz_date = self.headers.get("X-Amz-Date", "")
        try:
            when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(
                tzinfo=datetime.timezone.utc)
        except ValueError:
            raise ApiError(403, "InvalidSignatureException", "Missing or bad X-Amz-Date")
        if abs(datetime.datetime.now(datetime.timezone.utc) - when) > MAX_SKEW:
            raise ApiError(403, "InvalidSignatureException", "Signature expired: %s" % amz_date)
        names = signed.split(";")
        if "host" not in names:
            raise ApiError(403, "InvalidSignatureException", "The host header must be signed")
        headers = {k: v for k, v in self.headers.items() if k.lower() in names}
        request = AWSRequest(method=self.command, url="http://%s%s" % (self.headers["Host"],
                                                                        self.path),
                             headers=headers, data=self.body)
        request.context["timestamp"] = amz_date
        signer = SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "glacier", region)
        canonical = signer.canonical_request(request)
        expected = signer.signature(signer.string_to_sign(request, canonical), request)
        if expected != signature:
            raise ApiError(403, "InvalidSignatureException",
                           "The request signature we calculated does not match the signature "
                           "you provided. Check your AWS Secret Access Key and signing method.")

    def record(self, url, status):
        with self.state.lock:
            self.state.log.append({"method": self.command, "path": url.path, "query": url.query,
                                   "content_range": self.headers.get("Content-Range"),
                                   "status": status})

    def control(self, path):
        st = self.state
        with st.lock:
            if path == "/_test/requests" and self.command == "GET":
                return self.reply(200, {}, list(st.log))
            if path == "/_test/fail" and self.command == "POST":
                st.faults.append(json.loads(self.body))
                return self.reply(204, {}, None)
        self.reply(404, {}, {"code": "NotFound", "message": path, "type": "Client"})

    def reply(self, status, headers, body):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        body = body or b""
        self.send_response(status)
        headers.setdefault("x-amzn-RequestId", new_id(20))
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def main():
    global PAGE_LIMIT, MAX_SKEW
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--job-delay", type=float, default=1.0,
                        help="seconds until a job succeeds (default 1)")
    parser.add_argument("--page-limit", type=int, default=None,
                        help="return at most this many items per listing page")
    parser.add_argument("--max-skew", type=float, default=MAX_SKEW.total_seconds(),
                        help="seconds a request's X-Amz-Date may differ from the server's clock "
                             "(AWS: 900; larger for clients whose clock is simulated)")
    args = parser.parse_args()
    PAGE_LIMIT = args.page_limit
    MAX_SKEW = datetime.timedelta(seconds=args.max_skew)
    Handler.state = State(args.region, args.job_delay)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(json.dumps({"endpoint": "http://127.0.0.1:%d" % server.server_address[1],
                      "access_key_id": ACCESS_KEY, "secret_access_key": SECRET_KEY,
                      "region": args.region}), flush=True)

    def stop_when_stdin_closes():
        sys.stdin.read()
        server.shutdown()

    threading.Thread(target=stop_when_stdin_closes, daemon=True).start()
    server.serve_forever(poll_interval=0.05)


if __name__ == "__main__":
    main()
