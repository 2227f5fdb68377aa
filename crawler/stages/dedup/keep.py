"""Which copy of a duplicate cluster is kept: the keep rules and the columns they rank by.

Every rule ends in the smallest ``id``, so the kept copy is one and the same whatever the
input order or the number of workers.

* ``license`` (default): the copy whose license claim is best supported (a page-level
  grant over a site-level one over a site policy, then higher ``license_confidence``),
  then the likely original (its canonical URL is itself, then earliest ``published``, then
  earliest ``fetched_at``), then the smallest id;
* ``original``: the likely original first, then the license claim, then the smallest id;
* ``first-fetched``: the earliest ``fetched_at``, then the smallest id.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from crawler.core.evidence import Kind, Where
from crawler.licenses.ids import NOASSERTION

KEEP_RULES = ("license", "original", "first-fetched")
DEFAULT_KEEP = "license"

LEVEL_COLUMN = "_claim_level"
CANONICAL_COLUMN = "_canonical_rank"

# How a claim's best supporting evidence is placed: 3 page, 2 site (page furniture or
# structured data about the site), 1 site policy page, 0 no support.
_SITE_PLACES = (Where.FOOTER, Where.SIDEBAR, Where.PAGE_HEADER, Where.NAV)
_SITE_QUALIFIERS = ("site",)


def _level_of_place(where: pa.Array, kind: pa.Array) -> pa.Array:
    """The claim level (int8) each evidence entry gives, from its ``where`` and ``kind``."""
    place = pc.utf8_lower(pc.fill_null(where, ""))
    head = pc.replace_substring_regex(place, r":.*$", "")
    qualifier = pc.replace_substring_regex(place, r"^[^:]*:?", "")
    site_policy = pc.or_(pc.equal(head, str(Where.SITE_POLICY)),
                         pc.equal(pc.fill_null(kind, ""), str(Kind.SITE_POLICY)))
    site_place = pc.is_in(head, value_set=pa.array([str(w) for w in _SITE_PLACES]))
    site_qualifier = pc.is_in(qualifier, value_set=pa.array(list(_SITE_QUALIFIERS)))
    other_qualifier = pc.and_(pc.greater(pc.utf8_length(qualifier), 0),
                              pc.invert(site_qualifier))
    level = pc.case_when(
        pc.make_struct(other_qualifier, site_policy, pc.or_(site_place, site_qualifier)),
        pa.scalar(0, pa.int8()), pa.scalar(1, pa.int8()), pa.scalar(2, pa.int8()),
        pa.scalar(3, pa.int8()))
    return level


def claim_levels(batch: pa.RecordBatch) -> pa.Array:
    """Per row, how well its license claim is supported: the best level among the evidence
    entries that name the row's license (0 for ``NOASSERTION`` or no such entry)."""
    evidence = batch.column("license_evidence")
    licenses = batch.column("license")
    levels = pa.array([0] * batch.num_rows, pa.int8())
    flat = pc.list_flatten(evidence)
    if len(flat) == 0:
        return levels
    parents = pc.list_parent_indices(evidence)
    own = pc.equal(pc.fill_null(flat.field("spdx"), ""), licenses.take(parents))
    own = pc.and_(own, pc.not_equal(licenses.take(parents), NOASSERTION))
    level = pc.if_else(own, _level_of_place(flat.field("where"), flat.field("kind")),
                       pa.scalar(0, pa.int8()))
    best = pa.table({"row": parents, "level": level}).group_by("row").aggregate(
        [("level", "max")])
    rows = best.column("row").to_numpy()
    values = levels.to_numpy(zero_copy_only=False).copy()
    values[rows] = best.column("level_max").to_numpy()
    return pa.array(values, pa.int8())


def canonical_ranks(batch: pa.RecordBatch) -> pa.Array:
    """Per row: 2 when its canonical URL is its own URL, 1 when it has none, 0 when it
    points elsewhere (the page says it is a copy)."""
    url = pc.utf8_rtrim(batch.column("url"), "/")
    canonical = batch.column("canonical_url")
    same = pc.equal(pc.utf8_rtrim(canonical, "/"), url)
    return pc.case_when(pc.make_struct(pc.is_null(canonical), same),
                        pa.scalar(1, pa.int8()), pa.scalar(2, pa.int8()),
                        pa.scalar(0, pa.int8()))


def sort_keys(rule: str) -> list[tuple[str, str, str]]:
    """The (column, order, null placement) keys that rank copies under ``rule``, best
    first; missing values (a ``published`` date) sort last."""
    license_claim = [(LEVEL_COLUMN, "descending"), ("license_confidence", "descending")]
    original = [(CANONICAL_COLUMN, "descending"), ("published", "ascending"),
                ("fetched_at", "ascending")]
    if rule == "license":
        keys = license_claim + original
    elif rule == "original":
        keys = original + license_claim
    elif rule == "first-fetched":
        keys = [("fetched_at", "ascending")]
    else:
        raise ValueError(f"unknown keep rule {rule!r}: use one of {', '.join(KEEP_RULES)}")
    return [(name, order, "at_end") for name, order in keys + [("id", "ascending")]]
