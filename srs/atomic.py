"""Replacing a file all at once: the one way srs writes a file a person keeps.

A temporary file of a short name beside the file (any name fits the file-name limit),
written and synced, given the old file's mode and owner, then renamed over it: a reader
sees the old text or the new, never a part, and a failure leaves the old file and no
temporary file behind. Through a symlink, the file it points to is replaced and the link
stays a link.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO


def _default_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextmanager
def replacing(path: Path, *, mode: int | None = None, private: bool = False,
              check: Callable[[], None] | None = None) -> Iterator[BinaryIO]:
    """A file to write that replaces the file at `path` in one step when the block ends
    without error (written as it goes, so a large export never sits in memory).

    An existing file keeps its mode and owner; a new one gets `mode` (default: as the umask
    allows). `private`: the file is 0600 whatever it was. `check` runs just before the
    rename and may raise to leave the file as it was. Raises OSError (the temporary file
    removed).
    """
    target = Path(os.path.realpath(path))
    try:
        info: os.stat_result | None = target.stat()
    except FileNotFoundError:
        info = None
    fd, tmp = tempfile.mkstemp(prefix=".srs-", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb", buffering=1 << 20) as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        if private:
            os.chmod(tmp, 0o600)
        elif info is None:
            os.chmod(tmp, _default_mode() if mode is None else mode)
        else:
            os.chmod(tmp, info.st_mode & 0o7777)
        if info is not None:
            made = os.stat(tmp)
            if (made.st_uid, made.st_gid) != (info.st_uid, info.st_gid):
                os.chown(tmp, info.st_uid, info.st_gid)
        if check is not None:
            check()
        os.replace(tmp, target)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    with suppress(OSError):  # the rename itself survives a crash once the folder is synced
        folder = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


def replace_file(path: Path, data: bytes, *, mode: int | None = None,
                 private: bool = False, check: Callable[[], None] | None = None) -> Path:
    """Replace the file at `path` with `data` in one step; returns the file written.
    (See `replacing`.)"""
    with replacing(path, mode=mode, private=private, check=check) as out:
        out.write(data)
    return Path(os.path.realpath(path))
