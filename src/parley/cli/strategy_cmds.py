"""`parley scenario`, `parley vbc`, `parley score`, `parley objections`, `parley strategy`:
thin faces over :mod:`parley.services.strategy`."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

import typer

from parley.cli import output
from parley.errors import InputError

scenario_app = typer.Typer(help="Rate proposals valued on your own history with the repricing engine.", no_args_is_help=True)
vbc_app = typer.Typer(help="Value-based terms: cash flow and Monte Carlo sensitivity.", no_args_is_help=True)

WorkspaceOpt = Annotated[
    Path | None, typer.Option("--workspace", "-w", help="workspace folder (env PARLEY_WORKSPACE)", show_default=False)
]
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable JSON on stdout")]
BaseMonths = Annotated[int, typer.Option(help="months of history used as the volume")]


def register(app: typer.Typer) -> None:
    app.add_typer(scenario_app, name="scenario")
    app.add_typer(vbc_app, name="vbc")
    app.command("score")(score)
    app.command("objections")(objections)
    app.command("strategy")(strategy)


def _ws(workspace: Path | None) -> Any:
    from parley.store.workspace import open_workspace

    return open_workspace(workspace)


@scenario_app.command("compare")
def compare(
    proposals: Annotated[list[Path], typer.Argument(help="proposal YAML files (see examples/proposals/)")],
    base_months: BaseMonths = 12,
    workspace: WorkspaceOpt = None,
    json: JsonOpt = False,
) -> None:
    """Value proposals side by side: revenue, payer cost, change vs current terms, NPV, every contract year."""
    from parley.services.strategy import compare_rows, load_proposal, value_scenarios

    ws = _ws(workspace)
    vals = value_scenarios(workspace=ws, proposals=[load_proposal(p) for p in proposals], base_months=base_months)
    if json:
        output.print_json({"scenarios": [v.model_dump(mode="json") for v in vals], "compare": compare_rows(vals)})
        return
    for v in vals:
        rows = [{"year": y.year, "from": y.start, "to": y.end, "volume x": y.volume_factor, "revenue current": y.revenue_current,
                 "revenue proposal": y.revenue_proposal, "change": y.revenue_change, "payer cost change": y.payer_cost_change,
                 "not priceable": y.not_priceable_lines} for y in v.years]
        output.print_table(rows, title=f"{v.proposal} - {v.payer} ({', '.join(v.contracts)})")
    rows = compare_rows(vals)
    metrics = [k for k in rows[0] if k not in ("proposal", "payer")] if rows else []
    side: list[dict[str, Any]] = [{"": m.replace("_", " "), **{str(r["proposal"]): Decimal(str(r[m])) for r in rows}}
                                  for m in metrics]
    output.print_table(side, title="side by side")
    output.console.print("\n".join(vals[0].derivation) if vals else "")


@scenario_app.command("check")
def check(payer: Annotated[str, typer.Argument(help="payer name, payer id or contract id")], base_months: BaseMonths = 12,
          workspace: WorkspaceOpt = None, json: JsonOpt = False) -> None:
    """'No change' check: the scenario path reproduces the repricing engine's totals."""
    from parley.services.strategy import reconcile

    res = reconcile(workspace=_ws(workspace), payer=payer, base_months=base_months)
    output.print_json(res) if json else output.print_pairs(res, title="scenario engine vs repriced dataset")


@vbc_app.command("simulate")
def simulate(
    spec: Annotated[Path, typer.Argument(help="YAML: terms, population, uncertainty (see docs/strategy.md)")],
    draws: Annotated[int | None, typer.Option(help="Monte Carlo draws")] = None,
    seed: Annotated[int | None, typer.Option(help="random seed (same seed, same result)")] = None,
    years: Annotated[int | None, typer.Option(help="contract years")] = None,
    json: JsonOpt = False,
) -> None:
    """Expected cash flow per year and its distribution (probability of owing, 5th-percentile year)."""
    from parley.domain.value_based import build, year_cash_flow
    from parley.engine import montecarlo as mc
    from parley.services.strategy import VbcSpec, read_yaml

    s: VbcSpec = build(VbcSpec, read_yaml(spec, what="value-based spec"), what=str(spec))  # type: ignore[assignment]
    terms, pop = s.terms, s.population
    if terms is None or pop is None:
        raise InputError(f"{spec}: give both terms and population")
    upd = {k: v for k, v in {"draws": draws, "seed": seed, "years": years}.items() if v is not None}
    s = s.model_copy(update=upd)
    expected = year_cash_flow(terms, pop)
    sim = mc.run(terms, pop, s.uncertainty, years=s.years, draws=s.draws, seed=s.seed)
    if json:
        output.print_json({"expected_year_1": expected.model_dump(mode="json"), "simulation": sim})
        return
    output.print_pairs(expected.model_dump(exclude={"derivation"}), title="expected cash flow, year 1 (exact)")
    output.console.print("\n".join(expected.derivation))
    for name, res in sim.items():
        output.print_table(res["per_year"], title=f"{name}: {res['draws']} draws, seed {res['seed']} ({res['note']})")
        output.console.print(f"probability of owing money in some year: {res['probability_owing_any_year']:.1%}; "
                             f"worst 5th-percentile year: year {res['worst_p5_year']['year']} ${res['worst_p5_year']['p5']}")


def _entries(items: list[str] | None) -> dict[str, Decimal]:
    out = {}
    for it in items or []:
        key, _, val = it.partition("=")
        try:
            out[key.strip()] = Decimal(val)
        except InvalidOperation:
            raise InputError(f"--set {it!r}: expected criterion=score (0-100)") from None
    return out


def score(
    payer: Annotated[str, typer.Argument(help="payer name, payer id or contract id")],
    proposal: Annotated[Path | None, typer.Option(help="score a proposal (YAML) instead of the current terms")] = None,
    rubric: Annotated[Path | None, typer.Option(help="rubric YAML (default: the shipped rubric)")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="a user entry: criterion=score (0-100)")] = None,
    workspace: WorkspaceOpt = None,
    json: JsonOpt = False,
) -> None:
    """Score a contract or a proposal with the rubric; every point explained."""
    from parley.services.strategy import score_payer

    card = score_payer(workspace=_ws(workspace), payer=payer, proposal_path=proposal, rubric_path=rubric, entries=_entries(set_))
    if json:
        output.print_json(card.model_dump(mode="json"))
        return
    output.print_table([{"criterion": c.label, "weight": c.weight, "score": c.score, "points": c.points,
                         "how": c.explanation} for c in card.criteria], title=f"{card.rubric}: {card.subject}")
    output.console.print(f"[bold]{card.decision.upper()}[/bold] - {card.explanation}")


def objections(
    payer: Annotated[str, typer.Argument(help="payer name, payer id or contract id")],
    inputs: Annotated[Path | None, typer.Option(help="strategy inputs YAML")] = None,
    workspace: WorkspaceOpt = None,
    json: JsonOpt = False,
) -> None:
    """Anticipated payer objections with counterpoints computed from the workspace."""
    from parley.services.strategy import objections_for

    answers = objections_for(workspace=_ws(workspace), payer=payer, inputs_path=inputs)
    if json:
        output.print_json([a.model_dump(mode="json") for a in answers])
        return
    for a in answers:
        output.console.print(f"[bold]{a.objection}[/bold]\n  {a.counterpoint}\n")


def strategy(
    payer: Annotated[str, typer.Argument(help="payer name, payer id or contract id")],
    inputs: Annotated[Path | None, typer.Option(help="strategy inputs YAML (costs, BATNA, proposals, exit, VBC)")] = None,
    product_line: Annotated[list[str] | None, typer.Option(help="limit to product lines")] = None,
    workspace: WorkspaceOpt = None,
    json: JsonOpt = False,
) -> None:
    """Scenarios, walk-away / ZOPA / opening offer, exit impact, value-based risk, score and objections."""
    from parley.services.strategy import strategy as run

    res = run(workspace=_ws(workspace), payer=payer, inputs_path=inputs, product_lines=product_line)
    if json:
        output.print_json(res.model_dump(mode="json"))
        return
    _render(res)


def _render(res: Any) -> None:
    output.console.print(f"[bold]{res.payer}[/bold] - {', '.join(res.contracts)} ({', '.join(res.product_lines)}), "
                         f"history {res.base_period[0]} .. {res.base_period[1]}")
    output.print_table([{"figure": k, "value": v["value"], "derivation": v["derivation"]} for k, v in res.figures.items()],
                       title="figures")
    for v in res.scenarios:
        output.print_pairs({"change (all years)": v.revenue_change_total, "NPV of change": v.npv_revenue_change},
                           title=f"scenario: {v.proposal}")
    n = res.negotiation
    if n is not None:
        output.print_table([{"figure": f.name, "value": f.value, "derivation": f.derivation}
                            for f in (n.walk_away, n.walk_away_percent_of_medicare, n.payer_max, n.opening_offer,
                                      n.opening_offer_percent_of_medicare)], title="walk-away, ZOPA, opening offer")
        output.console.print(n.zopa_note)
    if res.negotiation_note:
        output.console.print(f"[yellow]{res.negotiation_note}[/yellow]")
    output.print_table([{"case": k, "net change (all years)": c["net_change_total"], "revenue at risk": c["revenue_at_risk_total"]}
                        for k, c in res.exit["cases"].items()], title="payer exit")
    if res.value_based and "simulation" in res.value_based:
        for name, sim in res.value_based["simulation"].items():
            output.console.print(f"value-based ({name}): P(owing in some year) {sim['probability_owing_any_year']:.1%}, "
                                 f"worst 5th-percentile year {sim['worst_p5_year']['year']} ${sim['worst_p5_year']['p5']}")
    c = res.scorecard
    output.console.print(f"score {c.total} -> [bold]{c.decision.upper()}[/bold]")
    for a in res.objections:
        output.console.print(f"[bold]{a.objection}[/bold] {a.counterpoint}")
    for a in res.assumptions:
        output.console.print(f"[dim]assumption: {a}[/dim]")
