"""The scalar reference: percent of Medicare to CMS's cent, fee schedules, reductions, escalators."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from parley.domain.contracts import Contract
from parley.domain.pricing import Line, classify, expected_allowed, price_claim
from parley.services.contracts import RefdataContext

D = Decimal


class Quote:
    def __init__(self, amount: Decimal) -> None:
        self.amount, self.explanation = amount, (f"medicare ${amount}",)


class FakeContext:
    """Medicare amounts by (code, modifier, year, facility); codes 2000x are MPPR-reduced."""

    def __init__(self, table: dict) -> None:
        self.table = table

    def medicare(self, code, modifier, *, year, quarter, locality, zip, facility):  # noqa: A002
        amt = self.table.get((code, modifier, year, facility))
        return None if amt is None else Quote(amt)

    def pfs_years(self) -> list[int]:
        return [2024, 2025]

    def is_facility(self, pos):
        return pos in {"21", "22", "23", "24"}

    def mppr_indicator(self, code, year):
        return "2" if code.startswith("2000") else "0"


def contract(prof: dict, **extra) -> Contract:
    doc = {"contract_id": "T", "payer": {"name": "T", "payer_ids": ["P"]}, "product_lines": ["Commercial PPO"],
           "effective": dt.date(2024, 1, 1), "renewal": {"type": "evergreen"}, "professional": prof, **extra}
    return Contract.model_validate(doc)


def line(code: str = "99213", **kw) -> Line:
    base = {"procedure_code": code, "service_date": dt.date(2025, 3, 1), "charge_amount": D("1000.00"), "place_of_service": "11"}
    base.update(kw)
    return Line(**base)


@pytest.fixture(scope="module")
def refctx() -> RefdataContext:
    return RefdataContext()


@pytest.mark.parametrize(("where", "amount"), [({}, "88.95"), ({"locality": "13202-01"}, "101.06")])
def test_percent_of_medicare_equals_cms_to_the_cent(refctx: RefdataContext, where: dict, amount: str) -> None:
    c = contract({"methodology": {"method": "percent_of_medicare", "percent": 100, "pfs_year": 2025, **where}})
    e = expected_allowed(line(), c, refctx)
    assert e.status == "priced" and e.expected_allowed == D(amount)
    assert any("x CF 32.3465" in s for s in e.steps) and e.inputs["medicare_amount"] == amount


def test_percent_of_medicare_rounds_once_half_up(refctx: RefdataContext) -> None:
    c = contract({"methodology": {"method": "percent_of_medicare", "percent": D("137.5"), "pfs_year": 2025, "locality": "13202-01"}})
    assert expected_allowed(line(), c, refctx).expected_allowed == D("138.96")  # 101.06 x 1.375 = 138.9575


def test_facility_setting_and_professional_component(refctx: RefdataContext) -> None:
    c = contract({"methodology": {"method": "percent_of_medicare", "percent": 100, "pfs_year": 2025}})
    fac = expected_allowed(line(place_of_service="22"), c, refctx)
    nonfac = expected_allowed(line(), c, refctx)
    assert fac.expected_allowed < nonfac.expected_allowed
    pc = expected_allowed(line("71046", modifiers=("26",)), c, refctx)
    glob = expected_allowed(line("71046"), c, refctx)
    assert D(0) < pc.expected_allowed < glob.expected_allowed


def test_missing_service_year_is_not_priceable_with_reason(refctx: RefdataContext) -> None:
    c = contract({"methodology": {"method": "percent_of_medicare", "percent": 100, "pfs_year": "current"}})
    e = expected_allowed(line(service_date=dt.date(2026, 2, 1)), c, refctx)
    assert e.status == "not_priceable" and "missing reference data" in e.reason and "2026" in e.reason
    c2 = contract({"methodology": {"method": "percent_of_medicare", "percent": 100, "pfs_year": "current",
                                   "if_year_unavailable": "latest_available"}})
    assert expected_allowed(line(service_date=dt.date(2026, 2, 1)), c2, refctx).expected_allowed == D("88.95")


FAKE = FakeContext({("20001", "", 2025, False): D("200.00"), ("20002", "", 2025, False): D("300.00"),
                    ("10001", "", 2025, False): D("100.00")})


def test_fee_schedule_unlisted_code_default_and_not_priceable() -> None:
    c = contract({"methodology": {"method": "fee_schedule", "rates": [{"code": "10001", "amount": "80.00"}]}})
    assert expected_allowed(line("10001", units=D(2)), c, FAKE).expected_allowed == D("160.00")
    e = expected_allowed(line("10009"), c, FAKE)
    assert e.status == "not_priceable" and "no term of T covers 10009" in e.reason
    c2 = contract({"methodology": {"method": "fee_schedule", "rates": []}, "default": {"method": "percent_of_charges", "percent": 40}})
    assert expected_allowed(line("10009", charge_amount=D("123.45")), c2, FAKE).expected_allowed == D("49.38")


def test_multiple_procedure_bilateral_assistant_npp_and_lesser_of() -> None:
    c = contract({"methodology": {"method": "percent_of_medicare", "percent": 100, "pfs_year": 2025},
                  "adjustments": {"multiple_procedure": {"schedule": [100, 50]}, "bilateral_percent": 150,
                                  "assistant_at_surgery_percent": 16, "npp_percent": 85, "npp_npis": ["N1"]}})
    lines = [line("20001", line_number=1), line("20002", line_number=2, modifiers=("50",)),
             line("10001", line_number=3, modifiers=("80",), rendering_npi="N1", charge_amount=D("10.00"))]
    got = [e.expected_allowed for e in price_claim(lines, c, FAKE)]
    # 20002 ranks first (300 -> bilateral 450); 20001 second (200 x 50% = 100); 10001 not MPPR:
    # 100 x 16% = 16.00, x 85% = 13.60, lesser of billed 10.00
    assert got == [D("100.00"), D("450.00"), D("10.00")]


def test_escalator_compounds_on_anniversaries() -> None:
    c = contract({"methodology": {"method": "fee_schedule", "rates": [{"code": "10001", "amount": "100.00"}]}},
                 escalator={"amount": 3, "anniversary": "07-01"})
    assert expected_allowed(line("10001", service_date=dt.date(2024, 6, 30)), c, FAKE).expected_allowed == D("100.00")
    assert expected_allowed(line("10001", service_date=dt.date(2024, 7, 1)), c, FAKE).expected_allowed == D("103.00")
    assert expected_allowed(line("10001", service_date=dt.date(2025, 7, 1)), c, FAKE).expected_allowed == D("106.09")


def test_component_split_when_no_26_rate() -> None:
    c = contract({"methodology": {"method": "fee_schedule", "rates": [{"code": "10001", "amount": "100.00"}]},
                  "adjustments": {"professional_component_percent": 40}})
    assert expected_allowed(line("10001", modifiers=("26",)), c, FAKE).expected_allowed == D("40.00")
    assert expected_allowed(line("10001", modifiers=("TC",)), c, FAKE).status == "not_priceable"


def test_anesthesia_base_plus_time_units() -> None:
    c = contract({"methodology": {"method": "percent_of_charges", "percent": 50},
                  "anesthesia": {"conversion_factor": "21.50", "base_units": {"00790": 7}}})
    e = expected_allowed(line("00790", units=D(62)), c, FAKE)  # 62 min -> 4.1 units; (7 + 4.1) x 21.50
    assert e.expected_allowed == D("238.65")


def test_expected_paid_and_classification() -> None:
    c = contract({"methodology": {"method": "fee_schedule", "rates": [{"code": "10001", "amount": "100.00"}]}})
    e = expected_allowed(line("10001", patient_responsibility=D("30.00")), c, FAKE)
    assert e.expected_paid == D("70.00")
    kw = {"tolerance_dollars": D("1.00"), "tolerance_percent": D("1.0")}
    assert classify(D("100.00"), D("98.99"), **kw) == "underpaid"
    assert classify(D("100.00"), D("99.00"), **kw) == "paid_correctly"
    assert classify(D("500.00"), D("496.00"), **kw) == "paid_correctly"  # $4 but under 1% of $500
    assert classify(D("100.00"), D("102.00"), **kw) == "overpaid"


def test_multiple_procedure_follows_cms_units_beyond_the_first_are_reduced() -> None:
    from parley.domain.pricing import mppr_share

    c = contract({"methodology": {"method": "percent_of_medicare", "percent": 100, "pfs_year": 2025},
                  "adjustments": {"multiple_procedure": {"schedule": [100, 50, 25]}}, "lesser_of_billed": False})
    # 20001 ($200/unit) x 2 units, 20002 ($300/unit) x 1: 20002 ranks 1 (100%); 20001's units rank 2 and 3
    lines = [line("20001", line_number=1, units=D(2)), line("20002", line_number=2)]
    got = price_claim(lines, c, FAKE)
    assert [e.expected_allowed for e in got] == [D("150.00"), D("300.00")]  # 200 x (50% + 25%)
    assert any("multiple procedure" in s for s in got[0].steps)
    # the last percentage repeats, a fraction of a unit earns its share of the next percentage
    assert mppr_share([D(100), D(50)], D(0), D(3)) == D(200)
    assert mppr_share([D(100), D(50)], D("0.5"), D(1)) == D(75)
    # a single line of 3 units ranked first: 100 + 50 + 25
    one = price_claim([line("20001", units=D(3))], c, FAKE)[0]
    assert one.expected_allowed == D("350.00")
