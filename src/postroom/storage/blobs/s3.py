"""Blobs as objects in an S3-compatible bucket under a key prefix, through a boto3 client.

Small blobs are uploaded from memory; larger ones are spooled to a temporary file first, so memory stays bounded
and nothing is uploaded unless every chunk arrived (S3 makes a PUT or a completed multipart upload visible at once).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError

from postroom.mime.disposition import attachment_disposition
from postroom.storage.blobs.keys import check_key, check_prefix
from postroom.storage.blobs.reader import body_reader

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MEMORY_BYTES = 1024 * 1024
PART_BYTES = 8 * 1024 * 1024
TRANSFER = TransferConfig(multipart_threshold=PART_BYTES, multipart_chunksize=PART_BYTES, max_concurrency=4)
DELETE_BATCH = 1000
READY_KEY = ".postroom-ready"
MISSING_CODES = frozenset({"NoSuchKey", "NotFound", "404"})


def _is_missing(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in MISSING_CODES


class S3BlobStore:
    def __init__(self, bucket: str, prefix: str, client: S3Client, *, spool_dir: Path | None = None) -> None:
        """``prefix`` ("" or a folder like ``postroom/blobs``) goes before every key; ``spool_dir``: TMPDIR if None."""
        self.bucket = bucket
        self.prefix = f"{check_prefix(prefix)}/" if prefix else ""
        self._client = client
        self._spool_dir = spool_dir

    def _name(self, key: str) -> str:
        return self.prefix + check_key(key)

    def put(self, key: str, chunks: Iterable[bytes]) -> int:
        name = self._name(key)
        head: list[bytes] = []
        size = 0
        rest = iter(chunks)
        for chunk in rest:
            head.append(chunk)
            size += len(chunk)
            if size > MEMORY_BYTES:
                return self._put_spooled(name, head, rest)
        self._client.put_object(Bucket=self.bucket, Key=name, Body=b"".join(head))
        return size

    def _put_spooled(self, name: str, head: list[bytes], rest: Iterator[bytes]) -> int:
        with tempfile.NamedTemporaryFile(prefix=".spool-", dir=self._spool_dir) as spool:
            size = sum(spool.write(chunk) for chunk in head)
            head.clear()
            for chunk in rest:
                size += spool.write(chunk)
            spool.flush()
            # By file name, so that s3transfer reads each part from disk instead of copying it into memory.
            self._client.upload_file(spool.name, self.bucket, name, Config=TRANSFER)
        return size

    def open(self, key: str) -> BinaryIO:
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as error:
            if _is_missing(error):
                raise KeyError(key) from None
            raise
        return body_reader(response["Body"])

    def size(self, key: str) -> int | None:
        try:
            response = self._client.head_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as error:
            if _is_missing(error):
                return None
            raise
        return response["ContentLength"]

    def delete(self, key: str) -> None:
        self._client.delete_object(Bucket=self.bucket, Key=self._name(key))

    def delete_prefix(self, prefix: str) -> int:
        folder = f"{self.prefix}{check_prefix(prefix)}/"
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=folder, PaginationConfig={"PageSize": DELETE_BATCH}
        )
        count = 0
        for page in pages:
            names = [item["Key"] for item in page.get("Contents", [])]
            for start in range(0, len(names), DELETE_BATCH):
                batch = names[start : start + DELETE_BATCH]
                response = self._client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": [{"Key": name} for name in batch], "Quiet": True}
                )
                errors = response.get("Errors", [])
                if errors:
                    first = errors[0]
                    raise OSError(f"could not delete {first.get('Key')!r}: {first.get('Code')} {first.get('Message')}")
                count += len(batch)
        return count

    def presigned_url(self, key: str, expires_in: int, filename: str | None, content_type: str | None) -> str | None:
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": self._name(key)}
        if content_type is not None:
            params["ResponseContentType"] = content_type
        if filename is not None:
            params["ResponseContentDisposition"] = attachment_disposition(filename)
        return self._client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in)

    def ready(self) -> bool:
        probe = self.prefix + READY_KEY
        try:
            self._client.put_object(Bucket=self.bucket, Key=probe, Body=b"")
            self._client.delete_object(Bucket=self.bucket, Key=probe)
        except (BotoCoreError, ClientError):
            return False
        return True
