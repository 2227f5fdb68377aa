"""Small file-system helpers shared by the writers of shards and WARC files."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import TextIO


def fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable (fsync the directory itself)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file renamed into place: a reader sees
    the old file or the new one, never half of one."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def try_lock(path: Path) -> TextIO | None:
    """Open ``path`` (made if missing) and take an exclusive ``flock`` on it without
    waiting: the open file, which holds the lock until it is closed (or its process dies),
    or ``None`` when another process holds it."""
    fh = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - the caller holds it
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        return None
    return fh
