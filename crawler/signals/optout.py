"""Opt-out signals: TDMRep, robots.txt rules for AI crawlers, noai/noimageai, Content-Usage.

Pure functions and parsers; nothing here fetches. SPEC §2 "Opt-out". Rules decided here:

* TDMRep layers, strongest first to last: ``/.well-known/tdmrep.json`` (first matching
  ``location`` wins, robots-style ``*`` and ``$``), the ``tdm-reservation`` /
  ``tdm-policy`` HTTP headers, ``<meta name="tdm-reservation">``. Each later layer that
  carries a value overrides the earlier one; a layer without a value (absent, or any value
  other than ``1``/``0``, e.g. ``yes``) changes nothing. ``tdm_policy`` is the policy URL of
  the last layer that gave one, and is only reported while the URL is reserved.
* ``noai`` / ``noimageai`` in ``<meta name="robots">`` and ``X-Robots-Tag`` apply to every
  crawler and are recorded as ``meta:noai`` / ``header:noai``. With a bot name
  (``X-Robots-Tag: otherbot: noai`` or ``<meta name="otherbot" content="noai">``) they
  apply to that bot only and are recorded as ``header:otherbot:noai`` /
  ``meta:otherbot:noai`` (bot name lower-cased), so a consumer can tell them apart.
* robots.txt: ``robots:<Bot>`` for each known AI crawler whose *own* group disallows the
  URL's path (RFC 9309: groups merged per product token, longest match wins, ``Allow``
  wins a tie, ``*`` and ``$`` wildcards). The ``*`` group does not count: a site that
  disallows every crawler has not opted out of AI use specifically.
* ``Content-Usage`` (IETF AI preferences) in an HTTP header or a robots.txt line
  (optionally with a path pattern first): every AI-related key set to ``n``
  (``ai``, ``train-ai``, ``train-genai``, ...) is recorded as ``content-usage:<key>=n``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from lxml import html as lxml_html

if TYPE_CHECKING:
    from crawler.site import SiteContext

__all__ = [
    "AI_CRAWLERS",
    "PageOptOut",
    "RobotsAIRules",
    "TdmRep",
    "combine_optout",
    "content_usage_optouts",
    "page_optout",
]

#: Crawlers that collect for AI training or AI answers, as they name themselves in
#: robots.txt (product tokens; matched case-insensitively).
AI_CRAWLERS: tuple[str, ...] = (
    "GPTBot",
    "ChatGPT-User",
    "OAI-SearchBot",
    "CCBot",
    "ClaudeBot",
    "Claude-Web",
    "Claude-User",
    "Claude-SearchBot",
    "anthropic-ai",
    "Google-Extended",
    "Applebot-Extended",
    "PerplexityBot",
    "Perplexity-User",
    "meta-externalagent",
    "meta-externalfetcher",
    "FacebookBot",
    "cohere-ai",
    "cohere-training-data-crawler",
    "Bytespider",
    "Amazonbot",
    "Diffbot",
    "Omgilibot",
    "Omgili",
    "ImagesiftBot",
    "Timpibot",
    "YouBot",
    "AI2Bot",
    "Ai2Bot-Dolma",
    "DuckAssistBot",
    "MistralAI-User",
    "img2dataset",
    "Kangaroo Bot",
    "PanguBot",
    "webzio-extended",
    "VelenPublicWebCrawler",
)

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
        metas = _metas(tree)
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


def content_usage_optouts(value: str) -> list[str]:
    """``content-usage:<key>=n`` for each AI-related key set to ``n`` in a Content-Usage
    preference list such as ``"train-ai=n, search=y"``."""
    out = []
    for item in value.split(","):
        key, _, pref = item.partition("=")
        key, pref = key.strip().lower(), pref.strip().strip('"').lower()
        if pref == "n" and _is_ai_key(key):
            out.append(f"content-usage:{key}=n")
    return out


def _is_ai_key(key: str) -> bool:
    return key == "ai" or "ai" in key.split("-") or "genai" in key


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
        flag = _tdm_flag(value)
        if flag is not None:
            reserved = flag
            break
    policy = next((p.strip() for p in policies if p.strip()), None)
    return reserved, policy


def _tdm_flag(value: object) -> bool | None:
    text = str(value).strip()
    return {"1": True, "0": False}.get(text)


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


def _metas(tree: lxml_html.HtmlElement) -> list[tuple[str, str]]:
    """``(name lower-cased, content or value)`` of every ``<meta name=...>``."""
    out = []
    for meta in tree.iter("meta"):
        name = (meta.get("name") or meta.get("http-equiv") or "").strip().lower()
        value = meta.get("content")
        if value is None:
            value = meta.get("value")
        if name and value is not None:
            out.append((name, value))
    return out


# --- robots-style path patterns ---------------------------------------------------------


def _url_path(url: str) -> str:
    parts = urlsplit(url)
    path = parts.path or "/"
    return unquote(path + (f"?{parts.query}" if parts.query else ""))


def _compile_pattern(pattern: str) -> re.Pattern[str]:
    """RFC 9309 path pattern: prefix match, ``*`` any run, trailing ``$`` end of path."""
    pattern = unquote(pattern)
    anchored = pattern.endswith("$")
    body = pattern[:-1] if anchored else pattern
    regex = ".*".join(re.escape(piece) for piece in body.split("*"))
    return re.compile(regex + ("$" if anchored else ""), re.DOTALL)


@dataclass(frozen=True, slots=True)
class _Rule:
    allow: bool
    pattern: str
    regex: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class _ContentUsage:
    pattern: str | None
    regex: re.Pattern[str] | None
    value: str


@dataclass(frozen=True, slots=True)
class RobotsAIRules:
    """The parts of a robots.txt that say something about AI use.

    ``groups`` maps a lower-cased product token to its merged Allow/Disallow rules;
    ``content_usage`` holds the ``Content-Usage`` lines. Built with :meth:`parse`.
    """

    groups: dict[str, tuple[_Rule, ...]] = field(default_factory=dict)
    content_usage: tuple[_ContentUsage, ...] = ()

    @classmethod
    def parse(cls, robots_txt: str) -> RobotsAIRules:
        """Parse robots.txt text (RFC 9309 grouping; unknown lines ignored, never raises)."""
        groups: dict[str, list[_Rule]] = {}
        usages: list[_ContentUsage] = []
        agents: list[str] = []
        in_rules = False
        for raw in robots_txt.splitlines():
            line = raw.split("#", 1)[0].strip()
            key, sep, value = line.partition(":")
            if not sep:
                continue
            key, value = key.strip().lower(), value.strip()
            if key == "user-agent":
                if in_rules:
                    agents, in_rules = [], False
                agents.append(value.lower())
                for agent in agents:
                    groups.setdefault(agent, [])
            elif key in ("allow", "disallow"):
                in_rules = True
                if value:
                    rule = _Rule(key == "allow", value, _compile_pattern(value))
                    for agent in agents:
                        groups.setdefault(agent, []).append(rule)
            elif key == "content-usage":
                in_rules = True
                usages.append(_parse_content_usage_line(value))
        return cls({a: tuple(r) for a, r in groups.items()}, tuple(usages))

    def disallowed(self, bot: str, url: str) -> bool:
        """True when ``bot``'s own group disallows ``url`` (the ``*`` group is not used)."""
        rules = self.groups.get(bot.lower())
        if not rules:
            return False
        path = _url_path(url)
        best: _Rule | None = None
        for rule in rules:
            if rule.regex.match(path) and (
                best is None
                or len(rule.pattern) > len(best.pattern)
                or (len(rule.pattern) == len(best.pattern) and rule.allow)
            ):
                best = rule
        return best is not None and not best.allow

    def optouts_for(self, url: str) -> list[str]:
        """``robots:<Bot>`` for each known AI crawler disallowed from ``url``, plus
        ``content-usage:<key>=n`` from the Content-Usage line that applies to ``url``."""
        out = [f"robots:{bot}" for bot in AI_CRAWLERS if self.disallowed(bot, url)]
        usage = self._content_usage_for(url)
        if usage is not None:
            out.extend(content_usage_optouts(usage))
        return out

    def _content_usage_for(self, url: str) -> str | None:
        """The Content-Usage value whose path pattern matches longest (no path: ``/``)."""
        path = _url_path(url)
        best: tuple[int, str] | None = None
        for usage in self.content_usage:
            if usage.regex is None or usage.regex.match(path):
                length = len(usage.pattern) if usage.pattern else 0
                if best is None or length >= best[0]:
                    best = (length, usage.value)
        return best[1] if best else None


def _parse_content_usage_line(value: str) -> _ContentUsage:
    """``"train-ai=n"`` or ``"/path train-ai=n"``."""
    first, _, rest = value.partition(" ")
    if first.startswith("/") and rest.strip():
        return _ContentUsage(first, _compile_pattern(first), rest.strip())
    return _ContentUsage(None, None, value)


@dataclass(frozen=True, slots=True)
class _TdmRule:
    location: str
    regex: re.Pattern[str]
    reservation: bool | None
    policy: str | None


@dataclass(frozen=True, slots=True)
class TdmRep:
    """A site's ``/.well-known/tdmrep.json``: ordered location rules.

    ``error`` is set (and ``rules`` empty) when the file was not a valid TDMRep JSON array.
    """

    rules: tuple[_TdmRule, ...] = ()
    error: str | None = None

    @classmethod
    def parse(cls, json_text: str) -> TdmRep:
        """Parse the file; invalid JSON or shape gives an empty ``TdmRep`` with ``error``."""
        try:
            data = json.loads(json_text)
        except ValueError as exc:
            return cls((), f"invalid JSON: {exc}")
        if not isinstance(data, list):
            return cls((), "tdmrep.json is not a JSON array")
        rules = []
        for item in data:
            if not isinstance(item, dict) or not isinstance(item.get("location"), str):
                continue
            location = item["location"].strip()
            if not location.startswith("/"):
                location = "/" + location
            policy = item.get("tdm-policy")
            rules.append(
                _TdmRule(
                    location,
                    _compile_pattern(location),
                    _tdm_flag(item.get("tdm-reservation")),
                    policy.strip() if isinstance(policy, str) and policy.strip() else None,
                )
            )
        return cls(tuple(rules), None)

    def lookup(self, url: str) -> tuple[bool | None, str | None]:
        """``(reservation, policy)`` of the first rule whose location matches ``url``."""
        path = _url_path(url)
        for rule in self.rules:
            if rule.regex.match(path):
                return rule.reservation, rule.policy
        return None, None


def combine_optout(
    url: str, page: PageOptOut, site: SiteContext | None
) -> tuple[bool, str | None, list[str]]:
    """``(tdm_reserved, tdm_policy, ai_optout)`` for ``url``.

    TDMRep layers: the site's tdmrep.json, then the page's headers and meta (already merged
    in ``page``); only a layer with a value overrides. ``ai_optout`` is the sorted,
    de-duplicated list of robots/meta/header/content-usage signals, plus ``tdmrep`` when
    the URL is reserved.
    """
    reserved: bool | None = None
    policy: str | None = None
    signals = set(page.signals)
    if site is not None:
        reserved, policy = site.tdm_for(url)
        signals.update(site.optouts_for(url))
    if page.tdm_reservation is not None:
        reserved = page.tdm_reservation
    policy = page.tdm_policy or policy
    tdm_reserved = bool(reserved)
    if tdm_reserved:
        signals.add("tdmrep")
    return tdm_reserved, policy if tdm_reserved else None, sorted(signals)
