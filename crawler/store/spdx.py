"""The SPDX 2.3 document of every shard (SPEC section 1).

A shard ``X/data/<name>.parquet`` has its document at ``X/spdx/<name>.spdx.json``: outside
the shard folder, so that ``X/data`` holds only Parquet files and every common reader
(pyarrow.dataset, pandas, polars, DuckDB, Hugging Face ``data_dir=``) accepts the folder.

One SPDX ``File`` per row: ``SPDXRef-File-<row id>`` named by the URL, with the SHA-1 of the
text, ``licenseConcluded`` (the row's ``license``), ``licenseInfoInFiles`` (the licenses its
evidence named), ``copyrightText``, ``fileContributors`` (authors) and ``attributionTexts``.
Every ``LicenseRef-`` used is declared in ``hasExtractedLicensingInfos`` from
:func:`crawler.licenses.license_info`.

Structure, chosen for the cost of spdx-tools' validator: the validator resolves each end of
every relationship by rebuilding the list of all element ids of the document
(``validate_spdx_id(..., check_document=True)`` -> ``get_list_of_all_spdx_ids``), so each
relationship costs O(elements) and "document DESCRIBES each file" (or "package CONTAINS each
file") costs O(files²); its JSON parser also de-duplicates relationships with list look-ups,
again quadratic. So a document has exactly one relationship: ``SPDXRef-DOCUMENT DESCRIBES
SPDXRef-Shard``, a Package standing for the Parquet shard file (its file name and, when
known, the SHA-1 of its bytes; ``filesAnalyzed`` false). The row Files are document-level
elements of the same document. Validation and parsing stay linear in the number of rows.
The Package carries what the NTIA minimum elements ask of a component: a name, a version
(the crawl id), a supplier (``Organization: licrawl``) and its SPDX id; the document adds
the author of the SBOM data (the tool), a timestamp and the relationship.

License expressions are parsed once, by :func:`crawler.licenses.expressions.parse` (the
project's one license-expression ``Licensing``); spdx-tools' model, converter and validator
take the ``LicenseExpression`` objects it returns as they are. Its ``Licensing`` knows only
SPDX ids, so ``LicenseRef-`` ids keep the spelling they were written with (spdx-tools' own
licensing object would rename some to ScanCode aliases: ``LicenseRef-PublicDomain`` to
``LicenseRef-scancode-public-domain``), and the document says exactly what the row says.

Cost (``bench/bench_spdx.py``): a shard's rows share few licenses, so the per-row work
that depends only on a license value is done once per distinct value.

- Building: each distinct ``license`` string and each distinct list of evidence ``spdx``
  values is parsed once per document; the Files that share one share the same objects.
- Validation (:func:`validate_document`): spdx-tools' ``validate_full_spdx_document``
  checks, for SPDX-2.3, (a) the creation info, packages, snippets, annotations,
  relationships and extracted licensing infos, (b) each File on its own: its SPDX id
  format, its name (not starting with ``/``), its checksums (a SHA1 one, each value of the
  algorithm's length in lower-case hex) and its two license fields (each expression parses
  and uses only SPDX list ids or ``LicenseRef-`` ids declared in the document), and (c) that
  the SPDX ids are unique. Files enter (a) only as targets of references: a relationship,
  annotation or snippet naming a File absent from the document is reported missing. So a
  document is valid if spdx-tools' validator finds nothing in the *reduced* document (same
  non-File parts, one File per distinct pair of license objects), every File passes the
  validator's own id, name and checksum patterns (the same regular expressions, applied
  here directly), and the ids are unique: (a) holds because every reference resolved in
  the reduced document resolves to the same element in the full one (a File missing from
  the reduced document would have been reported); (b) holds for each File because the
  license checks are a function of the license objects and the declarations, identical
  for all Files of a group, and the rest was checked directly; (c) was checked. When any
  of that fails, the whole document goes through the plain validator and its messages are
  returned, so the shortcut never hides or invents a message. tests/test_spdx.py compares
  the outcome with the plain validator on valid and broken documents.
- JSON (:func:`write_document`): spdx-tools' converter converts one File per group of
  Files that differ only in their id, name, checksums, copyright text, contributors and
  attribution texts; the others reuse its dict with those values filled in as the
  converter writes them (:func:`document_json`, tested equal to the converter's output),
  and the C JSON encoder writes it.
- The cyclic garbage collector is paused while a document is built and converted (see
  :class:`_CyclicGcPause`).
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import re
import threading
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import Any

from boolean.boolean import Expression
from spdx_tools.spdx.jsonschema.checksum_converter import algorithm_to_json_string
from spdx_tools.spdx.jsonschema.document_converter import DocumentConverter
from spdx_tools.spdx.model import (
    Actor,
    ActorType,
    Checksum,
    ChecksumAlgorithm,
    CreationInfo,
    Document,
    ExtractedLicensingInfo,
    File,
    FileType,
    Package,
    Relationship,
    RelationshipType,
    SpdxNoAssertion,
)
from spdx_tools.spdx.validation.checksum_validator import algorithm_length
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document
from spdx_tools.spdx.validation.spdx_id_validators import get_list_of_all_spdx_ids

from crawler.core.fsutil import fsync_dir
from crawler.licenses import license_info
from crawler.licenses.expressions import licensing, parse

NOASSERTION = "NOASSERTION"
DOCUMENT_ID = "SPDXRef-DOCUMENT"
SHARD_PACKAGE_ID = "SPDXRef-Shard"
SPDX_SUFFIX = ".spdx.json"
SPDX_DIR = "spdx"
"""The folder of the SPDX documents, a sibling of the shards' folder (``data``)."""
SUPPLIER = Actor(ActorType.ORGANIZATION, "licrawl")
"""The supplier of every shard Package (NTIA minimum elements)."""
NAMESPACE_BASE = "https://spdx.org/spdxdocs/licrawl"
SPDX_COLUMNS = ("id", "url", "text_sha1", "license", "license_evidence", "copyright",
                "authors", "attribution")
"""The record columns the SPDX document is made from."""

_SPDX_ID_BAD = re.compile(r"[^A-Za-z0-9.\-]")
_SHA1 = re.compile(r"[0-9a-f]{40}")
_TOOL = "licrawl-0.1.0"
_NO_ASSERTION = SpdxNoAssertion()
# The exact patterns of spdx-tools' validator (``re.match`` semantics, ``$`` included):
# spdx_id_validators.is_valid_internal_spdx_id and checksum_validator.validate_checksum.
_INTERNAL_SPDX_ID = re.compile(r"^SPDXRef-[\da-zA-Z.-]+$")
_CHECKSUM_VALUE = {algorithm: re.compile("^[0-9a-f]{" + length + "}$")
                   for algorithm, length in algorithm_length.items()}
_ALGORITHM_JSON = {algorithm: algorithm_to_json_string(algorithm)
                   for algorithm in ChecksumAlgorithm}

LicenseValue = Expression | SpdxNoAssertion


class _CyclicGcPause:
    """Context manager: the cyclic garbage collector is off while any thread is inside.

    A document is tens of thousands of small objects that stay alive until it is written;
    while they are made, each collection of the oldest generation walks all of them again
    (about half the time of building and converting a 50,000-File document). Only cycle
    detection pauses: reference counting still frees everything else, and collection
    resumes, if it was on, when the last thread leaves.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._inside = 0
        self._was_enabled = False

    def __enter__(self) -> None:
        with self._lock:
            if self._inside == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._inside += 1

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        with self._lock:
            self._inside -= 1
            if self._inside == 0 and self._was_enabled:
                gc.enable()


_GC_PAUSE = _CyclicGcPause()


def spdx_path_for(shard_path: str | Path) -> Path:
    """The SPDX document path of a shard: ``X/data/<name>.parquet`` -> ``X/spdx/<name>.spdx.json``.

    The ``spdx`` folder is a sibling of the shard's folder, whatever that folder is called.
    """
    shard_path = Path(shard_path)
    return (shard_path.parent.parent / SPDX_DIR
            / (shard_path.name.removesuffix(".parquet") + SPDX_SUFFIX))


@lru_cache(maxsize=8192)
def parse_license(expression: str) -> LicenseValue:
    """Parse an SPDX license expression (or ``NOASSERTION``) for an SPDX document.

    The expression is parsed by :func:`crawler.licenses.expressions.parse` (cached: the
    same string gives the same object). Raises ``ValueError`` for a syntax error, an id
    that is neither on the SPDX license list nor a ``LicenseRef-``, or a reference into
    another document (``DocumentRef-...:``), which this document cannot declare.
    """
    text = expression.strip()
    if text == NOASSERTION:
        return _NO_ASSERTION
    parsed = parse(text)
    external = [key for key in _symbol_keys(parsed) if ":" in key]
    if external:
        raise ValueError(f"invalid license expression {expression!r}: {external[0]} refers "
                         "to another SPDX document")
    return parsed


def _symbol_keys(value: Expression) -> list[str]:
    """The license and exception ids of a parsed expression, in order of appearance."""
    return [s.key for s in licensing().license_symbols(value, decompose=True)]


def license_refs(value: LicenseValue) -> list[str]:
    """The ``LicenseRef-`` ids used in a parsed license value, in order of appearance."""
    if isinstance(value, SpdxNoAssertion):
        return []
    return list(dict.fromkeys(k for k in _symbol_keys(value) if k.startswith("LicenseRef-")))


@lru_cache(maxsize=1024)
def _extracted_info(license_id: str) -> ExtractedLicensingInfo:
    """The declaration of one ``LicenseRef-``: name, text and URL from crawler.licenses."""
    info = license_info(license_id)
    return ExtractedLicensingInfo(
        license_id=license_id,
        extracted_text=info.text,
        license_name=info.name,
        cross_references=[info.url] if info.url else [],
    )


def check_licenses(license_expr: str, evidence_spdx: Iterable[str | None]) -> None:
    """Raise ``ValueError`` unless a row's license values can go into an SPDX document.

    Checks the ``license`` expression and every evidence ``spdx`` value with
    :func:`parse_license`.
    """
    values = [("license", license_expr)]
    values += [("license_evidence.spdx", v) for v in evidence_spdx if v is not None]
    for column, expression in values:
        try:
            parse_license(expression)
        except ValueError as err:
            raise ValueError(f"column {column!r}: {err}") from None


def check_sha1(value: object) -> None:
    """Raise ``ValueError`` unless ``value`` is a lower-case hex SHA-1."""
    if not isinstance(value, str) or not _SHA1.fullmatch(value):
        raise ValueError(f"column 'text_sha1': not a lower-case hex SHA-1: {value!r}")


def _file_spdx_id(row_id: str, used: set[str]) -> str:
    """``SPDXRef-File-<row id>`` in the SPDX id charset, unique within the document."""
    base = "SPDXRef-File-" + (_SPDX_ID_BAD.sub("-", row_id) or "row")
    spdx_id, n = base, 1
    while spdx_id in used:
        n += 1
        spdx_id = f"{base}.{n}"
    used.add(spdx_id)
    return spdx_id


def _parse(expression: str, lenient: bool) -> LicenseValue:
    """:func:`parse_license`; with ``lenient``, ``NOASSERTION`` for a value it refuses."""
    try:
        return parse_license(expression)
    except ValueError:
        if lenient:
            return _NO_ASSERTION
        raise


def _evidence_licenses(evidence_spdx: Iterable[str | None], lenient: bool = False
                       ) -> tuple[LicenseValue, ...]:
    """Distinct licenses named by a row's evidence, or just ``NOASSERTION`` when none is
    (with ``lenient``, a value that is no expression names none)."""
    symbols: dict[Expression, None] = {}
    for value in evidence_spdx:
        if value is None:
            continue
        parsed = _parse(value, lenient)
        if not isinstance(parsed, SpdxNoAssertion):
            symbols.update(dict.fromkeys(parsed.get_symbols()))
    return tuple(symbols) or (_NO_ASSERTION,)


def _row_file(row: Mapping[str, Any], spdx_id: str, concluded: LicenseValue,
              in_file: tuple[LicenseValue, ...]) -> File:
    """One SPDX File for one record, its license values already parsed."""
    copyright_text = row.get("copyright")
    attribution = row.get("attribution")
    return File(
        name=row["url"],
        spdx_id=spdx_id,
        checksums=[Checksum(ChecksumAlgorithm.SHA1, row["text_sha1"])],
        file_types=[FileType.TEXT],
        license_concluded=concluded,
        license_info_in_file=list(in_file),
        copyright_text=copyright_text if copyright_text else _NO_ASSERTION,
        contributors=list(dict.fromkeys(row.get("authors") or ())),
        attribution_texts=[attribution] if attribution else [],
    )


def build_document(
    rows: Iterable[Mapping[str, Any]],
    *,
    name: str,
    namespace: str,
    created: datetime | None = None,
    shard_sha1: str | None = None,
    version: str | None = None,
    lenient: bool = False,
) -> Document:
    """Build the SPDX 2.3 document of a shard: one File per row (see the module docstring).

    ``name`` is the shard's file name (document and package name); ``namespace`` a unique
    URI for this document (see :func:`new_namespace`); ``shard_sha1`` the SHA-1 of the
    shard's bytes, recorded on the shard Package when given; ``version`` the shard
    Package's version, the crawl id (default: the creation time, ``20240501T123000Z``), so
    that every document has the NTIA minimum elements. Raises ``ValueError`` on a row
    whose license values cannot be expressed (see :func:`check_licenses`), unless
    ``lenient``: then such a value is ``NOASSERTION`` in the document (the shard of rows a
    filter excluded, whose license may be no SPDX expression, keeps the value itself). Each distinct
    ``license`` and each distinct list of evidence ``spdx`` values is parsed once per
    document: the Files that share one share the same license objects.
    """
    files: list[File] = []
    used_ids: set[str] = set()
    refs: dict[str, None] = {}  # in order of first use
    concluded_by_text: dict[str, LicenseValue] = {}
    in_file_by_evidence: dict[tuple[str | None, ...], tuple[LicenseValue, ...]] = {}
    with _GC_PAUSE:
        for index, row in enumerate(rows):
            try:
                check_sha1(row["text_sha1"])
                expression = row["license"]
                concluded = concluded_by_text.get(expression)
                if concluded is None:
                    concluded = concluded_by_text[expression] = _parse(expression, lenient)
                    refs.update(dict.fromkeys(license_refs(concluded)))
                evidence = tuple(item.get("spdx") for item in row.get("license_evidence") or ())
                in_file = in_file_by_evidence.get(evidence)
                if in_file is None:
                    in_file = in_file_by_evidence[evidence] = _evidence_licenses(evidence,
                                                                                 lenient)
                    for value in in_file:
                        refs.update(dict.fromkeys(license_refs(value)))
                files.append(_row_file(row, _file_spdx_id(str(row["id"]), used_ids),
                                       concluded, in_file))
            except (KeyError, ValueError) as err:
                raise ValueError(f"row {index} (id={row.get('id')!r}): {err}") from None

    when = (created or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    creation_info = CreationInfo(
        spdx_version="SPDX-2.3",
        spdx_id=DOCUMENT_ID,
        name=name,
        document_namespace=namespace,
        creators=[Actor(ActorType.TOOL, _TOOL)],
        created=when,
        document_comment=(
            f"Licensing of the {len(files)} documents stored as rows of the Parquet shard "
            f"{name}. Each SPDX File is one row: its name is the document URL, its SHA1 "
            "checksum is the SHA-1 of the row's UTF-8 text, licenseConcluded is the row's "
            "license claim."
        ),
    )
    shard = Package(
        spdx_id=SHARD_PACKAGE_ID,
        name=name,
        version=version or when.strftime("%Y%m%dT%H%M%SZ"),
        supplier=SUPPLIER,
        download_location=SpdxNoAssertion(),
        file_name=name,
        files_analyzed=False,
        checksums=[Checksum(ChecksumAlgorithm.SHA1, shard_sha1)] if shard_sha1 else [],
        license_concluded=SpdxNoAssertion(),
        license_declared=SpdxNoAssertion(),
        copyright_text=SpdxNoAssertion(),
        comment="The Parquet shard; the Files of this document are its rows.",
    )
    return Document(
        creation_info=creation_info,
        packages=[shard],
        files=files,
        relationships=[Relationship(DOCUMENT_ID, RelationshipType.DESCRIBES, SHARD_PACKAGE_ID)],
        extracted_licensing_info=[_extracted_info(ref) for ref in refs],
    )


def new_namespace(name: str) -> str:
    """A fresh, unique document namespace URI for a document called ``name``."""
    return f"{NAMESPACE_BASE}/{_SPDX_ID_BAD.sub('-', name)}-{uuid.uuid4()}"


def validate_document(doc: Document) -> list[str]:
    """spdx-tools' full validation of ``doc``: its messages, empty when the document is valid.

    A document that passes :func:`_valid_by_representatives` (spdx-tools' validator on a
    smaller document plus exact checks of the rest; see the module docstring) is valid
    without validating every File again; any other goes through
    ``validate_full_spdx_document`` as a whole, whose messages are returned.
    """
    if _valid_by_representatives(doc):
        return []
    messages = []
    for message in validate_full_spdx_document(doc):
        where = message.context.spdx_id or message.context.parent_id
        prefix = f"{where}: " if where else ""
        messages.append(prefix + message.validation_message)
    return messages


def _valid_by_representatives(doc: Document) -> bool:
    """True only if ``validate_full_spdx_document(doc)`` finds nothing (module docstring).

    Every File is checked exactly as the validator checks its id, name and checksums;
    the SPDX ids of the document must be unique; then spdx-tools' validator runs on the
    document with, as its Files, one File per distinct pair of license objects
    (``licenseConcluded``, ``licenseInfoInFiles``). False means "not shown valid", not
    "invalid".
    """
    if doc.creation_info.spdx_version != "SPDX-2.3":
        return False
    representatives: dict[tuple[int, tuple[int, ...]], File] = {}
    for file in doc.files:
        spdx_id = file.spdx_id
        checksums = file.checksums
        if (not _INTERNAL_SPDX_ID.match(spdx_id) or file.name.startswith("/")
                or not any(c.algorithm == ChecksumAlgorithm.SHA1 for c in checksums)
                or not all(_CHECKSUM_VALUE[c.algorithm].match(c.value) for c in checksums)):
            return False
        key = (id(file.license_concluded), tuple(map(id, file.license_info_in_file)))
        representatives.setdefault(key, file)
    all_ids = get_list_of_all_spdx_ids(doc)
    if len(set(all_ids)) != len(all_ids):
        return False
    reduced = Document(
        creation_info=doc.creation_info,
        packages=doc.packages,
        files=list(representatives.values()),
        snippets=doc.snippets,
        annotations=doc.annotations,
        relationships=doc.relationships,
        extracted_licensing_info=doc.extracted_licensing_info,
    )
    return not validate_full_spdx_document(reduced)


def document_json(doc: Document) -> dict[str, Any]:
    """``doc`` as an SPDX JSON dict: equal to spdx-tools' ``DocumentConverter().convert(doc)``.

    spdx-tools' converter converts one File per group of Files that differ only in their
    id, name, checksums, copyright text, contributors and attribution texts (present or
    absent alike); the other Files of the group are that dict with those six values put in
    as the converter writes them. The rest of the document is converted as is. A document
    with annotations (which the converter attaches to their Files) is converted whole.
    """
    converter = DocumentConverter()
    if doc.annotations or not doc.files:
        return converter.convert(doc)
    templates: dict[tuple[Any, ...], dict[str, Any]] = {}
    files: list[dict[str, Any]] = []
    with _GC_PAUSE:
        for file in doc.files:
            key = (id(file.license_concluded), tuple(map(id, file.license_info_in_file)),
                   tuple(file.file_types), file.license_comment, file.comment, file.notice,
                   not file.checksums, file.copyright_text is None, not file.contributors,
                   not file.attribution_texts)
            template = templates.get(key)
            if template is None:
                templates[key] = converted = converter.file_converter.convert(file, doc)
                files.append(converted)
            else:
                files.append(_file_json_from(template, file))
    head = Document(
        creation_info=doc.creation_info,
        packages=doc.packages,
        files=doc.files[:1],
        snippets=doc.snippets,
        annotations=doc.annotations,
        relationships=doc.relationships,
        extracted_licensing_info=doc.extracted_licensing_info,
    )
    data = converter.convert(head)
    data["files"] = files
    return data


def _file_json_from(template: dict[str, Any], file: File) -> dict[str, Any]:
    """The converted ``template`` File of ``file``'s group with ``file``'s own values."""
    item = template.copy()
    item["SPDXID"] = file.spdx_id
    item["fileName"] = file.name
    if file.checksums:
        item["checksums"] = [{"algorithm": _ALGORITHM_JSON[c.algorithm], "checksumValue": c.value}
                             for c in file.checksums]
    if file.copyright_text is not None:
        item["copyrightText"] = str(file.copyright_text)
    if file.contributors:
        item["fileContributors"] = file.contributors
    if file.attribution_texts:
        item["attributionTexts"] = file.attribution_texts
    return item


def write_document(doc: Document, path: str | Path) -> None:
    """Write ``doc`` as SPDX JSON to ``path`` atomically (temporary file, fsync, rename).

    Serialised as :func:`document_json` (spdx-tools' converter) by the C JSON encoder as
    compact UTF-8 JSON (one line: a shard's document has tens of thousands of Files;
    ``jq .`` pretty-prints it); no validation here (see :func:`validate_document`). The
    folder is synced after the rename, so the document is on disk before the caller goes on
    (the shard writer then publishes the shard).
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    text = json.dumps(document_json(doc), ensure_ascii=False, separators=(",", ":"))
    try:
        with open(tmp, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def file_sha1(path: str | Path) -> str:
    """Hex SHA-1 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha1()
    with open(path, "rb") as f:
        while block := f.read(2**20):
            digest.update(block)
    return digest.hexdigest()


def write_shard_spdx(
    rows: Iterable[Mapping[str, Any]],
    shard_path: str | Path,
    *,
    shard_sha1: str | None = None,
    created: datetime | None = None,
    version: str | None = None,
    validate: bool = True,
    lenient: bool = False,
) -> Path:
    """Build, validate and write the SPDX document of the shard at ``shard_path``.

    The document goes to :func:`spdx_path_for` (``X/data/part-...-00001.parquet`` ->
    ``X/spdx/part-...-00001.spdx.json``; the folder is made if needed); its path is
    returned. The shard file itself need not exist yet (the shard writer writes this
    document before renaming the shard into place); pass ``shard_sha1`` to record the
    shard's checksum and ``version`` (the crawl id) as the Package version (see
    :func:`build_document`, also for ``lenient``). With ``validate`` (the default;
    validation is linear, see the module docstring) an invalid document raises
    ``ValueError`` and nothing is written.
    """
    name = Path(shard_path).name
    with _GC_PAUSE:
        doc = build_document(rows, name=name, namespace=new_namespace(name), created=created,
                             shard_sha1=shard_sha1, version=version, lenient=lenient)
        if validate:
            messages = validate_document(doc)
            if messages:
                shown = "; ".join(messages[:5])
                raise ValueError(f"SPDX document of {name} is invalid ({len(messages)} "
                                 f"message(s)): {shown}")
        out = spdx_path_for(shard_path)
        out.parent.mkdir(parents=True, exist_ok=True)
        write_document(doc, out)
    return out
