"""Rate proposals as data, and how a proposal changes contract terms (pure).

A proposal (YAML, :class:`Proposal`) is applied to the terms in force at the
start of the new contract (:func:`bake_escalation` folds the current
escalator into the rates first), giving one set of :class:`Terms` per contract
year (:func:`year_terms`).  The engine (:mod:`parley.engine.scenarios`)
compiles and prices those with the repricing engine.

Order of changes: percent-of-Medicare change, new per-code rates, across the
board, targeted percentages, carve-outs removed / added, then the escalator of
each later contract year (compounding).

* across the board: the main methodology, the default rule and the carve-outs
  that follow the contract's escalator (``escalate: true``) are scaled.
* targeted: the codes (or the top N codes by revenue, resolved by the engine)
  are scaled in whichever term prices them (carve-out or main methodology).
* new per-code rates: a ``proposal rates`` fee-schedule carve-out that prices
  first.
Scaling a fee-schedule rate rounds to cents (half up); a percentage is kept
to three decimals (half up), the contract schema's precision.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from parley.domain.contracts import (
    CarveOut,
    CodeSelector,
    Contract,
    Escalator,
    Facility,
    FeeRow,
    FeeSchedule,
    Method,
    PercentOfCharges,
    PercentOfMedicare,
    PercentOfReference,
    Professional,
    Terms,
)
from parley.domain.pricing import _escalated_amount, _escalated_percent

HUNDRED = Decimal(100)
Pct = Annotated[Decimal, Field(ge=-100, le=1000, description="percent change: 5 = +5%")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Targeted(_Model):
    percent: Pct
    codes: list[str] = Field(default_factory=list)
    top_n_by_revenue: int | None = Field(default=None, ge=1, le=10000)

    @model_validator(mode="after")
    def _one(self) -> Targeted:
        if bool(self.codes) == (self.top_n_by_revenue is not None):
            raise ValueError("give either codes or top_n_by_revenue")
        return self


class MedicareChange(_Model):
    percent: Decimal | None = Field(default=None, ge=0, le=1000)
    pfs_year: int | Literal["current"] | None = None


class Proposal(_Model):
    """A rate proposal for one payer (optionally some of its product lines)."""

    name: str
    payer: str = Field(description="payer name, payer id or contract id")
    product_lines: list[str] = Field(default_factory=list, description="empty = every product line of the payer")
    effective: dt.date | None = Field(default=None, description="first day of the new contract (default: day after the history)")
    years: int = Field(default=3, ge=1, le=10)
    across_the_board_percent: Pct = Decimal(0)
    targeted: list[Targeted] = Field(default_factory=list)
    code_rates: dict[str, Decimal] = Field(default_factory=dict, description="new per-code rates (dollars per unit)")
    percent_of_medicare: MedicareChange | None = None
    escalators_percent: list[Pct] | None = Field(
        default=None, description="increase at the start of contract years 2, 3, ...; None = the current escalator continues")
    carve_outs_add: list[CarveOut] = Field(default_factory=list)
    carve_outs_remove: list[str] = Field(default_factory=list, description="carve-out names removed")
    volume_trend_percent: Decimal = Field(default=Decimal(0), ge=-50, le=100, description="volume change per year")
    discount_rate_percent: Decimal = Field(default=Decimal(5), ge=0, le=100)

    @model_validator(mode="after")
    def _rates(self) -> Proposal:
        for code, amount in self.code_rates.items():
            if amount < 0:
                raise ValueError(f"code_rates.{code}: a rate cannot be negative ({amount})")
        if self.escalators_percent is not None and len(self.escalators_percent) > self.years - 1:
            raise ValueError(f"escalators_percent: {len(self.escalators_percent)} given for {self.years - 1} later years")
        return self

    @property
    def is_no_change(self) -> bool:
        return not (self.across_the_board_percent or self.targeted or self.code_rates or self.percent_of_medicare
                    or self.escalators_percent or self.carve_outs_add or self.carve_outs_remove)


# --------------------------------------------------------------------------- scaling


def factor(pct: Decimal) -> Decimal:
    return 1 + pct / HUNDRED


def _pct3(x: Decimal) -> Decimal:
    return x.quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)


def _cents(x: Decimal) -> Decimal:
    return x.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def scale_method(method: Method, f: Decimal, codes: set[str] | None = None) -> Method:
    """The method with its rates x f (fee rows only for ``codes`` when given)."""
    if isinstance(method, FeeSchedule):
        rows = [r.model_copy(update={"amount": _cents(r.amount * f)}) if codes is None or r.code.upper() in codes else r
                for r in method.rates]
        return method.model_copy(update={"rates": rows})
    if isinstance(method, PercentOfCharges):
        return method.model_copy(update={"percent": min(_pct3(method.percent * f), Decimal(100))})
    if isinstance(method, PercentOfMedicare | PercentOfReference):
        return method.model_copy(update={"percent": _pct3(method.percent * f)})
    return method


def scale_terms(terms: Terms, f: Decimal) -> Terms:
    """Across the board: methodology, default, escalating carve-outs, anesthesia factor."""
    prof = terms.professional
    if prof is None or f == 1:
        return terms
    update: dict[str, object] = {
        "methodology": scale_method(prof.methodology, f),
        "default": scale_method(prof.default, f) if prof.default else None,
        "carve_outs": [c.model_copy(update={"pricing": scale_method(c.pricing, f)}) if c.escalate else c for c in prof.carve_outs],
    }
    if prof.anesthesia:
        update["anesthesia"] = prof.anesthesia.model_copy(update={"conversion_factor": _cents(prof.anesthesia.conversion_factor * f)})
    return terms.model_copy(update={"professional": prof.model_copy(update=update)})


def scale_codes(terms: Terms, f: Decimal, codes: set[str], label: str) -> Terms:
    """Targeted: scale only ``codes`` in whichever term prices them."""
    prof = terms.professional
    if prof is None or not codes or f == 1:
        return terms
    carve: list[CarveOut] = []
    claimed: set[str] = set()
    for c in prof.carve_outs:
        mine = sorted(x for x in codes if c.select.matches(x) and x not in claimed)
        claimed |= set(mine)
        if mine and not isinstance(c.pricing, FeeSchedule):
            carve.append(c.model_copy(update={"name": f"{label} ({c.name})", "select": CodeSelector(codes=mine),
                                              "pricing": scale_method(c.pricing, f)}))
        elif mine:
            c = c.model_copy(update={"pricing": scale_method(c.pricing, f, set(mine))})
        carve.append(c)
    rest = sorted(codes - claimed)
    methodology = prof.methodology
    if rest and isinstance(methodology, FeeSchedule):
        methodology = scale_method(methodology, f, set(rest))
    elif rest:
        carve.append(CarveOut(name=label, select=CodeSelector(codes=rest), pricing=scale_method(methodology, f),
                              escalate=True, reductions=True))
    return terms.model_copy(update={"professional": prof.model_copy(update={"carve_outs": carve, "methodology": methodology})})


def bake_escalation(contract: Contract, on: dt.date) -> Terms:
    """The terms in force on a date with the escalation reached by then folded into the rates.

    Fee-schedule rates become round(rate x (1 + e)^n) exactly as pricing computes them;
    percentages are kept to three decimals.  Facility amounts (DRG base rate, per diems,
    revenue-code carve-outs) and the facility percent of charges are escalated as
    :func:`parley.domain.pricing_facility.resolve_facility` does; the outlier threshold and
    percentage are not escalated (nor are they in pricing).  The result has no escalator.
    """
    terms = contract.terms_on(on)
    esc = terms.escalator
    step = contract.escalation_step(on, esc)
    if esc is None or step == 0:
        return terms.model_copy(update={"escalator": None})
    update: dict[str, object] = {"escalator": None}
    if terms.professional is not None:
        update["professional"] = _bake_professional(terms.professional, esc, step)
    if terms.facility is not None:
        update["facility"] = _bake_facility(terms.facility, esc, step)
    return terms.model_copy(update=update)


def _bake_professional(prof: Professional, esc: Escalator, step: int) -> Professional:
    def bake(m: Method) -> Method:
        if esc.unit == "percentage_points" and not isinstance(m, FeeSchedule) and hasattr(m, "percent"):
            return m.model_copy(update={"percent": _pct3(m.percent + esc.amount * step)})
        f = (1 + esc.amount * step / HUNDRED) if esc.unit == "percentage_points" else factor(esc.amount) ** step
        return scale_method(m, f)

    update = {"methodology": bake(prof.methodology), "default": bake(prof.default) if prof.default else None,
              "carve_outs": [c.model_copy(update={"pricing": bake(c.pricing)}) if c.escalate else c for c in prof.carve_outs]}
    return prof.model_copy(update=update)


def _bake_facility(fac: Facility, esc: Escalator, step: int) -> Facility:
    """Facility terms at an escalation step, rounded as the facility compile step rounds them."""
    drg = fac.inpatient_drg
    update: dict[str, object] = {
        "per_diems": [p.model_copy(update={"amount": _cents(_escalated_amount(p.amount, esc, step))}) for p in fac.per_diems],
        "revenue_code_carve_outs": {k: _cents(_escalated_amount(v, esc, step)) for k, v in fac.revenue_code_carve_outs.items()},
    }
    if drg is not None:
        update["inpatient_drg"] = drg.model_copy(update={"base_rate": _cents(_escalated_amount(drg.base_rate, esc, step))})
    if fac.percent_of_charges is not None:
        update["percent_of_charges"] = _pct3(_escalated_percent(fac.percent_of_charges, esc, step))
    return fac.model_copy(update=update)


def apply_proposal(terms: Terms, p: Proposal, *, top_codes: list[list[str]]) -> Terms:
    """Contract year 1 terms under the proposal (``top_codes``: each top-N entry's resolved codes, in order)."""
    prof = terms.professional
    if prof is None:
        return terms
    if p.percent_of_medicare is not None and isinstance(prof.methodology, PercentOfMedicare):
        ch = {k: v for k, v in p.percent_of_medicare.model_dump().items() if v is not None}
        prof = prof.model_copy(update={"methodology": prof.methodology.model_copy(update=ch)})
    carve = [c for c in prof.carve_outs if c.name not in set(p.carve_outs_remove)]
    if p.code_rates:
        rows = [FeeRow(code=c, amount=a) for c, a in sorted(p.code_rates.items())]
        carve.insert(0, CarveOut(name="proposal rates", select=CodeSelector(codes=sorted(p.code_rates)),
                                 pricing=FeeSchedule(rates=rows), escalate=True, reductions=True))
    terms = terms.model_copy(update={"professional": prof.model_copy(update={"carve_outs": carve})})
    terms = scale_terms(terms, factor(p.across_the_board_percent))
    tops = iter(top_codes)
    for i, t in enumerate(p.targeted):
        codes = set(x.upper() for x in t.codes) if t.codes else set(next(tops))
        terms = scale_codes(terms, factor(t.percent), codes - set(p.code_rates), f"proposal targeted #{i + 1}")
    if p.carve_outs_add:
        pr = terms.professional
        assert pr is not None
        terms = terms.model_copy(update={"professional": pr.model_copy(update={"carve_outs": [*p.carve_outs_add, *pr.carve_outs]})})
    return terms


def escalate_year(terms: Terms, p: Proposal, year: int) -> Terms:
    """Terms of contract year ``year`` (1-based) under the proposal's explicit escalators."""
    f = Decimal(1)
    for pct in (p.escalators_percent or [])[: year - 1]:
        f *= factor(pct)
    return scale_terms(terms, f)


def contract_for(terms: Terms, base: Contract, *, start: dt.date, end: dt.date, suffix: str) -> Contract:
    """A one-period contract with these terms (same payer and filing indicators)."""
    data = base.model_dump(exclude={"amendments", *Terms.model_fields}, by_alias=True)
    data.update(terms.model_dump(by_alias=True))
    data.update({"contract_id": f"{base.contract_id}-{suffix}", "effective": start, "expires": end, "amendments": [],
                 "escalator": None})
    return Contract.model_validate(data)


def shifted_escalator(esc: Escalator | None, start: dt.date) -> Escalator | None:
    return None if esc is None else esc.model_copy(update={"anniversary": start.strftime("%m-%d")})
