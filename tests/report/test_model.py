"""The brief's report model: built from the workspace, figures equal to what the CLI prints, and a payer
with no remits / no quality data / no benchmarks still gives a brief that says what is missing."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal as D

import pytest

from parley.report.model import Brief, display, money, short

PAYER = "KEYSTONE NATIONAL HEALTH"
NEW_PAYER = "NEWCO HEALTH PLAN"

pytestmark = pytest.mark.slow


def _cli_json(capsys: pytest.CaptureFixture[str], *args: str) -> object:
    from parley.cli.app import main

    with pytest.raises(SystemExit) as info:
        main(list(args))
    out, _ = capsys.readouterr()
    assert int(info.value.code or 0) == 0, out
    return json.loads(out)


def test_formatting() -> None:
    assert money(D("1234567")) == "$1.2M"
    assert money(D("845123")) == "$845K"
    assert money(D("-2500")) == "-$2,500"
    assert display(D("142.3"), "percent_of_medicare") == "142% of Medicare"
    assert display(D("18.43"), "days") == "18.4 days"
    assert display(D("0.1234"), "fraction") == "12.3%"
    assert display(dt.date(2026, 10, 2), "date") == "02 Oct 2026"
    assert short(D("142.3"), "percent_of_medicare") == "142%"
    assert display(None, "dollars") == "n/a"


def test_model_sections_and_charts(demo_brief: Brief) -> None:
    b = demo_brief
    assert [s.id for s in b.sections()] == ["summary", "inventory", "performance", "value", "scenarios", "playbook", "method"]
    for s in b.sections():
        assert s.headline and len(s.headline) < 200, s.id
    keys = [c.key for c in b.charts()]
    assert len(keys) == len(set(keys)) >= 8
    for c in b.charts():
        assert c.x_label or c.y_label, c.key
        assert c.source and c.alt
    assert b.summary.decision in ("accept", "negotiate", "decline")
    assert {f.key for f in b.summary.key_dates} == {"expires", "notice_deadline", "renegotiation_start"}
    # the model is frozen and serialises to JSON (parley brief --json, the web face)
    text = b.model_dump_json()
    assert Brief.model_validate_json(text).model_dump_json() == text
    with pytest.raises(ValueError):
        b.summary.headline = "x"  # type: ignore[misc]


def test_key_dates_follow_the_contract(demo_brief: Brief) -> None:
    dates = {f.key: f.value for f in demo_brief.summary.key_dates}
    card = min((c for c in demo_brief.inventory.contracts if c.notice_deadline), key=lambda c: c.notice_deadline)
    assert dates["notice_deadline"] == dates["expires"] - dt.timedelta(days=card.termination_notice_days)
    months_before = (dates["expires"].year - dates["renegotiation_start"].year) * 12 + dates["expires"].month - dates["renegotiation_start"].month
    assert months_before == 9


def test_scenarios_carry_engine_valuations(demo_brief: Brief) -> None:
    sc = demo_brief.scenarios
    assert len(sc.valuations) == 2 and any("illustrative" in m for m in sc.missing)
    table = next(t for t in sc.tables if t.key == "scenarios.proposals")
    for row, v in zip(table.rows, sc.valuations, strict=True):
        assert row[0] == v.proposal and row[-3] == v.revenue_change_total
        assert sum(y.revenue_change for y in v.years) == v.revenue_change_total


def test_figures_equal_cli(demo_brief: Brief, demo_ws, capsys: pytest.CaptureFixture[str]) -> None:
    """Every headline figure equals what `parley strategy --json` and `parley kpi ... --json` print."""
    ws = str(demo_ws.root)
    strat = _cli_json(capsys, "strategy", PAYER, "-w", ws, "--json")
    figs = {k: v["value"] for k, v in strat["figures"].items()}  # type: ignore[index]
    summary = {f.key: f for f in demo_brief.summary.figures}
    for key in ("current_revenue", "percent_of_medicare"):
        assert summary[key].value == D(figs[key]), key
    perf = {f.key: f for f in demo_brief.performance.figures}
    for key in ("payment_accuracy_percent", "underpayment_dollars"):
        assert perf[key].value == D(figs[key]), key
    assert demo_brief.summary.decision == strat["scorecard"]["decision"]  # type: ignore[index]
    assert demo_brief.playbook.rubric is not None
    assert demo_brief.playbook.rubric.total == D(str(strat["scorecard"]["total"]))  # type: ignore[index]
    neg = strat["negotiation"]  # type: ignore[index]
    assert demo_brief.scenarios.zopa is not None
    assert demo_brief.scenarios.zopa.walk_away.value == D(neg["walk_away"]["value"])

    denials = _cli_json(capsys, "kpi", "denials", "-w", ws, "--json")
    row = next(r for r in denials[0]["rows"] if r["payer"] == PAYER)  # type: ignore[index]
    assert perf["initial_denial_rate"].value == (D(str(row["initial_denial_rate"])) * 100).quantize(D("0.01"))
    speed = _cli_json(capsys, "kpi", "speed", "-w", ws, "--json")
    row = next(r for r in speed[0]["rows"] if r["payer"] == PAYER)  # type: ignore[index]
    assert perf["median_days_to_pay"].value == D(str(row["median_days_to_pay"]))
    card = _cli_json(capsys, "kpi", "scorecard", "-w", ws, "--json")
    rows = {r["payer"]: r for r in card[0]["rows"]}  # type: ignore[index]
    table = next(t for t in demo_brief.performance.tables if t.key == "performance.scorecard")
    hl = table.rows[table.highlight_rows[0]]
    assert hl[6] == D(str(rows[PAYER]["value_score"])) and hl[1] == D(str(rows[PAYER]["percent_of_medicare"]))


def test_payer_without_remits_quality_or_benchmarks(bare_brief: Brief) -> None:
    b = bare_brief
    assert b.payer == NEW_PAYER and b.base_period is None
    assert any("No remittances yet" in m for m in b.performance.missing)
    assert any("No quality data" in m for m in b.value.missing)
    assert any("market" in m.lower() for m in b.summary.missing)
    assert all(f.value is None and f.missing for f in b.performance.figures)
    assert not any(f.value == 0 for f in b.summary.figures if f.unit != "date")
    assert b.inventory.contracts and b.summary.key_dates[0].value is not None


def test_unknown_payer_is_an_input_error(demo_ws) -> None:
    from parley.errors import InputError
    from parley.services.brief import build_brief

    with pytest.raises(InputError, match="no contract matches"):
        build_brief(workspace=demo_ws, payer="NO SUCH PAYER")
