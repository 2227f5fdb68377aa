"""Site policy files: format, matching, validation, pickling."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from crawler.site.user_policy import SitePolicy, SitePolicyError

TOML = """
[[rule]]
url = "https://example.org/docs/*"
license = "cc-by-sa-4.0"
note = "Docs footer, checked 2024-05-01"

[[rule]]
regex = "^https://example\\\\.net/(wiki|kb)/"
license = "MIT OR Apache-2.0"

[[rule]]
host = "*.example.com"
license = "LicenseRef-All-Rights-Reserved"
note = "https://example.com/terms"

[[rule]]
host = "Example.org"
license = "CC-BY-4.0"
note = "site-wide footer"
"""


@pytest.fixture()
def policy(tmp_path: Path) -> SitePolicy:
    path = tmp_path / "policy.toml"
    path.write_text(TOML, encoding="utf-8")
    return SitePolicy.load(path)


def test_url_glob_wins_over_later_host_rule(policy: SitePolicy) -> None:
    rule = policy.match("https://example.org/docs/intro")
    assert rule is not None
    assert (rule.spdx, rule.note) == ("CC-BY-SA-4.0", "Docs footer, checked 2024-05-01")
    assert policy.match("https://example.org/blog/1").spdx == "CC-BY-4.0"


def test_host_rules(policy: SitePolicy) -> None:
    assert policy.match("https://www.example.com/a").spdx == "LicenseRef-All-Rights-Reserved"
    assert policy.match("https://a.b.example.com/").note == "https://example.com/terms"
    # the wildcard does not cover the bare domain, nor look-alike hosts
    assert policy.match("https://example.com/") is None
    assert policy.match("https://notexample.com/") is None
    assert policy.match("https://example.org.evil.net/") is None


def test_regex_and_expression(policy: SitePolicy) -> None:
    assert policy.match("https://example.net/kb/42").spdx == "MIT OR Apache-2.0"
    assert policy.match("https://example.net/blog/42") is None


def test_json_format_and_pickle(tmp_path: Path) -> None:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"rule": [{"host": "a.org", "license": "CC0-1.0"}]}))
    policy = SitePolicy.load(path)
    clone = pickle.loads(pickle.dumps(policy))
    assert clone == policy
    assert clone.match("http://a.org/x").spdx == "CC0-1.0"
    assert clone.match("http://a.org/x").note == ""


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"host": "a.org", "license": "CC-BY-99.0"}, "rule 1: bad license"),
        ({"host": "a.org", "license": "NOASSERTION"}, "says nothing"),
        ({"host": "a.org"}, "needs a license"),
        ({"host": "a.org", "url": "x", "license": "MIT"}, "exactly one of"),
        ({"regex": "(", "license": "MIT"}, "bad regex"),
        ({"host": "a.org", "license": "MIT", "spdx": "MIT"}, "unknown key"),
    ],
)
def test_bad_rules_are_named(tmp_path: Path, rule: dict, message: str) -> None:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"rule": [rule]}))
    with pytest.raises(SitePolicyError, match=message):
        SitePolicy.load(path)


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(SitePolicyError, match="cannot read"):
        SitePolicy.load(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[[rule]\n")
    with pytest.raises(SitePolicyError, match="not valid toml"):
        SitePolicy.load(bad)
    empty = tmp_path / "empty.json"
    empty.write_text("{}")
    with pytest.raises(ValueError, match="list of rules"):
        SitePolicy.load(empty)
