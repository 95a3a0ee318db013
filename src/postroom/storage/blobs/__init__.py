"""Blob stores: raw messages and attachments on local files (the default) or S3-compatible object storage."""

from postroom.storage.blobs.factory import blob_store_from_url
from postroom.storage.blobs.local import LocalBlobStore

__all__ = ["LocalBlobStore", "blob_store_from_url"]
