"""The baseline of ``bench_process_wall.py``: warcio + trafilatura alone, as a whole process.

``python bench/wall_baseline.py WARC...`` reads every WARC with warcio's ``ArchiveIterator``
and calls ``trafilatura.bare_extraction(body, url=..., with_metadata=True,
include_comments=False, include_tables=True)`` on every HTML response (the two options are
the ones ``crawler/detect/extract.py`` passes), then prints how many responses it read and
how many gave a text. Nothing else: no decoding of its own (trafilatura decodes the bytes),
no writing.
"""

from __future__ import annotations

import sys

import trafilatura
from warcio.archiveiterator import ArchiveIterator


def main(paths: list[str]) -> int:
    """Extract every HTML response of ``paths``; print the counts."""
    responses = texts = 0
    for path in paths:
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type != "response" or record.http_headers is None:
                    continue
                if "html" not in (record.http_headers.get_header("Content-Type") or ""):
                    continue
                body = record.content_stream().read()
                url = record.rec_headers.get_header("WARC-Target-URI")
                responses += 1
                doc = trafilatura.bare_extraction(body, url=url, with_metadata=True,
                                                  include_comments=False, include_tables=True)
                texts += bool(doc is not None and doc.text)
    print(f"responses {responses}, with text {texts}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
