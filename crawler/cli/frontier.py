"""``licrawl frontier status|seed|purge``: look at and manage a crawl fleet's Redis frontier."""

from __future__ import annotations

import argparse
import json
import pickle
import sys
from typing import Any

from crawler.core.locations import shown_location


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``frontier`` subcommand."""
    p = subparsers.add_parser(
        "frontier",
        help="show or manage the shared frontier of a crawl fleet (Redis)",
        description="Show or manage the frontier that `licrawl crawl --frontier URL "
        "--crawl-name NAME` processes share. status: queue size, requests in flight, "
        "pages done per process and per host. seed: queue start URLs (picked up by the "
        "running processes). purge: delete the crawl from Redis.",
    )
    p.add_argument("action", choices=("status", "seed", "purge"))
    p.add_argument("urls", nargs="*", metavar="URL", help="seed: the URLs to queue")
    p.add_argument("--frontier", required=True, metavar="URL",
                   help="the Redis of the fleet (redis://HOST:PORT/DB)")
    p.add_argument("--crawl-name", default="licrawl", metavar="NAME",
                   help="the crawl's name in that Redis (default: licrawl)")
    p.add_argument("--hosts", type=int, default=20, metavar="N",
                   help="status: show the N busiest hosts (default: 20)")
    p.add_argument("--json", action="store_true", help="status: as JSON")
    p.add_argument("--yes", action="store_true", help="purge: do not ask")
    p.set_defaults(func=run)


def _fail(message: str) -> int:
    print(f"licrawl frontier: {message}", file=sys.stderr)
    return 2


def seed_payload(url: str) -> tuple[str, bytes]:
    """The frontier key and stored request of a seed page, as the crawl's scheduler makes
    them for the spiders' page requests (callback ``parse``, errback ``errback``)."""
    from scrapy import Request
    from scrapy.utils.request import RequestFingerprinter

    request = Request(url)
    key = RequestFingerprinter().fingerprint(request).hex()
    data = request.to_dict()
    data.update(callback="parse", errback="errback")
    return key, pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)


def _status(frontier: Any, args: argparse.Namespace) -> int:
    status = frontier.status(top_hosts=args.hosts)
    c = status.counts
    if args.json:
        print(json.dumps({
            "crawl_name": args.crawl_name, "crawl_id": status.meta.get("crawl_id"),
            "queued": c.queued, "in_flight": c.leased, "fetched": c.fetched, "done": c.done,
            "seen": c.total, "budget_spent": status.budget_spent,
            "processes": {o: {"heartbeat_age_s": round(age, 1), "leases": held, "done": done}
                          for o, (age, held, done) in status.owners.items()},
            "hosts": [{"host": h.host, "queued": h.queued, "in_flight": h.in_flight,
                       "done": h.done} for h in status.hosts]}, indent=2))
        return 0
    print(f"crawl {args.crawl_name} ({status.meta.get('crawl_id', 'not started')}) on "
          f"{shown_location(args.frontier)}")
    print(f"queued       {c.queued}")
    print(f"in flight    {c.leased} leased, {c.fetched} fetched (result not written yet)")
    print(f"done         {c.done}")
    print(f"seen         {c.total}")
    if status.budget_spent:
        print(f"budget spent {status.budget_spent} page(s)")
    if status.owners:
        print("processes (heartbeat age, leases, pages done):")
        for owner, (age, held, done) in sorted(status.owners.items()):
            state = "stopped" if age < 0 else f"{age:.1f}s ago"
            print(f"  {owner:<40} {state:>12} {held:>8} {done:>10}")
    if status.hosts:
        print("hosts (queued, in flight, done):")
        for h in status.hosts:
            print(f"  {h.host:<40} {h.queued:>10} {h.in_flight:>5} {h.done:>10}")
    return 0


def run(args: argparse.Namespace) -> int:
    """Run one frontier action."""
    from crawler.fetch.fleet import RedisFrontier
    from crawler.fetch.frontier import FrontierError

    try:
        frontier = RedisFrontier(args.frontier, args.crawl_name, give_up_after=5.0)
        frontier.ping()
    except (FrontierError, ValueError) as exc:
        return _fail(str(exc))
    try:
        if args.action == "status":
            return _status(frontier, args)
        if args.action == "seed":
            if not args.urls:
                return _fail("seed: give URL arguments")
            added = 0
            for url in args.urls:
                key, payload = seed_payload(url)
                added += frontier.enqueue(key, url, payload)
            print(f"{added} of {len(args.urls)} URL(s) queued (the others were seen)")
            return 0
        if not args.yes:
            answer = input(f"delete crawl {args.crawl_name!r} from "
                           f"{shown_location(args.frontier)}? [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                return _fail("purge: not confirmed")
        print(f"{frontier.purge()} key(s) deleted")
        return 0
    except FrontierError as exc:
        return _fail(str(exc))
    finally:
        frontier.close()
