"""`parley strategy` end to end on a tiny hand-built workspace (and the CLI faces)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal as D
from pathlib import Path

import pytest

from parley.errors import InputError

pytestmark = pytest.mark.slow

GOLD = """\
contract_id: GOLD
payer: {name: GOLD PLAN, payer_ids: [GP1]}
product_lines: [Commercial PPO]
claim_filing_indicators: ["12"]
effective: 2025-01-01
renewal: {type: evergreen}
prior_authorization_codes: ["99214"]
professional:
  methodology:
    method: fee_schedule
    rates: [{code: "99213", amount: 100.00}, {code: "99214", amount: 150.00}]
  lesser_of_billed: false
value_based:
  - {kind: shared_savings, benchmark_pmpm: 500.00, minimum_savings_rate_percent: 2, sharing_rate_percent: 50}
  - {kind: downside_risk, minimum_loss_rate_percent: 2, loss_rate_percent: 40, cap_percent: 5}
"""

INPUTS = """\
proposals: [p.yaml]
negotiation: {cost_to_serve: 380, required_margin: 0.05, batna_value: 300, payer_max_revenue: 600}
exit:
  admin_cost_saved: 10
  exit_date: 2025-07-01
  cases:
    base: {retained_share: 0.5, retained_payment_ratio: 0.8}
value_based:
  population: {member_months: 1200, benchmark_pmpm: 500, actual_pmpm: 505, ffs_revenue: 450}
  draws: 2000
scores: {relationship: 80}
figures: {network_uniqueness: "Only cardiology group in the county."}
"""


def _commit(ws, file_id: str, tables: dict[str, list[dict]]) -> None:
    import pyarrow as pa

    from parley.store.datasets import FileCommit, now_utc
    from parley.store.tables import schema

    commit = FileCommit(ws.datasets, file_id)
    for name, rows in tables.items():
        sch = schema(name)
        commit.write(name, pa.table({f.name: pa.array([r.get(f.name) for r in rows], f.type) for f in sch}))
    commit.commit({"sha256": file_id * 4, "source_path": f"{file_id}.835", "source_bytes": 1, "format": "x12-835",
                   "version": "005010X221A1", "status": "loaded", "ingested_at": now_utc(), "problem_count": 0,
                   "error_count": 0, "elapsed_seconds": 0.0})


@pytest.fixture
def gold(workspace, tmp_path: Path):
    from parley.services.reprice import reprice

    ws = workspace
    (ws.contracts_dir / "gold.yaml").write_text(GOLD)

    def claim(seq: int, cid: str, day: dt.date, status: str = "1") -> dict:
        return {"claim_seq": seq, "claim_id": cid, "status_code": status, "payer_id": "GP1", "filing_indicator": "12",
                "payment_date": day + dt.timedelta(days=20), "service_date_from": day, "is_reversal": False,
                "patient_key": f"pk{seq % 2}"}

    def ln(seq: int, claim_seq: int, code: str, allowed: str, day: dt.date, units: str = "1") -> dict:
        return {"claim_seq": claim_seq, "line_seq": seq, "line_number": seq + 1, "procedure_qualifier": "HC",
                "procedure_code": code, "charge_amount": D("500.00"), "paid_amount": D(allowed), "units": D(units),
                "allowed_amount": D(allowed), "service_date_from": day}

    d1, d2, d3 = dt.date(2025, 3, 3), dt.date(2025, 5, 5), dt.date(2025, 6, 10)
    _commit(ws, "b" * 16, {
        "remit_claims": [claim(0, "C1", d1), claim(1, "C2", d2), claim(2, "C3", d3, status="4")],
        "remit_lines": [ln(0, 0, "99213", "100.00", d1), ln(1, 0, "99214", "150.00", d1),
                        ln(2, 1, "99213", "200.00", d2, units="2"), ln(3, 2, "99214", "0", d3)],
    })
    reprice(workspace=ws)
    (tmp_path / "p.yaml").write_text("name: ten\npayer: GP1\nyears: 2\nacross_the_board_percent: 10\n")
    (tmp_path / "inputs.yaml").write_text(INPUTS)
    return ws, tmp_path


def test_strategy_brings_it_together(gold) -> None:
    from parley.services.strategy import strategy

    ws, folder = gold
    r = strategy(workspace=ws, payer="GOLD PLAN", inputs_path=folder / "inputs.yaml")
    f = r.figures
    assert f["current_revenue"]["value"] == "450.00" and f["lines"]["value"] == 3
    assert f["denial_rate_claims"]["value"] == "0.3333"  # 1 of 3 claims denied
    assert f["patients"]["value"] == 2 and f["prior_auth_lines"]["value"] == 2  # both 99214 lines, denied one included
    assert r.reconciliation["equal"]
    # ten percent across the board: 450 -> 495 a year, change 45
    assert r.scenarios[0].years[0].revenue_change == D("45.00")
    assert f["revenue_change_percent"]["value"] == "10.00"
    # walk-away max(380 x 1.05 = 399, BATNA 300) = 399; ZOPA 399..600; opening 399 + 0.8 x 201 = 559.80
    n = r.negotiation
    assert n is not None and n.walk_away.value == D("399.00") and n.zopa == (D("399.00"), D(600))
    assert n.opening_offer.value == D("559.80")
    assert set(r.exit["cases"]) == {"base"}
    sim = r.value_based["simulation"]
    assert set(sim) == {"terms", "zero_downside_network"} and sim["zero_downside_network"]["probability_owing_any_year"] == 0
    assert r.scorecard.decision in {"accept", "negotiate", "decline"}
    assert next(c for c in r.scorecard.criteria if c.id == "relationship").score == D(80)
    members = next(a for a in r.objections if a.id == "network_unique_services")
    assert members.complete and "Only cardiology group" in members.counterpoint
    json.dumps(r.model_dump(mode="json"))


def test_cli_faces(gold) -> None:
    from typer.testing import CliRunner

    from parley.cli.app import app

    ws, folder = gold
    runner = CliRunner()
    res = runner.invoke(app, ["scenario", "compare", str(folder / "p.yaml"), "-w", str(ws.root), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["compare"][0]["change"] == "90.00"
    res = runner.invoke(app, ["strategy", "GP1", "--inputs", str(folder / "inputs.yaml"), "-w", str(ws.root), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["negotiation"]["walk_away"]["value"] == "399.00"
    res = runner.invoke(app, ["score", "GP1", "--set", "relationship=50", "-w", str(ws.root), "--json"])
    assert res.exit_code == 0, res.output
    (folder / "bad.yaml").write_text("name: r\nthresholds: {accept: 70, negotiate: 40}\ncriteria:\n"
                                     "  - {id: a, label: a, weight: 0.7, rule: entry}\n")
    res = runner.invoke(app, ["score", "GP1", "--rubric", str(folder / "bad.yaml"), "-w", str(ws.root)])
    assert res.exit_code != 0


def test_walk_away_above_opening_is_refused(gold) -> None:
    from parley.services.strategy import strategy

    ws, folder = gold
    (folder / "i2.yaml").write_text("negotiation: {cost_to_serve: 500, payer_max_revenue: 900, opening_offer_revenue: 450}\n")
    with pytest.raises(InputError, match="opening_offer_revenue"):
        strategy(workspace=ws, payer="GP1", inputs_path=folder / "i2.yaml")
    (folder / "i3.yaml").write_text("negotiation: {cost_to_serve: -5}\n")
    with pytest.raises(InputError, match="cost_to_serve"):
        strategy(workspace=ws, payer="GP1", inputs_path=folder / "i3.yaml")


@pytest.fixture
def hospital(workspace, tmp_path: Path):
    """The facility workspace of test_reprice_facility: 4 facility claims (DRG, per diem, percent of charges)
    and one professional claim of a payer whose contract has facility terms."""
    from tests.services.test_reprice_facility import CONTRACT, WEIGHTS, _claims

    from parley.services.reprice import reprice

    (workspace.contracts_dir / "hosp.yaml").write_text(CONTRACT)
    (workspace.contracts_dir / "drg-weights.csv").write_text(WEIGHTS)
    _claims(workspace)
    reprice(workspace=workspace)
    (tmp_path / "p.yaml").write_text("name: ten\npayer: HP1\nyears: 1\nacross_the_board_percent: 10\n")
    (tmp_path / "inputs.yaml").write_text("proposals: [p.yaml]\n")
    return workspace, tmp_path


def test_strategy_with_facility_contract(hospital) -> None:
    from parley.services.strategy import reconcile, strategy

    ws, folder = hospital
    rec = reconcile(workspace=ws, payer="HOSPITAL PLAN")
    # facility claims go through the facility engine: 56026.25 (DRG 470 + carve-out + outlier) + 1100 (55% of
    # charges) + 37650 (DRG 469 billed) + 16800 (ICU per diem x 4 days); the professional line 50% of $100
    facility = D("56026.25") + D("1100.00") + D("37650.00") + D("16800.00")
    assert rec["facility_claims"] == 4 and D(rec["engine_facility"]) == facility == D(rec["repriced_dataset_facility"])
    assert D(rec["engine_professional"]) == D("50.00")
    assert rec["equal"] and D(rec["engine_total"]) == D(rec["repriced_dataset_total"]) == facility + D("50.00")
    r = strategy(workspace=ws, payer="HOSPITAL PLAN", inputs_path=folder / "inputs.yaml")
    f = r.figures
    assert D(f["current_revenue"]["value"]) == facility + D("50.00")  # facility dollars are in the base revenue
    assert f["facility_claims"]["value"] == 4 and D(f["facility_revenue"]["value"]) == facility
    # proposals value the professional lines only, and say so; no facility claim counts as "not priceable"
    y1 = r.scenarios[0].years[0]
    assert y1.revenue_current == D("50.00") and y1.revenue_change == D("5.00") and y1.not_priceable_lines == 0
    assert any("facility claims" in a and "professional lines only" in a for a in r.assumptions)
