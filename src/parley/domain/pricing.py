"""The scalar reference for repricing: what a contract says one remitted line should be paid.

Pure: reference values (Medicare amounts, MPPR indicators, the facility flag
of a place of service) come from a :class:`ReferenceContext` the caller
supplies; nothing here reads files.  The vectorised engine
(:mod:`parley.engine.reprice`) must agree with :func:`expected_allowed` to the
cent, and a property test checks that it does.

How a line is priced (each step rounded to cents, half up)

1. The **term**: the segment of the contract in force on the date of service
   (:meth:`Contract.segments`), then, in order, the anesthesia term, the
   carve-outs, the main methodology, the default rule.  The first that prices
   the code wins; if none does the line is *not priceable* with the reason.
2. The **unit rate** (:func:`resolve_rate`, by code, pricing modifier 26/TC
   and place of service):
   fee schedule ``round(rate x (1 + e)^n)``; percent of Medicare
   ``round(medicare x pct_n / 100)``; percent of a reference list
   ``round(price x pct / 100)``; where ``n`` is the escalation step and
   ``pct_n`` the escalated percentage (exact).  A missing 26 / TC rate is
   ``round(global x component% / 100)`` when the contract gives the split.
3. The **line amount**: ``round(unit rate x units)``; percent of charges is
   ``round(charge x pct_n / 100)`` instead.
4. **Reductions**, for rate-based terms.  Multiple procedure (codes whose PFS
   MPPR indicator the contract lists), the CMS rule: every unit is a
   procedure; the claim's MPPR procedures are ranked by their unit rate
   (highest first; ties by line number), so a line's units hold consecutive
   ranks after the units of the higher-ranked lines, and the line earns
   ``round(unit rate x (sum of the schedule's percentages over its ranks) / 100)``
   (the last percentage repeats; this replaces step 3's amount).  Then
   bilateral (modifier 50), assistant at surgery (80/81/82/AS), non-physician
   practitioner (rendering NPI listed), each ``round(amount x pct / 100)``.
5. **Lesser of** billed charge and the amount, when the contract says so.
6. Expected paid = max(expected allowed - patient responsibility, 0).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal, Protocol

from parley.domain.contracts import (
    ASSISTANT_MODIFIERS,
    BILATERAL_MODIFIER,
    PRICING_MODIFIERS,
    Contract,
    Escalator,
    FeeSchedule,
    Method,
    NotCovered,
    PercentOfCharges,
    PercentOfMedicare,
    PercentOfReference,
    Professional,
    Segment,
)

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
ZERO = Decimal(0)


def cents(x: Decimal) -> Decimal:
    """Round to cents, half up (the one rounding rule, scalar and engine alike)."""
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


def apply_percent(amount: Decimal, pct: Decimal) -> Decimal:
    return cents(amount * pct / HUNDRED)


class MissingReference(Exception):
    """Reference data needed for a price is not available (a year, a code, a locality)."""


class MedicareQuote(Protocol):
    amount: Decimal
    explanation: tuple[str, ...]


class ReferenceContext(Protocol):
    """Reference values the pricing rules need (implemented over parley.refdata by the services)."""

    def medicare(
        self, code: str, modifier: str, *, year: int, quarter: int | None, locality: str | None,
        zip: str | None, facility: bool,
    ) -> MedicareQuote | None:
        """Medicare PFS amount; None when the code (+modifier) is not priced by the PFS that year.

        Raises :class:`MissingReference` when the year or locality is not available."""

    def pfs_years(self) -> list[int]: ...

    def is_facility(self, pos: str | None) -> bool: ...

    def mppr_indicator(self, code: str, year: int) -> str | None: ...


# --------------------------------------------------------------------------- line and result


@dataclass(frozen=True)
class Line:
    """One remitted service line, as the pricing rules see it."""

    procedure_code: str
    service_date: dt.date
    units: Decimal = Decimal(1)
    charge_amount: Decimal = ZERO
    modifiers: tuple[str, ...] = ()
    place_of_service: str | None = None
    rendering_npi: str | None = None
    patient_responsibility: Decimal = ZERO
    line_number: int = 1
    claim_key: str = ""
    procedure_rank: int = 1  # rank of the line's first unit among the claim's MPPR procedures (set by price_claim)
    mppr_units_before: Decimal = ZERO  # MPPR units of the higher-ranked lines of the claim (set by price_claim)

    @property
    def pricing_modifier(self) -> str:
        return next((m for m in self.modifiers if m in PRICING_MODIFIERS), "")


@dataclass(frozen=True)
class Rate:
    """What a term gives for a (code, pricing modifier, place of service) in a segment."""

    kind: Literal["unit", "charges", "anesthesia", "none"]
    term: str  # e.g. "carve_out:drugs", "methodology", "default"
    method: str
    unit_amount: Decimal | None = None  # per unit (kind unit)
    percent: Decimal | None = None  # percent of charges (kind charges)
    reductions: bool = False
    mppr: bool = False
    reason: str | None = None  # kind none: why not priceable
    steps: tuple[str, ...] = ()
    inputs: tuple[tuple[str, str], ...] = ()


@dataclass
class Explanation:
    """The expected amounts for one line, every input, and the arithmetic as text."""

    status: Literal["priced", "not_priceable"]
    expected_allowed: Decimal | None
    expected_paid: Decimal | None
    contract_id: str | None = None
    segment: str | None = None
    term: str | None = None
    method: str | None = None
    reason: str | None = None
    inputs: dict[str, str] = field(default_factory=dict)
    steps: list[str] = field(default_factory=list)

    def text(self) -> str:
        head = f"{self.status}: expected allowed ${self.expected_allowed}" if self.status == "priced" else f"not priceable: {self.reason}"
        return "\n".join([head, *self.steps])


def _not_priceable(reason: str, contract: Contract | None = None, segment: Segment | None = None) -> Explanation:
    return Explanation(
        "not_priceable", None, None, contract.contract_id if contract else None,
        _seg_label(segment) if segment else None, reason=reason, steps=[f"not priceable: {reason}"],
    )


def _seg_label(s: Segment) -> str:
    return f"{s.contract.contract_id}#{s.index} {s.start}..{s.end}"


# --------------------------------------------------------------------------- escalation


@functools.lru_cache(maxsize=4096)
def _escalation_step(effective: dt.date, on: dt.date, anniversary: str) -> int:
    """Anniversaries (MM-DD) after ``effective`` up to ``on``: :meth:`Contract.escalation_step`,
    counted once per (effective, date, anniversary) (the compile step asks per code)."""
    m, d = (int(x) for x in anniversary.split("-"))
    return sum(1 for y in range(effective.year, on.year + 1) if effective < dt.date(y, m, d) <= on)


def _escalated_percent(pct: Decimal, esc: Escalator | None, step: int) -> Decimal:
    if esc is None or step == 0:
        return pct
    if esc.unit == "percentage_points":
        return pct + esc.amount * step
    return pct * (1 + esc.amount / HUNDRED) ** step


def _escalated_amount(amount: Decimal, esc: Escalator | None, step: int) -> Decimal:
    if esc is None or step == 0:
        return amount
    if esc.unit == "percentage_points":
        return cents(amount * (1 + esc.amount * step / HUNDRED))
    return cents(amount * (1 + esc.amount / HUNDRED) ** step)


def _fmt(d: Decimal) -> str:
    return format(d.normalize() if d == d.to_integral_value() else d, "f")


# --------------------------------------------------------------------------- rate resolution


def pfs_year_for(method: PercentOfMedicare, on: dt.date, ctx: ReferenceContext) -> int:
    """The PFS year a percent-of-Medicare term uses on a date (raises MissingReference)."""
    years = ctx.pfs_years()
    if method.pfs_year != "current":
        year = int(method.pfs_year)
        if year not in years:
            raise MissingReference(f"Medicare PFS {year} is not loaded (available: {', '.join(map(str, years))})")
        return year
    if on.year in years:
        return on.year
    earlier = [y for y in years if y <= on.year]
    if method.if_year_unavailable == "latest_available" and earlier:
        return max(earlier)
    raise MissingReference(
        f"Medicare PFS {on.year} (the service year) is not loaded"
        + ("" if method.if_year_unavailable == "latest_available" else "; the contract says not_priceable")
    )


def _price_method(
    method: Method, *, code: str, modifier: str, pos: str | None, facility: bool, seg: Segment,
    escalate: bool, term: str, ctx: ReferenceContext, reductions: bool, professional: Professional,
) -> Rate | None:
    """A rate from one method, or None when the method does not cover the code."""
    terms = seg.terms
    esc = terms.escalator if escalate else None
    step = _escalation_step(seg.contract.effective, seg.start, esc.anniversary) if esc else 0
    step_note = (f"escalation step {step} ({esc.amount}{'%' if esc.unit == 'percent' else ' points'} a year)",) if esc and step else ()
    if isinstance(method, NotCovered):
        return Rate("unit", term, "not_covered", unit_amount=ZERO, steps=("not covered by the contract: $0.00",))
    if isinstance(method, PercentOfCharges):
        # a compounded percentage of charges is kept to three decimals (half up)
        pct = _escalated_percent(method.percent, esc, step).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
        return Rate("charges", term, "percent_of_charges", percent=pct,
                    steps=(*step_note, f"{_fmt(pct)}% of billed charges"), inputs=(("percent_of_charges", _fmt(pct)),))
    if isinstance(method, FeeSchedule):
        return _fee_rate(method, code, modifier, pos or "", facility, esc, step, term, reductions, professional, step_note)
    if isinstance(method, PercentOfReference):
        price = method.price_on(code, seg.start)
        if price is None:
            return None
        pct = _escalated_percent(method.percent, esc, step)
        unit = apply_percent(price.amount, pct)
        return Rate("unit", term, "percent_of_reference", unit_amount=unit, reductions=reductions,
                    steps=(*step_note, f"{method.reference} ${price.amount} x {_fmt(pct)}% = ${unit} per unit"),
                    inputs=((method.reference, str(price.amount)), ("percent", _fmt(pct))))
    if isinstance(method, PercentOfMedicare):
        return _medicare_rate(method, code, modifier, facility, seg, esc, step, term, ctx, reductions, step_note)
    raise TypeError(method)  # pragma: no cover


def _fee_rate(
    method: FeeSchedule, code: str, modifier: str, pos: str, facility: bool, esc: Escalator | None, step: int,
    term: str, reductions: bool, professional: Professional, step_note: tuple[str, ...],
) -> Rate | None:
    row = method.lookup(code, modifier, pos, facility)
    split = None
    if row is None and modifier:
        adj = professional.adjustments
        split = adj.professional_component_percent if modifier == "26" else adj.technical_component_percent
        if split is None:
            return None
        row = method.lookup(code, "", pos, facility)
    if row is None:
        return None
    where = row.pos and f"POS {row.pos}" or row.site
    unit = _escalated_amount(row.amount, esc, step)
    steps = [f"fee schedule {code}{'-' + row.modifier if row.modifier else ''} ({where}): ${row.amount}"]
    if unit != row.amount:
        steps.append(f"escalated: ${row.amount} x escalation = ${unit}")
    steps[:0] = step_note
    if split is not None:
        comp = apply_percent(unit, split)
        steps.append(f"modifier {modifier}: {_fmt(split)}% of ${unit} = ${comp}")
        unit = comp
    return Rate("unit", term, "fee_schedule", unit_amount=unit, reductions=reductions, steps=tuple(steps),
                inputs=(("fee_schedule_amount", str(row.amount)),))


def _medicare_rate(
    method: PercentOfMedicare, code: str, modifier: str, facility: bool, seg: Segment, esc: Escalator | None,
    step: int, term: str, ctx: ReferenceContext, reductions: bool, step_note: tuple[str, ...],
) -> Rate | None:
    try:
        year = pfs_year_for(method, seg.start, ctx)
        quote = ctx.medicare(code, modifier, year=year, quarter=method.quarter, locality=method.locality,
                             zip=method.zip, facility=facility)
    except MissingReference as exc:
        return Rate("none", term, "percent_of_medicare", reason=f"missing reference data: {exc}")
    if quote is None:
        return None
    pct = _escalated_percent(method.percent, esc, step)
    unit = apply_percent(quote.amount, pct)
    steps = (*quote.explanation, *step_note, f"contract: {_fmt(pct)}% of Medicare ${quote.amount} = ${unit} per unit")
    mppr = False
    return Rate("unit", term, "percent_of_medicare", unit_amount=unit, reductions=reductions, mppr=mppr,
                steps=steps, inputs=(("medicare_amount", str(quote.amount)), ("pfs_year", str(year)),
                                     ("percent_of_medicare", _fmt(pct))))


def _mppr_year(professional: Professional, seg: Segment, ctx: ReferenceContext) -> int:
    years = ctx.pfs_years()
    m = professional.methodology
    if isinstance(m, PercentOfMedicare) and m.pfs_year != "current" and int(m.pfs_year) in years:
        return int(m.pfs_year)
    earlier = [y for y in years if y <= seg.start.year]
    return max(earlier) if earlier else min(years)


def resolve_rate(
    seg: Segment, *, code: str, modifier: str, pos: str | None, ctx: ReferenceContext
) -> Rate:
    """The unit rate (or percent of charges) for a code in a contract segment: the compile step."""
    code = code.strip().upper()
    terms = seg.terms
    prof = terms.professional
    if prof is None:
        return Rate("none", "-", "-", reason="the contract has no professional terms")
    if prof.anesthesia is not None and prof.anesthesia.select.matches(code):
        return Rate("anesthesia", "anesthesia", "anesthesia", reason=None, steps=("anesthesia term",))
    facility = ctx.is_facility(pos)
    candidates: list[tuple[Method, str, bool, bool]] = [
        (c.pricing, f"carve_out:{c.name}", c.escalate, c.reductions) for c in prof.carve_outs if c.select.matches(code)
    ][:1]
    candidates.append((prof.methodology, "methodology", True, True))
    if prof.default is not None:
        candidates.append((prof.default, "default", True, True))
    missing: Rate | None = None
    for method, term, escalate, reductions in candidates:
        rate = _price_method(method, code=code, modifier=modifier, pos=pos, facility=facility, seg=seg,
                             escalate=escalate, term=term, ctx=ctx, reductions=reductions, professional=prof)
        if rate is None:
            continue
        if rate.kind == "none":
            missing = missing or rate
            continue
        mppr = rate.mppr
        if rate.kind == "unit" and rate.reductions and prof.adjustments.multiple_procedure is not None:
            ind = ctx.mppr_indicator(code, _mppr_year(prof, seg, ctx))
            mppr = mppr or (ind is not None and ind in prof.adjustments.multiple_procedure.indicators)
        return replace(rate, mppr=mppr, steps=(f"term: {term} ({rate.method}) of {_seg_label(seg)}", *rate.steps))
    if missing is not None:
        return missing
    mod = f"-{modifier}" if modifier else ""
    return Rate("none", "-", "-", reason=f"no term of {seg.contract.contract_id} covers {code}{mod}")


# --------------------------------------------------------------------------- line arithmetic


def unreduced_amount(rate: Rate, line: Line) -> Decimal:
    if rate.kind == "charges":
        assert rate.percent is not None
        return apply_percent(line.charge_amount, rate.percent)
    assert rate.unit_amount is not None
    return cents(rate.unit_amount * line.units)


def _reduction_percents(rate: Rate, line: Line, prof: Professional) -> list[tuple[str, Decimal]]:
    if not rate.reductions:
        return []
    adj = prof.adjustments
    out: list[tuple[str, Decimal]] = []
    if adj.bilateral_percent is not None and BILATERAL_MODIFIER in line.modifiers:
        out.append(("bilateral (modifier 50)", adj.bilateral_percent))
    if adj.assistant_at_surgery_percent is not None and any(m in ASSISTANT_MODIFIERS for m in line.modifiers):
        out.append(("assistant at surgery", adj.assistant_at_surgery_percent))
    if adj.npp_percent is not None and line.rendering_npi and line.rendering_npi in adj.npp_npis:
        out.append(("non-physician practitioner", adj.npp_percent))
    return out


def _mppr_cumulative(schedule: list[Decimal], x: Decimal) -> Decimal:
    """Sum of the schedule's percentages over the first ``x`` procedure units (the last repeats;
    a fractional unit counts its fraction of the next percentage)."""
    whole = int(x)
    n = len(schedule)
    total = sum(schedule[: min(whole, n)], ZERO) + max(whole - n, 0) * schedule[-1]
    return total + (x - whole) * schedule[min(whole, n - 1)]


def mppr_share(schedule: list[Decimal], before: Decimal, units: Decimal) -> Decimal:
    """Percent of one unit's rate a line's units earn, its first unit ranked ``before + 1`` (CMS rule)."""
    return _mppr_cumulative(schedule, before + units) - _mppr_cumulative(schedule, before)


def line_amount(rate: Rate, line: Line, prof: Professional) -> tuple[Decimal, list[str]]:
    """Steps 3-5: the expected allowed amount of a line from its rate."""
    amount = unreduced_amount(rate, line)
    steps = []
    if rate.kind == "charges":
        steps.append(f"billed ${line.charge_amount} x {_fmt(rate.percent or ZERO)}% = ${amount}")
    else:
        steps.append(f"${rate.unit_amount} x {_fmt(line.units)} unit(s) = ${amount}")
    mp = prof.adjustments.multiple_procedure
    if rate.kind == "unit" and rate.reductions and rate.mppr and mp is not None:
        assert rate.unit_amount is not None
        share = mppr_share(mp.schedule, line.mppr_units_before, line.units)
        new = cents(rate.unit_amount * share / HUNDRED)
        steps.append(f"multiple procedure: unit(s) ranked {_fmt(line.mppr_units_before + 1)}.. of the claim "
                     f"(schedule {', '.join(_fmt(x) for x in mp.schedule)}%): ${rate.unit_amount} x {_fmt(share)}% = ${new}")
        amount = new
    for label, pct in _reduction_percents(rate, line, prof):
        new = apply_percent(amount, pct)
        steps.append(f"{label}: ${amount} x {_fmt(pct)}% = ${new}")
        amount = new
    if prof.lesser_of_billed and rate.kind != "charges" and line.charge_amount < amount:
        steps.append(f"lesser of billed charge ${line.charge_amount} and ${amount}: ${line.charge_amount}")
        amount = line.charge_amount
    return amount, steps


def _anesthesia_amount(prof: Professional, line: Line) -> Explanation | tuple[Decimal, list[str]]:
    from parley.domain.medicare import anesthesia_time_units

    an = prof.anesthesia
    assert an is not None
    base = an.base_units.get(line.procedure_code)
    if base is None:
        return _not_priceable(f"no anesthesia base units for {line.procedure_code} in the contract")
    tu = anesthesia_time_units(line.units, unit_minutes=an.time_unit_minutes, rounding=an.rounding)
    amount = cents((base + tu) * an.conversion_factor)
    return amount, [f"anesthesia: (base {base} + time units {tu} from {line.units} min) x CF ${an.conversion_factor} = ${amount}"]


def expected_allowed(line: Line, contract: Contract, ctx: ReferenceContext) -> Explanation:
    """Expected allowed and paid for one line under a contract, with every input and step."""
    if line.charge_amount < 0 or line.units < 0:
        return _not_priceable("negative charge or units (a reversal?)", contract)
    if not contract.covers(line.service_date):
        return _not_priceable(f"{contract.contract_id} is not in force on {line.service_date}", contract)
    seg = next((s for s in contract.segments(line.service_date) if s.start <= line.service_date <= s.end), None)
    if seg is None:  # pragma: no cover - covers() guarantees one
        return _not_priceable("no contract period covers the date of service", contract)
    rate = resolve_rate(seg, code=line.procedure_code, modifier=line.pricing_modifier, pos=line.place_of_service, ctx=ctx)
    return explain_with_rate(line, seg, rate)


def explain_with_rate(line: Line, seg: Segment, rate: Rate) -> Explanation:
    """Steps 3-6 given the resolved rate (shared with the engine's explain path)."""
    prof = seg.terms.professional
    if rate.kind == "none" or prof is None:
        return _not_priceable(rate.reason or "no professional terms", seg.contract, seg)
    steps = list(rate.steps)
    if rate.kind == "anesthesia":
        res = _anesthesia_amount(prof, line)
        if isinstance(res, Explanation):
            return res
        amount, more = res
    else:
        amount, more = line_amount(rate, line, prof)
    steps += more
    paid = max(amount - line.patient_responsibility, ZERO)
    steps.append(f"expected allowed ${amount}; less patient responsibility ${line.patient_responsibility} = expected paid ${paid}")
    inputs = dict(rate.inputs)
    inputs.update({"code": line.procedure_code, "modifiers": ",".join(line.modifiers), "units": _fmt(line.units),
                   "charge": str(line.charge_amount), "place_of_service": line.place_of_service or "",
                   "service_date": line.service_date.isoformat()})
    return Explanation("priced", amount, paid, seg.contract.contract_id, _seg_label(seg), rate.term, rate.method,
                       inputs=inputs, steps=steps)


def price_claim(lines: list[Line], contract: Contract, ctx: ReferenceContext) -> list[Explanation]:
    """Price a claim's lines, ranking multiple-procedure lines first (the scalar reference for MPPR)."""
    resolved: list[tuple[Line, Segment | None, Rate | None]] = []
    for line in lines:
        seg = next((s for s in contract.segments(line.service_date) if s.start <= line.service_date <= s.end), None)
        if seg is None or not contract.covers(line.service_date) or line.charge_amount < 0 or line.units < 0:
            resolved.append((line, None, None))
            continue
        rate = resolve_rate(seg, code=line.procedure_code, modifier=line.pricing_modifier, pos=line.place_of_service, ctx=ctx)
        resolved.append((line, seg, rate))
    ranked = sorted(((r.unit_amount or ZERO, ln.line_number, i) for i, (ln, _s, r) in enumerate(resolved)
                     if r is not None and r.kind == "unit" and r.mppr and r.reductions), key=lambda t: (-t[0], t[1], t[2]))
    before: dict[int, Decimal] = {}
    running = ZERO
    for _u, _n, i in ranked:
        before[i] = running
        running += resolved[i][0].units
    out = []
    for i, (line, seg_i, rate_i) in enumerate(resolved):
        if seg_i is None or rate_i is None:
            out.append(_not_priceable(f"{contract.contract_id} is not in force on {line.service_date}", contract))
            continue
        b = before.get(i, ZERO)
        out.append(explain_with_rate(replace(line, procedure_rank=int(b) + 1, mppr_units_before=b), seg_i, rate_i))
    return out


def classify(expected: Decimal, actual: Decimal, *, tolerance_dollars: Decimal, tolerance_percent: Decimal) -> str:
    """paid_correctly unless the difference exceeds BOTH the dollar and the percent tolerance."""
    diff = expected - actual
    limit_pct = expected * tolerance_percent / HUNDRED
    if diff > tolerance_dollars and diff > limit_pct:
        return "underpaid"
    if -diff > tolerance_dollars and -diff > limit_pct:
        return "overpaid"
    return "paid_correctly"
