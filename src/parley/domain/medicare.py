"""Medicare Physician Fee Schedule arithmetic (pure: Decimal in, Decimal out, no I/O).

Payment formula (CMS, 42 CFR 414.26 / Claims Processing Manual ch. 12)::

    amount = [(work RVU x work GPCI) + (PE RVU x PE GPCI) + (MP RVU x MP GPCI)] x CF

Rounding convention (verified against CMS's published figures):

* the three GPCI-adjusted products and their sum are kept **unrounded**
  (Decimal arithmetic is exact here: RVUs have 2 decimals, GPCIs 3);
* the sum is multiplied by the conversion factor (4 decimals) and only the
  final amount is rounded to cents, half up.

Check: CPT 99213, 2025 non-facility, Manhattan (carrier 13202 locality 01,
GPCIs 1.065 / 1.166 / 1.656, CF 32.3465): 1.30x1.065 + 1.35x1.166 + 0.10x1.656
= 3.12420; x 32.3465 = 101.0569353 -> **$101.06** (CMS: $101.06).  Rounding
the adjusted RVU total to 2 decimals first (3.12 -> $100.92) does *not*
reproduce CMS, nor does rounding each product to 2 decimals.  National
(all GPCIs 1.000): 2.75 x 32.3465 = 88.952875 -> **$88.95**.

Facility vs non-facility: the PE RVU is the facility PE RVU when the place of
service is a facility (hospital, ASC, SNF ...) and the non-facility PE RVU
otherwise; work and MP RVUs are the same in both settings.

Professional / technical split: modifier 26 and TC are separate PPRRVU rows
with their own RVUs; the caller passes the row for the billed modifier.

Anesthesia: amount = (base units + time units) x the locality's anesthesia CF,
rounded to cents half up.  Time units = anesthesia minutes / 15; Medicare
carries time units to one decimal place (Claims Processing Manual ch. 12
s. 50.G), rounded half up: 62 minutes -> 4.1 units.  ``rounding="whole_up"``
gives the whole-unit rounding many commercial contracts use ("each 15 minutes
or part thereof"), ``"exact"`` keeps the full quotient.

OPPS cap (DRA 2005): for imaging services in ``OPPSCAP``, Medicare pays the
lesser of the PFS amount and the OPPS-based cap for the locality.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Literal

Number = Decimal | int | str

CENT = Decimal("0.01")
TENTH = Decimal("0.1")


def to_decimal(value: Number, name: str = "value") -> Decimal:
    """Convert to Decimal exactly; floats are refused (they are not exact)."""
    if isinstance(value, bool | float):
        raise TypeError(f"{name}: pass Decimal, int or str, not {type(value).__name__}")
    if isinstance(value, Decimal):
        d = value
    elif isinstance(value, int | str):
        d = Decimal(str(value).strip())
    else:
        raise TypeError(f"{name}: pass Decimal, int or str, not {type(value).__name__}")
    if not d.is_finite():
        raise ValueError(f"{name}: {value!r} is not a finite number")
    return d


def round_cents(x: Decimal) -> Decimal:
    """Round a money amount to cents, half up (CMS convention)."""
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class MedicareAmount:
    """A Medicare allowed amount and how it was computed.

    ``explanation`` holds human-readable lines (inputs and arithmetic) that a
    report or the CLI can print as is.
    """

    amount: Decimal
    explanation: tuple[str, ...]
    conversion_factor: Decimal
    adjusted_rvu: Decimal | None = None  # sum of RVU x GPCI (unrounded); None for anesthesia
    units: Decimal | None = None  # anesthesia base + time units
    setting: str | None = None  # "facility" | "non-facility" | None

    def __str__(self) -> str:
        return "\n".join(self.explanation)

    def with_note(self, *lines: str) -> MedicareAmount:
        return replace(self, explanation=self.explanation + tuple(lines))


def _fmt(d: Decimal) -> str:
    return format(d, "f")


def select_pe_rvu(nonfac_pe_rvu: Number, fac_pe_rvu: Number, *, facility: bool) -> Decimal:
    """The practice-expense RVU for the setting (facility POS -> facility PE RVU)."""
    return (
        to_decimal(fac_pe_rvu, "fac_pe_rvu")
        if facility
        else to_decimal(nonfac_pe_rvu, "nonfac_pe_rvu")
    )


def allowed_amount(
    work_rvu: Decimal,
    pe_rvu: Decimal,
    mp_rvu: Decimal,
    work_gpci: Decimal,
    pe_gpci: Decimal,
    mp_gpci: Decimal,
    conversion_factor: Decimal,
) -> Decimal:
    """The bare amount (same convention as :func:`medicare_allowed`), for bulk repricing."""
    total = work_rvu * work_gpci + pe_rvu * pe_gpci + mp_rvu * mp_gpci
    return round_cents(total * conversion_factor)


def medicare_allowed(
    work_rvu: Number,
    pe_rvu: Number,
    mp_rvu: Number,
    work_gpci: Number,
    pe_gpci: Number,
    mp_gpci: Number,
    conversion_factor: Number,
    *,
    label: str | None = None,
    setting: str | None = None,
) -> MedicareAmount:
    """PFS allowed amount: [(W x Wg) + (PE x PEg) + (MP x MPg)] x CF, rounded to cents.

    ``pe_rvu`` is the facility or non-facility PE RVU already chosen (see
    :func:`select_pe_rvu`).  Only the final amount is rounded.
    """
    w, pe, mp = (
        to_decimal(work_rvu, "work_rvu"),
        to_decimal(pe_rvu, "pe_rvu"),
        to_decimal(mp_rvu, "mp_rvu"),
    )
    wg, peg, mpg = (
        to_decimal(work_gpci, "work_gpci"),
        to_decimal(pe_gpci, "pe_gpci"),
        to_decimal(mp_gpci, "mp_gpci"),
    )
    cf = to_decimal(conversion_factor, "conversion_factor")
    for name, v in (("work_rvu", w), ("pe_rvu", pe), ("mp_rvu", mp), ("conversion_factor", cf)):
        if v < 0:
            raise ValueError(f"{name} is negative: {v}")
    pw, ppe, pmp = w * wg, pe * peg, mp * mpg
    total = pw + ppe + pmp
    raw = total * cf
    amount = round_cents(raw)
    lines = []
    if label:
        lines.append(label)
    lines += [
        f"work RVU {_fmt(w)} x work GPCI {_fmt(wg)} = {_fmt(pw)}",
        f"PE RVU {_fmt(pe)}{f' ({setting})' if setting else ''} x PE GPCI {_fmt(peg)} = {_fmt(ppe)}",
        f"MP RVU {_fmt(mp)} x MP GPCI {_fmt(mpg)} = {_fmt(pmp)}",
        f"adjusted RVUs {_fmt(total)} (unrounded) x CF {_fmt(cf)} = {_fmt(raw)}",
        f"allowed amount (rounded to cents, half up) = ${amount}",
    ]
    return MedicareAmount(amount, tuple(lines), cf, adjusted_rvu=total, setting=setting)


TimeRounding = Literal["tenth", "whole_up", "exact"]


def anesthesia_time_units(
    minutes: Number, *, unit_minutes: Number = 15, rounding: TimeRounding = "tenth"
) -> Decimal:
    """Anesthesia time units from minutes (Medicare: minutes / 15 to one decimal, half up)."""
    m, u = to_decimal(minutes, "minutes"), to_decimal(unit_minutes, "unit_minutes")
    if m < 0:
        raise ValueError(f"minutes is negative: {m}")
    if u <= 0:
        raise ValueError("unit_minutes must be positive")
    q = m / u
    if rounding == "tenth":
        return q.quantize(TENTH, rounding=ROUND_HALF_UP)
    if rounding == "whole_up":
        return q.to_integral_value(rounding=ROUND_CEILING)
    if rounding == "exact":
        return q
    raise ValueError(f"unknown rounding {rounding!r}: tenth, whole_up or exact")


def anesthesia_allowed(
    base_units: Number,
    anesthesia_cf: Number,
    *,
    minutes: Number | None = None,
    time_units: Number | None = None,
    rounding: TimeRounding = "tenth",
    label: str | None = None,
) -> MedicareAmount:
    """(base units + time units) x anesthesia CF, rounded to cents half up.

    Pass either ``minutes`` (converted with :func:`anesthesia_time_units`) or
    ``time_units`` directly.
    """
    if (minutes is None) == (time_units is None):
        raise ValueError("pass exactly one of minutes or time_units")
    base, cf = to_decimal(base_units, "base_units"), to_decimal(anesthesia_cf, "anesthesia_cf")
    if base < 0 or cf < 0:
        raise ValueError("base units and anesthesia CF must not be negative")
    lines = [label] if label else []
    if minutes is not None:
        tu = anesthesia_time_units(minutes, rounding=rounding)
        lines.append(f"time units = {_fmt(to_decimal(minutes))} min / 15 = {_fmt(tu)} ({rounding})")
    else:
        tu = to_decimal(time_units, "time_units")  # type: ignore[arg-type]
        if tu < 0:
            raise ValueError("time units must not be negative")
    units = base + tu
    raw = units * cf
    amount = round_cents(raw)
    lines += [
        f"base units {_fmt(base)} + time units {_fmt(tu)} = {_fmt(units)}",
        f"{_fmt(units)} x anesthesia CF {_fmt(cf)} = {_fmt(raw)}",
        f"allowed amount (rounded to cents, half up) = ${amount}",
    ]
    return MedicareAmount(amount, tuple(lines), cf, units=units)


def apply_opps_cap(pfs: MedicareAmount, cap: Number | None) -> MedicareAmount:
    """Lesser of the PFS amount and the OPPS cap (imaging services under the DRA cap)."""
    if cap is None:
        return pfs
    c = to_decimal(cap, "cap")
    if c < pfs.amount:
        return replace(pfs, amount=c).with_note(
            f"OPPS cap ${c} is lower than the PFS amount ${pfs.amount}: pay ${c}"
        )
    return pfs.with_note(f"OPPS cap ${c} not lower than PFS amount: no cap")
