"""Test helper: crawl state folders built by recording observations with CrawlState, as a
scheduled crawl job's runs would."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crawler.state.store import CrawlState, Observation

#: Start of the first run of the test jobs: 2026-11-01T06:00:00Z.
T0 = datetime(2026, 11, 1, 6, 0, 0, tzinfo=UTC).timestamp()
DAY = 86400.0


def record_id(url: str, when: float) -> str:
    """A WARC-Record-ID that is the same for the same URL and time in every test run."""
    digest = hashlib.sha1(f"{url} {when}".encode()).digest()
    return f"<urn:uuid:{uuid.UUID(bytes=digest[:16], version=4)}>"


def page(url: str, when: float, outcome: str = "new", **fields: Any) -> Observation:
    """An observation of a fetched page (status 200, a text digest, a WARC record)."""
    values: dict[str, Any] = {
        "status": 200, "text_sha1": "0" * 40, "license": "CC-BY-4.0",
        "license_category": "permissive", "tdm_reserved": False,
        "warc_file": "crawl-00001.warc.gz",
        "warc_record_id": record_id(url, when)}
    values.update(fields)
    return Observation(url=url, time=when, outcome=outcome, **values)


def gone(url: str, when: float, status: int = 404) -> Observation:
    """An observation of a page that answered 404/410."""
    return Observation(url=url, time=when, outcome="removed", status=status)


def record_run(folder: Path, run_id: str, started: float,
               observations: Iterable[Observation],
               summary: dict[str, Any] | None = None) -> None:
    """Record one finished run of the job in ``folder``."""
    with CrawlState(folder, run_id, now=started) as state:
        for obs in observations:
            state.record(obs)
        state.end_run(summary or {}, now=started + 600)
