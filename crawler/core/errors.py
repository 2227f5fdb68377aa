"""Error records: every URL that yields no document row ends here, with a stage and reason.

Format: JSON Lines, one object per line with the fields of :class:`ErrorRecord`
(``fetched_at`` as ISO 8601 UTC, or null). Each :class:`ErrorWriter` writes its own file,
``<out_dir>/<prefix>-<UTC time>-<pid>-<random>.jsonl``, so many processes can share the
folder. The file is line-buffered: each record reaches the OS as soon as it is written, so a
crash (even SIGKILL) loses nothing already recorded; at worst the last line is cut, and
:func:`read_errors` skips such a line.

Stages and the reasons licrawl's own code gives (the crawl adds its fetch reasons):

=========  ===============================================================================
fetch      network or HTTP client failure (DNS, connection, TLS, download size)
robots     disallowed by robots.txt
classify   the response cannot be a document: ``http-error``, ``redirect``, ``not-html``,
           ``empty-body``, ``too-large`` (see :data:`crawler.core.records.REASONS`)
decode     ``not-a-page`` (not usable HTML: binary, undecodable); from WARC/ARC reading:
           ``warc-bad-date``, ``warc-bad-http`` (one record), ``warc-truncated``,
           ``warc-unreadable`` (the rest of the file; ``url`` names the record being read,
           empty when the bytes do not say)
inspect    ``exception`` (detection raised), ``worker-crashed``, ``bad-row`` (the schema
           refused the row), ``cancelled`` (the pool was stopped first)
timeout    ``timeout``: detection took longer than the limit; its worker was replaced
extract    ``no-main-text``: the page has no main text
=========  ===============================================================================
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

STAGES = frozenset({"fetch", "robots", "classify", "decode", "inspect", "timeout", "extract"})


@dataclass(frozen=True, slots=True)
class ErrorRecord:
    """Why one URL gave no row. ``detail`` is free text (exception message, content type)."""

    url: str
    stage: str
    reason: str
    detail: str = ""
    http_status: int | None = None
    fetched_at: datetime | None = None
    warc_file: str | None = None
    warc_record_id: str | None = None
    crawl_id: str | None = None

    def __post_init__(self) -> None:
        if self.stage not in STAGES:
            raise ValueError(f"unknown error stage {self.stage!r}; one of {sorted(STAGES)}")

    def to_json(self) -> str:
        """One JSON line (without the newline)."""
        data = asdict(self)
        if self.fetched_at is not None:
            data["fetched_at"] = self.fetched_at.astimezone(UTC).isoformat()
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, line: str) -> ErrorRecord:
        """Parse a line written by :meth:`to_json`."""
        data: dict[str, Any] = json.loads(line)
        known = {f.name for f in fields(cls)}
        data = {k: v for k, v in data.items() if k in known}
        if data.get("fetched_at"):
            data["fetched_at"] = datetime.fromisoformat(data["fetched_at"])
        return cls(**data)


class ErrorWriter:
    """Append :class:`ErrorRecord` lines to a new JSONL file of its own under ``out_dir``."""

    def __init__(self, out_dir: str | os.PathLike[str], *, prefix: str = "errors") -> None:
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        stamp = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{os.getpid()}-{secrets.token_hex(3)}"
        self.path = self.out_dir / f"{prefix}-{stamp}.jsonl"
        self._fh: TextIO | None = open(self.path, "x", encoding="utf-8", buffering=1)  # noqa: SIM115
        self.count = 0

    def write(self, record: ErrorRecord) -> None:
        """Record one error; it is handed to the OS before this returns."""
        if self._fh is None:
            raise ValueError("ErrorWriter is closed")
        self._fh.write(record.to_json() + "\n")
        self.count += 1

    def close(self) -> Path:
        """Close the file; returns its path."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        return self.path

    def __enter__(self) -> ErrorWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_errors(path: str | os.PathLike[str]) -> Iterator[ErrorRecord]:
    """Every error record of a ``.jsonl`` file, or of all ``*.jsonl`` files in a folder.

    A last line cut by a crash (not valid JSON) is skipped.
    """
    p = Path(path)
    files = sorted(p.glob("*.jsonl")) if p.is_dir() else [p]
    for file in files:
        with open(file, encoding="utf-8") as fh:
            for line in fh:
                if not line.strip():
                    continue
                try:
                    yield ErrorRecord.from_json(line)
                except json.JSONDecodeError:
                    if line.endswith("\n"):
                        raise
