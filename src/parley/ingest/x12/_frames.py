"""Shared column helpers for the X12 readers: typed parsing with problems as data."""

from __future__ import annotations

import functools
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from parley.ingest.base import PatientHasher, Problem, Severity
from parley.ingest.x12 import _kernels as K
from parley.ingest.x12.fields import string_views
from parley.ingest.x12.tokenizer import Batch, split

MONEY = pl.Decimal(14, 2)
QUANTITY = pl.Decimal(12, 3)

#: problems of one code beyond this many per file are counted, not listed
PROBLEM_CAP = 1000


#: NM101 / N101 qualifiers whose NPI is stored, and the role each names
NPI_ROLES = {
    "85": "billing provider",
    "82": "rendering provider",
    "71": "attending provider",
    "DN": "referring provider",
    "PE": "payee",
}


def bad_npi_message(npi: str, role: str) -> str:
    shown = npi if npi else "(empty)"
    return (
        f"the {role} NPI {shown!r} is not a valid NPI (ten digits, the last the check digit "
        "of the first nine): it will not match NPPES or the fee schedules; check it with the sender"
    )


def segment_frame(
    batch: Batch,
    mask: np.ndarray,
    n: int,
    sep: str,
    columns: dict[str, np.ndarray],
    stage: int | None = None,
) -> pl.DataFrame:
    """Rows of the batch selected by ``mask``: seg_no, the given context columns, e0..en."""
    text, idx = batch.rows(mask)
    base = {"seg_no": batch.seg_no[idx]} | {k: v[idx] for k, v in columns.items()}
    return pl.DataFrame(base).hstack(split(text, sep, n, stage))


def money(col: str) -> pl.Expr:
    return pl.col(col).str.strip_chars().cast(MONEY, strict=False)


def quantity(col: str) -> pl.Expr:
    return pl.col(col).str.strip_chars().cast(QUANTITY, strict=False)


@functools.lru_cache(maxsize=4096)
def ccyymmdd(text: str) -> Any:
    """One CCYYMMDD header date -> date or None, as :func:`date` parses a column (memoised:
    header dates repeat)."""
    return pl.Series([text.strip()]).str.strptime(pl.Date, "%Y%m%d", strict=False)[0]


def date(col: str) -> pl.Expr:
    return pl.col(col).str.strip_chars().str.strptime(pl.Date, "%Y%m%d", strict=False)


def bad(raw: str, parsed: str) -> pl.Expr:
    """A value was sent but did not parse."""
    return pl.col(raw).is_not_null() & pl.col(parsed).is_null()


@dataclass(slots=True)
class BadCells:
    """Cells that failed to parse, waiting for claim ids before becoming problems."""

    frame: pl.DataFrame  # seg_no, claim_seq (may be null)
    severity: Severity
    code: str
    segment_id: str
    loop: str
    element: str
    message: str
    quarantined: bool


@dataclass
class ProblemSink:
    """Collects problems, capping each code at PROBLEM_CAP per file."""

    counts: Counter[str] = field(default_factory=Counter)
    items: list[Problem] = field(default_factory=list)
    pending: list[BadCells] = field(default_factory=list)

    def add(self, problem: Problem) -> None:
        self.counts[problem.code] += 1
        count = self.counts[problem.code]
        if count <= PROBLEM_CAP:
            self.items.append(problem)
        elif count == PROBLEM_CAP + 1:
            self.items.append(
                Problem(
                    "warning",
                    "x12.too_many_problems",
                    f"more than {PROBLEM_CAP} problems of code {problem.code}; "
                    "only the first are listed",
                    segment_number=problem.segment_number,
                )
            )

    def extend(self, problems: list[Problem]) -> None:
        for p in problems:
            self.add(p)

    def cells(
        self,
        frame: pl.DataFrame,
        severity: Severity,
        code: str,
        sid: str,
        loop: str,
        element: str,
        message: str,
        *,
        quarantined: bool = False,
    ) -> None:
        if frame.height:
            self.pending.append(
                BadCells(frame, severity, code, sid, loop, element, message, quarantined)
            )

    def room(self, code: str) -> int:
        """How many more problems of ``code`` to build: enough to reach the cap and its notice
        (the rest are only counted, with :meth:`skipped`, so a flood is never built)."""
        return max(PROBLEM_CAP + 1 - self.counts[code], 1)

    def skipped(self, code: str, rows: int) -> None:
        self.counts[code] += max(rows, 0)

    def resolve(
        self,
        claim_ids: dict[int, str],
        tx_of_claim: dict[int, str | None],
        tx_of_seg: object = None,
    ) -> None:
        """Turn pending bad cells into problems, naming the claim (CLP01/CLM01) and transaction."""
        for cell in self.pending:
            budget = self.room(cell.code)
            rows = cell.frame.head(budget).iter_rows(named=True)
            for row in rows:
                claim_seq = row.get("claim_seq")
                self.add(
                    Problem(
                        cell.severity,
                        cell.code,
                        cell.message,
                        int(row["seg_no"]),
                        cell.segment_id,
                        cell.loop,
                        cell.element,
                        transaction_control=tx_of_claim.get(claim_seq)
                        if claim_seq is not None
                        else row.get("tx_control"),
                        claim_id=claim_ids.get(claim_seq) if claim_seq is not None else None,
                        quarantined=cell.quarantined,
                    )
                )
            self.skipped(cell.code, cell.frame.height - budget)
        self.pending = []

    def take(self) -> list[Problem]:
        out, self.items = self.items, []
        return out


def first_by(frame: pl.DataFrame, key: str, cols: list[str]) -> pl.DataFrame:
    """First non-null value of each column per key (frames are in file order)."""
    frame = frame.select([key, *cols])
    if len(cols) == 1:
        return frame.drop_nulls(cols).unique(key, keep="first", maintain_order=True)
    return frame.group_by(key, maintain_order=True).agg(
        pl.col(c).drop_nulls().first() for c in cols
    )


def join_codes(frame: pl.DataFrame, key: str, cols: list[str], out: str) -> pl.DataFrame:
    """Non-empty values of ``cols`` per key, comma separated, in order."""
    if frame.height == 0:
        return pl.DataFrame({key: pl.Series([], dtype=pl.Int64), out: pl.Series([], dtype=pl.Utf8)})
    long = frame.select(key, pl.concat_list([pl.col(c) for c in cols]).alias("_v")).explode("_v")
    long = long.filter(pl.col("_v").is_not_null() & (pl.col("_v").str.strip_chars() != ""))
    return long.group_by(key, maintain_order=True).agg(
        pl.col("_v").str.strip_chars().str.join(",").alias(out)
    )


def hash_ids(hasher: PatientHasher, identifiers: pl.Series) -> pl.Series:
    """``hasher.hash_series`` with the same output, about twice as fast on the exact class.

    HMAC-SHA256 with the pads precomputed once (what ``hmac.new`` redoes per
    value).  Any other hasher (a subclass, a test double) goes through its own
    ``hash_series``.  A test pins the equality.
    """
    secret = getattr(hasher, "_secret", None)
    if type(hasher) is not PatientHasher or not isinstance(secret, bytes):
        return hasher.hash_series(identifiers)
    cleaned = identifiers.cast(pl.Utf8).str.strip_chars()
    uniques = cleaned.drop_nulls().unique()
    uniques = uniques.filter(uniques != "")
    upper = uniques.str.to_uppercase()
    hashes = _hmac_numba(secret, upper) if K.ENABLED else None
    if hashes is None:
        hashes = _hmac_python(secret, upper)
    return cleaned.replace_strict(uniques, hashes, default=None, return_dtype=pl.Utf8).alias(
        identifiers.name
    )


_PADS: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}


def _hmac_python(secret: bytes, values: pl.Series) -> pl.Series:
    key = hashlib.sha256(secret).digest() if len(secret) > 64 else secret
    key = key.ljust(64, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))
    icopy, ocopy = inner.copy, outer.copy
    hashes: list[str] = []
    append = hashes.append
    for value in values.to_list():
        i = icopy()
        i.update(value.encode())
        o = ocopy()
        o.update(i.digest())
        append(o.hexdigest()[:32])
    return pl.Series(hashes, dtype=pl.Utf8)


def _hmac_numba(secret: bytes, values: pl.Series) -> pl.Series | None:
    """The compiled HMAC over the values' Arrow buffers (ASCII values only, else None)."""
    if len(values) == 0:
        return None
    arr = values.to_arrow().cast(pa.large_string())
    if arr.null_count:
        return None
    buffers = arr.buffers()
    offsets = np.frombuffer(buffers[1], np.int64)[arr.offset : arr.offset + len(arr) + 1]
    chars = np.frombuffer(buffers[2], np.uint8)
    base = int(offsets[0])
    chars = chars[base : int(offsets[-1])]
    if chars.size and chars.max() >= 128:
        return None
    key = hashlib.sha256(secret).digest() if len(secret) > 64 else secret
    pads = _PADS.get(key)
    if pads is None:
        pads = _PADS[key] = K.pad_states(key)
    hexed = K.hmac_hex32(
        np.ascontiguousarray(chars), np.ascontiguousarray(offsets - base), pads[0], pads[1], K.K256
    )
    starts = np.arange(0, 32 * len(arr), 32, dtype=np.int64)
    return string_views(hexed, starts, starts + 32, np.ones(len(arr), dtype=bool), "")


def align(target: np.ndarray, keys: np.ndarray, values: pl.DataFrame) -> pl.DataFrame:
    """Rows of ``values`` (keyed by ``keys``) placed at the positions of ``target`` keys.

    A left join for sorted integer keys, done with a position array and a
    gather: the first row per key wins; missing keys give nulls.
    """
    if len(target) == 0 or values.height == 0:
        return values.clear(len(target))
    lo = int(min(target.min(), keys.min()))
    hi = int(max(target.max(), keys.max()))
    pos = np.full(hi - lo + 1, -1, dtype=np.int64)
    pos[(keys - lo)[::-1]] = np.arange(len(keys) - 1, -1, -1, dtype=np.int64)
    where = pos[target - lo]
    index = pl.Series("i", where).replace(-1, None) if (where < 0).any() else pl.Series("i", where)
    return values.select(pl.all().gather(index))
