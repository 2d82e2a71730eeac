"""The brief's scenarios, playbook, executive summary and method notes (see
:mod:`parley.services.brief_sections` for the shared lookups and the first sections)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from parley.report.model import ChartData, Column, ContractCard, Figure, Series, Table, display
from parley.services.brief_data import BriefContext
from parley.services.brief_sections import (
    ACCURACY_LABEL,
    PAID_ACCURACY_DEF,
    PAID_ACCURACY_LABEL,
    PAID_POM_DEF,
    PAID_POM_LABEL,
    RATE_LEVEL_DEF,
    RATE_LEVEL_LABEL,
    Parts,
    bar_chart,
    fig,
)

D = Decimal


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
    markers = {k: v for k, v in (("Walk-away", z.walk_away.value), ("Current", z.current.value),
                                 ("Opening", z.opening_offer.value), ("Payer max", z.payer_max.value)) if v is not None}
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
    objections = [Objection(objection=a.objection, counterpoint=_counterpoint(a.counterpoint), complete=a.complete)
                  for a in p.res.objections]
    issues = [f"{c.contract_id}: {f.term} - {f.finding}" for s in sections if s.id == "inventory"
              for c in s.contracts for f in c.flags if f.severity == "high"]
    issues += [m for s in sections for m in s.missing if s.id in ("scenarios", "value")]
    if p.res.negotiation_note:
        issues += [x.strip() for x in p.res.negotiation_note.split(";") if x.strip() and "payer_max_revenue" not in x]
    crit = sorted(card.criteria, key=lambda c: (c.score, c.weight))
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


def _counterpoint(text: str) -> str:
    """A counterpoint that is only its data note reads as what to gather, not as an answer."""
    if text.startswith("(needs:"):
        names = text.removeprefix("(needs:").split(" - ")[0].strip(" )")
        return f"No counterpoint from the data yet: it needs {names.replace('_', ' ')}."
    return text


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
        fig("percent_of_medicare", RATE_LEVEL_LABEL, p.sv("percent_of_medicare"), "percent_of_medicare", RATE_LEVEL_DEF, s,
            missing=no),
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
    text = (f"{verb}: {p.short}'s contract rates are {display(pom, 'percent_of_medicare')} on "
            f"{display(rev, 'dollars')} a year")
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
    # the scorecard's columns under the labels the brief shows them with (two of them differ from the summary's)
    seen.setdefault(PAID_POM_LABEL, PAID_POM_DEF)
    seen.setdefault(PAID_ACCURACY_LABEL, PAID_ACCURACY_DEF)
    seen.setdefault(RATE_LEVEL_LABEL, RATE_LEVEL_DEF)
    for k, v in p.ctx.scorecard_definitions.items():
        if k not in ("percent_of_medicare", "payment_accuracy"):
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
        DataSource(name="Quality and appointments", description="quality measures and appointments extracts loaded into the workspace",
                   period=_quality_period(ctx)),
        DataSource(name="Market benchmarks", description="price-transparency rates (parley market)",
                   period="loaded" if p.sv("market_p50_revenue") is not None else "not loaded"),
    ]
    exclusions = [
        "Revenue and rates use non-denied lines only; the final remittance of each claim counts (reversals excluded)",
        "Percent of Medicare is measured on the lines the PFS prices; other lines (drugs, labs) are scaled in",
        f"Two percent-of-Medicare figures are shown and differ by design: '{RATE_LEVEL_LABEL}' (what the contract "
        f"pays on recent volume, at contract terms) and '{PAID_POM_LABEL}' (what the payer actually paid, every payer "
        "alike, for the scorecard); underpayments, the Medicare locality and PFS year, and the period explain the gap. "
        f"Likewise '{ACCURACY_LABEL}' and '{PAID_ACCURACY_LABEL}'",
        "Facility (institutional) claims are priced per claim; they count in revenue but not in the Medicare "
        "comparison nor in the proposals' valuation (professional lines)",
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
