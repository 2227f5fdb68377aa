"""One progress printer for every long-running command: a line on stderr now and then.

Every stage (``crawl``, ``process``, ``filter``) reports through :class:`Progress`, so their
lines look alike (``[licrawl <stage>] ...``), are rate-limited the same way and go to the same
stream. The caller builds the line; :class:`Progress` decides when to print it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

DEFAULT_INTERVAL = 5.0  # seconds between two progress lines


class Progress:
    """Rate-limited progress lines: ``tick`` prints at most once per ``interval`` seconds.

    ``enabled=False`` prints nothing (``--quiet``); ``stream`` defaults to stderr, looked
    up at print time so tests that capture stderr see the lines.
    """

    def __init__(self, stage: str, *, interval: float = DEFAULT_INTERVAL,
                 enabled: bool = True, stream: TextIO | None = None) -> None:
        self.stage = stage
        self.interval = interval
        self.enabled = enabled
        self.stream = stream
        self.started = self._last = time.monotonic()

    @property
    def elapsed(self) -> float:
        """Seconds since the printer was made (never 0, so rates can divide by it)."""
        return max(time.monotonic() - self.started, 1e-9)

    def rate(self, count: float) -> float:
        """``count`` per second since the start."""
        return count / self.elapsed

    def tick(self, line: Callable[[], str], *, force: bool = False) -> None:
        """Print ``line()`` when ``interval`` seconds have passed since the last line (or
        at once with ``force``); ``line`` is only called when something is printed."""
        now = time.monotonic()
        if not self.enabled or (not force and now - self._last < self.interval):
            return
        self._last = now
        self.print(line())

    def note(self, text: str) -> None:
        """Print a one-off line now (a step starting), with the elapsed time."""
        self.print(f"{text} ({self.elapsed:.1f}s)")

    def print(self, text: str) -> None:
        """Print one line now, with the stage label."""
        if self.enabled:
            print(f"[licrawl {self.stage}] {text}", file=self.stream or sys.stderr, flush=True)
