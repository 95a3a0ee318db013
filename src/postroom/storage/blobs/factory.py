"""Build the configured blob store from a URL: local files by default, or an S3-compatible bucket."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from postroom.storage.blobs.local import LocalBlobStore

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from postroom.storage.blobs.s3 import S3BlobStore


def s3_client(
    *, endpoint_url: str | None, region: str | None, access_key_id: str | None, secret_access_key: str | None
) -> S3Client:
    """A boto3 S3 client; credentials left None come from boto3's usual chain (environment, profile, instance role).

    A custom ``endpoint_url`` (MinIO, Ceph, R2, …) gets path-style addressing, which every S3-compatible store serves.
    """
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(
        aws_access_key_id=access_key_id, aws_secret_access_key=secret_access_key, region_name=region
    )
    config = Config(
        signature_version="s3v4",
        s3={"addressing_style": "path"} if endpoint_url else {"addressing_style": "auto"},
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=5,
        read_timeout=60,
    )
    return session.client("s3", endpoint_url=endpoint_url, config=config)


def blob_store_from_url(
    url: str | None,
    data_dir: Path,
    *,
    endpoint_url: str | None = None,
    region: str | None = None,
    access_key_id: str | None = None,
    secret_access_key: str | None = None,
) -> LocalBlobStore | S3BlobStore:
    """The blob store ``url`` names; raises ``ValueError`` for one it cannot use.

    - ``None`` or ``file://`` → files under ``data_dir / "blobs"``; ``file:///srv/blobs`` → files under that directory.
    - ``s3://bucket`` or ``s3://bucket/some/prefix`` → objects in that bucket (under that prefix), reached at
      ``endpoint_url`` (None: AWS itself) in ``region`` with the given key pair (None: boto3's credential chain).
      The S3 parameters are ignored for local files.
    """
    parts = urlsplit(url or "file://")
    if parts.query or parts.fragment:
        raise ValueError(f"blob store URL {url!r} must not have a query or fragment")
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ValueError(f"blob store URL {url!r} names a remote host; use file:///absolute/path")
        path = unquote(parts.path)
        return LocalBlobStore(Path(path) if path else data_dir / "blobs")
    if parts.scheme == "s3":
        if not parts.netloc:
            raise ValueError(f"blob store URL {url!r} names no bucket; use s3://bucket/prefix")
        from postroom.storage.blobs.s3 import S3BlobStore

        client = s3_client(
            endpoint_url=endpoint_url, region=region, access_key_id=access_key_id, secret_access_key=secret_access_key
        )
        return S3BlobStore(parts.netloc, unquote(parts.path).strip("/"), client)
    raise ValueError(f"unsupported blob store URL {url!r}: use file:///path or s3://bucket/prefix")
