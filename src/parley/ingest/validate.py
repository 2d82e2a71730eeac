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


def _unknown(values: pl.Series, known: frozenset[str], *, listed: bool) -> list[tuple[str, int]]:
    """The unknown codes of a column and how many rows carry each, most rows first.

    Counted first (one compiled pass), then the handful of distinct values are split,
    stripped and tested in Python: a chunk's checks cost ~5 ms, not the ~30 ms of doing
    the same with a frame operation per step on so few rows."""
    rows: dict[str, int] = {}
    for value, n in values.value_counts().iter_rows():
        if value is None:
            continue
        for code in value.split(",") if listed else (value,):
            code = code.strip() if listed else code
            if code and code not in known:
                rows[code] = rows.get(code, 0) + n
    return sorted(rows.items(), key=lambda kv: (-kv[1], kv[0]))


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
        for value, rows in bad[:_MAX_LISTED]:
            # a remark code sent as a reason (CAS*CO*N89) is a known mistake: name it
            remark = kind == "carc" and value in known["rarc"]
            problems.append(Problem(
                "warning", code,
                f"'{value}' is not a known {what} ({rows} row(s) in {table}.{column})"
                + (", but a remark code (RARC), which belongs in MOA / LQ" if remark else "")
                + "; kept as sent - check the code, or load the current X12 list with 'parley refdata'",
            ))
    return problems

