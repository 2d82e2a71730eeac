"""Value-based math: worked examples computed by hand in the comments."""

from __future__ import annotations

from decimal import Decimal as D

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parley.domain.value_based import (
    DownsideRisk,
    Measure,
    Population,
    SharedSavings,
    VbcTerms,
    Withhold,
    build,
    year_cash_flow,
)
from parley.engine import montecarlo as mc
from parley.errors import InputError

POP = Population(member_months=D(12000), benchmark_pmpm=D(1000), actual_pmpm=D(950), ffs_revenue=D(2000000),
                 quality_attainment=D("0.9"))


def test_shared_savings_worked_example() -> None:
    # benchmark 12,000 x 1,000 = 12,000,000; actual 12,000 x 950 = 11,400,000; savings 600,000 = 5% >= MSR 2%
    # shared 600,000 x 50% = 300,000; cap 2% x 12,000,000 = 240,000 -> 240,000
    t = VbcTerms(shared_savings=SharedSavings(minimum_savings_rate=D("0.02"), sharing_rate=D("0.5"), cap=D("0.02")))
    assert year_cash_flow(t, POP).shared_savings == D("240000.00")
    t2 = VbcTerms(shared_savings=SharedSavings(sharing_rate=D("0.5"), quality_scaled=True))
    # 600,000 x 0.5 x quality 0.9 = 270,000
    assert year_cash_flow(t2, POP).shared_savings == D("270000.00")


def test_msr_and_quality_gate() -> None:
    # savings 5% < MSR 6% -> 0; quality 0.9 < gate 0.95 -> 0
    assert year_cash_flow(VbcTerms(shared_savings=SharedSavings(minimum_savings_rate=D("0.06"))), POP).total == 0
    assert year_cash_flow(VbcTerms(shared_savings=SharedSavings(quality_gate=D("0.95"))), POP).total == 0


def test_downside_corridor_and_zero_downside() -> None:
    pop = POP.model_copy(update={"actual_pmpm": D(1040)})
    # loss 12,000 x 40 = 480,000 = 4% >= MLR 2%; owed 480,000 x 40% = 192,000; cap 1% x 12M = 120,000
    t = VbcTerms(downside=DownsideRisk(minimum_loss_rate=D("0.02"), loss_sharing_rate=D("0.4"), cap=D("0.01")))
    assert year_cash_flow(t, pop).downside == D("-120000.00")
    t_nocap = VbcTerms(downside=DownsideRisk(loss_sharing_rate=D("0.4")), corridor=D("0.005"))
    # uncapped 192,000 owed, corridor 0.5% x 12M = 60,000 bounds it
    assert year_cash_flow(t_nocap, pop).downside == D("-60000.00")
    zd = t.model_copy(update={"zero_downside_network": True})
    assert year_cash_flow(zd, pop).total == 0


def test_withhold_capitation_p4p_care_mgmt_infrastructure() -> None:
    # withhold 2% x 2,000,000 = 40,000; returned 40,000 x 0.9 = 36,000 -> -4,000
    # capitation 12,000 x 25 = 300,000; care mgmt 12,000 x 4 = 48,000
    # P4P: 0.9 >= 0.8 earns 15,000; 0.9 < 0.95 earns 0; infrastructure 400,000 / 3 = 133,333.33
    t = VbcTerms(withhold=Withhold(percent=D("0.02")), capitation_pmpm=D(25), care_management_pmpm=D(4),
                 pay_for_performance=[Measure(name="HbA1c", amount=D(15000), target=D("0.8")),
                                      Measure(name="readmissions", amount=D(10000), target=D("0.95"))],
                 infrastructure_amount=D(400000), infrastructure_years=3)
    cf = year_cash_flow(t, POP)
    assert (cf.withhold, cf.capitation, cf.care_management, cf.pay_for_performance, cf.infrastructure) == (
        D("-4000.00"), D("300000.00"), D("48000.00"), D("15000.00"), D("133333.33"))
    assert cf.total == D("492333.33")
    assert year_cash_flow(t, POP, year=4).infrastructure == 0


@pytest.mark.parametrize("field,value", [("sharing_rate", "1.5"), ("minimum_savings_rate", "-0.1")])
def test_nonsense_inputs_name_the_field(field: str, value: str) -> None:
    with pytest.raises(InputError, match=field):
        build(SharedSavings, {field: value}, what="shared_savings")


def test_negative_member_months_refused() -> None:
    with pytest.raises(InputError, match="member_months"):
        build(Population, {"member_months": -5, "benchmark_pmpm": 1000, "actual_pmpm": 900}, what="population")


def test_monte_carlo_reproducible_and_matches_scalar_without_noise() -> None:
    t = VbcTerms(shared_savings=SharedSavings(cap=D("0.1")), downside=DownsideRisk(cap=D("0.05")),
                 withhold=Withhold(percent=D("0.02")), care_management_pmpm=D(4))
    unc = mc.Uncertainty()
    a = mc.simulate_cash(t, POP, unc, years=3, draws=2000, seed=7)
    b = mc.simulate_cash(t, POP, unc, years=3, draws=2000, seed=7)
    assert np.array_equal(a, b)
    assert mc.run(t, POP, unc, seed=7, draws=2000) == mc.run(t, POP, unc, seed=7, draws=2000)
    flat = mc.Uncertainty(cost_trend=0, cost_trend_sd=0, benchmark_trend=0, quality_mean=0.9, quality_sd=0,
                          attribution_sd=0, utilisation_sd=0)
    cash = mc.simulate_cash(t, POP, flat, years=3, draws=10, seed=1)
    assert abs(cash[0, 0] - float(year_cash_flow(t, POP).total)) < 0.01


def test_monte_carlo_summary_probability_owing() -> None:
    t = VbcTerms(shared_savings=SharedSavings(), downside=DownsideRisk())
    pop = POP.model_copy(update={"actual_pmpm": D(1000)})
    out = mc.run(t, pop, mc.Uncertainty(cost_trend=0.06, benchmark_trend=0.03), years=3, draws=5000, seed=3)
    assert out["terms"]["probability_owing_any_year"] > 0.5
    assert out["zero_downside_network"]["probability_owing_any_year"] == 0
    assert D(out["terms"]["worst_p5_year"]["p5"]) < 0


@settings(max_examples=60, deadline=None)
@given(actual=st.integers(800, 1200), sharing=st.integers(0, 100), loss=st.integers(0, 100),
       cap=st.integers(1, 20), quality=st.integers(0, 100), zero=st.booleans())
def test_vectorised_equals_scalar_without_noise(actual: int, sharing: int, loss: int, cap: int, quality: int, zero: bool) -> None:
    t = VbcTerms(shared_savings=SharedSavings(sharing_rate=D(sharing) / 100, quality_gate=D("0.5"), cap=D(cap) / 100),
                 downside=DownsideRisk(loss_sharing_rate=D(loss) / 100, cap=D(cap) / 200),
                 withhold=Withhold(percent=D("0.02"), quality_gate=D("0.6")), zero_downside_network=zero)
    pop = POP.model_copy(update={"actual_pmpm": D(actual), "quality_attainment": D(quality) / 100})
    flat = mc.Uncertainty(cost_trend=0, cost_trend_sd=0, benchmark_trend=0, quality_mean=quality / 100, quality_sd=0,
                          attribution_sd=0, utilisation_sd=0)
    cash = mc.simulate_cash(t, pop, flat, years=1, draws=2, seed=0)
    assert abs(cash[0, 0] - float(year_cash_flow(t, pop).total)) < 0.02
