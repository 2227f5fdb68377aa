"""Crawl fleet benchmark: processes on one Redis frontier against the local bench site.

Starts a ``redis-server`` on a free 127.0.0.1 port (temp folder, no persistence) and the
synthetic site of ``bench/bench_crawl.py`` (a tree of ``--pages`` pages), then

1. crawls it with 1 ``licrawl crawl --frontier`` process, then (a fresh crawl name, a fresh
   copy of the site) with 3 processes, delays off: pages/s from the server's request log
   (first to last page request, so process start-up is not counted; the wall clock from
   start to the last exit is printed beside it), CPU used, and Redis per URL: round trips
   (each process writes its count to Redis when it stops) and commands run (``INFO stats``
   total_commands_processed, which counts those inside the Lua scripts);
2. the same, latency-bound: each answer waits ``--latency`` seconds and each process keeps
   ``--latency-concurrency`` requests in flight (a distant server, where one process is
   not CPU-bound), 1 process vs 3;
3. crawls ``--delay-pages`` pages with 3 processes and ``DOWNLOAD_DELAY`` on (one host):
   the spacing between two requests to the host in the server's log (min, median);
4. fills a frontier with ``--urls`` queued URLs (requests as the crawl stores them), then
   leases and marks every one done: Redis bytes per URL queued (``INFO memory``
   used_memory, and ``MEMORY USAGE`` of the pieces) and per URL in the seen-set once done;
   with Redis's default ``hash-max-listpack-value`` (64: an entry with its ~250-byte stored
   request becomes a real hash table) and with 1024.

Usage: ``.venv/bin/python bench/bench_fleet.py [--pages 3000] [--urls 100000]
[--latency 0.1] [--latency-concurrency 4] [--delay 0.2] [--delay-pages 40] [--workers 1]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import pickle
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import redis
from scrapy import Request
from scrapy.utils.request import RequestFingerprinter

sys.path.insert(0, str(Path(__file__).parent))
from bench_crawl import COMMON, synthetic_site  # noqa: E402

from crawler.demo.localsite import LocalSite, Reply  # noqa: E402
from crawler.fetch.fleet import RedisFrontier  # noqa: E402


def start_redis(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A redis-server on a free port; its process and URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed (apt-get install redis-server)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--dir",
                             str(folder), "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    for _ in range(100):
        try:
            client.ping()
            return proc, url
        except redis.ConnectionError:
            time.sleep(0.05)
    raise SystemExit("redis-server did not start")


def _proc_children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            tree.setdefault(ppid, []).append(int(entry))
    return tree


def _cpu_ticks(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    except (OSError, IndexError, ValueError):
        return 0


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine (every process, other users' too)."""
    with open("/proc/stat") as fh:
        values = [int(v) for v in fh.readline().split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


class TreeCpu:
    """CPU seconds of some processes and all their descendants (sampled every 0.1 s from
    /proc: a worker's last sample counts), and how busy the whole machine was."""

    def __init__(self, roots: list[int]) -> None:
        self.roots = roots
        self.ticks: dict[int, int] = {}
        self.machine = _machine_ticks()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            tree, todo = _proc_children(), list(self.roots)
            while todo:
                pid = todo.pop()
                todo.extend(tree.get(pid, []))
                self.ticks[pid] = max(self.ticks.get(pid, 0), _cpu_ticks(pid))

    def stop(self) -> tuple[float, float]:
        """(CPU seconds of the trees, cores the whole machine kept busy on average)."""
        self._stop.set()
        self._thread.join()
        busy, total = _machine_ticks()
        cores = os.cpu_count() or 1
        share = (busy - self.machine[0]) / max(1, total - self.machine[1])
        return sum(self.ticks.values()) / os.sysconf("SC_CLK_TCK"), share * cores


def redis_cpu(client: redis.Redis) -> float:
    """CPU seconds the Redis server used so far."""
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def slow_site(pages: int, latency: float) -> LocalSite:
    """The bench site, each answer sent ``latency`` seconds late (a distant server)."""
    site = synthetic_site(pages)
    inner = site.handler

    def handle(path: str) -> Reply | None:
        reply = inner(path)
        return None if reply is None else dataclasses.replace(reply, delay=latency)

    site.handler = handle
    return site


def fleet_crawl(url: str, name: str, processes: int, pages: int, out: Path,
                extra: list[str], latency: float = 0.0
                ) -> tuple[float, float, int, int, int, float, float, float, float]:
    """``processes`` crawl processes on a fresh site: (pages/s from the server log,
    wall seconds, pages served, client round trips, commands Redis ran (those inside
    scripts included), CPU seconds of the crawl processes and their workers, of Redis,
    cores the whole machine kept busy, CPU seconds of this process (the site server))."""
    client = redis.Redis.from_url(url)
    before_cmds = client.info("stats")["total_commands_processed"]
    before_redis = redis_cpu(client)
    before_self = time.process_time()
    with slow_site(pages, latency) if latency else synthetic_site(pages) as site:
        cmd = [sys.executable, "-m", "crawler.cli", "crawl", site.url + "/", "--out",
               str(out), "--frontier", url, "--crawl-name", name, *COMMON, "-s",
               "LICRAWL_PROGRESS_INTERVAL=0", *extra]
        start = time.monotonic()
        procs = [subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  text=True) for _ in range(processes)]
        sampler = TreeCpu([p.pid for p in procs])
        for proc in procs:
            _, err = proc.communicate()
            if proc.returncode != 0:
                raise SystemExit(f"crawl failed: {err[-2000:]}")
        wall = time.monotonic() - start
        cpu, machine = sampler.stop()
        times = [r.time for r in site.log if r.path.startswith("/p/") or r.path == "/"]
    served = len(times)
    rate = (served - 1) / (times[-1] - times[0]) if served > 1 else 0.0
    commands = client.info("stats")["total_commands_processed"] - before_cmds
    trips = sum(int(v) for v in client.hvals(f"licrawl:{name}:ops"))
    server_cpu = time.process_time() - before_self
    return (rate, wall, served, trips, commands, cpu, redis_cpu(client) - before_redis,
            machine, server_cpu)


def spacing(url: str, name: str, delay: float, pages: int, out: Path,
            extra: list[str]) -> tuple[float, float, int]:
    """3 processes, ``DOWNLOAD_DELAY=delay``: (min gap, median gap, requests)."""
    with synthetic_site(10 * pages) as site:
        cmd = [sys.executable, "-m", "crawler.cli", "crawl", site.url + "/", "--out",
               str(out), "--frontier", url, "--crawl-name", name, "--max-pages", str(pages),
               *COMMON, "-s", f"DOWNLOAD_DELAY={delay}", "-s", "LICRAWL_PROGRESS_INTERVAL=0",
               *extra]
        procs = [subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  text=True) for _ in range(3)]
        for proc in procs:
            _, err = proc.communicate()
            if proc.returncode != 0:
                raise SystemExit(f"crawl failed: {err[-2000:]}")
        times = [r.time for r in site.log if r.path.startswith("/p/") or r.path == "/"]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    return min(gaps), statistics.median(gaps), len(times)


def memory(url: str, n: int) -> None:
    """Bytes per URL in the queue and in the seen-set, at ``n`` URLs."""
    client = redis.Redis.from_url(url)
    frontier = RedisFrontier(url, "memory", host_concurrency=1_000_000)
    fingerprinter = RequestFingerprinter()
    hosts = [f"https://www{h}.example.org" for h in range(100)]
    client.execute_command("MEMORY", "PURGE")
    base = client.info("memory")["used_memory"]
    t0 = time.monotonic()
    pipe_ops = frontier.ops
    for i in range(n):
        request_url = f"{hosts[i % len(hosts)]}/articles/2024/{i:07d}/a-survey-note-title"
        request = Request(request_url, priority=0)
        data = request.to_dict()
        data.update(callback="parse", errback="errback")
        payload = pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
        key = fingerprinter.fingerprint(request).hex()
        frontier.enqueue(key, request_url, payload, depth=i % 7)
    fill = time.monotonic() - t0
    for h in hosts:
        frontier.put_site(h, {"robots_txt": ""}, 0.0)
    queued = client.info("memory")["used_memory"] - base
    p = frontier.prefix
    seen_bytes = client.memory_usage(p + "seen") or 0
    sample = [k for k, _ in zip(client.scan_iter(p + "e:*", count=1000), range(1000),
                                strict=False)]
    entry = statistics.mean(client.memory_usage(k) or 0 for k in sample)
    queues = sum(client.memory_usage(p + "q:" + h) or 0 for h in hosts)
    byurl = client.memory_usage(p + "byurl", samples=0) or 0
    print(f"queue, {n} URLs: used_memory +{queued / n:.0f} B/URL (entry hash "
          f"{entry:.0f} B incl. payload {len(payload)} B, host queues {queues / n:.1f} B, "
          f"url->key index {byurl / n:.1f} B, seen-set {seen_bytes / n:.1f} B); "
          f"enqueue {n / fill:,.0f} URL/s from one client ({(frontier.ops - pipe_ops) / n:.1f} "
          f"round trip/URL)")
    t0 = time.monotonic()
    leased = 0
    while True:
        lease = frontier.lease()
        if lease is None:
            break
        frontier.mark_done([lease.key])
        leased += 1
    drain = time.monotonic() - t0
    client.execute_command("MEMORY", "PURGE")
    done = client.info("memory")["used_memory"] - base
    seen_bytes = client.memory_usage(p + "seen", samples=0) or 0
    print(f"done, {leased} URLs: used_memory +{done / n:.0f} B/URL (seen-set "
          f"{seen_bytes / n:.1f} B/URL); lease+done {leased / drain:,.0f} URL/s from one "
          f"client")
    frontier.purge()
    frontier.close()


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=3000)
    parser.add_argument("--urls", type=int, default=100_000)
    parser.add_argument("--delay", type=float, default=0.2)
    parser.add_argument("--delay-pages", type=int, default=40)
    parser.add_argument("--latency", type=float, default=0.1,
                        help="seconds each answer of the latency-bound runs waits (0: skip)")
    parser.add_argument("--latency-concurrency", type=int, default=4,
                        help="requests in flight per process in the latency-bound runs")
    parser.add_argument("--workers", type=int, default=1,
                        help="detection workers per crawl process (default 1)")
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}")
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_redis(Path(tmp))
        try:
            extra = ["--workers", str(args.workers)]
            one = fleet_crawl(url, "one", 1, args.pages, Path(tmp) / "one", extra)
            three = fleet_crawl(url, "three", 3, args.pages, Path(tmp) / "three", extra)
            for label, (rate, wall, served, trips, commands, cpu, rcpu, machine, site) in (
                    ("1 process", one), ("3 processes", three)):
                print(f"{label}: {rate:.1f} pages/s ({served} pages; wall {wall:.1f} s "
                      f"with start-up; CPU {cpu:.1f} s crawl processes and workers = "
                      f"{cpu / wall:.2f} cores, Redis {rcpu:.1f} s, the site server "
                      f"{site:.1f} s; the machine was busy "
                      f"{machine:.2f} of {os.cpu_count()} cores, all users), Redis "
                      f"{trips / served:.1f} round trips/URL, {commands / served:.1f} "
                      f"commands/URL (inside scripts included)")
            print(f"3 processes / 1 process: {three[0] / one[0]:.2f}x")
            if args.latency > 0:
                c = args.latency_concurrency
                slow = [*extra, "-s", f"CONCURRENT_REQUESTS={c}", "-s",
                        f"CONCURRENT_REQUESTS_PER_DOMAIN={c}", "-s",
                        f"LICRAWL_FLEET_HOST_CONCURRENCY={3 * c}"]
                rates = []
                for n in (1, 3):
                    rate, wall, served, *_rest, machine, _site = fleet_crawl(
                        url, f"slow{n}", n, args.pages, Path(tmp) / f"slow{n}", slow,
                        args.latency)
                    rates.append(rate)
                    print(f"latency-bound ({args.latency} s per answer, {c} requests in "
                          f"flight per process): {n} process(es) {rate:.1f} pages/s "
                          f"({served} pages, wall {wall:.1f} s, machine busy "
                          f"{machine:.2f} cores)")
                print(f"latency-bound, 3 processes / 1 process: {rates[1] / rates[0]:.2f}x")
            low, median, n = spacing(url, "delay", args.delay, args.delay_pages,
                                     Path(tmp) / "delay", extra)
            print(f"delays on (DOWNLOAD_DELAY={args.delay}, 3 processes, one host, {n} "
                  f"requests): spacing min {low:.3f} s, median {median:.3f} s")
            if args.urls <= 0:
                return
            client = redis.Redis.from_url(url)
            print("Redis defaults (hash-max-listpack-value "
                  f"{client.config_get('hash-max-listpack-value')['hash-max-listpack-value']}):")
            memory(url, args.urls)
            client.config_set("hash-max-listpack-value", 1024)
            print("hash-max-listpack-value 1024 (entries stay compact listpacks):")
            memory(url, args.urls)
        finally:
            proc.terminate()
            proc.wait()


if __name__ == "__main__":
    main()
