"""Value-based contract math (pure, exact: ``Decimal`` dollars, rates as fractions).

One contract year's cash flow to the provider is the sum of its components
(each function below states its formula; all amounts are rounded to cents,
half up, once, at the end of each component):

* shared savings  ``S = B - A`` (benchmark minus actual total cost of care).
  Nothing is shared unless ``S / B >= msr`` and the quality score meets the
  gate; then ``S x sharing_rate x quality_factor`` (first-dollar sharing once
  the minimum savings rate is met), capped at ``cap x B``.
* downside risk   ``L = A - B``; owed when ``L / B >= mlr``:
  ``-min(L x loss_rate, cap x B)``.
* risk corridor   the shared-savings + downside result is bounded to
  ``[-corridor x B, +corridor x B]``.
* withhold        ``-withhold x FFS + returned``, returned = withheld x
  quality attainment when attainment meets the gate, else 0.
* capitation      ``pmpm x member months``.
* pay for performance  sum of each measure's amount whose target is met.
* care-management fee  ``pmpm x member months``.
* infrastructure  ``amount / years`` in each of its years.

Zero-downside network variant: the network absorbs the losses (the downside
term is 0) and passes savings through after its fee (``network_fee``).

Percentages in these models are fractions (``0.5`` = 50%) so the Monte Carlo
(:mod:`parley.engine.montecarlo`) uses the very same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from parley.errors import InputError

CENT = Decimal("0.01")
ZERO = Decimal(0)
ONE = Decimal(1)

Fraction = Annotated[Decimal, Field(ge=0, le=1, description="a fraction: 0.5 = 50%")]
Dollars = Annotated[Decimal, Field(ge=0, description="dollars")]


def cents(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SharedSavings(_Model):
    minimum_savings_rate: Fraction = Decimal("0.02")
    sharing_rate: Fraction = Decimal("0.5")
    quality_gate: Fraction = Field(default=ZERO, description="minimum quality attainment to share at all")
    quality_scaled: bool = Field(default=False, description="multiply the share by the quality attainment")
    cap: Fraction | None = Field(default=None, description="cap as a fraction of the benchmark")


class DownsideRisk(_Model):
    minimum_loss_rate: Fraction = Decimal("0.02")
    loss_sharing_rate: Fraction = Decimal("0.3")
    cap: Fraction | None = Field(default=None, description="cap on losses as a fraction of the benchmark")


class Withhold(_Model):
    percent: Fraction = Field(description="share of FFS revenue withheld")
    quality_gate: Fraction = ZERO


class Measure(_Model):
    name: str
    amount: Dollars
    target: Fraction = Field(description="attainment needed to earn the amount")


class VbcTerms(_Model):
    """The value-based terms of one contract (every component optional)."""

    shared_savings: SharedSavings | None = None
    downside: DownsideRisk | None = None
    corridor: Fraction | None = Field(default=None, description="bounds the savings/loss result to +/- this share of the benchmark")
    withhold: Withhold | None = None
    capitation_pmpm: Dollars | None = None
    pay_for_performance: list[Measure] = Field(default_factory=list)
    care_management_pmpm: Dollars | None = None
    infrastructure_amount: Dollars | None = None
    infrastructure_years: int = Field(default=1, ge=1, le=20)
    zero_downside_network: bool = Field(default=False, description="the network absorbs losses, passes savings through")
    network_fee: Fraction = Field(default=ZERO, description="share of savings the network keeps")


class Population(_Model):
    """One contract year's population and cost (the expected values)."""

    member_months: Decimal = Field(ge=0)
    benchmark_pmpm: Dollars
    actual_pmpm: Dollars = Field(description="actual (or expected) total cost of care PMPM")
    ffs_revenue: Dollars = ZERO
    quality_attainment: Fraction = ONE

    @model_validator(mode="after")
    def _bench(self) -> Population:
        if self.benchmark_pmpm == 0 and self.member_months > 0:
            raise ValueError("benchmark_pmpm must be above 0")
        return self


class YearCashFlow(_Model):
    shared_savings: Decimal = ZERO
    downside: Decimal = ZERO
    withhold: Decimal = ZERO
    capitation: Decimal = ZERO
    pay_for_performance: Decimal = ZERO
    care_management: Decimal = ZERO
    infrastructure: Decimal = ZERO
    total: Decimal = ZERO
    derivation: list[str] = Field(default_factory=list)


def build(model: type[BaseModel], data: object, *, what: str) -> BaseModel:
    """Validate user data; a pydantic error becomes an InputError naming the field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        e = exc.errors()[0]
        field = ".".join(str(p) for p in e["loc"]) or what
        raise InputError(f"{what}: {field}: {e['msg']} (got {e.get('input')!r})") from None


def savings_result(terms: VbcTerms, pop: Population) -> tuple[Decimal, Decimal, list[str]]:
    """(shared savings, downside) before rounding, with the derivation."""
    bench = pop.benchmark_pmpm * pop.member_months
    actual = pop.actual_pmpm * pop.member_months
    steps = [f"benchmark ${cents(bench)} = {pop.benchmark_pmpm} PMPM x {pop.member_months} member months; "
             f"actual ${cents(actual)} = {pop.actual_pmpm} PMPM x {pop.member_months}"]
    gain, loss = ZERO, ZERO
    if bench == 0:
        return gain, loss, steps
    diff = bench - actual
    ss, dr = terms.shared_savings, terms.downside
    if diff > 0 and ss is not None:
        gain, note = _shared(diff, bench, ss, pop.quality_attainment)
        steps.append(note)
        if terms.zero_downside_network and terms.network_fee:
            gain = gain * (ONE - terms.network_fee)
            steps.append(f"network keeps {terms.network_fee}: savings passed through ${cents(gain)}")
    elif diff < 0 and dr is not None:
        if terms.zero_downside_network:
            steps.append(f"loss ${cents(-diff)}: absorbed by the network (zero-downside)")
        else:
            loss, note = _downside(-diff, bench, dr)
            steps.append(note)
    if terms.corridor is not None:
        bound = terms.corridor * bench
        gain, loss = min(gain, bound), max(loss, -bound)
        steps.append(f"corridor +/-{terms.corridor} x benchmark = ${cents(bound)}")
    return gain, loss, steps


def _shared(savings: Decimal, bench: Decimal, ss: SharedSavings, quality: Decimal) -> tuple[Decimal, str]:
    rate = savings / bench
    if rate < ss.minimum_savings_rate:
        return ZERO, f"savings ${cents(savings)} = {rate:.4%} of benchmark < MSR {ss.minimum_savings_rate}: nothing shared"
    if quality < ss.quality_gate:
        return ZERO, f"quality {quality} < gate {ss.quality_gate}: nothing shared"
    q = quality if ss.quality_scaled else ONE
    share = savings * ss.sharing_rate * q
    note = f"shared savings ${cents(savings)} x {ss.sharing_rate}" + (f" x quality {quality}" if ss.quality_scaled else "")
    if ss.cap is not None and share > ss.cap * bench:
        share = ss.cap * bench
        note += f", capped at {ss.cap} x benchmark"
    return share, note + f" = ${cents(share)}"


def _downside(lost: Decimal, bench: Decimal, dr: DownsideRisk) -> tuple[Decimal, str]:
    rate = lost / bench
    if rate < dr.minimum_loss_rate:
        return ZERO, f"loss ${cents(lost)} = {rate:.4%} of benchmark < MLR {dr.minimum_loss_rate}: nothing owed"
    owed = lost * dr.loss_sharing_rate
    note = f"loss ${cents(lost)} x {dr.loss_sharing_rate}"
    if dr.cap is not None and owed > dr.cap * bench:
        owed = dr.cap * bench
        note += f", capped at {dr.cap} x benchmark"
    return -owed, note + f" = owed ${cents(owed)}"


def year_cash_flow(terms: VbcTerms, pop: Population, *, year: int = 1) -> YearCashFlow:
    """The provider's value-based cash flow for one contract year (positive = received)."""
    gain, loss, steps = savings_result(terms, pop)
    mm = pop.member_months
    wh = ZERO
    if terms.withhold is not None:
        withheld = terms.withhold.percent * pop.ffs_revenue
        returned = withheld * pop.quality_attainment if pop.quality_attainment >= terms.withhold.quality_gate else ZERO
        wh = returned - withheld
        steps.append(f"withhold {terms.withhold.percent} x FFS ${pop.ffs_revenue} = ${cents(withheld)}; returned ${cents(returned)}")
    p4p = sum((m.amount for m in terms.pay_for_performance if pop.quality_attainment >= m.target), ZERO)
    infra = ZERO
    if terms.infrastructure_amount is not None and year <= terms.infrastructure_years:
        infra = terms.infrastructure_amount / terms.infrastructure_years
    parts = {
        "shared_savings": cents(gain), "downside": cents(loss), "withhold": cents(wh),
        "capitation": cents((terms.capitation_pmpm or ZERO) * mm), "pay_for_performance": cents(p4p),
        "care_management": cents((terms.care_management_pmpm or ZERO) * mm), "infrastructure": cents(infra),
    }
    return YearCashFlow(**parts, total=sum(parts.values(), ZERO), derivation=steps)


ValueBasedKind = Literal["shared_savings", "downside_risk", "risk_corridor", "withhold", "capitation",
                         "pay_for_performance", "care_management_fee", "infrastructure_payment"]


def from_contract_terms(items: Sequence[Any]) -> VbcTerms:
    """Translate a contract's ``value_based`` entries (percent units) into :class:`VbcTerms` (fractions)."""
    out: dict[str, object] = {}
    hundred = Decimal(100)

    def frac(v: Decimal | None, default: str) -> Decimal:
        return Decimal(default) if v is None else v / hundred

    for it in items:
        kind = it.kind

        def g(name: str, it: Any = it) -> Any:
            return getattr(it, name)

        if kind == "shared_savings":
            gate = g("quality_gate").get("min_quality_score_percent")
            out["shared_savings"] = SharedSavings(
                minimum_savings_rate=frac(g("minimum_savings_rate_percent"), "0.02"),
                sharing_rate=frac(g("sharing_rate_percent"), "0.5"),
                quality_gate=Decimal(str(gate)) / hundred if gate is not None else ZERO,
                cap=frac(g("cap_percent"), "1") if g("cap_percent") is not None else None)
        elif kind == "downside_risk":
            out["downside"] = DownsideRisk(minimum_loss_rate=frac(g("minimum_loss_rate_percent"), "0.02"),
                                           loss_sharing_rate=frac(g("loss_rate_percent"), "0.3"),
                                           cap=frac(g("cap_percent"), "1") if g("cap_percent") is not None else None)
        elif kind == "risk_corridor" and g("corridor_percent") is not None:
            out["corridor"] = g("corridor_percent") / hundred
        elif kind == "withhold" and g("withhold_percent") is not None:
            out["withhold"] = Withhold(percent=g("withhold_percent") / hundred)
        elif kind == "capitation":
            out["capitation_pmpm"] = g("pmpm")
        elif kind == "care_management_fee":
            out["care_management_pmpm"] = g("pmpm")
        elif kind == "infrastructure_payment":
            out["infrastructure_amount"], out["infrastructure_years"] = g("amount"), g("years") or 1
        elif kind == "pay_for_performance":
            out["pay_for_performance"] = [
                Measure(name=str(m.get("measure", "measure")), amount=Decimal(str(m.get("amount", 0))),
                        target=Decimal(str(m.get("target", "0.8")))) for m in g("measures")]
    return VbcTerms.model_validate(out)
