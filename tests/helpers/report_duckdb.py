"""The counts of ``licrawl report`` computed by DuckDB ``GROUP BY`` queries over the same
shard files: the oracle of tests/test_report.py and the baseline of bench/bench_report.py.

    python tests/helpers/report_duckdb.py SHARD.parquet...   # prints the counts as JSON

Definitions are the report's (see crawler/stages/report/tally.py), written independently
in SQL: opt-out kinds from ``ai_optout`` prefixes and ``tdm_reserved``; the deciding
evidence is the first piece with the highest weight among those (weight > 0) whose spdx is
the row's license, else among all with weight > 0; confidence bins in tenths, computed in
double precision; dedup cluster sizes in dedup's bins; removed copies by the host of each
``dup_urls`` URL.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import duckdb

HOST_RE = r"^[A-Za-z][A-Za-z0-9+.-]*://(?:[^/?#@]*@)?(\[[^\]]*\]|[^/?#:]*)"

QUERIES = {
    "hosts": """
        SELECT host, license_category::VARCHAR AS category, count(*) AS docs,
               count_if(len(list_filter(ai_optout, lambda s: starts_with(s, 'robots:'))) > 0)
                   AS robots,
               count_if(tdm_reserved) AS tdmrep,
               count_if(len(list_filter(ai_optout, lambda s: ends_with(s, ':noai'))) > 0)
                   AS noai,
               count_if(len(list_filter(ai_optout,
                                        lambda s: starts_with(s, 'content-usage:'))) > 0)
                   AS content_usage,
               count_if(tdm_reserved OR len(ai_optout) > 0) AS optout
        FROM src GROUP BY ALL""",
    "licenses": """
        SELECT license, license_category::VARCHAR AS category, count(*) AS docs
        FROM src GROUP BY ALL""",
    "confidence": """
        SELECT least(floor(CAST(license_confidence AS DOUBLE) * 10), 9)::INTEGER AS bin,
               license <> 'NOASSERTION' AS claim, count(*) AS docs
        FROM src GROUP BY ALL""",
    "conflicts": """
        SELECT count(*) AS docs, count_if(license <> 'NOASSERTION') AS claims,
               count_if(license_conflict) AS conflicts
        FROM src""",
    "evidence": """
        WITH chosen AS (
            SELECT list_filter(license_evidence,
                               lambda e: e.weight > 0 AND e.spdx = license) AS m,
                   list_filter(license_evidence, lambda e: e.weight > 0) AS w
            FROM src),
        best AS (
            SELECT CASE WHEN len(m) > 0 THEN m ELSE w END AS c FROM chosen)
        SELECT coalesce(list_filter(c, lambda e: e.weight = list_max(
                            list_transform(c, lambda x: x.weight)))[1].kind, '(none)')
                   AS kind,
               count(*) AS docs
        FROM best GROUP BY ALL""",
    "cluster_sizes": """
        SELECT CASE WHEN dup_count <= 1 THEN '1' WHEN dup_count <= 2 THEN '2'
                    WHEN dup_count <= 5 THEN '3-5' WHEN dup_count <= 10 THEN '6-10'
                    WHEN dup_count <= 100 THEN '11-100' WHEN dup_count <= 1000 THEN '101-1000'
                    ELSE '>1000' END AS size,
               count(*) AS clusters
        FROM src WHERE dup_count IS NOT NULL GROUP BY ALL""",
    "dedup": """
        SELECT count(dup_count) AS kept, coalesce(sum(greatest(dup_count - 1, 0)), 0)
                   AS removed,
               count_if(dup_license_conflict) AS conflict_clusters
        FROM src""",
    "conflict_pairs": """
        WITH lic AS (
            SELECT row_number() OVER () AS rid,
                   list_filter(dup_licenses, lambda x: x <> 'NOASSERTION') AS l
            FROM src WHERE dup_license_conflict),
        items AS (SELECT rid, unnest(l) AS v FROM lic)
        SELECT a.v AS license, b.v AS other, count(*) AS clusters
        FROM items a JOIN items b ON a.rid = b.rid AND a.v < b.v GROUP BY ALL""",
    "removed_hosts": f"""
        SELECT lower(regexp_extract(u, '{HOST_RE}', 1)) AS host, count(*) AS docs
        FROM (SELECT unnest(dup_urls) AS u FROM src) GROUP BY ALL""",
}


def report_counts(files: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Every query's rows (as dicts) over ``files``."""
    con = duckdb.connect()
    listing = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
    con.execute(f"CREATE VIEW src AS SELECT * FROM read_parquet([{listing}], "
                "union_by_name = true)")
    results = {}
    for name, sql in QUERIES.items():
        cursor = con.execute(sql)
        columns = [d[0] for d in cursor.description]
        results[name] = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    return results


if __name__ == "__main__":
    json.dump(report_counts(sys.argv[1:]), sys.stdout, default=str)
