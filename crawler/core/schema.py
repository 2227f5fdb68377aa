"""The document record schema, loaded once from ``schemas/record.json``.

The JSON file is the single definition of the record (SPEC section 1). This module turns
it into a :class:`pyarrow.Schema` whose metadata carries the schema name and version, so
every shard says which contract it follows.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

SCHEMA_NAME_KEY = b"licrawl.schema"
SCHEMA_VERSION_KEY = b"licrawl.schema_version"


@cache
def _simple_types() -> dict[str, pa.DataType]:
    import pyarrow as pa  # loaded on first use: the record's column names need no Arrow

    return {
        "string": pa.string(),
        "bool": pa.bool_(),
        "int16": pa.int16(),
        "int32": pa.int32(),
        "int64": pa.int64(),
        "float32": pa.float32(),
        "float64": pa.float64(),
        "timestamp[us, UTC]": pa.timestamp("us", tz="UTC"),
        "dictionary<string>": pa.dictionary(pa.int32(), pa.string()),
    }


def _split_top_level(spec: str) -> list[str]:
    """Split ``a: x, b: list<y>`` on the commas that are not inside ``<>``."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(spec):
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(spec[start:i].strip())
            start = i + 1
    parts.append(spec[start:].strip())
    return [p for p in parts if p]


def parse_type(spec: str) -> pa.DataType:
    """Turn a type string of ``record.json`` (``list<struct<a: string>>``) into an Arrow type."""
    import pyarrow as pa

    spec = spec.strip()
    simple = _simple_types()
    if spec in simple:
        return simple[spec]
    m = re.fullmatch(r"list<(.+)>", spec)
    if m:
        return pa.list_(parse_type(m.group(1)))
    m = re.fullmatch(r"struct<(.+)>", spec)
    if m:
        fields = []
        for part in _split_top_level(m.group(1)):
            name, _, sub = part.partition(":")
            fields.append(pa.field(name.strip(), parse_type(sub)))
        return pa.struct(fields)
    raise ValueError(f"unknown type in record schema: {spec!r}")


@cache
def schema_definition() -> dict[str, Any]:
    """The parsed ``record.json``."""
    text = resources.files("crawler.schemas").joinpath("record.json").read_text("utf-8")
    return json.loads(text)


def schema_version() -> str:
    """Version of the record schema, e.g. ``"1.0"``."""
    return str(schema_definition()["version"])


@cache
def record_schema() -> pa.Schema:
    """The Arrow schema of a document row, with name and version in its metadata."""
    import pyarrow as pa

    definition = schema_definition()
    fields = [
        pa.field(
            f["name"], parse_type(f["type"]), nullable=f["nullable"], metadata={"doc": f["doc"]}
        )
        for f in definition["fields"]
    ]
    meta = {
        SCHEMA_NAME_KEY: definition["name"].encode(),
        SCHEMA_VERSION_KEY: definition["version"].encode(),
    }
    return pa.schema(fields, metadata=meta)


def column_names() -> list[str]:
    """Names of the record's columns, in schema order."""
    return [f["name"] for f in schema_definition()["fields"]]


def optional_column_names() -> list[str]:
    """Columns added in a minor version: a shard of an older 1.x version may lack them
    (readers fill them with nulls); writers always write them."""
    return [f["name"] for f in schema_definition()["fields"] if f.get("optional")]


def required_column_names() -> list[str]:
    """Columns every shard of this major version has, in schema order."""
    return [f["name"] for f in schema_definition()["fields"] if not f.get("optional")]
