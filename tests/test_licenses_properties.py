"""Property tests (hypothesis) of the SPDX vocabulary and the stores that carry it.

- every id the mappers can emit, built from the mapping tables of ``crawler.licenses``
  (``urls``, ``names``, ``ids``) by running the mappers on inputs made from those tables,
  survives a license-expression round trip (alone and in compound expressions) and goes
  into an SPDX document;
- ``spdx_from_url`` gives the same id for every spelling of a Creative Commons URL of the
  tables: scheme, ``www.``, case, trailing slash, ``deed.xx`` and ``legalcode`` variants;
- rows generated within the record schema survive a shard and SPDX write-then-read round
  trip through the real ``ShardWriter``.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st
from spdx_tools.spdx.parser.parse_anything import parse_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from crawler.core.schema import optional_column_names, record_schema
from crawler.licenses import (
    CATEGORY_ORDER,
    category,
    expression_ids,
    license_info,
    normalize_expression,
    or_terms,
    spdx_from_name,
    spdx_from_url,
)
from crawler.licenses import ids as known
from crawler.licenses import names as name_table
from crawler.licenses import urls as url_table
from crawler.licenses.expressions import parse
from crawler.store import spdx
from crawler.store.shards import ShardWriter

# -- the ids the mappers can emit, from the tables ------------------------------------------

# creativecommons.org path segments of each CC type ("BY-NC-SA" -> "by-nc-sa")
CC_PATHS = sorted(t.lower() for t in known.CC_TYPES)
CC_VERSIONS = sorted(known.CC_VERSIONS)
CC_PORTS = sorted(known.CC_PORTS)


def _cc_paths() -> list[str]:
    """Every CC license path of the tables: type, type/version, type/version/port."""
    paths = []
    for ctype in CC_PATHS:
        paths.append(f"licenses/{ctype}")
        for version in CC_VERSIONS:
            paths.append(f"licenses/{ctype}/{version}")
            paths += [f"licenses/{ctype}/{version}/{port}" for port in CC_PORTS]
    paths += ["licenses/publicdomain", "publicdomain/zero/1.0", "publicdomain/mark/1.0",
              "publicdomain/zero", "publicdomain/mark"]
    return paths


@cache
def mapper_inputs() -> dict[str, list[str]]:
    """Inputs for the mappers, made from their tables: license URLs and license names."""
    spdx_list = [key for key, _ in known.spdx_symbols()]
    url_inputs = [f"https://creativecommons.org/{path}/" for path in _cc_paths()]
    url_inputs += [f"https://i.creativecommons.org/l/{path.removeprefix('licenses/')}/88x31.png"
                   for path in _cc_paths() if path.startswith("licenses/")]
    url_inputs += [f"https://spdx.org/licenses/{key}.html" for key in spdx_list]
    url_inputs += [f"https://opensource.org/licenses/{key}" for key in spdx_list]
    url_inputs += [f"https://choosealicense.com/licenses/{key.lower()}/" for key in spdx_list]
    url_inputs += [f"https://opensource.org/licenses/{name}" for name in url_table._OSI_OLD]
    url_inputs += [f"https://www.w3.org/{path}" for path in url_table._W3C]
    url_inputs += [f"https://opendatacommons.org/licenses/{name}/1.0/" for name in url_table._ODC]
    url_inputs += [f"https://www.gnu.org/licenses/{family.lower()}{version}.html"
                   for family in ("gpl", "lgpl", "agpl", "fdl")
                   for version in ("", "-1.1", "-1.2", "-1.3", "-2.0", "-2.1", "-3.0")]
    url_inputs += [f"https://www.nationalarchives.gov.uk/doc/open-government-licence/{rest}"
                   for rest in ("", "version/1/", "version/2/", "version/3/")]
    url_inputs += ["https://unlicense.org/", "https://www.apache.org/licenses/LICENSE-2.0",
                   "https://www.openwebfoundation.org/the-agreements/the-owf-1-0-agreements-"
                   "granted-claims/owfa-1-0"]
    name_inputs = [f"CC {t.replace('-', ' ')} {v} {port}".strip()
                   for t in known.CC_TYPES for v in CC_VERSIONS
                   for port in ("", *sorted(set(known.PORT_NAMES.values())))]
    name_inputs += [f"Creative Commons {t}" for t in known.CC_TYPES]
    name_inputs += [f"GNU {family} {version}{later}"
                    for family in ("GPL", "LGPL", "AGPL", "FDL")
                    for version in ("", "1.1", "1.2", "1.3", "2", "2.1", "3")
                    for later in ("", " or any later version")]
    name_inputs += ["Open Government Licence v3.0", "Open Government Licence - Canada 2.0",
                    "Open Government Licence", "Apache License", "Apache License, Version 2.0",
                    "MIT License", "ODbL", "ODC-By", "PDDL", "The Unlicense", "CC0",
                    "Public Domain Mark", "All rights reserved", "public domain",
                    "Creative Commons Public Domain Dedication"]
    name_inputs += spdx_list  # spdx_from_name accepts SPDX ids in any case
    return {"url": url_inputs, "name": name_inputs}


@cache
def emitted_ids() -> list[str]:
    """Every id the mappers emit for :func:`mapper_inputs`, plus the declared ids of the
    tables (``ids`` constants, ``names``' fixed ids)."""
    found = {spdx_from_url(u) for u in mapper_inputs()["url"]}
    found |= {spdx_from_name(n) for n in mapper_inputs()["name"]}
    found |= {value for name, value in vars(known).items()
              if name.isupper() and isinstance(value, str) and value.startswith("LicenseRef-")}
    found |= set(name_table._SIMPLE.values())
    found |= {known.gnu_unversioned(family) for family in known.GNU_FAMILIES}
    found.discard(None)
    return sorted(found)  # type: ignore[arg-type]


def test_the_tables_give_many_ids() -> None:
    ids = emitted_ids()
    assert len(ids) > 900  # the SPDX list, every CC type/version/port, the declared ids
    assert {"CC-BY-SA-3.0-DE", "LicenseRef-CC-BY-SA-3.0-ES", "GFDL-1.3-only",
            "LicenseRef-CC-BY-NC-unversioned", "OGL-UK-3.0", known.PUBLIC_DOMAIN} <= set(ids)


def test_every_emitted_id_round_trips() -> None:
    """All of them, not a sample: one bad id in the tables is one wrong row."""
    failures = {}
    for spdx_id in emitted_ids():
        try:
            assert normalize_expression(spdx_id) == spdx_id
            assert parse(spdx_id).render() == spdx_id
            assert expression_ids(spdx_id) == [spdx_id]
            assert or_terms(spdx_id) == [spdx_id]
            assert category(spdx_id) in CATEGORY_ORDER
            spdx.check_licenses(spdx_id, [spdx_id])
            if spdx_id.startswith("LicenseRef-"):
                assert license_info(spdx_id).name
        except (AssertionError, ValueError) as err:
            failures[spdx_id] = repr(err)
    assert failures == {}


ids_strategy = st.deferred(lambda: st.sampled_from(emitted_ids()))


@st.composite
def expressions(draw: st.DrawFn, depth: int = 2) -> str:
    """A normalized compound expression of emitted ids (``A``, ``A OR B``, ``(A AND B) OR
    C``...), written with parentheses around every compound operand."""
    if depth == 0 or draw(st.booleans()):
        return draw(ids_strategy)
    operator = draw(st.sampled_from([" OR ", " AND "]))
    terms = draw(st.lists(expressions(depth=depth - 1), min_size=2, max_size=3))
    return operator.join(f"({t})" if " " in t else t for t in terms)


@settings(max_examples=150, deadline=None)
@given(expressions())
def test_compound_expressions_round_trip(expr: str) -> None:
    normalized = normalize_expression(expr)
    assert normalize_expression(normalized) == normalized
    assert parse(normalized) == parse(expr)
    assert expression_ids(normalized) == expression_ids(expr)
    assert sorted(set(expression_ids(expr))) == sorted(
        {t for t in expression_ids(expr) if t in emitted_ids()})
    assert category(expr) in CATEGORY_ORDER
    spdx.check_licenses(expr, [expr])
    if " OR " not in expr:
        assert or_terms(expr) == [normalized]


atoms = st.deferred(lambda: st.one_of(
    ids_strategy,
    st.sampled_from(sorted(known.spdx_exceptions())),
    st.from_regex(r"LicenseRef-[A-Za-z0-9.-]{1,8}", fullmatch=True),
    st.sampled_from(["Foo-1.0", "DocumentRef-x:LicenseRef-y", "NOASSERTION", "NONE", "mit"]),
))


@st.composite
def any_expressions(draw: st.DrawFn, depth: int = 2) -> str:
    """Expressions valid or not: emitted ids, exceptions, made-up and special ids, joined
    by AND, OR and WITH in any position."""
    if depth == 0 or draw(st.booleans()):
        return draw(atoms)
    operator = draw(st.sampled_from([" OR ", " AND ", " WITH "]))
    left, right = draw(any_expressions(depth=depth - 1)), draw(any_expressions(depth=depth - 1))
    return operator.join(f"({t})" if " " in t else t for t in (left, right))


@settings(max_examples=200, deadline=None)
@given(any_expressions())
def test_what_the_shard_writer_accepts_the_spdx_validator_accepts(expr: str) -> None:
    """The shard writer checks each row's license when it is written; a value it lets
    through but spdx-tools' validator refuses would fail the whole shard at its end."""
    try:
        spdx.check_licenses(expr, [expr])
    except ValueError:
        return
    row = {"id": "r", "url": "https://example.org/r", "text_sha1": "0" * 40, "license": expr,
           "license_evidence": [{"spdx": expr}]}
    doc = spdx.build_document([row], name="p.parquet", namespace="https://example.org/p")
    assert validate_full_spdx_document(doc) == []


# -- spdx_from_url: spellings of every CC URL of the tables ---------------------------------

cc_url_paths = st.deferred(lambda: st.sampled_from(_cc_paths()))


@st.composite
def cc_spellings(draw: st.DrawFn) -> tuple[str, str]:
    """(canonical URL, another spelling of it) for a CC path of the tables."""
    path = draw(cc_url_paths)
    canonical = f"https://creativecommons.org/{path}/"
    scheme = draw(st.sampled_from(["http://", "https://", "//", ""]))
    host = draw(st.sampled_from(["creativecommons.org", "www.creativecommons.org"]))
    suffix = draw(st.sampled_from(["", "deed", "legalcode", "legalcode.txt", "rdf"])
                  | st.builds(lambda kind, lang: f"{kind}.{lang}",
                              st.sampled_from(["deed", "legalcode"]),
                              st.sampled_from(["en", "de", "fr", "es", "zh-hans", "pt_br"])))
    slash = draw(st.sampled_from(["", "/"]))
    url = f"{scheme}{host}/{path}" + (f"/{suffix}" if suffix else "") + slash
    flips = draw(st.lists(st.booleans(), min_size=len(url), max_size=len(url)))
    url = "".join(c.upper() if flip else c for c, flip in zip(url, flips, strict=True))
    return canonical, url


@settings(max_examples=200, deadline=None)
@given(cc_spellings())
def test_cc_url_spellings_map_to_the_same_id(pair: tuple[str, str]) -> None:
    canonical, spelling = pair
    assert spdx_from_url(spelling) == spdx_from_url(canonical)


def test_every_cc_url_of_the_tables_maps() -> None:
    """Each canonical CC URL of the tables names a license (the property above then says
    every spelling does): versions the tables know, ports the tables know."""
    unmapped = [p for p in _cc_paths() if spdx_from_url(f"https://creativecommons.org/{p}/")
                is None]
    assert unmapped == []


# -- shard and SPDX write-then-read round trips ---------------------------------------------

_TEXT = st.text(min_size=1, max_size=40)
_OPTIONAL_TEXT = st.none() | st.text(max_size=30)
_FLOAT32 = st.floats(min_value=0, max_value=1, width=32)
_WHEN = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                     timezones=st.just(UTC))


@st.composite
def rows(draw: st.DrawFn) -> dict[str, Any]:
    """A record within the schema, its license values from the emitted ids."""
    text = draw(_TEXT)
    url = "https://" + draw(st.sampled_from(["example.org", "b.example"])) + "/" + draw(
        st.text("abcdefghij0123456789-/", max_size=12))
    text_sha1 = hashlib.sha1(text.encode()).hexdigest()
    license_expr = draw(st.just(known.NOASSERTION) | expressions(depth=1))
    evidence = draw(st.lists(st.fixed_dictionaries({
        "kind": st.sampled_from(["rel-license", "meta", "jsonld", "text"]),
        "value": st.text(max_size=20),
        "spdx": st.none() | st.just(known.NOASSERTION) | ids_strategy,
        "where": st.sampled_from(["main", "head", "footer"]),
        "weight": _FLOAT32,
    }), max_size=3))
    return {
        "id": hashlib.sha1(f"{url}\n{text_sha1}".encode()).hexdigest(),
        "url": url,
        "canonical_url": draw(st.none() | st.just(url)),
        "host": url.split("/")[2],
        "fetched_at": draw(_WHEN),
        "http_status": draw(st.integers(100, 599)),
        "content_type": "text/html",
        "title": draw(_OPTIONAL_TEXT),
        "text": text,
        "lang": draw(st.none() | st.sampled_from(["en", "de"])),
        "published": draw(_OPTIONAL_TEXT),
        "authors": draw(st.lists(st.text(min_size=1, max_size=15), max_size=3)),
        "copyright": draw(st.none() | st.text(min_size=1, max_size=30)),
        "license": license_expr,
        "license_category": category(license_expr),
        "license_confidence": draw(_FLOAT32),
        "license_conflict": draw(st.booleans()),
        "license_evidence": evidence,
        "attribution": draw(st.none() | st.text(min_size=1, max_size=30)),
        "tdm_reserved": draw(st.booleans()),
        "tdm_policy": draw(st.none() | st.just("https://example.org/tdm.json")),
        "ai_optout": draw(st.lists(st.sampled_from(["robots:GPTBot", "meta:noai"]),
                                   max_size=2, unique=True)),
        "text_sha1": text_sha1,
        "warc_file": draw(st.none() | st.just("crawl-00001.warc.gz")),
        "warc_record_id": draw(st.none() | st.just("<urn:uuid:1>")),
        "crawl_id": "crawl-prop",
    }


@settings(max_examples=50, deadline=None)
@given(st.lists(rows(), min_size=1, max_size=12), st.integers(1, 5))
def test_shards_and_spdx_documents_round_trip(written: list[dict[str, Any]],
                                              max_rows: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "out" / "data"
        with ShardWriter(data, max_rows=max_rows, row_group_rows=2,
                         extra_metadata={"crawl_id": "crawl-prop"}) as writer:
            for row in written:
                writer.write(row)
        shards = writer.completed
        assert len(shards) == -(-len(written) // max_rows)
        table = pq.read_table(data)  # the folder, as readers read it
        assert table.schema.equals(record_schema(), check_metadata=False)
        # the optional (dedup) columns are written as nulls when the rows lack them
        assert table.to_pylist() == [
            {**dict.fromkeys(optional_column_names()), **row} for row in written]
        documents = []
        for shard in shards:
            path = spdx.spdx_path_for(shard)
            documents.append(json.loads(path.read_text("utf-8")))
            assert spdx.validate_document(parse_file(str(path))) == []
    files = [f for doc in documents for f in doc["files"]]
    assert [f["fileName"] for f in files] == [r["url"] for r in written]
    assert [f["checksums"] for f in files] == [
        [{"algorithm": "SHA1", "checksumValue": r["text_sha1"]}] for r in written]
    assert [f["licenseConcluded"] for f in files] == [
        normalize_expression(r["license"]) for r in written]
    assert [f.get("fileContributors", []) for f in files] == [
        list(dict.fromkeys(r["authors"])) for r in written]
    assert [f.get("copyrightText") for f in files] == [
        r["copyright"] or known.NOASSERTION for r in written]
    for doc in documents:
        [package] = doc["packages"]
        assert package["versionInfo"] == "crawl-prop"
        declared = {info["licenseId"] for info in doc.get("hasExtractedLicensingInfos", [])}
        used = {i for f in doc["files"]
                for value in [f["licenseConcluded"], *f["licenseInfoInFiles"]]
                for i in expression_ids(value) if i.startswith("LicenseRef-")}
        assert used == declared
