"""One month of claims: sampling, adjudication, and the 837P / 835 text of each claim.

Money is integer cents throughout.  Rates come from the precomputed contract tables; nothing
here calls reference data per line.  Randomness is drawn in numpy blocks and consumed from
Python lists (fast, and deterministic for a given seed and month).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import accumulate, chain

import numpy as np

from parley.demo.catalog import (
    CODE_INDEX,
    CODES,
    DENIAL_GROUP,
    DENIAL_RARC,
    DIAGNOSES,
    EM_EST,
    EM_NEW,
    FACILITY_POS,
    LINE_LEVEL_CARCS,
    PAYERS,
    PRACTICE,
    PROVIDERS,
    TEMPLATES,
    PayerSpec,
    VisitTpl,
)
from parley.demo.contracts import INTEREST_ANNUAL_PCT, Contract
from parley.demo.patients import Panel
from parley.demo.x12_writer import money

T = "~\n"  # segment terminator used when formatting (matches the writer's default delimiters)
APPEAL_OVERTURN_CARCS = frozenset({"197", "15", "16", "22", "31", "50"})
RECODE = {"99215": "99214", "99214": "99213", "99205": "99204", "99204": "99203"}
UNDERPAY_CODES = frozenset({"99214", "93306", "20610", "73721", "45380", "99396", "72148"})
OFFICE_POS = frozenset({"11", "02", "10", "24"})
HOSPITAL = ("MANHATTAN WESTSIDE GENERAL HOSPITAL", "1912000013", "1000 10TH AVE", "100192147")
ASC = ("CHELSEA ENDOSCOPY AND SURGERY CENTER", "1538000017", "300 W 23RD ST", "100114401")


Draws = Callable[[], float]


def make_draws(rng: np.random.Generator, block: int = 1 << 16) -> Draws:
    """An endless stream of uniforms, drawn from ``rng`` in numpy blocks (C-level ``next``)."""
    blocks = iter(lambda: rng.random(block).tolist(), None)
    return chain.from_iterable(blocks).__next__


_YMD: dict[date, str] = {}


def ymd(d: date) -> str:
    """CCYYMMDD, cached (strftime is slow in the hot loop)."""
    s = _YMD.get(d)
    if s is None:
        s = _YMD[d] = d.strftime("%Y%m%d")
    return s


def _cum(weights: tuple[float, ...] | list[float]) -> list[float]:
    c = list(accumulate(weights))
    return [x / c[-1] for x in c]


def pick(cum: list[float], u: float) -> int:
    i = bisect.bisect_right(cum, u)
    return i if i < len(cum) else len(cum) - 1


@dataclass(slots=True)
class Line:
    n: int
    lcn: str
    code: str
    pmod: str
    mods: str  # SVC/SV1 modifier part, e.g. ":26" or ":25"
    units: int
    charge: int
    kind: str
    ci: int
    dx_ptr: str
    # adjudication
    paid_code: str = ""
    paid_ci: int = -1
    units_paid: int = 0
    allowed: int | None = None
    expected: int | None = None
    paid: int = 0
    cas: list[tuple[str, str, int]] = field(default_factory=list)
    rarc: str = ""
    plant: str = ""


@dataclass(slots=True)
class Claim:
    claim_id: str
    payer_i: int
    patient: int
    prov: int
    tpl: VisitTpl
    svc: date
    sub: date
    pos: str
    fac: bool
    lines: list[Line]
    dx: list[str]
    auth: str
    auth_denial: str = ""  # "197" no authorisation obtained, "15" invalid authorisation number
    status: str = "1"
    denial: str = ""


@dataclass(slots=True)
class RemitItem:
    """One CLP block destined for a payment date's 835 transaction."""

    pay: date
    seq: int
    paid: int
    interest: int
    nseg: int
    text: str
    claim_id: str
    truth: list[tuple[object, ...]]


class Static:
    """Lookups computed once per run."""

    def __init__(self, contracts: list[Contract], years: list[int]) -> None:
        self.contracts = contracts
        self.period_starts = [[p.start for p in c.periods] for c in contracts]
        # chargemaster per year: 2026 list price, earlier years 4% lower per year, whole dollars
        self.cm = {
            y: [int(round(c.chargemaster_cents / 1.04 ** (2026 - y) / 100)) * 100 for c in CODES]
            for y in years
        }
        self.prov_cum = _cum([p.weight for p in PROVIDERS])
        self.tpl_cum = {k: _cum([t.weight for t in v]) for k, v in TEMPLATES.items()}
        self.tpl_lines = {
            (k, i): [
                (
                    lt.p,
                    lt.code,
                    lt.modifier if lt.modifier in ("26", "TC") else "",
                    f":{lt.modifier}" if lt.modifier else "",
                    lt.units,
                    _cum(lt.unit_w),
                )
                for lt in t.lines
            ]
            for k, v in TEMPLATES.items()
            for i, t in enumerate(v)
        }
        self.pos_cum = {
            (k, i): _cum(t.pos_w) for k, v in TEMPLATES.items() for i, t in enumerate(v)
        }
        self.payer_cum = _cum([p.volume_share for p in PAYERS])
        self.dx_cum = {k: _cum(w) for k, (_, w) in DIAGNOSES.items()}
        self.em_est = ([c for c, _ in EM_EST], _cum([w for _, w in EM_EST]))
        self.em_new = ([c for c, _ in EM_NEW], _cum([w for _, w in EM_NEW]))
        self.den_cum = [
            (_cum([w for _, w in p.denial_mix]), [c for c, _ in p.denial_mix]) for p in PAYERS
        ]

    def period(self, payer_i: int, d: date) -> int:
        return bisect.bisect_right(self.period_starts[payer_i], d) - 1


def next_weekday(d: date, weekday: int) -> date:
    return d + timedelta(days=(weekday - d.weekday()) % 7)


# ----------------------------------------------------------------------------- sampling


def resolve_code(code: str, age: int, new: bool, payer: PayerSpec, st: Static, u: float) -> str:
    if code == "EM_EST":
        codes, cum = st.em_est
        return codes[pick(cum, u)]
    if code == "EM_NEW":
        codes, cum = st.em_new
        return codes[pick(cum, u)]
    if code == "PREV":
        if payer.claim_filing == "16":
            return "G0438" if u < 0.12 else "G0439"
        band = 4 if age < 18 else 5 if age < 40 else 6 if age < 65 else 7
        return f"99{'38' if u < 0.15 else '39'}{band}"
    return code


def sample_claim(
    seq: int,
    month_tag: str,
    days: list[date],
    st: Static,
    draws: Draws,
    panels: list[Panel],
    end: date,
) -> Claim:
    u = draws
    prov = PROVIDERS[pick(st.prov_cum, u())]
    ti = pick(st.tpl_cum[prov.specialty], u())
    tpl = TEMPLATES[prov.specialty][ti]
    payer_i = pick(st.payer_cum, u())
    payer = PAYERS[payer_i]
    panel = panels[payer_i]
    pat = int(len(panel) * u() ** 1.7)
    svc = days[int(u() * len(days))]
    pos = tpl.pos[pick(st.pos_cum[(prov.specialty, ti)], u())]
    age = svc.year - panel.birth_year[pat]
    claim_id = f"CMG{month_tag}{seq:06d}"
    lines: list[Line] = []
    cm = st.cm[svc.year]
    for p_line, tcode, pmod, mods, unit_choices, unit_cum in st.tpl_lines[(prov.specialty, ti)]:
        if p_line < 1.0 and u() >= p_line:
            continue
        code = resolve_code(tcode, age, tpl.new_patient, payer, st, u())
        ci = CODE_INDEX[(code, pmod)]
        units = unit_choices[pick(unit_cum, u())] if len(unit_choices) > 1 else unit_choices[0]
        n = len(lines) + 1
        lines.append(
            Line(
                n,
                f"{claim_id}-{n}",
                code,
                pmod,
                mods,
                units,
                cm[ci] * units,
                CODES[ci].kind,
                ci,
                "1",
            )
        )
    dx_codes, _ = DIAGNOSES[prov.specialty]
    cum = st.dx_cum[prov.specialty]
    dx = [dx_codes[pick(cum, u())]]
    if lines[0].kind in ("prev", "awv"):
        dx = ["Z0000" if age >= 18 else "Z00129"]
    elif u() < 0.55:
        d2 = dx_codes[pick(cum, u())]
        if d2 not in dx:
            dx.append(d2)
            for ln in lines[1:]:
                ln.dx_ptr = "1:2" if ln.kind not in ("lab", "drug") else "2"
    lag = 1 + int(u() ** 2 * 9)
    sub = svc + timedelta(days=lag)
    needs_auth = any(ln.code in payer.prior_auth_codes for ln in lines)
    auth = f"PA{ymd(svc)[2:]}{seq % 100000:05d}" if needs_auth else ""
    auth_denial = ""
    if needs_auth and u() < 0.10:
        auth_denial = "197" if u() < 0.7 else "15"
        if auth_denial == "197":
            auth = ""
    return Claim(
        claim_id,
        payer_i,
        pat,
        prov.index,
        tpl,
        svc,
        sub,
        pos,
        pos in FACILITY_POS,
        lines,
        dx,
        auth,
        auth_denial,
    )


# ----------------------------------------------------------------------------- adjudication


def expected_allowed(
    st: Static,
    payer_i: int,
    ln: Line,
    ci: int,
    units: int,
    svc: date,
    fac: bool,
    stale: bool = False,
) -> int:
    c = st.contracts[payer_i]
    p = c.payer
    period = c.periods[st.period(payer_i, svc)]
    if p.method == "percent_of_charges":
        bp = int(period.percent * 100)
        return (ln.charge * bp + 5000) // 10000
    table = period.stale_cents if stale else period.unit_cents
    rate = table[ci][1 if fac else 0] * units
    return min(rate, ln.charge) if p.lesser_of_billed else rate


def _over_tolerance(expected: int, actual: int) -> bool:
    under = expected - actual
    return under * 100 > max(100 * 100, expected)


def price_line(st: Static, cl: Claim, ln: Line, u: Draws, stale_claim: bool) -> None:
    p = PAYERS[cl.payer_i]
    ln.paid_code, ln.paid_ci, ln.units_paid = ln.code, ln.ci, ln.units
    if p.recode_rate and ln.code in RECODE and u() < p.recode_rate * 6:
        ln.paid_code = RECODE[ln.code]
        ln.paid_ci = CODE_INDEX[(ln.paid_code, ln.pmod)]
    exp = expected_allowed(st, cl.payer_i, ln, ln.paid_ci, ln.units, cl.svc, cl.fac)
    actual = exp
    if ln.paid_code == ln.code:
        if "underpay_codes" in p.plants and ln.code in UNDERPAY_CODES and u() < 0.16:
            actual = exp - (exp * (10 + int(u() * 11)) + 50) // 100
            ln.plant = "code-specific underpayment (paid 10-20% below the fee schedule)"
        elif stale_claim:
            actual = expected_allowed(st, cl.payer_i, ln, ln.ci, ln.units, cl.svc, cl.fac, True)
            ln.plant = "paid at the prior contract year's rate after the escalator anniversary"
        elif "unit_reduction" in p.plants and ln.units >= 2 and ln.kind == "pt" and u() < 0.25:
            ln.units_paid = ln.units - 1
            actual = expected_allowed(st, cl.payer_i, ln, ln.ci, ln.units_paid, cl.svc, cl.fac)
            ln.plant = "wrong unit reduction (one billed unit not paid)"
        if ln.plant and not _over_tolerance(exp, actual):
            actual, ln.plant, ln.units_paid = exp, "", ln.units
    ln.expected, ln.allowed = exp, actual


def split_patient_share(p: PayerSpec, ln: Line, ded_left: int) -> int:
    """Set paid and CAS for a priced line; returns the deductible still to apply."""
    a = ln.allowed or 0
    ded = coins = copay = 0
    if ln.kind == "em" and p.copay_cents:
        copay = min(p.copay_cents, a)
    elif ln.kind in ("proc", "img", "pt", "drug", "inj"):
        ded = min(ded_left, a)
        coins = ((a - ded) * p.coinsurance_pct + 50) // 100
    ln.paid = a - ded - coins - copay
    if ln.charge - a:
        ln.cas.append(("CO", "45", ln.charge - a))
    for carc, amt in (("1", ded), ("2", coins), ("3", copay)):
        if amt:
            ln.cas.append(("PR", carc, amt))
    return ded_left - ded


def deny_line(ln: Line, carc: str) -> None:
    ln.allowed = None
    ln.paid = 0
    ln.units_paid = 0
    ln.paid_code, ln.paid_ci = ln.code, ln.ci
    ln.cas = [(DENIAL_GROUP.get(carc, "CO"), carc, ln.charge)]
    ln.rarc = DENIAL_RARC.get(carc, "")


def adjudicate(
    st: Static,
    cl: Claim,
    u: Draws,
    *,
    late_carc: str = "",
    deductible: int = 0,
    force_pay: bool = False,
) -> None:
    p = PAYERS[cl.payer_i]
    carc = late_carc
    if not carc and not force_pay and cl.auth_denial:
        carc = cl.auth_denial
    elif not carc and not force_pay and u() < p.denial_rate:
        cum, codes = st.den_cum[cl.payer_i]
        carc = codes[pick(cum, u())]
        if carc in ("29", "197", "15"):  # these come from late filing / missing authorisation
            carc = codes[pick(cum, u())]
            if carc in ("29", "197", "15"):
                carc = "16"
    cl.denial = carc
    period = st.contracts[cl.payer_i].periods[st.period(cl.payer_i, cl.svc)]
    stale = (
        "stale_escalator" in p.plants
        and period.step > 0
        and not force_pay
        and bool(period.stale_cents)
        and u() < 0.07
    )
    ded_left = deductible
    denied_line = -1
    if carc in LINE_LEVEL_CARCS and len(cl.lines) > 1:
        denied_line = 1 + int(u() * (len(cl.lines) - 1))
    for i, ln in enumerate(cl.lines):
        ln.cas, ln.rarc, ln.plant = [], "", ""
        if carc and (denied_line < 0 or i == denied_line):
            deny_line(ln, carc)
            continue
        if force_pay:
            ln.paid_code, ln.paid_ci, ln.units_paid = ln.code, ln.ci, ln.units
            ln.expected = ln.allowed = expected_allowed(
                st, cl.payer_i, ln, ln.ci, ln.units, cl.svc, cl.fac
            )
        else:
            price_line(st, cl, ln, u, stale)
        ded_left = split_patient_share(p, ln, ded_left)
    cl.status = "4" if all(ln.allowed is None for ln in cl.lines) else "1"


def interest_cents(paid: int, days: int, prompt: int) -> int:
    late = days - prompt
    if late <= 0 or paid <= 0:
        return 0
    return (paid * INTEREST_ANNUAL_PCT * late + 18250) // 36500


# ----------------------------------------------------------------------------- 837P text


def claim_837(cl: Claim, panel: Panel) -> tuple[str, int]:
    """Subscriber loop and claim (everything after the HL segment) and its segment count."""
    p = PAYERS[cl.payer_i]
    i = cl.patient
    prov = PROVIDERS[cl.prov]
    charge = sum(ln.charge for ln in cl.lines)
    hi = "*".join((("ABK:" if k == 0 else "ABF:") + d) for k, d in enumerate(cl.dx))
    out = [
        f"SBR*P*18*{p.group_number}******{p.claim_filing}{T}",
        f"NM1*IL*1*{panel.last[i]}*{panel.first[i]}****MI*{panel.member_id[i]}{T}",
        f"N3*{panel.street[i]}{T}N4*NEW YORK*NY*{panel.zip9[i]}{T}",
        f"DMG*D8*{panel.dob[i]}*{panel.sex[i]}{T}",
        f"NM1*PR*2*{p.payer_name}*****PI*{p.payer_id}{T}",
        f"CLM*{cl.claim_id}*{money(charge)}***{cl.pos}:B:1*Y*A*Y*Y{T}",
    ]
    n = 8
    if cl.auth:
        out.append(f"REF*G1*{cl.auth}{T}")
        n += 1
    out.append(
        f"HI*{hi}{T}NM1*82*1*{prov.last}*{prov.first}****XX*{prov.npi}{T}"
        f"PRV*PE*PXC*{prov.taxonomy}{T}"
    )
    n += 3
    if cl.pos in ("19", "21", "22", "23", "24"):
        name, npi, street, z = ASC if cl.pos == "24" else HOSPITAL
        out.append(f"NM1*77*2*{name}*****XX*{npi}{T}N3*{street}{T}N4*NEW YORK*NY*{z}{T}")
        n += 3
    svc = ymd(cl.svc)
    for ln in cl.lines:
        mod = f":{ln.pmod}" if ln.pmod else ln.mods
        out.append(
            f"LX*{ln.n}{T}SV1*HC:{ln.code}{mod}*{money(ln.charge)}*UN*{ln.units}***"
            f"{ln.dx_ptr}{T}DTP*472*D8*{svc}{T}REF*6R*{ln.lcn}{T}"
        )
        n += 4
        c = CODES[ln.ci]
        if c.ndc:
            unit, qty = c.ndc_units.split(":")
            q = float(qty) * ln.units
            out.append(f"LIN**N4*{c.ndc}{T}CTP****{q:g}*{unit}{T}")
            n += 2
    return "".join(out), n


# ----------------------------------------------------------------------------- 835 text


def _cas_segments(cas: list[tuple[str, str, int]], sign: int) -> list[str]:
    groups: dict[str, list[str]] = {}
    for g, carc, amt in cas:
        groups.setdefault(g, []).append(f"{carc}*{money(sign * amt)}")
    out = []
    for g in ("CO", "OA", "PI", "PR"):
        if g in groups:
            trip = "**".join(groups[g])
            out.append(f"CAS*{g}*{trip}{T}")
    return out


def claim_835(cl: Claim, panel: Panel, pcn: str, *, reversal: bool = False) -> tuple[str, int, int]:
    """CLP block text, segment count and the claim's paid cents (signed)."""
    s = -1 if reversal else 1
    p = PAYERS[cl.payer_i]
    i = cl.patient
    charge = sum(ln.charge for ln in cl.lines)
    paid = sum(ln.paid for ln in cl.lines)
    pr = sum(a for ln in cl.lines for g, _, a in ln.cas if g == "PR")
    status = "22" if reversal else cl.status
    svc = ymd(cl.svc)
    out = [
        f"CLP*{cl.claim_id}*{status}*{money(s * charge)}*{money(s * paid)}*"
        f"{money(s * pr) if pr else ''}*{p.remit_filing}*{pcn}*{cl.pos}*1{T}",
        f"NM1*QC*1*{panel.last[i]}*{panel.first[i]}****MI*{panel.member_id[i]}{T}",
    ]
    n = 4
    if not reversal and cl.status == "4" and cl.denial == "16":
        out.append(f"MOA***MA130{T}")
        n += 1
    out.append(f"DTM*232*{svc}{T}DTM*233*{svc}{T}")
    for ln in cl.lines:
        mod = f":{ln.pmod}" if ln.pmod else ln.mods
        units = ln.units_paid if ln.allowed is not None else ln.units
        orig = ""
        if ln.paid_code != ln.code:
            orig = f"*HC:{ln.code}{mod}"
        elif units != ln.units:
            orig = f"**{ln.units}"
        out.append(
            f"SVC*HC:{ln.paid_code}{mod}*{money(s * ln.charge)}*{money(s * ln.paid)}**"
            f"{units}{orig}{T}DTM*472*{svc}{T}"
        )
        n += 2
        cas = _cas_segments(ln.cas, s)
        out.extend(cas)
        n += len(cas)
        out.append(f"REF*6R*{ln.lcn}{T}")
        n += 1
        if ln.allowed is not None:
            out.append(f"AMT*B6*{money(s * ln.allowed)}{T}")
            n += 1
        if ln.rarc:
            out.append(f"LQ*HE*{ln.rarc}{T}")
            n += 1
    return "".join(out), n, s * paid


def practice_npi() -> str:
    return PRACTICE.npi
