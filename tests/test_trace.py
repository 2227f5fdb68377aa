"""``licrawl index`` and ``licrawl trace`` on a real crawl of the bundled demo site.

The demo site's pages carry different licenses (CC BY 4.0, CC BY-SA 4.0, all rights
reserved, none found, ...): texts that copy from them must come back with the right spans,
sources and verdicts; texts that copy nothing must come back empty.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.cli import main
from crawler.core.schema import record_schema
from crawler.licenses.terms import license_terms
from crawler.stages.index.layout import INDEX_FILE, read_manifest
from crawler.stages.index.stage import build_index
from crawler.stages.index.words import query_words, split_words
from crawler.trace.engine import TraceIndex, TraceInputError
from crawler.trace.spans import maximal_spans
from crawler.trace.verdict import verdict
from tests.factories import make_row

FILLER = ("Meanwhile the committee agreed that the minutes would be circulated by email, "
          "and that tea would be served at half past four in the village hall.")


def licrawl(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run ``licrawl ARGS`` as its own process."""
    return subprocess.run([sys.executable, "-m", "crawler.cli", *args], input=stdin,
                          capture_output=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A real crawl of the demo site (served on 127.0.0.1), its rows by path, and its
    index built by the ``licrawl index`` command."""
    base = tmp_path_factory.mktemp("trace")
    crawl = subprocess.run([sys.executable, "-m", "crawler.cli", "serve-demo", "--out",
                            "crawl", "--workers", "1"], cwd=base, capture_output=True,
                           text=True, timeout=180, check=False)
    assert crawl.returncode == 0, crawl.stderr[-3000:]
    rows = [r for f in sorted((base / "crawl" / "data").glob("*.parquet"))
            for r in pq.read_table(f).to_pylist()]
    built = licrawl("index", str(base / "crawl"), "--out", str(base / "index"))
    assert built.returncode == 0, built.stderr.decode()[-3000:]
    return {"base": base, "rows": {urlsplit(r["url"]).path: r for r in rows},
            "index": base / "index", "crawl": base / "crawl",
            "stdout": built.stdout.decode()}


def words_of(row: dict[str, Any], start: int, count: int) -> str:
    """``count`` whitespace words of a row's text from word ``start``."""
    words = row["text"].split()
    assert len(words) >= start + count, (row["url"], len(words))
    return " ".join(words[start:start + count])


def trace_json(index: Path, text: str, *args: str) -> dict[str, Any]:
    """``licrawl trace --json`` of ``text`` (on stdin), as a process."""
    done = licrawl("trace", "--index", str(index), "--json", *args, stdin=text.encode())
    assert done.returncode == 0, done.stderr.decode()
    return json.loads(done.stdout)


def by_url(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The sources of a trace result by URL path."""
    return {urlsplit(s["url"]).path: s for s in result["sources"]}


# --------------------------------------------------------------------------- index


def test_index_holds_every_crawled_document(demo: dict[str, Any]) -> None:
    manifest = read_manifest(demo["index"])
    assert manifest["documents"] == len(demo["rows"]) == 14
    assert manifest["words"] > 900
    assert "14 documents" in demo["stdout"]
    shard = demo["index"] / manifest["shards"][0]["name"]
    docs = pa.ipc.open_file(pa.memory_map(str(shard / "docs.arrow"))).read_all().to_pylist()
    for doc in docs:
        row = demo["rows"][urlsplit(doc["url"]).path]
        assert (doc["id"], doc["license"], doc["title"], doc["authors"], doc["warc_file"],
                doc["warc_record_id"]) == (row["id"], row["license"], row["title"],
                                           row["authors"], row["warc_file"],
                                           row["warc_record_id"])
    assert not list(demo["base"].glob("index.tmp-*"))


def test_trace_names_each_source_its_license_and_what_it_asks(demo: dict[str, Any]) -> None:
    rows = demo["rows"]
    copied = {
        "/articles/spring-migration.html": words_of(rows["/articles/spring-migration.html"],
                                                    2, 60),
        "/articles/bat-walk.html": words_of(rows["/articles/bat-walk.html"], 5, 62),
        "/about.html": words_of(rows["/about.html"], 0, 60),
        "/": words_of(rows["/"], 10, 70),
    }
    text = FILLER + " " + f" {FILLER} ".join(copied.values()) + " " + FILLER
    result = trace_json(demo["index"], text)

    assert result["input_words"] == len(query_words(text))
    verbatim = [s for s in result["spans"] if s["kind"] == "verbatim"]
    assert len(verbatim) == len(result["spans"]) == 4  # no near passage repeats them
    sources = by_url(result)
    assert set(sources) == set(copied)
    for path, passage in copied.items():
        [span] = [s for s in verbatim if s["source_ids"] == [rows[path]["id"]]]
        start = text.index(passage)
        # the span is the copied passage, give or take the punctuation at its ends
        assert abs(span["start"] - start) <= 1
        assert abs(span["end"] - (start + len(passage))) <= 1
        assert span["words"] == len(query_words(passage))
        assert span["occurrences"] == 1
        assert sources[path]["words_matched"] == span["words"]
    by = sources["/articles/spring-migration.html"]
    assert by["license"] == "CC-BY-4.0" and by["license_category"] == "permissive"
    assert by["license_url"] == "https://creativecommons.org/licenses/by/4.0/"
    assert "licensed CC BY 4.0: credit the author, link the license" in by["verdict"]
    assert f'of "{by["title"]}" by {", ".join(by["authors"])}' in by["verdict"]
    sa = sources["/articles/bat-walk.html"]
    assert sa["license"] == "CC-BY-SA-4.0" and sa["license_category"] == "copyleft"
    assert "licensed CC BY-SA 4.0:" in sa["verdict"] and "share alike" in sa["verdict"]
    reserved = sources["/about.html"]
    assert reserved["license"] == "LicenseRef-All-Rights-Reserved"
    assert reserved["verdict"].endswith("All rights reserved: not licensed for reuse.")
    unknown = sources["/"]
    assert unknown["license"] == "NOASSERTION" and unknown["license_category"] == "unknown"
    assert "license unknown (NOASSERTION)" in unknown["verdict"]
    assert unknown["verdict"].startswith(f"Reproduces {unknown['words_matched']} words of ")


def test_attribution_is_the_filter_manifest_line(demo: dict[str, Any]) -> None:
    out = demo["base"] / "attributed"
    done = licrawl("filter", str(demo["crawl"]), "--out", str(out), "--subset", "attributed",
                   "--quiet")
    assert done.returncode == 0, done.stderr.decode()
    manifest = {r["url"]: r["attribution"]
                for r in pq.read_table(out / "attribution.parquet").to_pylist()}
    index = TraceIndex.open(demo["index"])
    checked = 0
    for path in ("/articles/spring-migration.html", "/about.html", "/"):
        row = demo["rows"][path]
        if row["url"] not in manifest:
            continue
        [source] = index.trace(words_of(row, 0, 55)).sources
        assert source["attribution"] == manifest[row["url"]]
        checked += 1
    assert checked >= 2


def test_readable_report(demo: dict[str, Any]) -> None:
    row = demo["rows"]["/articles/bat-walk.html"]
    text = f"{FILLER} {words_of(row, 0, 60)}"
    done = licrawl("trace", "--index", str(demo["index"]), "-", stdin=text.encode())
    out = done.stdout.decode()
    assert done.returncode == 0
    assert "1 passage reproduces corpus text" in out
    assert f"[1] {row['title']} <{row['url']}>" in out
    assert "License: CC-BY-SA-4.0 (copyleft, confidence" in out
    assert "=> Reproduces 6" in out and "licensed CC BY-SA 4.0" in out


def test_a_text_that_copies_nothing_has_no_span_and_exit_0(demo: dict[str, Any]) -> None:
    text = " ".join([FILLER] * 8)
    result = trace_json(demo["index"], text)
    assert result["spans"] == [] and result["sources"] == []
    done = licrawl("trace", "--index", str(demo["index"]), stdin=text.encode())
    assert done.returncode == 0
    assert "No passage of 50 or more words" in done.stdout.decode()


def test_case_punctuation_and_whitespace_are_folded(demo: dict[str, Any]) -> None:
    row = demo["rows"]["/articles/heron-colony.html"]
    passage = words_of(row, 0, 60)
    changed = "\n".join(w.upper().strip(".,;:") + ("," if i % 7 == 0 else "")
                        for i, w in enumerate(passage.split()))
    result = trace_json(demo["index"], f"{FILLER} {changed}")
    [span] = result["spans"]
    assert span["kind"] == "verbatim" and span["source_ids"] == [row["id"]]


def test_near_verbatim_passage_with_words_changed_and_dropped(demo: dict[str, Any]) -> None:
    row = demo["rows"]["/articles/spring-migration.html"]
    words = words_of(row, 0, 75).split()
    words[18] = "swiftly"
    words[37] = "perhaps"
    del words[55]
    text = f"{FILLER} {' '.join(words)} {FILLER}"
    result = trace_json(demo["index"], text)
    assert [s["kind"] for s in result["spans"]] == ["near"]
    assert result["spans"][0]["source_ids"] == [row["id"]]
    assert result["spans"][0]["words"] >= 50
    assert result["sources"][0]["verdict"].startswith("Reproduces ")
    assert trace_json(demo["index"], text, "--no-near")["spans"] == []


def test_min_words_sets_the_shortest_span(demo: dict[str, Any]) -> None:
    row = demo["rows"]["/articles/heron-colony.html"]
    text = f"{FILLER} {words_of(row, 0, 40)} {FILLER}"
    assert trace_json(demo["index"], text, "--no-near")["spans"] == []
    [span] = trace_json(demo["index"], text, "--min-words", "30", "--no-near")["spans"]
    assert span["words"] == len(query_words(words_of(row, 0, 40)))


def test_a_passage_in_several_documents_lists_each(tmp_path: Path) -> None:
    shared = " ".join(f"word{i} common" for i in range(40))
    rows = [make_row(url=f"https://example.org/{k}", text=f"Intro {k}. {shared} Outro {k}.",
                     license=lic)
            for k, lic in enumerate(["CC-BY-4.0", "NOASSERTION", "CC-BY-4.0"])]
    shard = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=record_schema()), shard)
    build_index([shard], tmp_path / "index", jobs=1)
    result = TraceIndex.open(tmp_path / "index").trace(shared).to_json()
    [span] = result["spans"]
    assert span["occurrences"] == 3
    assert sorted(span["source_ids"]) == sorted(r["id"] for r in rows)
    assert len(TraceIndex.open(tmp_path / "index").trace(shared, max_sources=2)
               .spans[0].source_ids) == 2


# --------------------------------------------------------------------------- shards, --add


def test_many_shards_threads_and_add_give_the_same_answer(demo: dict[str, Any],
                                                          tmp_path: Path) -> None:
    rows = list(demo["rows"].values())
    files = []
    for k in range(3):
        path = tmp_path / f"part-{k}.parquet"
        pq.write_table(pa.Table.from_pylist(rows[k::3], schema=record_schema()), path,
                       row_group_size=2)
        files.append(path)
    many = tmp_path / "many"
    report = build_index(files, many, jobs=2, shard_text_bytes=1500)
    assert report["shards"] > 3
    added = tmp_path / "added"
    build_index(files[:1], added, jobs=1)
    assert main(["index", "--add", str(files[1]), str(files[2]), "--out", str(added),
                 "--quiet"]) == 0
    assert read_manifest(added)["documents"] == len(rows)
    long_enough = [r for r in rows if len(r["text"].split()) >= 55]
    text = " ".join(f"{FILLER} {words_of(r, 0, 55)}" for r in long_enough)
    expected = TraceIndex.open(demo["index"]).trace(text).to_json()
    for folder, jobs in ((many, 1), (many, 2), (added, 1)):
        got = TraceIndex.open(folder, jobs=jobs).trace(text).to_json()
        assert got["spans"] == expected["spans"], (folder, jobs)
        assert got["sources"] == expected["sources"]
    assert len(expected["sources"]) == len(long_enough) >= 8


def test_add_refuses_an_input_already_in_the_index(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    shard = tmp_path / "a.parquet"
    pq.write_table(pa.Table.from_pylist([make_row()], schema=record_schema()), shard)
    build_index([shard], tmp_path / "index", jobs=1)
    before = (tmp_path / "index" / INDEX_FILE).read_text()
    copy = tmp_path / "copy-of-a.parquet"
    copy.write_bytes(shard.read_bytes())
    assert main(["index", "--add", str(copy), "--out", str(tmp_path / "index")]) == 2
    assert "already in the index" in capsys.readouterr().err
    assert (tmp_path / "index" / INDEX_FILE).read_text() == before
    assert sorted(p.name for p in (tmp_path / "index").iterdir()) == [INDEX_FILE,
                                                                      "shard-00000"]


def test_a_failed_build_writes_nothing(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.parquet"
    pq.write_table(pa.Table.from_pylist([make_row()], schema=record_schema()), good)
    bad = tmp_path / "bad.parquet"
    data = bytearray(good.read_bytes())
    data[8:200] = b"\xff" * 192  # the column chunks, not the footer: fails while building
    bad.write_bytes(bytes(data))
    assert main(["index", str(good), str(bad), "--out", str(tmp_path / "index"),
                 "--jobs", "1"]) == 2
    assert "bad.parquet" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.parquet", "good.parquet"]


def test_existing_folder_needs_overwrite(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    shard = tmp_path / "a.parquet"
    pq.write_table(pa.Table.from_pylist([make_row()], schema=record_schema()), shard)
    (tmp_path / "index").mkdir()
    (tmp_path / "index" / "something").write_text("x")
    assert main(["index", str(shard), "--out", str(tmp_path / "index")]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main(["index", str(shard), "--out", str(tmp_path / "index"), "--overwrite",
                 "--quiet"]) == 0
    assert read_manifest(tmp_path / "index")["documents"] == 1


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(("data", "message"), [
    (b"", "the text is empty"),
    (b"   \n\t ", "the text is empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "not UTF-8 text"),
    (b"text\x00with\x00nul\x00bytes\x00" * 10, "looks binary"),
    (b"word " * 1_100_000, "characters; at most"),
])
def test_bad_texts_get_a_clear_message(demo: dict[str, Any], data: bytes, message: str
                                       ) -> None:
    done = licrawl("trace", "--index", str(demo["index"]), stdin=data)
    assert done.returncode == 2
    err = done.stderr.decode()
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize("text", [
    "机器学习模型的输出可能会复制训练数据中的文本。" * 5,
    "مخرجات النموذج قد تنسخ نصوصا من بيانات التدريب " * 5,
    "Выходные данные модели могут копировать текст " * 5,
])
def test_texts_in_other_scripts_are_traced(demo: dict[str, Any], text: str) -> None:
    done = licrawl("trace", "--index", str(demo["index"]), "--json", stdin=text.encode())
    assert done.returncode == 0, done.stderr.decode()
    result = json.loads(done.stdout)
    assert result["input_words"] > 0 and result["spans"] == []


def test_chinese_text_is_matched_character_by_character(tmp_path: Path) -> None:
    chinese = ("在河流的上游，河水多次切穿自己的沉积物。每一次下切都在谷坡上留下一个平台，"
               "也就是阶地，其中最古老的一级如今高出水面四十米。走过它的人很少注意到，"
               "脚下的草地曾经是辫状河道的河床。")
    shard = tmp_path / "zh.parquet"
    pq.write_table(pa.Table.from_pylist([make_row(text=chinese, lang="zh",
                                                  license="CC-BY-SA-4.0")],
                                        schema=record_schema()), shard)
    build_index([shard], tmp_path / "index", jobs=1)
    output = "模型说：" + chinese[10:80] + "。就这样。"
    result = TraceIndex.open(tmp_path / "index").trace(output).to_json()
    [span] = result["spans"]
    assert output[span["start"]:span["end"]] == chinese[10:80].rstrip("，。")
    assert result["sources"][0]["license"] == "CC-BY-SA-4.0"


def test_missing_or_invalid_index_exits_2(demo: dict[str, Any], tmp_path: Path) -> None:
    for folder, message in ((tmp_path / "nowhere", "no such index folder"),
                            (demo["crawl"], "not a licrawl index")):
        done = licrawl("trace", "--index", str(folder), stdin=b"some text")
        assert done.returncode == 2
        assert message in done.stderr.decode() and "Traceback" not in done.stderr.decode()


def test_an_index_of_another_format_version_is_refused(demo: dict[str, Any],
                                                       tmp_path: Path) -> None:
    old = tmp_path / "old-index"
    subprocess.run(["cp", "-r", str(demo["index"]), str(old)], check=True)
    manifest = json.loads((old / INDEX_FILE).read_text())
    manifest["format_version"] = 99
    (old / INDEX_FILE).write_text(json.dumps(manifest))
    done = licrawl("trace", "--index", str(old), stdin=b"some text")
    assert done.returncode == 2
    assert "format version 99" in done.stderr.decode()
    assert "rebuild it with `licrawl index`" in done.stderr.decode()
    (old / manifest["shards"][0]["name"] / "sa.npy").unlink()
    manifest["format_version"] = 1
    (old / INDEX_FILE).write_text(json.dumps(manifest))
    done = licrawl("trace", "--index", str(old), stdin=b"some text")
    assert done.returncode == 2 and "incomplete index shard" in done.stderr.decode()


def test_bad_options_exit_2(demo: dict[str, Any]) -> None:
    done = licrawl("trace", "--index", str(demo["index"]), "--min-words", "3", stdin=b"x")
    assert done.returncode == 2 and "--min-words" in done.stderr.decode()


def test_too_short_min_words_in_the_api() -> None:
    with pytest.raises(TraceInputError):
        TraceIndex(Path("."), {}, []).trace("text", min_words=2)


# --------------------------------------------------------------------------- units


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)),
               max_size=80))
def test_query_words_are_the_corpus_words(text: str) -> None:
    words = query_words(text)
    flat, counts = split_words(pa.array([text]))
    assert len(words) == int(counts[0]) == len(flat)
    from crawler.stages.index.words import word_hashes
    assert (words.hashes[words.index] == word_hashes(flat.to_pylist())).all()
    for start, end in zip(words.starts, words.ends, strict=True):
        assert 0 <= start < end <= len(text)


def test_seeds_are_searched_only_near_words_no_verbatim_span_covers() -> None:
    import numpy as np

    from crawler.trace.engine import seed_starts
    covered = np.zeros(300, bool)
    covered[0:200] = True
    starts = seed_starts(covered, 50)
    assert starts.min() == 200 - 50 - 8 + 1 and starts.max() == 299
    assert len(seed_starts(np.ones(100, bool), 50)) == 0


def test_maximal_spans_do_not_repeat_a_contained_span() -> None:
    import numpy as np
    lengths = np.zeros(100, np.int64)
    lengths[10] = 60  # 10..70
    lengths[11] = 59  # inside the first
    lengths[30] = 55  # 30..85: ends later, kept
    assert maximal_spans(lengths, 50) == [(10, 70), (30, 85)]


@pytest.mark.parametrize(("license_", "expected"), [
    ("CC-BY-4.0", "licensed CC BY 4.0: credit the author, link the license, indicate changes."),
    ("CC-BY-NC-SA-4.0", "no commercial use"),
    ("CC-BY-ND-4.0", "no adaptations"),
    ("CC0-1.0", "in the public domain (CC0 1.0 Universal): no conditions"),
    ("LicenseRef-All-Rights-Reserved", "All rights reserved: not licensed for reuse."),
    ("NOASSERTION", "license unknown (NOASSERTION): no license is known"),
    ("MIT OR CC-BY-4.0", "choose one"),
    ("GFDL-1.3-or-later", "share adaptations under the same license"),
])
def test_verdict_wording_follows_the_license(license_: str, expected: str) -> None:
    doc = {"title": "Herons", "authors": ["A. Author"], "url": "https://example.org/h",
           "license": license_, "license_confidence": 0.9}
    sentence = verdict(87, doc)
    assert sentence.startswith('Reproduces 87 words of "Herons" by A. Author '
                               "(https://example.org/h), ")
    assert expected in sentence


def test_verdict_without_author_or_title_and_with_low_confidence() -> None:
    doc = {"title": None, "authors": [], "copyright": "© 2020 Acme", "url": "https://a.org/",
           "license": "CC-BY-4.0", "license_confidence": 0.3}
    sentence = verdict(1, doc)
    assert sentence.startswith("Reproduces 1 word of the page (https://a.org/; notice: © 2020 "
                               "Acme), licensed CC BY 4.0")
    assert "low confidence (0.30)" in sentence
    assert license_terms("not a license !!").category == "unknown"
