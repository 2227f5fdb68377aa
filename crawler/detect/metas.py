"""The page's ``<meta>`` elements, read once the same way for every reader.

License and rights metas (:mod:`crawler.detect.signals.meta`), authorship metas
(:mod:`crawler.detect.signals.authors`) and opt-out metas
(:mod:`crawler.detect.signals.optout`) all read them through :func:`page_metas`.
"""

from __future__ import annotations

from dataclasses import dataclass

import lxml.etree

# The attributes that name a <meta>, in the order they are looked at.
NAMING = ("name", "property", "itemprop", "http-equiv")


@dataclass(frozen=True, slots=True)
class Meta:
    """One ``<meta>``: its name lower-cased, its value, and which attribute named it."""

    key: str
    value: str
    attribute: str


def page_metas(tree: lxml.etree._Element) -> list[Meta]:
    """Every named ``<meta>`` of ``tree`` with a non-empty value, in page order.

    The name is the first of ``name``, ``property``, ``itemprop`` and ``http-equiv`` that
    is set, stripped and lower-cased; the value is ``content`` or, as some sites write it,
    ``value``, stripped.
    """
    metas = []
    for el in tree.iter("meta"):
        for attribute in NAMING:
            key = (el.get(attribute) or "").strip().lower()
            if key:
                break
        else:
            continue
        value = (el.get("content") or el.get("value") or "").strip()
        if value:
            metas.append(Meta(key, value, attribute))
    return metas
