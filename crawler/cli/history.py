"""``licrawl history``: what a scheduled job's crawl state saw of each URL, run after run.

Without ``--changes`` every observation (time, run, outcome, status, license, category,
opt-outs, TDM reservation, WARC record); with it only the transitions that matter (license
changed, opt-out added or removed, page removed or back again). ``--json`` prints one JSON
object per line; ``--runs`` lists the runs with their summaries. Observations are read from
the state in pages and printed as they come, never all held at once.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crawler.state.changes import Change
    from crawler.state.open import AnyState
    from crawler.state.store import Observation


class HistoryError(Exception):
    """Bad input for ``licrawl history`` (the message is printed after ``licrawl history:``)."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``history`` subcommand."""
    p = subparsers.add_parser(
        "history",
        help="show what each crawl run saw of a URL: license, opt-outs, removals",
        description="Show the observations a scheduled job's crawl state (licrawl crawl "
        "--state DIR) holds for each URL, oldest run first: time, run, outcome, HTTP "
        "status, license, category, opt-outs, TDM reservation and WARC record. With "
        "--changes, only the transitions: license changed, opt-out added or removed, page "
        "removed or back again.",
    )
    p.add_argument("state", metavar="DIR", help="the state of licrawl crawl --state: its "
                   "folder or redis://HOST:PORT/DB?name=JOB")
    p.add_argument("urls", nargs="*", metavar="URL",
                   help="only these URLs (default: all); they follow DIR directly")
    p.add_argument("--changes", action="store_true",
                   help="only the transitions (license, opt-outs, removed / back again)")
    p.add_argument("--since", metavar="DATE",
                   help="only from this date or time on (ISO 8601, e.g. 2026-11-01 or "
                   "2026-11-01T06:00; UTC unless it names an offset)")
    p.add_argument("--json", action="store_true",
                   help="one JSON object per line (with --changes: url, time, field, old, "
                   "new)")
    p.add_argument("--runs", action="store_true",
                   help="list the runs (id, start, end, summary) instead")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the history; exit 2 with a message for a bad state folder or date."""
    import sqlite3

    from crawler.state.open import open_state
    from crawler.state.store import StateError

    try:
        since = parse_since(args.since)
        if args.runs and (args.urls or args.changes or since is not None):
            raise HistoryError("--runs lists the runs; it takes no URL, --changes or --since")
        state = open_state(args.state)
    except (HistoryError, StateError) as exc:
        return _fail(str(exc))
    try:
        if args.runs:
            lines = _run_lines(state, as_json=args.json)
        elif args.changes:
            lines = _change_lines(state, args.urls, since, as_json=args.json)
        else:
            lines = _observation_lines(state, args.urls, since, as_json=args.json)
        for line in lines:
            sys.stdout.write(line + "\n")
        sys.stdout.flush()
    except sqlite3.DatabaseError as exc:
        return _fail(f"{state.folder}: cannot read the crawl state ({exc})")
    except StateError as exc:  # Redis gone while reading
        return _fail(str(exc))
    except BrokenPipeError:  # `licrawl history DIR | head`
        sys.stdout = None  # type: ignore[assignment]  # nothing more to flush at exit
        return 0
    finally:
        state.close()
    return 0


def _fail(message: str) -> int:
    print(f"licrawl history: {message}", file=sys.stderr)
    return 2


def parse_since(value: str | None) -> float | None:
    """``--since`` as Unix seconds: an ISO date (midnight UTC) or date and time (UTC unless
    it has an offset)."""
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise HistoryError(f"--since {value!r}: not an ISO 8601 date or time (e.g. "
                           "2026-11-01 or 2026-11-01T06:00:00Z)") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def iso(seconds: float) -> str:
    """Unix seconds as ``2026-11-01T06:00:00Z`` (the text output)."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def json_time(seconds: float) -> str:
    """Unix seconds as ``2026-11-01T06:00:00+00:00``, as in every ``--json`` object (the
    form of :meth:`crawler.state.changes.Change.to_dict`)."""
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")


# -- observations -------------------------------------------------------------------------
def observation_dict(obs: Observation) -> dict[str, Any]:
    """One observation as the JSON object of ``licrawl history --json``."""
    return {
        "url": obs.url, "time": json_time(obs.time), "run": obs.run_id, "outcome": obs.outcome,
        "status": obs.status, "license": obs.license,
        "license_category": obs.license_category, "ai_optout": list(obs.ai_optout),
        "tdm_reserved": obs.tdm_reserved, "page_signals": list(obs.page_signals),
        "etag": obs.etag, "last_modified": obs.last_modified,
        "payload_digest": obs.payload_digest, "text_sha1": obs.text_sha1,
        "warc_file": obs.warc_file, "warc_record_id": obs.warc_record_id,
        "ref_record_id": obs.ref_record_id, "ref_date": obs.ref_date,
    }


_HEADER = ("time", "run", "outcome", "status", "license", "category", "opt-outs", "tdm",
           "warc")


def _cells(obs: Observation) -> tuple[str, ...]:
    warc = obs.warc_file or ""
    if obs.warc_record_id:
        warc += f"#{obs.warc_record_id}"
    if obs.ref_record_id and obs.ref_record_id != obs.warc_record_id:  # a revisit record
        warc += f" (refers to {obs.ref_record_id})"
    tdm = "-" if obs.tdm_reserved is None else ("reserved" if obs.tdm_reserved else "no")
    return (iso(obs.time), obs.run_id, obs.outcome,
            "-" if obs.status is None else str(obs.status), obs.license or "-",
            obs.license_category or "-", ",".join(obs.ai_optout) or "-", tdm, warc or "-")


def _table(url: str, rows: list[tuple[str, ...]]) -> Iterator[str]:
    """One URL's observations, its columns as wide as its widest cell."""
    widths = [max(len(r[i]) for r in [_HEADER, *rows]) for i in range(len(_HEADER) - 1)]
    yield url
    for row in [_HEADER, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        yield "  " + "  ".join([*cells, row[-1]]).rstrip()


def _by_url(observations: Iterable[Observation]) -> Iterator[tuple[str, list[Observation]]]:
    """Consecutive observations grouped by URL (one URL's runs at a time in memory)."""
    url: str | None = None
    group: list[Observation] = []
    for obs in observations:
        if obs.url != url and group:
            yield str(url), group
            group = []
        url = obs.url
        group.append(obs)
    if group:
        yield str(url), group


def _observation_lines(state: AnyState, urls: list[str], since: float | None, *,
                       as_json: bool) -> Iterator[str]:
    seen: set[str] = set()  # of the URLs asked for
    n_obs = n_urls = 0
    for url, group in _by_url(state.observations(urls or None, since=since)):
        if urls:
            seen.add(url)
        n_obs += len(group)
        n_urls += 1
        if as_json:
            yield from (json.dumps(observation_dict(o), ensure_ascii=False) for o in group)
            continue
        if n_obs > len(group):
            yield ""
        yield from _table(url, [_cells(o) for o in group])
    if not as_json:
        when = "" if since is None else f" since {iso(since)}"
        yield f"{counted(n_obs, 'observation')} of {counted(n_urls, 'URL')}{when}"
    _say_missing(urls, seen, since)


def counted(n: int, noun: str) -> str:
    """``1 URL``, ``2 URLs``, ``1,500 observations``."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _say_missing(urls: list[str], seen: set[str], since: float | None) -> None:
    for url in dict.fromkeys(urls):
        if url not in seen:
            when = "" if since is None else f" since {iso(since)}"
            print(f"licrawl history: no observations of {url}{when}", file=sys.stderr)


# -- changes ------------------------------------------------------------------------------
def describe_change(change: Change) -> tuple[str, str]:
    """A change as ``(what, how)`` for the text output: ``("license", "CC-BY-4.0 ->
    LicenseRef-All-Rights-Reserved")``, ``("opt-out", "added robots:GPTBot")``,
    ``("status", "page removed")``, ..."""
    if change.field == "license":
        return "license", f"{change.old or 'NOASSERTION'} -> {change.new or 'NOASSERTION'}"
    if change.field == "ai_optout":
        added = sorted(set(change.new) - set(change.old))
        removed = sorted(set(change.old) - set(change.new))
        parts = ([f"added {', '.join(added)}"] if added else []) + (
            [f"removed {', '.join(removed)}"] if removed else [])
        return "opt-out", "; ".join(parts)
    if change.field == "tdm_reserved":
        return "tdm", "reservation added" if change.new else "reservation removed"
    return "status", "page removed" if change.new == "removed" else "page back again"


def _change_lines(state: AnyState, urls: list[str], since: float | None, *,
                  as_json: bool) -> Iterator[str]:
    from crawler.state.changes import walk_changes

    seen: set[str] = set()
    url: str | None = None
    n_changes = 0
    urls_changed = 0
    # every observation is read (a change after --since compares with the one before it)
    observations = state.observations(urls or None)
    for change in walk_changes(_noting(observations, seen) if urls else observations):
        if since is not None and change.time < since:
            continue
        n_changes += 1
        if as_json:
            yield json.dumps(change.to_dict(), ensure_ascii=False)
            continue
        if change.url != url:
            url = change.url
            urls_changed += 1
            yield change.url
        what, how = describe_change(change)
        yield f"  {iso(change.time)}  {change.run_id}  {what:<8} {how}"
    if not as_json:
        when = "" if since is None else f" since {iso(since)}"
        yield f"{counted(n_changes, 'change')} in {counted(urls_changed, 'URL')}{when}"
    _say_missing(urls, seen, None)


def _noting(observations: Iterable[Observation], seen: set[str]) -> Iterator[Observation]:
    for obs in observations:
        seen.add(obs.url)
        yield obs


# -- runs ---------------------------------------------------------------------------------
def _run_lines(state: AnyState, *, as_json: bool) -> Iterator[str]:
    for run_id, started, ended, summary in state.runs():
        if as_json:
            yield json.dumps({"run": run_id, "started": json_time(started),
                              "ended": None if ended is None else json_time(ended),
                              "summary": summary}, ensure_ascii=False)
            continue
        end = "running or stopped" if ended is None else f"ended {iso(float(ended))}"
        facts = "  ".join(f"{k}={v if isinstance(v, int | float | str) else json.dumps(v)}"
                          for k, v in summary.items())
        yield f"{run_id}  started {iso(started)}  {end}" + (f"  {facts}" if facts else "")
