"""Blobs as files under one root directory: written to a temporary file, fsynced and renamed into place.

A key may not also be a "folder" of other keys here (``a/b`` and ``a/b/c`` cannot both exist).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from postroom.storage.blobs.keys import check_key, check_prefix

TEMP_PREFIX = ".tmp-"


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _make_directories(directory: Path) -> None:
    """Create ``directory`` and its missing parents, making each new entry durable in its parent."""
    if directory.is_dir():
        return
    _make_directories(directory.parent)
    with contextlib.suppress(FileExistsError):
        directory.mkdir()
        _fsync_directory(directory.parent)


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key).split("/"))

    def put(self, key: str, chunks: Iterable[bytes]) -> int:
        path = self._path(key)
        _make_directories(path.parent)
        fd, temp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=path.parent)
        try:
            size = 0
            with os.fdopen(fd, "wb") as file:
                for chunk in chunks:
                    file.write(chunk)
                    size += len(chunk)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temp_name, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp_name)
            raise
        _fsync_directory(path.parent)
        return size

    def open(self, key: str) -> BinaryIO:
        try:
            return self._path(key).open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise KeyError(key) from None

    def size(self, key: str) -> int | None:
        try:
            info = self._path(key).stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        return info.st_size if stat.S_ISREG(info.st_mode) else None

    def delete(self, key: str) -> None:
        path = self._path(key)
        if path.is_dir():
            return
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            path.unlink()

    def delete_prefix(self, prefix: str) -> int:
        """Move the folder aside in one rename (readers see all of it or none), then remove it."""
        folder = self.root.joinpath(*check_prefix(prefix).split("/"))
        if not folder.is_dir():
            return 0
        trash = self.root / f".trash-{uuid.uuid4().hex}"
        try:
            folder.rename(trash)
        except FileNotFoundError:
            return 0
        count = sum(1 for _, _, names in os.walk(trash) for name in names if not name.startswith(TEMP_PREFIX))
        shutil.rmtree(trash)
        return count

    def presigned_url(self, key: str, expires_in: int, filename: str | None, content_type: str | None) -> str | None:
        check_key(key)
        return None

    def ready(self) -> bool:
        try:
            _make_directories(self.root)
            fd, probe = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=self.root)
            os.close(fd)
            os.unlink(probe)
        except OSError:
            return False
        return True
