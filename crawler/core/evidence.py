"""The unit every signal reader returns: one piece of license evidence."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True, slots=True)
class Evidence:
    """One license signal seen on a page.

    ``kind`` names the signal (``http-link``, ``rel-license``, ``rdfa``, ``jsonld``,
    ``meta``, ``text``, ``badge``, ``comment-rdf``, ``site-policy``, ...); ``value`` is the
    raw URL or text as found; ``spdx`` the SPDX id it maps to (``NOASSERTION`` when it maps
    to nothing); ``where`` the position on the page (``header``, ``head``, ``jsonld``,
    ``main``, ``footer``, ``sidebar``, ``caption``, ``comment``, ``media``, ``html-comment``,
    ``site-policy``, ...); ``weight`` how much the resolver trusts it (0..1).
    """

    kind: str
    value: str
    spdx: str
    where: str
    weight: float = 0.0

    def as_dict(self) -> dict[str, object]:
        """The evidence as a plain dict, as stored in ``license_evidence``."""
        return asdict(self)
