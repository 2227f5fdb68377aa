"""The attribution manifest of a filtered subset: whom to credit, for each kept document.

Two files, written batch by batch (bounded memory):

- ``attribution.parquet``: one row per document with ``id``, ``url``, ``title``,
  ``authors``, ``copyright``, ``license``, ``license_name``, ``license_url``,
  ``no_license``, ``attribution`` (one TASL line: title, author, source, license) and
  ``other_urls`` (for ``licrawl dedup`` output: the other URLs that carry the same text).
- ``ATTRIBUTION.txt``: the same, readable, one block per document with what Creative
  Commons licenses ask of a reuser (CC BY 4.0 §3(a)(1)): the creator, the copyright notice,
  the title, the source link, the license name and link, and an indication of changes
  ("text extracted from the original HTML").

A work without a license (all rights reserved, or no license found: :func:`has_no_license`)
can be in a subset whose rules allow it (``attributed`` without a policy, or a policy that
allows the ``reserved`` category). The manifest says so plainly for each such work
(``no_license`` true, "License: no license ..." and a note in its block), and the header of
``ATTRIBUTION.txt`` counts them instead of claiming every work is licensed.

Strings are built with vectorized ``pyarrow.compute`` joins; license names and URLs are
looked up once per distinct license expression.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from crawler.licenses import license_info
from crawler.licenses.ids import ALL_RIGHTS_RESERVED
from crawler.stages.filter.policy import expression_ids

MANIFEST_PARQUET = "attribution.parquet"
ROW_GROUP_ROWS = 65_536
MANIFEST_TEXT = "ATTRIBUTION.txt"
CHANGES = "text extracted from the original HTML"
NOASSERTION = "NOASSERTION"

MANIFEST_SCHEMA = pa.schema([
    pa.field("id", pa.string(), nullable=False),
    pa.field("url", pa.string(), nullable=False),
    pa.field("title", pa.string()),
    pa.field("authors", pa.list_(pa.string())),
    pa.field("copyright", pa.string()),
    pa.field("license", pa.string(), nullable=False),
    pa.field("license_name", pa.string()),
    pa.field("license_url", pa.string()),
    pa.field("no_license", pa.bool_(), nullable=False),
    pa.field("attribution", pa.string(), nullable=False),
    pa.field("other_urls", pa.list_(pa.string()), nullable=False),
])

TEXT_TITLE = """\
Attribution for the documents of this dataset
=============================================

"""
TEXT_INTRO = """\
Each document below was collected from the web page given as its source. Its text was
extracted from the original HTML page (boilerplate such as menus, headers and footers was
removed); no other change was made. Copyright in each work stays with its author(s) as
noted.

A work with a license is used under the license named with it, at the link given; it is
provided by its licensor "as is", without warranties of any kind.
"""
TEXT_NO_LICENSE = """\
A work whose license reads "no license" has none: its author reserves all rights, or no
license was found for it. It is included only because the rules of this subset allow
works without a license; no permission to reuse it is given or implied.
"""

#: What the "License:" line and the attribution line say for a work without a license.
RESERVED_LABEL = "no license (all rights reserved)"
NOT_FOUND_LABEL = "no license found (NOASSERTION)"
NO_LICENSE_NOTE = ("  Note: no license to reuse this work is known; it is included only because\n"
                   "        the rules of this subset allow works without a license.\n")


def _ids(expression: str | None) -> list[str] | None:
    """The ids of ``expression`` (``[]`` when empty), ``None`` when it is not valid."""
    if not (expression or "").strip():
        return []
    try:
        return expression_ids(expression or "")
    except ValueError:
        return None


def has_no_license(expression: str | None) -> bool:
    """True when ``expression`` grants no license: ``NOASSERTION`` (or empty), or all rights
    reserved and nothing else (a compound with a real license is not "no license"; an
    invalid expression is shown as written)."""
    ids = _ids(expression)
    return ids is not None and all(i in (NOASSERTION, "NONE", ALL_RIGHTS_RESERVED)
                                   for i in ids)


def no_license_label(expression: str | None) -> str | None:
    """The "License:" wording of a work without a license (``None`` for a licensed work)."""
    if not has_no_license(expression):
        return None
    return RESERVED_LABEL if ALL_RIGHTS_RESERVED in (_ids(expression) or []) \
        else NOT_FOUND_LABEL


def text_header(documents: int, without_license: int) -> str:
    """The header of ``ATTRIBUTION.txt`` for ``documents`` works, ``without_license`` of
    which have no license."""
    if not without_license:
        return TEXT_TITLE + TEXT_INTRO + "\n"
    count = (f"This dataset holds {documents:,} document{'s' if documents != 1 else ''}; "
             f"{without_license:,} of them {'has' if without_license == 1 else 'have'} "
             "no license.\n\n")
    return TEXT_TITLE + count + TEXT_INTRO + "\n" + TEXT_NO_LICENSE + "\n"


def license_details(expression: str) -> tuple[str | None, str | None]:
    """(readable name, URL) of an SPDX expression; ids of a compound expression are named
    one by one and their URLs joined with a space. ``NOASSERTION`` has neither; a value that
    is not a valid expression is named as written, without a URL."""
    if expression == NOASSERTION:
        return None, None
    ids = _ids(expression)
    if ids is None:
        return expression, None
    infos = {i: license_info(i) for i in ids}
    name = re.sub(r"[^\s()]+", lambda m: infos[m[0]].name if m[0] in infos else m[0],
                  expression)
    urls = dict.fromkeys(info.url for info in infos.values() if info.url)
    return name, " ".join(urls) or None


class LicenseLookup:
    """License name, URL and "no license" wording columns for a license column, one lookup
    per distinct value."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[str | None, str | None, str | None]] = {}

    def columns(self, licenses: pa.Array) -> tuple[pa.Array, pa.Array, pa.Array]:
        """(names, URLs, no-license labels: null for a licensed work) for ``licenses``."""
        encoded = pc.dictionary_encode(licenses)
        values = encoded.dictionary.to_pylist()
        details = [self._details(v) for v in values]
        names, urls, labels = (pa.array([d[k] for d in details], pa.string())
                               for k in range(3))
        return (names.take(encoded.indices), urls.take(encoded.indices),
                labels.take(encoded.indices))

    def _details(self, expression: str) -> tuple[str | None, str | None, str | None]:
        if expression not in self._cache:
            self._cache[expression] = (*license_details(expression),
                                       no_license_label(expression))
        return self._cache[expression]


def _join(*parts: pa.Array | str) -> pa.Array:
    """Concatenate string arrays and literals element-wise; nulls count as empty."""
    return pc.binary_join_element_wise(*parts, "", null_handling="replace",
                                       null_replacement="")


def _when(mask: pa.Array, value: pa.Array) -> pa.Array:
    """``value`` where ``mask`` holds, else the empty string."""
    return pc.if_else(mask, value, "")


def _non_empty(values: pa.Array) -> pa.Array:
    return pc.fill_null(pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(values)), 0), False)


def manifest_batch(batch: pa.RecordBatch, names: pa.Array, urls: pa.Array,
                   no_license: pa.Array) -> tuple[pa.RecordBatch, pa.Array]:
    """(manifest rows, text blocks) for kept record rows, their license names and URLs, and
    the "no license" wording of each row (null for a licensed work)."""
    title, url, copyright_ = (batch.column(c) for c in ("title", "url", "copyright"))
    authors = batch.column("authors")
    who = pc.binary_join(authors, ", ")
    has_author = _non_empty(who)
    has_title = _non_empty(title)
    has_copyright = _non_empty(copyright_)
    unlicensed = pc.is_valid(no_license)
    has_license_url = pc.and_(pc.is_valid(urls), pc.invert(unlicensed))
    others = pc.fill_null(batch.column("dup_urls"), pa.scalar([], pa.list_(pa.string())))
    has_others = pc.fill_null(pc.greater(pc.list_value_length(others), 0), False)
    credit = pc.if_else(has_author, who, copyright_)
    has_credit = _non_empty(credit)
    license_text = pc.coalesce(no_license, names, NOT_FOUND_LABEL)
    line = _join(
        pc.if_else(has_title, _join('"', title, '"'), url),
        _when(has_credit, _join(" by ", credit)),
        _when(has_title, _join(", ", url)),
        ", ", license_text,
        _when(has_license_url, _join(" (", urls, ")")),
        "; ", CHANGES,
    )
    block = _join(
        pc.if_else(has_title, title, "(untitled)"), "\n",
        _when(has_author, _join("  Author: ", who, "\n")),
        _when(has_copyright, _join("  Copyright: ", copyright_, "\n")),
        "  Source: ", url, "\n",
        "  License: ", license_text, _when(has_license_url, _join(" <", urls, ">")), "\n",
        _when(unlicensed, pa.scalar(NO_LICENSE_NOTE)),
        _when(has_others, _join("  Also at: ", pc.binary_join(others, "\n           "),
                                "\n")),
        "  Changes: ", CHANGES, "\n\n",
    )
    rows = pa.RecordBatch.from_arrays(
        [batch.column("id"), url, title, authors, copyright_, batch.column("license"),
         names, urls, unlicensed, line, others],
        schema=MANIFEST_SCHEMA,
    )
    return rows, block


def _write_strings(fh: object, values: pa.Array) -> None:
    """Write the concatenation of a string array's values, straight from its data buffer."""
    if len(values) == 0:
        return
    _, offset_buffer, data = values.buffers()
    offsets = pa.Array.from_buffers(pa.int32(), len(values) + 1, [None, offset_buffer],
                                    offset=values.offset)
    start, end = offsets[0].as_py(), offsets[len(values)].as_py()
    fh.write(memoryview(data)[start:end])  # type: ignore[attr-defined]


class ManifestWriter:
    """Writes the two manifest files for one worker; merge parts with :func:`merge_manifests`."""

    def __init__(self, parquet_path: Path, text_path: Path) -> None:
        self.parquet_path = parquet_path
        self.text_path = text_path
        self._writer = pq.ParquetWriter(parquet_path, MANIFEST_SCHEMA, compression="zstd")
        self._text = open(text_path, "wb")  # noqa: SIM115 - closed in close()
        self._lookup = LicenseLookup()
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0
        self.rows = 0

    def add(self, batch: pa.RecordBatch) -> None:
        """Add kept record rows (a batch of the record schema)."""
        if batch.num_rows == 0:
            return
        names, urls, no_license = self._lookup.columns(batch.column("license"))
        rows, blocks = manifest_batch(batch, names, urls, no_license)
        self._pending.append(rows)
        self._pending_rows += rows.num_rows
        if self._pending_rows >= ROW_GROUP_ROWS:
            self._flush()
        _write_strings(self._text, blocks)
        self.rows += batch.num_rows

    def _flush(self) -> None:
        """Write the pending manifest rows as one row group."""
        if self._pending:
            self._writer.write_table(pa.Table.from_batches(self._pending, MANIFEST_SCHEMA),
                                     row_group_size=self._pending_rows)
        self._pending, self._pending_rows = [], 0

    def close(self) -> None:
        """Finish both files."""
        self._flush()
        self._writer.close()
        self._text.close()

    def abort(self) -> None:
        """Close both files without writing pending rows (their folder is being dropped)."""
        self._pending, self._pending_rows = [], 0
        self._writer.close()
        self._text.close()


def merge_manifests(parts: list[tuple[Path, Path]], out_dir: Path) -> int:
    """Merge worker parts into ``out_dir/attribution.parquet`` and ``out_dir/ATTRIBUTION.txt``
    (streamed, row group by row group); returns the number of rows. The text header counts
    the works without a license (read first from the parts' ``no_license`` column)."""
    documents = without_license = 0
    for parquet_part, _ in parts:
        flags = pq.read_table(parquet_part, columns=["no_license"]).column("no_license")
        documents += len(flags)
        without_license += pc.sum(flags).as_py() or 0
    rows = 0
    with pq.ParquetWriter(out_dir / MANIFEST_PARQUET, MANIFEST_SCHEMA,
                          compression="zstd") as writer, \
            open(out_dir / MANIFEST_TEXT, "wb") as text:
        text.write(text_header(documents, without_license).encode())
        for parquet_part, text_part in parts:
            part = pq.ParquetFile(parquet_part)
            for i in range(part.num_row_groups):
                table = part.read_row_group(i)
                writer.write_table(table)
                rows += table.num_rows
            with open(text_part, "rb") as src:
                shutil.copyfileobj(src, text)
    return rows
