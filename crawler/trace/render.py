"""The readable report of a trace (``licrawl trace`` without ``--json``)."""

from __future__ import annotations

from typing import Any

SNIPPET_CHARS = 70


def _snippet(text: str, start: int, end: int) -> str:
    """The span's text on one line, its middle cut when long."""
    piece = " ".join(text[start:end].split())
    if len(piece) <= 2 * SNIPPET_CHARS:
        return piece
    return f"{piece[:SNIPPET_CHARS]} ... {piece[-SNIPPET_CHARS:]}"


def render(result: dict[str, Any], text: str) -> str:
    """The report of a trace result (the ``--json`` object) over the traced ``text``."""
    index = result["index"]
    lines = [f"Traced {result['input_words']:,} words against {index['documents']:,} "
             f"documents ({index['shards']} index shard{'s' if index['shards'] != 1 else ''})"
             f" in {result['milliseconds']:.0f} ms; spans of {result['min_words']}+ words."]
    lines += [f"Note: {note}." for note in result["notes"]]
    spans, sources = result["spans"], result["sources"]
    if not spans:
        lines.append(f"\nNo passage of {result['min_words']} or more words of this text is "
                     "in the corpus, verbatim or near-verbatim.")
        return "\n".join(lines) + "\n"
    number = {src["id"]: n for n, src in enumerate(sources, 1)}
    lines.append(f"\n{len(spans)} passage{'s reproduce' if len(spans) != 1 else ' reproduces'}"
                 " corpus text (rarest first):")
    for n, span in enumerate(spans, 1):
        if span["kind"] == "verbatim":
            found = (f"occurs {span['occurrences']:,} time"
                     f"{'s' if span['occurrences'] != 1 else ''} in the corpus")
            kind = "verbatim"
        else:
            found = (f"nearly the same in {span['occurrences']:,} document"
                     f"{'s' if span['occurrences'] != 1 else ''}")
            kind = "near-verbatim"
        refs = ", ".join(f"[{number[i]}]" for i in span["source_ids"])
        lines.append(f"  {n}. {kind}, {span['words']:,} words at characters "
                     f"{span['start']:,}-{span['end']:,}, {found}; sources {refs}")
        lines.append(f"     \"{_snippet(text, span['start'], span['end'])}\"")
    lines.append("\nSources:")
    for n, src in enumerate(sources, 1):
        title = src.get("title") or "(untitled)"
        lines.append(f"  [{n}] {title} <{src.get('url')}>")
        if src.get("authors"):
            lines.append(f"      Authors: {', '.join(src['authors'])}")
        license_line = f"      License: {src.get('license')} ({src.get('license_category')}"
        if src.get("license_confidence") is not None:
            license_line += f", confidence {src['license_confidence']:.2f}"
        license_line += ")"
        if src.get("license_url"):
            license_line += f" <{src['license_url']}>"
        lines.append(license_line)
        lines.append(f"      Attribution: {src.get('attribution')}")
        lines.append(f"      => {src['verdict']}")
    return "\n".join(lines) + "\n"
