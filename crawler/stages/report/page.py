"""The report page: sections of a chart beside its table, as one self-contained HTML file.

No script, no external resource: styles inline, charts inline SVG, and a
Content-Security-Policy that forbids loading anything. Every value from the corpus is
escaped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from crawler.core.version import __version__ as VERSION

_CSS = """
:root { --bg: #f5f6f8; --panel: #fff; --ink: #1d2430; --muted: #5b6575; --line: #dde1e7; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
       font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header, main { max-width: 1280px; margin: 0 auto; padding: 16px 24px; }
header h1 { margin: 8px 0 4px; font-size: 24px; }
header p { margin: 2px 0; color: var(--muted); }
section { background: var(--panel); border: 1px solid var(--line); border-radius: 8px;
          padding: 12px 18px 16px; margin: 0 0 18px; }
section h2 { margin: 4px 0 2px; font-size: 18px; }
p.about { margin: 0 0 10px; color: var(--muted); max-width: 70em; }
.pair { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 18px;
        align-items: start; }
.pair.wide { grid-template-columns: minmax(0, 1fr); }
figure { margin: 0; }
.pair.wide figure { max-width: 820px; }
svg.chart { width: 100%; height: auto; }
.tables { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 13px; margin-bottom: 12px; }
caption { text-align: left; font-weight: 600; padding: 2px 0 4px; }
th, td { border-bottom: 1px solid var(--line); padding: 3px 8px; text-align: left;
         vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.url { word-break: break-all; }
.stats { display: flex; flex-wrap: wrap; gap: 10px 28px; margin: 6px 0 2px; }
.stats div b { display: block; font-size: 20px; }
@media (max-width: 900px) { .pair { grid-template-columns: minmax(0, 1fr); } }
"""
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


@dataclass
class Table:
    """A table of the page: ``numeric`` columns are right-aligned and written with
    thousands separators; ``None`` cells are a dash (not known)."""

    id: str
    caption: str
    headers: list[str]
    rows: list[list[object]]
    numeric: set[int] = field(default_factory=set)


@dataclass
class Section:
    """One part of the page: a title, what it shows, a chart (SVG text, or none) and the
    tables behind it."""

    id: str
    title: str
    about: str
    chart: str | None
    tables: list[Table]
    stacked: bool = False  # the chart above its tables (wide tables), not beside them


def _cell(value: object, numeric: bool) -> str:
    if value is None:  # not known (e.g. a run that wrote no summary): a dash, never 0
        return '<td class="n">\u2013</td>' if numeric else "<td>\u2013</td>"
    if numeric and isinstance(value, int):
        return f'<td class="n">{value:,}</td>'
    if numeric and isinstance(value, float):
        return f'<td class="n">{value:.1%}</td>'
    css = ' class="url"' if isinstance(value, str) and "://" in value else ""
    return f"<td{css}>{escape(str(value))}</td>"


def render_table(table: Table) -> str:
    """One ``<table>`` (ints with separators, floats as percentages)."""
    head = "".join(f'<th class="n">{escape(h)}</th>' if i in table.numeric
                   else f"<th>{escape(h)}</th>" for i, h in enumerate(table.headers))
    body = "".join("<tr>" + "".join(_cell(v, i in table.numeric) for i, v in enumerate(row))
                   + "</tr>" for row in table.rows)
    return (f'<table id="{escape(table.id)}"><caption>{escape(table.caption)}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def render_section(section: Section) -> str:
    """A section: chart beside its tables (the tables alone take the full width)."""
    tables = "".join(render_table(t) for t in section.tables)
    inner = (f'<figure class="figure">{section.chart}</figure><div class="tables">{tables}'
             "</div>" if section.chart else f'<div class="tables">{tables}</div>')
    wide = " wide" if section.stacked or not section.chart else ""
    return (f'<section id="{escape(section.id)}"><h2>{escape(section.title)}</h2>'
            f'<p class="about">{escape(section.about)}</p>'
            f'<div class="pair{wide}">{inner}</div></section>')


def render_page(title: str, facts: list[tuple[str, str]], notes: list[str],
                sections: list[Section]) -> str:
    """The whole HTML document."""
    stats = "".join(f"<div><b>{escape(value)}</b>{escape(label)}</div>"
                    for label, value in facts)
    lines = "".join(f"<p>{escape(note)}</p>" for note in notes)
    body = "".join(render_section(s) for s in sections)
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
        f'<header><h1>{escape(title)}</h1><div class="stats">{stats}</div>{lines}'
        f"<p>Made by licrawl {escape(VERSION)} (<code>licrawl report</code>).</p></header>"
        f"<main>{body}</main></body></html>\n")
