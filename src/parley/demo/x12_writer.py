"""A small X12 writer: segments with configurable delimiters and ISA/GS/ST envelopes.

Segments are built as strings (the generator formats whole claims at once); this module owns
the delimiters, the interchange/group/transaction envelopes, and their counts and control
numbers.  Amounts are integer cents, rendered without trailing zeros as X12 prefers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import IO


@dataclass(frozen=True)
class Delimiters:
    element: str = "*"
    component: str = ":"
    repetition: str = "^"
    segment: str = "~"
    suffix: str = "\n"  # written after each segment terminator (readability); "" for none

    @property
    def terminator(self) -> str:
        return self.segment + self.suffix


DEFAULT_DELIMITERS = Delimiters()


def money(cents: int) -> str:
    """Render integer cents as an X12 decimal: 12345 -> '123.45', 12340 -> '123.4', 0 -> '0'."""
    neg = cents < 0
    c = -cents if neg else cents
    d, r = divmod(c, 100)
    if r == 0:
        s = str(d)
    elif r % 10 == 0:
        s = f"{d}.{r // 10}"
    else:
        s = f"{d}.{r:02d}"
    return "-" + s if neg else s


def translate(body: str, src: Delimiters, dst: Delimiters) -> str:
    """Re-delimit segments built with ``src`` delimiters (the generator formats with the
    defaults; data never contains delimiter characters)."""
    table = str.maketrans({src.element: dst.element, src.component: dst.component})
    return body.replace(src.terminator, "\x00").translate(table).replace("\x00", dst.terminator)


def seg(*elements: str, delimiters: Delimiters = DEFAULT_DELIMITERS) -> str:
    """Build one segment; trailing empty elements are dropped."""
    parts = list(elements)
    while parts and parts[-1] == "":
        parts.pop()
    return delimiters.element.join(parts) + delimiters.terminator


def ymd(d: date) -> str:
    return d.strftime("%Y%m%d")


class InterchangeWriter:
    """Writes one interchange (ISA ... IEA) holding one functional group (GS ... GE).

    Use :meth:`transaction` to add an ST/SE-wrapped body (a string of complete segments built
    with the default delimiters; they are translated when this writer uses others); the writer
    adds ST and SE and counts the segments.
    """

    def __init__(
        self,
        fh: IO[str],
        *,
        sender: str,
        receiver: str,
        functional_id: str,
        version: str,
        control_number: int,
        when: date,
        time: str = "1200",
        delimiters: Delimiters = DEFAULT_DELIMITERS,
        usage: str = "P",
    ) -> None:
        self.fh = fh
        self.d = delimiters
        self.version = version
        self.control = control_number
        self.n_tx = 0
        e = delimiters.element
        isa = (
            e.join(
                [
                    "ISA",
                    "00",
                    " " * 10,
                    "00",
                    " " * 10,
                    "ZZ",
                    f"{sender:<15}"[:15],
                    "ZZ",
                    f"{receiver:<15}"[:15],
                    when.strftime("%y%m%d"),
                    time,
                    delimiters.repetition,
                    "00501",
                    f"{control_number:09d}",
                    "0",
                    usage,
                    delimiters.component,
                ]
            )
            + delimiters.terminator
        )
        gs = seg(
            "GS",
            functional_id,
            sender,
            receiver,
            ymd(when),
            time,
            str(control_number),
            "X",
            version,
            delimiters=delimiters,
        )
        fh.write(isa)
        fh.write(gs)

    def transaction(self, tx_set: str, body: str, body_segments: int | None = None) -> None:
        """Wrap ``body`` in ST/SE; the segment count is taken from the body's terminators."""
        if self.d != DEFAULT_DELIMITERS:
            body = translate(body, DEFAULT_DELIMITERS, self.d)
        if body_segments is None:
            body_segments = body.count(self.d.segment)
        self.n_tx += 1
        st_ctrl = f"{self.n_tx:04d}"
        self.fh.write(
            seg("ST", tx_set, st_ctrl, self.version if tx_set == "837" else "", delimiters=self.d)
        )
        self.fh.write(body)
        self.fh.write(seg("SE", str(body_segments + 2), st_ctrl, delimiters=self.d))

    def close(self) -> None:
        self.fh.write(seg("GE", str(self.n_tx), str(self.control), delimiters=self.d))
        self.fh.write(seg("IEA", "1", f"{self.control:09d}", delimiters=self.d))
