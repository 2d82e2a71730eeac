"""Golden tests: the example extracts in examples/mappings/ ingest to exact values."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from parley.ingest.base import PatientHasher
from parley.ingest.tabular import dump_mapping, load_mapping
from parley.store import tables as T

D = Decimal
FILE_ID = "0123456789abcdef"


def _conforms(frame: pl.DataFrame, table: str) -> None:
    """Exactly the canonical columns, in order, in the canonical Arrow types."""
    expected = pl.from_arrow(T.schema(table).empty_table()).schema  # type: ignore[union-attr]
    assert frame.schema == expected


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_claims_lines_golden(ingest, examples: Path, hasher: PatientHasher, suffix: str) -> None:
    r = ingest(examples / f"claims-lines.{suffix}", examples / "claims-lines.yaml")
    assert r.problems == []
    claims, lines, dx = r.table("claims"), r.table("claim_lines"), r.table("diagnoses")
    assert (claims.height, lines.height, dx.height) == (4, 7, 7)
    for frame, name in ((claims, "claims"), (lines, "claim_lines"), (dx, "diagnoses")):
        _conforms(frame, name)
    assert claims["charge_amount"].sum() == D("2650.75")
    assert lines["charge_amount"].sum() == D("2650.75")
    assert claims["claim_id"].to_list() == ["C1001", "C1002", "C1003", "C1004"]
    assert claims["line_count"].to_list() == [2, 1, 3, 1]
    assert claims["claim_seq"].to_list() == [0, 1, 2, 3]
    assert lines["line_seq"].to_list() == list(range(7))
    c1003 = claims.row(2, named=True)
    assert c1003 | {"patient_key": None} == c1003 | {
        "file_id": FILE_ID,
        "claim_type": "professional",
        "version": "tabular",
        "submission_date": date(2026, 1, 7),
        "charge_amount": D("236.00"),
        "place_of_service": "11",
        "billing_npi": "1234567893",
        "billing_tax_id": "123456789",
        "rendering_npi": "1598765436",
        "payer_name": "Beacon Mutual",
        "payer_id": "BCN22",
        "filing_indicator": "12",
        "patient_birth_year": 1948,
        "patient_sex": "F",
        "service_date_from": date(2026, 1, 4),
        "service_date_to": date(2026, 1, 4),
        "line_count": 3,
        "patient_key": None,
    }
    assert c1003["patient_key"] == hasher.hash_one("M000103")
    assert claims["patient_key"][0] == claims["patient_key"][3]  # same member, same key
    credit = lines.filter(pl.col("procedure_code") == "20610").row(0, named=True)
    assert (
        credit["charge_amount"],
        credit["modifier_1"],
        credit["modifier_2"],
        credit["line_number"],
    ) == (D("-12.00"), "RT", "59", 3)
    j = lines.filter(pl.col("procedure_code") == "J1100").row(0, named=True)
    assert (j["units"], j["procedure_qualifier"], j["unit_basis"], j["diagnosis_pointers"]) == (
        D("2"),
        "HC",
        "UN",
        "1,2",
    )
    assert lines.filter(pl.col("claim_seq") == 3)["service_date_from"].to_list() == [
        date(2026, 1, 5)
    ]
    assert dx.filter(pl.col("claim_seq") == 2).select(
        "sequence", "qualifier", "code", "is_principal"
    ).rows() == [(1, "ABK", "M5450", True), (2, "ABF", "Z79899", False), (3, "ABF", "E785", False)]


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_remittance_lines_golden(ingest, examples: Path, suffix: str) -> None:
    r = ingest(examples / f"remittance-lines.{suffix}", examples / "remittance-lines.yaml")
    assert r.problems == []
    rem, rc, rl, adj = (
        r.table(n) for n in ("remittances", "remit_claims", "remit_lines", "adjustments")
    )
    assert (rem.height, rc.height, rl.height, adj.height) == (2, 4, 7, 9)
    for frame, name in (
        (rem, "remittances"),
        (rc, "remit_claims"),
        (rl, "remit_lines"),
        (adj, "adjustments"),
    ):
        _conforms(frame, name)
    assert rem.select(
        "remittance_seq",
        "trace_number",
        "payment_date",
        "payment_method",
        "payer_id",
        "claim_count",
        "payment_amount",
        "balanced",
    ).rows() == [
        (0, "100234", date(2026, 2, 1), "CHK", "ACME1", 2, D("100.92"), True),
        (1, "883100", date(2026, 2, 8), "ACH", "BCN22", 2, D("132.42"), True),
    ]
    assert rc["remittance_seq"].to_list() == [0, 0, 1, 1]
    assert rc["paid_amount"].sum() == D("233.34")
    assert rc["charge_amount"].sum() == D("2650.75")
    assert adj["amount"].sum() == D("2417.41")
    assert rc["balanced"].all() and rl["balanced"].all()
    c1001 = rc.row(0, named=True)
    assert (
        c1001["paid_amount"],
        c1001["patient_responsibility"],
        c1001["line_adjustment_amount"],
        c1001["claim_adjustment_amount"],
        c1001["line_count"],
    ) == (D("87.22"), D("19.68"), D("87.78"), D("0.00"), 2)
    denied = rc.row(3, named=True)
    assert (denied["status_code"], denied["paid_amount"], denied["is_reversal"]) == (
        "4",
        D("0.00"),
        False,
    )
    line = rl.filter(pl.col("procedure_code") == "20610").row(0, named=True)
    assert (
        line["modifier_1"],
        line["modifier_2"],
        line["charge_amount"],
        line["adjustment_amount"],
    ) == ("RT", "59", D("-12.00"), D("-12.00"))
    assert rl.filter(pl.col("claim_seq") == 3)["remark_codes"].to_list() == ["M25,N657"]
    assert adj.filter(pl.col("line_seq") == 0).select(
        "level", "group_code", "reason_code", "amount"
    ).rows() == [("line", "CO", "45", D("51.60")), ("line", "PR", "2", D("19.68"))]


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_remittance_claims_golden(
    ingest, examples: Path, hasher: PatientHasher, suffix: str
) -> None:
    r = ingest(examples / f"remittance-claims.{suffix}", examples / "remittance-claims.yaml")
    assert r.problems == []
    rem, rc, adj = r.table("remittances"), r.table("remit_claims"), r.table("adjustments")
    assert "remit_lines" not in r.tables
    assert (rem.height, rc.height, adj.height) == (2, 4, 5)
    assert rem.select("trace_number", "payment_amount", "credit_debit", "claim_count").rows() == [
        ("EFT7781", D("1310.50"), "C", 3),
        ("EFT7790", D("-210.00"), "D", 1),
    ]
    assert rc.select(
        "claim_id",
        "charge_amount",
        "paid_amount",
        "claim_adjustment_amount",
        "is_reversal",
        "balanced",
    ).rows() == [
        ("C2001", D("1250.00"), D("900.00"), D("350.00"), False, True),
        ("C2002", D("480.00"), D("410.50"), D("69.50"), False, True),
        ("C2003", D("95.00"), D("0.00"), D("95.00"), False, True),
        ("C2004", D("-300.00"), D("-210.00"), D("-90.00"), True, True),
    ]
    assert rc["patient_key"][0] == hasher.hash_one("BCN-55501") == rc["patient_key"][3]
    assert rc["service_date_to"][1] == date(2026, 2, 5)
    assert adj["line_seq"].null_count() == 5 and set(adj["level"]) == {"claim"}


@pytest.mark.parametrize("name", ["claims-lines", "remittance-lines", "remittance-claims"])
def test_csv_and_xlsx_agree(ingest, examples: Path, name: str) -> None:
    a = ingest(examples / f"{name}.csv", examples / f"{name}.yaml")
    b = ingest(examples / f"{name}.xlsx", examples / f"{name}.yaml")
    assert a.tables.keys() == b.tables.keys()
    for table in a.tables:
        assert a.table(table).equals(b.table(table)), table


@pytest.mark.parametrize("name", ["claims-lines", "remittance-lines", "remittance-claims"])
@pytest.mark.parametrize("chunk_rows", [1, 2, 3])
def test_chunking_changes_nothing(ingest, examples: Path, name: str, chunk_rows: int) -> None:
    """Small chunks give the same records: seqs unique across chunks, no claim split."""
    whole = ingest(examples / f"{name}.csv", examples / f"{name}.yaml")
    small = ingest(examples / f"{name}.csv", examples / f"{name}.yaml", chunk_rows=chunk_rows)
    assert len(small.chunks) > 2
    for table in whole.tables:
        assert small.table(table).equals(whole.table(table)), table


@pytest.mark.parametrize("name", ["claims-lines", "remittance-lines", "remittance-claims"])
def test_example_mapping_round_trip(examples: Path, tmp_path: Path, name: str) -> None:
    original = load_mapping(examples / f"{name}.yaml")
    again_path = tmp_path / f"{name}.yaml"
    again_path.write_text(dump_mapping(original), encoding="utf-8")
    again = load_mapping(again_path)
    assert again.model_copy(update={"path": None}) == original.model_copy(update={"path": None})
    assert dump_mapping(again) == dump_mapping(original)


def test_examples_are_synthetic(examples: Path) -> None:
    """Example member ids are obviously fake; no SSN-like values anywhere."""
    import re

    for path in examples.glob("*.csv"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\b\d{3}-\d{2}-\d{4}\b", text), path


def test_group_and_referring_provider_columns(ingest, write_mapping, tmp_path: Path) -> None:
    """The claim fields an 837 carries in SBR03/SBR04 and NM1*DN map from an extract too."""
    csv = tmp_path / "claims.csv"
    csv.write_text(
        "Claim,Payer,Group,Plan,Referrer,CPT,Charge,DOS\n"
        "A1,Beacon Mutual,GRP-77,Acme Staff Plan,1234567893,99213,120.00,2026-01-04\n"
        "A1,Beacon Mutual,GRP-77,Acme Staff Plan,1234567893,36415,15.00,2026-01-04\n",
        encoding="utf-8",
    )
    mapping = write_mapping(
        "kind: claims\nlayout: lines\ncolumns:\n  claim_id: Claim\n  payer_name: Payer\n"
        "  group_number: Group\n  group_name: Plan\n  referring_npi: Referrer\n"
        "  procedure_code: CPT\n  charge_amount: Charge\n  service_date_from: DOS\n"
    )
    r = ingest(csv, mapping)
    assert r.problems == []
    claim = r.table("claims").row(0, named=True)
    assert (claim["group_number"], claim["group_name"], claim["referring_npi"]) == (
        "GRP-77", "Acme Staff Plan", "1234567893"
    )
