"""The seven sections of the negotiation brief, built from :mod:`parley.services.brief_data`.

Each builder returns one :mod:`parley.report.model` section: an action title stating the
finding, key messages, figures (value, unit, definition, source), tables, chart data and
the notes on what is missing.  No number is computed here that a service already computes:
figures come from the strategy result (``parley strategy``) and the KPI tables
(``parley kpi``); this module selects, labels and words them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from parley.report.model import (
    ChartData,
    Column,
    Figure,
    Series,
    Table,
    Unit,
    display,
)
from parley.services.brief_data import BriefContext, PayerInputs
from parley.services.brief_terms import contract_card

D = Decimal

# Two "percent of Medicare" (and two payment-accuracy) figures exist and differ by design; each place says which.
RATE_LEVEL_LABEL = "Contract rate level, % of Medicare (base period)"
RATE_LEVEL_DEF = ("Expected allowed at current contract terms / the same professional lines priced at 100% of the "
                  "Medicare PFS (current PFS year; the locality of the contract's percent-of-Medicare terms, else the "
                  "practice ZIP), non-denied lines of the 12-month base period (parley strategy)")
PAID_POM_LABEL = "Paid, % of Medicare (all history)"
PAID_POM_DEF = ("Allowed dollars actually paid / Medicare PFS allowed for the same lines (PFS of each service year, the "
                "practice's locality, facility rate by place of service), paid lines with a PFS price, all remittance "
                "history (parley kpi scorecard)")
ACCURACY_LABEL = "Payment accuracy (base period)"
ACCURACY_DEF = ("Allowed dollars paid within tolerance of the contract / adjudicated priced dollars, 12-month base period "
                "(parley strategy)")
PAID_ACCURACY_LABEL = "Payment accuracy (all history)"
PAID_ACCURACY_DEF = ("Share of allowed dollars paid within tolerance of the contract, all remittance history "
                     "(parley kpi scorecard)")
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
        fig("payment_accuracy_percent", ACCURACY_LABEL, p.sv("payment_accuracy_percent"), "percent", ACCURACY_DEF, s,
            missing=no),
        fig("paid_percent_of_medicare", PAID_POM_LABEL, dec(p.kpi("scorecard", "percent_of_medicare")), "percent_of_medicare",
            PAID_POM_DEF, k, missing=no),
        fig("underpayment_dollars", "Underpayments (base period)", p.sv("underpayment_dollars"), "dollars",
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
        Column(key="payer", label="Payer", align="left"), Column(key="pom", label=PAID_POM_LABEL, unit="percent_of_medicare"),
        Column(key="acc", label=PAID_ACCURACY_LABEL, unit="fraction"), Column(key="den", label="Initial denial rate", unit="fraction"),
        Column(key="dtp", label="Median days to pay", unit="days"), Column(key="ctc", label="Cost to collect", unit="fraction"),
        Column(key="value", label="Value score", unit="score"), Column(key="hassle", label="Hassle score", unit="score")],
        rows=rows, highlight_rows=hl, source=p.src_kpi,
        note="all remittance history, every payer measured alike; scores 0-100 on fixed anchors (docs/kpi.md). The "
             "summary's contract rate level is the base period at contract terms: see the method notes")


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
    src = f"quality measures extract (parley kpi quality), {scope}"
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
                                source="appointments extract (parley kpi operations)", alt=f"Monthly no-show rate for {p.payer} patients"))
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
