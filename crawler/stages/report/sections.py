"""What the report shows: the sections of the page, made from a :class:`Tally`.

Tables list at most :data:`TOP` rows (hosts, licenses, license pairs); lists with more
entries end in an "other" row or say how many there are, so the page stays small whatever
the corpus.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from crawler.licenses.categories import CATEGORY_ORDER
from crawler.stages.dedup.report import SIZE_ORDER
from crawler.stages.report import charts
from crawler.stages.report.page import Section, Table
from crawler.stages.report.runs import RUN_COUNTS, RunHistory
from crawler.stages.report.tally import (
    CONFIDENCE_BINS,
    EXAMPLES_PER_CATEGORY,
    OPTOUT_KINDS,
    Tally,
)

TOP = 20
OPTOUT_LABELS = {"robots": "robots.txt AI agents", "tdmrep": "TDMRep", "noai": "noai",
                 "content_usage": "Content-Usage"}


def _share(n: int, total: int) -> float:
    return n / total if total else 0.0


def _ordered_categories(present: set[str]) -> list[str]:
    return [c for c in CATEGORY_ORDER if c in present] + sorted(present - set(CATEGORY_ORDER))


def _color(category: str) -> str:
    return charts.CATEGORY_COLORS.get(category, "#9aa3ad")


def categories_section(tally: Tally, hosts: list[dict[str, Any]]) -> Section:
    """Documents by license category."""
    counts: dict[str, int] = defaultdict(int)
    for row in hosts:
        counts[row["category"]] += row["docs"]
    order = _ordered_categories(set(counts))
    values = [counts[c] for c in order]
    # one series per category, so that each bar has its category's colour
    chart = charts.bar_chart("categories", order, {
        c: [v if c == o else 0 for o, v in zip(order, values, strict=True)] for c in order},
        colors=[_color(c) for c in order], legend=False) if order else None
    rows = [[c, counts[c], _share(counts[c], tally.rows)] for c in order]
    return Section("categories", "Documents by license category",
                   "Each document's license_category (SPEC §3): the category of its SPDX "
                   "expression, unknown for NOASSERTION.", chart,
                   [Table("t-categories", "documents by category",
                          ["category", "documents", "share"], rows, {1, 2})])


def licenses_section(tally: Tally) -> Section:
    """Documents by SPDX expression: the top :data:`TOP` and the rest as "other"."""
    rows = tally.licenses.rows()
    top, rest = rows[:TOP], rows[TOP:]
    labels = [r["license"] for r in top]
    cats = [r["category"] for r in top]
    table_rows = [[r["license"], r["category"], r["docs"], _share(r["docs"], tally.rows)]
                  for r in top]
    if rest:
        other = sum(r["docs"] for r in rest)
        labels.append(f"other ({len(rest):,} licenses)")
        cats.append("")
        table_rows.append([labels[-1], "", other, _share(other, tally.rows)])
    present = _ordered_categories({c for c in cats if c})
    series = {c: [r[2] if r[1] == c else 0 for r in table_rows] for c in present}
    if rest:
        series["other"] = [0] * len(top) + [table_rows[-1][2]]
    chart = charts.bar_chart("licenses", labels, series,
                             colors=[_color(c) for c in present] + ["#9aa3ad"]) \
        if labels else None
    return Section("licenses", "Documents by license",
                   f"The license column (an SPDX expression or NOASSERTION): the {TOP} most "
                   "frequent, the others summed; bars coloured by category.", chart,
                   [Table("t-licenses", "documents by license",
                          ["license", "category", "documents", "share"], table_rows, {2, 3})])


def _host_totals(hosts: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    totals: dict[str, dict[str, Any]] = {}
    for row in hosts:
        entry = totals.setdefault(row["host"], {"host": row["host"], "docs": 0, "optout": 0,
                                                "categories": {},
                                                **{k: 0 for k in OPTOUT_KINDS}})
        for key in ("docs", "optout", *OPTOUT_KINDS):
            entry[key] += row[key]
        entry["categories"][row["category"]] = row["docs"]
    return totals


def hosts_section(totals: dict[str, dict[str, Any]]) -> Section:
    """The hosts with the most documents, each bar split by category."""
    top = sorted(totals.values(), key=lambda e: (-e["docs"], e["host"]))[:TOP]
    present = _ordered_categories({c for e in top for c in e["categories"]})
    labels = [e["host"] for e in top]
    series = {c: [e["categories"].get(c, 0) for e in top] for c in present}
    chart = charts.bar_chart("hosts", labels, series, colors=[_color(c) for c in present]) \
        if top else None
    rows = [[e["host"], e["docs"], *[e["categories"].get(c, 0) for c in present]]
            for e in top]
    return Section("hosts", "Top hosts by documents",
                   f"The hosts with the most documents (at most {TOP}; {len(totals):,} "
                   f"host{'s' if len(totals) != 1 else ''} in all), each bar split by license "
                   "category.",
                   chart, [Table("t-hosts", "documents per host and category",
                                 ["host", "documents", *present], rows,
                                 set(range(1, 2 + len(present))))], stacked=True)


def optout_section(tally: Tally, totals: dict[str, dict[str, Any]]) -> Section:
    """Opt-out share per host, each kind of opt-out separately."""
    opted = [e for e in totals.values() if e["optout"]]
    top = sorted(opted, key=lambda e: (-e["optout"], -e["docs"], e["host"]))[:TOP]
    labels = [e["host"] for e in top]
    series = {OPTOUT_LABELS[k]: [_share(e[k], e["docs"]) for e in top] for k in OPTOUT_KINDS}
    chart = charts.grouped_bar_chart("optout", labels, series) if top else None
    all_hosts = {"host": "(all hosts)", "docs": tally.rows,
                 **{k: sum(e[k] for e in totals.values()) for k in (*OPTOUT_KINDS, "optout")}}
    headers = ["host", "documents", *OPTOUT_LABELS.values(), "any opt-out", "share opted out"]
    rows = [[e["host"], e["docs"], *[e[k] for k in OPTOUT_KINDS], e["optout"],
             _share(e["optout"], e["docs"])] for e in [all_hosts, *top]]
    return Section("optout", "Opt-outs per host",
                   f"The hosts with the most opted-out documents (at most {TOP}; "
                   f"{len(opted):,} with any): the share of each host's documents "
                   "under a robots.txt rule for an AI crawler, a TDMRep reservation "
                   "(tdm_reserved), a noai meta tag or header, or a Content-Usage "
                   "train-ai=n preference. A document may have several; 'any opt-out' "
                   "counts it once (tdm_reserved or any ai_optout signal, as licrawl filter "
                   "does).", chart,
                   [Table("t-optout", "opted-out documents per host", headers, rows,
                          set(range(1, len(headers))))], stacked=True)


def confidence_section(tally: Tally) -> Section:
    """License confidence histogram and the share of claims with a conflict."""
    labels = [f"{i / CONFIDENCE_BINS:.1f}-{(i + 1) / CONFIDENCE_BINS:.1f}"
              for i in range(CONFIDENCE_BINS)]
    claims = [int(v) for v in tally.confidence_claims]
    none = [int(v) for v in tally.confidence_noassertion]
    chart = charts.bar_chart("confidence", labels, {"license claims": claims,
                                                    "NOASSERTION": none},
                             colors=["#2457c5", "#9aa3ad"], horizontal=False) \
        if tally.rows else None
    rows = [[label, c, n] for label, c, n in zip(labels, claims, none, strict=True)]
    return Section("confidence", "License confidence and conflicts",
                   "license_confidence in tenths (1.0 in the last bin); license claims are "
                   "rows whose license is not NOASSERTION. A conflict: the page's license "
                   "signals disagreed (license_conflict), the claim took the more "
                   "restrictive license at half the confidence.", chart,
                   [Table("t-confidence", "documents by confidence",
                          ["confidence", "license claims", "NOASSERTION"], rows, {1, 2}),
                    Table("t-conflicts", "claims with a conflict",
                          ["documents", "license claims", "with a conflict", "share of claims"],
                          [[tally.rows, tally.claims, tally.conflicts,
                            _share(tally.conflicts, tally.claims)]], {0, 1, 2, 3})])


def evidence_section(tally: Tally) -> Section:
    """Which kind of evidence decided each claim."""
    rows = tally.evidence.rows()
    labels = [r["kind"] for r in rows]
    chart = charts.bar_chart("evidence", labels, {"documents": [r["docs"] for r in rows]}) \
        if rows else None
    return Section("evidence", "Evidence that decided the claims",
                   "Per document, the kind of its strongest piece of evidence (weight > 0) "
                   "for its license (its spdx is the document's license; when none is, as "
                   "for a folded or combined expression, the strongest with weight > 0). "
                   "(none): no evidence with weight, as for most NOASSERTION documents.",
                   chart, [Table("t-evidence", "documents by deciding evidence kind",
                                 ["evidence kind", "documents", "share"],
                                 [[r["kind"], r["docs"], _share(r["docs"], tally.rows)]
                                  for r in rows], {1, 2})])


def dedup_sections(tally: Tally) -> list[Section]:
    """Cluster sizes, license conflicts between copies, removed copies per host (only for
    ``licrawl dedup`` output)."""
    sizes = [int(v) for v in tally.cluster_sizes]
    summary = Table("t-dedup", "deduplicated documents",
                    ["kept (clusters)", "removed copies", "license conflicts"],
                    [[tally.deduplicated_rows, tally.removed_copies,
                      tally.conflict_clusters]], {0, 1, 2})
    sizes_section = Section(
        "clusters", "Duplicate clusters by size",
        "Each row of licrawl dedup output is the kept copy of a cluster; dup_count copies "
        "(itself included) carried its text.",
        charts.bar_chart("clusters", list(SIZE_ORDER), {"clusters": sizes}, horizontal=False,
                         xlabel="clusters"),
        [summary, Table("t-clusters", "clusters by size", ["copies", "clusters"],
                        [[s, n] for s, n in zip(SIZE_ORDER, sizes, strict=True)], {1})])
    pairs = sorted(tally.conflict_pairs.items(), key=lambda item: (-item[1], item[0]))[:TOP]
    pair_labels = [f"{a} vs {b}" for (a, b), _ in pairs]
    conflicts = Section(
        "dup-conflicts", "Copies that disagree about the license",
        f"Clusters whose copies state different licenses (dup_license_conflict; NOASSERTION "
        f"left aside): the {TOP} most frequent pairs of licenses that disagree.",
        charts.bar_chart("dup-conflicts", pair_labels, {"clusters": [n for _, n in pairs]},
                         xlabel="clusters") if pairs else None,
        [Table("t-dup-conflicts", "license pairs that disagree",
               ["license", "other license", "clusters"],
               [[a, b, n] for (a, b), n in pairs], {2})])
    hosts = tally.removed_hosts.rows()
    top = hosts[:TOP]
    removed = Section(
        "removed", "Removed copies per host",
        f"Hosts of the copies dedup removed (the URLs in dup_urls): the {TOP} with the most "
        f"({len(hosts):,} hosts in all).",
        charts.bar_chart("removed", [r["host"] for r in top],
                         {"removed copies": [r["docs"] for r in top]}, xlabel="copies")
        if top else None,
        [Table("t-removed", "removed copies per host", ["host", "removed copies"],
               [[r["host"], r["docs"]] for r in top], {1})])
    return [sizes_section, conflicts, removed]


def examples_section(tally: Tally) -> Section:
    """A few documents per category, to spot-check claims."""
    tables = []
    for cat in _ordered_categories(set(tally.examples)):
        rows = []
        for ex in tally.examples[cat]:
            ev = ex["evidence"]
            evidence = (f"{ev['kind']} at {ev['where']} (weight {ev['weight']:.2f}): "
                        f"{ev['value']}" if ev else "none")
            rows.append([ex["url"], ex["license"], f"{ex['confidence']:.2f}", evidence])
        tables.append(Table(f"t-examples-{cat}", cat, ["URL", "license", "confidence",
                                                       "deciding evidence"], rows))
    return Section("examples", "Example documents per category",
                   f"The first {EXAMPLES_PER_CATEGORY} documents of each category in input "
                   "order, with the evidence that decided their license, to spot-check "
                   "claims.", None, tables)


def _utc(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def runs_section(history: RunHistory) -> Section:
    """Documents written, license changes, new opt-outs and pages disappeared per run of
    the job (``--state``): the last runs, oldest first."""
    runs = history.runs
    labels = [f"{_utc(r.started)[:16]}Z" for r in runs]
    changes = {"license changed": "license changes", "opted out": "new opt-outs",
               "disappeared": "pages disappeared"}
    drawn = any(v is not None for r in runs for v in r.counts.values())
    chart = charts.panel_line_chart("runs", labels, [
        ("documents written", {"documents written": [r.counts["rows"] for r in runs]}),
        ("pages", {name: [r.counts[key] for r in runs] for key, name in changes.items()}),
    ], xlabel="run start (UTC)") if drawn else None
    rows = [[r.run_id, _utc(r.started),
             "running or stopped" if r.ended is None else _utc(r.ended),
             *r.counts.values()] for r in runs]
    shown = (f"the last {len(runs):,} of {history.total:,} runs" if len(runs) < history.total
             else f"{len(runs):,} run{'s' if len(runs) != 1 else ''}")
    return Section("runs", "Runs over time",
                   f"The crawl job's runs recorded in {history.location} ({shown}), from "
                   "the summary each run wrote when it ended: rows are the documents it "
                   "wrote; new, changed, unchanged and removed its pages compared with "
                   "what the earlier runs saw; license changed, opted out (an opt-out the "
                   "page did not have) and disappeared the changes since the previous run. "
                   "A run still going, or stopped before its end, wrote no summary: its "
                   "numbers are a dash.", chart,
                   [Table("t-runs", "runs, oldest first",
                          ["run", "started", "ended", *RUN_COUNTS], rows,
                          set(range(3, 3 + len(RUN_COUNTS))))], stacked=True)


def build_sections(tally: Tally, history: RunHistory | None = None) -> list[Section]:
    """Every section of the page, in order (the runs only with a job's ``history``)."""
    hosts = tally.hosts.rows()
    totals = _host_totals(hosts)
    sections = [categories_section(tally, hosts), licenses_section(tally),
                hosts_section(totals), optout_section(tally, totals),
                confidence_section(tally), evidence_section(tally)]
    if tally.deduplicated_rows:
        sections += dedup_sections(tally)
    if history is not None:
        sections.append(runs_section(history))
    sections.append(examples_section(tally))
    return sections
