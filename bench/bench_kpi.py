"""Benchmark: the KPI suite over a synthetic workspace of N remitted lines (default 1,000,000).

    .venv/bin/python bench/bench_kpi.py [--lines 1000000] [--runs 3] [--workspace DIR] [--families] [--json]

Builds (once, in DuckDB) claims / claim_lines / remit_claims / remit_lines /
adjustments / remittances / diagnoses with 4 lines per claim, 10% first-pass
denials later paid, then times the full payer scorecard (session open + scorecard)
three ways per run: *baseline* (fact tables built in memory, not persisted),
*cold* (built and persisted under datasets/derived/kpi_facts) and *warm* (the
persisted facts of the same workspace state reused), median of runs.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from parley.services.kpi import FAMILIES, KpiSession, facts_dir
from parley.store.tables import ALL_TABLES
from parley.store.workspace import init_workspace

TABLES = {
    "claims": """SELECT 'F1' AS file_id, i AS claim_seq, 'C' || i AS claim_id, 'professional' AS claim_type, '005010X222A1' AS version,
        DATE '2025-01-01' + CAST(i % 360 AS INTEGER) AS submission_date, CAST(400 AS DECIMAL(14,2)) AS charge_amount, '11' AS place_of_service,
        'P' || (i % 6) AS payer_id, 'PAYER ' || (i % 6) AS payer_name, '12' AS filing_indicator, 'PT' || (i % 50000) AS patient_key,
        CAST(1940 + i % 70 AS INTEGER) AS patient_birth_year, DATE '2025-01-01' + CAST(i % 360 AS INTEGER) AS service_date_from,
        '1' AS frequency_code, 4 AS line_count FROM range({claims}) t(i)""",
    "claim_lines": """SELECT 'F1' AS file_id, i // 4 AS claim_seq, i AS line_seq, CAST(i % 4 + 1 AS INTEGER) AS line_number,
        ['99213','99214','36415','80053','73721','99204'][1 + i % 6] AS procedure_code, CAST(100 AS DECIMAL(14,2)) AS charge_amount,
        CAST(1 AS DECIMAL(12,3)) AS units, '11' AS place_of_service, DATE '2025-01-01' + CAST((i // 4) % 360 AS INTEGER) AS service_date_from
        FROM range({lines}) t(i)""",
    "remittances": """SELECT 'F1' AS file_id, r AS remittance_seq, 'P' || (r % 6) AS payer_id, 'PAYER ' || (r % 6) AS payer_name,
        DATE '2025-01-15' + CAST(r % 400 AS INTEGER) AS payment_date FROM range(2400) t(r)""",
    "remit_claims": """SELECT 'F1' AS file_id, (i % 6) + 6 * ((i // 6 + k * 11) % 400) AS remittance_seq, i + k * {claims} AS claim_seq, 'C' || i AS claim_id,
        CASE WHEN k = 0 AND i % 10 = 0 THEN '4' ELSE '1' END AS status_code, CAST(400 AS DECIMAL(14,2)) AS charge_amount,
        CAST(CASE WHEN k = 0 AND i % 10 = 0 THEN 0 ELSE 320 END AS DECIMAL(14,2)) AS paid_amount, CAST(0 AS DECIMAL(14,2)) AS patient_responsibility,
        '12' AS filing_indicator, false AS is_reversal, 'P' || (i % 6) AS payer_id, 'PAYER ' || (i % 6) AS payer_name,
        DATE '2025-01-01' + CAST(i % 360 + 14 + i % 30 + 45 * k AS INTEGER) AS payment_date,
        DATE '2025-01-01' + CAST(i % 360 + 2 AS INTEGER) AS received_date, DATE '2025-01-01' + CAST(i % 360 AS INTEGER) AS service_date_from
        FROM range({claims}) t(i), range(2) s(k) WHERE k = 0 OR i % 10 = 0""",
    "remit_lines": """SELECT 'F1' AS file_id, rc.claim_seq, rc.claim_seq * 4 + j AS line_seq, CAST(j + 1 AS INTEGER) AS line_number,
        ['99213','99214','36415','80053','73721','99204'][1 + ((CAST(substr(rc.claim_id, 2) AS BIGINT) * 4 + j) % 6)] AS procedure_code,
        CAST(100 AS DECIMAL(14,2)) AS charge_amount, CAST(rc.paid_amount / 4 AS DECIMAL(14,2)) AS paid_amount, CAST(1 AS DECIMAL(12,3)) AS units,
        rc.service_date_from, CASE WHEN rc.paid_amount > 0 THEN CAST(rc.paid_amount / 4 AS DECIMAL(14,2)) END AS allowed_amount
        FROM remit_claims rc, range(4) s(j)""",
    "adjustments": """SELECT 'F1' AS file_id, claim_seq, line_seq, 'line' AS level, 'CO' AS group_code,
        CASE WHEN paid_amount = 0 THEN '16' ELSE '45' END AS reason_code, charge_amount - paid_amount AS amount FROM remit_lines""",
    "diagnoses": """SELECT 'F1' AS file_id, i AS claim_seq, CAST(1 AS INTEGER) AS sequence, ['E119','I10','J449','Z0000','E785'][1 + i % 5] AS code,
        true AS is_principal FROM range({claims}) t(i)""",
    "provider_adjustments": """SELECT 'F1' AS file_id, r AS remittance_seq, 'L6' AS reason_code, CAST(-5 AS DECIMAL(14,2)) AS amount FROM range(2400) t(r)""",
}


def _write_full(con: duckdb.DuckDBPyConnection, name: str, path: Path) -> None:
    schema = ALL_TABLES[name].schema
    have = {d[0] for d in con.execute(f"SELECT * FROM {name} LIMIT 0").description}
    cols = ", ".join(f"{f.name}" if f.name in have else f"NULL AS {f.name}" for f in schema)
    table = con.sql(f"SELECT {cols} FROM {name}").to_arrow_table()
    pq.write_table(table.cast(schema), path)


def build(folder: Path, lines: int) -> Path:
    ws = init_workspace(folder)
    claims = lines // 4 * 10 // 11  # first adjudications + 10% second ones = ~lines remitted lines
    con = duckdb.connect()
    for name, sql in TABLES.items():
        con.execute(f"CREATE TABLE {name} AS {sql.format(claims=claims, lines=claims * 4)}")
        out = ws.datasets / name / "F1"
        out.mkdir(parents=True, exist_ok=True)
        _write_full(con, name, out / "part-00000.parquet")
    out = ws.datasets / "manifest" / "F1"
    out.mkdir(parents=True, exist_ok=True)
    con.execute(f"COPY (SELECT 'F1' AS file_id, 'loaded' AS status) TO '{out / 'part-00000.parquet'}' (FORMAT parquet)")
    n = con.execute("SELECT count(*) FROM remit_lines").fetchone()[0]
    print(f"synthetic workspace: {n:,} remitted lines, {claims:,} claims")
    return folder


def _time_session(ws, *, persist: bool, families: bool) -> dict[str, float]:
    out: dict[str, float] = {}
    t = time.perf_counter()
    s = KpiSession(workspace=ws, persist=persist)
    out["prepare"] = time.perf_counter() - t
    try:
        t = time.perf_counter()
        s.scorecard()
        out["scorecard"] = time.perf_counter() - t
        out["total"] = out["prepare"] + out["scorecard"]
        if families:
            for fam in FAMILIES:
                t = time.perf_counter()
                s.family(fam)
                out[fam] = time.perf_counter() - t
    finally:
        s.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workspace", type=Path)
    ap.add_argument("--families", action="store_true", help="also time every family (warm)")
    ap.add_argument("--json", action="store_true", help="end with one JSON line of the medians")
    ap.add_argument("--modes", default="baseline,cold,warm",
                    help="comma list of baseline, cold, warm (cold rebuilds and rewrites the persisted facts)")
    a = ap.parse_args()
    modes = [m for m in a.modes.split(",") if m]
    if not set(modes) <= {"baseline", "cold", "warm"} or "warm" in modes and "baseline" not in modes:
        ap.error("--modes: a comma list of baseline, cold, warm; warm needs baseline (the ratio)")
    folder = a.workspace or Path(tempfile.mkdtemp(prefix="bench-kpi-"))
    if not (folder / "datasets" / "remit_lines").exists():
        build(folder, a.lines)
    ws = init_workspace(folder)
    cache = facts_dir(ws)
    # baseline: facts built in memory and not persisted (the only path before persisted facts);
    # cold: built and persisted; warm: persisted facts of the same workspace state reused
    runs: dict[str, list[dict[str, float]]] = {m: [] for m in modes}
    if "warm" in modes and "cold" not in modes:
        _time_session(ws, persist=True, families=False)  # make sure the facts of this state exist
    for _ in range(a.runs):
        if "baseline" in modes:
            runs["baseline"].append(_time_session(ws, persist=False, families=False))
        if "cold" in modes:
            shutil.rmtree(cache, ignore_errors=True)
            runs["cold"].append(_time_session(ws, persist=True, families=False))
        if "warm" in modes:
            runs["warm"].append(_time_session(ws, persist=True, families=a.families))
    medians = {mode: {k: round(statistics.median(r[k] for r in rs), 3) for k in rs[0]} for mode, rs in runs.items()}
    n = duckdb.sql(f"SELECT count(*) FROM read_parquet('{(folder / 'datasets' / 'remit_lines' / '*' / '*.parquet').as_posix()}')").fetchall()[0]
    print(f"{n[0]:,} remitted lines; median seconds over {a.runs} runs (prepare = session open incl. facts)")
    for mode, m in medians.items():
        print(f"{mode:<9} " + "  ".join(f"{k} {v:.3f}" for k, v in m.items()))
    ratio = round(medians["warm"]["total"] / medians["baseline"]["total"], 3) if "warm" in medians else None
    print(f"warm / baseline total: {ratio}")
    if a.json:
        print(json.dumps({"bench": "kpi", "remitted_lines": n[0], "runs": a.runs, "median_seconds": medians,
                          "warm_over_baseline": ratio}))


if __name__ == "__main__":
    main()
