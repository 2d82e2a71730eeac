"""Element access straight from the byte buffer, with numpy.

The hot segments of an 835 (CLP, SVC, CAS, DTM, AMT, REF, LQ) are read
without materialising one string per element: the positions of every element
separator are found once per batch, element ``j`` of segment ``i`` is the
byte range between its ``j``-th and ``j+1``-th separators, amounts and dates
are parsed from those bytes with vectorised integer arithmetic, and only the
code columns that end in a table become strings (one ragged gather each).

Amounts are exact: digits become integer cents (or thousandths for
quantities) and then Arrow decimal128 values; never floating point.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa

from parley.ingest.x12 import _kernels as K

_POW10 = np.array([10**k for k in range(19)], dtype=np.int64)


@dataclass(slots=True)
class Span:
    """Byte ranges of one element (or component) for a set of rows; absent or empty -> present False."""

    start: np.ndarray
    end: np.ndarray
    present: np.ndarray

    def __len__(self) -> int:
        return len(self.start)

    def take(self, index: np.ndarray) -> Span:
        return Span(self.start[index], self.end[index], self.present[index])


class FieldIndex:
    """Separator positions of one batch, for element lookups by (row, element number)."""

    def __init__(
        self, data: np.ndarray, starts: np.ndarray, ends: np.ndarray, sep: int, comp: int
    ) -> None:
        self.data = data
        if K.ENABLED:
            self.seps, self.first, self.count = K.field_index(
                data, np.ascontiguousarray(starts, dtype=np.int64), sep
            )
        else:
            self.seps = np.flatnonzero(data == sep)
            # every separator lies inside exactly one segment [start, next start)
            self.first = np.searchsorted(self.seps, starts)
            self.count = np.diff(self.first, append=len(self.seps))
        self.comp = comp
        self._comps: np.ndarray | None = None
        self._padded: np.ndarray | None = None
        self._row_cache: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._comp_cache: dict[int, tuple[Span, np.ndarray, np.ndarray]] = {}

    def element(
        self,
        rows: np.ndarray,
        j: int,
        first: np.ndarray | None = None,
        count: np.ndarray | None = None,
    ) -> Span:
        """Element ``j`` (1-based, as in CLP01) of the given segment rows.

        Positions of absent elements are arbitrary (in bounds); ``present`` says which are real.
        """
        if first is None or count is None:
            first, count = self._rows(rows)
        if len(self.seps) == 0:
            return Span(first, first, np.zeros(len(first), dtype=bool))
        if K.ENABLED:
            return Span(*K.element(self.seps, _c(first), _c(count), j))
        k = np.minimum(first + j, len(self.seps) - 1)
        start = self.seps[k - 1] + 1
        end = self.seps[k]
        present = (j < count) & (end > start)
        return Span(start, end, present)

    def _rows(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        hit = self._row_cache.get(id(rows))
        if hit is None or hit[0] is not rows:
            hit = (rows, self.first[rows], self.count[rows])
            self._row_cache[id(rows)] = hit
        return hit[1], hit[2]

    def component(self, span: Span, k: int) -> Span:
        """Component ``k`` (0-based) of a composite element (HC:99213:25 -> 0 HC, 1 99213, 2 25)."""
        if K.ENABLED:
            return Span(
                *K.component(
                    self.data, self.comp, _c(span.start), _c(span.end), _cb(span.present), k
                )
            )
        if self._comps is None:
            self._comps = np.flatnonzero(self.data == self.comp)
        comps = self._comps
        if len(comps) == 0:
            if k == 0:
                return span
            return Span(span.start, span.start, np.zeros(len(span), dtype=bool))
        hit = self._comp_cache.get(id(span))
        if hit is None or hit[0] is not span:
            ci = np.searchsorted(comps, span.start)
            hit = (span, ci, np.searchsorted(comps, span.end) - ci)
            self._comp_cache[id(span)] = hit
        _, ci, inside = hit
        last = len(comps) - 1
        start = span.start if k == 0 else comps[np.clip(ci + k - 1, 0, last)] + 1
        end = np.where(k < inside, comps[np.minimum(ci + k, last)], span.end)
        present = span.present & (k <= inside) & (end > start)
        return Span(start, end, present)

    def equals(self, span: Span, value: bytes) -> np.ndarray:
        """Rows whose element is exactly ``value``."""
        if K.ENABLED:
            result_k: np.ndarray = K.equals(
                self.data,
                _c(span.start),
                _c(span.end),
                _cb(span.present),
                np.array(list(value), dtype=np.uint8),
            )
            return result_k
        out = span.present & ((span.end - span.start) == len(value))
        for i, byte in enumerate(value):
            out &= self.data[np.where(out, span.start + i, 0)] == byte
        result: np.ndarray = out
        return result

    def isin(self, span: Span, values: list[bytes]) -> np.ndarray:
        out = np.zeros(len(span), dtype=bool)
        for value in values:
            out |= self.equals(span, value)
        return out

    def strings(self, span: Span, name: str) -> pl.Series:
        """The elements as a Polars string column (absent -> null)."""
        if K.ENABLED:
            return string_views(self.data, span.start, span.end, span.present, name)
        else:
            lens = np.where(span.present, span.end - span.start, 0)
            offsets = np.zeros(len(lens) + 1, dtype=np.int64)
            np.cumsum(lens, out=offsets[1:])
            total = int(offsets[-1])
            if total:
                index = np.arange(total, dtype=np.int64) - np.repeat(
                    offsets[:-1] - span.start, lens
                )
                chars = self.data[index]
            else:
                chars = np.zeros(0, dtype=np.uint8)
        validity = _bitmap(span.present)
        array = pa.LargeStringArray.from_buffers(
            len(span),
            pa.py_buffer(offsets),
            pa.py_buffer(chars),
            validity,
            int((~span.present).sum()),
        )
        series = pl.from_arrow(array)
        assert isinstance(series, pl.Series)
        return series.alias(name)

    def integers(self, span: Span, scale: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Decimal text -> (value * 10**scale as int64, ok, bad).

        ok: parsed; bad: present but not a number with at most ``scale``
        significant decimals (trailing zeros beyond are fine) or too large.
        Horner's rule column by column over a fixed-width window of bytes.
        """
        n = len(span)
        if K.ENABLED:
            value_k, ok_k, bad_k = K.integers(
                self.data, _c(span.start), _c(span.end), _cb(span.present), scale
            )
            return value_k, ok_k, bad_k
        zeros = np.zeros(n, dtype=np.int64)
        if n == 0 or not span.present.any():
            return zeros, np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
        lens = np.where(span.present, span.end - span.start, 0)
        width = int(min(lens.max(), 20))
        window = self._window(span.start, width)
        value = zeros.copy()
        decimals = np.zeros(n, dtype=np.int64)
        seen_dot = np.zeros(n, dtype=bool)
        ok = span.present & (lens <= 20)
        digits = np.zeros(n, dtype=np.int64)
        excess = np.zeros(n, dtype=bool)
        for col in range(width):
            inside = col < lens
            ch = window[:, col]
            digit = inside & (ch >= 48) & (ch <= 57)
            dot = inside & (ch == 46)
            sign = inside & (col == 0) & ((ch == 45) | (ch == 43))
            ok &= ~inside | digit | sign | (dot & ~seen_dot)
            take = digit & (~seen_dot | (decimals < scale))
            value = np.where(take, value * 10 + (ch.astype(np.int64) - 48), value)
            decimals += take & seen_dot
            excess |= digit & seen_dot & ~take & (ch != 48)
            digits += digit
            seen_dot |= dot
        ok &= (digits >= 1) & ~excess & (digits <= 18)
        # too large, tested before scaling (18 digits x 10**scale would overflow int64)
        big = value >= _POW10[np.clip(12 + decimals, 0, 18)]
        ok &= ~big
        value = np.where(big, 0, value) * _POW10[np.clip(scale - decimals, 0, 18)]
        value = np.where(window[:, 0] == 45, -value, value) if width else value
        ok &= np.abs(value) < 10 ** (12 + scale)
        value = np.where(ok, value, 0)
        return value, ok, span.present & ~ok

    def _window(self, start: np.ndarray, width: int) -> np.ndarray:
        """Rows of ``width`` bytes from each start (zero padded past the end of the data)."""
        if (
            len(self.data) < width + 1
            or self._padded is None
            or len(self._padded) < len(self.data) + width
        ):
            self._padded = np.concatenate([self.data, np.zeros(max(width, 24), dtype=np.uint8)])
        view = np.lib.stride_tricks.sliding_window_view(self._padded, width)
        rows: np.ndarray = view[start]
        return rows

    def dates(self, span: Span) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """CCYYMMDD -> (datetime64[D], ok, bad)."""
        n = len(span)
        if K.ENABLED:
            days, ok_k, bad_k = K.dates(self.data, _c(span.start), _c(span.end), _cb(span.present))
            return days.astype("datetime64[D]"), ok_k, bad_k
        eight = span.present & ((span.end - span.start) == 8)
        pos = np.where(eight, span.start, 0)[:, None] + np.arange(8)[None, :]
        chars = (
            self.data[np.clip(pos, 0, max(len(self.data) - 1, 0))].astype(np.int64) - 48
            if n
            else np.zeros((0, 8), dtype=np.int64)
        )
        digits = ((chars >= 0) & (chars <= 9)).all(axis=1) & eight
        year = chars[:, 0] * 1000 + chars[:, 1] * 100 + chars[:, 2] * 10 + chars[:, 3]
        month = chars[:, 4] * 10 + chars[:, 5]
        day = chars[:, 6] * 10 + chars[:, 7]
        ok = (
            digits
            & (year >= 1800)
            & (year <= 2200)
            & (month >= 1)
            & (month <= 12)
            & (day >= 1)
            & (day <= 31)
        )
        months = np.where(ok, (year - 1970) * 12 + month - 1, 0).astype("datetime64[M]")
        value = months.astype("datetime64[D]") + np.where(ok, day - 1, 0).astype("timedelta64[D]")
        ok &= value.astype("datetime64[M]") == months  # 31 April rolls into May: not a date
        return value, ok, span.present & ~ok


def string_views(
    data: np.ndarray, start: np.ndarray, end: np.ndarray, present: np.ndarray, name: str
) -> pl.Series:
    """A Polars string column from byte spans, built as Arrow string views (no copy on import)."""
    present = _cb(present)
    views, chars = K.views(data, _c(start), _c(end), present)
    array = pa.Array.from_buffers(
        pa.string_view(),
        len(present),
        [_bitmap(present), pa.py_buffer(views), pa.py_buffer(chars)],
        int(len(present) - np.count_nonzero(present)),
    )
    series = pl.from_arrow(array)
    assert isinstance(series, pl.Series)
    return series.alias(name)


def _c(values: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(values, dtype=np.int64)


def _cb(values: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(values, dtype=np.bool_)


def _bitmap(mask: np.ndarray) -> pa.Buffer | None:
    if np.count_nonzero(mask) == len(mask):
        return None
    return pa.py_buffer(np.packbits(mask, bitorder="little"))


def decimal_series(
    values: np.ndarray, ok: np.ndarray, precision: int, scale: int, name: str
) -> pl.Series:
    """Scaled int64 values -> a Polars Decimal(precision, scale) column (not ok -> null)."""
    values = np.asarray(values, dtype=np.int64)
    words = np.empty((len(values), 2), dtype=np.int64)
    words[:, 0] = values
    np.right_shift(values, 63, out=words[:, 1])  # the sign word: -1 or 0
    array = pa.Array.from_buffers(
        pa.decimal128(precision, scale),
        len(values),
        [_bitmap(ok), pa.py_buffer(words)],
        len(ok) - int(np.count_nonzero(ok)),
    )
    series = pl.from_arrow(array)
    assert isinstance(series, pl.Series)
    return series.alias(name)


def date_series(values: np.ndarray, ok: np.ndarray, name: str) -> pl.Series:
    days = values.astype("datetime64[D]").astype(np.int32)
    array = pa.Array.from_buffers(
        pa.date32(), len(days), [_bitmap(ok), pa.py_buffer(days)], len(ok) - int(np.count_nonzero(ok))
    )
    series = pl.from_arrow(array)
    assert isinstance(series, pl.Series)
    return series.alias(name)


def first_position(target: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """For each target key, the index of its first row in ``keys`` (or -1)."""
    if len(target) == 0:
        return np.zeros(0, dtype=np.int64)
    if len(keys) == 0:
        return np.full(len(target), -1, dtype=np.int64)
    lo = int(min(target.min(), keys.min()))
    hi = int(max(target.max(), keys.max()))
    pos = np.full(hi - lo + 1, -1, dtype=np.int64)
    pos[(keys - lo)[::-1]] = np.arange(len(keys) - 1, -1, -1, dtype=np.int64)
    found: np.ndarray = pos[target - lo]
    return found


def sum_by(target: np.ndarray, keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Exact int64 sum of ``values`` per target key (keys within the target range)."""
    out = np.zeros(len(target), dtype=np.int64)
    if len(target) == 0 or len(keys) == 0:
        return out
    lo = int(min(target.min(), keys.min()))
    hi = int(max(target.max(), keys.max()))
    acc = np.zeros(hi - lo + 1, dtype=np.int64)
    np.add.at(acc, keys - lo, values)
    sums: np.ndarray = acc[target - lo]
    return sums


def count_by(target: np.ndarray, keys: np.ndarray) -> np.ndarray:
    return sum_by(target, keys, np.ones(len(keys), dtype=np.int64))
