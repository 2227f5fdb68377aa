"""Redis locations shown to people (messages, logs, report.json) lose their password."""

from __future__ import annotations

import pytest

from crawler.core.locations import shown_location
from crawler.stages.filter.later import LaterChanges
from crawler.stages.filter.stage import Rules


@pytest.mark.parametrize(("location", "shown"), [
    ("redis://:s3cret@10.0.0.5:6379/0", "redis://:***@10.0.0.5:6379/0"),
    ("redis://crawler:s3cret@10.0.0.5:6379/0?name=job",
     "redis://crawler:***@10.0.0.5:6379/0?name=job"),
    ("rediss://u:p%40ss@host/1", "rediss://u:***@host/1"),
    ("redis://10.0.0.5:6379/0", "redis://10.0.0.5:6379/0"),
    ("redis://user@host/0", "redis://user@host/0"),  # no password: nothing to hide
    ("/data/state", "/data/state"),
])
def test_the_password_is_hidden(location: str, shown: str) -> None:
    assert shown_location(location) == shown


def test_filter_report_names_the_state_without_its_password() -> None:
    rules = Rules(subset="attributed", policy=None, min_confidence=None, check_optout=True,
                  check_conflict=True, check_dup_conflict=True, check_attribution=True,
                  later=LaterChanges("redis://:s3cret@127.0.0.1:6379/0?name=job"))
    described = rules.describe()
    assert described["state"] == "redis://:***@127.0.0.1:6379/0?name=job"
    assert "s3cret" not in str(described)


def test_fleet_messages_name_redis_without_its_password() -> None:
    from crawler.fetch.fleet import RedisFrontier

    frontier = RedisFrontier("redis://:s3cret@127.0.0.1:1/0", "t")
    assert frontier.shown_url == "redis://:***@127.0.0.1:1/0"
    assert "s3cret" not in frontier.shown_url
