"""Exact answers on the hand-checkable fixture (see conftest.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from parley.engine.kpi import burden, denials, mix, population, speed
from parley.engine.kpi.base import KpiParams
from parley.services.kpi import KpiSession


def _one(result, **match):
    return next(r for r in result.rows if all(r[k] == v for k, v in match.items()))


def test_denials(tiny_ws):
    with KpiSession(workspace=tiny_ws) as s:
        r = _one(denials.denial_rates(s.con, by="payer"), payer="PAYER ONE")
        assert r["adjudicated_claims"] == 2 and r["initially_denied_claims"] == 1 and r["initial_denial_rate"] == 0.5
        assert r["finally_denied_claims"] == 0 and r["overturned_claims"] == 1 and r["overturn_rate"] == 1.0
        assert r["initial_denied_dollars"] == Decimal("200.00") and r["initial_dollar_denial_rate"] == round(200 / 300, 4)
        top = denials.top_reasons(s.con).rows
        assert top[0]["carc"] == "16" and top[0]["denied_dollars"] == Decimal("200.00")
        assert "initial_denial_rate" in denials.denial_rates(s.con).definitions


def test_speed(tiny_ws):
    with KpiSession(workspace=tiny_ws) as s:
        assert s.as_of == dt.date(2025, 3, 2)
        d = _one(speed.days_to_pay(s.con), payer="PAYER ONE")
        assert d["paid_claims"] == 2 and d["median_days_to_pay"] == 20 and d["p90_days_to_pay"] == 60 and d["max_days_to_pay"] == 60
        ar = _one(speed.accounts_receivable(s.con), payer="PAYER ONE")
        # unpaid: C (300, age 1 day); charges in last 90 days: C only (A, B are 60 days old -> also within 90)
        assert ar["unpaid_claims"] == 1 and ar["outstanding_balance"] == Decimal("300.00") and ar["ar_0_30"] == Decimal("300.00")
        assert ar["average_daily_charges"] == round(600 / 90, 2)
        pp = _one(speed.prompt_pay(s.con), contract_id="C1")
        assert pp["late_claims"] == 1 and pp["interest_due"] == Decimal("1.48") and pp["interest_paid"] == Decimal("1.00")
        assert pp["interest_shortfall"] == Decimal("0.48")


def test_burden(tiny_ws):
    with KpiSession(workspace=tiny_ws, params=KpiParams()) as s:
        b = _one(burden.burden(s.con, s.params), payer="PAYER ONE")
        assert b["prior_auths_required"] == 1 and float(b["auth_staff_hours"]) == 0.3
        assert b["auth_cost"] == Decimal("10.00") and b["rework_cost"] == Decimal("25.00")
        assert b["recoupments"] == Decimal("10.00") and b["collected"] == Decimal("230.00")
        # delay: 80 x 5%/365 x 20 + 150 x 5%/365 x 60 = 0.2192 + 1.2329 = 1.45
        assert b["delay_cost"] == Decimal("1.45")
        assert b["cost_to_collect"] == round((10 + 25 + 1.45) / 230, 4)


def test_mix_and_population(tiny_ws):
    with KpiSession(workspace=tiny_ws) as s:
        m = _one(mix.payer_mix(s.con), payer="PAYER ONE")
        assert m["claims"] == 3 and m["distinct_patients"] == 2 and m["collected"] == Decimal("230.00")
        codes = {r["procedure_code"]: r for r in mix.top_codes(s.con).rows}
        assert codes["99214"]["allowed"] == Decimal("150.00") and codes["99214"]["rank_by_revenue"] == 1
        prev = {r["condition"]: r["prevalence"] for r in population.chronic_prevalence(s.con).rows}
        assert prev == {"diabetes": 0.5, "hypertension": 0.5}


def test_percent_of_medicare_matches_the_fee_schedule(tiny_ws):
    from parley.refdata import medicare_fee

    with KpiSession(workspace=tiny_ws) as s:
        by_code = {r["procedure_code"]: r for r in mix.medicare_value(s.con, by_code=True).rows}
    fee = medicare_fee("99214", year=2025, pos="11").amount  # national: the fixture has no locality
    row = by_code["99214"]
    assert row["medicare_allowed"] == fee and row["allowed"] == Decimal("150.00")
    assert row["percent_of_medicare"] == round(100 * 150 / float(fee), 1)


def test_ar_split_and_totals_add_up(tiny_ws):
    with KpiSession(workspace=tiny_ws) as s:
        ar = _one(speed.accounts_receivable(s.con), payer="PAYER ONE")
        assert ar["awaiting_adjudication_balance"] == Decimal("300.00") and ar["denied_unpaid_balance"] == Decimal("0.00")
        buckets = ar["ar_0_30"] + ar["ar_31_60"] + ar["ar_61_90"] + ar["ar_91_120"] + ar["ar_over_120"]
        assert buckets == ar["outstanding_balance"]
        by_month = denials.denial_rates(s.con, by="month").rows
        (total,) = denials.denial_rates(s.con, by="all").rows
        assert sum(r["adjudicated_claims"] for r in by_month) == total["adjudicated_claims"] == 2
        assert {r["month"] for r in by_month} == {"2025-01"}
