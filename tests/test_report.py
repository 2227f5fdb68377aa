"""``licrawl report``: the page of the demo crawl in a real headless Chromium, its numbers
against DuckDB over the same shards, dedup output, capped tables, bad input, and
``--report`` on the stage commands.

The demo crawl runs once per module as the README's command (``licrawl serve-demo --out``
in a subprocess, on 127.0.0.1: the fixture of tests/test_demo.py). Pages are opened from
``file://`` in Debian's chromium through chromedriver (the browser fixture of
tests/test_serve_trace.py); every table is read back from the rendered DOM and compared
with the DuckDB queries of tests/helpers/report_duckdb.py, written independently of the
report's pyarrow code.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from crawler.cli import main
from crawler.core.schema import record_schema
from crawler.licenses import category
from crawler.stages.report.tally import GroupCounts, url_hosts

sys.path.insert(0, str(Path(__file__).parent))
import test_demo  # noqa: E402
import test_serve_trace  # noqa: E402
from factories import make_row  # noqa: E402
from helpers.report_duckdb import report_counts  # noqa: E402
from test_serve_trace import console_errors, needs_chromium  # noqa: E402

# the fixtures of those modules: the README's demo crawl, a headless Chromium
demo = test_demo.demo
browser = test_serve_trace.browser

TABLES_JS = """
const out = {};
for (const t of document.querySelectorAll('table[id]')) {
  out[t.id] = {
    headers: Array.from(t.querySelectorAll('thead th'), th => th.textContent),
    rows: Array.from(t.querySelectorAll('tbody tr'),
                     tr => Array.from(tr.cells, td => td.textContent))};
}
return out;
"""


def run_cli(*args: str) -> int:
    """``licrawl ARGS`` in this process."""
    return main(list(args))


def shards(folder: Path) -> list[str]:
    """The shard files of an output folder's ``data``, sorted (as the report reads them)."""
    return [str(p) for p in sorted((folder / "data").rglob("*.parquet"))]


def number(text: str) -> int:
    """A table cell's integer (thousands separators allowed)."""
    return int(text.replace(",", ""))


def open_page(driver: Any, page: Path) -> dict[str, dict[str, Any]]:
    """Open ``page`` in the browser; its tables by id, as rendered."""
    driver.get(page.as_uri())
    return driver.execute_script(TABLES_JS)


def column(table: dict[str, Any], name: str) -> int:
    """The index of a table's column."""
    return table["headers"].index(name)


def by_key(table: dict[str, Any], key: str, value: str) -> dict[str, int]:
    """A table as {key cell: number in the ``value`` column}."""
    k, v = column(table, key), column(table, value)
    return {row[k]: number(row[v]) for row in table["rows"]}


def sums(rows: list[dict[str, Any]], key: str, value: str = "docs") -> dict[Any, int]:
    """DuckDB rows summed by ``key``."""
    total: Counter[Any] = Counter()
    for row in rows:
        total[row[key]] += row[value]
    return dict(total)


def ranked(counts: dict[str, int]) -> list[tuple[str, int]]:
    """Most first, equal counts by name (the report's order)."""
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


# --------------------------------------------------------------------------- the demo crawl

@pytest.fixture(scope="module")
def demo_page(demo: Path) -> Path:
    """``licrawl report out --out report.html`` of the demo crawl."""
    page = demo / "report.html"
    assert run_cli("report", str(demo / "out"), "--out", str(page)) == 0
    return page


@needs_chromium
def test_demo_report_draws_its_charts_without_errors(browser: Any, demo_page: Path) -> None:
    console_errors(browser)  # start clean
    browser.get(demo_page.as_uri())
    charts = browser.execute_script("""
        return Array.from(document.querySelectorAll('section svg.chart'), svg => {
          const box = svg.getBoundingClientRect();
          return {section: svg.closest('section').id, width: box.width, height: box.height,
                  bars: svg.querySelectorAll('g[id^="patch_"] path').length,
                  texts: svg.querySelectorAll('text').length};
        });""")
    assert [c["section"] for c in charts] == ["categories", "licenses", "hosts", "optout",
                                               "confidence", "evidence"]
    for chart in charts:
        assert chart["width"] > 300 and chart["height"] > 100, chart
        assert chart["bars"] >= 1 and chart["texts"] >= 3, chart
    # each chart beside (or above) its table
    assert browser.execute_script(
        "return Array.from(document.querySelectorAll('section')).every("
        "s => s.querySelector('table') !== null)")
    assert console_errors(browser) == []
    # self-contained: nothing was fetched, no script, a policy that forbids loading anything
    assert browser.execute_script(
        "return performance.getEntriesByType('resource').length") == 0
    html = demo_page.read_text("utf-8")
    assert "<script" not in html and "default-src 'none'" in html


@needs_chromium
def test_demo_tables_equal_duckdb(browser: Any, demo: Path, demo_page: Path) -> None:
    tables = open_page(browser, demo_page)
    truth = report_counts(shards(demo / "out"))
    docs = sum(r["docs"] for r in truth["licenses"])
    assert docs == 14

    assert by_key(tables["t-categories"], "category", "documents") == sums(
        truth["hosts"], "category")
    # the README's demo numbers, through DuckDB and through the page
    assert sums(truth["hosts"], "category") == {
        "permissive": 5, "copyleft": 3, "reserved": 2, "unknown": 2, "noncommercial": 1,
        "public-domain": 1}
    licenses = tables["t-licenses"]
    assert [(r[0], r[1], number(r[2])) for r in licenses["rows"]] == [
        (lic, cat, n) for (lic, cat), n in ranked(
            {(r["license"], r["category"]): r["docs"] for r in truth["licenses"]})]

    hosts = tables["t-hosts"]
    [host_row] = hosts["rows"]
    assert host_row[0] == "127.0.0.1" and number(host_row[1]) == 14
    for row in truth["hosts"]:
        assert number(host_row[column(hosts, row["category"])]) == row["docs"]

    optout = tables["t-optout"]
    expected = {k: sum(r[k] for r in truth["hosts"])
                for k in ("docs", "robots", "tdmrep", "noai", "content_usage", "optout")}
    assert expected == {"docs": 14, "robots": 1, "tdmrep": 1, "noai": 1, "content_usage": 0,
                        "optout": 3}
    for row in optout["rows"]:  # (all hosts), then the one host: the same numbers
        assert [number(v) for v in row[1:7]] == list(expected.values())
    assert optout["rows"][0][7] == "21.4%"

    confidence = {r[0]: (number(r[1]), number(r[2])) for r in tables["t-confidence"]["rows"]}
    want = {f"{b / 10:.1f}-{(b + 1) / 10:.1f}": [0, 0] for b in range(10)}
    for row in truth["confidence"]:
        want[f"{row['bin'] / 10:.1f}-{(row['bin'] + 1) / 10:.1f}"][0 if row["claim"] else 1] \
            += row["docs"]
    assert confidence == {k: tuple(v) for k, v in want.items()}
    [conflicts] = tables["t-conflicts"]["rows"]
    [c] = truth["conflicts"]
    assert [number(v) for v in conflicts[:3]] == [c["docs"], c["claims"], c["conflicts"]]

    assert by_key(tables["t-evidence"], "evidence kind", "documents") == {
        r["kind"]: r["docs"] for r in truth["evidence"]}
    assert by_key(tables["t-evidence"], "evidence kind", "documents")["rel-license"] == 7


@needs_chromium
def test_demo_examples_are_the_first_rows_of_each_category(browser: Any, demo: Path,
                                                           demo_page: Path) -> None:
    tables = open_page(browser, demo_page)
    files = shards(demo / "out")
    con = duckdb.connect()
    rows = con.execute(
        "SELECT url, license, license_category::VARCHAR FROM read_parquet(?)", [files]
    ).fetchall()
    first: dict[str, list[list[str]]] = {}
    for url, lic, cat in rows:
        if len(first.setdefault(cat, [])) < 5:
            first[cat].append([url, lic])
    for cat, want in first.items():
        got = tables[f"t-examples-{cat}"]["rows"]
        assert [r[:2] for r in got] == want
    heron = [r for r in tables["t-examples-permissive"]["rows"] if "heron-colony" in r[0]]
    assert heron and heron[0][3].startswith("rel-license at footer (weight 0.81)")


def test_report_is_the_same_with_any_batch_size(demo: Path, tmp_path: Path) -> None:
    from crawler.stages.report.build import write_report

    one = write_report([demo / "out"], tmp_path / "a.html", batch_rows=1)
    many = write_report([demo / "out"], tmp_path / "b.html")
    assert one.rows == many.rows == 14
    assert (tmp_path / "a.html").read_text("utf-8") == (tmp_path / "b.html").read_text("utf-8")


def test_stage_commands_print_or_write_the_report(demo: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    subset = tmp_path / "subset"
    assert run_cli("filter", str(demo / "out"), "--out", str(subset), "--quiet") == 0
    out = capsys.readouterr().out
    assert f"report: licrawl report {subset / 'data'} --out {subset / 'report.html'}" in out
    assert not (subset / "report.html").exists()

    written = tmp_path / "written"
    assert run_cli("filter", str(demo / "out"), "--out", str(written), "--quiet",
                   "--report") == 0
    assert f"report: {written / 'report.html'}" in capsys.readouterr().out
    html = (written / "report.html").read_text("utf-8")  # no opt-outs left: no opt-out chart
    assert html.count('<svg') == 5 and "6</b>documents" in html.replace(",", "")


def test_crawl_and_process_write_the_report(demo: Path, tmp_path: Path) -> None:
    from crawler.cli.serve_demo import demo_root
    from crawler.demo.localsite import LocalSite, static_handler

    with LocalSite(static_handler(demo_root())) as site:
        crawl = subprocess.run(
            [sys.executable, "-m", "crawler.cli", "crawl", site.url + "/", "--out",
             str(tmp_path / "crawl"), "--workers", "1", "-s", "DOWNLOAD_DELAY=0", "-s",
             "AUTOTHROTTLE_START_DELAY=0", "--report"],
            capture_output=True, text=True, timeout=180, check=False)
    assert crawl.returncode == 0, crawl.stderr[-3000:]
    assert f"report: {tmp_path / 'crawl' / 'report.html'}" in crawl.stdout
    warcs = sorted(str(p) for p in (demo / "out" / "warc").glob("*.warc.gz"))
    process = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "process", *warcs, "--out",
         str(tmp_path / "process"), "--workers", "1", "--quiet", "--report"],
        capture_output=True, text=True, timeout=180, check=False)
    assert process.returncode == 0, process.stderr[-3000:]
    assert f"report: {tmp_path / 'process' / 'report.html'}" in process.stdout
    for folder in ("crawl", "process"):  # the demo's 14 documents, each time
        html = (tmp_path / folder / "report.html").read_text("utf-8")
        assert "14</b>documents" in html and html.count("<svg") == 6


# --------------------------------------------------------------------------- dedup output

def dedup_rows() -> list[dict[str, Any]]:
    """Copies of three texts on several hosts (two clusters whose copies disagree about the
    license), and five texts alone."""
    rng = np.random.default_rng(3)

    def text(seed: int) -> str:
        return " ".join(f"w{v}" for v in np.random.default_rng(seed).integers(0, 3000, 120))

    rows = []
    copies = {1: [("a.example", "CC-BY-4.0"), ("b.example", "LicenseRef-All-Rights-Reserved"),
                  ("c.example", "CC-BY-4.0")],
              2: [("a.example", "CC-BY-SA-4.0"), ("b.example", "MIT")],
              3: [("a.example", "CC0-1.0"), ("c.example", "CC0-1.0"), ("d.example", "CC0-1.0"),
                  ("b.example", "NOASSERTION")]}
    for seed, places in copies.items():
        for i, (host, lic) in enumerate(places):
            rows.append(make_row(url=f"https://{host}/t{seed}/{i}", text=text(seed), license=lic,
                                 license_category=category(lic),
                                 license_confidence=float(rng.uniform(0.3, 1.0))))
    for seed in range(10, 15):
        rows.append(make_row(url=f"https://e.example/solo/{seed}", text=text(seed)))
    return rows


@needs_chromium
def test_dedup_output_report_equals_duckdb(browser: Any, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "in" / "data" / "a.parquet"
    source.parent.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(dedup_rows(), schema=record_schema()), source)
    out = tmp_path / "dedup"
    assert run_cli("dedup", str(source.parent), "--out", str(out), "--quiet", "--jobs", "1",
                   "--report") == 0
    assert f"report: {out / 'report.html'}" in capsys.readouterr().out
    tables = open_page(browser, out / "report.html")
    assert console_errors(browser) == []
    assert browser.execute_script(
        "return ['clusters', 'dup-conflicts', 'removed'].every("
        "id => document.querySelector('#' + id + ' svg.chart') !== null)")
    truth = report_counts(shards(out))

    [summary] = tables["t-dedup"]["rows"]
    [d] = truth["dedup"]
    assert [number(v) for v in summary] == [d["kept"], d["removed"], d["conflict_clusters"]]
    assert [number(v) for v in summary] == [8, 6, 2]
    sizes = by_key(tables["t-clusters"], "copies", "clusters")
    assert {k: v for k, v in sizes.items() if v} == {
        r["size"]: r["clusters"] for r in truth["cluster_sizes"]}
    assert [(r[0], r[1], number(r[2])) for r in tables["t-dup-conflicts"]["rows"]] == [
        (a, b, n) for (a, b), n in ranked(
            {(r["license"], r["other"]): r["clusters"] for r in truth["conflict_pairs"]})]
    assert {tuple(r[:2]) for r in tables["t-dup-conflicts"]["rows"]} == {
        ("CC-BY-4.0", "LicenseRef-All-Rights-Reserved"), ("CC-BY-SA-4.0", "MIT")}
    # removed copies per host: what dedup's copies.parquet says it removed
    removed = dict(duckdb.connect().execute(
        "SELECT host, count(*) FROM read_parquet(?) WHERE NOT kept GROUP BY host",
        [str(out / "copies.parquet")]).fetchall())
    assert by_key(tables["t-removed"], "host", "removed copies") == removed
    assert removed == sums(truth["removed_hosts"], "host")


# --------------------------------------------------------------------------- capped tables

@needs_chromium
def test_long_lists_are_capped_with_an_other_row(browser: Any, tmp_path: Path) -> None:
    licenses = [f"LicenseRef-Test-{i:02d}" for i in range(26)]
    rows = [make_row(url=f"https://h{(i * 7) % 31:02d}.example/{i}", text=f"text {i}",
                     license=licenses[i % 26 if i % 3 else 0],
                     license_category="unknown", license_evidence=[],
                     ai_optout=["content-usage:train-ai=n"] if i % 5 == 0 else [])
            for i in range(400)]
    data = tmp_path / "in" / "data"
    data.mkdir(parents=True)
    for part in range(2):  # two shards: counts merged across files
        pq.write_table(pa.Table.from_pylist(rows[part::2], schema=record_schema()),
                       data / f"part-{part}.parquet")
    page = tmp_path / "report.html"
    assert run_cli("report", str(tmp_path / "in"), "--out", str(page), "--title",
                   "<b>capped</b>") == 0
    tables = open_page(browser, page)
    assert browser.title == "<b>capped</b>"  # the title is text, not markup
    truth = report_counts(shards(tmp_path / "in"))

    by_license = ranked(sums(truth["licenses"], "license"))
    got = tables["t-licenses"]["rows"]
    assert len(got) == 21
    assert [(r[0], number(r[2])) for r in got[:20]] == by_license[:20]
    assert got[20][0] == "other (6 licenses)"
    assert number(got[20][2]) == sum(n for _, n in by_license[20:])

    by_host = ranked(sums(truth["hosts"], "host"))
    assert len(by_host) == 31
    assert [(r[0], number(r[1])) for r in tables["t-hosts"]["rows"]] == by_host[:20]
    assert "31 hosts in all" in browser.page_source

    optout = tables["t-optout"]
    per_host = {r["host"]: (r["docs"], r["content_usage"]) for r in truth["hosts"]}
    listed = [(r[0], number(r[1]), number(r[5])) for r in optout["rows"][1:]]
    assert len(listed) == 20
    assert listed == sorted(listed, key=lambda r: (-r[2], -r[1], r[0]))
    assert all(per_host[h] == (docs, cu) for h, docs, cu in listed)
    assert number(optout["rows"][0][5]) == 80


def test_group_counts_merge_like_a_counter() -> None:
    rng = np.random.default_rng(5)
    counts = GroupCounts(["host", "category"], ["docs"])
    truth: Counter[tuple[str, str]] = Counter()
    for _ in range(40):  # enough partial rows to be merged several times
        hosts = [f"h{v}" for v in rng.integers(0, 3000, 5000)]
        cats = [str(v) for v in rng.integers(0, 3, 5000)]
        truth.update(zip(hosts, cats, strict=True))
        table = pa.table({"host": hosts, "category": cats, "docs": np.ones(5000, np.int64)})
        counts.add(table.group_by(["host", "category"]).aggregate([("docs", "sum")])
                   .rename_columns({"docs_sum": "docs"}))
    got = {(r["host"], r["category"]): r["docs"] for r in counts.rows()}
    assert got == dict(truth)


def test_url_hosts_are_urlsplit_hostnames() -> None:
    from urllib.parse import urlsplit

    urls = ["https://A.Example.org/x", "http://user:pw@host.org:8080/p?q", "http://[::1]:80/",
            "https://h.org?q=1", "https://h2.org", "http://h3.org#frag", "not a url",
            "https://ex.org/a:b@c", "ftp://files.example/"]
    assert url_hosts(pa.array(urls)).to_pylist() == [urlsplit(u).hostname or "" for u in urls]


# --------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("kind", ["not-parquet", "not-licrawl", "missing-columns", "missing"])
def test_bad_input_is_a_clear_error_naming_the_file(
        kind: str, demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.parquet"
    if kind == "not-parquet":
        bad.write_text("this is not Parquet")
    elif kind == "not-licrawl":
        pq.write_table(pa.table({"url": ["https://example.org/"]}), bad)
    elif kind == "missing-columns":
        schema = record_schema()
        keep = [f for f in schema if f.name != "license_evidence"]
        table = pa.Table.from_pylist([make_row()], schema=schema).select(
            [f.name for f in keep])
        pq.write_table(table.replace_schema_metadata(schema.metadata), bad)
    page = tmp_path / "report.html"
    # a good input first: every file is checked before anything is read or written
    code = run_cli("report", shards(demo / "out")[0], str(bad), "--out", str(page))
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("licrawl report: error: ") and str(bad) in err
    assert {"not-parquet": "not a readable Parquet file", "not-licrawl": "not a licrawl shard",
            "missing-columns": "missing columns license_evidence",
            "missing": "no such file or folder"}[kind] in err
    assert not page.exists() and not list(tmp_path.glob(".report.html.tmp-*"))
