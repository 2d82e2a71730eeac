"""Code checks shared by every reader: unknown codes are warnings, the data is kept.

Runs set-based on each parsed chunk, against the packaged code lists
(CARC, RARC, adjustment groups, place of service).  One warning per unknown
code per chunk, with how many rows carry it, so a file full of one bad code
gives one line, not a million.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from parley.ingest.base import ParsedChunk, Problem

if TYPE_CHECKING:  # imported on use: a TiC ingest never checks codes this way
    import polars as pl

_MAX_LISTED = 20


@lru_cache(maxsize=1)
def _known() -> dict[str, frozenset[str]]:
    from parley import refdata

    return {
        "carc": frozenset(refdata.carc()["code"].to_list()),
        "rarc": frozenset(refdata.rarc()["code"].to_list()),
        "group": frozenset(refdata.group_codes()["code"].to_list()),
        "pos": frozenset(refdata.place_of_service()["pos"].to_list()),
    }


# (table, column, code list, problem code, what it is, comma-separated list?)
_CHECKS: tuple[tuple[str, str, str, str, str, bool], ...] = (
    ("adjustments", "reason_code", "carc", "code.unknown_carc", "claim adjustment reason code (CARC)", False),
    ("remit_lines", "remark_codes", "rarc", "code.unknown_rarc", "remittance advice remark code (RARC)", True),
    ("remit_claims", "remark_codes", "rarc", "code.unknown_rarc", "remittance advice remark code (RARC)", True),
    ("claims", "place_of_service", "pos", "code.unknown_pos", "place-of-service code", False),
    ("claim_lines", "place_of_service", "pos", "code.unknown_pos", "place-of-service code", False),
)


def _unknown(values: pl.Series, known: frozenset[str], *, listed: bool) -> pl.DataFrame:
    # counted first: a column holds a handful of distinct values, so the split, the
    # strip and the known-code test run on those, not on every row (a chunk's checks
    # 30 -> 3 ms)
    import polars as pl

    name = values.name or "code"
    counts = values.rename(name).value_counts(name="rows").drop_nulls(name)
    if listed:
        counts = (
            counts.with_columns(pl.col(name).str.split(","))
            .explode(name)
            .with_columns(pl.col(name).str.strip_chars())
            .group_by(name)
            .agg(pl.col("rows").sum())
        )
    counts = counts.filter(pl.col(name) != "")
    return counts.filter(~pl.col(name).is_in(list(known))).sort(
        ["rows", name], descending=[True, False]
    )


def check_codes(chunk: ParsedChunk) -> list[Problem]:
    """Warnings for codes that are not in Parley's code lists (data kept as sent)."""
    problems: list[Problem] = []
    for table, column, kind, code, what, listed in _CHECKS:
        frame = chunk.tables.get(table)
        if frame is None or column not in frame.columns or frame.height == 0:
            continue
        import polars as pl  # only for a chunk with codes to check (never a TiC chunk)

        known = _known()
        bad = _unknown(frame[column].cast(pl.Utf8), known[kind], listed=listed)
        for value, rows in bad.head(_MAX_LISTED).iter_rows():
            problems.append(Problem(
                "warning", code,
                f"'{value}' is not a known {what} ({rows} row(s) in {table}.{column}); kept as sent - "
                "check the code, or load the current X12 list with 'parley refdata'",
            ))
    return problems

