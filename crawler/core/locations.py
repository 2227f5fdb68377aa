"""Locations as shown to people: a ``redis://`` URL without its password.

Messages, logs and the files licrawl writes for reviewers (a filter's ``report.json``) name
the Redis frontier or crawl state a run used; the password in its URL must not travel
with them.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def shown_location(location: str) -> str:
    """``location`` with the password of its URL, if any, replaced by ``***``."""
    parts = urlsplit(location)
    try:
        password = parts.password
    except ValueError:  # a netloc that is no URL authority: shown as given
        return location
    if password is None:
        return location
    host = parts.netloc.rsplit("@", 1)[1]
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=user + host))
