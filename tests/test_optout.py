"""Opt-out signals: TDMRep layering, robots.txt AI groups, noai/noimageai, Content-Usage."""

from __future__ import annotations

import pickle

import lxml.html
import pytest

from crawler.detect.optout import combine_optout
from crawler.detect.signals.optout import PageOptOut, page_optout
from crawler.site.context import SiteContext
from crawler.site.robots import RobotsAIRules
from crawler.site.tdmrep import TdmRep

URL = "https://example.org/blog/post.html"


def _tree(head: str) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(f"<html><head>{head}</head><body><p>x</p></body></html>")


# --- TDMRep in headers and meta ------------------------------------------------------------


def test_tdm_reservation_header_and_policy() -> None:
    page = page_optout(None, {"TDM-Reservation": "1", "tdm-policy": "https://example.org/p"})
    assert page.tdm_reservation is True
    assert page.tdm_policy == "https://example.org/p"


@pytest.mark.parametrize("value", ["yes", "true", "", "2"])
def test_tdm_reservation_other_values_are_unset(value: str) -> None:
    assert page_optout(None, {"tdm-reservation": value}).tdm_reservation is None
    meta = _tree(f'<meta name="tdm-reservation" content="{value}">')
    assert page_optout(meta, None).tdm_reservation is None


def test_header_reserves_then_meta_zero_unreserves() -> None:
    page = page_optout(_tree('<meta name="tdm-reservation" content="0">'), {"tdm-reservation": "1"})
    assert page.tdm_reservation is False
    assert combine_optout(URL, page, None) == (False, None, [])


def test_meta_without_value_does_not_reset_header() -> None:
    meta = _tree('<meta name="tdm-reservation" content="yes">')
    page = page_optout(meta, {"tdm-reservation": "1"})
    assert page.tdm_reservation is True


def test_meta_written_with_value_attribute() -> None:
    tree = _tree(
        '<meta name="tdm-reservation" value="1">'
        '<meta name="tdm-policy" value="https://example.org/tdm.json">'
    )
    page = page_optout(tree, None)
    assert (page.tdm_reservation, page.tdm_policy) == (True, "https://example.org/tdm.json")


def test_headers_as_pairs_bytes_and_lists() -> None:
    pairs = [(b"X-Robots-Tag", b"index"), (b"x-robots-tag", b"noimageai")]
    assert page_optout(None, pairs).signals == ["header:noimageai"]
    assert page_optout(None, {"X-Robots-Tag": ["noai", "nofollow"]}).signals == ["header:noai"]


# --- noai / noimageai --------------------------------------------------------------------


def test_meta_robots_noai_and_noimageai() -> None:
    page = page_optout(_tree('<meta name="robots" content="index, NoAI, noimageai">'), None)
    assert page.signals == ["meta:noai", "meta:noimageai"]


def test_meta_robots_without_noai_gives_nothing() -> None:
    meta = _tree('<meta name="robots" content="noindex, nofollow">')
    assert page_optout(meta, None).signals == []


def test_x_robots_tag_bot_prefix_is_distinguishable_from_plain() -> None:
    plain = page_optout(None, {"X-Robots-Tag": "noai"})
    named = page_optout(None, {"X-Robots-Tag": "otherbot: noai"})
    assert plain.signals == ["header:noai"]
    assert named.signals == ["header:otherbot:noai"]


def test_x_robots_tag_prefix_carries_over_commas_but_not_unavailable_after() -> None:
    value = "unavailable_after: 25 Jun 2030 15:00:00 PST, noai, gptbot: noindex, noimageai"
    assert page_optout(None, {"x-robots-tag": value}).signals == [
        "header:gptbot:noimageai",
        "header:noai",
    ]


def test_meta_named_bot_noai() -> None:
    page = page_optout(_tree('<meta name="GPTBot" content="noai">'), None)
    assert page.signals == ["meta:gptbot:noai"]


def test_content_usage_header() -> None:
    page = page_optout(None, {"Content-Usage": "train-ai=n, search=y"})
    assert page.signals == ["content-usage:train-ai=n"]
    assert page_optout(None, {"Content-Usage": "ai=n"}).signals == ["content-usage:ai=n"]
    assert page_optout(None, {"Content-Usage": "search=n, train-ai=y"}).signals == []


# --- robots.txt ----------------------------------------------------------------------------

ROBOTS = """\
User-agent: GPTBot
Disallow: /

User-agent: CCBot
User-agent: ClaudeBot
Disallow: /blog/
Allow: /blog/open/

User-agent: *
Disallow: /
"""


def test_robots_own_group_disallow_counts_star_group_does_not() -> None:
    rules = RobotsAIRules.parse(ROBOTS)
    assert rules.optouts_for("https://example.org/about") == ["robots:GPTBot"]
    assert rules.optouts_for(URL) == ["robots:GPTBot", "robots:CCBot", "robots:ClaudeBot"]
    star_only = RobotsAIRules.parse("User-agent: *\nDisallow: /\n")
    assert star_only.optouts_for(URL) == []


def test_robots_longer_allow_overrides_disallow() -> None:
    rules = RobotsAIRules.parse(ROBOTS)
    assert rules.optouts_for("https://example.org/blog/open/a.html") == ["robots:GPTBot"]


def test_robots_wildcards_dollar_and_case_insensitive_agent() -> None:
    rules = RobotsAIRules.parse("User-agent: gptbot\nDisallow: /*.pdf$\nAllow: /\n")
    assert rules.disallowed("GPTBot", "https://example.org/files/a.pdf")
    assert not rules.disallowed("GPTBot", "https://example.org/files/a.pdf?x=1")
    assert not rules.disallowed("GPTBot", "https://example.org/files/a.html")


def test_robots_empty_disallow_allows_everything() -> None:
    rules = RobotsAIRules.parse("User-agent: GPTBot\nDisallow:\n")
    assert rules.optouts_for(URL) == []


def test_robots_content_usage_lines_with_and_without_path() -> None:
    rules = RobotsAIRules.parse(
        "User-agent: *\nAllow: /\nContent-Usage: train-ai=n\nContent-Usage: /open/ train-ai=y\n"
    )
    assert rules.optouts_for(URL) == ["content-usage:train-ai=n"]
    assert rules.optouts_for("https://example.org/open/x") == []


# --- tdmrep.json -----------------------------------------------------------------------------

TDMREP = """[
  {"location": "/free/*", "tdm-reservation": 0},
  {"location": "/*.pdf$", "tdm-reservation": 1, "tdm-policy": "https://example.org/pdf-policy"},
  {"location": "/*", "tdm-reservation": 1, "tdm-policy": "https://example.org/policy"}
]"""


def test_tdmrep_first_matching_rule_wins() -> None:
    tdm = TdmRep.parse(TDMREP)
    assert tdm.error is None
    assert tdm.lookup("https://example.org/free/a.pdf") == (False, None)
    assert tdm.lookup("https://example.org/x/a.pdf") == (True, "https://example.org/pdf-policy")
    assert tdm.lookup("https://example.org/x/a.pdf?v=2") == (True, "https://example.org/policy")
    assert tdm.lookup(URL) == (True, "https://example.org/policy")


def test_tdmrep_no_match_is_silent() -> None:
    tdm = TdmRep.parse('[{"location": "/members/", "tdm-reservation": 1}]')
    assert tdm.lookup(URL) == (None, None)


@pytest.mark.parametrize("text", ["{not json", '{"location": "/"}', ""])
def test_tdmrep_invalid_is_empty_with_error(text: str) -> None:
    tdm = TdmRep.parse(text)
    assert tdm.rules == ()
    assert tdm.error
    assert tdm.lookup(URL) == (None, None)


# --- combining layers ------------------------------------------------------------------------


def test_combine_tdmrep_then_page_layers() -> None:
    site = SiteContext.from_texts("Example.org", ROBOTS, TDMREP)
    silent = PageOptOut()
    assert combine_optout(URL, silent, site) == (
        True,
        "https://example.org/policy",
        ["robots:CCBot", "robots:ClaudeBot", "robots:GPTBot", "tdmrep"],
    )
    unreserving = page_optout(_tree('<meta name="tdm-reservation" content="0">'), None)
    reserved, policy, optout = combine_optout(URL, unreserving, site)
    assert (reserved, policy) == (False, None)
    assert "tdmrep" not in optout
    unset = page_optout(None, {"tdm-reservation": "yes"})
    assert combine_optout(URL, unset, site)[0] is True


def test_combine_merges_page_signals_sorted_and_unique() -> None:
    page = page_optout(
        _tree('<meta name="robots" content="noai">'),
        {"X-Robots-Tag": "noai", "Content-Usage": "train-ai=n"},
    )
    site = SiteContext.from_texts("example.org", "Content-Usage: train-ai=n\n", None)
    assert combine_optout(URL, page, site) == (
        False,
        None,
        ["content-usage:train-ai=n", "header:noai", "meta:noai"],
    )


def test_site_context_pickles_and_lowercases_host() -> None:
    site = SiteContext.from_texts("Example.ORG", ROBOTS, TDMREP)
    clone = pickle.loads(pickle.dumps(site))
    assert clone == site
    assert clone.host == "example.org"
    assert clone.optouts_for(URL) == site.optouts_for(URL)
    assert clone.tdm_for(URL) == (True, "https://example.org/policy")


def test_site_context_without_files_is_silent() -> None:
    site = SiteContext.from_texts("example.org", None, None)
    assert site.optouts_for(URL) == []
    assert site.tdm_for(URL) == (None, None)
