"""Facility (institutional) claims end to end on a hand-built workspace: priced per claim,
compared with the 835 at claim level, rolled up, appealed and explained."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from tests.services.test_reprice import _commit

CONTRACT = """\
contract_id: HOSP
payer: {name: HOSPITAL PLAN, payer_ids: [HP1]}
product_lines: [Commercial PPO]
effective: 2025-01-01
renewal: {type: evergreen}
professional:
  methodology: {method: percent_of_charges, percent: 50}
facility:
  inpatient_drg: {base_rate: 12500.00, weights_csv: drg-weights.csv}
  per_diems:
    - {level_of_care: ICU, revenue_code_ranges: [["0200", "0219"]], amount: 4200.00}
    - {level_of_care: medical, revenue_codes: ["0120"], amount: 2100.00}
  percent_of_charges: 55
  outlier: {threshold: 150000.00, percent: 60, applies_to: excess}
  revenue_code_carve_outs: {"0278": 1000.00}
"""
WEIGHTS = "drg,weight,gmlos,amlos\n470,1.9221,2.1,2.4\n469,3.0120,4.1,4.9\n"


def _claims(ws) -> None:
    pay = dt.date(2025, 4, 20)
    rc = {"status_code": "1", "payer_id": "HP1", "filing_indicator": "12", "payment_date": pay, "is_reversal": False}
    remit_claims = [
        # H1: inpatient DRG 470 with an implant carve-out and an outlier, underpaid
        {**rc, "claim_seq": 0, "claim_id": "H1", "charge_amount": D("200000.00"), "paid_amount": D("50000.00"),
         "patient_responsibility": D("1000.00"), "drg_code": "470", "facility_code": "11", "frequency_code": "1"},
        # H2: outpatient, no 837: percent of charges from the 835 alone, paid correctly
        {**rc, "claim_seq": 1, "claim_id": "H2", "charge_amount": D("2000.00"), "paid_amount": D("1000.00"),
         "patient_responsibility": D("100.00"), "facility_code": "13", "frequency_code": "1",
         "service_date_from": dt.date(2025, 3, 2), "service_date_to": dt.date(2025, 3, 2)},
        # H3: billed DRG 469, the payer paid DRG 470 (a DRG downgrade), paid the 470 rate
        {**rc, "claim_seq": 2, "claim_id": "H3", "charge_amount": D("40000.00"), "paid_amount": D("24026.25"),
         "patient_responsibility": D("0"), "drg_code": "470", "facility_code": "11", "frequency_code": "1"},
        # H4: inpatient per diem (no DRG on the claim): ICU 4 days
        {**rc, "claim_seq": 3, "claim_id": "H4", "charge_amount": D("30000.00"), "paid_amount": D("16800.00"),
         "patient_responsibility": D("0"), "facility_code": "11", "frequency_code": "1"},
        # P1: a professional claim of the same payer still priced per line
        {**rc, "claim_seq": 4, "claim_id": "P1", "charge_amount": D("100.00"), "paid_amount": D("50.00"),
         "service_date_from": dt.date(2025, 3, 3)},
    ]
    remit_lines = [
        {"claim_seq": 1, "line_seq": 0, "line_number": 1, "procedure_qualifier": "NU", "procedure_code": "0450",
         "charge_amount": D("1500.00"), "paid_amount": D("700.00"), "units": D(1)},
        {"claim_seq": 1, "line_seq": 1, "line_number": 2, "procedure_qualifier": "HC", "procedure_code": "85025",
         "revenue_code": "0300", "charge_amount": D("500.00"), "paid_amount": D("300.00"), "units": D(1)},
        {"claim_seq": 4, "line_seq": 2, "line_number": 1, "procedure_qualifier": "HC", "procedure_code": "99213",
         "charge_amount": D("100.00"), "paid_amount": D("50.00"), "allowed_amount": D("50.00"), "units": D(1),
         "service_date_from": dt.date(2025, 3, 3)},
    ]
    _commit(ws, "a" * 16, {"remit_claims": remit_claims, "remit_lines": remit_lines})
    cl = {"claim_type": "institutional", "payer_id": "HP1", "filing_indicator": "12", "submission_date": dt.date(2025, 3, 10)}
    claims = [
        {**cl, "claim_seq": 0, "claim_id": "H1", "type_of_bill": "111", "drg_code": "470", "charge_amount": D("200000.00"),
         "service_date_from": dt.date(2025, 3, 1), "service_date_to": dt.date(2025, 3, 5), "admission_date": dt.date(2025, 3, 1)},
        {**cl, "claim_seq": 1, "claim_id": "H3", "type_of_bill": "111", "drg_code": "469", "charge_amount": D("40000.00"),
         "service_date_from": dt.date(2025, 3, 1), "service_date_to": dt.date(2025, 3, 4)},
        {**cl, "claim_seq": 2, "claim_id": "H4", "type_of_bill": "111", "charge_amount": D("30000.00"),
         "service_date_from": dt.date(2025, 3, 1), "service_date_to": dt.date(2025, 3, 5)},
    ]
    line = {"procedure_qualifier": None}
    claim_lines = [
        {**line, "claim_seq": 0, "line_seq": 0, "line_number": 1, "revenue_code": "0120", "charge_amount": D("150000.00"), "units": D(4)},
        {**line, "claim_seq": 0, "line_seq": 1, "line_number": 2, "revenue_code": "0278", "charge_amount": D("50000.00"), "units": D(2)},
        {**line, "claim_seq": 1, "line_seq": 2, "line_number": 1, "revenue_code": "0120", "charge_amount": D("40000.00"), "units": D(3)},
        {**line, "claim_seq": 2, "line_seq": 3, "line_number": 1, "revenue_code": "0120", "charge_amount": D("10000.00"), "units": D(1)},
        {**line, "claim_seq": 2, "line_seq": 4, "line_number": 2, "revenue_code": "0206", "charge_amount": D("20000.00"), "units": D(3)},
    ]
    _commit(ws, "b" * 16, {"claims": claims, "claim_lines": claim_lines})


@pytest.fixture()
def repriced(workspace):
    from parley.services.reprice import reprice

    (workspace.contracts_dir / "hosp.yaml").write_text(CONTRACT)
    (workspace.contracts_dir / "drg-weights.csv").write_text(WEIGHTS)
    _claims(workspace)
    return workspace, reprice(workspace=workspace)


def _claim_rows(ws) -> dict[str, dict]:
    from parley.services.reprice import _repriced, _rows

    con = _repriced(ws)
    try:
        return {r["claim_id"]: r for r in _rows(con, "SELECT * FROM repriced WHERE pricing_level = 'claim'")}
    finally:
        con.close()


def test_facility_claims_priced_at_claim_level(repriced) -> None:
    ws, result = repriced
    assert result["facility_claims_priced"] == 4 and result["lines_priced"] == 5
    rows = _claim_rows(ws)
    h1 = rows["H1"]
    # 12500 x 1.9221 = 24026.25; carve-out 2 x 1000 = 2000; outlier 60% x (200000 - 150000) = 30000
    assert h1["method"] == "drg_case_rate" and h1["expected_allowed"] == D("56026.25")
    assert h1["actual_allowed"] == D("51000.00") and h1["final_status"] == "underpaid"
    assert h1["underpaid_amount"] == D("5026.25") and h1["expected_paid"] == D("55026.25")
    h2 = rows["H2"]  # 835 only: 55% of 2000 = 1100 = paid 1000 + PR 100
    assert h2["method"] == "percent_of_charges" and h2["expected_allowed"] == D("1100.00")
    assert h2["final_status"] == "paid_correctly" and h2["type_of_bill"] == "131"
    h3 = rows["H3"]  # billed 469 (37650.00), paid at 470 (24026.25): a DRG recode, not an underpayment
    assert h3["recoded"] and h3["expected_allowed"] == D("37650.00")
    assert h3["final_status"] == "recoded" and h3["recode_amount"] == D("13623.75")
    h4 = rows["H4"]  # ICU listed first: 4200 x 4 days (03-01 .. 03-05, discharge day not counted)
    assert h4["method"] == "per_diem" and h4["covered_days"] == 4 and h4["expected_allowed"] == D("16800.00")


def test_professional_lines_unchanged_beside_facility(repriced) -> None:
    from parley.services.reprice import _repriced, _rows

    ws, _ = repriced
    con = _repriced(ws)
    try:
        rows = _rows(con, "SELECT * FROM repriced WHERE pricing_level = 'line'")
    finally:
        con.close()
    assert [(r["claim_id"], r["expected_allowed"], r["final_status"]) for r in rows] == [("P1", D("50.00"), "paid_correctly")]


def test_facility_appeals_accuracy_and_explain(repriced) -> None:
    from parley.services.reprice import accuracy, appeals, explain

    ws, _ = repriced
    top = appeals(workspace=ws)
    assert [r["claim_id"] for r in top] == ["H3", "H1"]
    assert top[1]["pricing_level"] == "claim" and top[1]["codes"] == "MS-DRG 470"
    codes = {r["code"] for r in accuracy(workspace=ws, by="code")}
    assert {"MS-DRG 470", "MS-DRG 469", "TOB 131", "TOB 111", "99213"} <= codes
    lines = explain(workspace=ws, claim_id="H1")
    head, rest = lines[0], lines[1:]
    assert head["level"] == "claim" and head["scalar_expected_allowed"] == head["expected_allowed"] == D("56026.25")
    assert any("MS-DRG 470 weight 1.9221" in s for s in head["derivation"])
    assert any("outlier" in s for s in head["derivation"])
    assert [ln["revenue_code"] for ln in rest] == ["0120", "0278"]
    assert sum(ln["expected_allowed"] for ln in rest) == D("56026.25")
    recode = explain(workspace=ws, claim_id="H3")[0]
    assert any("payer paid MS-DRG 470" in s for s in recode["derivation"])


def test_weights_csv_errors_name_file_and_line(tmp_path) -> None:
    from parley.domain.contracts_load import ContractError, load_contract_file

    (tmp_path / "hosp.yaml").write_text(CONTRACT)
    (tmp_path / "drg-weights.csv").write_text("drg,weight,gmlos\n470,1.9221,2.1\n47x,1.0,\n469,abc,\n470,1.5,\n065,0.9,x\n")
    with pytest.raises(ContractError) as err:
        load_contract_file(tmp_path / "hosp.yaml")
    text = "\n".join(err.value.problems)
    assert "drg-weights.csv:3: drg: '47x' is not an MS-DRG" in text
    assert "drg-weights.csv:4: weight: 'abc' is not a relative weight" in text
    assert "drg-weights.csv:5: drg: MS-DRG 470 is listed twice (first on line 2)" in text
    assert "drg-weights.csv:6: gmlos: 'x' is not a length of stay" in text
    (tmp_path / "drg-weights.csv").write_text("code,weight\n470,1.9\n")
    with pytest.raises(ContractError, match="missing column"):
        load_contract_file(tmp_path / "hosp.yaml")
