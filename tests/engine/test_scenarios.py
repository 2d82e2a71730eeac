"""Scenario valuation through the repricing engine: golden hand calculations on a tiny workspace."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP
from decimal import Decimal as D
from pathlib import Path

import pytest

from parley.domain.contracts import Contract
from parley.domain.scenarios import Proposal, Targeted, scale_codes, scale_terms
from parley.domain.value_based import build
from parley.errors import InputError

GOLD = """\
contract_id: GOLD
payer: {name: GOLD PLAN, payer_ids: [GP1]}
product_lines: [Commercial PPO]
claim_filing_indicators: ["12"]
effective: 2025-01-01
renewal: {type: evergreen}
professional:
  methodology:
    method: fee_schedule
    rates: [{code: "99213", amount: 100.00}, {code: "99214", amount: 150.00}]
  lesser_of_billed: false
"""


def _commit(ws, file_id: str, tables: dict[str, list[dict]]) -> None:
    import pyarrow as pa

    from parley.store.datasets import FileCommit, now_utc
    from parley.store.tables import schema

    commit = FileCommit(ws.datasets, file_id)
    for name, rows in tables.items():
        sch = schema(name)
        commit.write(name, pa.table({f.name: pa.array([r.get(f.name) for r in rows], f.type) for f in sch}))
    commit.commit({"sha256": file_id * 4, "source_path": f"{file_id}.835", "source_bytes": 1, "format": "x12-835",
                   "version": "005010X221A1", "status": "loaded", "ingested_at": now_utc(), "problem_count": 0,
                   "error_count": 0, "elapsed_seconds": 0.0})


@pytest.fixture
def gold(workspace):
    """Three claims of GOLD PLAN: 99213 + 99214 (PR $20 on the 99213), 99213 x 2 units, a denied 99214."""
    from parley.services.reprice import reprice

    ws = workspace
    (ws.contracts_dir / "gold.yaml").write_text(GOLD)

    def claim(seq: int, cid: str, day: dt.date, status: str = "1") -> dict:
        return {"claim_seq": seq, "claim_id": cid, "status_code": status, "payer_id": "GP1", "filing_indicator": "12",
                "payment_date": day + dt.timedelta(days=20), "service_date_from": day, "is_reversal": False}

    def ln(seq: int, claim_seq: int, code: str, allowed: str, paid: str, day: dt.date, units: str = "1") -> dict:
        return {"claim_seq": claim_seq, "line_seq": seq, "line_number": seq + 1, "procedure_qualifier": "HC",
                "procedure_code": code, "charge_amount": D("500.00"), "paid_amount": D(paid), "units": D(units),
                "allowed_amount": D(allowed), "service_date_from": day}

    d1, d2, d3 = dt.date(2025, 3, 3), dt.date(2025, 5, 5), dt.date(2025, 6, 10)
    _commit(ws, "a" * 16, {
        "remit_claims": [claim(0, "C1", d1), claim(1, "C2", d2), claim(2, "C3", d3, status="4")],
        "remit_lines": [ln(0, 0, "99213", "100.00", "80.00", d1), ln(1, 0, "99214", "150.00", "150.00", d1),
                        ln(2, 1, "99213", "200.00", "200.00", d2, units="2"), ln(3, 2, "99214", "0", "0", d3)],
        "adjustments": [{"claim_seq": 0, "line_seq": 0, "level": "line", "group_code": "PR", "reason_code": "3",
                         "amount": D("20.00")}],
    })
    reprice(workspace=ws)
    return ws


@pytest.mark.slow
def test_golden_valuation_matches_hand_calculation(gold) -> None:
    from parley.services.strategy import value_scenarios

    # Base year (2024-06-11 .. 2025-06-10), non-denied: 99213 $100 + 99214 $150 + 99213 x2 $200 = $450.
    # Proposal: +4% across the board, +10% on 99214, +5% at the start of year 2; volume +10%/yr; discount 10%.
    # Year 1 rates: 99213 104.00; 99214 150 x 1.04 = 156.00 x 1.10 = 171.60 -> 104 + 171.60 + 208 = 483.60
    #   revenue x 1.1 = 531.96; current 450 x 1.1 = 495.00; change 36.96
    # Year 2 rates x 1.05: 109.20, 180.18 -> 109.20 + 180.18 + 218.40 = 507.78 x 1.21 = 614.41; current 544.50; change 69.91
    # NPV change = 36.96 / 1.1 + 69.91 / 1.21 = 33.60 + 57.7769 = 91.38
    # Payer cost (PR $20 on the first line): current (80 + 150 + 200) x 1.1 = 473.00; proposal (84 + 171.60 + 208) x 1.1 = 509.96
    p = Proposal(name="gold", payer="GP1", years=2, across_the_board_percent=D(4),
                 targeted=[Targeted(codes=["99214"], percent=D(10))], escalators_percent=[D(5)],
                 volume_trend_percent=D(10), discount_rate_percent=D(10))
    v = value_scenarios(workspace=gold, proposals=[p])[0]
    assert v.base_period == (dt.date(2024, 6, 11), dt.date(2025, 6, 10))
    y1, y2 = v.years
    assert (y1.revenue_current, y1.revenue_proposal, y1.revenue_change) == (D("495.00"), D("531.96"), D("36.96"))
    assert (y2.revenue_current, y2.revenue_proposal, y2.revenue_change) == (D("544.50"), D("614.41"), D("69.91"))
    assert (y1.payer_cost_current, y1.payer_cost_proposal) == (D("473.00"), D("509.96"))
    assert v.npv_revenue_change == D("91.38")
    assert y1.start == dt.date(2025, 6, 11) and y1.lines == 3


@pytest.mark.slow
def test_no_change_equals_repricing_engine_and_top_n(gold) -> None:
    from parley.services.strategy import reconcile, value_scenarios

    rec = reconcile(workspace=gold, payer="GOLD PLAN")
    assert rec["equal"] and D(rec["engine_total"]) == D("450.00")
    same = value_scenarios(workspace=gold, proposals=[Proposal(name="none", payer="GOLD", years=3)])[0]
    assert all(y.revenue_change == 0 and y.revenue_current == D("450.00") for y in same.years)
    # top 1 code by actual allowed: 99213 ($300) -> +10% -> 110 + 150 + 220 = 480
    top = value_scenarios(workspace=gold, proposals=[Proposal(name="top", payer="GP1", years=1,
                                                              targeted=[Targeted(top_n_by_revenue=1, percent=D(10))])])[0]
    assert top.top_codes == [["99213"]] and top.years[0].revenue_proposal == D("480.00")


@pytest.mark.slow
def test_unknown_payer_is_an_input_error(gold) -> None:
    from parley.services.strategy import value_scenarios

    with pytest.raises(InputError, match="payer"):
        value_scenarios(workspace=gold, proposals=[Proposal(name="x", payer="NOBODY")])


def test_proposal_nonsense_names_the_field(tmp_path: Path) -> None:
    from parley.services.strategy import load_proposal

    with pytest.raises(InputError, match="code_rates"):
        build(Proposal, {"name": "x", "payer": "P", "code_rates": {"99213": -5}}, what="proposal")
    with pytest.raises(InputError, match="volume_trend_percent"):
        build(Proposal, {"name": "x", "payer": "P", "volume_trend_percent": -80}, what="proposal")
    f = tmp_path / "p.yaml"
    f.write_text("name: x\npayer: P\nacross_the_board_percnt: 3\n")
    with pytest.raises(InputError, match="across_the_board_percnt"):
        load_proposal(f)


def test_targeted_scaling_prices_in_the_term_that_owns_the_code() -> None:
    import yaml

    doc = yaml.safe_load(GOLD)
    doc["professional"]["methodology"] = {"method": "percent_of_medicare", "percent": 120, "pfs_year": 2025, "locality": "13202-01"}
    doc["professional"]["carve_outs"] = [{"name": "drugs", "select": {"prefixes": ["J"]},
                                          "pricing": {"method": "percent_of_charges", "percent": 50}}]
    c = Contract.model_validate(doc)
    t = scale_codes(c.terms_on(c.effective), D("1.05"), {"J0897", "99213"}, "t")
    carve = t.professional.carve_outs
    assert carve[0].name == "t (drugs)" and carve[0].pricing.percent == D("52.500")
    assert carve[-1].select.codes == ["99213"] and carve[-1].pricing.percent == D("126.000")
    assert scale_terms(c.terms_on(c.effective), D("1.03")).professional.carve_outs[0].pricing.percent == D(50)


@pytest.mark.slow
def test_by_code_breakdown_sums_to_the_cent(gold) -> None:
    from parley.services.strategy import value_scenarios

    p = Proposal(name="gold", payer="GP1", years=2, across_the_board_percent=D(4),
                 targeted=[Targeted(codes=["99214"], percent=D(10))], escalators_percent=[D(5)],
                 volume_trend_percent=D(10), discount_rate_percent=D(10))
    v = value_scenarios(workspace=gold, proposals=[p])[0]
    rows = {(r.year, r.code): r for r in v.by_code}
    assert set(rows) == {(1, "99213"), (1, "99214"), (2, "99213"), (2, "99214")}
    a, b = rows[1, "99213"], rows[1, "99214"]
    assert (a.lines, a.units, a.allowed_current, a.allowed_proposal) == (2, D("3"), D("300.00"), D("312.00"))
    assert (b.lines, b.units, b.allowed_current, b.allowed_proposal) == (1, D("1"), D("150.00"), D("171.60"))
    assert (a.revenue_current, b.revenue_current, a.revenue_proposal, b.revenue_proposal) == (
        D("330.00"), D("165.00"), D("343.20"), D("188.76"))
    # year 2 (x 1.21): 327.60 x 1.21 = 396.396 and 180.18 x 1.21 = 218.0178 round to 614.42, the year is 614.41:
    # the cent comes off the row rounded up the most (99213)
    assert (rows[2, "99213"].revenue_proposal, rows[2, "99214"].revenue_proposal) == (D("396.39"), D("218.02"))
    for y in v.years:
        mine = [r for r in v.by_code if r.year == y.year]
        assert sum(r.revenue_current for r in mine) == y.revenue_current
        assert sum(r.revenue_proposal for r in mine) == y.revenue_proposal
        vf = (1 + v.volume_trend_percent / 100) ** y.year
        assert (sum(r.allowed_current for r in mine) * vf).quantize(D("0.01"), ROUND_HALF_UP) == y.revenue_current
        assert (sum(r.allowed_proposal for r in mine) * vf).quantize(D("0.01"), ROUND_HALF_UP) == y.revenue_proposal


def test_allocate_always_sums_exactly() -> None:
    import random

    from parley.engine.scenarios import allocate

    rng = random.Random(7)
    for _ in range(300):
        amounts = [D(rng.randrange(0, 10**7)) / 100 * (1 + D(rng.randrange(0, 500)) / 1000)
                   for _ in range(rng.randrange(1, 40))]
        total = sum(amounts, D(0)).quantize(D("0.01"), ROUND_HALF_UP)
        out = allocate(amounts, total)
        assert sum(out, D(0)) == total
        assert all(abs(o - x) < D("0.01") for o, x in zip(out, amounts, strict=True))


@pytest.mark.parametrize("unit", ["percent", "percentage_points"])
def test_bake_escalation_folds_the_escalator_into_facility_terms(unit: str) -> None:
    """Baked terms (no escalator) give the facility rates pricing uses at that date's step."""
    from parley.domain.pricing_facility import resolve_facility
    from parley.domain.scenarios import bake_escalation

    c = Contract.model_validate({
        "contract_id": "H", "payer": {"name": "H", "payer_ids": ["H1"]}, "product_lines": ["Commercial PPO"],
        "effective": dt.date(2023, 1, 1), "renewal": {"type": "evergreen"},
        "escalator": {"amount": D("3.5"), "unit": unit, "anniversary": "01-01"},
        "facility": {"inpatient_drg": {"base_rate": D("12500.00"), "weights": {"470": D("1.9221")}},
                     "per_diems": [{"level_of_care": "ICU", "revenue_codes": ["0200"], "amount": D("4200.00")}],
                     "percent_of_charges": D(55), "revenue_code_carve_outs": {"0278": D("1000.00")},
                     "outlier": {"threshold": D("150000.00"), "percent": D(60)}},
    })
    on = dt.date(2025, 6, 1)
    seg = next(s for s in c.segments(dt.date(2026, 1, 1)) if s.start <= on <= s.end)
    want = resolve_facility(seg)
    baked = bake_escalation(c, on)
    assert baked.escalator is None and want is not None and want.step_note  # step 2 applied
    fac = baked.facility
    assert fac is not None and fac.inpatient_drg is not None
    assert fac.inpatient_drg.base_rate == want.base_rate != D("12500.00")
    assert [p.amount for p in fac.per_diems] == [want.per_diems[0][3]]
    assert fac.percent_of_charges == want.percent_of_charges
    assert fac.revenue_code_carve_outs == want.carve_outs
    assert fac.outlier == c.terms_on(on).facility.outlier  # not escalated, as in pricing
