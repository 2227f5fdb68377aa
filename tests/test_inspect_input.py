"""Bad and odd input for ``crawler.detect.inspect`` and the ``licrawl inspect`` command: a clear
error or NOASSERTION, never a crash or a hang."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from crawler import inspect
from crawler.detect.extract import InspectError

ARTICLE = (
    "<p>The harbour of the old town was rebuilt in 1880 after the great storm, and its "
    "stone piers still stand today, visited by thousands of walkers every summer.</p>"
    "<p>Local historians have collected letters, drawings and photographs of the works, "
    "which show how the piers were built by hand over six long years.</p>"
)
LICENSED = (
    "<html><head><meta charset='utf-8'><title>Der Hafen</title></head><body><article>"
    + ARTICLE
    + "<p>Dieser Artikel steht unter der Lizenz CC BY-SA 4.0. Größe über alles.</p>"
    "</article></body></html>"
)


@pytest.mark.parametrize("data", [b"", b"   \n\t ", ""])
def test_empty_input_is_a_clear_error(data: bytes | str) -> None:
    with pytest.raises(InspectError, match="empty"):
        inspect(data)


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj", "PDF"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG"),
        (b"\x1f\x8b\x08\x00" + bytes(range(256)), "gzip"),
        (bytes(range(256)) * 20, "binary"),
    ],
)
def test_binary_input_is_a_clear_error(data: bytes, kind: str) -> None:
    with pytest.raises(InspectError, match=kind):
        inspect(data)


def test_misdeclared_charset_is_decoded_by_what_the_bytes_are() -> None:
    body = LICENSED.replace("charset='utf-8'", "charset='utf-8'").encode("latin-1")
    record = inspect(body, headers={"Content-Type": "text/html; charset=utf-8"})
    assert "Größe über alles" in record["text"]
    assert record["license"] == "CC-BY-SA-4.0"


def test_missing_charset_is_detected() -> None:
    body = LICENSED.replace("<meta charset='utf-8'>", "").encode("cp1252")
    record = inspect(body)
    assert "Größe" in record["text"]
    assert record["license"] == "CC-BY-SA-4.0"


def test_header_charset_is_used_for_non_utf8_bytes() -> None:
    body = LICENSED.replace("<meta charset='utf-8'>", "").encode("latin-1")
    record = inspect(body, headers=[("content-type", "text/html; charset=ISO-8859-1")])
    assert "über alles" in record["text"]


def test_utf16_with_byte_order_mark_is_decoded() -> None:
    record = inspect(LICENSED.encode("utf-16"))
    assert record["license"] == "CC-BY-SA-4.0"
    assert "Größe" in record["text"]


def test_truncated_markup_still_gives_a_record() -> None:
    cut = LICENSED[: LICENSED.index("Größe")]
    record = inspect(cut)
    assert record["license"] == "CC-BY-SA-4.0"
    assert record["text"].startswith("The harbour")


def test_page_without_main_text_has_empty_text_not_an_error() -> None:
    record = inspect("<html><head><title>x</title></head><body><div> </div></body></html>")
    assert record["text"] == ""
    assert record["license"] == "NOASSERTION"
    assert record["license_confidence"] == 0.0


def test_absurd_nesting_does_not_crash() -> None:
    deep = "<html><body>" + "<div>" * 100_000 + "deep" + "</div>" * 100_000
    deep += "<footer>Licensed under CC BY-SA 4.0</footer></body></html>"
    record = inspect(deep)
    assert record["license"] in ("NOASSERTION", "CC-BY-SA-4.0")
    assert isinstance(record["text"], str)


def test_ten_megabyte_page_is_inspected() -> None:
    para = "<p>" + "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 20 + "</p>\n"
    body = "<html><head><title>Big</title></head><body><article>"
    body += para * (10_000_000 // len(para))
    body += "</article><footer>This site is licensed under <a rel='license' "
    body += (
        "href='https://creativecommons.org/licenses/by/4.0/'>CC BY 4.0</a></footer></body></html>"
    )
    assert len(body) > 9_900_000
    record = inspect(body.encode())
    assert record["license"] == "CC-BY-4.0"
    assert record["text"]


def _cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "crawler.cli", "inspect", *args],
        input=stdin,
        capture_output=True,
        timeout=120,
        check=False,
    )


def test_cli_summary_shows_license_evidence_and_authors(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(
        LICENSED.replace("<title>", "<meta name='author' content='Anna Berg'><title>"),
        "utf-8",
    )
    result = _cli(str(page), "--url", "https://example.org/hafen")
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert out.startswith("license     CC-BY-SA-4.0  (copyleft, confidence")
    assert "Anna Berg" in out
    assert "text             CC-BY-SA-4.0" in out
    assert "main" in out


def test_cli_json_reads_stdin_and_headers() -> None:
    link = 'Link: <https://creativecommons.org/publicdomain/zero/1.0/>; rel="license"'
    page = LICENSED.replace("Dieser Artikel steht unter der Lizenz CC BY-SA 4.0.", "")
    result = _cli(
        "-", "--json", "--header", link, "--header", "X-Robots-Tag: noai", stdin=page.encode()
    )
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["license"] == "CC0-1.0"
    assert record["license_evidence"][0]["where"] == "header"
    assert "header:noai" in record["ai_optout"]


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["/nonexistent/page.html"], None, "No such file"),
        (["-"], b"", "empty document"),
        (["-"], b"%PDF-1.4 binary", "PDF"),
        (["-", "--header", "no colon here"], b"<p>x</p>", "Name: value"),
    ],
)
def test_cli_bad_input_exits_2_with_a_message(
    args: list[str], stdin: bytes | None, message: str
) -> None:
    result = _cli(*args, stdin=stdin)
    assert result.returncode == 2
    assert message in result.stderr.decode()
    assert result.stdout == b""
