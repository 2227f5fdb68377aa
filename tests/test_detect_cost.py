"""Bounded cost per page: evidence of one kind and place is de-duplicated and capped with a
count of what was left out, link-heavy markup is cut before main-text extraction, and the
record stays right. Timing is measured by ``bench/bench_big_pages.py``, not here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import lxml.html
import pytest

from crawler import inspect
from crawler.cli.inspect import SHOWN_EVIDENCE, summary
from crawler.core.evidence import MAX_PER_PLACE, Kind
from crawler.detect.budget import JUDGED_PER_KEY
from crawler.detect.extract import MAX_LINK_RUN, prune_link_runs

ARTICLE = "".join(
    f"<p>Paragraph {i}: the harbour of the old town was rebuilt after the great storm, and "
    "its stone piers still stand today, visited by walkers every summer.</p>"
    for i in range(20)
)
BY_SA = "https://creativecommons.org/licenses/by-sa/4.0/"


def link_page(links: int, distinct_unknown: int = 0) -> str:
    """An article followed by ``links`` copies of one ``rel=license`` link to CC BY-SA 4.0
    and ``distinct_unknown`` links to license pages no mapper knows."""
    same = f"<li><a rel='license' href='{BY_SA}'>license</a></li>\n" * links
    unknown = "".join(
        f"<li><a rel='license' href='https://example.org/terms/{i}'>terms {i}</a></li>\n"
        for i in range(distinct_unknown)
    )
    return (
        "<html><head><title>Harbour</title></head><body><article>"
        + ARTICLE
        + "</article><ul class='licenses'>"
        + same
        + unknown
        + "</ul></body></html>"
    )


@pytest.fixture(scope="module")
def big_record() -> dict[str, object]:
    return inspect(link_page(50_000, distinct_unknown=500), url="https://example.org/harbour")


def omitted(record: dict[str, object]) -> dict[tuple[str, str], int]:
    """``(kind left out, where) -> count`` from the record's summary items."""
    out = {}
    for ev in record["license_evidence"]:
        if ev["kind"] == "omitted":
            count, _more, kind = ev["value"].split(" ", 2)
            out[kind, ev["where"]] = int(count)
    return out


def test_evidence_of_a_50k_link_page_is_capped_and_counted(big_record: dict) -> None:
    evidence = big_record["license_evidence"]
    assert len(evidence) < 3 * MAX_PER_PLACE
    kept = [ev for ev in evidence if ev["kind"] != "omitted"]
    rel = [ev for ev in kept if ev["kind"] == "rel-license" and ev["where"] == "body"]
    unknown = [ev for ev in kept if ev["where"] == "body:unrecognised"]
    assert len(rel) == 1  # 50,000 copies of one link are one piece of evidence
    assert len(unknown) == MAX_PER_PLACE
    # Every copy is accounted for: kept + left out = on the page.
    assert omitted(big_record) == {
        ("rel-license", "body"): 50_000 - 1,
        ("rel-license", "body:unrecognised"): 500 - MAX_PER_PLACE,
    }


def test_the_record_of_a_50k_link_page_is_still_right(big_record: dict) -> None:
    small = inspect(link_page(10), url="https://example.org/harbour")
    assert big_record["license"] == "CC-BY-SA-4.0"
    for field in ("license", "license_category", "license_confidence", "license_conflict"):
        assert big_record[field] == small[field], field
    assert "stone piers still stand today" in big_record["text"]
    assert big_record["title"] == "Harbour"


def test_readable_output_sums_up_what_was_left_out(big_record: dict) -> None:
    text = summary(big_record)
    assert "... and 49,999 more rel-license at body" in text
    assert "... and 480 more rel-license at body:unrecognised" in text
    assert len(text.splitlines()) < SHOWN_EVIDENCE + 20


def test_cli_prints_the_summary_line(tmp_path: Path) -> None:
    page = tmp_path / "links.html"
    page.write_text(link_page(2_000), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "inspect", str(page)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "... and 1,999 more rel-license at body" in result.stdout
    evidence_lines = [line for line in result.stdout.splitlines() if "rel-license" in line]
    assert len(evidence_lines) == 2  # the link once, and the count of its copies


def test_text_mentions_beyond_the_budget_are_counted_not_judged() -> None:
    mentions = "".join(f"<p>Item {i}: CC BY-SA 4.0</p>" for i in range(JUDGED_PER_KEY + 50))
    html = (
        "<html><body><article>" + ARTICLE + "<p>This article is licensed under CC BY 4.0.</p>"
        "</article><div class='list'>" + mentions + "</div></body></html>"
    )
    record = inspect(html)
    assert record["license"] == "CC-BY-4.0"
    texts = [ev for ev in record["license_evidence"] if ev["kind"] == Kind.TEXT]
    judged = [ev for ev in texts if ev["spdx"] == "CC-BY-SA-4.0"]
    assert len(judged) == MAX_PER_PLACE  # 150 distinct sentences, capped per place
    left_out = omitted(record)
    # 50 never judged (budget), 80 judged and capped: all 150 are counted.
    assert left_out[Kind.TEXT, "body"] + left_out[Kind.TEXT, "body:mention"] == 150 - MAX_PER_PLACE


def test_link_runs_are_cut_before_extraction_and_text_between_links_stays() -> None:
    links = "".join(f"<a href='/p/{i}'>p{i}</a> sep{i} " for i in range(MAX_LINK_RUN + 500))
    tree = lxml.html.fromstring(
        f"<html><body><p>Intro</p><div>{links}<b>end</b></div></body></html>"
    )
    assert prune_link_runs(tree) == 500
    div = tree.find(".//div")
    assert len(div.findall("a")) == MAX_LINK_RUN
    text = div.text_content()
    assert "sep0 " in text and f"sep{MAX_LINK_RUN + 499} " in text  # tails kept
    assert f"p{MAX_LINK_RUN + 499}" not in text.replace(f"sep{MAX_LINK_RUN + 499}", "")
    assert div.find("b").text == "end"
    assert tree.findtext(".//p") == "Intro"


def test_normal_pages_are_not_pruned() -> None:
    links = "".join(f"<li><a href='/p/{i}'>p{i}</a></li>" for i in range(MAX_LINK_RUN))
    html = f"<html><body><ul>{links}</ul></body></html>"
    tree = lxml.html.fromstring(html)
    assert prune_link_runs(tree) == 0
    assert len(tree.findall(".//a")) == MAX_LINK_RUN


def test_main_text_inside_a_link_heavy_article_is_kept() -> None:
    links = " ".join(f"<a href='/tag/{i}'>tag{i}</a>" for i in range(5_000))
    html = (
        "<html><head><title>Tags</title></head><body><article>"
        + ARTICLE
        + f"<p>{links}</p><p>The closing paragraph of the harbour story, licensed under "
        f"<a rel='license' href='{BY_SA}'>CC BY-SA 4.0</a>.</p></article></body></html>"
    )
    record = inspect(html)
    assert "stone piers still stand today" in record["text"]
    assert "closing paragraph of the harbour story" in record["text"]
    assert record["license"] == "CC-BY-SA-4.0"


# -- small faults of `licrawl inspect` --------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "error: No such file or directory"),
        (b"", "not an HTML page: empty document"),
        (b"%PDF-1.7\n", "not an HTML page: not HTML: looks like a PDF document"),
    ],
)
def test_inspect_errors_name_the_file(tmp_path: Path, content: bytes | None, expected: str) -> None:
    page = tmp_path / "some page.html"
    if content is not None:
        page.write_bytes(content)
    result = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "inspect", str(page)], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert result.stderr.strip() == f"licrawl inspect: {page}: {expected}"


def test_inspect_error_on_standard_input_says_so() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "inspect", "-"],
        input="",
        capture_output=True,
        text=True,
    )
    assert (
        result.stderr.strip() == "licrawl inspect: standard input: not an HTML page: empty document"
    )


@pytest.mark.parametrize(
    ("title", "shown"),
    [
        ('"Jim Higgs" revision history', '"Jim Higgs" revision history'),
        ("„Der Hafen“", "„Der Hafen“"),
        ("Harbour walks", '"Harbour walks"'),
        ("The Beatles' songs'", "\"The Beatles' songs'\""),
    ],
)
def test_attribution_does_not_double_a_titles_quotes(title: str, shown: str) -> None:
    html = (
        f"<html><head><title>{title}</title></head><body><article>{ARTICLE}"
        f"<p>This article is licensed under <a rel='license' href='{BY_SA}'>CC BY-SA 4.0</a>."
        "</p></article></body></html>"
    )
    record = inspect(html, url="https://example.org/h")
    assert record["attribution"].startswith(f"{shown} (https://example.org/h) is licensed under")


def test_text_fits_counts_as_asked_and_stops_reading_once_over() -> None:
    from crawler.detect.pagetext import text_fits

    el = lxml.html.fromstring("<div>abc <b> de </b>f</div>")  # pieces "abc ", " de ", "f"
    assert text_fits(el, 9) and not text_fits(el, 8)  # raw: 4 + 4 + 1
    assert text_fits(el, 11, spaced=True) and not text_fits(el, 10, spaced=True)  # + 2 gaps
    assert text_fits(el, 6, stripped=True) and not text_fits(el, 5, stripped=True)  # 3 + 2 + 1
    assert text_fits(lxml.html.fromstring("<div></div>"), 0, spaced=True)

    class Wrapper:
        """A page-wide wrapper: endless text, of which only what decides may be read."""

        read = 0

        def itertext(self):  # type: ignore[no-untyped-def]
            while True:
                self.read += 1
                yield "x" * 10

    wrapper = Wrapper()
    assert not text_fits(wrapper, 25)  # type: ignore[arg-type]
    assert wrapper.read == 3
