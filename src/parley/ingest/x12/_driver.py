"""The loop shared by the 835 and 837 readers: detect, tokenize, hand batches over."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import BinaryIO, Protocol

from parley.ingest.base import ParsedChunk, Problem
from parley.ingest.x12.envelope import EnvelopeChecker, Transaction
from parley.ingest.x12.tokenizer import Batch, Delimiters, Oversize, Tokenizer, detect


class BatchReader(Protocol):
    """What the 835 and 837 readers provide to the driver."""

    boundaries: frozenset[int]

    def process(self, batch: Batch) -> ParsedChunk: ...

    def use_delimiters(self, delims: Delimiters) -> None: ...


def run(
    stream: BinaryIO, make_reader: type, *, file_id: str, chunk_bytes: int, **kwargs: object
) -> Iterator[ParsedChunk]:
    """Drive a reader over a stream; bad bytes become problems, never exceptions."""
    head = stream.read(4096) or b""
    if not head.strip():
        yield ParsedChunk(
            problems=[
                Problem(
                    "error",
                    "x12.empty_file",
                    "the file is empty (or only blanks); nothing was loaded: "
                    "check the export that produced it",
                )
            ],
            bytes_done=len(head),
        )
        return
    found = detect(head)
    if found is None:
        yield ParsedChunk(problems=[_not_x12()], bytes_done=len(head))
        return
    delims, skip = found
    reader = make_reader(delims=delims, file_id=file_id, **kwargs)
    if delims.declared_component:
        reader.sink.add(_component(delims, 1))
    if delims.declared_terminator and delims.isa_end is not None:
        end = skip + delims.isa_end  # the ISA's own last byte, read as the file's terminator
        head = head[:end] + delims.terminator.encode("latin-1") + head[end + 1 :]
        reader.sink.add(_terminator(delims))
    if head[:skip].strip(b" \t\r\n\x00\xef\xbb\xbf"):
        reader.sink.add(
            Problem(
                "warning",
                "x12.leading_text",
                f"{skip} bytes of text before the interchange (ISA) were skipped",
                segment_number=None,
                loop="interchange",
            )
        )
    tokens = Tokenizer(
        stream, delims, skip=skip, first=head, chunk_bytes=chunk_bytes, boundaries=reader.boundaries
    )
    done = 0
    try:
        for item in tokens:
            if isinstance(item, Oversize):
                reader.sink.add(_oversize(item, delims))
                continue
            if isinstance(item, Delimiters):
                reader.sink.add(_switch(item, tokens.seg_count + 1))
                if item.declared_component:
                    reader.sink.add(_component(item, tokens.seg_count + 1))
                reader.use_delimiters(item)
                delims = item
                continue
            done = item.bytes_done
            yield reader.process(item)
    except OSError:
        raise
    except Exception as exc:  # noqa: BLE001 - the last line of defence: never crash on input
        if os.environ.get("PARLEY_X12_DEBUG"):
            raise
        yield ParsedChunk(
            problems=[
                Problem(
                    "error",
                    "x12.reader_failed",
                    f"the reader stopped on unexpected input ({type(exc).__name__}) after segment "
                    f"{tokens.seg_count}; the records before it were kept: please report this file",
                    segment_number=tokens.seg_count or None,
                )
            ],
            bytes_done=done,
        )


#: transaction sets Parley reads (ST01): an 835 group inside an 837 file, or the reverse, is
#: read by the other reader in the same ingest (``parley.ingest.formats.read``)
READ_TYPES = ("835", "837")


def wrong_transaction(tx: Transaction, kind: str) -> Problem:
    """A transaction of another set than the reader's ``kind`` (835 or 837): skipped."""
    other = tx.type_code or "?"
    advice = (
        f"'parley ingest' reads it with the {other} reader"
        if other in READ_TYPES
        else f"Parley does not read {other} transactions"
    )
    return Problem(
        "error",
        "x12.wrong_transaction",
        f"transaction set {other} found in an {kind} file; skipped by the {kind} reader: {advice}",
        tx.seg_no,
        "ST",
        "transaction",
        "ST01",
        transaction_control=tx.control,
        quarantined=True,
    )


def skipped_type(problem: Problem) -> str | None:
    """The transaction set (ST01) a reader skipped, from its x12.wrong_transaction problem."""
    if problem.code != "x12.wrong_transaction":
        return None
    found = re.match(r"transaction set (\S+) found", problem.message)
    return found.group(1) if found else None


def _not_x12() -> Problem:
    return Problem(
        "error",
        "x12.not_x12",
        "the file does not start with an X12 envelope (ISA, GS or ST); nothing was loaded: "
        "check that it is an 835/837 file and not a report or a PDF",
        segment_number=None,
    )


def _switch(delims: Delimiters, seg_no: int) -> Problem:
    return Problem(
        "warning",
        "x12.mixed_delimiters",
        f"this interchange uses other delimiters (element {delims.element!r}, component "
        f"{delims.component!r}, terminator {delims.terminator!r}) than the one before; "
        "read with its own delimiters",
        segment_number=seg_no,
        segment_id="ISA",
        loop="interchange",
    )


def _terminator(delims: Delimiters) -> Problem:
    return Problem(
        "warning",
        "x12.segment_terminator",
        f"the ISA ends with {delims.declared_terminator!r}, but the segments after it end with "
        f"{delims.terminator!r}: read with {delims.terminator!r}; ask the sender to fix the ISA",
        segment_number=1,
        segment_id="ISA",
        loop="interchange",
    )


def _component(delims: Delimiters, seg_no: int) -> Problem:
    return Problem(
        "warning",
        "x12.component_separator",
        f"ISA16 declares {delims.declared_component!r} as the component separator, but the "
        f"codes are written with {delims.component!r} (e.g. 'HC{delims.component}99213'); read "
        f"with {delims.component!r}: ask the sender to fix ISA16",
        segment_number=seg_no,
        segment_id="ISA",
        element="ISA16",
        loop="interchange",
    )


def _oversize(item: Oversize, delims: Delimiters) -> Problem:
    return Problem(
        "error",
        "x12.segment_too_long",
        f"{item.nbytes} bytes without a segment terminator {delims.terminator!r}; they were "
        "skipped: the file may be corrupt or use another terminator",
        segment_number=item.seg_no,
        quarantined=True,
    )


__all__ = ["EnvelopeChecker", "run"]
