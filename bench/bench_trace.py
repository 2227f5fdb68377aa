"""Benchmark of the product: ``licrawl index`` and ``licrawl trace`` (issue 9, Performance).

Corpus, outputs and truth come from ``bench/bench_trace_index.py`` (:func:`prepare`), in a
work folder outside the repository (``--root``; kept and reused by the next run with the
same parameters): ``--size-mb`` MiB of text (default 1024) as licrawl record shards
(``ShardWriter``, the record schema, an SPDX document per shard) made of the real page
texts of ``tests/pages/devset`` and ``crawler/demo/site`` (trafilatura), mixed and
perturbed, with varied licenses (CC BY 4.0, CC BY-SA 4.0, CC BY-NC 4.0, CC0, all rights
reserved, NOASSERTION), titles, authors and copyright notices; ``--outputs`` model outputs
of ~500 words (40% with an exact copy of 50-200 words of a known document, 20% with a
lightly edited copy, 10% with a paraphrase of a known document, 10% with a common footer,
20% with no copy) and the brute-force truth (every 50-word window of every output looked up
in the hashes of every 50-word window of the corpus).

Build: ``licrawl index CORPUS --out INDEX --jobs J --shard-mb S`` timed as a whole process
(Python start-up, reading the shards and writing the index included; its output goes to
files), with the peak RSS of its process tree and its CPU seconds (``/proc`` times of each
process), both sampled every 0.1 s. Printed: words/s (the index's words over the wall
time), index bytes on disk per corpus word, peak RSS.

Query, in one child process (``TraceIndex``, the Python API ``licrawl trace`` uses):
first the index's files are dropped from the page cache (``posix_fadvise(DONTNEED)`` on
those files only; ``fincore`` shows what stayed resident), the index is opened and one
output traced: the cold first query. One pass over all outputs fills the page cache (its
latencies are printed as the warm-up pass). Then for ``jobs=1`` and ``jobs=2`` threads: a
fresh ``TraceIndex.open``, its first query (warm page cache), and one pass over all outputs
verbatim only (``near=False``) and one with near-verbatim passages (``near=True``, the
default of ``licrawl trace``): p50/p95 latency over all outputs, and p95 of the outputs
with a copy (exact, edited, footer) and without (none, paraphrase). Target: p95 under
300 ms for verbatim spans. The ``jobs=2`` answers must equal the ``jobs=1`` ones.

CLI: ``licrawl trace --index INDEX FILE --json`` (FILE: an output with an exact copy) as a
whole process: once with the index dropped from the page cache, then ``--cli-runs`` times
warm, with and without ``--no-near``.

Accuracy (answers of ``jobs=1``, ``max_sources`` 10 as the CLI): exact copies covered by a
verbatim span (span recall) with their source listed (source recall); brute-force windows
covered; spans not in the corpus; sources that do not hold their span (every reported
source is checked against the document's own words); "none" and "paraphrase" outputs given
any source (false sources: nothing was copied); footers (boilerplate is in ~1% of the
corpus, so a span is right; reported apart); near-verbatim recall (edited copies found
with their source over at least half of the copy) and precision (passages on the planted
document; passages whose source holds at least half of their 8-word seeds); every reported
source's url, title, authors and license against its record, and its verdict naming the
license. ``results-trace.json`` in the corpus folder (and ``--json-out``) has every figure.

    .venv/bin/python bench/bench_trace.py                       # 1 GiB, --jobs 2
    .venv/bin/python bench/bench_trace.py --size-mb 64 --outputs 100   # a quick run
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))
from bench_dedup import measure  # noqa: E402
from bench_trace_index import (  # noqa: E402
    MIB,
    CorpusDocs,
    evaluate,
    from_product,
    log,
    outputs_path,
    pct,
    prepare,
)
from proctree import _children  # noqa: E402

WITH_COPY = ("exact", "edited", "boilerplate")
#: The accuracy table: label, count, out of (keys of ``evaluate`` and ``check_sources``).
ACCURACY_LINES = (
    ("exact copies covered by one span (span recall)", "exact_span_found", "exact"),
    ("... with their source listed (source recall)", "exact_source_found", "exact"),
    ("brute-force 50-word windows covered by a span", "truth_windows_covered",
     "truth_windows"),
    ("verbatim spans not in the corpus", "false_spans", "spans"),
    ("span sources not holding the span", "false_sources", "sources_checked"),
    ("no-copy outputs given a source", "none_with_source", "none"),
    ("... no 50-word window of it in the corpus (false source)", "none_false_source", "none"),
    ("paraphrase outputs given a source", "paraphrase_with_source", "paraphrase"),
    ("... no 50-word window of it in the corpus (false source)", "paraphrase_false_source",
     "paraphrase"),
    ("footers covered by a span (boilerplate, right)", "boilerplate_found", "boilerplate"),
    ("... with more than one occurrence", "boilerplate_many_sources", "boilerplate"),
    ("edited copies found with their source (near recall)", "edited_found", "edited"),
    ("... by a near-verbatim passage", "edited_found_near", "edited"),
    ("near passages on the planted document (precision)", "near_planted", "near"),
    ("near passages whose source holds >= half their 8-grams", "near_verified", "near"),
    ("sources whose url/title/authors/license match the record", "metadata_ok", "sources"),
    ("sources whose verdict names the license", "verdict_ok", "sources"),
)


# --------------------------------------------------------------------------- helpers


def licrawl() -> str:
    """The ``licrawl`` console script of this interpreter's environment."""
    script = Path(sys.executable).parent / "licrawl"
    return str(script) if script.exists() else shutil.which("licrawl") or "licrawl"


def evict(folder: Path) -> dict[str, int]:
    """Drop the files under ``folder`` from the page cache (fsync, then
    ``posix_fadvise(DONTNEED)`` on each: those files only); their bytes, and the bytes
    ``fincore`` still finds resident."""
    files = [p for p in folder.rglob("*") if p.is_file()]
    for path in files:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
    return {"bytes": sum(p.stat().st_size for p in files), "resident": resident(files)}


def resident(files: list[Path]) -> int:
    """Bytes of ``files`` in the page cache (``fincore``; -1 without it)."""
    if not files or not shutil.which("fincore"):
        return -1
    done = subprocess.run(["fincore", "--bytes", "--noheadings", "--output", "RES",
                           *map(str, files)], capture_output=True, text=True, check=False)
    return sum(int(x) for x in done.stdout.split()) if done.returncode == 0 else -1


def load() -> float:
    """The 1-minute load average."""
    return round(os.getloadavg()[0], 2)


class TreeCPU(threading.Thread):
    """CPU seconds (user + system) of this process's descendants while it runs: each
    process's times from ``/proc/PID/stat`` at its last sample (every 0.1 s), summed."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.seen: dict[int, float] = {}
        self.done = threading.Event()
        self.tick = os.sysconf("SC_CLK_TCK")

    def run(self) -> None:
        while not self.done.wait(0.1):
            tree, todo = _children(), list(_children().get(os.getpid(), []))
            while todo:
                pid = todo.pop()
                todo.extend(tree.get(pid, []))
                try:
                    with open(f"/proc/{pid}/stat") as fh:
                        fields = fh.read().rsplit(")", 1)[1].split()
                    self.seen[pid] = (int(fields[11]) + int(fields[12])) / self.tick
                except (OSError, IndexError, ValueError):
                    continue

    def stop(self) -> float:
        """Stop sampling; the CPU seconds seen."""
        self.done.set()
        self.join()
        return sum(self.seen.values())


def latency(ms: list[float], kinds: list[str]) -> dict[str, Any]:
    """p50/p95 (and max) over all outputs, p95 of those with and without a copy."""
    copy = [t for t, k in zip(ms, kinds, strict=True) if k in WITH_COPY]
    other = [t for t, k in zip(ms, kinds, strict=True) if k not in WITH_COPY]
    return {"p50": pct(ms, 50), "p95": pct(ms, 95), "max": max(ms), "mean": float(np.mean(ms)),
            "p50_copy": pct(copy, 50), "p95_copy": pct(copy, 95),
            "p50_no_copy": pct(other, 50), "p95_no_copy": pct(other, 95)}


# --------------------------------------------------------------------------- phases


def build(corpus: Path, index: Path, jobs: int, shard_mb: int) -> dict[str, Any]:
    """``licrawl index`` as a whole process: wall, peak tree RSS, CPU, words, bytes."""
    shutil.rmtree(index, ignore_errors=True)
    before, cpu = load(), TreeCPU()
    cpu.start()
    run = measure([licrawl(), "index", str(corpus), "--out", str(index), "--jobs", str(jobs),
                   "--shard-mb", str(shard_mb)], capture=True)
    cpu_s = cpu.stop()
    manifest = json.loads((index / "index.json").read_text())
    size = sum(p.stat().st_size for p in index.rglob("*") if p.is_file())
    return {"wall_s": run["wall"], "peak_rss_mib": run["rss_mib"],
            "cpu_s": cpu_s, "words": manifest["words"],
            "documents": manifest["documents"], "shards": len(manifest["shards"]),
            "bytes": size, "words_per_s": manifest["words"] / run["wall"],
            "bytes_per_word": size / manifest["words"], "jobs": jobs, "shard_mb": shard_mb,
            "stdout": run["stdout"].strip(), "load_before": before, "load_after": load()}


def child_query(index: Path, outputs_path: Path, min_words: int) -> dict[str, Any]:
    """The query phase (in its own process): cold first query, warm-up pass, then the
    timed passes for jobs 1 and 2, verbatim only and with near-verbatim."""
    from crawler.trace.engine import TraceIndex

    outputs = json.loads(outputs_path.read_text())
    texts = [o["text"] for o in outputs]
    kinds = [o["kind"] for o in outputs]
    first = texts[kinds.index("exact")]
    out: dict[str, Any] = {"load_before": load(), "evicted": evict(index)}
    t = time.perf_counter()
    opened = TraceIndex.open(index, jobs=1)
    out["open_cold_ms"] = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    opened.trace(first, min_words=min_words)
    out["first_query_cold_ms"] = (time.perf_counter() - t) * 1000
    warm = []
    for text in texts:
        t = time.perf_counter()
        opened.trace(text, min_words=min_words)
        warm.append((time.perf_counter() - t) * 1000)
    out["warmup_pass"] = latency(warm, kinds)
    out["resident_after_warmup"] = resident([p for p in index.rglob("*") if p.is_file()])
    answers: dict[str, list[dict[str, Any]]] = {}
    for jobs in (1, 2):
        t = time.perf_counter()
        opened = TraceIndex.open(index, jobs=jobs)
        open_ms = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        opened.trace(first, min_words=min_words)
        row: dict[str, Any] = {"open_ms": open_ms,
                               "first_query_ms": (time.perf_counter() - t) * 1000}
        for near in (False, True):
            ms, results = [], []
            for text in texts:
                t = time.perf_counter()
                result = opened.trace(text, min_words=min_words, near=near)
                ms.append((time.perf_counter() - t) * 1000)
                results.append(result.to_json())
            mode = "near" if near else "verbatim"
            row[mode] = latency(ms, kinds)
            row[mode]["ms"] = ms
            answers[f"{jobs}-{mode}"] = results
        out[f"jobs{jobs}"] = row
    for mode in ("verbatim", "near"):
        out[f"jobs_differ_{mode}"] = sum(
            _answer(a) != _answer(b)
            for a, b in zip(answers[f"1-{mode}"], answers[f"2-{mode}"], strict=True))
    out["answers"] = {mode: answers[f"1-{mode}"] for mode in ("verbatim", "near")}
    with open("/proc/self/status") as fh:
        status = dict(line.split(":", 1) for line in fh if ":" in line)
    out["vmhwm_mib"] = int(status["VmHWM"].split()[0]) / 1024
    out["load_after"] = load()
    return out


def _answer(result: dict[str, Any]) -> str:
    """A trace answer without its timing, for comparing two runs."""
    return json.dumps({k: v for k, v in result.items() if k != "milliseconds"},
                      sort_keys=True)


def cli(index: Path, text_file: Path, runs: int) -> dict[str, Any]:
    """``licrawl trace --json`` as a whole process: cold (index dropped from the page
    cache), then ``runs`` times warm with and without ``--no-near``."""
    base = [licrawl(), "trace", "--index", str(index), str(text_file), "--json"]
    out: dict[str, Any] = {"load_before": load(), "evicted": evict(index)}
    cold = measure(base, capture=True)
    out["cold_s"] = cold["wall"]
    out["cold_rss_mib"] = cold["rss_mib"]
    answer = json.loads(cold["stdout"])
    out["spans"] = len(answer["spans"])
    out["engine_ms_cold"] = answer["milliseconds"]
    for name, extra in (("near", []), ("verbatim", ["--no-near"])):
        walls, engine = [], []
        for _ in range(runs):
            run = measure(base + extra, capture=True)
            walls.append(run["wall"])
            engine.append(json.loads(run["stdout"])["milliseconds"])
        out[f"warm_{name}_s"] = walls
        out[f"warm_{name}_engine_ms"] = engine
    out["load_after"] = load()
    return out


def check_sources(answers: list[dict[str, Any]], docs: CorpusDocs) -> dict[str, Any]:
    """Every reported source against its record (url, title, authors, license) and its
    verdict naming the license; the licenses of the sources reported."""
    from crawler.licenses.terms import license_terms

    docs.load({s["id"] for a in answers for s in a["sources"]})
    out: dict[str, Any] = {"sources": 0, "metadata_ok": 0, "verdict_ok": 0}
    licenses: Counter[str] = Counter()
    for answer in answers:
        for source in answer["sources"]:
            record = docs.records[source["id"]]
            out["sources"] += 1
            out["metadata_ok"] += all(source[k] == record[k]
                                      for k in ("url", "title", "authors", "license"))
            out["verdict_ok"] += license_terms(record["license"]).name in source["verdict"]
            licenses[record["license"]] += 1
    out["licenses"] = dict(licenses.most_common())
    return out


# --------------------------------------------------------------------------- report


def _ms(row: dict[str, Any], key: str) -> str:
    return f"{row[key]:.1f}"


def print_report(r: dict[str, Any]) -> None:
    """The figures as tables."""
    c, b, q, k = r["corpus"], r["build"], r["query"], r["cli"]
    print(f"\ncorpus: {c['docs']:,} documents, {c['text_mib']:,.0f} MiB of text, "
          f"{c['words']:,} words, {c['files']} record shards ({c['folder']})")
    print(f"\nbuild (licrawl index --jobs {b['jobs']} --shard-mb {b['shard_mb']}, whole "
          f"process): {b['wall_s']:.1f} s wall, {b['cpu_s']:.1f} s CPU, "
          f"{b['words_per_s']:,.0f} words/s, {b['bytes'] / MIB:,.0f} MiB index = "
          f"{b['bytes_per_word']:.2f} bytes per corpus word, peak RSS "
          f"{b['peak_rss_mib']:,.0f} MiB (process tree), {b['shards']} index shards; "
          f"load {b['load_before']} -> {b['load_after']}")
    print(f"  {b['stdout'].splitlines()[0] if b['stdout'] else ''}")
    print(f"\nquery (TraceIndex.trace, {c['outputs']} outputs of ~500 words; load "
          f"{q['load_before']} -> {q['load_after']}; query process peak RSS "
          f"{q['vmhwm_mib']:,.0f} MiB):")
    print(f"  cold: index dropped from the page cache ({q['evicted']['bytes'] / MIB:,.0f} "
          f"MiB, {q['evicted']['resident'] / MIB:,.1f} MiB still resident): open "
          f"{q['open_cold_ms']:.1f} ms, first query {q['first_query_cold_ms']:.1f} ms; "
          f"warm-up pass p50 {q['warmup_pass']['p50']:.1f} / p95 "
          f"{q['warmup_pass']['p95']:.1f} ms")
    head = ("threads", "mode", "open ms", "1st ms", "p50 ms", "p95 ms", "max ms",
            "p95 copy", "p95 no copy")
    print("  " + " | ".join(head))
    for jobs in (1, 2):
        row = q[f"jobs{jobs}"]
        for mode in ("verbatim", "near"):
            m = row[mode]
            print("  " + " | ".join((str(jobs), mode, _ms(row, "open_ms"),
                                     _ms(row, "first_query_ms"), _ms(m, "p50"),
                                     _ms(m, "p95"), _ms(m, "max"), _ms(m, "p95_copy"),
                                     _ms(m, "p95_no_copy"))))
    print(f"  answers with 2 threads differ from 1 thread: verbatim "
          f"{q['jobs_differ_verbatim']}, near {q['jobs_differ_near']}")
    print(f"\nCLI (licrawl trace --json, whole process, an output with a copy; "
          f"{k['spans']} span(s)): cold {k['cold_s']:.2f} s (engine "
          f"{k['engine_ms_cold']:.0f} ms, RSS {k['cold_rss_mib']:.0f} MiB); warm "
          f"{', '.join(f'{s:.2f}' for s in k['warm_near_s'])} s; --no-near "
          f"{', '.join(f'{s:.2f}' for s in k['warm_verbatim_s'])} s")
    for mode in ("verbatim", "near"):
        counts = {**r["accuracy"][mode], **r["sources"][mode]}
        print(f"\naccuracy, {mode} ({'near=False' if mode == 'verbatim' else 'near=True'}):")
        for label, n, d in ACCURACY_LINES:
            print(f"  {label:<58} {counts.get(n, 0):>6} / {counts.get(d, 0)}")
        print(f"  licenses of the sources reported: {counts['licenses']}")


# --------------------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", default="/tmp/work/trace-bench",
                    help="work folder outside the repository (corpus, index, results)")
    ap.add_argument("--size-mb", type=int, default=1024, help="MiB of corpus text")
    ap.add_argument("--file-mb", type=int, default=256, help="MiB per corpus shard file")
    ap.add_argument("--shard-mb", type=int, default=256, help="licrawl index --shard-mb")
    ap.add_argument("--outputs", type=int, default=300)
    ap.add_argument("--jobs", type=int, default=2, help="licrawl index --jobs")
    ap.add_argument("--min-words", type=int, default=50)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--cli-runs", type=int, default=3)
    ap.add_argument("--rebuild", action="store_true",
                    help="build the index even when this run's build is recorded")
    ap.add_argument("--json-out", help="also write the figures here")
    args = ap.parse_args()

    work, manifest, outputs, truth = prepare(Path(args.root), args.size_mb, args.file_mb,
                                             args.seed, args.outputs, args.min_words)
    corpus, index = work / "corpus" / "data", work / "index-licrawl"
    report: dict[str, Any] = {"corpus": {
        "folder": str(work), "docs": manifest["docs"], "text_mib": manifest["text_bytes"] / MIB,
        "words": truth["corpus_words"], "files": len(manifest["files"]),
        "outputs": len(outputs), "kinds": dict(Counter(o["kind"] for o in outputs)),
        "truth_scan_s": truth["scan_s"], "generate_s": manifest["generate_s"]}}
    bpath = work / "build-licrawl.json"
    recorded = json.loads(bpath.read_text()) if bpath.exists() else {}
    if args.rebuild or not (index / "index.json").exists() or \
            (recorded.get("jobs"), recorded.get("shard_mb")) != (args.jobs, args.shard_mb):
        log(f"licrawl index --jobs {args.jobs} ... (load {load()})")
        bpath.write_text(json.dumps(build(corpus, index, args.jobs, args.shard_mb)))
    report["build"] = json.loads(bpath.read_text())
    if report["build"]["words"] != truth["corpus_words"]:
        log(f"warning: the index has {report['build']['words']:,} words, the truth scan "
            f"counted {truth['corpus_words']:,}")

    log(f"querying in a child process ... (load {load()})")
    qpath = work / "child-query-licrawl.json"
    subprocess.run([sys.executable, __file__, "_query", str(index),
                    str(outputs_path(work, args.outputs)), str(args.min_words),
                    str(qpath)], check=True)
    query = json.loads(qpath.read_text())
    answers = query.pop("answers")
    report["query"] = query

    log(f"licrawl trace (CLI) ... (load {load()})")
    text_file = work / "cli-input.txt"
    text_file.write_text(next(o["text"] for o in outputs if o["kind"] == "exact"))
    report["cli"] = cli(index, text_file, args.cli_runs)

    log("accuracy ...")
    docs = CorpusDocs(manifest)
    report["accuracy"], report["sources"] = {}, {}
    for mode in ("verbatim", "near"):
        report["accuracy"][mode] = evaluate(outputs, [from_product(a) for a in answers[mode]],
                                            truth, docs, args.min_words)
        report["sources"][mode] = check_sources(answers[mode], docs)
    report["args"] = vars(args)
    text = json.dumps(report, indent=1)
    (work / "results-trace.json").write_text(text)
    if args.json_out:
        Path(args.json_out).write_text(text)
    print_report(report)
    print(f"\nfigures: {work / 'results-trace.json'}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_query":
        index_arg, outputs_arg, min_words_arg, out_arg = sys.argv[2:6]
        result = child_query(Path(index_arg), Path(outputs_arg), int(min_words_arg))
        Path(out_arg).write_text(json.dumps(result))
    else:
        main()
