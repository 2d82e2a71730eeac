"""Monte Carlo sensitivity of value-based terms (numpy, vectorised, seeded).

Each draw is a whole contract (``years`` years).  Per draw and year:

* cost trend ``g ~ Normal(cost_trend, cost_trend_sd)``; actual PMPM compounds:
  ``actual_y = actual_pmpm x prod(1 + g_1..g_y) x u_y`` with utilisation
  ``u ~ Normal(1, utilisation_sd)`` (floored at 0);
* benchmark ``benchmark_pmpm x (1 + benchmark_trend)^y``;
* member months ``member_months x a``, attribution ``a ~ Normal(1, attribution_sd)`` (floored at 0);
* quality attainment ``q ~ Normal(quality_mean, quality_sd)`` clipped to [0, 1];
* FFS revenue ``ffs_revenue x (1 + ffs_trend)^y x a``.

The cash flow is the formula of :func:`parley.domain.value_based.year_cash_flow`
(the same terms, the same order of caps), evaluated in float64 arrays.  The
results are *estimates*: distributions are summarised (mean, percentiles,
probability of owing money) and rounded to cents through ``Decimal``.  With
every standard deviation 0 the simulation reproduces the exact scalar figures
(to float precision) - a test checks it.  The same seed gives the same result.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from parley.domain.value_based import Population, VbcTerms, cents
from parley.errors import InputError


class Uncertainty(BaseModel):
    """The sensitivity inputs (fractions: 0.05 = 5%)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cost_trend: float = Field(default=0.04, ge=-0.5, le=1)
    cost_trend_sd: float = Field(default=0.02, ge=0, le=1)
    benchmark_trend: float = Field(default=0.03, ge=-0.5, le=1)
    ffs_trend: float = Field(default=0.0, ge=-0.5, le=1)
    quality_mean: float = Field(default=0.85, ge=0, le=1)
    quality_sd: float = Field(default=0.08, ge=0, le=1)
    attribution_sd: float = Field(default=0.05, ge=0, le=1)
    utilisation_sd: float = Field(default=0.03, ge=0, le=1)


def _f(x: Decimal | None, default: float = 0.0) -> float:
    return default if x is None else float(x)


def _draws(base: Population, unc: Uncertainty, years: int, draws: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    shape = (draws, years)
    growth = np.cumprod(1.0 + rng.normal(unc.cost_trend, unc.cost_trend_sd, shape), axis=1)
    util = np.maximum(rng.normal(1.0, unc.utilisation_sd, shape), 0.0)
    attrib = np.maximum(rng.normal(1.0, unc.attribution_sd, shape), 0.0)
    quality = np.clip(rng.normal(unc.quality_mean, unc.quality_sd, shape), 0.0, 1.0)
    y = np.arange(1, years + 1, dtype=np.float64)
    mm = float(base.member_months) * attrib
    return {
        "mm": mm,
        "bench": float(base.benchmark_pmpm) * (1.0 + unc.benchmark_trend) ** y * mm,
        "actual": float(base.actual_pmpm) * growth * util * mm,
        "quality": quality,
        "ffs": float(base.ffs_revenue) * (1.0 + unc.ffs_trend) ** y * attrib,
    }


def _savings(terms: VbcTerms, d: dict[str, np.ndarray]) -> np.ndarray:
    bench, actual, q = d["bench"], d["actual"], d["quality"]
    diff = bench - actual
    safe = np.where(bench > 0, bench, 1.0)
    out = np.zeros_like(bench)
    ss, dr = terms.shared_savings, terms.downside
    if ss is not None:
        share = diff * float(ss.sharing_rate) * (q if ss.quality_scaled else 1.0)
        if ss.cap is not None:
            share = np.minimum(share, float(ss.cap) * bench)
        ok = (diff > 0) & (diff / safe >= float(ss.minimum_savings_rate)) & (q >= float(ss.quality_gate))
        gain = np.where(ok, share, 0.0)
        if terms.zero_downside_network:
            gain = gain * (1.0 - float(terms.network_fee))
        out += gain
    if dr is not None and not terms.zero_downside_network:
        owed = -diff * float(dr.loss_sharing_rate)
        if dr.cap is not None:
            owed = np.minimum(owed, float(dr.cap) * bench)
        out -= np.where((diff < 0) & (-diff / safe >= float(dr.minimum_loss_rate)), owed, 0.0)
    if terms.corridor is not None:
        out = np.clip(out, -float(terms.corridor) * bench, float(terms.corridor) * bench)
    return out


def _other(terms: VbcTerms, d: dict[str, np.ndarray], years: int) -> np.ndarray:
    mm, q = d["mm"], d["quality"]
    out = np.zeros_like(mm)
    if terms.withhold is not None:
        withheld = float(terms.withhold.percent) * d["ffs"]
        out += np.where(q >= float(terms.withhold.quality_gate), withheld * q, 0.0) - withheld
    for m in terms.pay_for_performance:
        out += np.where(q >= float(m.target), float(m.amount), 0.0)
    out += (_f(terms.capitation_pmpm) + _f(terms.care_management_pmpm)) * mm
    if terms.infrastructure_amount is not None:
        per_year = float(terms.infrastructure_amount) / terms.infrastructure_years
        out += np.where(np.arange(1, years + 1) <= terms.infrastructure_years, per_year, 0.0)
    return out


def simulate_cash(terms: VbcTerms, base: Population, unc: Uncertainty, *, years: int, draws: int, seed: int) -> np.ndarray:
    """Cash flow per draw and year, shape (draws, years), float64 dollars (estimates)."""
    if not 1 <= years <= 30:
        raise InputError(f"years: must be 1..30, got {years}")
    if not 1 <= draws <= 5_000_000:
        raise InputError(f"draws: must be 1..5,000,000, got {draws}")
    d = _draws(base, unc, years, draws, seed)
    cash: np.ndarray = _savings(terms, d) + _other(terms, d, years)
    return cash


def _money(x: float) -> str:
    return str(cents(Decimal(repr(float(x)))))


def summarise(cash: np.ndarray, *, seed: int) -> dict[str, Any]:
    """Distribution summary (estimates, rounded to cents)."""
    pct = np.percentile(cash, [5, 50, 95], axis=0)
    per_year = [
        {"year": i + 1, "mean": _money(cash[:, i].mean()), "p5": _money(pct[0, i]), "p50": _money(pct[1, i]),
         "p95": _money(pct[2, i]), "probability_owing": round(float((cash[:, i] < 0).mean()), 4)}
        for i in range(cash.shape[1])
    ]
    total = cash.sum(axis=1)
    worst = int(np.argmin(pct[0]))
    return {
        "draws": int(cash.shape[0]), "years": int(cash.shape[1]), "seed": seed,
        "note": "Monte Carlo estimates (float64 internally), rounded to cents",
        "per_year": per_year,
        "total": {"mean": _money(total.mean()), "p5": _money(np.percentile(total, 5)),
                  "p50": _money(np.percentile(total, 50)), "p95": _money(np.percentile(total, 95))},
        "probability_owing_any_year": round(float((cash < 0).any(axis=1).mean()), 4),
        "probability_owing_total": round(float((total < 0).mean()), 4),
        "worst_p5_year": {"year": worst + 1, "p5": _money(pct[0, worst])},
    }


def run(terms: VbcTerms, base: Population, unc: Uncertainty | None = None, *, years: int = 3,
        draws: int = 10_000, seed: int = 42, zero_downside_variant: bool = True) -> dict[str, Any]:
    """Simulate the terms (and, by default, their zero-downside network variant)."""
    unc = unc or Uncertainty()
    out = {"terms": summarise(simulate_cash(terms, base, unc, years=years, draws=draws, seed=seed), seed=seed)}
    if zero_downside_variant and not terms.zero_downside_network:
        zd = terms.model_copy(update={"zero_downside_network": True})
        out["zero_downside_network"] = summarise(simulate_cash(zd, base, unc, years=years, draws=draws, seed=seed), seed=seed)
    return out
