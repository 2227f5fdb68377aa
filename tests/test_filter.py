"""``licrawl filter``: subsets, exclusion reasons, outputs (shards, SPDX, manifest, report)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from spdx_tools.spdx.parser.parse_anything import parse_file

from crawler.cli import main
from crawler.core.schema import SCHEMA_VERSION_KEY, record_schema
from crawler.stages.filter.manifest import MANIFEST_SCHEMA, has_no_license, license_details
from crawler.stages.filter.policy import load_policy
from crawler.stages.filter.stage import Rules, filter_shards
from crawler.stages.runner import StageError
from crawler.store.shards import ShardWriter
from crawler.store.spdx import spdx_path_for, validate_document
from tests.factories import make_row


def row(n: int, **overrides: Any) -> dict[str, Any]:
    """A valid row with its own URL (so its own id) on host ``site<n % 3>.example``."""
    return make_row(url=f"https://site{n % 3}.example/doc/{n}", **overrides)


def write_shard(path: Path, rows: list[dict[str, Any]], schema: pa.Schema | None = None
                ) -> Path:
    schema = schema or record_schema()
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path, compression="zstd")
    return path


def read_rows(folder: Path) -> list[dict[str, Any]]:
    files = sorted(folder.glob("*.parquet"))
    if not files:
        return []
    return pa.concat_tables(pq.read_table(f) for f in files).to_pylist()


def run(tmp_path: Path, rows: list[dict[str, Any]], *, subset: str = "licensed-only",
        policy: str | None = "open", excluded: bool = True, **flags: Any) -> dict[str, Any]:
    shard = write_shard(tmp_path / "in" / "a.parquet", rows)
    rules = Rules.build(subset, load_policy(policy) if policy else None, **flags)
    return filter_shards([shard], tmp_path / "out", rules,
                         excluded_dir=tmp_path / "excluded" if excluded else None, jobs=1)


def excluded_reasons(tmp_path: Path) -> dict[str, str]:
    return {r["url"]: r["filter_reason"] for r in read_rows(tmp_path / "excluded" / "data")}


# --------------------------------------------------------------------------- reasons

EXCLUSIONS = [
    ({"license": "CC-BY-NC-4.0", "license_category": "noncommercial"},
     "category:noncommercial"),
    ({"license": "NOASSERTION", "license_category": "unknown"}, "category:unknown"),
    ({"license": "MIT AND CC-BY-NC-4.0", "license_category": "noncommercial"},
     "category:noncommercial"),
    ({"license": "MIT OR OR ("}, "license-invalid"),
    ({"license_confidence": 0.2}, "low-confidence"),
    ({"tdm_reserved": True, "ai_optout": ["tdmrep"]}, "optout:tdmrep"),
    ({"tdm_reserved": True}, "optout:tdmrep"),
    ({"ai_optout": ["robots:GPTBot", "robots:CCBot"]}, "optout:robots:GPTBot"),
    ({"ai_optout": ["meta:noai"]}, "optout:meta:noai"),
    ({"ai_optout": ["content-usage:train-ai=n"]}, "optout:content-usage:train-ai=n"),
    ({"license_conflict": True}, "conflict"),
    ({"license_confidence": 0.1, "license_conflict": True, "ai_optout": ["meta:noai"]},
     "low-confidence"),
]


@pytest.mark.parametrize(("overrides", "reason"), EXCLUSIONS)
def test_each_exclusion_reason(tmp_path: Path, overrides: dict[str, Any], reason: str) -> None:
    report = run(tmp_path, [row(0), row(1, **overrides)])
    assert report["kept"] == 1 and report["excluded"] == 1
    assert report["excluded_by_reason"] == {reason: 1}
    assert excluded_reasons(tmp_path) == {"https://site1.example/doc/1": reason}
    assert [r["url"] for r in read_rows(tmp_path / "out" / "data")] == [
        "https://site0.example/doc/0"]


def test_excluded_rows_have_spdx_documents_even_with_an_invalid_license(
        tmp_path: Path) -> None:
    run(tmp_path, [row(0), row(1, license="MIT OR OR ("), row(2, license="CC-BY-NC-4.0")])
    shards = sorted((tmp_path / "excluded" / "data").glob("*.parquet"))
    assert shards
    for shard in shards:
        doc = parse_file(str(spdx_path_for(shard)))
        assert validate_document(doc) == []
        concluded = sorted(str(f.license_concluded) for f in doc.files)
        assert concluded == ["CC-BY-NC-4.0", "NOASSERTION"]  # the invalid value: NOASSERTION


def test_attributed_subset_refuses_a_license_that_is_no_expression(tmp_path: Path) -> None:
    report = run(tmp_path, [row(0), row(1, license="MIT OR OR (")], subset="attributed",
                 policy=None)
    assert report["excluded_by_reason"] == {"license-invalid": 1}
    assert [r["url"] for r in read_rows(tmp_path / "out" / "data")] == [
        "https://site0.example/doc/0"]


def test_compound_or_passes_permissive(tmp_path: Path) -> None:
    report = run(tmp_path, [row(0, license="MIT OR GPL-3.0-only")], policy="permissive")
    assert report["kept"] == 1


def test_all_failing_checks_are_counted(tmp_path: Path) -> None:
    report = run(tmp_path, [row(0, license="NOASSERTION", license_category="unknown",
                                license_confidence=0.0, license_conflict=True,
                                ai_optout=["robots:GPTBot"])])
    assert report["excluded_by_reason"] == {"category:unknown": 1}
    assert report["failing_checks"] == {"category:unknown": 1, "low-confidence": 1,
                                        "optout:robots:GPTBot": 1, "conflict": 1}
    assert report["optout_signals"] == {"robots:GPTBot": 1}


def test_denied_id_reason(tmp_path: Path) -> None:
    policy = tmp_path / "p.toml"
    policy.write_text('categories = ["permissive", "copyleft"]\ndenied_ids = ["GPL-3.0-only"]\n')
    report = run(tmp_path, [row(0, license="GPL-3.0-only", license_category="copyleft"),
                            row(1, license="CC-BY-SA-4.0", license_category="copyleft")],
                 policy=str(policy))
    assert report["excluded_by_reason"] == {"license-denied:GPL-3.0-only": 1}
    assert report["settings"]["policy"]["source"] == str(policy)


def test_flags_let_optout_and_conflict_pass(tmp_path: Path) -> None:
    rows = [row(0, ai_optout=["robots:GPTBot"]), row(1, tdm_reserved=True),
            row(2, license_conflict=True), row(3, license_confidence=0.3)]
    report = run(tmp_path, rows, allow_optout=True, allow_conflict=True, min_confidence=0.25)
    assert report["kept"] == 4
    assert report["settings"]["exclude_optout"] is False
    assert report["settings"]["min_confidence"] == 0.25
    # the policy block shows the policy as applied, the flags included
    policy = json.loads((tmp_path / "out" / "report.json").read_text())["settings"]["policy"]
    assert policy["name"] == "open"
    assert policy["allow_optout"] is True and policy["allow_conflict"] is True


def test_policy_block_without_flags_keeps_the_policy_values(tmp_path: Path) -> None:
    report = run(tmp_path, [row(0)], allow_conflict=True)
    assert report["settings"]["policy"]["allow_optout"] is False
    assert report["settings"]["policy"]["allow_conflict"] is True


def test_min_confidence_flag_overrides_policy(tmp_path: Path) -> None:
    report = run(tmp_path, [row(0, license_confidence=0.8), row(1, license_confidence=0.95)],
                 min_confidence=0.9)
    assert report["excluded_by_reason"] == {"low-confidence": 1}


def test_confidence_at_threshold_passes(tmp_path: Path) -> None:
    report = run(tmp_path, [row(0, license_confidence=0.5)])
    assert report["kept"] == 1


def test_policy_file_can_allow_optouts(tmp_path: Path) -> None:
    policy = tmp_path / "p.toml"
    policy.write_text('categories = ["permissive"]\nallow_optout = true\n')
    report = run(tmp_path, [row(0, ai_optout=["meta:noai"]), row(1, license_conflict=True)],
                 policy=str(policy))
    assert report["excluded_by_reason"] == {"conflict": 1}


# --------------------------------------------------------------------------- attributed

def test_attributed_subset_without_policy(tmp_path: Path) -> None:
    rows = [
        row(0),
        row(1, authors=[], copyright="© 2020 Acme Ltd"),  # holder only: kept
        row(2, authors=[], copyright=None),
        row(3, authors=[], copyright="© 2020"),  # a bare notice names nobody
        row(4, license="NOASSERTION", license_category="unknown"),
        row(5, license="CC-BY-NC-4.0", license_category="noncommercial"),  # no policy: kept
        row(6, ai_optout=["robots:CCBot"]),
    ]
    rows.append(make_row(url="urn:doc:7"))
    report = run(tmp_path, rows, subset="attributed", policy=None)
    assert report["settings"]["policy"] is None
    assert report["kept"] == 3
    assert excluded_reasons(tmp_path) == {
        "https://site2.example/doc/2": "no-attribution:author",
        "https://site0.example/doc/3": "no-attribution:author",
        "https://site1.example/doc/4": "no-attribution:license",
        "https://site0.example/doc/6": "optout:robots:CCBot",
        "urn:doc:7": "no-attribution:url",
    }


def test_attributed_manifest_says_when_a_work_has_no_license(tmp_path: Path) -> None:
    rows = [row(0, title="Licensed"),
            row(1, title="Reserved", license="LicenseRef-All-Rights-Reserved",
                license_category="reserved", copyright="© 2024 Jane Doe. All rights reserved."),
            row(2, title="Mixed", license="CC-BY-4.0 AND LicenseRef-All-Rights-Reserved",
                license_category="reserved")]
    report = run(tmp_path, rows, subset="attributed", policy=None)
    assert report["kept"] == 3 and report["kept_without_license"] == 1
    out = tmp_path / "out"
    manifest = {r["title"]: r for r in pq.read_table(out / "attribution.parquet").to_pylist()}
    assert {t: r["no_license"] for t, r in manifest.items()} == {
        "Licensed": False, "Reserved": True, "Mixed": False}
    assert manifest["Reserved"]["attribution"] == (
        '"Reserved" by Jane Doe, https://site1.example/doc/1, no license (all rights reserved); '
        "text extracted from the original HTML")
    assert manifest["Reserved"]["license_url"] is None
    text = (out / "ATTRIBUTION.txt").read_text("utf-8")
    assert "This dataset holds 3 documents; 1 of them has no license.\n" in text
    assert "Each work is used under the license named with it" not in text
    assert ("Reserved\n  Author: Jane Doe\n  Copyright: © 2024 Jane Doe. All rights reserved.\n"
            "  Source: https://site1.example/doc/1\n"
            "  License: no license (all rights reserved)\n"
            "  Note: no license to reuse this work is known;") in text
    assert text.count("  Note: ") == 1
    assert ("  License: Creative Commons Attribution 4.0 International AND All rights reserved "
            "<https://creativecommons.org/licenses/by/4.0/>\n") in text


def test_licensed_subset_header_has_no_no_license_note(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    write_shard(tmp_path / "in" / "a.parquet", [row(0), row(1)])
    assert main(["filter", str(tmp_path / "in"), "--out", str(tmp_path / "out"),
                 "--quiet"]) == 0
    assert "no license" not in capsys.readouterr().out
    text = (tmp_path / "out" / "ATTRIBUTION.txt").read_text("utf-8")
    assert "no license" not in text and "This dataset holds" not in text
    assert "A work with a license is used under the license named with it" in text
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["kept_without_license"] == 0


def test_cli_table_counts_works_without_a_license(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    write_shard(tmp_path / "in" / "a.parquet",
                [row(0), row(1, license="LicenseRef-All-Rights-Reserved",
                             license_category="reserved")])
    assert main(["filter", str(tmp_path / "in"), "--out", str(tmp_path / "out"),
                 "--subset", "attributed", "--quiet"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[2].startswith("kept                 2")
    assert lines[3] == ("  no license         1   50.0%  of the kept: all rights reserved or "
                        "none found")


@pytest.mark.parametrize(("expression", "none"), [
    ("LicenseRef-All-Rights-Reserved", True), ("NOASSERTION", True), ("", True),
    (None, True), ("CC-BY-4.0", False), ("LicenseRef-PublicDomain", False),
    ("CC-BY-4.0 AND LicenseRef-All-Rights-Reserved", False),
    ("(LicenseRef-All-Rights-Reserved)", True), ("MIT OR OR (", False)])
def test_has_no_license(expression: str | None, none: bool) -> None:
    assert has_no_license(expression) is none


def test_attributed_subset_with_policy(tmp_path: Path) -> None:
    rows = [row(0), row(1, license="CC-BY-NC-4.0", license_category="noncommercial"),
            row(2, authors=[], copyright=None)]
    report = run(tmp_path, rows, subset="attributed", policy="permissive")
    assert report["excluded_by_reason"] == {"category:noncommercial": 1,
                                            "no-attribution:author": 1}


# --------------------------------------------------------------------------- outputs

def test_outputs_schema_spdx_manifest_and_report(tmp_path: Path) -> None:
    rows = [row(0, title="A poem", authors=["Ann Poet", "Bo Editor"]),
            row(1, license="CC0-1.0", license_category="public-domain", title=None,
                copyright=None),
            row(2, license="CC-BY-ND-4.0", license_category="no-derivatives")]
    report = run(tmp_path, rows)
    out = tmp_path / "out"
    shards = sorted((out / "data").glob("*.parquet"))
    assert len(shards) == 1 and report["outputs"]["shards"] == [f"data/{shards[0].name}"]
    table = pq.read_table(shards[0])
    assert table.schema.equals(record_schema(), check_metadata=False)
    assert table.schema.metadata[SCHEMA_VERSION_KEY] == record_schema().metadata[
        SCHEMA_VERSION_KEY]
    assert table.schema.metadata[b"licrawl.filter.policy"] == b"open"

    doc = parse_file(str(spdx_path_for(shards[0])))
    assert validate_document(doc) == []
    assert sorted(f.name for f in doc.files) == ["https://site0.example/doc/0",
                                                 "https://site1.example/doc/1"]

    manifest = pq.read_table(out / "attribution.parquet")
    assert manifest.schema.equals(MANIFEST_SCHEMA)
    entries = {r["url"]: r for r in manifest.to_pylist()}
    first = entries["https://site0.example/doc/0"]
    assert first["license_name"] == "Creative Commons Attribution 4.0 International"
    assert first["license_url"] == "https://creativecommons.org/licenses/by/4.0/"
    assert first["authors"] == ["Ann Poet", "Bo Editor"]
    assert first["attribution"] == (
        '"A poem" by Ann Poet, Bo Editor, https://site0.example/doc/0, Creative Commons '
        "Attribution 4.0 International (https://creativecommons.org/licenses/by/4.0/); "
        "text extracted from the original HTML")
    second = entries["https://site1.example/doc/1"]
    assert second["license"] == "CC0-1.0" and second["attribution"].startswith(
        "https://site1.example/doc/1 by Jane Doe, CC0 1.0 Universal")

    text = (out / "ATTRIBUTION.txt").read_text("utf-8")
    assert "A poem\n  Author: Ann Poet, Bo Editor\n  Copyright: © 2024 Jane Doe\n" in text
    assert "  Source: https://site0.example/doc/0\n" in text
    assert ("  License: Creative Commons Attribution 4.0 International "
            "<https://creativecommons.org/licenses/by/4.0/>\n") in text
    assert text.count("  Changes: text extracted from the original HTML\n") == 2
    assert "site2.example" not in text

    on_disk = json.loads((out / "report.json").read_text("utf-8"))
    assert on_disk == json.loads(json.dumps(report))
    assert on_disk["inputs"]["files"] == [str(tmp_path / "in" / "a.parquet")]
    assert on_disk["inputs"]["rows"] == 3
    assert on_disk["kept"] == 2 and on_disk["excluded"] == 1
    assert on_disk["by_category"] == {"kept": {"permissive": 1, "public-domain": 1},
                                      "excluded": {"no-derivatives": 1}}
    assert on_disk["top_hosts"] == {"kept": [["site0.example", 1], ["site1.example", 1]],
                                    "excluded": [["site2.example", 1]]}
    assert on_disk["settings"]["policy"]["name"] == "open"

    excluded = read_rows(tmp_path / "excluded" / "data")
    assert pq.read_schema(next((tmp_path / "excluded" / "data").glob("*.parquet"))).names == [
        *record_schema().names, "filter_reason"]
    assert excluded[0]["filter_reason"] == "category:no-derivatives"
    assert excluded[0]["text"] == rows[2]["text"]


def test_several_shards_in_parallel_and_rotation(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    expected_kept = set()
    with ShardWriter(inputs, max_rows=4, spdx=False) as writer:
        for n in range(20):
            noncommercial = n % 4 == 0
            r = row(n, license="CC-BY-NC-4.0" if noncommercial else "CC-BY-4.0")
            if not noncommercial:
                expected_kept.add(r["id"])
            writer.write(r)
    assert len(list(inputs.glob("*.parquet"))) == 5
    rules = Rules.build("licensed-only", load_policy("open"))
    report = filter_shards([str(inputs / "*.parquet")], tmp_path / "out", rules, jobs=2,
                           batch_rows=3, shard_rows=6)
    assert report["inputs"]["file_count"] == 5
    assert report["kept"] == 15 and report["excluded_by_reason"] == {"category:noncommercial": 5}
    shards = sorted((tmp_path / "out" / "data").glob("*.parquet"))
    assert len(shards) >= 3
    assert {r["id"] for r in read_rows(tmp_path / "out" / "data")} == expected_kept
    for shard in shards:
        assert validate_document(parse_file(str(spdx_path_for(shard)))) == []
    manifest = pq.read_table(tmp_path / "out" / "attribution.parquet")
    assert set(manifest.column("id").to_pylist()) == expected_kept
    text = (tmp_path / "out" / "ATTRIBUTION.txt").read_text("utf-8")
    assert text.count("  Source: ") == 15
    assert not list(tmp_path.glob("out.tmp-*"))


def test_cli_prints_table_and_writes_report(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    write_shard(tmp_path / "in" / "a.parquet",
                        [row(0), row(1, ai_optout=["robots:GPTBot"])])
    code = main(["filter", str(tmp_path / "in"), "--out", str(tmp_path / "out"),
                 "--policy", "permissive", "--jobs", "1"])
    captured = capsys.readouterr()
    assert code == 0
    assert "optout:robots:GPTBot" in captured.out and "site0.example" in captured.out
    assert "[licrawl filter] [1/1 files" in captured.err  # progress line
    assert json.loads((tmp_path / "out" / "report.json").read_text())["kept"] == 1


def test_cli_rejects_a_non_empty_output(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    write_shard(tmp_path / "in" / "a.parquet", [row(0)])
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    code = main(["filter", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--quiet"])
    assert code == 2
    assert "not empty" in capsys.readouterr().err
    assert (tmp_path / "out" / "keep.txt").read_text() == "mine"
    assert main(["filter", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--quiet",
                 "--overwrite"]) == 0
    assert not (tmp_path / "out" / "keep.txt").exists()
    assert (tmp_path / "out" / "report.json").exists()


def test_cli_reports_a_bad_policy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_shard(tmp_path / "in" / "a.parquet", [row(0)])
    assert main(["filter", str(tmp_path / "in"), "--out", str(tmp_path / "out"),
                 "--policy", "nope"]) == 2
    assert "unknown policy 'nope'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- bad input

def _rules() -> Rules:
    return Rules.build("licensed-only", load_policy("open"))


def _assert_no_output(tmp_path: Path) -> None:
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.glob("out.tmp-*"))


def test_not_parquet_names_the_file(tmp_path: Path) -> None:
    good = write_shard(tmp_path / "in" / "a.parquet", [row(0)])
    bad = tmp_path / "in" / "b.parquet"
    bad.write_text("id,url\n1,https://example.org/\n")
    with pytest.raises(StageError, match=f"{bad}: not a readable Parquet file"):
        filter_shards([good, bad], tmp_path / "out", _rules())
    _assert_no_output(tmp_path)


def test_unknown_schema_version_names_the_file(tmp_path: Path) -> None:
    schema = record_schema().with_metadata({**record_schema().metadata,
                                            SCHEMA_VERSION_KEY: b"2.0"})
    path = write_shard(tmp_path / "in" / "v2.parquet", [row(0)], schema)
    with pytest.raises(StageError, match=f"{path}: record schema version 2.0"):
        filter_shards([path], tmp_path / "out", _rules())
    _assert_no_output(tmp_path)


def test_newer_minor_version_is_read_and_extra_columns_reported(tmp_path: Path) -> None:
    schema = record_schema().append(pa.field("word_count", pa.int32()))
    schema = schema.with_metadata({**record_schema().metadata, SCHEMA_VERSION_KEY: b"1.9"})
    path = write_shard(tmp_path / "in" / "v19.parquet", [row(0, word_count=3)], schema)
    report = filter_shards([path], tmp_path / "out", _rules())
    assert report["kept"] == 1
    assert report["inputs"]["dropped_columns"] == {str(path): ["word_count"]}


def test_missing_columns_name_the_file(tmp_path: Path) -> None:
    schema = pa.schema([f for f in record_schema() if f.name not in ("license", "host")],
                       metadata=record_schema().metadata)
    path = tmp_path / "in" / "short.parquet"
    path.parent.mkdir()
    pq.write_table(pa.Table.from_pylist([row(0)], schema=schema), path)
    with pytest.raises(StageError, match=f"{path}: missing columns host, license"):
        filter_shards([path], tmp_path / "out", _rules())
    _assert_no_output(tmp_path)


def test_foreign_parquet_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "other.parquet"
    pq.write_table(pa.table({"a": [1, 2]}), path)
    with pytest.raises(StageError, match=f"{path}: not a licrawl shard"):
        filter_shards([path], tmp_path / "out", _rules())


def test_missing_input_path(tmp_path: Path) -> None:
    with pytest.raises(StageError, match="absent"):
        filter_shards([tmp_path / "absent"], tmp_path / "out", _rules())


@pytest.mark.parametrize("jobs", [1, 2])
def test_corrupt_rows_leave_no_output(tmp_path: Path, jobs: int) -> None:
    good = write_shard(tmp_path / "in" / "a.parquet", [row(0)])
    bad = write_shard(tmp_path / "in" / "b.parquet", [row(n) for n in range(20)])
    data = bytearray(bad.read_bytes())
    data[4:204] = b"\xff" * 200  # the first page header broken, the footer intact
    bad.write_bytes(bytes(data))
    with pytest.raises(StageError, match=f"{bad}: cannot read rows"):
        filter_shards([good, bad], tmp_path / "out", _rules(),
                      excluded_dir=tmp_path / "excluded", jobs=jobs)
    _assert_no_output(tmp_path)
    assert not (tmp_path / "excluded").exists()
    assert not list(tmp_path.glob("excluded.tmp-*"))


def test_empty_inputs_give_an_empty_subset_and_a_report(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    report = filter_shards([tmp_path / "in"], tmp_path / "out", _rules())
    assert report["kept"] == 0 and report["inputs"]["file_count"] == 0
    assert pq.read_table(tmp_path / "out" / "attribution.parquet").num_rows == 0
    assert (tmp_path / "out" / "ATTRIBUTION.txt").exists()
    assert json.loads((tmp_path / "out" / "report.json").read_text())["excluded"] == 0

    empty = write_shard(tmp_path / "in" / "empty.parquet", [])
    report = filter_shards([empty], tmp_path / "out2", _rules())
    assert report["inputs"]["file_count"] == 1 and report["inputs"]["rows"] == 0
    assert report["outputs"]["shards"] == []


def test_input_inside_the_output_folder_is_refused(tmp_path: Path) -> None:
    shard = write_shard(tmp_path / "out" / "a.parquet", [row(0)])
    with pytest.raises(StageError, match="inside the output folder"):
        filter_shards([shard], tmp_path / "out", _rules(), overwrite=True)
    assert shard.exists()


def test_license_details_name_each_id_of_a_compound_expression() -> None:
    name, urls = license_details("MIT-0 AND MIT")
    assert name == "MIT-0 AND MIT License"
    assert urls == "https://spdx.org/licenses/MIT-0.html https://opensource.org/license/mit"
    assert license_details("NOASSERTION") == (None, None)
    assert license_details("MIT OR OR (") == ("MIT OR OR (", None)
