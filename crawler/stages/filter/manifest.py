"""The attribution manifest of a filtered subset: whom to credit, for each kept document.

Two files, written batch by batch (bounded memory):

- ``attribution.parquet``: one row per document with ``id``, ``url``, ``title``,
  ``authors``, ``copyright``, ``license``, ``license_name``, ``license_url`` and
  ``attribution`` (one TASL line: title, author, source, license).
- ``ATTRIBUTION.txt``: the same, readable, one block per document with what Creative
  Commons licenses ask of a reuser (CC BY 4.0 §3(a)(1)): the creator, the copyright notice,
  the title, the source link, the license name and link, and an indication of changes
  ("text extracted from the original HTML").

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
    pa.field("attribution", pa.string(), nullable=False),
])

TEXT_HEADER = """\
Attribution for the documents of this dataset
=============================================

Each document below was collected from the web page given as its source. Its text was
extracted from the original HTML page (boilerplate such as menus, headers and footers was
removed); no other change was made. Each work is used under the license named with it, at
the link given; it is provided by its licensor "as is", without warranties of any kind.
Copyright in each work stays with its author(s) as noted.

"""


def license_details(expression: str) -> tuple[str | None, str | None]:
    """(readable name, URL) of an SPDX expression; ids of a compound expression are named
    one by one and their URLs joined with a space. ``NOASSERTION`` has neither."""
    if expression == NOASSERTION:
        return None, None
    infos = {i: license_info(i) for i in expression_ids(expression)}
    name = re.sub(r"[^\s()]+", lambda m: infos[m[0]].name if m[0] in infos else m[0],
                  expression)
    urls = dict.fromkeys(info.url for info in infos.values() if info.url)
    return name, " ".join(urls) or None


class _LicenseLookup:
    """License name and URL columns for a license column, one lookup per distinct value."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[str | None, str | None]] = {}

    def columns(self, licenses: pa.Array) -> tuple[pa.Array, pa.Array]:
        encoded = pc.dictionary_encode(licenses)
        values = encoded.dictionary.to_pylist()
        details = [self._details(v) for v in values]
        names = pa.array([d[0] for d in details], pa.string())
        urls = pa.array([d[1] for d in details], pa.string())
        return names.take(encoded.indices), urls.take(encoded.indices)

    def _details(self, expression: str) -> tuple[str | None, str | None]:
        if expression not in self._cache:
            self._cache[expression] = license_details(expression)
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


def manifest_batch(batch: pa.RecordBatch, names: pa.Array, urls: pa.Array
                   ) -> tuple[pa.RecordBatch, pa.Array]:
    """(manifest rows, text blocks) for kept record rows and their license names and URLs."""
    title, url, copyright_ = (batch.column(c) for c in ("title", "url", "copyright"))
    authors = batch.column("authors")
    who = pc.binary_join(authors, ", ")
    has_author = _non_empty(who)
    has_title = _non_empty(title)
    has_copyright = _non_empty(copyright_)
    has_license_url = pc.is_valid(urls)
    credit = pc.if_else(has_author, who, copyright_)
    has_credit = _non_empty(credit)
    license_text = pc.coalesce(names, "no license asserted")
    line = _join(
        pc.if_else(has_title, _join('"', title, '"'), url),
        _when(has_credit, _join(" by ", credit)),
        _when(has_title, _join(", ", url)),
        ", ", license_text, _when(has_license_url, _join(" (", urls, ")")),
        "; ", CHANGES,
    )
    block = _join(
        pc.if_else(has_title, title, "(untitled)"), "\n",
        _when(has_author, _join("  Author: ", who, "\n")),
        _when(has_copyright, _join("  Copyright: ", copyright_, "\n")),
        "  Source: ", url, "\n",
        "  License: ", license_text, _when(has_license_url, _join(" <", urls, ">")), "\n",
        "  Changes: ", CHANGES, "\n\n",
    )
    rows = pa.RecordBatch.from_arrays(
        [batch.column("id"), url, title, authors, copyright_, batch.column("license"),
         names, urls, line],
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
        self._lookup = _LicenseLookup()
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0
        self.rows = 0

    def add(self, batch: pa.RecordBatch) -> None:
        """Add kept record rows (a batch of the record schema)."""
        if batch.num_rows == 0:
            return
        names, urls = self._lookup.columns(batch.column("license"))
        rows, blocks = manifest_batch(batch, names, urls)
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
    (streamed, row group by row group); returns the number of rows."""
    rows = 0
    with pq.ParquetWriter(out_dir / MANIFEST_PARQUET, MANIFEST_SCHEMA,
                          compression="zstd") as writer, \
            open(out_dir / MANIFEST_TEXT, "wb") as text:
        text.write(TEXT_HEADER.encode())
        for parquet_part, text_part in parts:
            part = pq.ParquetFile(parquet_part)
            for i in range(part.num_row_groups):
                table = part.read_row_group(i)
                writer.write_table(table)
                rows += table.num_rows
            with open(text_part, "rb") as src:
                shutil.copyfileobj(src, text)
    return rows
