"""The seven sections of the negotiation brief, built from :mod:`parley.services.brief_data`.

Each builder returns one :mod:`parley.report.model` section: an action title stating the
finding, key messages, figures (value, unit, definition, source), tables, chart data and
the notes on what is missing.  No number is computed here that a service already computes:
figures come from the strategy result (``parley strategy``) and the KPI tables
(``parley kpi``); this module selects, labels and words them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from parley.domain.contracts import (
    Contract,
    FeeSchedule,
    PercentOfCharges,
    PercentOfMedicare,
    PercentOfReference,
)
from parley.report.model import (
    ChartData,
    Column,
    ContractCard,
    Figure,
    RiskFlag,
    Series,
    Table,
    Unit,
    display,
)
from parley.services.brief_data import BriefContext, PayerInputs

D = Decimal
SRC_STRATEGY = "Parley strategy (parley strategy): repriced remits, base period {period}"
SRC_KPI = "Parley KPIs (parley kpi), 835/837 data to {as_of}"


def dec(x: Any) -> Decimal | None:
    if x is None or x == "":
        return None
    try:
        return D(str(x))
    except ArithmeticError:
        return None


def pct(x: Any) -> Decimal | None:
    """A fraction (0.1234) as a percent (12.34)."""
    d = dec(x)
    return None if d is None else (d * 100).quantize(D("0.01"))


def fig(key: str, label: str, value: Any, unit: Unit, definition: str, source: str, *, note: str | None = None,
        missing: str | None = None) -> Figure:
    return Figure(key=key, label=label, value=value, unit=unit, definition=definition, source=source, note=note,
                  missing=missing if value is None else None)


class Parts:
    """Shared lookups for one payer's brief."""

    def __init__(self, ctx: BriefContext, pi: PayerInputs) -> None:
        self.ctx, self.pi = ctx, pi
        self.res = pi.strategy
        self.payer = pi.scoped[0].payer.name
        self.key = self.payer.upper()
        self.figs: dict[str, dict[str, Any]] = self.res.figures if self.res else {}
        period = self.res.base_period if self.res else None
        self.period_text = f"{period[0]:%d %b %Y} - {period[1]:%d %b %Y}" if period else "n/a"
        self.src_strategy = SRC_STRATEGY.format(period=self.period_text)
        self.src_kpi = SRC_KPI.format(as_of=f"{ctx.as_of:%d %b %Y}")
        self.card = next((r for r in ctx.scorecard if str(r.get("payer", "")).upper() == self.key), None)

    @property
    def short(self) -> str:
        return short_payer(self.payer)

    def sv(self, name: str) -> Any:
        """A strategy figure's value (Decimal when numeric)."""
        f = self.figs.get(name)
        if f is None or f.get("value") is None:
            return None
        v = f["value"]
        return dec(v) if isinstance(v, (str, int, float, Decimal)) and _numeric(v) else v

    def sd(self, name: str) -> str:
        return str(self.figs.get(name, {}).get("derivation", ""))

    def kpi(self, table: str, col: str) -> Any:
        row = getattr(self.ctx, table).get(self.key) if table != "scorecard" else self.card
        return None if row is None else row.get(col)

    @property
    def no_remits(self) -> str | None:
        if self.res is not None:
            return None
        return (f"No remittances yet for {self.payer}: performance figures are not available "
                f"({self.pi.strategy_note or self.ctx.kpi_note or 'nothing repriced'})")


def _numeric(v: Any) -> bool:
    try:
        D(str(v))
        return True
    except ArithmeticError:
        return False


# --------------------------------------------------------------------------- dates and contract terms


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


# --------------------------------------------------------------------------- charts helpers


def bar_chart(key: str, title: str, cats: list[str], values: list[Decimal | None], *, unit: Unit, x: str, y: str,
              source: str, alt: str, kind: str = "hbar", highlight: list[str] | None = None,
              markers: dict[str, Decimal] | None = None, name: str = "value") -> ChartData:
    return ChartData(key=key, kind=kind, title=title, categories=cats, series=[Series(name=name, values=values)],  # type: ignore[arg-type]
                     x_label=x, y_label=y, unit=unit, source=source, alt=alt, highlight=highlight or [],
                     markers=markers or {})


def short_payer(name: str) -> str:
    text = name.replace(" INSURANCE CO", "").replace(" INSURANCE", "").title()
    return text if len(text) <= 30 else text[:29] + "…"


# --------------------------------------------------------------------------- 2. contract inventory


def inventory(p: Parts) -> Any:
    from parley.report.model import ContractInventory

    lines = p.sv("lines")
    pa_lines = p.sv("prior_auth_lines")
    share = (D(pa_lines) / D(lines)).quantize(D("0.0001")) if lines and pa_lines is not None else None
    cards = [contract_card(c, p.ctx.as_of, share) for c in p.pi.scoped]
    flags = [(c.contract_id, f) for c in cards for f in c.flags]
    high = [f for _, f in flags if f.severity == "high"]
    headline = (f"{len(high)} high-risk term{'s' if len(high) != 1 else ''} to fix in this renegotiation: "
                + ", ".join(dict.fromkeys(f.term.lower() for f in high)) if high
                else f"No high-risk terms in {len(cards)} contract{'s' if len(cards) != 1 else ''}; "
                     f"{len(flags)} lesser point{'s' if len(flags) != 1 else ''} to tidy up")
    rows = [[c.contract_id, ", ".join(c.product_lines), c.effective, c.expires or "evergreen", c.reimbursement, c.escalator,
             c.termination_notice_days, c.timely_filing_days, len(c.prior_authorization_codes)] for c in cards]
    terms = Table(key="inventory.terms", title="Terms in force", columns=[
        Column(key="contract", label="Contract", align="left"), Column(key="lines", label="Product lines", align="left"),
        Column(key="effective", label="Effective", unit="date"), Column(key="expires", label="Expires", unit="date"),
        Column(key="rates", label="Reimbursement", align="left"), Column(key="escalator", label="Escalator", align="left"),
        Column(key="notice", label="Notice (days)", unit="count"), Column(key="tf", label="Timely filing (days)", unit="count"),
        Column(key="pa", label="Prior-auth codes", unit="count")], rows=rows, source="workspace contracts (contracts/*.yaml)")
    ftable = Table(key="inventory.flags", title="Flagged terms", columns=[
        Column(key="contract", label="Contract", align="left"), Column(key="term", label="Term", align="left"),
        Column(key="severity", label="Risk", align="center"), Column(key="finding", label="Finding", align="left")],
        rows=[[cid, f.term, f.severity, f.finding] for cid, f in flags], source="rules in docs/brief.md",
        highlight_rows=[i for i, (_, f) in enumerate(flags) if f.severity == "high"])
    msgs = [f"{c.contract_id}: {c.reimbursement}; {c.renewal}, {c.termination_notice_days} days' notice" for c in cards]
    return ContractInventory(title="Contract inventory", headline=headline, messages=msgs, tables=[terms, ftable], contracts=cards,
                             missing=["Unilateral-amendment and most-favoured-nation clauses are not captured by the contract "
                                      "schema: review the signed agreement for them"])


# --------------------------------------------------------------------------- 3. performance


def performance(p: Parts) -> Any:
    from parley.report.model import Performance

    missing = [m for m in (p.no_remits,) if m]
    if p.card is None and not missing:
        missing.append(f"No remittances from {p.payer} in the KPI data: performance figures are not available")
    figures = _perf_figures(p)
    tables: list[Table] = []
    charts: list[ChartData] = []
    if p.card is not None:
        charts += _perf_charts(p)
        tables += [_reasons_table(p), _aging_table(p), _scorecard_table(p)]
    if p.pi.underpaid_claims:
        tables.insert(0, _underpaid_table(p))
    elif p.res is not None:
        missing.append("No underpaid claims in the base period: nothing to appeal")
    acc, under = p.sv("payment_accuracy_percent"), p.sv("underpayment_dollars")
    den = pct(p.kpi("denials", "initial_denial_rate"))
    if acc is not None and den is not None:
        headline = (f"{p.short} pays {display(acc, 'percent')} of dollars correctly and denies {display(den, 'percent')} "
                    f"of claims first time: {display(under, 'dollars')} underpaid in 12 months")
    else:
        headline = f"Performance of {p.short} cannot be measured yet: no remittances"
    msgs = _perf_messages(p)
    return Performance(title="Performance", headline=headline, messages=msgs, figures=figures, tables=tables, charts=charts,
                       missing=missing)


def _perf_figures(p: Parts) -> list[Figure]:
    s, k = p.src_strategy, p.src_kpi
    burden = p.ctx.burden.get(p.key, {})
    admin = sum((dec(burden.get(c)) or D(0) for c in ("auth_cost", "rework_cost", "delay_cost")), D(0)) if burden else None
    no = "no remittances for this payer"
    return [
        fig("payment_accuracy_percent", "Payment accuracy", p.sv("payment_accuracy_percent"), "percent",
            "Allowed dollars paid within tolerance of the contract / adjudicated priced dollars", s, missing=no),
        fig("underpayment_dollars", "Underpayments", p.sv("underpayment_dollars"), "dollars",
            "Sum of (expected - actual allowed) on lines paid below the contract, base period", s, missing=no),
        fig("initial_denial_rate", "Initial denial rate", pct(p.kpi("denials", "initial_denial_rate")), "percent",
            "Claims denied in their first adjudication / adjudicated claims", k, missing=no),
        fig("final_denial_rate", "Final denial rate", pct(p.kpi("denials", "final_denial_rate")), "percent",
            "Claims still denied at their latest adjudication / adjudicated claims", k, missing=no),
        fig("overturn_rate", "Denials overturned", pct(p.kpi("denials", "overturn_rate")), "percent",
            "Initially denied claims later paid / initially denied claims", k, missing=no),
        fig("median_days_to_pay", "Median days to pay", dec(p.kpi("speed", "median_days_to_pay")), "days",
            "Median days from 837 submission to first payment", k, missing=no),
        fig("days_in_ar", "Days in A/R", dec(p.kpi("ar", "days_in_ar")), "days",
            "Outstanding balance / average daily charges", k, missing=no),
        fig("prior_auths_per_100_claims", "Prior authorisations", dec(p.kpi("burden", "prior_auths_per_100_claims")), "per_100",
            "Prior authorisations the contract requires per 100 claims", k, missing=no),
        fig("admin_cost", "Administrative cost", admin, "dollars",
            "Prior-auth staff time + denial rework + cost of money while waiting (KPI assumptions, docs/kpi.md)", k, missing=no),
        fig("cost_to_collect", "Cost to collect", pct(p.kpi("burden", "cost_to_collect")), "percent",
            "(rework + authorisation + delay cost) / collected dollars", k, missing=no),
    ]


def _perf_messages(p: Parts) -> list[str]:
    if p.card is None:
        return []
    out = []
    reasons = p.ctx.reasons.get(p.key, [])
    if reasons:
        top = reasons[0]
        total = sum((dec(r["denied_dollars"]) or D(0) for r in reasons), D(0))
        share = (dec(top["denied_dollars"]) or D(0)) / total if total else D(0)
        out.append(f"{top['category_label']} drives {display(share, 'fraction')} of initially denied dollars"
                   + (" and is recoverable with rework" if top.get("recoverable") else ""))
    rank = sorted(p.ctx.scorecard, key=lambda r: -(r.get("value_score") or 0))
    pos = next((i for i, r in enumerate(rank) if str(r["payer"]).upper() == p.key), None)
    if pos is not None:
        out.append(f"Ranks {pos + 1} of {len(rank)} payers on the value score ({display(dec(p.card.get('value_score')), 'score')}/100) "
                   f"and {_ordinal(p, 'hassle_score')} on hassle")
    if p.pi.underpaid_claims:
        tot = sum((dec(r["underpaid"]) or D(0) for r in p.pi.underpaid_claims), D(0))
        out.append(f"The top {len(p.pi.underpaid_claims)} underpaid claims alone are worth {display(tot, 'dollars')}: appeal them first")
    late = dec(p.card.get("late_share"))
    if late is not None and late > D("0.05"):
        out.append(f"{display(late, 'fraction')} of claims with prompt-pay terms were paid late")
    return out


def _ordinal(p: Parts, col: str) -> str:
    rank = sorted(p.ctx.scorecard, key=lambda r: -(r.get(col) or 0))
    pos = next((i for i, r in enumerate(rank) if str(r["payer"]).upper() == p.key), 0)
    return f"{pos + 1} of {len(rank)} (1 = worst)"


def _underpaid_table(p: Parts) -> Table:
    rows = [[r["claim_id"], r["service_date"], r["codes"], dec(r["expected_allowed"]), dec(r["actual_allowed"]), dec(r["underpaid"])]
            for r in p.pi.underpaid_claims]
    return Table(key="performance.underpaid", title="Top underpaid claims to appeal", columns=[
        Column(key="claim", label="Claim", align="left"), Column(key="date", label="Service date", unit="date"),
        Column(key="codes", label="Codes", align="left"), Column(key="expected", label="Contract allowed", unit="dollars"),
        Column(key="actual", label="Paid allowed", unit="dollars"), Column(key="under", label="Underpaid", unit="dollars")],
        rows=rows, source=p.src_strategy, note="claim = the 837 patient control number")


def _reasons_table(p: Parts) -> Table:
    reasons = p.ctx.reasons.get(p.key, [])
    total = sum((dec(r["denied_dollars"]) or D(0) for r in reasons), D(0))
    rows = [[r["category_label"], r["denied_claims"], dec(r["denied_dollars"]),
             (dec(r["denied_dollars"]) or D(0)) / total if total else None, "yes" if r.get("recoverable") else "no"]
            for r in reasons[:8]]
    return Table(key="performance.denial_causes", title="Denials by root cause (first adjudication)", columns=[
        Column(key="cause", label="Root cause", align="left"), Column(key="claims", label="Claims", unit="count"),
        Column(key="dollars", label="Billed $ denied", unit="dollars"), Column(key="share", label="Share", unit="fraction"),
        Column(key="recoverable", label="Recoverable", align="center")], rows=rows, source=p.src_kpi)


def _aging_table(p: Parts) -> Table:
    ar = p.ctx.ar.get(p.key, {})
    buckets = [("0-30 days", "ar_0_30"), ("31-60 days", "ar_31_60"), ("61-90 days", "ar_61_90"), ("91-120 days", "ar_91_120"),
               ("Over 120 days", "ar_over_120")]
    total = sum((dec(ar.get(c)) or D(0) for _, c in buckets), D(0))
    rows = [[label, dec(ar.get(c)), (dec(ar.get(c)) or D(0)) / total if total else None] for label, c in buckets]
    return Table(key="performance.ar_aging", title="Accounts receivable by age", columns=[
        Column(key="bucket", label="Age", align="left"), Column(key="balance", label="Balance", unit="dollars"),
        Column(key="share", label="Share", unit="fraction")], rows=rows, source=p.src_kpi)


def _scorecard_table(p: Parts) -> Table:
    rows, hl = [], []
    for i, r in enumerate(sorted(p.ctx.scorecard, key=lambda r: -(r.get("value_score") or 0))):
        if str(r["payer"]).upper() == p.key:
            hl.append(i)
        rows.append([short_payer(str(r["payer"])), dec(r.get("percent_of_medicare")), dec(r.get("payment_accuracy")),
                     dec(r.get("initial_denial_rate")), dec(r.get("median_days_to_pay")), dec(r.get("cost_to_collect")),
                     dec(r.get("value_score")), dec(r.get("hassle_score"))])
    return Table(key="performance.scorecard", title="Payer scorecard", columns=[
        Column(key="payer", label="Payer", align="left"), Column(key="pom", label="% of Medicare", unit="percent_of_medicare"),
        Column(key="acc", label="Accuracy", unit="fraction"), Column(key="den", label="Denials", unit="fraction"),
        Column(key="dtp", label="Days to pay", unit="days"), Column(key="ctc", label="Cost to collect", unit="fraction"),
        Column(key="value", label="Value score", unit="score"), Column(key="hassle", label="Hassle score", unit="score")],
        rows=rows, highlight_rows=hl, source=p.src_kpi, note="scores 0-100 on fixed anchors (docs/kpi.md)")


def _perf_charts(p: Parts) -> list[ChartData]:
    out = []
    reasons = p.ctx.reasons.get(p.key, [])[:7]
    if reasons:
        top = reasons[0]["category_label"]
        out.append(bar_chart("performance.denial_causes", f"{top} is the largest cause of denied dollars",
                             [str(r["category_label"]) for r in reasons], [dec(r["denied_dollars"]) for r in reasons],
                             unit="dollars", x="Billed charges denied at first adjudication ($)", y="", source=p.src_kpi,
                             alt=f"Denied dollars by root cause for {p.payer}; largest: {top}", name="denied $"))
    trend = p.ctx.denial_trend.get(p.key, {})
    allp = p.ctx.denial_trend.get("*", {})
    months = sorted(trend)[-18:]
    if len(months) >= 3:
        ours = [(v * 100 if v is not None else None) for v in (trend.get(m) for m in months)]
        peers = [(v * 100 if v is not None else None) for v in (allp.get(m) for m in months)]
        out.append(ChartData(key="performance.denial_trend", kind="line", title=f"Initial denial rate by month: {p.short} vs all payers",
                             categories=months, series=[Series(name=p.short, values=ours), Series(name="All payers", values=peers, role="peer")],
                             x_label="Month of first adjudication", y_label="Claims denied (%)", unit="percent", source=p.src_kpi,
                             alt=f"Monthly initial claim denial rate of {p.payer} against all payers, last {len(months)} months"))
    rank = sorted(p.ctx.scorecard, key=lambda r: -(r.get("value_score") or 0))
    out.append(bar_chart("performance.scorecard", f"{p.short} against the other payers on the value score",
                         [short_payer(str(r["payer"])) for r in rank], [dec(r.get("value_score")) for r in rank],
                         unit="score", x="Value score (0-100, higher is better)", y="", source=p.src_kpi,
                         highlight=[short_payer(p.payer)], alt="Value score of every payer; this payer highlighted",
                         name="value score"))
    ar = p.ctx.ar.get(p.key, {})
    if ar:
        cats = ["0-30", "31-60", "61-90", "91-120", "120+"]
        vals = [dec(ar.get(c)) for c in ("ar_0_30", "ar_31_60", "ar_61_90", "ar_91_120", "ar_over_120")]
        out.append(bar_chart("performance.ar_aging", "Most of the open balance is under 60 days old" if sum(
            (v or D(0) for v in vals[:2]), D(0)) >= sum((v or D(0) for v in vals), D(0)) / 2 else "Open balances are ageing past 60 days",
            cats, vals, unit="dollars", kind="bar", x="Days since submission", y="Open balance ($)", source=p.src_kpi,
            alt=f"Accounts receivable of {p.payer} by age bucket", name="balance"))
    return out


# --------------------------------------------------------------------------- 4. value story


def _scope_rows(p: Parts, rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], str]:
    ids = {c.contract_id.upper() for c in p.pi.scoped}
    mine = [r for r in rows if str(r.get("scope", "")).upper() in ids]
    return (mine, "this payer's contracts") if mine else ([r for r in rows if str(r.get("scope", "")).upper() == "ALL"], "all patients")


def value_story(p: Parts) -> Any:
    from parley.report.model import ValueStory

    missing: list[str] = []
    q, scope = _scope_rows(p, p.ctx.quality)
    periods, _ = _scope_rows(p, p.ctx.quality_periods)
    src = f"quality_measures.csv (operations/), {scope}"
    tables, charts, figures, msgs = [], [], [], []
    if q:
        met = [r for r in q if r.get("meets_target")]
        better = [r for r in q if (dec(r.get("gap_to_peer")) or D(0)) > 0]
        headline = (f"We meet {len(met)} of {len(q)} of the payer's quality targets and beat peers on {len(better)}: "
                    "value the payer should pay for")
        tables.append(Table(key="value.quality", title="Quality measures against baseline, peers and the payer's target", columns=[
            Column(key="m", label="Measure", align="left"), Column(key="latest", label="Latest", unit="fraction"),
            Column(key="base", label="Baseline", unit="fraction"), Column(key="peer", label="Peers", unit="fraction"),
            Column(key="target", label="Payer target", unit="fraction"), Column(key="met", label="Target met", align="center")],
            rows=[[r["measure_name"], dec(r["latest_rate"]), dec(r["baseline"]), dec(r["peer_benchmark"]), dec(r["payer_target"]),
                   "yes" if r.get("meets_target") else "no"] for r in q], source=src,
            highlight_rows=[i for i, r in enumerate(q) if r.get("meets_target")]))
        charts += _quality_charts(p, q, periods, src)
        msgs += [f"{r['measure_name']}: {display(dec(r['latest_rate']), 'fraction')} against a target of "
                 f"{display(dec(r['payer_target']), 'fraction')}" for r in sorted(q, key=lambda r: -(dec(r.get('gap_to_target')) or D(0)))[:3]]
        figures.append(fig("quality_targets_met", "Quality targets met", len(met), "count",
                           "Measures whose latest rate meets the payer's target (direction-aware)", src))
    else:
        headline = "Quality results are not loaded: the value story rests on cost and operations only"
        missing.append("No quality data: load the quality measures CSV with 'parley ingest' or 'parley kpi load-quality' (docs/quality.md)")
    visits = p.ctx.visits.get(p.key, [])
    if len(visits) >= 3:
        months = [str(v["month"]) for v in visits][-18:]
        vv = visits[-18:]
        charts.append(ChartData(key="value.no_show", kind="line", title=f"No-show rate of {p.short}'s patients by month",
                                categories=months, series=[Series(name="No-show rate", values=[pct(v.get("no_show_rate")) for v in vv])],
                                x_label="Month", y_label="Appointments missed (%)", unit="percent",
                                source="appointments.csv (operations/)", alt=f"Monthly no-show rate for {p.payer} patients"))
        figures.append(fig("completed_visits", "Visits (12 months)", sum(int(v.get("completed_visits") or 0) for v in visits[-12:]),
                           "count", "Completed appointments of the payer's patients, last 12 months", "appointments.csv"))
    else:
        missing.append("No appointment data for this payer: operations trends are not shown (parley kpi load-appointments)")
    pts = p.sv("patients")
    figures.append(fig("patients", "Patients", int(pts) if pts is not None else None, "count",
                       "Distinct patients with a claim in the base period", p.src_strategy, missing="no remittances"))
    share = p.sv("share_of_our_revenue_percent")
    figures.append(fig("share_of_our_revenue_percent", "Share of our revenue", share, "percent",
                       "The payer's allowed dollars / all payers' allowed, base period", p.src_strategy, missing="no remittances"))
    nu = p.figs.get("network_uniqueness", {}).get("value")
    if nu:
        msgs.append(f"Network: {nu}")
        figures.append(fig("network_uniqueness", "Network uniqueness", str(nu), "text", "The user's statement on network adequacy",
                           "strategy inputs"))
    else:
        missing.append("Network uniqueness: no data (market share or network adequacy); give figures.network_uniqueness "
                       "in the strategy inputs")
    return ValueStory(title="Value story", headline=headline, messages=msgs, figures=figures, tables=tables, charts=charts,
                      missing=missing)


def _quality_charts(p: Parts, q: list[dict[str, Any]], periods: list[dict[str, Any]], src: str) -> list[ChartData]:
    out = []
    ranked = list({r["measure_id"]: r for r in sorted(q, key=lambda r: dec(r.get("gap_to_peer")) or D(0))}.values())
    for r in sorted(ranked, key=lambda r: -(dec(r.get("gap_to_peer")) or D(0)))[:3]:
        rows = [x for x in periods if x["measure_id"] == r["measure_id"] and x.get("scope") == r.get("scope")]
        if len(rows) < 2:
            continue
        cats = [str(x["period"]) for x in rows]
        better = "higher" if rows[0].get("higher_is_better") else "lower"
        series = [Series(name="Our rate", values=[pct(x["rate"]) for x in rows]),
                  Series(name="Baseline", values=[pct(x["baseline"]) for x in rows], role="baseline"),
                  Series(name="Peers", values=[pct(x["peer_benchmark"]) for x in rows], role="peer"),
                  Series(name="Payer target", values=[pct(x["payer_target"]) for x in rows], role="target")]
        out.append(ChartData(key=f"value.quality.{r['measure_id'].lower()}", kind="line",
                             title=f"{r['measure_name']}: {display(dec(r['latest_rate']), 'fraction')} vs peers at "
                                   f"{display(dec(r['peer_benchmark']), 'fraction')}",
                             categories=cats, series=series, x_label="Period", y_label=f"Rate (%; {better} is better)",
                             unit="percent", source=src, alt=f"Quarterly {r['measure_name']} against baseline, peers and target"))
    return out


# --------------------------------------------------------------------------- 5. scenarios


def scenarios(p: Parts) -> Any:
    from parley.report.model import ExitCaseRow, Scenarios, Zopa

    missing: list[str] = []
    if p.res is None:
        return Scenarios(title="Scenarios", headline="Scenarios need the payer's history: none yet", missing=[
            p.no_remits or "no history", "Proposals are valued on our own repriced history: ingest remits and run 'parley reprice'"])
    vals = p.pi.valuations
    charts: list[ChartData] = []
    tables: list[Table] = []
    if vals:
        tables.append(_valuation_table(vals))
        charts.append(_valuation_chart(p, vals))
        if p.pi.default_proposals:
            missing.append("No proposals in the strategy inputs: the two proposals shown are illustrative defaults "
                           "(+3% across the board; +5% on the top 20 codes), give your own in strategy/<payer>.yaml")
    n = p.res.negotiation
    zopa = None
    cur = p.sv("current_revenue")
    if n is not None:
        def f(key: str, label: str, x: Any, definition: str) -> Figure:
            return fig(key, label, x.value, "dollars", definition, "Parley strategy: " + x.source, note=x.derivation,
                       missing=x.derivation)
        batna_v = next((x for x in n.inputs if x.name == "batna_value"), None)
        zopa = Zopa(current=fig("current_revenue", "Current terms", cur, "dollars", "Our volume at current terms, a year", p.src_strategy),
                    walk_away=f("walk_away", "Walk-away", n.walk_away, "The least we accept: max(cost floor, BATNA)"),
                    payer_max=f("payer_max", "Payer maximum", n.payer_max, "The most the payer is likely to pay (market p75 or user)"),
                    opening_offer=f("opening_offer", "Opening offer", n.opening_offer, "Our first ask, inside the ZOPA"),
                    batna=fig("batna_value", "BATNA", batna_v.value if batna_v else None, "dollars",
                              "Value of our best alternative to this agreement, a year",
                              "Parley strategy", note=batna_v.derivation if batna_v else None, missing="no BATNA"),
                    exists=n.zopa_exists if n.payer_max.value is not None else None, note=n.zopa_note)
        charts.append(_zopa_chart(p, zopa))
        if n.payer_max.value is None:
            missing.append("ZOPA unknown: no estimate of the payer's maximum (load market benchmarks with 'parley market', "
                           "or give negotiation.payer_max_revenue)")
    else:
        missing.append(f"Walk-away / ZOPA not computed: {p.res.negotiation_note}")
    cases = p.res.exit.get("cases", {})
    exit_rows = [ExitCaseRow(case=k, revenue_at_risk_total=D(c["revenue_at_risk_total"]), net_change_total=D(c["net_change_total"]),
                             net_change_by_year=[D(y["net_change"]) for y in c["years"]]) for k, c in cases.items()]
    if exit_rows:
        tables.append(Table(key="scenarios.exit", title="If the payer leaves (or we do): net revenue change", columns=[
            Column(key="case", label="Case", align="left"), Column(key="risk", label="Revenue at risk", unit="dollars"),
            *[Column(key=f"y{i + 1}", label=f"Year {i + 1}", unit="dollars") for i in range(len(exit_rows[0].net_change_by_year))],
            Column(key="total", label="Net change, all years", unit="dollars")],
            rows=[[r.case, r.revenue_at_risk_total, *r.net_change_by_year, r.net_change_total] for r in exit_rows],
            source=p.src_strategy, note="; ".join(a for a in p.res.assumptions if a.startswith(("exit", "MA exit")))))
        charts.append(bar_chart("scenarios.exit", "Leaving the payer costs "
                                + display(-exit_rows[min(1, len(exit_rows) - 1)].net_change_by_year[-1], "dollars") + " a year in the base case",
                                [r.case for r in exit_rows], [r.net_change_total for r in exit_rows], unit="dollars", kind="bar",
                                x="Exit case", y="Net revenue change, all years ($)", source=p.src_strategy,
                                alt="Net revenue change if the payer relationship ends, low / base / high cases", name="net change"))
    prob = None
    vb = p.res.value_based
    if vb and "simulation" in vb:
        sim = vb["simulation"]["terms"]
        prob = D(str(sim["probability_owing_any_year"]))
        if p.pi.vbc_totals:
            charts.append(_vbc_chart(p, p.pi.vbc_totals, prob))
    elif vb and "note" in vb:
        missing.append(f"Value-based sensitivity: {vb['note']}")
    else:
        missing.append("No value-based terms in this contract: no risk distribution to show")
    headline = _scen_headline(p, vals, zopa, prob)
    figures = [fig("probability_owing", "Probability of owing money", prob, "fraction",
                   "Share of Monte Carlo draws in which we owe the payer in some contract year", "Parley strategy (value-based)",
                   missing="no value-based terms")] if prob is not None else []
    msgs = [f"{v.proposal}: {display(v.revenue_change_total, 'dollars')} over {len(v.years)} years (NPV {display(v.npv_revenue_change, 'dollars')})"
            for v in vals]
    if zopa is not None:
        msgs.append(zopa.note)
    return Scenarios(title="Scenarios", headline=headline, messages=msgs, figures=figures, tables=tables, charts=charts,
                     missing=missing, valuations=vals, zopa=zopa, exit_cases=exit_rows, probability_owing=prob)


def _scen_headline(p: Parts, vals: list[Any], zopa: Any, prob: Decimal | None) -> str:
    if vals:
        best = max(vals, key=lambda v: v.npv_revenue_change)
        text = f"{best.proposal} is worth {display(best.revenue_change_total, 'dollars')} over {len(best.years)} years"
    else:
        text = "No proposal valued yet"
    if zopa is not None and zopa.walk_away.value is not None:
        text += f"; walk away below {display(zopa.walk_away.value, 'dollars')} a year"
    if prob is not None:
        text += f"; {display(prob, 'fraction')} chance of owing money under the value-based terms"
    return text


def _valuation_table(vals: list[Any]) -> Table:
    n = max(len(v.years) for v in vals)
    rows = []
    for v in vals:
        changes = [v.years[i].revenue_change if i < len(v.years) else None for i in range(n)]
        rows.append([v.proposal, *changes, v.revenue_change_total, v.npv_revenue_change, v.payer_cost_change_total])
    return Table(key="scenarios.proposals", title="Proposals side by side: revenue change against current terms", columns=[
        Column(key="proposal", label="Proposal", align="left"),
        *[Column(key=f"y{i + 1}", label=f"Year {i + 1}", unit="dollars") for i in range(n)],
        Column(key="total", label="Total", unit="dollars"), Column(key="npv", label="NPV", unit="dollars"),
        Column(key="payer", label="Payer cost change", unit="dollars")], rows=rows,
        source="repricing engine on the base-period volume (parley scenario compare)",
        note=vals[0].derivation[0] if vals[0].derivation else None)


def _valuation_chart(p: Parts, vals: list[Any]) -> ChartData:
    n = max(len(v.years) for v in vals)
    cats = [f"Year {i + 1}" for i in range(n)]
    series = [Series(name=v.proposal, values=[v.years[i].revenue_change if i < len(v.years) else None for i in range(n)],
                     role="other" if i else "primary") for i, v in enumerate(vals)]
    return ChartData(key="scenarios.proposals", kind="bar", title="Revenue change against current terms, by contract year",
                     categories=cats, series=series, x_label="Contract year", y_label="Revenue change ($)", unit="dollars",
                     source="Parley repricing engine, base period " + p.period_text,
                     alt="Yearly revenue change of each proposal against the current terms")


def _zopa_chart(p: Parts, z: Any) -> ChartData:
    markers = {k: v for k, v in (("Current", z.current.value), ("Opening", z.opening_offer.value)) if v is not None}
    lo, hi, cur = z.walk_away.value, z.payer_max.value, z.current.value
    cats, lows, highs = [], [], []
    if lo is not None and cur is not None:
        cats.append("Walk-away to today")
        lows.append(lo)
        highs.append(cur)
    if lo is not None and hi is not None:
        cats.append("ZOPA (walk-away to payer max)")
        lows.append(lo)
        highs.append(hi)
    title = ("Bargaining range: walk-away to the payer's maximum" if hi is not None
             else f"Today's terms sit {display(cur - lo, 'dollars')} a year above our walk-away" if lo is not None and cur is not None
             else "Bargaining range")
    return ChartData(key="scenarios.zopa", kind="range", title=title, categories=cats,
                     series=[Series(name="low", values=lows, role="low"), Series(name="high", values=highs, role="high")],
                     x_label="Annual revenue on our volume ($)", y_label="", unit="dollars", markers=markers,
                     source=p.src_strategy, alt="Walk-away point, current revenue, opening offer and the payer's maximum",
                     note=z.note)


def cur_or(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    return a if a is not None else b


def _vbc_chart(p: Parts, totals: list[float], prob: Decimal) -> ChartData:
    import numpy as np

    counts, edges = np.histogram(np.array(totals), bins=30)
    centres = (edges[:-1] + edges[1:]) / 2
    share = counts / max(len(totals), 1) * 100
    return ChartData(key="scenarios.vbc", kind="histogram",
                     title=f"Value-based terms: {display(prob, 'fraction')} chance of owing money in some year",
                     categories=[f"{c:.2f}" for c in centres], series=[Series(name="draws", values=[D(f"{s:.3f}") for s in share])],
                     x_label="Value-based cash flow, all contract years ($; below 0 = we pay)", y_label="Share of simulations (%)",
                     unit="dollars", source=f"Parley Monte Carlo ({len(totals):,} draws, seeded)",
                     alt="Distribution of the value-based cash flow over the contract; red bars are outcomes where we pay")


# --------------------------------------------------------------------------- 6. playbook


def playbook(p: Parts, sections: list[Any]) -> Any:
    from parley.report.model import CriterionRow, Objection, Playbook, Rubric

    if p.res is None:
        return Playbook(title="Playbook", headline="The playbook needs the payer's history: none yet",
                        missing=[p.no_remits or "no history"], issues=[m for s in sections for m in s.missing])
    card = p.res.scorecard
    rubric = Rubric(name=card.rubric, total=card.total, decision=card.decision, accept_at=card.thresholds.accept,
                    negotiate_at=card.thresholds.negotiate, explanation=card.explanation,
                    criteria=[CriterionRow(label=c.label, weight=c.weight, value=c.value, score=c.score, points=c.points,
                                           explanation=c.explanation) for c in card.criteria])
    objections = [Objection(objection=a.objection, counterpoint=a.counterpoint, complete=a.complete) for a in p.res.objections]
    issues = [f"{c.contract_id}: {f.term} - {f.finding}" for s in sections if s.id == "inventory"
              for c in s.contracts for f in c.flags if f.severity == "high"]
    issues += [m for s in sections for m in s.missing if s.id in ("scenarios", "value")]
    if p.res.negotiation_note:
        issues += [x.strip() for x in p.res.negotiation_note.split(";") if x.strip()]
    crit = sorted(card.criteria, key=lambda c: c.points)
    weak = crit[0].label if crit else "n/a"
    strong = crit[-1].label if crit else "n/a"
    headline = (f"Rubric score {display(card.total, 'score')}/100: {card.decision.upper()} - strongest on "
                f"{strong.split(' (')[0].lower()}, weakest on {weak.split(' (')[0].lower()}")
    table = Table(key="playbook.rubric", title="Rubric score, every point explained", columns=[
        Column(key="c", label="Criterion", align="left"), Column(key="w", label="Weight", unit="fraction"),
        Column(key="s", label="Score", unit="score"), Column(key="p", label="Points", unit="score"),
        Column(key="how", label="How", align="left")],
        rows=[[c.label, c.weight, c.score, c.points, c.explanation] for c in card.criteria],
        source=f"rubric '{card.rubric}' (parley score)")
    chart = bar_chart("playbook.rubric", f"Score {display(card.total, 'score')} of 100: accept at {display(card.thresholds.accept, 'score')}, "
                      f"negotiate at {display(card.thresholds.negotiate, 'score')}",
                      [c.label.split(" (")[0].split(" - ")[0] for c in card.criteria], [c.points for c in card.criteria],
                      unit="score", x="Points contributed (weight x score)", y="", source=f"rubric '{card.rubric}'",
                      alt="Points each rubric criterion contributes to the total score", name="points")
    incomplete = [o for o in objections if not o.complete]
    missing = ([f"{len(incomplete)} counterpoint(s) lack data: they say which figure is missing"] if incomplete else [])
    return Playbook(title="Playbook", headline=headline, messages=[card.explanation], tables=[table], charts=[chart],
                    objections=objections, issues=issues, rubric=rubric, missing=missing)


# --------------------------------------------------------------------------- 1. executive summary


def key_dates(p: Parts, cards: list[ContractCard]) -> list[Figure]:
    ends = [c for c in cards if c.notice_deadline is not None]
    if not ends:
        return [fig("expires", "Contract end", None, "date", "No end date and no evergreen anniversary", "contracts",
                    missing="the contract has no end date")]
    c = min(ends, key=lambda c: c.notice_deadline or dt.date.max)
    end = c.expires or (c.notice_deadline + dt.timedelta(days=c.termination_notice_days) if c.notice_deadline else None)
    w = c.renegotiation_window
    src = f"contract {c.contract_id}"
    return [
        fig("expires", "Contract end", end, "date", "Expiry date, or the next evergreen anniversary", src,
            note="evergreen: renews on the anniversary unless notice is given" if c.expires is None else None),
        fig("notice_deadline", "Notice deadline", c.notice_deadline, "date",
            f"Contract end minus the {c.termination_notice_days} days' termination notice", src),
        fig("renegotiation_start", "Start renegotiating", w[0] if w else None, "date",
            "9 months before the contract end (window closes 6 months before)", src,
            note=f"window {w[0]:%d %b %Y} - {w[1]:%d %b %Y}" if w else None),
    ]


def summary(p: Parts, sections: list[Any]) -> Any:
    from parley.report.model import ExecutiveSummary

    inv = next(s for s in sections if s.id == "inventory")
    perf = next(s for s in sections if s.id == "performance")
    scen = next(s for s in sections if s.id == "scenarios")
    dates = key_dates(p, inv.contracts)
    s, no = p.src_strategy, "no remittances for this payer"
    z = scen.zopa
    figures = [
        fig("current_revenue", "Annual revenue", p.sv("current_revenue"), "dollars",
            "Expected allowed at current terms on the payer's non-denied lines, 12-month base period", s, missing=no),
        fig("percent_of_medicare", "Rate level, % of Medicare", p.sv("percent_of_medicare"), "percent_of_medicare",
            "Our current allowed / the same lines at 100% of the Medicare PFS", s, missing=no),
        fig("percent_of_market_median", "Rate vs market median", p.sv("percent_of_market_median"), "percent",
            "Our current rates / the market median for the same codes (price-transparency benchmarks)", s,
            missing="no market benchmarks loaded (parley market)"),
        perf.figure("payment_accuracy_percent"), perf.figure("underpayment_dollars"),
        perf.figure("initial_denial_rate"), perf.figure("admin_cost"),
        z.opening_offer if z else fig("opening_offer", "Opening offer", None, "dollars", "Our first ask", s, missing=no),
        z.walk_away if z else fig("walk_away", "Walk-away", None, "dollars", "The least we accept", s, missing=no),
        z.batna if z else fig("batna_value", "BATNA", None, "dollars", "Best alternative to agreement", s, missing=no),
    ]
    figures = [f for f in figures if f is not None]
    decision = p.res.scorecard.decision if p.res else None
    missing = [f"{f.label}: {f.missing}" for f in figures if f.value is None and f.missing]
    headline = _summary_headline(p, decision, dates)
    msgs = _summary_messages(p, sections, dates)
    return ExecutiveSummary(title="Executive summary", headline=headline, messages=msgs, figures=figures, key_dates=dates,
                            decision=decision, missing=missing)


def _summary_headline(p: Parts, decision: str | None, dates: list[Figure]) -> str:
    rev, pom = p.sv("current_revenue"), p.sv("percent_of_medicare")
    start = next((d.value for d in dates if d.key == "renegotiation_start"), None)
    if rev is None:
        return f"{p.short}: contract on file, no payment history yet - the brief shows terms and dates only"
    verb = {"accept": "Accept the terms", "negotiate": "Renegotiate", "decline": "Prepare to exit"}.get(decision or "", "Review")
    text = f"{verb}: {p.short} pays {display(pom, 'percent_of_medicare')} on {display(rev, 'dollars')} a year"
    if isinstance(start, dt.date):
        text += f"; start by {start:%d %b %Y}" if start >= p.ctx.as_of else f"; the window opened {start:%d %b %Y}, start now"
    return text


def _summary_messages(p: Parts, sections: list[Any], dates: list[Figure]) -> list[str]:
    out = [s.headline for s in sections if s.id in ("performance", "scenarios", "inventory")]
    nd = next((d for d in dates if d.key == "notice_deadline" and d.value is not None), None)
    if nd is not None:
        days = (nd.value - p.ctx.as_of).days  # type: ignore[operator]
        out.append(f"Notice deadline {display(nd.value, 'date')}: {days} days after the data's as-of date" if days >= 0
                   else f"Notice deadline {display(nd.value, 'date')} has passed: the terms roll over")
    return out


# --------------------------------------------------------------------------- 7. method notes


def method(p: Parts, sections: list[Any]) -> Any:
    from parley.report.model import DataSource, Definition, MethodNotes

    seen: dict[str, str] = {}
    for s in sections:
        for f in [*s.figures, *getattr(s, "key_dates", [])]:
            seen.setdefault(f.label, f.definition)
        z = getattr(s, "zopa", None)
        if z is not None:
            for f in (z.current, z.walk_away, z.payer_max, z.opening_offer, z.batna):
                seen.setdefault(f.label, f.definition)
    for k, v in p.ctx.scorecard_definitions.items():
        seen.setdefault(k.replace("_", " ").capitalize(), v)
    defs = [Definition(term=k, definition=v) for k, v in seen.items()]
    ctx = p.ctx
    lo, hi = ctx.data_period
    sources = [
        DataSource(name="Contracts", description=f"{len(p.pi.scoped)} contract(s): " + ", ".join(c.contract_id for c in p.pi.scoped),
                   as_of=f"{ctx.as_of:%d %b %Y}"),
        DataSource(name="Claims and remittances (X12 837 / 835)", description="ingested into the workspace datasets",
                   period=f"{lo:%d %b %Y} - {hi:%d %b %Y}" if lo and hi else "none yet", as_of=f"{ctx.as_of:%d %b %Y}"),
        DataSource(name="Repriced lines", description="expected allowed under the contracts (parley reprice)", period=p.period_text),
        DataSource(name="Medicare PFS", description="CMS Physician Fee Schedule, years used: "
                   + (", ".join(f"{k}->{v}" for k, v in sorted(ctx.pfs_years.items())) or "n/a")),
        DataSource(name="Quality and appointments", description="operations/quality_measures.csv, operations/appointments.csv",
                   period=_quality_period(ctx)),
        DataSource(name="Market benchmarks", description="price-transparency rates (parley market)",
                   period="loaded" if p.sv("market_p50_revenue") is not None else "not loaded"),
    ]
    exclusions = [
        "Revenue and rates use non-denied lines only; the final remittance of each claim counts (reversals excluded)",
        "Percent of Medicare is measured on the lines the PFS prices; other lines (drugs, labs) are scaled in",
        "Claims not matched to a contract of this payer are excluded from contract figures",
        "Monte Carlo figures are estimates (seeded); every other figure is exact to the cent",
    ]
    assumptions = list(p.res.assumptions) if p.res else []
    assumptions += [f"KPI setting {k} = {v}" for k, v in ctx.kpi_assumptions.items() if k != "as_of"]
    return MethodNotes(title="Method notes", headline="How every figure was computed, from which data, and what was left out",
                       definitions=defs, sources=sources, exclusions=exclusions, assumptions=assumptions,
                       missing=[ctx.kpi_note] if ctx.kpi_note else [])


def _quality_period(ctx: BriefContext) -> str:
    ps = sorted({str(r["period"]) for r in ctx.quality_periods})
    return f"{ps[0]} - {ps[-1]}" if ps else "not loaded"
