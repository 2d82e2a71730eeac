"""Contract terms for the brief's inventory: key dates, the reimbursement in words, and the
flagged risky terms (rules documented in docs/brief.md, "Flagged terms")."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from parley.domain.contracts import (
    Contract,
    FeeSchedule,
    PercentOfCharges,
    PercentOfMedicare,
    PercentOfReference,
)
from parley.report.model import ContractCard, RiskFlag, display

D = Decimal


def _add_months(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.year * 12 + d.month - 1 + months, 12)
    return dt.date(y, m + 1, min(d.day, 28))


def term_end(c: Contract, as_of: dt.date) -> dt.date | None:
    """The date the terms next end: ``expires``, or for an evergreen contract with no end date the next
    anniversary of its effective date after ``as_of`` (documented in docs/brief.md)."""
    if c.expires is not None:
        return c.expires
    if c.renewal.type != "evergreen":
        return None
    years = max(as_of.year - c.effective.year, 1)
    while True:
        try:
            ann = c.effective.replace(year=c.effective.year + years)
        except ValueError:
            ann = c.effective.replace(year=c.effective.year + years, day=28)
        if ann > as_of:
            return ann - dt.timedelta(days=1)
        years += 1


def methodology_text(c: Contract) -> str:
    p = c.professional
    parts = []
    if p is not None:
        m = p.methodology
        if isinstance(m, PercentOfMedicare):
            year = "PFS of the service year" if m.pfs_year == "current" else f"PFS {m.pfs_year} (pinned)"
            parts.append(f"{m.percent.normalize():f}% of Medicare ({year})")
        elif isinstance(m, FeeSchedule):
            parts.append(f"fee schedule ({len(m.rates):,} rates)")
        elif isinstance(m, PercentOfCharges):
            parts.append(f"{m.percent.normalize():f}% of billed charges")
        elif isinstance(m, PercentOfReference):
            parts.append(f"{m.percent.normalize():f}% of {m.reference}")
        else:
            parts.append("not covered")
        if p.carve_outs:
            parts.append("carve-outs: " + ", ".join(co.name for co in p.carve_outs))
    if c.facility is not None:
        parts.append("facility terms")
    return "; ".join(parts) or "no reimbursement terms"


def risk_flags(c: Contract, as_of: dt.date, *, prior_auth_share: Decimal | None) -> list[RiskFlag]:
    """Risky terms, by the rules documented in docs/brief.md ("Flagged terms")."""
    flags: list[RiskFlag] = []
    add = flags.append
    n = c.renewal.termination_notice_days
    if c.renewal.type == "evergreen" and n > 90:
        add(RiskFlag(term="Renewal", severity="high" if n >= 180 else "medium",
                     finding=f"Evergreen with {n} days' termination notice: the terms roll over unless we act early",
                     rule="evergreen and notice > 90 days (>= 180: high)"))
    if c.escalator is None:
        add(RiskFlag(term="Escalator", severity="high" if c.renewal.type == "evergreen" or _years(c) > 1 else "medium",
                     finding="No escalator: rates lose value to inflation every year the contract runs",
                     rule="no escalator (high when multi-year or evergreen)"))
    tf = c.timely_filing_days
    if tf is not None and tf < 120:
        add(RiskFlag(term="Timely filing", severity="high" if tf < 90 else "medium",
                     finding=f"Timely filing of {tf} days: late claims are lost, not paid", rule="< 120 days (< 90: high)"))
    pa = len(c.prior_authorization_codes)
    share = prior_auth_share or D(0)
    if pa >= 20 or share >= D("0.10"):
        add(RiskFlag(term="Prior authorisation", severity="high" if pa >= 50 or share >= D("0.20") else "medium",
                     finding=f"{pa} codes need prior authorisation ({display(share, 'fraction')} of our lines)",
                     rule=">= 20 codes or >= 10% of lines (>= 50 codes or >= 20%: high)"))
    if c.professional is not None and c.professional.lesser_of_billed:
        add(RiskFlag(term="Lesser-of", severity="low",
                     finding="Pays the lesser of the contract rate and billed charges: a low charge master leaks revenue",
                     rule="lesser_of_billed is true"))
    m = c.professional.methodology if c.professional else None
    if isinstance(m, PercentOfMedicare) and m.pfs_year != "current" and as_of.year - int(m.pfs_year) >= 2:
        add(RiskFlag(term="Rate basis", severity="medium",
                     finding=f"Rates pinned to the PFS {m.pfs_year}: {as_of.year - int(m.pfs_year)} years of Medicare updates missed",
                     rule="percent of Medicare pinned to a PFS year 2+ years old"))
    if c.prompt_pay is None:
        add(RiskFlag(term="Prompt pay", severity="low", finding="No prompt-pay clause: late payment costs the payer nothing",
                     rule="no prompt_pay terms"))
    elif c.prompt_pay.interest_percent_annual is None:
        add(RiskFlag(term="Prompt pay", severity="low", finding=f"Prompt pay in {c.prompt_pay.days} days but no interest on late claims",
                     rule="prompt pay without interest"))
    if any(v.kind in ("downside_risk", "risk_corridor", "capitation") for v in c.value_based):
        add(RiskFlag(term="Value-based", severity="medium", finding="Downside risk: we can owe the payer money",
                     rule="downside_risk / risk_corridor / capitation terms"))
    end = term_end(c, as_of)
    if end is not None and (end - as_of).days <= 365:
        add(RiskFlag(term="Term", severity="high", finding=f"Terms end {end:%d %b %Y}, within 12 months",
                     rule="term ends within 12 months of the as-of date"))
    order = {"high": 0, "medium": 1, "low": 2}
    return sorted(flags, key=lambda f: order[f.severity])


def _years(c: Contract) -> int:
    return ((c.expires - c.effective).days // 365) if c.expires else (c.renewal.term_years or 1)


def contract_card(c: Contract, as_of: dt.date, prior_auth_share: Decimal | None) -> ContractCard:
    end = term_end(c, as_of)
    notice = end - dt.timedelta(days=c.renewal.termination_notice_days) if end else None
    window = (_add_months(end, -9), _add_months(end, -6)) if end else None
    esc = c.escalator
    esc_text = (f"{esc.amount.normalize():f}{'%' if esc.unit == 'percent' else ' points'} a year on {esc.anniversary}"
                if esc else "none")
    renewal = (f"{c.renewal.type}" + (f", {c.renewal.term_years}-year terms" if c.renewal.term_years else ""))
    pp = c.prompt_pay
    return ContractCard(
        contract_id=c.contract_id, payer=c.payer.name, product_lines=list(c.product_lines), effective=c.effective,
        expires=c.expires, renewal=renewal, termination_notice_days=c.renewal.termination_notice_days,
        notice_deadline=notice, renegotiation_window=window, reimbursement=methodology_text(c), escalator=esc_text,
        lesser_of_billed=c.professional.lesser_of_billed if c.professional else None, timely_filing_days=c.timely_filing_days,
        prompt_pay=(f"{pp.days} days" + (f", {pp.interest_percent_annual.normalize():f}% a year interest" if pp.interest_percent_annual else ""))
        if pp else "none",
        prior_authorization_codes=list(c.prior_authorization_codes),
        value_based=[v.kind.replace("_", " ") + (f": {v.description}" if v.description else "") for v in c.value_based],
        amendments=[f"{a.effective:%d %b %Y}: {a.description or ', '.join(a.changes)}" for a in c.amendments],
        flags=risk_flags(c, as_of, prior_auth_share=prior_auth_share))


