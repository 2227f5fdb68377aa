"""What ``licrawl dedup`` found: ``report.json`` and the printed summary."""

from __future__ import annotations

from typing import Any

from crawler.stages import ranked
from crawler.stages.dedup.clusters import ClusterStats

TOP = 20
SIZE_ORDER = ("1", "2", "3-5", "6-10", "11-100", "101-1000", ">1000")


def build_report(stats: ClusterStats, *, kept: int, settings: dict[str, Any],
                 inputs: list[str], input_bytes: int, outputs: dict[str, Any],
                 elapsed: float) -> dict[str, Any]:
    """The content of ``report.json``."""
    pairs = sorted(stats.conflict_pairs.items(), key=lambda item: (-item[1], item[0]))
    return {
        "settings": settings,
        "inputs": {"files": inputs, "file_count": len(inputs), "bytes": input_bytes,
                   "rows": stats.rows},
        "outputs": outputs,
        "kept": kept,
        "removed": stats.rows - kept,
        "distinct_texts": stats.distinct_texts,
        "exact_duplicates": stats.exact_duplicates,
        "near_duplicates": stats.near_duplicates,
        "clusters": stats.clusters,
        "clusters_with_copies": stats.clusters - stats.size_histogram.get("1", 0),
        "cluster_sizes": {size: stats.size_histogram[size] for size in SIZE_ORDER
                          if stats.size_histogram.get(size)},
        "candidate_pairs": stats.candidate_pairs,
        "confirmed_pairs": stats.confirmed_pairs,
        "license_conflict_clusters": stats.conflict_clusters,
        "license_conflict_pairs": [{"licenses": list(pair), "clusters": n}
                                   for pair, n in pairs[:TOP]],
        "optout_union_clusters": stats.optout_clusters,
        "top_hosts_removed": ranked(stats.removed_by_host, TOP),
        "elapsed_seconds": round(elapsed, 3),
    }


def format_summary(report: dict[str, Any], *, top: int = 10) -> str:
    """A readable summary of a dedup report."""
    total = report["inputs"]["rows"]
    s = report["settings"]
    lines = [
        f"licrawl dedup: {s['ngram']}-word n-grams, {s['num_perm']} hashes as {s['bands']} "
        f"bands x {s['rows_per_band']}, threshold {s['threshold']}, keep {s['keep']}",
        f"input       {report['inputs']['file_count']:,} files, {total:,} rows, "
        f"{report['inputs']['bytes'] / 2**20:,.1f} MiB",
        f"exact dups  {report['exact_duplicates']:>12,}  "
        f"{_share(report['exact_duplicates'], total)}  same text_sha1 as another row",
        f"near dups   {report['near_duplicates']:>12,}  "
        f"{_share(report['near_duplicates'], total)}  distinct texts joined to a cluster",
        f"clusters    {report['clusters']:>12,}  ({report['clusters_with_copies']:,} with "
        "more than one copy)",
        f"kept        {report['kept']:>12,}  {_share(report['kept'], total)}",
        f"removed     {report['removed']:>12,}  {_share(report['removed'], total)}"
        "  (all listed in copies.parquet)",
        f"license conflicts {report['license_conflict_clusters']:>6,} clusters whose copies "
        "disagree about the license",
        f"opt-out union     {report['optout_union_clusters']:>6,} kept rows given an opt-out "
        "of another copy",
    ]
    if report["cluster_sizes"]:
        lines += ["", f"{'cluster size':<30}{'clusters':>12}"]
        lines += [f"  {size:<28}{n:>12,}" for size, n in report["cluster_sizes"].items()]
    if report["license_conflict_pairs"]:
        lines += ["", f"{'licenses that disagree':<58}{'clusters':>10}"]
        lines += [f"  {' vs '.join(p['licenses']):<56}{p['clusters']:>10,}"
                  for p in report["license_conflict_pairs"][:top]]
    if report["top_hosts_removed"]:
        lines += ["", f"{'top hosts of removed copies':<42}{'rows':>12}"]
        lines += [f"  {host:<40}{n:>12,}" for host, n in report["top_hosts_removed"][:top]]
    return "\n".join(lines)


def _share(n: int, total: int) -> str:
    return f"{100 * n / total:5.1f}%" if total else "    -"
