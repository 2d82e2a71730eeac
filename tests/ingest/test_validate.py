"""Unknown codes are warnings with their row counts, most rows first; the data is kept."""

from __future__ import annotations

import polars as pl

from parley.ingest.base import ParsedChunk
from parley.ingest.validate import check_codes


def test_unknown_codes_are_counted_per_code_most_rows_first() -> None:
    chunk = ParsedChunk(
        tables={
            "adjustments": pl.DataFrame(
                {"reason_code": ["45", "ZZ9", "ZZ9", "ZZ9", "AA1", None, "", "45"]}
            ),
            "remit_lines": pl.DataFrame(
                {"remark_codes": ["N130, XX1", "XX1,,M15", None, " XX2 ", "N130"]}
            ),
            "claims": pl.DataFrame({"place_of_service": ["11", "11", "99x"]}),
        }
    )
    messages = [(p.severity, p.code, p.message.split(" is not")[0]) for p in check_codes(chunk)]
    assert messages == [
        ("warning", "code.unknown_carc", "'ZZ9'"),
        ("warning", "code.unknown_carc", "'AA1'"),
        ("warning", "code.unknown_rarc", "'XX1'"),
        ("warning", "code.unknown_rarc", "'XX2'"),
        ("warning", "code.unknown_pos", "'99x'"),
    ]
    carc = check_codes(chunk)[0].message
    assert "(3 row(s) in adjustments.reason_code)" in carc
    rarc = check_codes(chunk)[2].message
    assert "(2 row(s) in remit_lines.remark_codes)" in rarc
    assert chunk.tables["adjustments"].height == 8  # kept as sent


def test_a_chunk_without_coded_tables_has_nothing_to_check() -> None:
    assert check_codes(ParsedChunk(tables={"market_rates": pl.DataFrame({"x": [1]})})) == []
    assert check_codes(ParsedChunk()) == []


def test_a_remark_code_sent_as_a_reason_is_named() -> None:
    chunk = ParsedChunk(tables={"adjustments": pl.DataFrame({"reason_code": ["N89", "ZZ9"]})})
    first, second = check_codes(chunk)
    assert "'N89' is not a known claim adjustment reason code (CARC)" in first.message
    assert "but a remark code (RARC), which belongs in MOA / LQ" in first.message
    assert "remark code" not in second.message
