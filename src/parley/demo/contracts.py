"""Contract terms of the demo payers, their per-period rate tables, and ``contracts.json``.

Pricing rule (also written into ``contracts.json``)::

    site            = "facility" if POS in FACILITY_POS else "non_facility"
    pricing key     = (code, modifier in {26, TC} else "")
    fee_schedule / percent_of_medicare:
        unit_rate   = the period's fee_schedule row for (code, modifier, site) if one exists,
                      else round_half_up(medicare(code, modifier, pfs_year, site)
                                         * percent_of_medicare / 100, cents)
        expected    = min(billed_line_charge, unit_rate * units)      (lesser-of)
    percent_of_charges:
        expected    = round_half_up(billed_line_charge * percent_of_charges / 100, cents)

``medicare(...)`` is ``parley.refdata.medicare_fee(...).amount`` for the practice locality (carrier
13202, locality 01), rounded to cents.  The period is the one containing the line's service date.
"""

from __future__ import annotations

import hashlib
import textwrap
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from parley.demo.catalog import (
    CARVE_OUT_REFERENCE_CENTS,
    CODES,
    FACILITY_POS,
    PAYERS,
    PRACTICE,
    PayerSpec,
)
from parley.demo.medicare import PFS_YEARS, medicare_amount, pfs_year_for

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
PRICING_MODIFIERS = ("26", "TC")
INTEREST_ANNUAL_PCT = 12  # New York prompt-pay interest (12% a year), used by payers that pay it


def rhu(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


def to_cents(x: Decimal) -> int:
    return int(rhu(x) * 100)


@dataclass
class RatePeriod:
    index: int
    start: date
    end: date
    step: int
    pfs_year: int | None
    percent: Decimal  # % of Medicare, % of charges, or fee-schedule escalation factor (x100)
    # unit rates in cents per catalogue code index: (non_facility, facility); empty for % charges
    unit_cents: list[tuple[int, int]] = field(default_factory=list)
    row_basis: list[str] = field(
        default_factory=list
    )  # per code: "fee_schedule", "carve_out", "pfs"
    # the previous escalation step's unit rates (used only to plant "stale escalator" errors)
    stale_cents: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class Contract:
    payer: PayerSpec
    index: int
    effective: date
    periods: list[RatePeriod]

    def period_for(self, d: date) -> RatePeriod:
        for p in self.periods:
            if p.start <= d <= p.end:
                return p
        raise KeyError(d)


def _jitter(code: str, modifier: str, payer_key: str) -> Decimal:
    """A stable per-code negotiated variation in [0.92, 1.10)."""
    h = int.from_bytes(
        hashlib.sha256(f"{payer_key}|{code}|{modifier}".encode()).digest()[:4], "big"
    )
    return Decimal(92 + h % 18) / HUNDRED


def _anniversaries(p: PayerSpec, effective: date, end: date) -> list[date]:
    if p.anniversary is None or Decimal(p.escalator_pct) == 0:
        return []
    m, d = p.anniversary
    return [
        date(y, m, d)
        for y in range(effective.year, end.year + 1)
        if effective < date(y, m, d) <= end
    ]


def _effective_date(p: PayerSpec, window_start: date) -> date:
    if p.anniversary is None:
        return date(window_start.year - 2, 1, 1)
    m, d = p.anniversary
    y = window_start.year
    while date(y, m, d) > window_start:
        y -= 1
    return date(y, m, d)


def _boundaries(p: PayerSpec, effective: date, window_start: date, end: date) -> list[date]:
    cuts = {window_start}
    cuts.update(a for a in _anniversaries(p, effective, end) if a > window_start)
    if p.method == "percent_of_medicare" and p.pfs_year_basis == "service_year":
        cuts.update(date(y, 1, 1) for y in range(window_start.year + 1, end.year + 1))
    return sorted(cuts)


def _step_for(p: PayerSpec, effective: date, d: date) -> int:
    return sum(1 for a in _anniversaries(p, effective, d) if a <= d)


def _period_percent(p: PayerSpec, step: int) -> Decimal:
    base = Decimal(p.base_factor_pct)
    esc = Decimal(p.escalator_pct)
    if p.method == "percent_of_charges":
        return base + esc * step  # escalator in percentage points of charges
    return base * (1 + esc / HUNDRED) ** step  # compounding percent escalator


def _carve_out_cents(p: PayerSpec, code: str, factor: Decimal) -> int:
    ref = Decimal(CARVE_OUT_REFERENCE_CENTS[code]) / HUNDRED
    if code.startswith("J"):
        mult = Decimal("106") if p.claim_filing == "16" else Decimal("115")  # ASP + 6% / 15%
    elif code.startswith("99"):
        mult = factor  # preventive: payer amount, escalated with the contract
    else:
        mult = Decimal("100") if p.claim_filing == "16" else Decimal("140")  # % of CLFS
    return to_cents(ref * mult / HUNDRED)


def _period_rates(p: PayerSpec, period: RatePeriod, pfs_cache: dict[Any, Decimal]) -> None:
    if p.method == "percent_of_charges":
        return
    esc_factor = (1 + Decimal(p.escalator_pct) / HUNDRED) ** period.step
    for c in CODES:
        if c.code in CARVE_OUT_REFERENCE_CENTS:
            if p.method == "percent_of_medicare":
                cents = _carve_out_cents(p, c.code, period.percent)
                basis = "carve_out"
            else:
                ref = Decimal(CARVE_OUT_REFERENCE_CENTS[c.code]) / HUNDRED
                base = rhu(ref * Decimal(p.base_factor_pct) / HUNDRED * _jitter(c.code, "", p.key))
                cents = to_cents(base * esc_factor)
                basis = "fee_schedule"
            period.unit_cents.append((cents, cents))
            period.row_basis.append(basis)
            continue
        pair = []
        for fac in (False, True):
            if p.method == "percent_of_medicare":
                assert period.pfs_year is not None
                mcr = pfs_cache[(c.code, c.modifier, period.pfs_year, fac)]
                pair.append(to_cents(mcr * period.percent / HUNDRED))
            else:
                mcr = pfs_cache[(c.code, c.modifier, 2024, fac)]
                base = rhu(
                    mcr * Decimal(p.base_factor_pct) / HUNDRED * _jitter(c.code, c.modifier, p.key)
                )
                pair.append(to_cents(base * esc_factor))
        period.unit_cents.append((pair[0], pair[1]))
        period.row_basis.append("pfs" if p.method == "percent_of_medicare" else "fee_schedule")


def medicare_cache() -> dict[Any, Decimal]:
    cache: dict[Any, Decimal] = {}
    for c in CODES:
        if c.code in CARVE_OUT_REFERENCE_CENTS:
            continue
        for y in PFS_YEARS:
            for fac in (False, True):
                cache[(c.code, c.modifier, y, fac)] = medicare_amount(c.code, c.modifier, y, fac)
    return cache


def build_contracts(window_start: date, end: date) -> list[Contract]:
    pfs = medicare_cache()
    out: list[Contract] = []
    for i, p in enumerate(PAYERS):
        eff = _effective_date(p, window_start)
        cuts = _boundaries(p, eff, window_start, end)
        periods: list[RatePeriod] = []
        for k, start in enumerate(cuts):
            stop = date.fromordinal(cuts[k + 1].toordinal() - 1) if k + 1 < len(cuts) else end
            step = _step_for(p, eff, start)
            pfs_year = None
            if p.method == "percent_of_medicare":
                pfs_year = (
                    int(p.pfs_year_basis)
                    if p.pfs_year_basis.isdigit()
                    else pfs_year_for(start.year)
                )
            rp = RatePeriod(k, start, stop, step, pfs_year, _period_percent(p, step))
            _period_rates(p, rp, pfs)
            if step > 0 and p.method != "percent_of_charges":
                old = RatePeriod(k, start, stop, step - 1, pfs_year, _period_percent(p, step - 1))
                _period_rates(p, old, pfs)
                rp.stale_cents = old.unit_cents
            periods.append(rp)
        out.append(Contract(p, i, eff, periods))
    return out


# ----------------------------------------------------------------------------- JSON


def _fmt(d: Decimal) -> str:
    s = format(d.normalize(), "f")
    return s


def _term_end(effective: date, end: date) -> date:
    """End of the 1-year term running at ``end`` (terms renew on the effective date)."""
    y = effective.year
    while True:
        try:
            nxt = effective.replace(year=y + 1)
        except ValueError:  # 29 February
            nxt = date(y + 1, 3, 1)
        if nxt > end:
            return nxt - timedelta(days=1)
        y += 1


def _period_json(c: Contract, rp: RatePeriod) -> dict[str, Any]:
    p = c.payer
    out: dict[str, Any] = {
        "start": rp.start.isoformat(),
        "end": rp.end.isoformat(),
        "escalation_step": rp.step,
    }
    if p.method == "percent_of_charges":
        out["percent_of_charges"] = _fmt(rp.percent)
        return out
    if p.method == "percent_of_medicare":
        out["percent_of_medicare"] = _fmt(rp.percent)
        out["pfs_year"] = rp.pfs_year
    rows = []
    for code, basis, (nf, f) in zip(CODES, rp.row_basis, rp.unit_cents, strict=True):
        if basis == "pfs":
            continue
        for site, cents in (("non_facility", nf), ("facility", f)):
            rows.append(
                {
                    "code": code.code,
                    "modifier": code.modifier,
                    "site": site,
                    "rate": f"{cents // 100}.{cents % 100:02d}",
                    "basis": basis,
                }
            )
    out["fee_schedule"] = rows
    return out


def contracts_document(contracts: list[Contract], *, seed: int) -> dict[str, Any]:
    pfs = medicare_cache()
    mref = {
        str(y): [
            {
                "code": c.code,
                "modifier": c.modifier,
                "non_facility": str(pfs[(c.code, c.modifier, y, False)]),
                "facility": str(pfs[(c.code, c.modifier, y, True)]),
            }
            for c in CODES
            if c.code not in CARVE_OUT_REFERENCE_CENTS
        ]
        for y in PFS_YEARS
    }
    docs = []
    for c in contracts:
        p = c.payer
        docs.append(
            {
                "contract_id": p.key,
                "payer_name": p.payer_name,
                "payer_id": p.payer_id,
                "product_line": p.product_line,
                "claim_filing_indicator": p.claim_filing,
                "method": p.method,
                "effective_date": c.effective.isoformat(),
                "renewal": "evergreen, 1-year terms",
                "current_term_end": _term_end(c.effective, c.periods[-1].end).isoformat(),
                "termination_notice_days": 90,
                "remit_claim_filing_indicator": p.remit_filing,
                "timely_filing_days": p.timely_filing_days,
                "prompt_pay_days": p.prompt_pay_days,
                "prompt_pay_interest_annual_pct": INTEREST_ANNUAL_PCT if p.pays_interest else None,
                "lesser_of_billed_charges": p.lesser_of_billed and p.method != "percent_of_charges",
                "base_percent": p.base_factor_pct if p.method != "fee_schedule" else None,
                "escalator": None
                if Decimal(p.escalator_pct) == 0 or p.anniversary is None
                else {
                    "amount": p.escalator_pct,
                    "unit": "percentage_points" if p.method == "percent_of_charges" else "percent",
                    "compounding": p.method != "percent_of_charges",
                    "anniversary": f"{p.anniversary[0]:02d}-{p.anniversary[1]:02d}",
                },
                "medicare_basis": None
                if p.method != "percent_of_medicare"
                else {
                    "fee_schedule": "MPFS",
                    "pfs_year_basis": p.pfs_year_basis,
                    "note": (
                        "the PFS of the service year; 2026 services use the 2025 PFS"
                        if p.pfs_year_basis == "service_year"
                        else f"pinned to the {p.pfs_year_basis} PFS for every service year"
                    ),
                    "carrier": PRACTICE.medicare_carrier,
                    "locality": PRACTICE.medicare_locality,
                    "zip": PRACTICE.zip5,
                },
                "multiple_procedure_reduction": None,
                "prior_auth_codes": list(p.prior_auth_codes),
                "periods": [_period_json(c, rp) for rp in c.periods],
            }
        )
    return {
        "schema": "parley.demo.contracts/1",
        "seed": seed,
        "practice": {
            "name": PRACTICE.name,
            "billing_npi": PRACTICE.npi,
            "tin": PRACTICE.tin,
            "zip": PRACTICE.zip5,
            "medicare_carrier": PRACTICE.medicare_carrier,
            "medicare_locality": PRACTICE.medicare_locality,
        },
        "pricing": {
            "facility_pos": sorted(FACILITY_POS),
            "pricing_modifiers": list(PRICING_MODIFIERS),
            "rounding": "Decimal ROUND_HALF_UP to cents",
            "rule": textwrap.dedent(
                (__doc__ or "")
                .split("(also written into ``contracts.json``)::")[1]
                .split("``medicare(...)``")[0]
                .strip("\n")
            ).splitlines(),
            "medicare_amount": "parley.refdata.medicare_fee(code, year=pfs_year, modifier=..., "
            "locality='13202-01', facility=site=='facility').amount, rounded to cents; the same amounts are listed under medicare_reference",
            "units": "billed units: 837 SV104, i.e. 835 SVC07 when present, else SVC05",
            "recoded_lines": "priced at the paid code (835 SVC01); SVC06 carries the billed code",
            "reversals": "CLP02=22 lines carry negative charge, paid and AMT*B6; exclude them "
            "(and the paid claim they reverse) from accuracy, or net them out",
        },
        "medicare_reference": mref,
        "contracts": docs,
    }
