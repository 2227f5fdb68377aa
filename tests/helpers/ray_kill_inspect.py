"""A detection function for the Ray tests: the real ``inspect``, but on the page whose URL
ends in ``KILL_SUFFIX`` it kills the Ray worker running the task (SIGKILL, a real death, so
Ray runs the task again), while fewer than ``kills`` kills are claimed
(:func:`helpers.deaths.claim_death`)."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

from helpers.deaths import claim_death

from crawler.detect.inspect import inspect as real_inspect

KILL_SUFFIX = "?kill=here"


def _cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(
        errors="replace")


def _ray_worker_pid() -> int:
    """The Ray worker process above this detection worker (a Ray worker's command line
    starts with ``ray::``)."""
    pid = os.getpid()
    for _ in range(6):
        stat = Path(f"/proc/{pid}/stat").read_text()
        pid = int(stat.rsplit(")", 1)[1].split()[1])  # the parent's pid
        if pid <= 1:
            break
        if _cmdline(pid).startswith("ray::"):
            return pid
    raise RuntimeError("no Ray worker above this process")


def inspect(html: bytes, url: str | None = None, headers: Any = None,
            site_policy: Any = None, site: Any = None, *, marker: str = "",
            kills: int = 1) -> dict[str, Any]:
    """``crawler.detect.inspect``; kills the Ray worker on the marked page (see above)."""
    marked = url is not None and url.endswith(KILL_SUFFIX) and bool(marker)
    if marked and claim_death(marker, kills):
        os.kill(_ray_worker_pid(), signal.SIGKILL)
        os._exit(1)
    return real_inspect(html, url=url, headers=headers, site_policy=site_policy, site=site)
