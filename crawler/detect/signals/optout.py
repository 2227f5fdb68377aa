"""Page-level opt-out signals: TDMRep headers and meta, noai/noimageai, Content-Usage.

Reads what the page and its response headers say; the site-level files are read in
:mod:`crawler.site` and the two are combined in :mod:`crawler.detect.optout`. Rules:

* TDMRep: the ``tdm-reservation`` / ``tdm-policy`` HTTP headers, then
  ``<meta name="tdm-reservation">``; a layer without a value (absent, or any value other
  than ``1``/``0``, e.g. ``yes``) changes nothing.
* ``noai`` / ``noimageai`` in ``<meta name="robots">`` and ``X-Robots-Tag`` apply to every
  crawler and are recorded as ``meta:noai`` / ``header:noai``. With a bot name
  (``X-Robots-Tag: otherbot: noai`` or ``<meta name="otherbot" content="noai">``) they
  apply to that bot only and are recorded as ``header:otherbot:noai`` /
  ``meta:otherbot:noai`` (bot name lower-cased), so a consumer can tell them apart.
* ``Content-Usage`` response headers, as :func:`crawler.site.robots.content_usage_optouts`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from lxml import html as lxml_html

from crawler.detect.metas import page_metas
from crawler.site.robots import content_usage_optouts
from crawler.site.tdmrep import tdm_flag

__all__ = ["HeadersLike", "PageOptOut", "page_optout"]

_NOAI = ("noai", "noimageai")


# X-Robots-Tag directives that carry their own "name: value" and are not a bot prefix.
_COLON_DIRECTIVES = frozenset(
    {"unavailable_after", "max-snippet", "max-image-preview", "max-video-preview"}
)


# <meta name=...> values that are never a crawler name.
_NOT_BOT_META = frozenset(
    {
        "description",
        "keywords",
        "author",
        "viewport",
        "generator",
        "copyright",
        "license",
        "tdm-reservation",
        "tdm-policy",
        "referrer",
        "theme-color",
        "title",
    }
)


_BOT_PREFIX = re.compile(r"^\s*([A-Za-z0-9_.\- ]+?)\s*:\s*(.*)$")


@dataclass(frozen=True, slots=True)
class PageOptOut:
    """Opt-out signals found in one response's headers and HTML head.

    ``tdm_reservation``: headers then meta merged (``True`` reserved, ``False``
    un-reserved, ``None`` not said); ``tdm_policy``: the policy URL; ``signals``: e.g.
    ``meta:noai``, ``header:noimageai``, ``header:otherbot:noai``,
    ``content-usage:train-ai=n``.
    """

    tdm_reservation: bool | None = None
    tdm_policy: str | None = None
    signals: list[str] = field(default_factory=list)


HeadersLike = Mapping[str, object] | Iterable[tuple[object, object]] | None


def page_optout(tree: lxml_html.HtmlElement | None, headers: HeadersLike) -> PageOptOut:
    """Read TDMRep, noai/noimageai and Content-Usage signals from headers and ``<meta>``.

    ``headers`` is a mapping (values may be lists, as Scrapy's ``Headers``) or a list of
    ``(name, value)`` pairs; names are case-insensitive, str or bytes. ``tree`` may be
    ``None`` for a non-HTML response.
    """
    pairs = _header_pairs(headers)
    reserved, policy = _tdm_layer(
        [v for k, v in pairs if k == "tdm-reservation"], [v for k, v in pairs if k == "tdm-policy"]
    )
    signals: list[str] = []
    for key, value in pairs:
        if key == "x-robots-tag":
            signals.extend(_robots_directive_signals("header", value, bot=None))
        elif key == "content-usage":
            signals.extend(content_usage_optouts(value))
    if tree is not None:
        metas = [
            (meta.key, meta.value)
            for meta in page_metas(tree)
            if meta.attribute in ("name", "http-equiv")
        ]
        meta_reserved, meta_policy = _tdm_layer(
            [v for k, v in metas if k == "tdm-reservation"],
            [v for k, v in metas if k == "tdm-policy"],
        )
        reserved = reserved if meta_reserved is None else meta_reserved
        policy = meta_policy or policy
        for key, value in metas:
            if key == "robots":
                signals.extend(_robots_directive_signals("meta", value, bot=None))
            elif key not in _NOT_BOT_META and re.fullmatch(r"[\w.\- ]{2,60}", key):
                signals.extend(_robots_directive_signals("meta", value, bot=key))
    return PageOptOut(reserved, policy, sorted(set(signals)))


def _robots_directive_signals(where: str, value: str, bot: str | None) -> list[str]:
    """noai/noimageai in a robots directive list, with any ``botname:`` prefixes applied."""
    out = []
    current = bot.lower() if bot and bot.lower() != "robots" else None
    for part in value.split(","):
        match = _BOT_PREFIX.match(part)
        if match and match.group(1).lower() not in _COLON_DIRECTIVES:
            current = match.group(1).strip().lower()
            part = match.group(2)
        for token in part.lower().split():
            if token in _NOAI:
                out.append(f"{where}:{current}:{token}" if current else f"{where}:{token}")
    return out


def _tdm_layer(reservations: list[str], policies: list[str]) -> tuple[bool | None, str | None]:
    """One layer's TDMRep state: the first ``1``/``0`` value, the first non-empty policy."""
    reserved = None
    for value in reservations:
        flag = tdm_flag(value)
        if flag is not None:
            reserved = flag
            break
    policy = next((p.strip() for p in policies if p.strip()), None)
    return reserved, policy


def _header_pairs(headers: HeadersLike) -> list[tuple[str, str]]:
    if headers is None:
        return []
    items = headers.items() if isinstance(headers, Mapping) else headers
    pairs = []
    for key, value in items:
        values = value if isinstance(value, list | tuple) else [value]
        for one in values:
            pairs.append((_as_text(key).strip().lower(), _as_text(one)))
    return pairs


def _as_text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value)
