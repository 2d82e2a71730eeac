"""A tiny synthetic workspace where every KPI answer is known by hand.

Payer P1 (contract C1: prompt pay 30 days at 12%/yr, prior auth on 73721), three claims:
  A  submitted 2025-01-01, charge 100, paid 80 on 2025-01-21 (20 days).
  B  submitted 2025-01-01, charge 200, denied (CLP02 4, CO-16) on 2025-01-15, paid 150 on 2025-03-02
     (60 days; received 2025-01-01, so 30 days late -> interest 150 x 12% / 365 x 30 = 1.48).
  C  submitted 2025-03-01, charge 300 (code 73721), never adjudicated (unpaid).
PLB: L6 -1.00 (interest paid 1.00), WO 10.00 on the second remittance.
The 835s name the payer by a different id (1999999999, as TRN03 often does) than the 837 (P1).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from parley.store.tables import ALL_TABLES
from parley.store.workspace import Workspace, init_workspace

D = dt.date
M = Decimal

CONTRACT = """schema_version: 1
contract_id: C1
payer:
  name: PAYER ONE
  payer_ids: [P1]
product_lines: [Commercial PPO]
claim_filing_indicators: ['12']
effective: 2024-01-01
renewal: {type: evergreen, term_years: 1, termination_notice_days: 90}
prompt_pay: {days: 30, interest_percent_annual: 12}
prior_authorization_codes: ['73721']
professional:
  lesser_of_billed: false
  methodology: {method: percent_of_charges, percent: 80}
"""


def _write(ws: Workspace, name: str, rows: list[dict]) -> None:
    schema = ALL_TABLES[name].schema
    cols = {f.name: [r.get(f.name) for r in rows] for f in schema}
    for r in rows:
        r.setdefault("file_id", "F1")
    cols["file_id"] = [r["file_id"] for r in rows]
    table = pa.table({f.name: pa.array(cols[f.name], type=f.type) for f in schema}, schema=schema)
    out = ws.datasets / name / "F1"
    out.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, out / "part-00000.parquet")


def _claim(seq: int, cid: str, sub: dt.date, charge: str, code: str) -> tuple[dict, dict]:
    c = {"claim_seq": seq, "claim_id": cid, "claim_type": "professional", "submission_date": sub, "charge_amount": M(charge),
         "place_of_service": "11", "payer_name": "PAYER ONE", "payer_id": "P1", "filing_indicator": "12",
         "patient_key": f"PT{seq % 2}", "patient_birth_year": 1960 + seq, "service_date_from": sub, "frequency_code": "1", "line_count": 1}
    line = {"claim_seq": seq, "line_seq": seq, "line_number": 1, "procedure_code": code, "charge_amount": M(charge),
            "units": M("1"), "place_of_service": "11", "service_date_from": sub}
    return c, line


@pytest.fixture()
def tiny_ws(tmp_path: Path) -> Workspace:
    return build_tiny_workspace(tmp_path / "ws")


def build_tiny_workspace(folder: Path) -> Workspace:
    """The fixture workspace (also used by tests/services/test_kpi.py)."""
    ws = init_workspace(folder)
    (ws.contracts_dir / "c1.yaml").write_text(CONTRACT)
    claims, lines = zip(_claim(0, "A", D(2025, 1, 1), "100", "99213"), _claim(1, "B", D(2025, 1, 1), "200", "99214"),
                        _claim(2, "C", D(2025, 3, 1), "300", "73721"), strict=True)
    _write(ws, "claims", list(claims))
    _write(ws, "claim_lines", list(lines))
    _write(ws, "diagnoses", [{"claim_seq": 0, "sequence": 1, "code": "E119", "is_principal": True},
                             {"claim_seq": 1, "sequence": 1, "code": "I10", "is_principal": True}])
    rem = [{"remittance_seq": i, "payer_id": "1999999999", "payer_name": "PAYER ONE", "payment_date": d} for i, d in
           enumerate([D(2025, 1, 21), D(2025, 1, 15), D(2025, 3, 2)])]
    _write(ws, "remittances", rem)
    rc = [
        {"remittance_seq": 0, "claim_seq": 0, "claim_id": "A", "status_code": "1", "charge_amount": M("100"), "paid_amount": M("80"),
         "patient_responsibility": M("0"), "is_reversal": False, "payer_id": "1999999999", "payment_date": D(2025, 1, 21), "filing_indicator": "12"},
        {"remittance_seq": 1, "claim_seq": 1, "claim_id": "B", "status_code": "4", "charge_amount": M("200"), "paid_amount": M("0"),
         "patient_responsibility": M("0"), "is_reversal": False, "payer_id": "1999999999", "payment_date": D(2025, 1, 15), "filing_indicator": "12"},
        {"remittance_seq": 2, "claim_seq": 2, "claim_id": "B", "status_code": "1", "charge_amount": M("200"), "paid_amount": M("150"),
         "patient_responsibility": M("0"), "is_reversal": False, "payer_id": "1999999999", "payment_date": D(2025, 3, 2),
         "received_date": D(2025, 1, 1), "filing_indicator": "12"},
    ]
    _write(ws, "remit_claims", rc)
    rl = [{"claim_seq": i, "line_seq": i, "line_number": 1, "procedure_code": code, "charge_amount": M(ch), "paid_amount": M(pd),
           "units": M("1"), "service_date_from": D(2025, 1, 1), "allowed_amount": M(pd) if pd != "0" else None}
          for i, code, ch, pd in ((0, "99213", "100", "80"), (1, "99214", "200", "0"), (2, "99214", "200", "150"))]
    _write(ws, "remit_lines", rl)
    _write(ws, "adjustments", [{"claim_seq": 0, "line_seq": 0, "level": "line", "group_code": "CO", "reason_code": "45", "amount": M("20")},
                               {"claim_seq": 1, "line_seq": 1, "level": "line", "group_code": "CO", "reason_code": "16", "amount": M("200")},
                               {"claim_seq": 2, "line_seq": 2, "level": "line", "group_code": "CO", "reason_code": "45", "amount": M("50")}])
    _write(ws, "provider_adjustments", [{"remittance_seq": 2, "reason_code": "L6", "amount": M("-1.00")},
                                        {"remittance_seq": 2, "reason_code": "WO", "amount": M("10.00")}])
    _write(ws, "manifest", [{"sha256": "x", "source_path": "fixture", "status": "loaded"}])
    return ws
