#!/usr/bin/env python3
"""Starts moto_server on a free loopback port with SigV4 verification on.

With INITIAL_NO_AUTH_ACTION_COUNT=N moto authenticates every request after
the first N. The harness spends those N unauthenticated calls creating an IAM
user with an allow-all inline policy and an access key, then prints one JSON
line on stdout and keeps running until stdin closes or it is terminated:

  {"endpoint": "http://127.0.0.1:PORT", "access_key_id": "...",
   "secret_access_key": "...", "region": "us-east-1", "pid": N}

Tests pass the keys to glacier-backup through the environment only.

moto recomputes a signature from the URL after werkzeug decoded it, so a
signed query value holding "/" (ListObjectsV2 prefix=host/) would fail as
SignatureDoesNotMatch although S3 accepts it. The server started here checks
signatures against the request line exactly as it was sent (RAW_URI).
"""
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import boto3

SETUP_CALLS = 3  # CreateUser, PutUserPolicy, CreateAccessKey


# Run in the moto_server process: signature checks see the raw request URI.
RAW_URI_SERVER = r"""
import sys
from urllib.parse import urlsplit
from moto.core import responses
from moto.core.authorization import ActionAuthenticatorMixin

setup_class = responses.BaseResponse.setup_class
def raw_setup_class(self, request, full_url, headers, use_raw_body=False):
    setup_class(self, request, full_url, headers, use_raw_body)
    self.gb_raw_uri = getattr(request, "environ", {}).get("RAW_URI")
responses.BaseResponse.setup_class = raw_setup_class

authorize = ActionAuthenticatorMixin._authenticate_and_authorize_action
def raw_authorize(self, iam_request_cls, resource="*"):
    raw = getattr(self, "gb_raw_uri", None)
    if not raw:
        return authorize(self, iam_request_cls, resource)
    decoded, parts = self.uri, urlsplit(self.uri)
    self.uri = parts.scheme + "://" + parts.netloc + raw
    try:
        return authorize(self, iam_request_cls, resource)
    finally:
        self.uri = decoded
ActionAuthenticatorMixin._authenticate_and_authorize_action = raw_authorize

from moto.server import main
main(sys.argv[1:])
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(endpoint, proc, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit("moto_server exited early with status %s" % proc.returncode)
        try:
            urllib.request.urlopen(endpoint + "/moto-api/", timeout=1)
            return
        except Exception:
            time.sleep(0.1)
    raise SystemExit("moto_server did not start within %ss" % timeout)


def main():
    port = free_port()
    endpoint = "http://127.0.0.1:%d" % port
    env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT=str(SETUP_CALLS))
    env.pop("AWS_ACCESS_KEY_ID", None)
    env.pop("AWS_SECRET_ACCESS_KEY", None)
    proc = subprocess.Popen([sys.executable, "-c", RAW_URI_SERVER, "-H", "127.0.0.1", "-p",
                             str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        wait_up(endpoint, proc)
        iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                           aws_access_key_id="setup", aws_secret_access_key="setup")
        iam.create_user(UserName="glacier-backup-test")
        iam.put_user_policy(UserName="glacier-backup-test", PolicyName="allow-all",
                            PolicyDocument=json.dumps({
                                "Version": "2012-10-17",
                                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
        key = iam.create_access_key(UserName="glacier-backup-test")["AccessKey"]
        print(json.dumps({"endpoint": endpoint, "access_key_id": key["AccessKeyId"],
                          "secret_access_key": key["SecretAccessKey"], "region": "us-east-1",
                          "pid": proc.pid}), flush=True)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        sys.stdin.read()  # until the test closes our stdin (or dies)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
