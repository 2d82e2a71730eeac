"""A/R leaves final denials and patient-responsibility claims out; persisted facts follow the workspace state."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq

from parley.engine.kpi import speed
from parley.services.kpi import KpiSession, facts_dir
from parley.store.tables import ALL_TABLES
from parley.store.workspace import Workspace

D, M = dt.date, Decimal


def _write(ws: Workspace, file_id: str, name: str, rows: list[dict]) -> None:
    schema = ALL_TABLES[name].schema
    table = pa.table({f.name: pa.array([file_id if f.name == "file_id" else r.get(f.name) for r in rows], type=f.type)
                      for f in schema}, schema=schema)
    out = ws.datasets / name / file_id
    out.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, out / "part-00000.parquet")


def _add_file_two(ws: Workspace) -> None:
    """D: submitted 2025-02-01, denied (CO-29) 2025-02-20, never paid -> a final denial.
    E: submitted 2025-02-01, adjudicated 2025-02-20 paying 0 with 50 patient responsibility -> settled."""
    claim = {"claim_type": "professional", "submission_date": D(2025, 2, 1), "place_of_service": "11", "payer_name": "PAYER ONE",
             "payer_id": "P1", "filing_indicator": "12", "service_date_from": D(2025, 2, 1), "frequency_code": "1", "line_count": 1}
    _write(ws, "F2", "claims", [{**claim, "claim_seq": 0, "claim_id": "D", "charge_amount": M("400"), "patient_key": "PT9"},
                                {**claim, "claim_seq": 1, "claim_id": "E", "charge_amount": M("50"), "patient_key": "PT8"}])
    _write(ws, "F2", "claim_lines", [{"claim_seq": i, "line_seq": i, "line_number": 1, "procedure_code": "99213",
                                      "charge_amount": M(c), "units": M("1"), "service_date_from": D(2025, 2, 1)}
                                     for i, c in ((0, "400"), (1, "50"))])
    _write(ws, "F2", "remittances", [{"remittance_seq": 0, "payer_id": "1999999999", "payer_name": "PAYER ONE",
                                      "payment_date": D(2025, 2, 20)}])
    rc = {"remittance_seq": 0, "is_reversal": False, "payer_id": "1999999999", "payment_date": D(2025, 2, 20), "filing_indicator": "12",
          "paid_amount": M("0")}
    _write(ws, "F2", "remit_claims", [
        {**rc, "claim_seq": 0, "claim_id": "D", "status_code": "4", "charge_amount": M("400"), "patient_responsibility": M("0")},
        {**rc, "claim_seq": 1, "claim_id": "E", "status_code": "1", "charge_amount": M("50"), "patient_responsibility": M("50")}])
    _write(ws, "F2", "remit_lines", [
        {"claim_seq": 0, "line_seq": 0, "line_number": 1, "procedure_code": "99213", "charge_amount": M("400"), "paid_amount": M("0"),
         "units": M("1"), "service_date_from": D(2025, 2, 1)},
        {"claim_seq": 1, "line_seq": 1, "line_number": 1, "procedure_code": "99213", "charge_amount": M("50"), "paid_amount": M("0"),
         "units": M("1"), "service_date_from": D(2025, 2, 1), "allowed_amount": M("50")}])
    _write(ws, "F2", "adjustments", [
        {"claim_seq": 0, "line_seq": 0, "level": "line", "group_code": "CO", "reason_code": "29", "amount": M("400")},
        {"claim_seq": 1, "line_seq": 1, "level": "line", "group_code": "PR", "reason_code": "1", "amount": M("50")}])
    _write(ws, "F2", "manifest", [{"sha256": "y", "source_path": "fixture-2", "status": "loaded"}])


def test_ar_excludes_final_denials_and_settled_claims(tiny_ws) -> None:
    _add_file_two(tiny_ws)
    with KpiSession(workspace=tiny_ws) as s:
        ar = speed.accounts_receivable(s.con).rows[0]
    # open: C (300, never adjudicated); D is a final denial (written off), E settled as patient responsibility
    assert ar["unpaid_claims"] == 1 and ar["outstanding_balance"] == M("300.00")
    assert ar["awaiting_adjudication_balance"] == M("300.00") and ar["denied_unpaid_balance"] == M("0.00")
    assert ar["final_denied_claims"] == 1 and ar["final_denied_balance"] == M("400.00")
    # charges of the 90 days ending 2025-03-02: A 100 + B 200 + C 300 + D 400 + E 50
    assert ar["average_daily_charges"] == round(1050 / 90, 2) and ar["days_in_ar"] == round(300 / round(1050 / 90, 2), 1)


def test_ar_as_of_before_the_overturn(tiny_ws) -> None:
    """B is denied on 2025-01-15 and paid on 2025-03-02: open A/R (a denial being worked) in between."""
    from parley.engine.kpi.base import KpiParams

    with KpiSession(workspace=tiny_ws, params=KpiParams(as_of=D(2025, 2, 1))) as s:
        ar = speed.accounts_receivable(s.con).rows[0]
    assert ar["unpaid_claims"] == 1 and ar["outstanding_balance"] == M("200.00")
    assert ar["denied_unpaid_balance"] == M("200.00") and ar["final_denied_claims"] == 0


def test_facts_persisted_reused_and_rebuilt(tiny_ws) -> None:
    with KpiSession(workspace=tiny_ws) as s:
        assert s.facts == "built"
        first = s.scorecard().rows
    (key,) = [p.name for p in facts_dir(tiny_ws).iterdir()]
    with KpiSession(workspace=tiny_ws) as s:
        assert s.facts == "reused" and s.scorecard().rows == first
    _add_file_two(tiny_ws)  # a new committed file: a new workspace state
    with KpiSession(workspace=tiny_ws) as s:
        assert s.facts == "built" and s.scorecard().rows[0]["claims"] == 5
    assert [p.name for p in facts_dir(tiny_ws).iterdir()] != [key]
    with KpiSession(workspace=tiny_ws, persist=False) as s:
        assert s.facts == "built (not persisted)" and s.scorecard().rows[0]["claims"] == 5


def test_encounters_are_not_open_ar(tiny_ws) -> None:
    """An 837 encounter (BHT06 RP, capitated care reported to the plan) is never paid and
    never owed: it does not sit in A/R, however long it goes without an 835."""
    claim = {"claim_type": "professional", "submission_date": D(2025, 2, 1), "place_of_service": "11", "payer_name": "PAYER ONE",
             "payer_id": "P1", "filing_indicator": "HM", "service_date_from": D(2025, 2, 1), "frequency_code": "1", "line_count": 1,
             "claim_seq": 0, "claim_id": "ENC1", "charge_amount": M("700"), "patient_key": "PT7", "is_encounter": True}
    _write(tiny_ws, "F3", "claims", [claim])
    _write(tiny_ws, "F3", "manifest", [{"sha256": "z", "source_path": "fixture-3", "status": "loaded"}])
    with KpiSession(workspace=tiny_ws) as s:
        ar = speed.accounts_receivable(s.con).rows[0]
        assert s.scorecard().rows[0]["claims"] == 4  # still a claim of the payer's volume
    assert ar["unpaid_claims"] == 1 and ar["outstanding_balance"] == M("300.00")  # C alone, as before
