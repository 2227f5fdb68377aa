"""The SPDX document beside each shard: content, LicenseRef declarations, validity."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from factories import make_row
from spdx_tools.spdx.model import RelationshipType, SpdxNoAssertion
from spdx_tools.spdx.parser.parse_anything import parse_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from crawler import spdx
from crawler.licenses import license_info


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


def test_written_document_parses_back_valid(tmp_path) -> None:
    shard = tmp_path / "part-x-00001.parquet"
    out = spdx.write_shard_spdx(_rows(), shard, shard_sha1="0" * 40)
    assert out == tmp_path / "part-x-00001.parquet.spdx.json"
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]  # no temp file left
    data = json.loads(out.read_text("utf-8"))
    assert data["spdxVersion"] == "SPDX-2.3"
    assert [f["licenseConcluded"] for f in data["files"]] == LICENSES
    assert data["packages"][0]["checksums"] == [{"algorithm": "SHA1",
                                                 "checksumValue": "0" * 40}]
    parsed = parse_file(str(out))
    assert validate_full_spdx_document(parsed) == []
    assert len(parsed.files) == len(LICENSES)


@pytest.mark.parametrize("bad", ["Foo-Bar-1.0", "MIT AND", "", "MIT OR (Apache-2.0",
                                 "DocumentRef-x:LicenseRef-y"])
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
