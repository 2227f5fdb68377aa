"""The bundled demo site teaches the product: ``licrawl serve-demo --out out`` then
``licrawl filter out/data --out subset`` (the README's Quick start) keeps the licensed pages
that are not opted out, counts every other page under its reason, and the ``attributed``
subset's ATTRIBUTION.txt says plainly which works have no license.

The crawl runs as the README's command, in a subprocess against the demo site served on
127.0.0.1; the filter runs through the ``licrawl`` entry point in this process.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyarrow.parquet as pq
import pytest

from crawler.cli import main

DEMO = [sys.executable, "-m", "crawler.cli", "serve-demo", "--out", "out", "--workers", "1"]

#: What a careful reader says of each page: its license, and the opt-out that applies to it.
PAGES: dict[str, tuple[str, list[str]]] = {
    "/": ("NOASSERTION", []),
    "/about.html": ("LicenseRef-All-Rights-Reserved", []),
    "/articles/spring-migration.html": ("CC-BY-4.0", []),
    "/articles/winter-thrushes.html": ("CC-BY-4.0", []),
    "/articles/dragonfly-survey.html": ("CC0-1.0", []),
    "/articles/orchid-walk.html": ("CC-BY-SA-4.0", []),
    "/articles/bat-walk.html": ("CC-BY-SA-4.0", []),
    "/code/tally-counts.html": ("MIT", []),
    "/articles/moth-trapping.html": ("CC-BY-NC-4.0", []),
    "/articles/otter-signs.html": ("LicenseRef-All-Rights-Reserved", []),
    "/articles/hedgerow-history.html": ("NOASSERTION", []),
    "/articles/field-guide-willows.html": ("CC-BY-SA-4.0", ["tdmrep"]),
    "/articles/heron-colony.html": ("CC-BY-4.0", ["meta:noai", "meta:noimageai"]),
    "/photo-diary/kingfisher-bank.html": (
        "CC-BY-4.0", ["robots:CCBot", "robots:GPTBot", "robots:Google-Extended"]),
}
OPEN_KEPT = {"/articles/spring-migration.html", "/articles/winter-thrushes.html",
             "/articles/dragonfly-survey.html", "/articles/orchid-walk.html",
             "/articles/bat-walk.html", "/code/tally-counts.html"}
OPTED_OUT = {"/articles/field-guide-willows.html", "/articles/heron-colony.html",
             "/photo-diary/kingfisher-bank.html"}
ATTRIBUTED_KEPT = OPEN_KEPT | {"/articles/moth-trapping.html", "/articles/otter-signs.html",
                               "/about.html"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The README's demo crawl, run in a fresh folder; returns that folder."""
    cwd = tmp_path_factory.mktemp("demo")
    result = subprocess.run(DEMO, cwd=cwd, capture_output=True, text=True, timeout=180,
                            check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return cwd


def run_filter(demo: Path, out: str, *args: str) -> tuple[dict[str, Any], str]:
    """``licrawl filter out/data --out OUT ARGS`` in the demo folder: (report.json, stdout)."""
    printed = io.StringIO()
    old = Path.cwd()
    os.chdir(demo)
    try:
        with contextlib.redirect_stdout(printed):
            code = main(["filter", "out/data", "--out", out, "--quiet", *args])
    finally:
        os.chdir(old)
    assert code == 0
    return json.loads((demo / out / "report.json").read_text("utf-8")), printed.getvalue()


def paths(folder: Path) -> set[str]:
    """URL paths of the rows in the shards of ``folder``."""
    table = pq.read_table(sorted(folder.glob("*.parquet")), columns=["url"])
    return {urlsplit(u).path for u in table.column("url").to_pylist()}


def test_each_page_has_the_license_and_optouts_a_reader_would_give(demo: Path) -> None:
    rows = pq.read_table(sorted((demo / "out" / "data").glob("*.parquet")),
                         columns=["url", "license", "ai_optout", "license_conflict"]).to_pylist()
    found = {urlsplit(r["url"]).path: (r["license"], r["ai_optout"]) for r in rows}
    assert found == PAGES
    assert not any(r["license_conflict"] for r in rows)
    errors = [json.loads(line) for f in (demo / "out" / "errors").glob("*.jsonl")
              for line in f.read_text().splitlines()]
    assert [(urlsplit(e["url"]).path, e["reason"]) for e in errors] == [
        ("/members/minutes.html", "robots-disallowed")]


def test_default_filter_keeps_the_open_pages_and_counts_each_reason(demo: Path) -> None:
    report, printed = run_filter(demo, "subset")
    assert paths(demo / "subset" / "data") == OPEN_KEPT
    assert report["kept"] == 6 and report["excluded"] == 8
    assert report["excluded_by_reason"] == {
        "category:unknown": 2, "category:reserved": 2, "category:noncommercial": 1,
        "optout:tdmrep": 1, "optout:meta:noai": 1, "optout:robots:CCBot": 1}
    assert report["kept_without_license"] == 0
    assert report["settings"]["policy"]["allow_optout"] is False
    assert "optout:robots:CCBot" in printed and "no license" not in printed
    text = (demo / "subset" / "ATTRIBUTION.txt").read_text("utf-8")
    assert text.count("  Source: ") == 6 and "no license" not in text


def test_attributed_subset_says_which_works_have_no_license(demo: Path) -> None:
    report, printed = run_filter(demo, "attributed", "--subset", "attributed")
    assert paths(demo / "attributed" / "data") == ATTRIBUTED_KEPT
    assert report["excluded_by_reason"] == {
        "no-attribution:author": 1, "no-attribution:license": 1, "optout:tdmrep": 1,
        "optout:meta:noai": 1, "optout:robots:CCBot": 1}
    assert report["kept_without_license"] == 2
    assert "  no license         2" in printed

    manifest = {urlsplit(r["url"]).path: r
                for r in pq.read_table(demo / "attributed" / "attribution.parquet").to_pylist()}
    assert {p for p, r in manifest.items() if r["no_license"]} == {
        "/articles/otter-signs.html", "/about.html"}
    otter = manifest["/articles/otter-signs.html"]
    assert otter["attribution"] == (
        f'"Reading otter signs" by Sam Okafor, {otter["url"]}, no license (all rights '
        "reserved); text extracted from the original HTML")

    text = (demo / "attributed" / "ATTRIBUTION.txt").read_text("utf-8")
    assert "This dataset holds 9 documents; 2 of them have no license." in text
    assert "Each work is used under the license named with it" not in text
    spring = manifest["/articles/spring-migration.html"]["url"]
    assert ("Spring migration on the water meadows\n"
            "  Author: Helen Marsh\n"
            f"  Source: {spring}\n"
            "  License: Creative Commons Attribution 4.0 International "
            "<https://creativecommons.org/licenses/by/4.0/>\n"
            "  Changes: text extracted from the original HTML\n") in text
    assert ("Reading otter signs\n"
            "  Author: Sam Okafor\n"
            "  Copyright: © 2024 Sam Okafor. All rights reserved.\n"
            f"  Source: {otter['url']}\n"
            "  License: no license (all rights reserved)\n"
            "  Note: no license to reuse this work is known; it is included only because\n"
            "        the rules of this subset allow works without a license.\n"
            "  Changes: text extracted from the original HTML\n") in text


def test_allow_optout_keeps_the_opted_out_pages_and_says_so(demo: Path) -> None:
    report, _ = run_filter(demo, "with-optouts", "--allow-optout")
    assert paths(demo / "with-optouts" / "data") == OPEN_KEPT | OPTED_OUT
    assert report["settings"]["exclude_optout"] is False
    assert report["settings"]["policy"]["allow_optout"] is True
    assert report["settings"]["policy"]["allow_conflict"] is False
    assert not any(r.startswith("optout:") for r in report["excluded_by_reason"])
