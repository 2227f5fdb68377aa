"""The counts behind ``licrawl report``, taken in one streaming pass over record batches.

Every count is vectorized per batch (``pyarrow.compute`` and numpy); what is kept between
batches is bounded by the number of distinct keys (hosts, licenses, evidence kinds), never
by the number of rows: per-key partial counts are merged with a ``group_by`` whenever they
pile up (:class:`GroupCounts`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from crawler.licenses.ids import NOASSERTION
from crawler.stages.dedup.clusters import conflicting_licenses
from crawler.stages.dedup.report import SIZE_ORDER

#: The columns the report reads (everything else in a shard is skipped); the URLs of the
#: example rows are read afterwards, from the row groups that hold them.
COLUMNS = ["host", "license", "license_category", "license_confidence",
           "license_conflict", "license_evidence", "tdm_reserved", "ai_optout",
           "dup_count", "dup_license_conflict", "dup_licenses", "dup_urls"]
#: Opt-out kinds counted per host, each separately, and any of them.
OPTOUT_KINDS = ("robots", "tdmrep", "noai", "content_usage")
CONFIDENCE_BINS = 10
#: Upper bounds of the cluster size bins, in the order of ``SIZE_ORDER`` (dedup's report).
SIZE_LIMITS = (1, 2, 5, 10, 100, 1000)
EXAMPLES_PER_CATEGORY = 5
NO_EVIDENCE = "(none)"
_HOST = r"^(?:[^@/?#]*@)?(?:\[(?P<v6>[^\]]*)\]|(?P<name>[^:/?#]*))"
_COMPACT_ROWS = 1 << 16  # partial counts kept before merging them


class GroupCounts:
    """Sums of count columns per key, merged across batches with bounded memory."""

    def __init__(self, keys: list[str], values: list[str]) -> None:
        self.keys = keys
        self.values = values
        self._parts: list[pa.Table] = []
        self._rows = 0
        self._limit = _COMPACT_ROWS

    def add(self, counts: pa.Table) -> None:
        """Add a table of ``keys`` + ``values`` columns (several rows may share a key)."""
        self._parts.append(counts.select(self.keys + self.values))
        self._rows += counts.num_rows
        if self._rows > self._limit:
            self._compact()
            self._limit = max(_COMPACT_ROWS, 2 * self._rows)

    def _compact(self) -> None:
        if len(self._parts) <= 1:
            return
        table = sum_by(pa.concat_tables(self._parts), self.keys, self.values)
        self._parts = [table]
        self._rows = table.num_rows

    def table(self) -> pa.Table:
        """One row per key with the summed values (keys as strings, values as int64)."""
        self._compact()
        schema = pa.schema([(k, pa.string()) for k in self.keys]
                           + [(v, pa.int64()) for v in self.values])
        return self._parts[0].cast(schema) if self._parts else schema.empty_table()

    def rows(self) -> list[dict[str, Any]]:
        """:meth:`table` as dicts, largest first value first, equal counts by key."""
        table = self.table()
        order = pc.sort_indices(table, sort_keys=[(self.values[0], "descending")]
                                + [(k, "ascending") for k in self.keys])
        return table.take(order).to_pylist()


def sum_by(table: pa.Table, keys: list[str], values: list[str]) -> pa.Table:
    """``values`` summed per distinct ``keys``: columns ``keys + values``."""
    grouped = table.group_by(keys, use_threads=False).aggregate(
        [(name, "sum") for name in values])
    return grouped.rename_columns({f"{name}_sum": name for name in values}).select(
        keys + values)


def _row_flags(lists: pa.Array, element_mask: pa.Array, n: int) -> np.ndarray:
    """Per row of a list array: does any element match ``element_mask`` (over the
    flattened values)?"""
    flags = np.zeros(n, dtype=bool)
    parents = pc.list_parent_indices(lists).to_numpy()
    mask = pc.fill_null(element_mask, False).to_numpy(zero_copy_only=False)
    flags[parents[mask]] = True
    return flags


def optout_flags(batch: pa.RecordBatch) -> dict[str, np.ndarray]:
    """Per row, each opt-out kind: ``robots`` (a robots.txt rule for an AI crawler),
    ``tdmrep`` (``tdm_reserved``), ``noai`` (a ``noai`` meta or header, for all or one
    bot), ``content_usage`` (a Content-Usage ``train-ai=n``), and ``optout`` (any opt-out:
    ``tdm_reserved`` or any ``ai_optout`` signal, as ``licrawl filter`` counts them)."""
    n = batch.num_rows
    signals = batch.column("ai_optout")
    values = signals.flatten()
    tdm = pc.fill_null(batch.column("tdm_reserved"), False).to_numpy(zero_copy_only=False)
    lengths = pc.fill_null(pc.list_value_length(signals), 0).to_numpy()
    return {
        "robots": _row_flags(signals, pc.starts_with(values, "robots:"), n),
        "tdmrep": tdm,
        "noai": _row_flags(signals, pc.ends_with(values, ":noai"), n),
        "content_usage": _row_flags(signals, pc.starts_with(values, "content-usage:"), n),
        "optout": tdm | (lengths > 0),
    }


def deciding_evidence(batch: pa.RecordBatch) -> np.ndarray:
    """Per row, the index (into the flattened ``license_evidence``) of the piece of
    evidence that decided the claim, -1 for none: the strongest piece with weight > 0
    whose ``spdx`` is the row's license; when none is (a folded or combined expression),
    the strongest piece with weight > 0; the first of equal ones."""
    evidence = batch.column("license_evidence")
    items = evidence.flatten()
    chosen = np.full(batch.num_rows, -1, dtype=np.int64)
    if not len(items):
        return chosen
    parents = pc.list_parent_indices(evidence).to_numpy()
    weight = pc.fill_null(items.field("weight"), 0).to_numpy(zero_copy_only=False)
    licenses = batch.column("license").take(pa.array(parents))
    match = pc.fill_null(pc.equal(items.field("spdx"), licenses), False).to_numpy(
        zero_copy_only=False)
    score = np.where(weight > 0, weight.astype(np.float64) + 2.0 * match, -1.0)
    best = np.full(batch.num_rows, -1.0)
    np.maximum.at(best, parents, score)
    candidates = np.flatnonzero((score >= 0) & (score == best[parents]))
    first = np.ones(len(candidates), dtype=bool)
    first[1:] = parents[candidates[1:]] != parents[candidates[:-1]]
    chosen[parents[candidates[first]]] = candidates[first]
    return chosen


def confidence_bins(confidence: pa.Array) -> np.ndarray:
    """The histogram bin (0..9: tenths, 1.0 in the last) of each confidence, computed in
    double precision."""
    values = pc.fill_null(confidence, 0).to_numpy(zero_copy_only=False).astype(np.float64)
    return np.clip(np.floor(values * CONFIDENCE_BINS), 0, CONFIDENCE_BINS - 1).astype(np.int64)


@dataclass
class Tally:
    """Everything the report counts; :meth:`add` one batch of :data:`COLUMNS` at a time."""

    rows: int = 0
    hosts: GroupCounts = field(default_factory=lambda: GroupCounts(
        ["host", "category"], ["docs", *OPTOUT_KINDS, "optout"]))
    licenses: GroupCounts = field(default_factory=lambda: GroupCounts(
        ["license", "category"], ["docs"]))
    evidence: GroupCounts = field(default_factory=lambda: GroupCounts(["kind"], ["docs"]))
    confidence_claims: np.ndarray = field(
        default_factory=lambda: np.zeros(CONFIDENCE_BINS, dtype=np.int64))
    confidence_noassertion: np.ndarray = field(
        default_factory=lambda: np.zeros(CONFIDENCE_BINS, dtype=np.int64))
    claims: int = 0
    conflicts: int = 0
    deduplicated_rows: int = 0
    cluster_sizes: np.ndarray = field(
        default_factory=lambda: np.zeros(len(SIZE_ORDER), dtype=np.int64))
    removed_copies: int = 0
    conflict_clusters: int = 0
    conflict_pairs: Counter[tuple[str, str]] = field(default_factory=Counter)
    removed_hosts: GroupCounts = field(default_factory=lambda: GroupCounts(["host"], ["docs"]))
    examples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, batch: pa.RecordBatch) -> None:
        """Count one batch."""
        n = batch.num_rows
        if not n:
            return
        start, self.rows = self.rows, self.rows + n
        category = batch.column("license_category")
        if isinstance(category.type, pa.DictionaryType):
            category = category.dictionary_decode()
        flags = optout_flags(batch)
        per_row = pa.table({"host": batch.column("host"), "category": category, "docs":
                            pa.array(np.ones(n, dtype=np.int64)),
                            **{k: pa.array(v.astype(np.int64)) for k, v in flags.items()}})
        self.hosts.add(sum_by(per_row, self.hosts.keys, self.hosts.values))
        self.licenses.add(sum_by(pa.table({
            "license": batch.column("license"), "category": category,
            "docs": pa.array(np.ones(n, dtype=np.int64))}), self.licenses.keys, ["docs"]))

        chosen = deciding_evidence(batch)
        kinds = batch.column("license_evidence").flatten().field("kind").take(
            pa.array(chosen, mask=chosen < 0))
        self.evidence.add(_value_counts(pc.fill_null(kinds, NO_EVIDENCE), "kind"))

        is_claim = pc.not_equal(batch.column("license"), NOASSERTION).to_numpy(
            zero_copy_only=False)
        bins = confidence_bins(batch.column("license_confidence"))
        self.confidence_claims += np.bincount(bins[is_claim], minlength=CONFIDENCE_BINS)
        self.confidence_noassertion += np.bincount(bins[~is_claim], minlength=CONFIDENCE_BINS)
        self.claims += int(is_claim.sum())
        self.conflicts += int(pc.sum(pc.fill_null(batch.column("license_conflict"),
                                                  False)).as_py() or 0)
        self._add_dedup(batch)
        self._add_examples(batch, category, chosen, start)

    def _add_dedup(self, batch: pa.RecordBatch) -> None:
        counts = batch.column("dup_count")
        deduplicated = pc.is_valid(counts)
        if not pc.any(deduplicated).as_py():
            return
        sizes = counts.filter(deduplicated).to_numpy(zero_copy_only=False)
        self.deduplicated_rows += len(sizes)
        self.removed_copies += int(np.maximum(sizes - 1, 0).sum())
        bins = np.searchsorted(np.array(SIZE_LIMITS), sizes, side="left")
        self.cluster_sizes += np.bincount(bins, minlength=len(SIZE_ORDER))
        conflict = pc.fill_null(batch.column("dup_license_conflict"), False)
        for licenses in batch.column("dup_licenses").filter(conflict).to_pylist():
            pair_of = conflicting_licenses(licenses or [])
            self.conflict_clusters += 1
            self.conflict_pairs.update(combinations(pair_of, 2))
        urls = batch.column("dup_urls").flatten()
        if len(urls):
            self.removed_hosts.add(_value_counts(url_hosts(urls), "host"))

    def _add_examples(self, batch: pa.RecordBatch, category: pa.Array, chosen: np.ndarray,
                      start: int) -> None:
        """The first rows of each category, in input order, until it has
        :data:`EXAMPLES_PER_CATEGORY` (``row``: the row's place in the whole input, whose
        ``url`` is filled in later)."""
        needy = [name for name in pc.unique(category).to_pylist()
                 if len(self.examples.get(name, [])) < EXAMPLES_PER_CATEGORY]
        if not needy:
            return
        cats = category.to_numpy(zero_copy_only=False)
        evidence = batch.column("license_evidence").flatten()
        for name in needy:
            rows = self.examples.setdefault(name, [])
            for i in np.flatnonzero(cats == name)[:EXAMPLES_PER_CATEGORY - len(rows)]:
                rows.append({
                    "row": start + int(i),
                    "url": None,
                    "license": batch.column("license")[i].as_py(),
                    "confidence": batch.column("license_confidence")[i].as_py(),
                    "evidence": evidence[int(chosen[i])].as_py() if chosen[i] >= 0 else None,
                })


def url_hosts(urls: pa.Array) -> pa.Array:
    """The lower-case host of each URL (``scheme://[userinfo@]host[:port]/...``, an IPv6
    literal without its brackets, as ``urlsplit(url).hostname``; empty when there is none).
    A split at ``/`` does the common case; a regular expression only runs when some
    authority has a userinfo, a port, a query or a fragment."""
    has_scheme = pc.match_substring(urls, "://")
    parts = pc.split_pattern(pc.if_else(has_scheme, urls, "://"), "/", max_splits=3)
    authority = pc.utf8_lower(pc.list_element(parts, 2))
    odd = pc.match_substring_regex(authority, "[:@?#]")
    if pc.any(odd).as_py():
        found = pc.extract_regex(authority, _HOST)
        host = pc.binary_join_element_wise(found.field("v6"), found.field("name"), "")
        authority = pc.if_else(odd, pc.fill_null(host, ""), authority)
    return authority


def _value_counts(values: pa.Array, name: str) -> pa.Table:
    counts = pc.value_counts(values)
    return pa.table({name: counts.field("values"), "docs": counts.field("counts")})
