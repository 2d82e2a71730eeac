"""Briefs built by hand for the Excel and PowerPoint tests (known figures; valuations from the engine).

``full_brief`` fills every section; ``bare_brief`` is a payer with no remits, no quality data
and no benchmarks: every section says what is missing.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from parley.engine.scenarios import Valuation
from parley.report.model import (
    Brief,
    ChartData,
    Column,
    ContractCard,
    ContractInventory,
    CriterionRow,
    DataSource,
    Definition,
    ExecutiveSummary,
    ExitCaseRow,
    Figure,
    MethodNotes,
    Objection,
    Performance,
    Playbook,
    RiskFlag,
    Rubric,
    Scenarios,
    Series,
    Table,
    ValueStory,
    Zopa,
)

SRC = "Parley workspace: repriced 835 remits, 12 months to 30 Jun 2026"


def fig(key: str, label: str, value, unit, definition: str = "", missing: str | None = None) -> Figure:
    return Figure(key=key, label=label, value=value, unit=unit, definition=definition or f"{label}.", source=SRC,
                  missing=missing)


def chart(key: str, kind: str, title: str, cats: list[str], series: dict[str, list], unit: str = "dollars",
          **kw) -> ChartData:
    return ChartData(key=key, kind=kind, title=title, categories=cats,
                     series=[Series(name=n, values=[None if v is None else D(str(v)) for v in vals],
                                    role=kw.pop(f"role_{i}", "primary" if i == 0 else "peer"))
                             for i, (n, vals) in enumerate(series.items())],
                     x_label=kw.pop("x_label", ""), y_label=kw.pop("y_label", "Dollars"), unit=unit, source=SRC,
                     alt=f"{title} ({', '.join(cats)})", **kw)


def full_brief(valuations: list[Valuation], payer: str = "KEYSTONE NATIONAL HEALTH") -> Brief:
    key_dates = [fig("expires", "Contract expires", dt.date(2026, 12, 31), "date"),
                 fig("notice_deadline", "Notice deadline", dt.date(2026, 10, 2), "date"),
                 fig("renegotiation_start", "Start renegotiation by", dt.date(2026, 4, 1), "date")]
    summary = ExecutiveSummary(
        title="Executive summary",
        headline=f"{payer} pays 118% of Medicare, below the market median: open at +6% and walk away below +2%",
        messages=["Rates sit 9% below the payer's market median on our top codes.",
                  "Underpayments of $184K are recoverable; 62% come from three codes.",
                  "The notice deadline is 2 Oct 2026: start renegotiating now."],
        figures=[fig("current_revenue", "Annual revenue", D("4812345.67"), "dollars"),
                 fig("percent_of_medicare", "Rate level", D("118.4"), "percent_of_medicare"),
                 fig("payment_accuracy_percent", "Payment accuracy", D("93.6"), "percent"),
                 fig("underpayment_dollars", "Underpayments", D("184220.10"), "dollars"),
                 fig("denial_rate_claims_percent", "Denial rate", D("7.9"), "percent")],
        decision="negotiate", key_dates=key_dates,
        charts=[chart("summary.rate_position", "hbar", "We are paid below the payer's market median",
                      ["Our rate", "Market median", "Market p75"], {"% of Medicare": [118.4, 129.0, 141.2]},
                      unit="percent_of_medicare", x_label="Percent of Medicare")])
    cards = [ContractCard(
        contract_id="knh-ppo", payer=payer, product_lines=["Commercial PPO"], effective=dt.date(2024, 1, 1),
        expires=dt.date(2026, 12, 31), renewal="auto-renews for 1 year", termination_notice_days=90,
        notice_deadline=dt.date(2026, 10, 2), renegotiation_window=(dt.date(2026, 4, 1), dt.date(2026, 7, 1)),
        reimbursement="115% of Medicare PFS (2024)", escalator="2% on 1 Jan", lesser_of_billed=True,
        timely_filing_days=90, prompt_pay="30 days clean claims", prior_authorization_codes=["72148", "73721"],
        value_based=[], amendments=["2025-01-01: labs carve-out"],
        flags=[RiskFlag(term="PFS year", severity="high", finding="Rates pinned to PFS 2024: no Medicare updates",
                        rule="pinned fee schedule year")])]
    inventory = ContractInventory(title="Contract inventory", headline="One PPO contract, pinned to PFS 2024, renews on 1 Jan",
                                  contracts=cards,
                                  tables=[Table(key="inventory.terms", title="Terms in force",
                                                columns=[Column(key="term", label="Term", align="left"),
                                                         Column(key="value", label="In force", align="left")],
                                                rows=[["Reimbursement", "115% of Medicare PFS (2024)"],
                                                      ["Escalator", "2% on 1 Jan"]])])
    perf = Performance(
        title="Performance", headline="The payer underpays 6.4% of dollars and denies 7.9% of claims",
        figures=[fig("payment_accuracy_percent", "Payment accuracy", D("93.6"), "percent"),
                 fig("underpayment_dollars", "Underpayments", D("184220.10"), "dollars"),
                 fig("denial_rate_claims_percent", "Denial rate", D("7.9"), "percent"),
                 fig("days_to_pay", "Days to pay (median)", D("18.4"), "days"),
                 fig("cost_to_collect", "Cost to collect", D("3.1"), "percent")],
        tables=[Table(key="performance.top_underpaid", title="Top underpaid claims to appeal",
                      columns=[Column(key="claim", label="Claim", align="left"), Column(key="code", label="Code", align="left"),
                               Column(key="expected", label="Expected", unit="dollars"),
                               Column(key="paid", label="Allowed", unit="dollars"),
                               Column(key="gap", label="Underpaid", unit="dollars")],
                      rows=[["C0001", "99214", D("152.10"), D("120.00"), D("32.10")],
                            ["C0002", "99215", D("210.00"), D("150.00"), D("60.00")]])],
        charts=[chart("performance.denials", "bar", "Eligibility denials drive the rate",
                      ["Eligibility", "Authorisation", "Coding", "Other"], {"Denied claims": [120, 80, 30, 12]},
                      unit="count", y_label="Claims"),
                chart("performance.days_to_pay", "line", "Days to pay rose in the last two quarters",
                      ["Q1", "Q2", "Q3", "Q4"], {"This payer": [16.2, 17.0, 18.9, 19.4], "All payers": [15, 15.2, 15.1, 15.3]},
                      unit="days", y_label="Days")])
    value = ValueStory(title="Value story", headline="Quality beats the payer's targets on 4 of 5 measures",
                       figures=[fig("quality_measures_met", "Measures at target", 4, "count")],
                       charts=[chart("value.quality", "line", "HbA1c control is above target and rising",
                                     ["2024", "2025", "2026"], {"Us": [71, 74, 77], "Target": [70, 70, 72]},
                                     unit="percent", y_label="Percent", role_1="target")])
    v0 = valuations[0] if valuations else None
    zopa = Zopa(current=fig("zopa_current", "Current", D("4812345.67"), "dollars"),
                walk_away=fig("walk_away", "Walk-away", D("4908592.58"), "dollars"),
                payer_max=fig("payer_max", "Payer maximum", D("5250000.00"), "dollars"),
                opening_offer=fig("opening_offer", "Opening offer", D("5181000.00"), "dollars"),
                batna=fig("batna", "BATNA", D("4400000.00"), "dollars"), exists=True,
                note="walk-away below the payer maximum: a zone of agreement exists")
    scen = Scenarios(
        title="Scenarios",
        headline=(f"'{v0.proposal}' adds {v0.revenue_change_total} over {len(v0.years)} years" if v0 else "No proposals yet"),
        valuations=valuations, zopa=zopa,
        exit_cases=[ExitCaseRow(case="base", revenue_at_risk_total=D("-2400000"), net_change_total=D("-1700000"),
                                net_change_by_year=[D("-500000"), D("-600000"), D("-600000")])],
        probability_owing=D("0.23"),
        figures=[fig("probability_owing", "Probability of owing", D("0.23"), "fraction")],
        charts=[chart("scenarios.zopa", "range", "A zone of agreement exists between +2% and +9%",
                      ["Zone"], {"low": [4908592.58], "high": [5250000.00]}, role_0="low", role_1="high",
                      x_label="Annual revenue"),
                chart("scenarios.vbc", "histogram", "23% chance of owing money under shared risk",
                      ["-100000", "-50000", "0", "50000", "100000"], {"Share of draws": [5, 18, 30, 32, 15]},
                      x_label="Net settlement ($)", y_label="Share of draws")])
    play = Playbook(
        title="Playbook", headline="Lead with underpayments and quality; expect 'your rates are already at market'",
        objections=[Objection(objection="Your rates are already at market.",
                              counterpoint="We are at 92% of the market median on our top 20 codes.", complete=True)],
        issues=["Pinned PFS year", "Prior authorisation on MRI"],
        rubric=Rubric(name="Default rubric", total=D("58"), decision="negotiate", accept_at=D("75"), negotiate_at=D("50"),
                      criteria=[CriterionRow(label="Rate vs Medicare", weight=D("0.3"), value=D("118.4"), score=D("55"),
                                             points=D("16.5"), explanation="118% of Medicare scores 55")],
                      explanation="58 of 100: negotiate (accept at 75)"))
    method = MethodNotes(title="Method notes", headline="Figures come from 12 months of repriced remits",
                         definitions=[Definition(term="Payment accuracy", definition="Allowed dollars paid correctly / priced dollars")],
                         sources=[DataSource(name="835 remits", description="Electronic remittance advice", period="Jul 2025 - Jun 2026")],
                         exclusions=["Reversed claims"], assumptions=["Volume grows 1% a year"])
    return Brief(payer=payer, organization="Riverside Medical Group (synthetic)", title=f"Negotiation brief: {payer}",
                 subtitle="Commercial PPO - contract renewal 2027", contracts=["knh-ppo"], product_lines=["Commercial PPO"],
                 as_of=dt.date(2026, 7, 1), base_period=(dt.date(2025, 7, 1), dt.date(2026, 6, 30)),
                 generated_at=dt.datetime(2026, 7, 1, 9, 0), summary=summary, inventory=inventory, performance=perf,
                 value=value, scenarios=scen, playbook=play, method=method,
                 headline_figures=summary.figures[:4])


NO_REMITS = "No remittances yet for this payer: performance figures are not available"


def bare_brief(payer: str = "NEW PAYER") -> Brief:
    """A payer with a contract but no remits, no quality data and no benchmarks."""
    none = "no remittances yet"
    summary = ExecutiveSummary(
        title="Executive summary", headline=f"{payer}: no remittances yet, so the position rests on the contract alone",
        figures=[fig("current_revenue", "Annual revenue", None, "dollars", missing=none),
                 fig("percent_of_medicare", "Rate level", None, "percent_of_medicare", missing=none)],
        missing=[NO_REMITS, "No market benchmarks loaded: market position is not available"])
    return Brief(payer=payer, organization="Test Group", title=f"Negotiation brief: {payer}", subtitle="",
                 contracts=[], product_lines=[], as_of=dt.date(2026, 7, 1), base_period=None,
                 generated_at=dt.datetime(2026, 7, 1, 9, 0), summary=summary,
                 inventory=ContractInventory(title="Contract inventory", headline="No contract on file",
                                             missing=["No contract for this payer in the workspace"]),
                 performance=Performance(title="Performance", headline="Performance cannot be measured yet", missing=[NO_REMITS]),
                 value=ValueStory(title="Value story", headline="No quality data yet", missing=["No quality data loaded"]),
                 scenarios=Scenarios(title="Scenarios", headline="No proposals valued yet",
                                     missing=["No proposals: give proposals in the strategy inputs"]),
                 playbook=Playbook(title="Playbook", headline="Playbook pending data", missing=["No rubric score without figures"]),
                 method=MethodNotes(title="Method notes", headline="What this brief rests on", missing=[]),
                 headline_figures=summary.figures)


# --------------------------------------------------------------------------- a small priced workspace

CONTRACT = """\
contract_id: OFF-PPO
payer: {name: OFFICE PLAN, payer_ids: [OP1]}
product_lines: [Commercial PPO]
claim_filing_indicators: ["12"]
effective: 2025-01-01
renewal: {type: evergreen}
escalator: {amount: 2.5, unit: percent, anniversary: "01-01"}
professional:
  methodology:
    method: fee_schedule
    rates:
CODES
  lesser_of_billed: false
"""
RATES = {"99213": "97.13", "99214": "141.57", "99215": "199.99", "99203": "111.11", "36415": "3.33",
         "80053": "13.07", "93000": "17.71", "20610": "63.49"}


def office_workspace(ws):
    """OFFICE PLAN: 8 codes, 60 claims in 2025 (odd rates and units, so cents and half cents occur)."""
    import pyarrow as pa

    from parley.services.reprice import reprice
    from parley.store.datasets import FileCommit, now_utc
    from parley.store.tables import schema

    rows = "\n".join(f'      - {{code: "{c}", amount: {a}}}' for c, a in RATES.items())
    (ws.contracts_dir / "office.yaml").write_text(CONTRACT.replace("CODES", rows))
    codes = list(RATES)
    claims, lines = [], []
    for i in range(60):
        day = dt.date(2025, 1, 6) + dt.timedelta(days=(i * 5) % 350)
        claims.append({"claim_seq": i, "claim_id": f"OC{i:03d}", "status_code": "4" if i % 17 == 5 else "1",
                       "payer_id": "OP1", "filing_indicator": "12", "payment_date": day + dt.timedelta(days=21),
                       "service_date_from": day, "is_reversal": False})
        for j in range(1 + i % 3):
            code = codes[(i * 3 + j * 5) % len(codes)]
            units = D(1 + (i + j) % 4) if code in ("36415", "80053") else D(1)
            allowed = (D(RATES[code]) * units).quantize(D("0.01"))
            lines.append({"claim_seq": i, "line_seq": len(lines), "line_number": j + 1, "procedure_qualifier": "HC",
                          "procedure_code": code, "charge_amount": D("900.00"), "paid_amount": allowed, "units": units,
                          "allowed_amount": allowed if i % 17 != 5 else D(0), "service_date_from": day})
    commit = FileCommit(ws.datasets, "f" * 16)
    for name, data in (("remit_claims", claims), ("remit_lines", lines)):
        sch = schema(name)
        commit.write(name, pa.table({f.name: pa.array([r.get(f.name) for r in data], f.type) for f in sch}))
    commit.commit({"sha256": "f" * 64, "source_path": "office.835", "source_bytes": 1, "format": "x12-835",
                   "version": "005010X221A1", "status": "loaded", "ingested_at": now_utc(), "problem_count": 0,
                   "error_count": 0, "elapsed_seconds": 0.0})
    reprice(workspace=ws)
    return ws


def office_valuations(ws) -> list[Valuation]:
    from parley.domain.scenarios import Proposal, Targeted
    from parley.services.strategy import value_scenarios

    props = [Proposal(name="3.7% across the board", payer="OP1", years=3, across_the_board_percent=D("3.7"),
                      escalators_percent=[D("2.5"), D(2)], volume_trend_percent=D("3.3"), discount_rate_percent=D(6)),
             Proposal(name="6% on the top 3 codes", payer="OP1", years=2,
                      targeted=[Targeted(top_n_by_revenue=3, percent=D(6))], volume_trend_percent=D("1.5")),
             Proposal(name="no change", payer="OP1", years=3)]
    return value_scenarios(workspace=ws, proposals=props)
