"""Cell parsers, and the property: any cell text gives a value or a quarantined row."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parley.ingest.base import PatientHasher
from parley.ingest.tabular import _values as V
from parley.ingest.tabular import load_mapping, read_tabular

D = Decimal


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,234.50", D("1234.50")),
        ("$1,234.50", D("1234.50")),
        ("(12.00)", D("-12.00")),
        ("-12", D("-12.00")),
        ("12.00-", D("-12.00")),
        ("$ -3.10", D("-3.10")),
        ("+5", D("5.00")),
        (".5", D("0.50")),
        ("0012.00", D("12.00")),
        ("12.3400", D("12.34")),
        ("-0.00", D("0.00")),
        ("999,999,999,999.99", D("999999999999.99")),
        ("12.345", None),
        ("abc", None),
        ("1,2,3", None),
        ("12,34", None),
        ("(-1)", None),
        ("-", None),
        (".", None),
        ("()", None),
        ("1.234,56", None),
        ("9999999999999", None),
        ("1e5", None),
        ("--1", None),
        ("\u0663", None),
        ("1\u00a0234.00", D("1234.00")),
    ],
)
def test_money(text: str, expected: Decimal | None) -> None:
    value, bad = V.money(pl.Series([text]))
    assert value.to_list() == [expected]
    assert bad.to_list() == [expected is None]


def test_money_decimal_comma() -> None:
    value, bad = V.money(pl.Series(["1.234,56", "12,5", "(3,00)", "1,234.56"]), decimal_comma=True)
    assert value.to_list() == [D("1234.56"), D("12.50"), D("-3.00"), None]
    assert bad.to_list() == [False, False, False, True]


def test_blank_is_null_not_bad() -> None:
    value, bad = V.money(pl.Series([None], dtype=pl.Utf8))
    assert value.to_list() == [None] and bad.to_list() == [False]


def test_dates() -> None:
    formats = ["%m/%d/%Y", "%Y-%m-%d"]
    value, bad = V.date(
        pl.Series(
            [
                "01/05/2026",
                "1/5/2026",
                "2026-01-05",
                "2026-01-05 00:00:00",
                "1/5/26",
                "13/01/2026",
                "x",
                None,
            ]
        ),
        formats,
    )
    jan5 = date(2026, 1, 5)
    assert value.to_list() == [jan5, jan5, jan5, jan5, None, None, None, None]
    assert bad.to_list() == [False, False, False, False, True, True, True, False]


# --------------------------------------------------------------------------- property

_REFERENCE = re.compile(r"^(\()?([-+])?([0-9]+|[0-9]{1,3}(?:,[0-9]{3})+)?(?:\.([0-9]*))?(-)?(\))?$")


def reference_money(text: str) -> Decimal | None:
    """A scalar reference for the vectorised money parser."""
    body = re.sub(r"[^\S\x1c-\x1f]|[$\u00a0]", "", text)  # Unicode White_Space, as Rust's \s
    m = _REFERENCE.match(body)
    if not m or not body:
        return None
    paren_open, sign, whole, frac, trail, paren_close = m.groups()
    if bool(paren_open) != bool(paren_close) or (paren_open and sign):
        return None
    if sum(map(bool, (paren_open, sign == "-", trail))) > 1 or (sign and trail):
        return None
    frac = frac or ""
    if whole is None and not frac:
        return None
    if frac[2:].strip("0") or len((whole or "").replace(",", "").lstrip("0")) > 12:
        return None
    try:
        value = Decimal((whole or "0").replace(",", "") + "." + (frac[:2] or "0")).quantize(
            Decimal("0.01")
        )
    except InvalidOperation:  # pragma: no cover
        return None
    return -value if (paren_open or sign == "-" or trail) else value


amount_like = st.one_of(
    st.text(max_size=12),
    st.text(alphabet="0123456789,.()-+$ \u0663\u00a0\x1c", max_size=12),
    st.from_regex(r"\A\(?[-+]?\$?[0-9,]{0,16}(\.[0-9]{0,4})?-?\)?\Z", fullmatch=True),
    st.decimals(min_value=-(10**13), max_value=10**13, places=2, allow_nan=False).map(
        lambda d: f"{d:,}"
    ),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(amount_like, min_size=1, max_size=30))
def test_money_matches_the_scalar_reference(texts: list[str]) -> None:
    cells = pl.Series(texts, dtype=pl.Utf8).str.strip_chars()
    cells = cells.zip_with(cells != "", pl.Series([None], dtype=pl.Utf8))
    value, bad = V.money(cells)
    for text, got, flagged in zip(cells.to_list(), value.to_list(), bad.to_list(), strict=True):
        expected = reference_money(text) if text else None
        assert got == expected, repr(text)
        assert flagged == (text is not None and expected is None), repr(text)


MAPPING = """
kind: claims
columns:
  claim_id: Claim
  charge_amount: Charge
  service_date_from: DOS
"""

date_like = st.one_of(st.text(max_size=12), st.dates().map(lambda d: d.strftime("%m/%d/%Y")))


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.tuples(amount_like, date_like), min_size=1, max_size=25),
    chunk_rows=st.integers(1, 10),
)
def test_any_cell_text_gives_a_value_or_a_quarantined_row(
    tmp_path: Path, rows: list[tuple[str, str]], chunk_rows: int
) -> None:
    mapping_path = tmp_path / "m.yaml"
    mapping_path.write_text(MAPPING, encoding="utf-8")
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(["Claim", "Charge", "DOS"])
    for i, (amount, when) in enumerate(rows):
        writer.writerow([f"C{i}", amount, when])
    path = tmp_path / "extract.csv"
    path.write_bytes(buffer.getvalue().encode("utf-8", errors="surrogatepass"))

    chunks = list(
        read_tabular(
            path,
            load_mapping(mapping_path),
            file_id="f" * 16,
            hasher=PatientHasher(b"k" * 16),
            chunk_rows=chunk_rows,
        )
    )
    good = [
        c
        for ch in chunks
        for c in (ch.tables["claims"]["claim_id"].to_list() if "claims" in ch.tables else [])
    ]
    quarantined = {p.claim_id for ch in chunks for p in ch.problems if p.quarantined}
    assert all(
        p.severity == "error" and p.code.startswith("tabular.")
        for ch in chunks
        for p in ch.problems
    )
    assert len(good) + len(quarantined) == len(rows)
    assert not set(good) & quarantined
    for ch in chunks:
        for p in ch.problems:
            assert p.row == int(p.claim_id[1:]) + 2  # row counts the header
