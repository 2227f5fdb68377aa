"""robots.txt rules for AI crawlers and ``Content-Usage`` lines (SPEC §2 "Opt-out").

* ``robots:<Bot>`` for each known AI crawler whose *own* group disallows the URL's path
  (RFC 9309: groups merged per product token, longest match wins, ``Allow`` wins a tie,
  ``*`` and ``$`` wildcards). The ``*`` group does not count: a site that disallows every
  crawler has not opted out of AI use specifically.
* ``Content-Usage`` (IETF AI preferences) in an HTTP header or a robots.txt line
  (optionally with a path pattern first): every AI-related key set to ``n``
  (``ai``, ``train-ai``, ``train-genai``, ...) is recorded as ``content-usage:<key>=n``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from crawler.site.patterns import compile_pattern, url_path

__all__ = ["AI_CRAWLERS", "RobotsAIRules", "content_usage_optouts"]


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
                    rule = _Rule(key == "allow", value, compile_pattern(value))
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
        path = url_path(url)
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
        path = url_path(url)
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
        return _ContentUsage(first, compile_pattern(first), rest.strip())
    return _ContentUsage(None, None, value)
