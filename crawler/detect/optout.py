"""The opt-out decision for one URL: the site's files and the page's own signals combined."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crawler.detect.signals.optout import PageOptOut
    from crawler.site.context import SiteContext

__all__ = ["combine_optout"]


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
