"""The plain-words verdict on one source: how much of it a text reproduces, whose it is,
under what license, and what that license asks of whoever reuses the text."""

from __future__ import annotations

from typing import Any

from crawler.licenses.terms import license_terms

LOW_CONFIDENCE = 0.5  # below this, the verdict says the license claim is uncertain
MAX_AUTHORS = 3


def credit(doc: dict[str, Any]) -> str | None:
    """The authors to credit (at most three, then "et al."), or ``None``."""
    authors = [a for a in (doc.get("authors") or []) if a and a.strip()]
    if not authors:
        return None
    return ", ".join(authors[:MAX_AUTHORS]) + (" et al." if len(authors) > MAX_AUTHORS
                                               else "")


def verdict(words: int, doc: dict[str, Any]) -> str:
    """``Reproduces 87 words of "Title" by A. Author (https://...), licensed CC BY-SA 4.0:
    credit the author, ...`` for a source document's index row (without authors, the
    copyright notice follows the URL: ``(https://...; notice: © 2024 Acme)``)."""
    terms = license_terms(doc.get("license"))
    title = (doc.get("title") or "").strip()
    who = credit(doc)
    work = f'"{title}"' if title else "the page"
    by = f" by {who}" if who else ""
    notice = (doc.get("copyright") or "").strip()
    where = f"{doc.get('url')}; notice: {notice}" if notice and not who else doc.get("url")
    if terms.category == "public-domain":
        license_part = f"in the public domain ({terms.name})"
    elif terms.licensed:
        license_part = f"licensed {terms.name}"
    else:
        license_part = terms.name
    sentence = (f"Reproduces {words:,} word{'s' if words != 1 else ''} of {work}{by} "
                f"({where}), {license_part}: {terms.conditions}.")
    confidence = doc.get("license_confidence")
    if terms.licensed and confidence is not None and confidence < LOW_CONFIDENCE:
        sentence += (f" The license claim has low confidence ({confidence:.2f}): check the "
                     "source before relying on it.")
    return sentence
