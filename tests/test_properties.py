"""Property tests (hypothesis): resolution does not depend on evidence order, the AI robots
rules agree with Protego, and WARC and error records survive a write-then-read round trip."""

from __future__ import annotations

import itertools
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from protego import Protego

from crawler.core.errors import ErrorRecord, ErrorWriter, read_errors
from crawler.core.evidence import Evidence, Kind
from crawler.core.page import FetchedPage
from crawler.detect.resolve import resolve
from crawler.detect.scoring import KIND_WEIGHT, WHERE_FACTOR, weigh
from crawler.site.robots import AI_CRAWLERS, RobotsAIRules
from crawler.store.warc import WarcWriter, iter_responses

# -- resolve: any order of the same evidence, the same claim --------------------------------
LICENSES = ["CC-BY-4.0", "CC-BY-SA-4.0", "CC-BY-NC-4.0", "CC-BY-SA-3.0", "CC0-1.0", "MIT",
            "GPL-3.0-or-later", "LicenseRef-All-Rights-Reserved", "LicenseRef-PublicDomain",
            "LicenseRef-CC-BY-SA-2.5-CH", "CC-BY-4.0 OR MIT", "NOASSERTION"]
WHERES = [*WHERE_FACTOR, "caption", "comment"]


@st.composite
def evidence(draw: st.DrawFn) -> Evidence:
    kind, where = draw(st.sampled_from(list(KIND_WEIGHT))), draw(st.sampled_from(WHERES))
    spdx = draw(st.sampled_from(LICENSES))
    value = draw(st.sampled_from([f"https://example.org/{spdx.lower()}",
                                  f"licensed under {spdx}", "All rights reserved"]))
    return Evidence(kind, value, spdx, where, weigh(kind, where))


@settings(max_examples=300, deadline=None)
@given(st.lists(evidence(), max_size=7), st.randoms(use_true_random=False))
def test_resolve_does_not_depend_on_evidence_order(items: list[Evidence], rnd: object) -> None:
    shuffled = list(items)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert resolve(shuffled) == resolve(items)


def test_confidence_is_the_same_in_every_order() -> None:
    """The case hypothesis found: combined in the order found, 0.998 or 0.999 by order."""
    items = [Evidence(Kind.HTTP_LINK, "https://example.org/cc-by-4.0 or mit", "CC-BY-4.0 OR MIT",
                      "header", 0.95),
             Evidence(Kind.HTTP_LINK, "https://example.org/cc-by-sa-4.0", "CC-BY-SA-4.0",
                      "html-comment", 0.95),
             Evidence(Kind.JSONLD, "https://example.org/cc-by-4.0", "CC-BY-4.0", "header", 0.85),
             Evidence(Kind.META, "https://example.org/mit", "MIT", "header", 0.8)]
    assert {resolve(order) for order in itertools.permutations(items)} == {resolve(items)}


# -- robots.txt: which groups apply, as Protego reads them ----------------------------------
BOTS = ["GPTBot", "CCBot", "ClaudeBot", "Google-Extended", "Bytespider", "PerplexityBot"]
PATHS = ["/", "/a", "/a/", "/a/b", "/b", "/a*", "/*.html", "/a$", "/b/c.html$", "/*/c"]
URLS = ["https://example.org/", "https://example.org/a", "https://example.org/a/b",
        "https://example.org/a/x.html", "https://example.org/b/c.html",
        "https://example.org/b/c.htmlx", "https://example.org/z/c", "https://example.org/a?q=1"]


@st.composite
def robots_txt(draw: st.DrawFn) -> str:
    lines: list[str] = []
    for _ in range(draw(st.integers(1, 4))):
        agents = draw(st.lists(st.sampled_from([*BOTS, "*", "SomeSearchBot"]), min_size=1,
                               max_size=2, unique=True))
        lines += [f"User-agent: {draw(st.sampled_from([a, a.lower(), a.upper()]))}"
                  for a in agents]
        for _ in range(draw(st.integers(0, 3))):
            lines.append(f"{draw(st.sampled_from(['Allow', 'Disallow']))}: "
                         f"{draw(st.sampled_from(PATHS))}")
        lines.append("")
    return "\n".join(lines)


@settings(max_examples=300, deadline=None)
@given(robots_txt(), st.sampled_from(URLS))
def test_ai_robots_rules_agree_with_protego(text: str, url: str) -> None:
    ours = RobotsAIRules.parse(text)
    protego = Protego.parse(text)
    own_groups = {line.split(":", 1)[1].strip().lower() for line in text.splitlines()
                  if line.lower().startswith("user-agent:")}
    optouts = set(ours.optouts_for(url))
    for bot in BOTS:
        assert bot in AI_CRAWLERS
        if bot.lower() in own_groups:  # its own group applies: the same verdict as Protego
            assert (f"robots:{bot}" in optouts) == (not protego.can_fetch(url, bot)), bot
        else:  # only '*' (or nothing) applies: a general rule is no AI opt-out
            assert f"robots:{bot}" not in optouts


# -- round trips -------------------------------------------------------------------------
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1,
                      max_size=30).map(str.strip).filter(bool)
header_name = st.from_regex(r"X-[A-Za-z][A-Za-z0-9-]{0,15}", fullmatch=True)


@st.composite
def fetched(draw: st.DrawFn) -> FetchedPage:
    path = draw(st.from_regex(r"/[a-z0-9/_.-]{0,30}", fullmatch=True))
    body = draw(st.binary(max_size=2000))
    headers = [("Content-Type", "text/html; charset=utf-8"),
               *draw(st.lists(st.tuples(header_name, header_text), max_size=3))]
    when = draw(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2037, 1, 1)))
    return FetchedPage(url=f"https://example.org{path}", status=draw(st.sampled_from(
        [200, 203, 404, 500])), headers=headers, body=body,
        fetched_at=when.replace(tzinfo=UTC))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(fetched(), min_size=1, max_size=5))
def test_warc_write_then_read(tmp_path: Path, pages: list[FetchedPage]) -> None:
    folder = Path(tempfile.mkdtemp(dir=tmp_path))  # one folder per example
    with WarcWriter(folder) as writer:
        refs = [writer.write_response(p.url, p.status, "", p.headers, p.body, p.fetched_at)
                for p in pages]
    back = [p for p in iter_responses(next(folder.glob("*.warc.gz")))
            if isinstance(p, FetchedPage)]
    assert [(p.url, p.status, p.body) for p in back] == [(p.url, p.status, p.body)
                                                          for p in pages]
    assert [p.warc_record_id for p in back] == [r.record_id for r in refs]
    for page, original in zip(back, pages, strict=True):
        assert page.fetched_at == original.fetched_at
        kept = [(k, v) for k, v in page.headers if k.lower() != "content-length"]
        assert kept == original.headers


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.builds(
    ErrorRecord, url=st.text(max_size=60),
    stage=st.sampled_from(["fetch", "robots", "decode"]),
    reason=st.from_regex(r"[a-z-]{1,20}", fullmatch=True), detail=st.text(max_size=80),
    http_status=st.none() | st.integers(100, 599),
    fetched_at=st.none() | st.datetimes(timezones=st.just(UTC)),
    warc_file=st.none() | st.text(max_size=30), warc_record_id=st.none() | st.text(max_size=30),
    crawl_id=st.none() | st.text(max_size=20)), max_size=8))
def test_error_records_write_then_read(tmp_path: Path, records: list[ErrorRecord]) -> None:
    with ErrorWriter(tempfile.mkdtemp(dir=tmp_path)) as writer:
        for record in records:
            writer.write(record)
    assert list(read_errors(writer.path)) == records
