"""Negotiation math (pure, ``Decimal``): walk-away, BATNA, ZOPA, opening offer, payer exit.

Every figure is a :class:`Figure`: its value, unit, where it came from (the
user or Parley) and its derivation as text.

Walk-away (reservation point), in annual revenue on our own volume:

* cost floor   = cost to serve x (1 + required margin)
* BATNA        = the annual value of the best alternative (going out of
  network, shifting the volume to other payers ...)
* walk-away    = max(cost floor, BATNA): the worst terms we accept.

Both ends are also expressed as percent of Medicare: revenue / (our volume
priced at 100% of Medicare) x 100.  The payer's likely maximum comes from
market benchmarks (our volume priced at a percentile of what this payer pays
comparable providers) or from the user.  ZOPA = [walk-away, payer maximum]
when walk-away <= maximum, else empty (said so).  The opening offer sits high
in the zone: walk-away + position x (maximum - walk-away), position 0.8 by
default, but never below current revenue (a provider whose rates are above the
payer's likely maximum opens by holding current terms, not by offering a cut);
a user's opening offer below the walk-away is refused.

Payer exit (:func:`exit_impact`): per year and per case (low / base / high),
current revenue from the payer is lost; patients retained at other coverage
(e.g. an MA exit: traditional Medicare paid at Medicare rates) or out of
network bring back ``share x current revenue x payment ratio``; freed
capacity back-filled by other payers brings ``backfill share x lost revenue x
ratio``; the administrative cost of the contract is saved.  Until the next
open enrollment takes effect, patients cannot switch: the months before it
are paid at the out-of-network ratio for those who stay.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from parley.errors import InputError

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
Fraction = Annotated[Decimal, Field(ge=0, le=1)]
Dollars = Annotated[Decimal, Field(ge=0)]


def cents(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


def pct1(x: Decimal) -> Decimal:
    return x.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Figure(_Model):
    """A number with its unit, source and derivation."""

    name: str
    value: Decimal | None
    unit: Literal["dollars", "percent_of_medicare", "fraction", "count"] = "dollars"
    source: Literal["user", "derived", "workspace", "market"] = "derived"
    derivation: str


class NegotiationInputs(_Model):
    """What the user gives (or Parley derives from the workspace) for one payer; dollars per year."""

    current_revenue: Dollars = Field(description="our volume at current terms (a year)")
    medicare_revenue: Dollars | None = Field(default=None, description="our volume at 100% of Medicare (a year)")
    cost_to_serve: Dollars | None = Field(default=None, description="cost of serving the volume (a year)")
    cost_per_rvu: Dollars | None = None
    total_rvus: Decimal | None = Field(default=None, ge=0)
    required_margin: Decimal = Field(default=Decimal("0.05"), ge=-1, le=5, description="margin floor over cost (0.05 = 5%)")
    batna_value: Dollars | None = Field(default=None, description="annual value of the best alternative")
    batna_description: str = "best alternative if no deal"
    payer_max_revenue: Dollars | None = Field(default=None, description="the payer's likely maximum (a year)")
    payer_max_source: str = "user"
    opening_position: Fraction = Decimal("0.8")
    opening_offer_revenue: Dollars | None = Field(default=None, description="a user's own opening offer")

    @model_validator(mode="after")
    def _cost(self) -> NegotiationInputs:
        if self.cost_to_serve is None and (self.cost_per_rvu is None) != (self.total_rvus is None):
            raise ValueError("cost_per_rvu and total_rvus go together")
        return self


class NegotiationResult(_Model):
    walk_away: Figure
    walk_away_percent_of_medicare: Figure
    payer_max: Figure
    payer_max_percent_of_medicare: Figure
    zopa_exists: bool
    zopa: tuple[Decimal, Decimal] | None
    zopa_note: str
    opening_offer: Figure
    opening_offer_percent_of_medicare: Figure
    opening_change_vs_current: Figure
    inputs: list[Figure]


def _pom(name: str, dollars: Decimal | None, medicare: Decimal | None, what: str) -> Figure:
    if dollars is None:
        return Figure(name=name, value=None, unit="percent_of_medicare", derivation=f"{what}: not available")
    if not medicare:
        return Figure(name=name, value=None, unit="percent_of_medicare",
                      derivation=f"{what}: not available (needs the volume priced at Medicare)")
    v = pct1(dollars / medicare * HUNDRED)
    return Figure(name=name, value=v, unit="percent_of_medicare",
                  derivation=f"{what} ${cents(dollars)} / Medicare ${cents(medicare)} x 100 = {v}%")


def _cost_floor(i: NegotiationInputs) -> Figure | None:
    if i.cost_to_serve is not None:
        cost, how = i.cost_to_serve, f"cost to serve ${i.cost_to_serve}"
    elif i.cost_per_rvu is not None and i.total_rvus is not None:
        cost = i.cost_per_rvu * i.total_rvus
        how = f"cost ${i.cost_per_rvu}/RVU x {i.total_rvus} RVUs = ${cents(cost)}"
    else:
        return None
    floor = cents(cost * (1 + i.required_margin))
    return Figure(name="cost_floor", value=floor, source="user",
                  derivation=f"{how} x (1 + margin {i.required_margin}) = ${floor}")


def walk_away(i: NegotiationInputs) -> Figure:
    """max(cost floor, BATNA value)."""
    floor = _cost_floor(i)
    batna = i.batna_value
    if floor is None and batna is None:
        raise InputError("walk_away: needs cost_to_serve (or cost_per_rvu and total_rvus) or batna_value")
    candidates = [(floor.value, floor.derivation)] if floor is not None and floor.value is not None else []
    if batna is not None:
        candidates.append((batna, f"BATNA ({i.batna_description}) ${batna}"))
    value = max(c[0] for c in candidates)
    return Figure(name="walk_away", value=value, source="derived",
                  derivation=f"max of [{'; '.join(c[1] for c in candidates)}] = ${value}")


def analyse(i: NegotiationInputs) -> NegotiationResult:
    """Walk-away, payer maximum, ZOPA and opening offer, each with its derivation."""
    wa = walk_away(i)
    assert wa.value is not None
    mx = i.payer_max_revenue
    payer_max = Figure(name="payer_max", value=mx, source="market" if i.payer_max_source != "user" else "user",
                       derivation=(f"payer's likely maximum ${mx} ({i.payer_max_source})" if mx is not None
                                   else "no market benchmark for this payer and no user figure"))
    zopa_exists = mx is not None and wa.value <= mx
    if mx is None:
        note = "ZOPA unknown: no estimate of the payer's maximum (load market benchmarks or give payer_max_revenue)"
    elif zopa_exists:
        note = f"ZOPA ${wa.value} .. ${mx} (width ${cents(mx - wa.value)})"
    else:
        note = (f"ZOPA is EMPTY: our walk-away ${wa.value} is above the payer's likely maximum ${mx} "
                f"by ${cents(wa.value - mx)}; prepare the BATNA or change the deal's scope")
    opening = _opening(i, wa.value, mx if zopa_exists else None)
    change = None if opening.value is None else cents(opening.value - i.current_revenue)
    return NegotiationResult(
        walk_away=wa, walk_away_percent_of_medicare=_pom("walk_away_percent_of_medicare", wa.value, i.medicare_revenue, "walk-away"),
        payer_max=payer_max, payer_max_percent_of_medicare=_pom("payer_max_percent_of_medicare", mx, i.medicare_revenue, "payer maximum"),
        zopa_exists=zopa_exists, zopa=(wa.value, mx) if zopa_exists and mx is not None else None, zopa_note=note,
        opening_offer=opening,
        opening_offer_percent_of_medicare=_pom("opening_offer_percent_of_medicare", opening.value, i.medicare_revenue, "opening offer"),
        opening_change_vs_current=Figure(name="opening_change_vs_current", value=change,
                                         derivation="opening offer - current revenue" + (f" = ${change}" if change is not None else "")),
        inputs=_input_figures(i),
    )


def _opening(i: NegotiationInputs, wa: Decimal, mx: Decimal | None) -> Figure:
    if i.opening_offer_revenue is not None:
        if i.opening_offer_revenue < wa:
            raise InputError(f"opening_offer_revenue: ${i.opening_offer_revenue} is below the walk-away ${wa}; "
                             "an opening offer must be at or above the walk-away point")
        return Figure(name="opening_offer", value=i.opening_offer_revenue, source="user", derivation="the user's opening offer")
    if mx is None:
        return Figure(name="opening_offer", value=None, derivation="no opening offer: the ZOPA is empty or unknown")
    v = cents(wa + i.opening_position * (mx - wa))
    formula = f"walk-away ${wa} + {i.opening_position} x (maximum ${mx} - walk-away ${wa}) = ${v}"
    if v < i.current_revenue:
        # Above-market rates: never open by offering a cut; hold today's terms and defend them.
        return Figure(name="opening_offer", value=i.current_revenue,
                      derivation=f"{formula}, below current revenue ${i.current_revenue}: our rates sit above the payer's "
                                 "likely maximum, so the opening offer holds current terms (expect the payer to seek a "
                                 "reduction; lead with the value story)")
    return Figure(name="opening_offer", value=v, derivation=formula)


def _input_figures(i: NegotiationInputs) -> list[Figure]:
    out = [Figure(name="current_revenue", value=i.current_revenue, source="workspace", derivation="our volume at current terms")]
    if i.medicare_revenue is not None:
        out.append(Figure(name="medicare_revenue", value=i.medicare_revenue, source="workspace",
                          derivation="our volume at 100% of Medicare"))
    floor = _cost_floor(i)
    if floor is not None:
        out.append(floor)
    if i.batna_value is not None:
        out.append(Figure(name="batna_value", value=i.batna_value, source="user", derivation=i.batna_description))
    return out


# --------------------------------------------------------------------------- payer exit


class ExitCase(_Model):
    """One case (low / base / high) of a payer exit; shares of the payer's current patients."""

    retained_share: Fraction = Field(description="patients who move to coverage we accept (e.g. traditional Medicare)")
    retained_payment_ratio: Decimal = Field(ge=0, le=10, description="their payment / current payment (e.g. Medicare / MA rate)")
    out_of_network_share: Fraction = Field(default=Decimal(0), description="patients who stay with the payer and see us out of network")
    out_of_network_ratio: Decimal = Field(default=Decimal("0.6"), ge=0, le=10)
    backfill_share: Fraction = Field(default=Decimal(0), description="share of the lost volume filled by other payers' patients")
    backfill_payment_ratio: Decimal = Field(default=Decimal(1), ge=0, le=10)

    @model_validator(mode="after")
    def _shares(self) -> ExitCase:
        if self.retained_share + self.out_of_network_share > 1:
            raise ValueError("retained_share + out_of_network_share cannot exceed 1")
        return self


class ExitInputs(_Model):
    current_revenue: Dollars = Field(description="annual revenue from the payer (or product line)")
    admin_cost_saved: Dollars = Field(default=Decimal(0), description="annual cost of working the contract, removed")
    exit_date: dt.date
    plan_year_start: str = Field(default="01-01", pattern=r"^\d{2}-\d{2}$", description="when open-enrollment choices take effect")
    years: int = Field(default=3, ge=1, le=10)
    revenue_trend: Decimal = Field(default=Decimal(0), ge=-0.5, le=1)
    cases: dict[str, ExitCase]

    @model_validator(mode="after")
    def _cases(self) -> ExitInputs:
        if not self.cases:
            raise ValueError("give at least one case (low / base / high)")
        return self


class ExitYear(_Model):
    year: int
    revenue_at_risk: Decimal
    retained: Decimal
    out_of_network: Decimal
    backfill: Decimal
    admin_saved: Decimal
    net_change: Decimal


def months_before_switch(exit_date: dt.date, plan_year_start: str) -> int:
    """Whole months from the exit until the next plan year starts (patients can switch then)."""
    m, d = (int(x) for x in plan_year_start.split("-"))
    nxt = dt.date(exit_date.year, m, d)
    if nxt <= exit_date:
        nxt = dt.date(exit_date.year + 1, m, d)
    return min(12, (nxt.year - exit_date.year) * 12 + nxt.month - exit_date.month)


def exit_case(i: ExitInputs, case: ExitCase) -> list[ExitYear]:
    """Per year: what leaving costs or saves against staying (positive = better off)."""
    wait = Decimal(months_before_switch(i.exit_date, i.plan_year_start)) / 12
    out = []
    for y in range(1, i.years + 1):
        rev = i.current_revenue * (1 + i.revenue_trend) ** (y - 1)
        stuck = wait if y == 1 else Decimal(0)  # the part of year 1 before patients can switch
        retained = rev * (1 - stuck) * case.retained_share * case.retained_payment_ratio
        oon = rev * (stuck * (case.out_of_network_share + case.retained_share) + (1 - stuck) * case.out_of_network_share) \
            * case.out_of_network_ratio
        kept_value = retained + oon
        backfill = (rev - kept_value) * case.backfill_share * case.backfill_payment_ratio
        backfill = max(backfill, Decimal(0))
        net = retained + oon + backfill + i.admin_cost_saved - rev
        out.append(ExitYear(year=y, revenue_at_risk=cents(rev), retained=cents(retained), out_of_network=cents(oon),
                            backfill=cents(backfill), admin_saved=cents(i.admin_cost_saved), net_change=cents(net)))
    return out


def exit_impact(i: ExitInputs) -> dict[str, object]:
    """Every case over the years, with the totals and the formula."""
    cases = {}
    for name, case in i.cases.items():
        years = exit_case(i, case)
        cases[name] = {"years": [y.model_dump(mode="json") for y in years],
                       "net_change_total": str(sum((y.net_change for y in years), Decimal(0))),
                       "revenue_at_risk_total": str(sum((y.revenue_at_risk for y in years), Decimal(0)))}
    return {
        "months_before_switch": months_before_switch(i.exit_date, i.plan_year_start),
        "cases": cases,
        "derivation": [
            "revenue at risk (year y) = current revenue x (1 + trend)^(y-1)",
            "year 1: for the months before the next plan year patients cannot switch; those who stay or will switch are "
            "seen out of network at the out-of-network ratio",
            "retained = revenue x months after switch x retained share x payment ratio",
            "backfill = (revenue - retained - out of network) x backfill share x backfill ratio",
            "net change = retained + out of network + backfill + admin cost saved - revenue at risk",
        ],
    }
