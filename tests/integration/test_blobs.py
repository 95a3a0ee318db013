"""The blob store contract, run against local files and against S3 (a real moto server on 127.0.0.1)."""

from __future__ import annotations

import hashlib
import os
import random
import socket
import subprocess
import sys
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from postroom.mime.disposition import attachment_disposition
from postroom.services.ports import BlobStore
from postroom.storage.blobs import s3 as s3_module
from postroom.storage.blobs.factory import blob_store_from_url, s3_client
from postroom.storage.blobs.local import LocalBlobStore
from postroom.storage.blobs.s3 import S3BlobStore

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

BUCKET = "postroom-test"
CREDENTIALS = {"region": "us-east-1", "access_key_id": "testing", "secret_access_key": "testing"}
MB = 1024 * 1024
CHUNK = 256 * 1024

# The server runs in a child process so that tracemalloc here measures only the client's memory.
MOTO_SERVER = """
import sys
import logging
from moto.server import ThreadedMotoServer
logging.getLogger("werkzeug").setLevel(logging.ERROR)
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()
server.stop()
"""


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_EC2_METADATA_DISABLED", "true")
        env.setenv("AWS_CONFIG_FILE", os.devnull)
        env.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
        env.setenv("NO_PROXY", "127.0.0.1")
        for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "HTTP_PROXY", "HTTPS_PROXY"):
            env.delenv(name, raising=False)
            env.delenv(name.lower(), raising=False)
        process = subprocess.Popen(
            [sys.executable, "-c", MOTO_SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert process.stdout is not None
        assert process.stdin is not None
        try:
            endpoint = f"http://127.0.0.1:{int(process.stdout.readline())}"
            s3_client(endpoint_url=endpoint, **CREDENTIALS).create_bucket(Bucket=BUCKET)
            yield endpoint
        finally:
            process.stdin.close()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="session")
def bucket_client(s3_endpoint: str) -> S3Client:
    return s3_client(endpoint_url=s3_endpoint, **CREDENTIALS)


@dataclass
class Subject:
    store: BlobStore
    leftovers: Callable[[], list[str]]  # temporary files or unfinished uploads a store left behind


def local_subject(tmp_path: Path) -> Subject:
    root = tmp_path / "blobs"
    return Subject(LocalBlobStore(root), lambda: [path.name for path in root.rglob(".*")])


def s3_subject(client: S3Client, tmp_path: Path) -> Subject:
    spool = tmp_path / "spool"
    spool.mkdir()
    prefix = f"run-{uuid.uuid4().hex}"

    def leftovers() -> list[str]:
        uploads = client.list_multipart_uploads(Bucket=BUCKET, Prefix=prefix).get("Uploads", [])
        return os.listdir(spool) + [upload.get("Key", "") for upload in uploads]

    return Subject(S3BlobStore(BUCKET, prefix, client, spool_dir=spool), leftovers)


@pytest.fixture(params=["local", "s3"])
def subject(request: pytest.FixtureRequest, tmp_path: Path) -> Subject:
    if request.param == "local":
        return local_subject(tmp_path)
    return s3_subject(request.getfixturevalue("bucket_client"), tmp_path)


@pytest.fixture
def store(subject: Subject) -> BlobStore:
    return subject.store


def generated(total: int, seed: int = 7) -> tuple[Iterator[bytes], Callable[[], str]]:
    """``total`` pseudo-random bytes in chunks, never held whole, and the SHA-256 of what was yielded."""
    digest = hashlib.sha256()

    def chunks() -> Iterator[bytes]:
        rng = random.Random(seed)
        left = total
        while left:
            chunk = rng.randbytes(min(CHUNK, left))
            digest.update(chunk)
            left -= len(chunk)
            yield chunk

    return chunks(), digest.hexdigest


def streamed_digest(store: BlobStore, key: str) -> str:
    digest = hashlib.sha256()
    with store.open(key) as reader:
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def failing(chunks: list[bytes]) -> Iterator[bytes]:
    yield from chunks
    raise RuntimeError("client went away")


def test_round_trip_is_byte_identical(store: BlobStore) -> None:
    parts = [b"From: a@example.com\r\nSubject: hi\r\n", b"\r\n", bytes(range(256)) * 3]
    assert store.put("inbox/i1/m1/raw.eml", parts) == sum(map(len, parts))
    with store.open("inbox/i1/m1/raw.eml") as reader:
        assert reader.read() == b"".join(parts)
    assert store.size("inbox/i1/m1/raw.eml") == sum(map(len, parts))


def test_empty_blob(store: BlobStore) -> None:
    assert store.put("inbox/i1/m1/empty", []) == 0
    assert store.put("inbox/i1/m1/empty-chunks", [b"", b""]) == 0
    with store.open("inbox/i1/m1/empty") as reader:
        assert reader.read() == b""
    assert store.size("inbox/i1/m1/empty") == 0
    assert store.size("inbox/i1/m1/empty-chunks") == 0


def test_twenty_megabytes_stream_in_and_out(store: BlobStore) -> None:
    chunks, digest = generated(20 * MB)
    assert store.put("inbox/i1/m1/big.bin", chunks) == 20 * MB
    assert store.size("inbox/i1/m1/big.bin") == 20 * MB
    assert streamed_digest(store, "inbox/i1/m1/big.bin") == digest()


def test_put_replaces_an_existing_blob(store: BlobStore) -> None:
    store.put("inbox/i1/m1/raw.eml", [b"first version"])
    store.put("inbox/i1/m1/raw.eml", [b"second"])
    with store.open("inbox/i1/m1/raw.eml") as reader:
        assert reader.read() == b"second"


@pytest.mark.parametrize("chunk_size", [100, 512 * 1024], ids=["small", "spooled"])
def test_failed_put_leaves_no_blob_and_no_temporary_file(subject: Subject, chunk_size: int) -> None:
    with pytest.raises(RuntimeError, match="went away"):
        subject.store.put("inbox/i1/m1/raw.eml", failing([b"x" * chunk_size] * 5))
    assert subject.store.size("inbox/i1/m1/raw.eml") is None
    with pytest.raises(KeyError):
        subject.store.open("inbox/i1/m1/raw.eml")
    assert subject.leftovers() == []


@pytest.mark.parametrize("chunk_size", [100, 512 * 1024], ids=["small", "spooled"])
def test_failed_put_keeps_the_existing_blob(subject: Subject, chunk_size: int) -> None:
    subject.store.put("inbox/i1/m1/raw.eml", [b"original"])
    with pytest.raises(RuntimeError):
        subject.store.put("inbox/i1/m1/raw.eml", failing([b"y" * chunk_size] * 5))
    with subject.store.open("inbox/i1/m1/raw.eml") as reader:
        assert reader.read() == b"original"
    assert subject.leftovers() == []


def test_missing_blob(store: BlobStore) -> None:
    with pytest.raises(KeyError):
        store.open("inbox/i1/nothing")
    assert store.size("inbox/i1/nothing") is None
    store.delete("inbox/i1/nothing")


def test_a_folder_is_not_a_blob(store: BlobStore) -> None:
    store.put("inbox/i1/m1/raw.eml", [b"x"])
    with pytest.raises(KeyError):
        store.open("inbox/i1/m1")
    assert store.size("inbox/i1/m1") is None
    store.delete("inbox/i1/m1")
    assert store.size("inbox/i1/m1/raw.eml") == 1


def test_delete(store: BlobStore) -> None:
    store.put("inbox/i1/m1/raw.eml", [b"x"])
    store.put("inbox/i1/m1/raw.eml.keep", [b"y"])
    store.delete("inbox/i1/m1/raw.eml")
    assert store.size("inbox/i1/m1/raw.eml") is None
    store.delete("inbox/i1/m1/raw.eml")
    assert store.size("inbox/i1/m1/raw.eml.keep") == 1


def test_delete_prefix_removes_only_that_folder(store: BlobStore) -> None:
    doomed = ["inbox/a/m1/raw.eml", "inbox/a/m2/raw.eml", "inbox/a/m2/attachments/1"]
    kept = ["inbox/ab/m1/raw.eml", "inbox/b/a/raw.eml", "inbox/a-b/raw.eml", "other/inbox/a/raw.eml"]
    for key in doomed + kept:
        store.put(key, [key.encode()])
    assert store.delete_prefix("inbox/a") == 3
    assert [key for key in doomed + kept if store.size(key) is not None] == kept
    assert store.delete_prefix("inbox/a") == 0
    assert store.delete_prefix("inbox/ab/") == 1
    assert store.delete_prefix("nowhere/at/all") == 0
    assert store.delete_prefix("inbox/b/a/raw.eml") == 0
    assert store.size("inbox/b/a/raw.eml") is not None


def test_delete_prefix_pages_and_batches(
    bucket_client: S3Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(s3_module, "DELETE_BATCH", 10)  # S3 allows 1000 a request; 10 exercises the same paging
    store = s3_subject(bucket_client, tmp_path).store
    assert isinstance(store, S3BlobStore)
    for index in range(25):
        store.put(f"inbox/many/m{index}/raw.eml", [b"."])
    store.put("inbox/other/raw.eml", [b"x"])
    assert store.delete_prefix("inbox/many") == 25
    assert bucket_client.list_objects_v2(Bucket=BUCKET, Prefix=f"{store.prefix}inbox/many/")["KeyCount"] == 0
    assert store.size("inbox/other/raw.eml") == 1


INVALID_KEYS = [
    "",
    "/inbox/a",
    "inbox//a",
    "inbox/a/",
    "inbox/../a",
    "..",
    ".",
    "inbox/./a",
    "inbox/.hidden",
    "inbox/a\x00b",
    "inbox/a\nb",
    "a" * 1025,
    "é" * 513,
    "inbox/\udc80",
]


@pytest.mark.parametrize("key", INVALID_KEYS)
def test_invalid_keys_are_rejected(store: BlobStore, key: str) -> None:
    with pytest.raises(ValueError, match="blob key"):
        store.put(key, [b"x"])
    with pytest.raises(ValueError, match="blob key"):
        store.open(key)
    with pytest.raises(ValueError, match="blob key"):
        store.size(key)
    with pytest.raises(ValueError, match="blob key"):
        store.delete(key)
    with pytest.raises(ValueError, match="blob key"):
        store.presigned_url(key, 60, None, None)
    if key not in ("inbox/a/",):  # a folder prefix may end with one "/"
        with pytest.raises(ValueError, match="blob key"):
            store.delete_prefix(key)


def test_long_valid_key(store: BlobStore) -> None:
    key = "/".join(["k" * 99] * 8)
    store.put(key, [b"long"])
    assert store.size(key) == 4


def test_ready(store: BlobStore) -> None:
    assert store.ready()
    assert store.ready()


def test_local_presigned_url_is_none(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    store.put("inbox/i1/m1/raw.eml", [b"x"])
    assert store.presigned_url("inbox/i1/m1/raw.eml", 60, "raw.eml", "message/rfc822") is None


def test_local_not_ready_when_root_is_unusable(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"")
    assert not LocalBlobStore(tmp_path / "file").ready()
    assert not LocalBlobStore(tmp_path / "file" / "blobs").ready()


def test_s3_presigned_url_serves_the_exact_bytes(bucket_client: S3Client, tmp_path: Path) -> None:
    store = s3_subject(bucket_client, tmp_path).store
    body = bytes(range(256)) * 1000
    store.put("inbox/i1/m1/attachments/a1", [body])
    url = store.presigned_url("inbox/i1/m1/attachments/a1", 300, 'résumé "final".pdf', "application/pdf")
    assert url is not None
    assert url.startswith("http://127.0.0.1:")
    response = httpx.get(url, trust_env=False)
    assert response.status_code == 200
    assert response.content == body
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == attachment_disposition('résumé "final".pdf')
    assert "filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.pdf" in response.headers["content-disposition"]
    plain = store.presigned_url("inbox/i1/m1/attachments/a1", 300, None, None)
    assert plain is not None
    assert httpx.get(plain, trust_env=False).content == body


def test_s3_not_ready_without_bucket_or_server(s3_endpoint: str, bucket_client: S3Client) -> None:
    assert not S3BlobStore("no-such-bucket", "", bucket_client).ready()
    with closed_port() as port:
        unreachable = s3_client(endpoint_url=f"http://127.0.0.1:{port}", **CREDENTIALS)
        assert not S3BlobStore(BUCKET, "", unreachable).ready()


@contextmanager
def closed_port() -> Iterator[int]:
    """A loopback port nothing listens on (bound but not listening, so nothing else takes it meanwhile)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_memory_stays_bounded_for_twenty_megabytes(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    subject = (
        local_subject(tmp_path) if kind == "local" else s3_subject(request.getfixturevalue("bucket_client"), tmp_path)
    )
    chunks, digest = generated(20 * MB)
    tracemalloc.start()
    try:
        subject.store.put("inbox/i1/m1/big.bin", chunks)
        _, put_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        read_digest = streamed_digest(subject.store, "inbox/i1/m1/big.bin")
        _, read_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert read_digest == digest()
    assert put_peak < 8 * MB, f"put peaked at {put_peak / MB:.1f} MB"
    assert read_peak < 8 * MB, f"read peaked at {read_peak / MB:.1f} MB"


def test_factory_defaults_to_local_files(tmp_path: Path) -> None:
    for url in (None, "", "file://"):
        store = blob_store_from_url(url, tmp_path)
        assert isinstance(store, LocalBlobStore)
        assert store.root == tmp_path / "blobs"
    store = blob_store_from_url(f"file://{tmp_path}/my%20blobs", tmp_path / "ignored")
    assert isinstance(store, LocalBlobStore)
    assert store.root == tmp_path / "my blobs"


def test_factory_builds_an_s3_store(s3_endpoint: str, tmp_path: Path) -> None:
    store = blob_store_from_url(f"s3://{BUCKET}/postroom/blobs/", tmp_path, endpoint_url=s3_endpoint, **CREDENTIALS)
    assert isinstance(store, S3BlobStore)
    assert (store.bucket, store.prefix) == (BUCKET, "postroom/blobs/")
    store.put("inbox/i1/m1/raw.eml", [b"via the factory"])
    with store.open("inbox/i1/m1/raw.eml") as reader:
        assert reader.read() == b"via the factory"
    assert store.delete_prefix("inbox") == 1
    bare = blob_store_from_url(f"s3://{BUCKET}", tmp_path, endpoint_url=s3_endpoint, **CREDENTIALS)
    assert isinstance(bare, S3BlobStore)
    assert bare.prefix == ""


@pytest.mark.parametrize("url", ["ftp://host/x", "s3://", "s3:///prefix", "file://host/x", "s3://b/p?x=1", "blobs"])
def test_factory_rejects_unusable_urls(url: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="blob store URL"):
        blob_store_from_url(url, tmp_path)
