"""Columnar X12 tokenizer: bytes in, batches of segments (as arrays) out.

No per-segment Python loop.  A chunk of bytes is cut on a segment terminator
(preferably just before a "boundary" segment such as CLP or CLM, so that a
claim never straddles two batches), the terminator positions are found with
numpy, and every segment id is encoded as an integer from its first bytes.
A :class:`Batch` keeps the bytes and the segment boundaries; readers pick
segment types by their integer code and read elements straight from the
bytes (``fields``), or ask for the few segments they handle in Python as
Polars strings (``Batch.rows``).

Batches hold at most ``MAX_BATCH_BYTES`` (8 MB) whatever ``chunk_bytes``
asks: larger batches are not faster and cost memory.  A loop (claim) longer
than ``4 * chunk_bytes`` is cut at a plain terminator; bytes with no
terminator for that long are skipped and reported (``Oversize``).

Whitespace: CR and LF between segments are removed before tokenizing (X12's
character set has no CR/LF inside values), leading blanks before a segment id
are skipped.  Each terminator is replaced by the element separator, so a
segment's text is ``ID*e1*e2*`` and splitting it never sees the terminator.
Bytes outside ASCII that are not valid UTF-8 are replaced by ``?``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
import polars as pl
import pyarrow as pa

from parley.ingest.x12 import _kernels as K

_WS = b" \t\r\n\x00\xef\xbb\xbf"
#: what may follow the last terminator of a file: blanks, NUL padding and the DOS end-of-file
#: mark (Ctrl-Z, 0x1A) that some old PC tools append
_WS_CODES = np.frombuffer(_WS + b"\x1a", dtype=np.uint8)

#: bytes per batch at most, whatever chunk_bytes asks: bigger batches are no faster
#: (their temporaries no longer fit the allocator's reuse) and cost memory
MAX_BATCH_BYTES = 8 << 20
#: zero bytes after each batch's data
PAD = 32


@dataclass(frozen=True, slots=True)
class Delimiters:
    element: str
    component: str
    terminator: str
    repetition: str | None = None
    #: the component separator ISA16 declares when the data uses another one (``component``)
    declared_component: str | None = None
    #: the byte that ends the ISA when the segments after it end with another (``terminator``),
    #: and where it is (from the ISA's start): the reader reads that byte as the terminator
    declared_terminator: str | None = None
    isa_end: int | None = None


def sid_code(sid: str) -> int:
    """Integer code of a segment id (2 or 3 characters)."""
    raw = sid.encode()
    return (raw[0] << 16) | (raw[1] << 8) | (raw[2] if len(raw) > 2 else 0)


def code_sid(code: int) -> str:
    chars = [(code >> 16) & 255, (code >> 8) & 255, code & 255]
    return bytes(c for c in chars if c).decode("latin-1")


C = {
    s: sid_code(s)
    for s in [
        "ISA",
        "IEA",
        "GS",
        "GE",
        "ST",
        "SE",
        "BPR",
        "TRN",
        "DTM",
        "N1",
        "REF",
        "LX",
        "CLP",
        "CAS",
        "NM1",
        "MOA",
        "MIA",
        "SVC",
        "AMT",
        "LQ",
        "PLB",
        "BHT",
        "HL",
        "SBR",
        "DMG",
        "CLM",
        "DTP",
        "HI",
        "SV1",
        "SV2",
        "LIN",
        "CTP",
        "PAT",
        "QTY",
        "TS3",
        "TS2",
        "PER",
        "N3",
        "N4",
    ]
}


def _isa_by_counting(head: bytes, start: int) -> Delimiters | None:
    """Delimiters from an ISA whose fields are not padded to the fixed widths."""
    sep = head[start + 3 : start + 4]
    if not sep or sep.isalnum() or sep in b" \r\n\x00":
        return None
    pos = start
    rep = b""
    for k in range(16):
        pos = head.find(sep, pos + 1)
        if pos < 0:
            return None
        if k == 10 and head[pos + 2 : pos + 3] == sep:  # ISA11, one character
            rep = head[pos + 1 : pos + 2]
    if pos + 2 >= len(head):
        return None
    return _with_terminator(head, sep.decode("latin-1"), chr(head[pos + 1]), pos + 2, rep)


def _with_terminator(
    head: bytes, element: str, component: str, at: int, rep: bytes
) -> Delimiters | None:
    if element.isalnum() or element in " \r\n\x00":
        return None
    term = chr(head[at])
    if term in "\r\n":
        rest = head[at:].lstrip(b"\r\n")
        if rest and not chr(rest[0]).isalnum() and chr(rest[0]) not in (element, " "):
            term = chr(rest[0])  # the "\n~" style: newline first, terminator next
        else:
            term = _newline(head, at)
    if term.isalnum() or term == element or term in " \x00":
        return None
    repetition = rep.decode("latin-1") if rep and not rep.isalnum() and rep != b" " else None
    return _checked_terminator(head, Delimiters(element, component, term, repetition), at)


def _checked_terminator(head: bytes, found: Delimiters, at: int) -> Delimiters:
    """The ISA's last byte checked against the GS after it: when the GS ends with another
    punctuation byte (an ISA retyped or patched by hand: "...*:|" then "GS*...~"), that byte
    ends the segments; the ISA's is kept as declared (the reader warns and reads on)."""
    sep = found.element.encode("latin-1")
    gs = head.find(b"GS" + sep, at)
    st = head.find(b"ST" + sep, gs) if gs >= 0 else -1
    if gs < 0 or st < 0 or head[at + 1 : gs].strip(b" \t\r\n"):
        return found  # no GS right after the ISA, or no ST after it in the head: nothing to check
    ends = head[gs:st].rstrip(b" \t\r\n")
    last = chr(ends[-1]) if ends else found.terminator
    if last == found.terminator or last.isalnum() or last in (found.element, found.component, " ", ".", "-"):
        return found
    if ends.count(last.encode("latin-1")) != 1:
        return found  # the GS holds that byte elsewhere too: not a terminator
    return Delimiters(
        found.element, found.component, last, found.repetition, declared_terminator=found.terminator, isa_end=at
    )


def detect(head: bytes) -> tuple[Delimiters, int] | None:
    """Delimiters and the offset where the X12 data starts, or None if not X12.

    ISA: element separator = byte 3, component separator = byte 104, segment
    terminator = byte 105 (re-derived by counting separators when the ISA
    fields are not padded).  No envelope (GS or ST first): the element
    separator is the byte after the id; the terminator is the first
    punctuation or newline after the first segment's values.
    """
    start = len(head) - len(head.lstrip(_WS))
    body = head[start:]
    if body.startswith(b"ISA") and len(body) > 4:
        found = _isa(body)
        return (found, start) if found else None
    if body[:2] in (b"GS", b"ST") and len(body) > 3:
        return _headless(body, start)
    return _after_text(head)


def _after_text(head: bytes) -> tuple[Delimiters, int] | None:
    """An interchange after some lines of text (a banner or a description pasted above the
    ISA, as in published samples): the first ISA at the start of a line that reads as one."""
    for found in re.finditer(rb"[\r\n](ISA[^A-Za-z0-9\s])", head):
        at = found.start(1)
        delims = _isa(head[at:]) if len(head) - at > 4 else None
        if delims is not None:
            return delims, at
    return None


def _isa(body: bytes) -> Delimiters | None:
    """The delimiters of the ISA that ``body`` starts with (fixed widths, else counted)."""
    fixed = None
    if len(body) >= 106 and body[103:104] == body[3:4]:
        fixed = _with_terminator(body, chr(body[3]), chr(body[104]), 105, body[82:83])
    found = fixed or _isa_by_counting(body, 0)
    return _checked_component(body, found) if found else None


def _headless(body: bytes, start: int) -> tuple[Delimiters, int] | None:
    sep = chr(body[2])
    if sep.isalnum() or sep in " \r\n\x00":
        return None
    for i in range(3, min(len(body), 200)):
        ch = chr(body[i])
        if ch == sep or ch.isalnum() or ch in " .-_/&,()#@":
            continue
        term = _newline(body, i) if ch in "\r\n" else ch
        return Delimiters(sep, _guess_component(body, sep, term), term), start
    return None


def _newline(head: bytes, at: int) -> str:
    """The newline that ends segments when the terminator at ``at`` is one: LF (with or
    without CR), or CR alone (old Mac-style files: no LF anywhere in the head)."""
    if head[at] == 13 and b"\n" not in head:
        return "\r"
    return "\n"


#: composites whose first component is a short qualifier (segment id, element position):
#: SVC01 / SV101 / SV202 "HC:99213", HI01 "ABK:J069", CLM05 "11:B:1".  Never CLM01: a claim
#: id is free text, and a "-" in it is not a separator
_COMPOSITES = ((b"SVC", 1), (b"SV1", 1), (b"SV2", 2), (b"HI", 1), (b"CLM", 5))


def _guess_component(body: bytes, sep: str, term: str) -> str:
    """The component separator of a file with no ISA (which would name it): the character
    after the qualifier of the first composite element in the head that has one, else ":"."""
    for value in _composites(body, sep, term):
        head = value.lstrip(_QUALIFIER)
        if head and len(value) - len(head) <= 3 and chr(head[0]) not in (sep, term, " ", ".", "-"):
            return chr(head[0])
    return ":" if ":" not in (sep, term) else "^"


_QUALIFIER = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _composites(body: bytes, sep: str, term: str) -> Iterator[bytes]:
    """The non-empty composite elements of the head, in :data:`_COMPOSITES` order."""
    segments = [s.strip(b" \t\r\n") for s in body.split(term.encode())]
    by_id: dict[bytes, list[list[bytes]]] = {}
    for seg in segments:
        elements = seg.split(sep.encode())
        by_id.setdefault(elements[0], []).append(elements)
    for sid, pos in _COMPOSITES:
        for elements in by_id.get(sid, ()):
            value = elements[pos] if pos < len(elements) else b""
            if value:
                yield value


def _checked_component(body: bytes, found: Delimiters) -> Delimiters:
    """ISA16 checked against the data: when the first composite in the head (SVC01, SV101,
    HI01...) does not contain ISA16 but has another separator right after its qualifier
    ("HC>99213" under ISA16 ':'), the data's separator is used and ISA16 kept as declared
    (the reader warns: otherwise every code of the file would be lost silently)."""
    value = next(_composites(body, found.element, found.terminator), None)
    if not value or found.component.encode("latin-1") in value:
        return found
    rest = value.lstrip(_QUALIFIER)
    if not rest or len(rest) == 1 or not 2 <= len(value) - len(rest) <= 3:
        return found
    ch = chr(rest[0])
    taken = (found.element, found.terminator, found.repetition, " ", ".", "-", "/", "'", ",")
    if ch in taken or ch.isalnum() or ch in "\r\n\t\x00" or not rest[1:2].isalnum():
        return found
    return Delimiters(
        found.element, ch, found.terminator, found.repetition, declared_component=found.component,
        declared_terminator=found.declared_terminator, isa_end=found.isa_end,
    )


@dataclass(slots=True)
class Batch:
    """Segments of one chunk.  Arrays are aligned: one entry per segment.

    ``data`` is the chunk's bytes with every terminator replaced by the
    element separator; segment ``i`` is ``data[starts[i]:ends[i]]`` and
    ``data[ends[i]]`` is its (replaced) terminator.
    """

    data: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    code: np.ndarray  # int64 segment id codes
    seg_no: np.ndarray  # int64 1-based position in the file
    bytes_done: int
    final: bool
    truncated: bool = False  # the file ended without a terminator (last segment kept)
    _text: pl.Series | None = None

    def __len__(self) -> int:
        return len(self.code)

    @property
    def text(self) -> pl.Series:
        """Every segment as 'ID*e1*e2*' (built on first use)."""
        if self._text is None:
            self._text = _gather(self.data, self.starts, self.ends + 1)
        return self._text

    def rows(self, mask: np.ndarray) -> tuple[pl.Series, np.ndarray]:
        idx = np.flatnonzero(mask)
        if self._text is not None:
            return self._text.gather(idx), idx
        return _gather(self.data, self.starts[idx], self.ends[idx] + 1), idx


def _gather(data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> pl.Series:
    if K.ENABLED:
        from parley.ingest.x12.fields import string_views

        return string_views(data, starts, ends, np.ones(len(starts), dtype=bool), "text")
    lens = ends - starts
    offsets = np.zeros(len(lens) + 1, dtype=np.int64)
    np.cumsum(lens, out=offsets[1:])
    total = int(offsets[-1])
    index = np.arange(total, dtype=np.int64) - np.repeat(offsets[:-1] - starts, lens)
    chars = data[index] if total else np.zeros(0, dtype=np.uint8)
    array = pa.LargeStringArray.from_buffers(len(lens), pa.py_buffer(offsets), pa.py_buffer(chars))
    series = pl.from_arrow(array)
    assert isinstance(series, pl.Series)
    return series.alias("text")


@dataclass(slots=True)
class Oversize:
    """A stretch of bytes dropped because no terminator came within the limit."""

    seg_no: int
    nbytes: int


class Tokenizer:
    """Streams a file as :class:`Batch` es (and :class:`Oversize` notices).

    ``boundaries`` are segment codes a batch may end before (e.g. CLP, ST):
    a batch is cut just before the last such segment, and the rest is carried
    into the next batch, so loops that start with those segments stay whole.
    A loop longer than ``4 * chunk_bytes`` (at least 8 MB) is cut at a plain
    terminator instead.
    """

    def __init__(
        self,
        stream: BinaryIO,
        delims: Delimiters,
        *,
        skip: int,
        first: bytes,
        chunk_bytes: int,
        boundaries: frozenset[int],
    ) -> None:
        self.stream = stream
        self.d = delims
        self.chunk_bytes = max(min(int(chunk_bytes), MAX_BATCH_BYTES), 64)
        self.cap = max(4 * self.chunk_bytes, 8 << 20)
        self.boundaries = np.array(sorted(boundaries), dtype=np.int64)
        self.first = first[skip:]
        self.skip = skip
        self.seg_count = 0
        self.term = ord(delims.terminator)
        self.sep = ord(delims.element)
        self.strip_cr = delims.terminator != "\n"  # LF dropped unless it ends segments

    def __iter__(self) -> Iterator[Batch | Oversize | Delimiters]:
        carry = self.first
        read_total = self.skip + len(self.first)
        upcoming = self.stream.read(self.chunk_bytes) or b""
        dropping = False
        while True:
            chunk = upcoming
            upcoming = (self.stream.read(self.chunk_bytes) or b"") if chunk else b""
            final = not upcoming
            read_total += len(chunk)
            buf = carry + chunk if carry else chunk
            if dropping:
                at = buf.find(self.d.terminator.encode())
                if at < 0 and not final:
                    carry = b""
                    continue
                buf = buf[at + 1 :] if at >= 0 else b""
                dropping = False
            while (switch := self._find_switch(buf)) is not None:
                at, delims = switch
                head, _, _ = self._cut(buf[:at], final=True)
                if head is not None and len(head):
                    head.final = False
                    head.bytes_done = read_total - (len(buf) - at)
                    yield head
                yield delims
                self._use(delims)
                buf = buf[at:]
            batch, carry, oversize = self._cut(buf, final=final)
            if oversize is not None:
                yield oversize
                dropping, carry = True, b""
            if batch is not None:
                batch.bytes_done = read_total - len(carry)
                yield batch
            if final:
                return

    def _find_switch(self, buf: bytes) -> tuple[int, Delimiters] | None:
        """The first later interchange (ISA) whose delimiters differ from the current ones."""
        current = (self.d.element, self.d.component, self.d.terminator)
        leads = {self.term, 10, 13}
        # an ISA padded to its fixed widths with the current delimiters: no switch
        same = None if self.d.terminator in "\r\n" else (self.sep, ord(self.d.component), self.term)
        # an interchange starts after a terminator or a newline (a bare "ISA" search
        # also hits every LISA and VISA in names and addresses)
        for at in self._isa_candidates(buf, leads):
            if (
                same is not None
                and len(buf) > at + 105
                and buf[at + 3] == buf[at + 103] == same[0]
                and buf[at + 104] == same[1]
                and buf[at + 105] == same[2]
            ):
                continue
            found = detect(buf[at : at + 4096])
            if found is None or len(buf) - (at - 1) < 108:
                continue
            delims = found[0]
            if (delims.element, delims.component, delims.terminator) != current:
                return at, delims
        return None

    def _isa_candidates(self, buf: bytes, leads: set[int]) -> list[int]:
        if K.ENABLED:
            words = np.frombuffer(buf, dtype="<u8", count=len(buf) // 8)
            return K.isa_candidates(np.frombuffer(buf, dtype=np.uint8), words, self.term).tolist()
        hits: list[int] = []
        for lead in sorted(leads):
            pattern = bytes([lead]) + b"ISA"
            at = 0
            while (at := buf.find(pattern, at + 1)) >= 0:
                hits.append(at + 1)
        return sorted(hits)

    def _use(self, delims: Delimiters) -> None:
        self.d = delims
        self.term = ord(delims.terminator)
        self.sep = ord(delims.element)
        self.strip_cr = delims.terminator != "\n"  # LF dropped unless it ends segments

    def _cut(self, buf: bytes, *, final: bool) -> tuple[Batch | None, bytes, Oversize | None]:
        arr, ends, room, high = self._compact(buf)
        tail = arr[(int(ends[-1]) + 1 if len(ends) else 0) :]
        truncated = False
        if final and len(tail) and not np.isin(tail, _WS_CODES).all():
            ends = np.append(ends, len(arr))
            if room is not None:  # the spare byte of the padding
                room[len(arr)] = self.term
                arr = room[: len(arr) + 1]
            else:
                arr = np.append(arr, np.uint8(self.term))
            truncated = True
        if len(ends) == 0:
            if final:
                return self._empty(final), b"", None
            if len(arr) >= self.cap:
                return None, b"", Oversize(self.seg_count + 1, len(arr))
            return None, arr.tobytes(), None
        starts = np.empty(len(ends), dtype=np.int64)
        starts[0] = 0
        starts[1:] = ends[:-1] + 1
        code, seg_start = self._codes(arr, starts, ends)
        n = len(ends)
        if not final:
            n = self._boundary_cut(code, len(arr))
            if n == 0:
                return None, arr.tobytes(), None
        cut_at = int(ends[n - 1]) + 1
        carry = arr[cut_at:].tobytes() if (cut_at < len(arr) and not final) else b""
        if room is not None:  # in place, now that the carry was copied out
            K.seal(room, cut_at, ends[:n], self.sep, PAD)
            data = room[: cut_at + PAD]
        else:
            data = np.zeros(cut_at + PAD, dtype=np.uint8)  # zero padding: fixed-width reads
            data[:cut_at] = arr[:cut_at]  # stay in bounds
            data[ends[:n]] = self.sep
        if high:
            data = _valid_utf8(data)
        kept = code[:n] != 0
        if np.count_nonzero(kept) == n:  # no empty segment (the usual case): no gathers
            codes, seg_start, ends = code[:n], seg_start[:n], ends[:n]
        else:
            keep_idx = np.flatnonzero(kept)
            codes, seg_start, ends = code[:n][keep_idx], seg_start[keep_idx], ends[keep_idx]
        seg_no = self.seg_count + 1 + np.arange(len(codes), dtype=np.int64)
        self.seg_count += len(codes)
        return (
            Batch(data, seg_start, ends, codes, seg_no, 0, final, truncated),
            carry,
            None,
        )

    def _compact(self, buf: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, bool]:
        """(bytes without CR / LF, terminator positions, the array holding them with
        PAD + 1 spare bytes or None, whether a byte >= 128 may be present)."""
        if K.ENABLED:  # one compiled pass
            room, size, ends, count, high = K.compact(
                np.frombuffer(buf, dtype=np.uint8), self.term, self.strip_cr, PAD + 1
            )
            return room[:size], ends[:count], room, bool(high)
        if b"\r" in buf and self.term != 13:
            buf = buf.replace(b"\r", b"")
        if self.strip_cr and b"\n" in buf:
            buf = buf.replace(b"\n", b"")
        arr = np.frombuffer(buf, dtype=np.uint8)
        return arr, np.flatnonzero(arr == self.term), None, True

    def _empty(self, final: bool) -> Batch:
        empty = np.zeros(0, np.int64)
        return Batch(np.zeros(0, np.uint8), empty, empty, empty, empty, 0, final)

    def _boundary_cut(self, code: np.ndarray, nbytes: int) -> int:
        """Number of segments to keep: all before the last boundary segment."""
        hits = np.flatnonzero(isin(code, self.boundaries))
        hits = hits[hits > 0]
        if len(hits):
            return int(hits[-1])
        if nbytes >= self.cap:
            return len(code)
        return 0

    def _codes(
        self, arr: np.ndarray, starts: np.ndarray, ends: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Segment id codes (0 for an empty segment) and where each segment starts after blanks."""
        if K.ENABLED:
            code_k, pos_k = K.segment_codes(
                arr,
                np.ascontiguousarray(starts, np.int64),
                np.ascontiguousarray(ends, np.int64),
                self.sep,
            )
            return code_k, pos_k
        # leading blanks skipped however many: each segment starts at the first byte that
        # is not a blank at or after its start (or at its end when it is only blanks)
        solid = np.flatnonzero((arr != 32) & (arr != 9) & (arr != 0))
        at = np.searchsorted(solid, starts)
        first = solid[np.minimum(at, len(solid) - 1)] if len(solid) else np.full_like(starts, len(arr))
        pos = np.minimum(np.where(at < len(solid), first, len(arr)), ends).astype(np.int64)
        lead = bool((pos != starts).any())
        length = ends - pos
        safe = len(arr) - 1
        b0 = arr[np.minimum(pos, safe)].astype(np.int64)
        b1 = arr[np.minimum(pos + 1, safe)].astype(np.int64)
        b2 = arr[np.minimum(pos + 2, safe)].astype(np.int64)
        b1 = np.where(length > 1, b1, 0)
        b2 = np.where((length > 2) & (b2 != self.sep), b2, 0)
        code = (b0 << 16) | (b1 << 8) | b2
        code = np.where(length > 0, code, 0)
        if lead:
            # a segment that is only blanks is empty
            code = np.where((b0 == 32) | (b0 == 9) | (b0 == 0), 0, code)
        return code, pos


def _valid_utf8(data: np.ndarray) -> np.ndarray:
    """Bytes outside ASCII that are not valid UTF-8 become '?' (Arrow strings must be UTF-8)."""
    if data.size and data.max() >= 128:
        try:
            data.tobytes().decode("utf-8")
        except UnicodeDecodeError:
            data = np.where(data >= 128, np.uint8(63), data).astype(np.uint8)
    return data


def split(text: pl.Series, sep: str, n: int, stage: int | None = None) -> pl.DataFrame:
    """Elements 0..n of each segment as columns e0..en ('' -> null).

    Splitting into many fields is slow in Polars, and most segments have few
    elements, so wide segments are split in two stages: the first
    ``stage`` elements for every row, the rest only for the rows that have more.
    """
    if len(text) == 0:
        return pl.DataFrame({f"e{i}": pl.Series([], dtype=pl.Utf8) for i in range(n + 1)})
    if len(text) <= SMALL_SPLIT:
        return _split_small(text, sep, n)
    first = min(n, stage or n)
    frame = _split_fields(text, sep, first, rest=n > first)
    if n > first:
        rest = frame.get_column("_rest")
        frame = frame.drop("_rest")
        more = np.flatnonzero((rest.str.len_bytes() > 0).fill_null(False).to_numpy())
        extra = [
            pl.Series(f"e{i}", [None] * len(text), dtype=pl.Utf8) for i in range(first + 1, n + 1)
        ]
        if len(more):
            wide = _split_fields(rest.gather(more), sep, n - first - 1, rest=False)
            for i, col in enumerate(extra):
                col.scatter(more, wide.get_column(f"e{i}"))
        frame = frame.hstack(extra)
    return frame


#: up to this many segments, ``split`` is a plain Python loop: Polars' struct split
#: costs milliseconds per call whatever the size (envelopes and headers are few)
SMALL_SPLIT = 2048


def _split_small(text: pl.Series, sep: str, n: int) -> pl.DataFrame:
    """``split`` for a few segments: the same columns (element n never holds the rest)."""
    columns: list[list[str | None]] = [[] for _ in range(n + 1)]
    for segment in text.to_list():
        parts = segment.split(sep, n + 1)
        have = len(parts)
        for i, column in enumerate(columns):
            value = parts[i] if i < have else None
            column.append(value or None)
    return pl.DataFrame(
        {f"e{i}": pl.Series(column, dtype=pl.Utf8) for i, column in enumerate(columns)}
    )


def _split_fields(text: pl.Series, sep: str, n: int, *, rest: bool) -> pl.DataFrame:
    frame = text.str.splitn(sep, n + 2).struct.unnest()
    names = [f"e{i}" for i in range(n + 1)] + ["_rest"]
    frame.columns = names
    if not rest:
        frame = frame.drop("_rest")
    return frame.with_columns(
        pl.when(pl.col(c) != "").then(pl.col(c)).alias(c) for c in names[: n + 1]
    )


def isin(values: np.ndarray, choices: object) -> np.ndarray:
    """np.isin for a handful of choices (equality tests beat np.isin's sort by far)."""
    out = np.zeros(len(values), dtype=bool)
    for choice in np.asarray(choices).ravel().tolist():
        out |= values == choice
    return out


def ffill(marker: np.ndarray, initial: int) -> np.ndarray:
    """Forward fill: each position gets the last marker value >= 0 at or before it."""
    n = len(marker)
    idx = np.where(marker >= 0, np.arange(1, n + 1), 0)
    np.maximum.accumulate(idx, out=idx)
    values = np.concatenate(([initial], marker))
    return values[idx]


def claimless(is_st: np.ndarray, is_claim: np.ndarray, has_claim: bool) -> np.ndarray:
    """Rows between an ST and that transaction's first claim (CLP / CLM): their claim number
    must not be the last claim of the transaction before.  ``has_claim``: the transaction
    open at the batch's start already had a claim."""
    idx = np.arange(len(is_st))
    last_st = np.maximum.accumulate(np.where(is_st, idx, -1))
    last_claim = np.maximum.accumulate(np.where(is_claim, idx, -1 if has_claim else -2))
    out: np.ndarray = last_claim < last_st
    return out
