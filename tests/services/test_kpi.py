"""The KPI service and its CLI face on the hand-checkable fixture (tests/engine/kpi/conftest.py)."""

from __future__ import annotations

import csv
import importlib.util
import json
from pathlib import Path

import pytest

from parley.cli.app import main
from parley.engine.kpi import scorecard
from parley.errors import InputError
from parley.services import kpi

_spec = importlib.util.spec_from_file_location("kpi_fixture", Path(__file__).parents[1] / "engine" / "kpi" / "conftest.py")
assert _spec and _spec.loader
_fixture = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixture)


@pytest.fixture()
def ws(tmp_path: Path):
    return _fixture.build_tiny_workspace(tmp_path / "ws")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out, _ = capsys.readouterr()
    return int(exit_info.value.code or 0), out


def test_scorecard_exact_hassle(ws) -> None:
    (card,) = kpi.run(workspace=ws, family="scorecard")
    (row,) = card.rows
    assert row["payer"] == "PAYER ONE" and row["claims"] == 3
    assert row["initial_denial_rate"] == 0.5 and row["median_days_to_pay"] == 20 and row["late_share"] == 0.5
    # hassle = (30x100 + 25x(20-14)/46x100 + 15x100 + 20x100 + 10x100) / 100
    assert row["hassle_score"] == round((3000 + 25 * 6 / 46 * 100 + 1500 + 2000 + 1000) / 100, 1)
    assert "hassle_score" in card.definitions and "value_score" in card.definitions


def test_score_anchors() -> None:
    best = scorecard.score({"initial_denial_rate": 0, "median_days_to_pay": 10, "prior_auths_per_100_claims": 0,
                            "cost_to_collect": 0, "late_share": 0, "percent_of_medicare": 250, "payment_accuracy": 1.0,
                            "share_of_collected": 0.5})
    assert best["hassle_score"] == 0 and best["value_score"] == 100
    partial = scorecard.score({"percent_of_medicare": 140})  # only one value component: 50; no hassle
    assert partial["hassle_score"] is None and partial["value_score"] == 50


def test_unknown_family_and_dimension(ws) -> None:
    with pytest.raises(InputError):
        kpi.run(workspace=ws, family="nope")
    with pytest.raises(InputError):
        kpi.run(workspace=ws, family="denials", by="nope")


def test_operations_files_checked_and_used(ws, tmp_path: Path) -> None:
    bad = tmp_path / "a.csv"
    bad.write_text("appointment_id\n1\n")
    with pytest.raises(InputError):
        kpi.load_operations_file(workspace=ws, path=bad, kind="appointments")
    appts = tmp_path / "appointments.csv"
    appts.write_text(",".join(kpi.APPOINTMENT_COLUMNS) + "\n"
                     + "1,2025-01-01,1,pcp,P1,PAYER ONE,PPO,PT0,completed,new,office visit,11\n"
                     + "2,2025-01-01,1,pcp,P1,PAYER ONE,PPO,PT1,no-show,established,office visit,11\n"
                     + "3,2025-01-02,1,pcp,P1,PAYER ONE,PPO,PT1,completed,established,office visit,11\n"
                     + "4,2025-01-03,1,pcp,P1,PAYER ONE,PPO,PT1,cancelled,established,office visit,11\n")
    assert kpi.load_operations_file(workspace=ws, path=appts, kind="appointments")["rows"] == 4
    visits, em, referrals = kpi.run(workspace=ws, family="operations")
    (row,) = visits.rows
    assert row["completed_visits"] == 2 and row["no_shows"] == 1 and row["no_show_rate"] == round(1 / 3, 4)
    assert row["new_patient_share"] == 0.5 and row["billed_visits"] == 2 and row["billed_to_completed"] == 1.0
    assert referrals.rows == [{"payer": "PAYER ONE", "new_patient_visits": 1, "with_referral_source": 0,
                               "provider_referrals": 0, "referral_rate": None}]
    assert "ILLUSTRATIVE" in em.assumptions["em_benchmark"]
    assert kpi.load_operations_file(workspace=ws, path=appts, kind="appointments")["status"] == "duplicate"


def test_appointments_canonical_hashed_quarantined(ws, tmp_path: Path) -> None:
    """By header: bad rows quarantined with row and column, ids hashed, referral rate, re-ingest a no-op."""
    import pyarrow.parquet as pq

    from parley.services.ingest import ingest_paths

    appts = tmp_path / "sched.csv"
    appts.write_text("Appointment ID,Appointment Date,Payer Name,Patient ID,Status,Patient Type,Referral Source\n"
                     "A1,2025-01-01,PAYER ONE,MRN-0001,Completed,N,provider referral\n"
                     "A2,2025-01-02,PAYER ONE,MRN-0002,No Show,E,\n"
                     "A3,2025-13-45,PAYER ONE,MRN-0003,completed,new,self\n"
                     "A4,2025-01-03,PAYER ONE,MRN-0004,,new,self\n"
                     "A5,2025-01-03,PAYER ONE,MRN-0005,completed,new,self\n")
    report = ingest_paths(workspace=ws, paths=[str(appts)], workers=1).as_dict()
    (f,) = report["files"]
    assert f["format"] == "tabular-appointments" and f["status"] == "partial" and f["counts"] == {"appointments": 3}
    con = ws.connect()
    problems = con.execute('SELECT "row", "column", code, quarantined FROM problems ORDER BY 1').fetchall()
    assert problems == [(4, "Appointment Date", "tabular.bad_date", True), (5, "Status", "tabular.missing_value", True)]
    got = con.execute("SELECT appointment_id, status, patient_type, patient_key FROM appointments ORDER BY 1").fetchall()
    assert [g[:3] for g in got] == [("A1", "completed", "new"), ("A2", "no-show", "established"), ("A5", "completed", "new")]
    assert got[0][3] == ws.hasher().hash_one("MRN-0001")
    for part in (ws.datasets / "appointments").rglob("*.parquet"):
        assert b"MRN-000" not in part.read_bytes() and "MRN" not in str(pq.read_table(part).to_pydict())
    _visits, _em, referrals = kpi.run(workspace=ws, family="operations")
    (row,) = referrals.rows
    assert row["new_patient_visits"] == 2 and row["provider_referrals"] == 1 and row["referral_rate"] == 0.5
    again = ingest_paths(workspace=ws, paths=[str(appts)], workers=1).as_dict()
    assert again["files"][0]["status"] == "duplicate"


def test_quality_mapping_and_bad_rates(ws, tmp_path: Path) -> None:
    from parley.services.ingest import ingest_paths

    q = tmp_path / "measures.csv"
    q.write_text("Measure;Quarter;Rate;Target;Better\nREADM;2025Q1;15%;0,13;no\nREADM;2025Q2;1.5;0,13;no\n"
                 "READM;2025Q3;12 %;0,13;no\n")
    mapping = tmp_path / "q.yaml"
    mapping.write_text("kind: quality_measures\nformat: {delimiter: ';', decimal_comma: true}\n"
                       "columns: {measure_id: Measure, period: Quarter, rate: Rate, payer_target: Target, "
                       "higher_is_better: Better, scope: {value: ALL}}\n")
    (f,) = ingest_paths(workspace=ws, paths=[str(q)], mapping_path=mapping, workers=1).as_dict()["files"]
    assert f["format"] == "tabular-quality_measures" and f["counts"] == {"quality_measures": 2} and f["errors"] == 1
    (res,) = kpi.run(workspace=ws, family="quality")
    (row,) = res.rows
    assert row["latest_rate"] == 0.12 and row["trend"] == -0.03 and row["gap_to_target"] == 0.01


def test_quality_gaps(ws, tmp_path: Path) -> None:
    q = tmp_path / "q.csv"
    q.write_text(",".join(kpi.QUALITY_COLUMNS) + "\n"
                 + "READM,Readmissions,2025Q1,ALL,15,100,0.15,0.14,0.15,0.13,false\n"
                 + "READM,Readmissions,2025Q2,ALL,12,100,0.12,0.14,0.15,0.13,false\n")
    kpi.load_operations_file(workspace=ws, path=q, kind="quality")
    (res,) = kpi.run(workspace=ws, family="quality")
    (row,) = res.rows
    assert row["latest_rate"] == 0.12 and row["trend"] == -0.03
    assert row["gap_to_target"] == 0.01 and row["meets_target"] and row["gap_to_peer"] == 0.03


def test_cli_json_and_csv(ws, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "kpi", "denials", "-w", str(ws.root), "--json", "--csv", str(tmp_path / "d.csv"))
    assert code == 0
    tables = json.loads(out)
    assert tables[0]["metadata"]["definitions"]["initial_denial_rate"]
    assert tables[0]["rows"][0]["initial_denial_rate"] == 0.5
    with (tmp_path / "d.csv").open() as fh:
        assert next(csv.DictReader(fh))["initially_denied_claims"] == "1"
    code, out = run(capsys, "kpi", "scorecard", "-w", str(ws.root))
    assert code == 0 and "PAYER ONE" in out and "definitions" in out


def test_every_metric_is_documented(ws) -> None:
    docs = (Path(__file__).parents[2] / "docs" / "kpi.md").read_text()
    with kpi.KpiSession(workspace=ws) as s:
        results = [r for fam in kpi.FAMILIES for r in s.family(fam)] + [s.scorecard()]
    missing = [f"{r.name}.{k}" for r in results for k in r.definitions if f"| {k} |" not in docs]
    assert not missing, f"undocumented in docs/kpi.md: {missing}"


def test_cli_facts(ws, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "kpi", "facts", "-w", str(ws.root), "--json")
    info = json.loads(out)
    assert code == 0 and info["facts"] == "built" and info["rows"]["kpi_claims"] == 3
    code, out = run(capsys, "kpi", "facts", "-w", str(ws.root), "--json")
    assert json.loads(out)["facts"] == "reused"
