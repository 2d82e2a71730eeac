"""Medicare PFS arithmetic (pure domain).  Expected values are computed by hand from the
CMS RVU25D / RVU24C files (rows quoted in the comments)."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

try:  # the project may not be installed in the test environment
    import parley  # noqa: F401
except ImportError:  # pragma: no cover
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))

from parley.domain.medicare import (
    MedicareAmount,
    anesthesia_allowed,
    anesthesia_time_units,
    apply_opps_cap,
    medicare_allowed,
    round_cents,
    select_pe_rvu,
)

CF_2025 = "32.3465"
MANHATTAN_2025 = ("1.065", "1.166", "1.656")  # GPCI2025.csv: 13202,NY,01,MANHATTAN
NATIONAL = ("1", "1", "1")
# PPRRVU2025 99213: work 1.30, non-fac PE 1.35, fac PE 0.57, MP 0.10


def test_99213_2025_national_non_facility_is_88_95() -> None:
    amt = medicare_allowed("1.30", "1.35", "0.10", *NATIONAL, CF_2025)
    assert amt.amount == Decimal("88.95")  # 2.75 x 32.3465 = 88.952875


def test_99213_2025_manhattan_non_facility_is_101_06() -> None:
    amt = medicare_allowed("1.30", "1.35", "0.10", *MANHATTAN_2025, CF_2025)
    assert amt.amount == Decimal("101.06")
    # 1.3845 + 1.5741 + 0.1656 = 3.1242 (unrounded) x 32.3465 = 101.0569353
    assert amt.adjusted_rvu == Decimal("3.12420")


def test_rounding_total_rvus_first_would_be_wrong() -> None:
    # documents the convention: rounding 3.1242 -> 3.12 first gives 100.92, not CMS's 101.06
    assert round_cents(Decimal("3.12") * Decimal(CF_2025)) == Decimal("100.92")
    amt = medicare_allowed("1.30", "1.35", "0.10", *MANHATTAN_2025, CF_2025)
    assert amt.amount != Decimal("100.92")


@pytest.mark.parametrize(
    ("rvus", "gpcis", "expected"),
    [
        # 99214 non-facility national: 1.92 + 1.80 + 0.15 = 3.87 x 32.3465 = 125.180955
        (("1.92", "1.80", "0.15"), NATIONAL, "125.18"),
        # 99214 facility national: 1.92 + 0.83 + 0.15 = 2.90 x 32.3465 = 93.80485
        (("1.92", "0.83", "0.15"), NATIONAL, "93.80"),
        # 99213 facility national: 1.30 + 0.57 + 0.10 = 1.97 x 32.3465 = 63.722605
        (("1.30", "0.57", "0.10"), NATIONAL, "63.72"),
        # 71046 global: 0.22 + 0.77 + 0.02 = 1.01 x 32.3465 = 32.669965
        (("0.22", "0.77", "0.02"), NATIONAL, "32.67"),
        # 71046-26: 0.22 + 0.08 + 0.01 = 0.31 x 32.3465 = 10.027415
        (("0.22", "0.08", "0.01"), NATIONAL, "10.03"),
        # 71046-TC: 0.00 + 0.69 + 0.01 = 0.70 x 32.3465 = 22.64255
        (("0.00", "0.69", "0.01"), NATIONAL, "22.64"),
        # 71046-26 Manhattan: 0.2343 + 0.09328 + 0.01656 = 0.34414 x 32.3465 = 11.1317245
        (("0.22", "0.08", "0.01"), MANHATTAN_2025, "11.13"),
        # 27447 facility, Los Angeles 01182-18 (1.042 / 1.194 / 0.690):
        # 20.4232 + 18.2682 + 2.7462 = 41.4376 x 32.3465 = 1340.3613284
        (("19.60", "15.30", "3.98"), ("1.042", "1.194", "0.690"), "1340.36"),
    ],
)
def test_hand_computed_2025_amounts(rvus, gpcis, expected) -> None:
    assert medicare_allowed(*rvus, *gpcis, CF_2025).amount == Decimal(expected)


def test_2024_july_cf() -> None:
    # RVU24C 99213: 1.30 / 1.33 / 0.10; CF 33.2875: 2.73 x 33.2875 = 90.874875
    assert medicare_allowed("1.3", "1.33", "0.1", *NATIONAL, "33.2875").amount == Decimal("90.87")


def test_professional_plus_technical_close_to_global() -> None:
    pc = medicare_allowed("0.22", "0.08", "0.01", *NATIONAL, CF_2025).amount
    tc = medicare_allowed("0.00", "0.69", "0.01", *NATIONAL, CF_2025).amount
    glob = medicare_allowed("0.22", "0.77", "0.02", *NATIONAL, CF_2025).amount
    assert abs((pc + tc) - glob) <= Decimal("0.01")


def test_explanation_lists_inputs_and_arithmetic() -> None:
    amt = medicare_allowed("1.30", "1.35", "0.10", *MANHATTAN_2025, CF_2025, label="99213")
    text = str(amt)
    assert text.splitlines()[0] == "99213"
    assert "1.30 x work GPCI 1.065 = 1.38450" in text
    assert "x CF 32.3465" in text
    assert "$101.06" in text
    assert isinstance(amt, MedicareAmount)


def test_select_pe_rvu() -> None:
    assert select_pe_rvu("1.35", "0.57", facility=False) == Decimal("1.35")
    assert select_pe_rvu("1.35", "0.57", facility=True) == Decimal("0.57")


def test_floats_refused() -> None:
    with pytest.raises(TypeError):
        medicare_allowed(1.3, "1.35", "0.10", *NATIONAL, CF_2025)  # type: ignore[arg-type]


def test_negative_rvu_refused() -> None:
    with pytest.raises(ValueError):
        medicare_allowed("-1", "1.35", "0.10", *NATIONAL, CF_2025)


def test_rounding_is_half_up() -> None:
    # 0.5 cent exactly: 1.00 RVU x CF 10.005 = 10.005 -> 10.01 (banker's rounding would give 10.00)
    assert medicare_allowed("1.00", "0", "0", *NATIONAL, "10.005").amount == Decimal("10.01")


# ----------------------------------------------------------------------------- anesthesia


@pytest.mark.parametrize(
    ("minutes", "rounding", "units"),
    [
        (60, "tenth", "4.0"),
        (62, "tenth", "4.1"),  # 4.1333
        (68, "tenth", "4.5"),  # 4.5333
        (67, "tenth", "4.5"),  # 4.4667 -> 4.5
        (61, "whole_up", "5"),
        (60, "whole_up", "4"),
        (62, "exact", None),
    ],
)
def test_anesthesia_time_units(minutes, rounding, units) -> None:
    got = anesthesia_time_units(minutes, rounding=rounding)
    if units is None:
        assert got == Decimal(62) / Decimal(15)
    else:
        assert got == Decimal(units)


def test_anesthesia_allowed_manhattan_2025() -> None:
    # ANES2025: 13202 01 MANHATTAN 22.76; 5 base units, 62 min -> 4.1 time units
    amt = anesthesia_allowed(5, "22.76", minutes=62)
    assert amt.units == Decimal("9.1")
    assert amt.amount == Decimal("207.12")  # 9.1 x 22.76 = 207.116
    amt2 = anesthesia_allowed(5, "22.76", time_units="4")
    assert amt2.amount == Decimal("204.84")  # 9 x 22.76


def test_anesthesia_needs_exactly_one_time_input() -> None:
    with pytest.raises(ValueError):
        anesthesia_allowed(5, "22.76")
    with pytest.raises(ValueError):
        anesthesia_allowed(5, "22.76", minutes=10, time_units=1)


def test_opps_cap() -> None:
    pfs = medicare_allowed("0.00", "0.69", "0.01", *NATIONAL, CF_2025)  # 22.64
    assert apply_opps_cap(pfs, "20.00").amount == Decimal("20.00")
    assert apply_opps_cap(pfs, "30.00").amount == Decimal("22.64")
    assert apply_opps_cap(pfs, None) is pfs


rvu = st.decimals(min_value=0, max_value=100, places=2)
gp = st.decimals(min_value="0.300", max_value="2.000", places=3)


@given(rvu, rvu, rvu, gp, gp, gp)
def test_amount_is_cents_and_monotonic_in_cf(w, pe, mp, wg, peg, mpg) -> None:
    a = medicare_allowed(w, pe, mp, wg, peg, mpg, "32.3465")
    b = medicare_allowed(w, pe, mp, wg, peg, mpg, "33.2875")
    assert a.amount == a.amount.quantize(Decimal("0.01"))
    assert b.amount >= a.amount
    assert abs(a.amount - a.adjusted_rvu * Decimal("32.3465")) <= Decimal("0.005")
