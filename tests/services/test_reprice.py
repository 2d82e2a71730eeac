"""Repricing end to end on the synthetic demo: planted underpayments found (P and R >= 0.98)."""

from __future__ import annotations

import csv
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from parley.domain.contracts_load import contract_files, load_contracts
from parley.domain.pricing import resolve_rate

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    from parley.demo import DemoSpec, generate_demo
    from parley.services.ingest import ingest_paths
    from parley.store.workspace import init_workspace

    root = tmp_path_factory.mktemp("demo")
    ws = init_workspace(root / "ws", organization="Demo")
    inputs = root / "inputs"
    generate_demo(inputs, DemoSpec(seed=11, lines=12_000, months=24))
    ingest_paths(workspace=ws, paths=[str(inputs / "835"), str(inputs / "837")], workers=1)
    return ws, inputs


@pytest.fixture(scope="module")
def scored(demo):
    from parley.services.reprice import reprice_demo

    ws, inputs = demo
    return reprice_demo(ws, inputs)


def test_planted_underpayments_found(scored) -> None:
    assert scored["planted_underpaid_lines"] > 50
    assert scored["underpayment_precision"] >= 0.98
    assert scored["underpayment_recall"] >= 0.98
    assert Decimal(str(scored["underpayment_dollars"])) > 0


def test_demo_yaml_reproduces_every_period_of_contracts_json(demo, scored) -> None:
    from parley.services.contracts import RefdataContext

    ws, inputs = demo
    doc = json.loads((inputs / "contracts.json").read_text())
    contracts = {c.contract_id: c for c in load_contracts(contract_files(ws.contracts_dir))}
    ctx = RefdataContext()
    mref = {(int(y), r["code"], r["modifier"]): r for y, rows in doc["medicare_reference"].items() for r in rows}
    checked = 0
    for d in doc["contracts"]:
        c = contracts[d["contract_id"]]
        segs = c.segments(dt.date(2027, 1, 1))
        for p in d["periods"]:
            start = dt.date.fromisoformat(p["start"])
            seg = next(s for s in segs if s.start <= start <= s.end)
            rows = list(p.get("fee_schedule", []))
            if "pfs_year" in p:
                for (y, code, mod), r in mref.items():
                    if y == p["pfs_year"]:
                        for site in ("non_facility", "facility"):
                            amt = (Decimal(r[site]) * Decimal(p["percent_of_medicare"]) / 100).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
                            rows.append({"code": code, "modifier": mod, "site": site, "rate": str(amt)})
            for r in rows:
                rate = resolve_rate(seg, code=r["code"], modifier=r["modifier"], pos="22" if r["site"] == "facility" else "11", ctx=ctx)
                assert rate.unit_amount == Decimal(r["rate"]), (d["contract_id"], p["start"], r)
                checked += 1
    assert checked > 500


def test_accuracy_appeals_explain_and_exports(demo, scored, tmp_path: Path) -> None:
    from parley.services.reprice import accuracy, appeals, explain, export_rows

    ws, inputs = demo
    for by in ("payer", "product_line", "code", "month"):
        rows = accuracy(workspace=ws, by=by)
        assert rows and sum(r["underpaid_lines"] for r in rows) == scored["underpaid_lines"]
    top = appeals(workspace=ws, top=20)
    amounts = [r["recoverable_dollars"] for r in top]
    assert amounts == sorted(amounts, reverse=True) and amounts[0] > 0
    written = export_rows(top, csv_path=tmp_path / "a.csv", xlsx_path=tmp_path / "a.xlsx")
    assert len(written) == 2 and (tmp_path / "a.xlsx").stat().st_size > 0
    with (inputs / "ground_truth_underpayments.csv").open() as fh:
        planted = next(csv.DictReader(fh))
    lines = explain(workspace=ws, claim_id=planted["clp01_claim_id"])
    mine = [ln for ln in lines if ln["line_number"] == int(planted["line_number"]) and ln["status"] == "underpaid"]
    assert mine and mine[0]["scalar_expected_allowed"] == mine[0]["expected_allowed"] == Decimal(planted["expected_allowed"])
    assert any("term:" in s for s in mine[0]["derivation"])
    assert not list((ws.datasets / "derived").glob(".staging-*"))


# ----------------------------------------------------------------- a hand-built workspace (fast)

SMALL_CONTRACT = """\
contract_id: SMALL
payer: {name: SMALL PLAN, payer_ids: [SP1]}
product_lines: [Commercial PPO]
effective: 2025-01-01
renewal: {type: evergreen}
professional:
  methodology: {method: percent_of_medicare, percent: 100, pfs_year: 2025, locality: "13202-01"}
  lesser_of_billed: true
  anesthesia: {conversion_factor: 21.50, base_units: {"00790": 7}}
"""


def _commit(ws, file_id: str, tables: dict[str, list[dict]]) -> None:
    import pyarrow as pa

    from parley.store.datasets import FileCommit, now_utc
    from parley.store.tables import schema

    commit = FileCommit(ws.datasets, file_id)
    for name, rows in tables.items():
        sch = schema(name)
        cols = {f.name: pa.array([r.get(f.name) for r in rows], f.type) for f in sch}
        commit.write(name, pa.table(cols))
    commit.commit({"sha256": file_id * 4, "source_path": f"{file_id}.835", "source_bytes": 1, "format": "x12-835",
                   "version": "005010X221A1", "status": "loaded", "ingested_at": now_utc(), "problem_count": 0,
                   "error_count": 0, "elapsed_seconds": 0.0})


@pytest.mark.slow
def test_small_workspace_statuses(workspace) -> None:
    from parley.services.reprice import accuracy, appeals, reprice

    ws = workspace
    (ws.contracts_dir / "small.yaml").write_text(SMALL_CONTRACT)
    day = dt.date(2025, 3, 3)
    claim = {"claim_seq": 0, "claim_id": "C1", "status_code": "1", "payer_id": "SP1", "filing_indicator": "12",
             "payment_date": dt.date(2025, 4, 1), "service_date_from": day, "is_reversal": False}
    other = {**claim, "claim_seq": 1, "claim_id": "C2", "payer_id": "NOPE"}
    D = Decimal

    def ln(seq, claim_seq, code, allowed, paid, units="1", charge="500.00", pos=None):
        return {"claim_seq": claim_seq, "line_seq": seq, "line_number": seq + 1, "procedure_qualifier": "HC",
                "procedure_code": code, "charge_amount": D(charge), "paid_amount": D(paid), "units": D(units),
                "allowed_amount": D(allowed), "service_date_from": day}

    lines = [ln(0, 0, "99213", "101.06", "101.06"),       # paid correctly (Manhattan 2025)
             ln(1, 0, "99214", "100.00", "100.00"),       # underpaid
             ln(2, 0, "00790", "238.65", "238.65", units="62"),  # anesthesia via the scalar path
             ln(3, 0, "ZZZZZ", "10.00", "10.00"),         # no term covers it
             ln(4, 1, "99213", "50.00", "50.00")]         # no contract for the payer
    _commit(ws, "f" * 16, {"remit_claims": [claim, other], "remit_lines": lines})
    result = reprice(workspace=ws)
    assert result["lines_priced"] == 5
    rows = {r["code"]: r for r in accuracy(workspace=ws, by="code")}
    assert rows["99213"]["lines_paid_correctly"] == 1 and rows["99213"]["not_priceable_lines"] == 1
    assert rows["99214"]["underpaid_lines"] == 1 and rows["99214"]["underpayment_dollars"] > 0
    assert rows["00790"]["lines_paid_correctly"] == 1
    assert rows["ZZZZZ"]["not_priceable_lines"] == 1
    reasons = {r["reason"] for r in result["not_priceable_reasons"]}
    assert any("no term of SMALL covers ZZZZZ" in r for r in reasons)
    assert any("no contract covers payer NOPE" in r for r in reasons)
    assert appeals(workspace=ws)[0]["claim_id"] == "C1"


def test_reprice_in_parts_equals_one_pass(demo, scored) -> None:
    """Claims priced range by range (memory bounded by a range) give the same dataset, row for row,
    as one pass over every line; the rate table is compiled once per key across the parts."""
    import duckdb

    from parley.services.reprice import reprice, repriced_view

    ws, _ = demo
    folder = ws.datasets / "derived" / "repriced_lines"

    def rows() -> list[tuple]:
        con = duckdb.connect()
        try:
            assert repriced_view(ws, con)
            return con.execute("SELECT * FROM repriced ORDER BY line_key").fetchall()
        finally:
            con.close()

    one = reprice(workspace=ws)
    whole = rows()
    parted = reprice(workspace=ws, part_lines=2_500)
    assert one["parts"] == 1 and parted["parts"] >= 4
    assert parted["lines_priced"] == one["lines_priced"]
    assert parted["rate_rows"] == one["rate_rows"]  # no key compiled twice
    assert parted["by_status"] == one["by_status"] and parted["underpayment_dollars"] == one["underpayment_dollars"]
    assert rows() == whole
    assert len(list(folder.glob("part-*.parquet"))) >= parted["parts"]
    assert not list(folder.parent.glob(".staging-*"))


def test_repriced_view_derives_the_text_keys_and_reads_older_datasets(tmp_path: Path) -> None:
    """The derived dataset no longer stores line_key / claim_key: the view derives them (a facility
    claim's row is file:claim:claim); a dataset written before, which stores them, reads as it was."""
    import duckdb
    import pyarrow as pa
    import pyarrow.parquet as pq

    from parley.services.reprice import repriced_view
    from parley.store.workspace import init_workspace

    ws = init_workspace(tmp_path / "ws")
    folder = ws.datasets / "derived" / "repriced_lines"
    folder.mkdir(parents=True)
    con = duckdb.connect()
    assert not repriced_view(ws, con)
    rows = {"file_id": ["f1", "f1"], "claim_seq": [3, 4], "line_seq": [7, None], "pricing_level": ["line", "claim"]}
    pq.write_table(pa.table(rows), folder / "part-0000-0.parquet")
    assert repriced_view(ws, con)
    assert con.execute("SELECT line_key, claim_key FROM repriced ORDER BY claim_seq").fetchall() == [
        ("f1:7", "f1:3"), ("f1:4:claim", "f1:4")]
    old = {"line_key": ["f1:7"], "claim_key": ["f1:3"], "file_id": ["f1"], "claim_seq": [3], "line_seq": [7],
           "pricing_level": ["line"]}
    pq.write_table(pa.table(old), folder / "part-0000-0.parquet")
    assert repriced_view(ws, con)
    assert [d[0] for d in con.execute("SELECT * FROM repriced").description].count("line_key") == 1
    assert con.execute("SELECT line_key, claim_key FROM repriced").fetchall() == [("f1:7", "f1:3")]
