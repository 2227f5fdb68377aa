"""The report's charts: matplotlib figures rendered as SVG text, to inline in the page.

Text stays text in the SVG (``svg.fonttype = none``: small files, the browser's fonts);
labels from the corpus are taken literally (``$`` escaped, so a host name never becomes
mathtext). Each chart gets its own id salt, so clip paths of charts inlined in one page
never share an id. Uses the Figure API only (no pyplot, no GUI backend).
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence

import matplotlib
from matplotlib.figure import Figure

matplotlib.rcParams.update({
    "svg.fonttype": "none",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
})

#: One colour per license category (the serve-trace page's palette).
CATEGORY_COLORS = {
    "public-domain": "#1b7f3b", "permissive": "#1f6feb", "copyleft": "#8250df",
    "noncommercial": "#c2410c", "no-derivatives": "#a16207", "reserved": "#c8232c",
    "unknown": "#6b7280",
}
PALETTE = ["#2457c5", "#c2410c", "#1b7f3b", "#8250df", "#a16207", "#c8232c", "#6b7280"]
_SVG_HEAD = re.compile(r"\A.*?(?=<svg)", re.S)
_SVG_SIZE = re.compile(r'<svg([^>]*?) width="[^"]*" height="[^"]*"')


MAX_LABEL = 42  # characters of a tick label (the tables give the full text)
_CHAR_IN = 0.068  # inches per character of a 9 pt label, about


def _literal(label: str) -> str:
    label = label if len(label) <= MAX_LABEL else label[:MAX_LABEL - 1] + "\u2026"
    return label.replace("$", r"\$")


def _figure(width: float, height: float, *, left: float, bottom: float, top: float) -> Figure:
    """A figure of ``width`` x ``height`` inches whose axes leave the given margins (in
    inches): margins set from the labels' length instead of a tight bounding box, which
    would draw each figure twice."""
    fig = Figure(figsize=(width, height))
    fig.subplots_adjust(left=left / width, right=1 - 0.25 / width, bottom=bottom / height,
                        top=1 - top / height)
    return fig


def _render(fig: Figure, salt: str) -> str:
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": salt}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    svg = _SVG_HEAD.sub("", buf.getvalue(), count=1)
    return _SVG_SIZE.sub(r'<svg\1 class="chart" role="img"', svg, count=1)


def _legend(ax: object, count: int) -> None:
    ax.legend(frameon=False, fontsize=8, ncols=min(count, 4), loc="lower left",
              bbox_to_anchor=(0.0, 1.0), borderaxespad=0.2, handlelength=1.2)


def bar_chart(salt: str, labels: Sequence[str], series: dict[str, Sequence[float]], *,
              colors: Sequence[str] | None = None, horizontal: bool = True,
              xlabel: str = "documents", percent: bool = False, legend: bool = True) -> str:
    """Bars for ``labels`` (top to bottom when horizontal), one stacked segment per series
    (a legend when there are several and ``legend``); returns the SVG text."""
    colors = list(colors or PALETTE)
    ticks = [_literal(label) for label in labels]
    longest = max(map(len, ticks), default=1)
    rows = -(-len(series) // 4) if legend and len(series) > 1 else 0
    top = 0.15 + 0.2 * rows
    if horizontal:
        height = 0.75 + top + 0.24 * max(len(labels), 1)
        fig = _figure(7.0, height, left=0.2 + _CHAR_IN * longest, bottom=0.5, top=top)
    else:
        rotate = longest > 6
        fig = _figure(7.0, 3.2, left=1.0, bottom=0.4 + (0.05 * longest if rotate else 0.1),
                      top=top)
    ax = fig.add_subplot()
    positions = list(range(len(labels)))
    base = [0.0] * len(labels)
    for i, (name, values) in enumerate(series.items()):
        color = colors[i % len(colors)]
        if horizontal:
            ax.barh(positions, values, left=base, color=color, label=_literal(name), height=0.7)
        else:
            ax.bar(positions, values, bottom=base, color=color, label=_literal(name), width=0.8)
        base = [b + v for b, v in zip(base, values, strict=True)]
    if horizontal:
        ax.set_yticks(positions, ticks)
        ax.invert_yaxis()
        ax.set_xlabel(xlabel)
    else:
        ax.set_xticks(positions, ticks, rotation=30 if rotate else 0,
                      ha="right" if rotate else "center")
        ax.set_ylabel(xlabel)
    if percent:
        (ax.xaxis if horizontal else ax.yaxis).set_major_formatter("{x:.0%}")
    if rows:
        _legend(ax, len(series))
    return _render(fig, salt)


def grouped_bar_chart(salt: str, labels: Sequence[str], series: dict[str, Sequence[float]],
                      *, xlabel: str = "share of the host's documents") -> str:
    """Horizontal bars side by side per label, one per series, as shares (0..1)."""
    k = max(len(series), 1)
    ticks = [_literal(label) for label in labels]
    longest = max(map(len, ticks), default=1)
    top = 0.15 + 0.2 * -(-k // 4)
    fig = _figure(7.0, 0.75 + top + 0.075 * k * max(len(labels), 1),
                  left=0.2 + _CHAR_IN * longest, bottom=0.5, top=top)
    ax = fig.add_subplot()
    height = 0.8 / k
    for i, (name, values) in enumerate(series.items()):
        ax.barh([p - 0.4 + height * (i + 0.5) for p in range(len(labels))], values,
                height=height, color=PALETTE[i % len(PALETTE)], label=_literal(name))
    ax.set_yticks(range(len(labels)), ticks)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter("{x:.0%}")
    ax.set_xlabel(xlabel)
    _legend(ax, k)
    return _render(fig, salt)


def panel_line_chart(salt: str, labels: Sequence[str],
                     panels: Sequence[tuple[str, dict[str, Sequence[float | None]]]], *,
                     xlabel: str = "", max_ticks: int = 12) -> str:
    """Lines with markers over ``labels`` (left to right), one panel per ``(ylabel,
    series)`` stacked with a shared x axis (a legend per panel of several series); a
    ``None`` value leaves a gap. At most ``max_ticks`` labels are written."""
    step = max(1, -(-len(labels) // max_ticks))
    longest = max((len(_literal(label)) for label in labels[::step]), default=1)
    legends = sum(-(-len(series) // 4) for _, series in panels if len(series) > 1)
    height = 0.6 + 0.05 * longest + 0.2 * legends + 1.7 * len(panels)
    # rotated tick labels reach left of their tick: the first one sets the left margin
    fig = _figure(7.0, height, left=max(0.9, 0.06 * longest), bottom=0.45 + 0.05 * longest,
                  top=0.15)
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False,
                        gridspec_kw={"hspace": 0.25 + 0.1 * legends})[:, 0]
    positions = list(range(len(labels)))
    color = 0
    for ax, (ylabel, series) in zip(axes, panels, strict=True):
        for name, values in series.items():
            ax.plot(positions, [float("nan") if v is None else v for v in values],
                    marker="o", markersize=3.5, linewidth=1.5, clip_on=False,
                    color=PALETTE[color % len(PALETTE)], label=_literal(name))
            color += 1
        ax.set_ylabel(ylabel)
        ax.set_ylim(bottom=0)
        ax.yaxis.get_major_locator().set_params(integer=True)
        if len(series) > 1:
            _legend(ax, len(series))
    axes[-1].set_xticks(positions[::step], [_literal(label) for label in labels[::step]],
                        rotation=30, ha="right")
    axes[-1].set_xlim(-0.5, max(len(labels) - 0.5, 0.5))
    if xlabel:
        axes[-1].set_xlabel(xlabel)
    return _render(fig, salt)
