"""The scalar reference for facility (institutional, 837I / 835 with revenue codes) claims.

Facility methods are claim-level: a DRG case rate or a per diem pays the stay,
not a line.  So a facility claim is priced once, as a whole, and compared with
the 835 at claim level (see ``docs/contracts.md``, "Facility claims").  Pure:
the DRG weights are in the contract (the user's CSV, read at load time).

How a claim is priced (each step rounded to cents, half up)

1. **Inpatient or outpatient**: the type of bill's second digit (bill
   classification) is ``1`` (inpatient, Part A) for inpatient claims;
   everything else (outpatient 3, other 4, ...) is outpatient.  A claim with no
   type of bill but an MS-DRG is inpatient.
2. **The date** that selects the contract period: the statement "through" date
   (the discharge) for inpatient claims, the statement "from" date for
   outpatient claims (each falls back to the other, then the admission date).
3. **Covered days** = statement through - statement from (the discharge day is
   not counted); a same-day stay counts 1 day.  Without a "from" date the
   admission date is used.
4. **Revenue-code carve-outs**: each line whose revenue code is carved out pays
   ``round(amount x units)``; their charges leave the percent-of-charges base.
5. **Main method**, in order: inpatient with a DRG case rate and a DRG on the
   claim: ``round(base rate x weight)`` (no weight for the DRG: not
   priceable); inpatient with per diems: the first per diem (contract order)
   whose revenue codes appear on a line x covered days; otherwise percent of
   charges ``round((claim charge - carved-out charges) x pct / 100)``; else
   not priceable.
6. Amount = main + carve-outs.
7. **Outlier / stop-loss** when the claim charge exceeds the threshold:
   ``excess`` adds ``round((charge - threshold) x pct / 100)``;
   ``all_charges`` replaces the amount with ``round(charge x pct / 100)``.
8. **Lesser of** the claim charge, when the contract says so.
9. Expected paid = max(expected allowed - patient responsibility (CLP05), 0).

Escalators raise the base rate, per diems and carve-out amounts like a fee
schedule rate, and the percent of charges like a professional percentage; the
outlier threshold and percentage are not escalated.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from parley.domain.contracts import Contract, Facility, Segment, revenue_code
from parley.domain.pricing import (
    CENT,
    ZERO,
    Explanation,
    _escalated_amount,
    _escalated_percent,
    _fmt,
    _not_priceable,
    _seg_label,
    apply_percent,
    cents,
)


@dataclass(frozen=True)
class FacilityLine:
    """One billed revenue-code line of a facility claim."""

    revenue_code: str | None
    charge_amount: Decimal = ZERO
    units: Decimal = Decimal(1)
    line_number: int = 1


@dataclass(frozen=True)
class FacilityClaim:
    """A facility claim as the pricing rules see it (837I billed values, 835 where missing)."""

    claim_key: str
    charge_amount: Decimal
    type_of_bill: str | None = None
    drg_code: str | None = None
    statement_from: dt.date | None = None
    statement_to: dt.date | None = None
    admission_date: dt.date | None = None
    patient_responsibility: Decimal = ZERO
    lines: tuple[FacilityLine, ...] = ()

    @property
    def inpatient(self) -> bool:
        tob = (self.type_of_bill or "").strip().lstrip("0")
        if len(tob) >= 2:
            return tob[1] == "1"
        return bool(self.drg_code)

    @property
    def pricing_date(self) -> dt.date | None:
        order = (self.statement_to, self.statement_from) if self.inpatient else (self.statement_from, self.statement_to)
        return next((d for d in (*order, self.admission_date) if d is not None), None)

    @property
    def covered_days(self) -> int:
        start = self.statement_from or self.admission_date
        if start is None or self.statement_to is None:
            return 1
        return max((self.statement_to - start).days, 1)


@dataclass(frozen=True)
class FacilityRate:
    """A contract period's facility terms with escalation applied (the compile step)."""

    base_rate: Decimal | None
    weights: dict[str, Decimal]
    per_diems: tuple[tuple[str, tuple[str, ...], tuple[tuple[str, str], ...], Decimal], ...]
    percent_of_charges: Decimal | None
    carve_outs: dict[str, Decimal]
    outlier_threshold: Decimal | None
    outlier_percent: Decimal | None
    outlier_mode: str | None
    outlier_claims: str | None
    lesser_of: bool
    step_note: tuple[str, ...] = ()

    def case_rate(self, drg: str) -> Decimal | None:
        w = self.weights.get(drg.strip().zfill(3))
        return None if w is None or self.base_rate is None else cents(self.base_rate * w)

    def per_diem_for(self, revs: set[str]) -> tuple[int, str, Decimal] | None:
        for i, (level, codes, ranges, amount) in enumerate(self.per_diems):
            if any(r in codes or any(lo <= r <= hi for lo, hi in ranges) for r in revs):
                return i, level, amount
        return None


def resolve_facility(seg: Segment) -> FacilityRate | None:
    """The facility terms of a contract period, escalated to the period's step."""
    fac: Facility | None = seg.terms.facility
    if fac is None:
        return None
    esc = seg.terms.escalator
    step = seg.contract.escalation_step(seg.start, esc)
    drg = fac.inpatient_drg
    pct = None
    if fac.percent_of_charges is not None:
        pct = _escalated_percent(fac.percent_of_charges, esc, step).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
    note = (f"escalation step {step} ({esc.amount}{'%' if esc.unit == 'percent' else ' points'} a year)",) if esc and step else ()
    return FacilityRate(
        base_rate=cents(_escalated_amount(drg.base_rate, esc, step)) if drg else None,
        weights=dict(drg.weights) if drg else {},
        per_diems=tuple(
            (p.level_of_care, tuple(revenue_code(c) for c in p.revenue_codes),
             tuple((revenue_code(lo), revenue_code(hi)) for lo, hi in p.revenue_code_ranges),
             cents(_escalated_amount(p.amount, esc, step)))
            for p in fac.per_diems
        ),
        percent_of_charges=pct,
        carve_outs={k: cents(_escalated_amount(v, esc, step)) for k, v in fac.revenue_code_carve_outs.items()},
        outlier_threshold=cents(fac.outlier.threshold) if fac.outlier else None,
        outlier_percent=fac.outlier.percent if fac.outlier else None,
        outlier_mode=fac.outlier.applies_to if fac.outlier else None,
        outlier_claims=fac.outlier.claims if fac.outlier else None,
        lesser_of=fac.lesser_of_billed,
        step_note=note,
    )


def _main(claim: FacilityClaim, rate: FacilityRate, base: Decimal) -> tuple[str, Decimal, list[str]] | str:
    """(method, amount, steps) of the main method, or the reason the claim is not priceable."""
    if claim.inpatient and rate.base_rate is not None and claim.drg_code:
        drg = claim.drg_code.strip().zfill(3)
        case = rate.case_rate(drg)
        if case is None:
            return f"MS-DRG {drg} has no relative weight in the contract's weights"
        return "drg_case_rate", case, [f"DRG case rate: base ${rate.base_rate} x MS-DRG {drg} weight {rate.weights[drg]} = ${case}"]
    if claim.inpatient and rate.per_diems:
        revs = {revenue_code(ln.revenue_code) for ln in claim.lines if ln.revenue_code}
        pd = rate.per_diem_for(revs)
        if pd is not None:
            days = claim.covered_days
            amount = pd[2] * days
            return "per_diem", amount, [f"per diem {pd[1]}: ${pd[2]} x {days} covered day(s) "
                                        f"({claim.statement_from} .. {claim.statement_to}) = ${amount}"]
    if rate.percent_of_charges is not None:
        amount = apply_percent(base, rate.percent_of_charges)
        return "percent_of_charges", amount, [f"{_fmt(rate.percent_of_charges)}% of charges ${base} = ${amount}"]
    kind = "inpatient" if claim.inpatient else "outpatient"
    return f"no facility term covers this {kind} claim (type of bill {claim.type_of_bill or '?'})"


def facility_amount(claim: FacilityClaim, rate: FacilityRate) -> tuple[str, Decimal, list[str]] | str:
    """Steps 4-8: (method, expected allowed, steps) or the reason the claim is not priceable."""
    carve_total, carved_charges, steps = ZERO, ZERO, list(rate.step_note)
    for ln in claim.lines:
        rev = revenue_code(ln.revenue_code) if ln.revenue_code else None
        if rev is not None and rev in rate.carve_outs:
            amt = cents(rate.carve_outs[rev] * ln.units)
            steps.append(f"carve-out revenue code {rev} (line {ln.line_number}): ${rate.carve_outs[rev]} x {_fmt(ln.units)} = ${amt}")
            carve_total += amt
            carved_charges += ln.charge_amount
    base = max(claim.charge_amount - carved_charges, ZERO)
    main = _main(claim, rate, base)
    if isinstance(main, str):
        return main
    method, amount, more = main
    steps += more
    if carve_total:
        amount += carve_total
        steps.append(f"plus carve-outs ${carve_total} = ${amount}")
    amount = _outlier(claim, rate, amount, steps)
    if rate.lesser_of and claim.charge_amount < amount:
        steps.append(f"lesser of billed charges ${claim.charge_amount} and ${amount}: ${claim.charge_amount}")
        amount = claim.charge_amount
    return method, amount, steps


def _outlier(claim: FacilityClaim, rate: FacilityRate, amount: Decimal, steps: list[str]) -> Decimal:
    if rate.outlier_threshold is None or rate.outlier_percent is None:
        return amount
    applies = rate.outlier_claims == "all" or (rate.outlier_claims == "inpatient") == claim.inpatient
    if not applies or claim.charge_amount <= rate.outlier_threshold:
        return amount
    if rate.outlier_mode == "all_charges":
        new = apply_percent(claim.charge_amount, rate.outlier_percent)
        steps.append(f"stop-loss: charges ${claim.charge_amount} > ${rate.outlier_threshold}: "
                     f"whole claim at {_fmt(rate.outlier_percent)}% of charges = ${new}")
        return new
    excess = claim.charge_amount - rate.outlier_threshold
    extra = apply_percent(excess, rate.outlier_percent)
    steps.append(f"outlier: {_fmt(rate.outlier_percent)}% of charges above ${rate.outlier_threshold} "
                 f"(${excess}) = ${extra}; ${amount} + ${extra} = ${amount + extra}")
    return amount + extra


def expected_facility(claim: FacilityClaim, contract: Contract) -> Explanation:
    """Expected allowed and paid for a whole facility claim, with every input and step."""
    on = claim.pricing_date
    if on is None:
        return _not_priceable("the claim has no statement or admission date", contract)
    if claim.charge_amount < 0:
        return _not_priceable("negative claim charge (a reversal?)", contract)
    if not contract.covers(on):
        return _not_priceable(f"{contract.contract_id} is not in force on {on}", contract)
    seg = next(s for s in contract.segments(on) if s.start <= on <= s.end)
    rate = resolve_facility(seg)
    if rate is None:
        return _not_priceable(f"{contract.contract_id} has no facility terms", contract, seg)
    res = facility_amount(claim, rate)
    if isinstance(res, str):
        return _not_priceable(res, contract, seg)
    method, amount, steps = res
    paid = max(amount - claim.patient_responsibility, ZERO)
    kind = "inpatient" if claim.inpatient else "outpatient"
    steps = [f"term: facility ({method}) of {_seg_label(seg)}; {kind} claim, type of bill {claim.type_of_bill or '?'}, "
             f"priced on {on}", *steps,
             f"expected allowed ${amount}; less patient responsibility ${claim.patient_responsibility} = expected paid ${paid}"]
    inputs = {"type_of_bill": claim.type_of_bill or "", "drg": claim.drg_code or "", "charge": str(claim.charge_amount),
              "covered_days": str(claim.covered_days), "statement_from": str(claim.statement_from or ""),
              "statement_to": str(claim.statement_to or ""), "pricing_date": on.isoformat()}
    return Explanation("priced", amount, paid, contract.contract_id, _seg_label(seg), "facility", method,
                       inputs=inputs, steps=steps)


def allocate(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """Split ``total`` over lines pro rata to ``weights`` (charges), to the cent, summing exactly.

    Largest remainder: each share is floored to cents, the leftover cents go to the
    largest remainders (ties: earlier line).  All-zero weights split equally.
    """
    if not weights:
        return []
    w = [max(x, ZERO) for x in weights]
    if sum(w) == 0:
        w = [Decimal(1)] * len(w)
    total_c = int((total * 100).to_integral_value())
    raw = [Decimal(total_c) * x / sum(w) for x in w]
    floors = [int(r) for r in raw]
    left = total_c - sum(floors)
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return [(Decimal(c) / 100).quantize(CENT) for c in floors]
