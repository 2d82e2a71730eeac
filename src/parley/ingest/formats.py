"""Which reader takes which file: format detection and the reader registry.

Formats are detected from content first (an X12 interchange is an X12
interchange whatever its name), then from the extension for tabular extracts,
which also need a column-mapping file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parley.errors import InputError, UnknownFormatError
from parley.ingest.base import ParsedChunk, PatientHasher, Problem
from parley.ingest.sources import Source

TABULAR_SUFFIXES = {".csv", ".tsv", ".txt", ".xlsx", ".xlsm"}


@dataclass(frozen=True)
class Detected:
    format: str  # x12-835, x12-837p, x12-837i, tabular-claims, tabular-remittance
    version: str | None = None


def x12_version(head: bytes) -> str | None:
    """GS08 (the implementation guide, e.g. 005010X221A1) from the first bytes."""
    text = head.lstrip()
    sep = text[3:4] if text[:3] == b"ISA" else (text[2:3] if text[:2] in (b"GS", b"ST") else b"")
    if not sep or sep.isalnum():
        return None
    at = text.find(b"GS" + sep)
    if at < 0:
        return None
    guess = text[105:106] if text[:3] == b"ISA" and len(text) > 105 else b"~|^'"
    enders = bytes(c for c in guess + b"\r\n" if bytes([c]) != sep)
    segment = re.split(b"[" + re.escape(enders) + b"]", text[at:], maxsplit=1)[0]
    fields = segment.split(sep)
    return fields[8].decode("ascii", "replace").strip() if len(fields) > 8 else None


def detect(source: Source, head: bytes, *, mapping: Any | None) -> Detected:
    """The file's format, or UnknownFormatError saying what was seen."""
    from parley.ingest.x12 import sniff_x12, why_not_x12

    if not head.strip():
        raise UnknownFormatError(f"{source.name}: the file is empty (0 bytes of content)")
    kind = sniff_x12(head)
    if kind is not None:
        return Detected(kind, x12_version(head))
    from parley.ingest.tic import sniff_market  # price-transparency files (TiC, hospital)

    if (market := sniff_market(head, source.suffix)) is not None:
        return Detected(market)
    printable = head[:40].decode("latin-1").encode("unicode_escape").decode()
    if (why := why_not_x12(head)) is not None:  # before the tabular guess: X12 often ends in .txt
        raise UnknownFormatError(
            f"{source.name}: {why} (it starts with '{printable}')",
            hint="Parley reads X12 835 remittances and 837P/837I claims; check the file with its sender",
        )
    if source.suffix in TABULAR_SUFFIXES or head[:2] == b"PK":
        if mapping is None and head[:2] != b"PK":  # appointment / quality extracts: known by their header
            from parley.ingest.tabular.operations import sniff_operations

            if (kind := sniff_operations(head)) is not None:
                return Detected(f"tabular-{kind}", "by header")
        if mapping is None:
            raise InputError(
                f"{source.name}: a tabular extract needs a column mapping",
                hint="pass --mapping FILE.yaml (see docs/tabular-mapping.md and examples/mappings/)",
            )
        return Detected(f"tabular-{mapping.kind}", getattr(mapping, "name", None) or "tabular")
    raise UnknownFormatError(
        f"{source.name}: not a format Parley reads (it starts with '{printable}')",
        hint="Parley reads X12 835/837 files, and CSV/Excel extracts with --mapping",
    )


def read(
    source: Source,
    detected: Detected,
    *,
    file_id: str,
    hasher: PatientHasher,
    mapping: Any | None,
    chunk_bytes: int,
) -> Iterator[ParsedChunk]:
    """Run the reader for a detected format."""
    if detected.format in ("x12-835", "x12-837p", "x12-837i"):
        yield from _read_x12(source, detected.format[4:7], file_id=file_id, hasher=hasher, chunk_bytes=chunk_bytes)
    elif detected.format.startswith("tabular-"):
        from parley.ingest.tabular import read_tabular

        path = source.local_path()
        if path is None:
            raise InputError(f"{source.name}: tabular extracts must be plain files, not compressed or zipped")
        yield from read_tabular(Path(path), mapping, file_id=file_id, hasher=hasher)
    elif detected.format.startswith(("tic-", "hpt-")):
        from parley.ingest.tic import read_market

        yield from read_market(source, detected.format, file_id=file_id, hasher=hasher, options=None)
    else:  # pragma: no cover - detect() only returns the formats above
        raise UnknownFormatError(f"{source.name}: no reader for {detected.format}")


def _x12_pass(source: Source, kind: str, **kwargs: Any) -> Iterator[ParsedChunk]:
    from parley.ingest.x12 import read_835, read_837

    reader = read_835 if kind == "835" else read_837
    with source.open() as stream:
        yield from reader(stream, **kwargs)


def _read_x12(source: Source, kind: str, **kwargs: Any) -> Iterator[ParsedChunk]:
    """An 835 or 837 file, and the transactions of the other set in it: a functional group of
    835s inside an 837 file (or the reverse) is valid X12, so a second pass reads them with
    their own reader (into their own tables) instead of leaving them skipped.  The second
    pass's envelope problems, which the first already reported, are not repeated."""
    from parley.ingest.x12._driver import READ_TYPES, skipped_type

    seen: set[tuple[Any, ...]] = set()
    others: set[str] = set()
    for chunk in _x12_pass(source, kind, **kwargs):
        problems = []
        for p in chunk.problems:
            other = skipped_type(p)
            if other in READ_TYPES and other != kind:
                others.add(other)
                continue
            seen.add(_problem_key(p))
            problems.append(p)
        yield ParsedChunk(tables=chunk.tables, problems=problems, bytes_done=chunk.bytes_done)
    for other in sorted(others):
        for chunk in _x12_pass(source, other, **kwargs):
            problems = [
                p for p in chunk.problems if skipped_type(p) not in READ_TYPES and _problem_key(p) not in seen
            ]
            seen.update(_problem_key(p) for p in problems)
            yield ParsedChunk(tables=chunk.tables, problems=problems, bytes_done=chunk.bytes_done)


def _problem_key(p: Problem) -> tuple[Any, ...]:
    return (p.code, p.segment_number, p.element, p.claim_id)
