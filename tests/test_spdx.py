"""The SPDX document beside each shard: content, LicenseRef declarations, validity."""

from __future__ import annotations

import gc
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from factories import make_row
from ntia_conformance_checker import NTIAChecker
from spdx_tools.spdx.jsonschema.document_converter import DocumentConverter
from spdx_tools.spdx.model import (
    Checksum,
    ChecksumAlgorithm,
    Relationship,
    RelationshipType,
    SpdxNoAssertion,
)
from spdx_tools.spdx.parser.parse_anything import parse_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document
from spdx_tools.spdx.writer.json.json_writer import write_document_to_file

from crawler.licenses import license_info
from crawler.store import spdx


def _evidence(*ids: str) -> list[dict]:
    return [{"kind": "rel-license", "value": f"https://example.org/{i}", "spdx": i,
             "where": "main", "weight": 0.5} for i in ids]


LICENSES = [
    "LicenseRef-CC-BY-SA-3.0-ES",
    "LicenseRef-All-Rights-Reserved",
    "LicenseRef-PublicDomain",
    "CC0-1.0 OR LicenseRef-OWFa-1.0",
    "NOASSERTION",
    "CC-BY-4.0",
]


def _rows() -> list[dict]:
    rows = []
    for i, lic in enumerate(LICENSES):
        evidence = _evidence(lic) if lic != "NOASSERTION" else _evidence("NOASSERTION")
        rows.append(make_row(url=f"https://example.org/page/{i}", text=f"text number {i}",
                             license=lic, license_evidence=evidence))
    return rows


def _doc(rows: list[dict]) -> spdx.Document:
    return spdx.build_document(rows, name="part-x-00001.parquet",
                               namespace=spdx.new_namespace("part-x-00001.parquet"),
                               created=datetime(2024, 5, 1, tzinfo=UTC))


def test_document_is_valid_and_declares_every_license_ref() -> None:
    doc = _doc(_rows())
    assert validate_full_spdx_document(doc) == []
    assert spdx.validate_document(doc) == []
    declared = {info.license_id: info for info in doc.extracted_licensing_info}
    assert set(declared) == {"LicenseRef-CC-BY-SA-3.0-ES", "LicenseRef-All-Rights-Reserved",
                             "LicenseRef-PublicDomain", "LicenseRef-OWFa-1.0"}
    for ref, info in declared.items():
        expected = license_info(ref)
        assert info.license_name == expected.name
        assert info.extracted_text == expected.text
        assert info.cross_references == ([expected.url] if expected.url else [])


def test_license_ref_ids_keep_their_spelling() -> None:
    doc = _doc(_rows())
    concluded = [f.license_concluded for f in doc.files]
    assert [str(c) for c in concluded[:4]] == LICENSES[:4]
    assert isinstance(concluded[4], SpdxNoAssertion)
    assert str(concluded[5]) == "CC-BY-4.0"


def test_file_fields_follow_the_row() -> None:
    row = make_row(authors=["Jane Doe", "ACME Corp"], copyright="© 2021 Jane Doe",
                   attribution='"Hello" by Jane Doe, CC BY 4.0',
                   license="CC-BY-4.0",
                   license_evidence=_evidence("CC-BY-4.0", "NOASSERTION", "CC-BY-4.0", "MIT"))
    bare = make_row(url="https://example.org/bare", text="bare text", copyright=None,
                    attribution=None, authors=[], license="NOASSERTION", license_evidence=[])
    file, bare_file = _doc([row, bare]).files
    assert file.spdx_id == f"SPDXRef-File-{row['id']}"
    assert file.name == row["url"]
    assert [(c.algorithm.name, c.value) for c in file.checksums] == [("SHA1", row["text_sha1"])]
    assert [str(x) for x in file.license_info_in_file] == ["CC-BY-4.0", "MIT"]
    assert file.copyright_text == "© 2021 Jane Doe"
    assert file.contributors == ["Jane Doe", "ACME Corp"]
    assert file.attribution_texts == ['"Hello" by Jane Doe, CC BY 4.0']
    assert bare_file.copyright_text == SpdxNoAssertion()
    assert bare_file.license_info_in_file == [SpdxNoAssertion()]
    assert bare_file.contributors == [] and bare_file.attribution_texts == []


def test_ids_are_sanitised_and_unique() -> None:
    rows = [make_row(id="a/b c_d", text="one"), make_row(id="a/b c_d", text="two"),
            make_row(id="a-b-c-d", text="three")]
    doc = _doc(rows)
    ids = [f.spdx_id for f in doc.files]
    assert len(set(ids)) == 3
    assert ids[0] == "SPDXRef-File-a-b-c-d"
    assert spdx.validate_document(doc) == []


def test_one_relationship_describes_the_shard_package() -> None:
    doc = _doc([make_row(url=f"https://example.org/{i}", text=f"t{i}") for i in range(50)])
    assert len(doc.relationships) == 1
    rel = doc.relationships[0]
    assert (rel.spdx_element_id, rel.relationship_type, rel.related_spdx_element_id) == (
        "SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, spdx.SHARD_PACKAGE_ID)
    assert [p.name for p in doc.packages] == ["part-x-00001.parquet"]
    assert len(doc.files) == 50


def test_document_path_is_in_the_sibling_spdx_folder(tmp_path) -> None:
    assert spdx.spdx_path_for(tmp_path / "out" / "data" / "part-x-00001.parquet") == (
        tmp_path / "out" / "spdx" / "part-x-00001.spdx.json")
    assert spdx.spdx_path_for("kept/part-w000-1.parquet") == Path("spdx/part-w000-1.spdx.json")


def test_written_document_parses_back_valid(tmp_path) -> None:
    shard = tmp_path / "data" / "part-x-00001.parquet"
    out = spdx.write_shard_spdx(_rows(), shard, shard_sha1="0" * 40, version="crawl-7")
    assert out == tmp_path / "spdx" / "part-x-00001.spdx.json"
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]  # no temp file left
    assert not shard.parent.exists()  # the shard's folder is left to the shard writer
    data = json.loads(out.read_text("utf-8"))
    assert data["spdxVersion"] == "SPDX-2.3"
    assert [f["licenseConcluded"] for f in data["files"]] == LICENSES
    [package] = data["packages"]
    assert package["checksums"] == [{"algorithm": "SHA1", "checksumValue": "0" * 40}]
    assert package["supplier"] == "Organization: licrawl"
    assert package["versionInfo"] == "crawl-7"
    parsed = parse_file(str(out))
    assert validate_full_spdx_document(parsed) == []
    assert len(parsed.files) == len(LICENSES)


def test_package_version_defaults_to_the_creation_time() -> None:
    [package] = _doc(_rows()).packages
    assert package.version == "20240501T000000Z"
    assert package.supplier == spdx.SUPPLIER


def test_document_has_the_ntia_minimum_elements(tmp_path) -> None:
    out = spdx.write_shard_spdx(_rows(), tmp_path / "data" / "part-x-00001.parquet",
                                shard_sha1="0" * 40, version="crawl-7")
    checker = NTIAChecker(str(out))
    assert checker.parsing_errors == [] and checker.validation_messages == []
    assert checker.compliant, checker.output_json()
    # the checker notices a missing element: the same document without the Package version
    data = json.loads(out.read_text("utf-8"))
    del data["packages"][0]["versionInfo"]
    bare = tmp_path / "bare.spdx.json"
    bare.write_text(json.dumps(data), "utf-8")
    assert not NTIAChecker(str(bare)).compliant


@pytest.mark.parametrize("bad", ["Foo-Bar-1.0", "MIT AND", "", "MIT OR (Apache-2.0",
                                 "DocumentRef-x:LicenseRef-y", "MIT WITH LicenseRef-Bar",
                                 "MIT WITH Apache-2.0", "LLVM-exception"])
def test_bad_license_expression_is_a_clear_error(bad: str) -> None:
    with pytest.raises(ValueError, match="license"):
        spdx.check_licenses(bad, ())
    with pytest.raises(ValueError, match=r"row 0 .*license"):
        _doc([make_row(license=bad)])


def test_bad_evidence_spdx_and_sha1_are_errors() -> None:
    with pytest.raises(ValueError, match="license_evidence.spdx"):
        spdx.check_licenses("MIT", ["Not-A-License"])
    with pytest.raises(ValueError, match="text_sha1"):
        _doc([make_row(text_sha1="XYZ")])


def _mixed_rows(n: int) -> list[dict]:
    """``n`` rows: most share a few licenses, every tenth has a license of its own."""
    shared = ["CC-BY-4.0", "NOASSERTION", "LicenseRef-All-Rights-Reserved",
              "CC0-1.0 OR LicenseRef-OWFa-1.0"]
    own = ["MIT", "Apache-2.0 WITH LLVM-exception", "GPL-2.0-or-later", "LicenseRef-Foo-1",
           "CC-BY-SA-3.0 AND LicenseRef-PublicDomain", "BSD-3-Clause", "LicenseRef-Bar.2"]
    rows = []
    for i in range(n):
        lic = own[i // 10 % len(own)] if i % 10 == 9 else shared[i % len(shared)]
        evidence = _evidence(lic, "NOASSERTION") if i % 3 else _evidence(lic)
        rows.append(make_row(
            url=f"https://example.org/p/{i}", text=f"text {i}", license=lic,
            license_evidence=evidence if i % 7 else [],
            copyright=None if i % 5 == 0 else f"© 2024 Author {i}",
            authors=[] if i % 4 == 0 else [f"Author {i}", "Jane Doe"],
            attribution=None if i % 6 == 0 else f"Text {i} by Author {i}"))
    return rows


def _plain_messages(doc: spdx.Document) -> list[str]:
    """spdx-tools' plain full validation, formatted as validate_document formats it."""
    return [f"{m.context.spdx_id or m.context.parent_id}: {m.validation_message}"
            if (m.context.spdx_id or m.context.parent_id) else m.validation_message
            for m in validate_full_spdx_document(doc)]


def test_shared_and_distinct_licenses_validate_like_the_full_validator() -> None:
    doc = _doc(_mixed_rows(300))
    assert validate_full_spdx_document(doc) == []
    assert spdx.validate_document(doc) == []
    concluded = {str(f.license_concluded) for f in doc.files}
    assert len(concluded) == 11  # both shared and own licenses are present
    assert len({id(f.license_concluded) for f in doc.files}) == len(concluded)


def _break_undeclared(doc: spdx.Document) -> None:
    doc.files[-1].license_concluded = spdx.parse_license("LicenseRef-Never-Declared")


def _break_declarations(doc: spdx.Document) -> None:
    doc.extracted_licensing_info = doc.extracted_licensing_info[1:]


def _break_checksum(doc: spdx.Document) -> None:
    doc.files[-2].checksums = [Checksum(ChecksumAlgorithm.SHA1, "ABC")]


def _break_sha1_missing(doc: spdx.Document) -> None:
    doc.files[-2].checksums = [Checksum(ChecksumAlgorithm.MD5, "0" * 32)]


def _break_id(doc: spdx.Document) -> None:
    doc.files[-3].spdx_id = "SPDXRef-bad_id"


def _break_duplicate_id(doc: spdx.Document) -> None:
    doc.files[-3].spdx_id = doc.files[5].spdx_id


def _break_name(doc: spdx.Document) -> None:
    doc.files[-4].name = "/absolute/path"


def _break_contains(doc: spdx.Document) -> None:
    # filesAnalyzed is false: the shard package may not CONTAIN a File (any File, not
    # just one that would represent its licenses)
    doc.relationships.append(Relationship(spdx.SHARD_PACKAGE_ID, RelationshipType.CONTAINS,
                                          doc.files[-5].spdx_id))


def _break_relationship(doc: spdx.Document) -> None:
    doc.relationships.append(Relationship(doc.files[-5].spdx_id, RelationshipType.DESCRIBES,
                                          "SPDXRef-Nowhere"))


@pytest.mark.parametrize("breaks", [_break_undeclared, _break_declarations, _break_checksum,
                                    _break_sha1_missing, _break_id, _break_duplicate_id,
                                    _break_name, _break_contains, _break_relationship])
def test_an_invalid_file_anywhere_gives_the_full_validators_messages(breaks) -> None:
    doc = _doc(_mixed_rows(120))
    assert spdx.validate_document(doc) == []
    breaks(doc)
    expected = _plain_messages(doc)
    assert expected  # the change makes the document invalid for spdx-tools
    assert spdx.validate_document(doc) == expected


def test_json_equals_spdx_tools_converter() -> None:
    doc = _doc(_mixed_rows(200) + _rows())
    assert spdx.document_json(doc) == DocumentConverter().convert(doc)
    empty = _doc([])
    assert spdx.document_json(empty) == DocumentConverter().convert(empty)


def test_written_document_equals_spdx_tools_plain_writer(tmp_path) -> None:
    doc = _doc(_mixed_rows(200) + _rows())
    ours, plain = tmp_path / "ours.spdx.json", tmp_path / "plain.spdx.json"
    spdx.write_document(doc, ours)
    write_document_to_file(doc, str(plain), validate=True)
    assert json.loads(ours.read_text("utf-8")) == json.loads(plain.read_text("utf-8"))
    parsed_ours, parsed_plain = parse_file(str(ours)), parse_file(str(plain))
    assert parsed_ours == parsed_plain
    assert validate_full_spdx_document(parsed_ours) == []
    assert spdx.validate_document(parsed_ours) == []


def test_garbage_collector_state_is_restored() -> None:
    assert gc.isenabled()
    with pytest.raises(ValueError, match="row 1"):
        _doc([make_row(), make_row(license="Not-A-License")])
    assert gc.isenabled()
    spdx.document_json(_doc(_rows()))
    assert gc.isenabled()
    gc.disable()
    try:
        _doc(_rows())
        assert not gc.isenabled()
    finally:
        gc.enable()
