#!/usr/bin/env python3
"""Benchmark of the repricing engine: compiled rate table x N remitted lines, one DuckDB pass.

    python bench/bench_reprice.py                      # 1M lines
    python bench/bench_reprice.py --size both --json   # 1M and 10M lines
    python bench/bench_reprice.py --repeat 5 --threads 2

Synthetic remitted lines are written directly as Parquet (the engine's input
columns) under --dir (default /tmp/parley-bench-reprice), once per size.
Contracts: three payers (a fee schedule with MPPR / bilateral / NPP
adjustments, 140% of Medicare 2025 Manhattan, 60% of charges) over ~400
real PFS codes; 20% of lines are multiple-procedure surgery codes.

Every measurement runs in a fresh subprocess (peak RSS = its ru_maxrss):

* ``baseline``: a plain DuckDB scan of the same Parquet (count + sums of the
  money and units columns) - the floor any pass over the lines pays;
* ``reprice``: the engine (:func:`parley.engine.reprice.prepare`: the MPPR-rank
  pre-pass, then the streaming pricing query) aggregated (count, sum of expected allowed, count by status), so the
  whole pass is computed but nothing is written;
* ``reprice_write``: the same query written to Parquet;
* ``e2e``: what ``parley reprice`` does, end to end - :func:`parley.services.reprice.reprice`
  on a synthetic workspace (canonical 835 / 837 tables: n remitted lines, n / 3 claims, every
  line with its 837 line, half with a CAS PR adjustment; read, join 835 to 837, compile,
  price, classify, persist the derived dataset, summarise), with per-stage ``timings`` (summed
  over the parts: above 2M lines the claims are priced range by range, see ``parts``);
* ``e2e_capped``: ``e2e`` with DuckDB's memory capped (``--memory-limit``, default 2GB): what
  does not fit spills to disk;
* ``e2e_baseline``: a plain DuckDB scan + COPY to Parquet of the same workspace's remitted
  lines, measured in the same run: the ratio e2e / e2e_baseline is what to compare across
  machines and loads (the figures of a shared 2-core machine swing several-fold).

Compile time (contracts -> rate table) is reported separately; it depends on
the number of distinct (payer, code, modifier, POS) keys, not on lines.
Reported per size: median seconds and CPU seconds, lines per second, peak RSS in MB (the
largest of the runs), the input's size on disk (Parquet) and in memory (Arrow), the e2e
per-stage medians, and the ratios against the same-run baselines.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

SIZES = {"1m": 1_000_000, "10m": 10_000_000}


def _contracts() -> list:
    import datetime as dt
    from decimal import Decimal

    from parley.domain.contracts import Contract

    def base(cid: str, payer: str, prof: dict) -> Contract:
        return Contract.model_validate({
            "contract_id": cid, "payer": {"name": cid, "payer_ids": [payer]}, "product_lines": ["Commercial PPO"],
            "effective": dt.date(2024, 1, 1), "renewal": {"type": "evergreen"},
            "escalator": {"amount": Decimal(3), "anniversary": "07-01"}, "professional": prof,
        })

    codes = _codes()
    fee = [{"code": c, "amount": Decimal(50 + (i * 37) % 900)} for i, c in enumerate(codes)]
    adj = {"multiple_procedure": {"schedule": [100, 50]}, "bilateral_percent": 150, "npp_percent": 85,
           "npp_npis": ["1000000004"], "professional_component_percent": 40, "technical_component_percent": 60}
    return [
        base("FS", "P1", {"methodology": {"method": "fee_schedule", "rates": fee}, "adjustments": adj,
                         "default": {"method": "percent_of_charges", "percent": 50}}),
        base("PCTMCR", "P2", {"methodology": {"method": "percent_of_medicare", "percent": 140, "pfs_year": 2025,
                                              "locality": "13202-01"}, "adjustments": adj,
                             "default": {"method": "percent_of_charges", "percent": 45}}),
        base("PCTCHG", "P3", {"methodology": {"method": "percent_of_charges", "percent": 60}}),
    ]


def _codes() -> list[str]:
    from parley import refdata

    df = refdata.pfs_rvus(2025)
    import polars as pl

    a = df.filter((pl.col("status_code") == "A") & (pl.col("modifier") == "") & (pl.col("nonfac_total") > 0))
    surg = a.filter(pl.col("mult_proc_ind") == "2")["hcpcs"].head(100).to_list()
    other = a.filter(pl.col("mult_proc_ind") != "2")["hcpcs"].head(300).to_list()
    return surg + other


def make_input(path: Path, n: int) -> None:
    """Synthesize n remitted lines as Parquet with DuckDB (deterministic)."""
    import duckdb

    codes = _codes()
    surg, other = codes[:100], codes[100:]
    con = duckdb.connect(config={"threads": 2})
    con.execute("CREATE MACRO h(a, b) AS CAST(hash(a, b) % 1000003 AS BIGINT)")
    con.execute(f"""
COPY (
  SELECT
    i AS line_key,
    i // 3 AS claim_key,
    CAST(i % 3 + 1 AS INTEGER) AS line_number,
    ['P1', 'P2', 'P3'][1 + h(i, 1) % 3] AS payer_id,
    '12' AS filing_indicator,
    DATE '2024-01-01' + CAST(h(i // 3, 2) % 700 AS INTEGER) AS service_date,
    CASE WHEN h(i, 3) % 5 = 0 THEN {surg}[1 + h(i, 4) % {len(surg)}]
         ELSE {other}[1 + h(i, 4) % {len(other)}] END AS procedure_code,
    CASE WHEN h(i, 5) % 20 = 0 THEN '26' WHEN h(i, 5) % 20 = 1 THEN '50' ELSE NULL END AS modifier_1,
    CAST(NULL AS VARCHAR) AS modifier_2, CAST(NULL AS VARCHAR) AS modifier_3, CAST(NULL AS VARCHAR) AS modifier_4,
    CAST(1 + h(i, 6) % 3 AS DECIMAL(12, 3)) AS units,
    CAST((2000 + h(i, 7) % 200000) / 100 AS DECIMAL(14, 2)) AS charge_amount,
    CASE WHEN h(i, 8) % 4 = 0 THEN '22' ELSE '11' END AS place_of_service,
    CASE WHEN h(i, 9) % 10 = 0 THEN '1000000004' ELSE '1000000012' END AS rendering_npi,
    CAST((h(i, 10) % 3000) / 100 AS DECIMAL(14, 2)) AS patient_responsibility,
    CAST((1000 + h(i, 11) % 80000) / 100 AS DECIMAL(14, 2)) AS actual_allowed,
    CAST((1000 + h(i, 11) % 80000) / 100 AS DECIMAL(14, 2)) AS paid_amount,
    h(i, 12) % 12 = 0 AS denied
  FROM range({n}) t(i)
) TO '{path}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)
""")
    con.close()


_DUCK_TYPES = {"string": "VARCHAR", "int64": "BIGINT", "int32": "INTEGER", "date32[day]": "DATE", "bool": "BOOLEAN",
               "double": "DOUBLE"}


def _duck_type(t: object) -> str:
    import pyarrow as pa

    if pa.types.is_decimal(t):
        return f"DECIMAL({t.precision}, {t.scale})"  # type: ignore[attr-defined]
    if pa.types.is_timestamp(t):
        return "TIMESTAMPTZ"
    return _DUCK_TYPES[str(t)]


def _canonical(con: object, table: str, exprs: dict[str, str], source: str, out: Path) -> None:
    """COPY a synthetic canonical table: every column of the schema, NULL where not given."""
    from parley.store.tables import schema

    cols = [f"CAST({exprs.get(f.name, 'NULL')} AS {_duck_type(f.type)}) AS {f.name}" for f in schema(table)]
    out.parent.mkdir(parents=True, exist_ok=True)
    con.execute(f"COPY (SELECT {', '.join(cols)} FROM {source}) TO '{out}' (FORMAT parquet, COMPRESSION zstd)")  # type: ignore[attr-defined]


def make_workspace(folder: Path, n: int) -> Path:
    """A workspace whose canonical tables hold n remitted lines (n / 3 claims), each with its 837
    claim and line and half of them a PR adjustment, plus the three bench contracts as YAML."""
    import datetime as dt

    import duckdb
    import yaml

    from parley.store.datasets import now_utc
    from parley.store.workspace import init_workspace

    if (folder / "datasets" / "manifest").exists():
        return folder
    ws = init_workspace(folder, organization="Bench")
    codes = _codes()
    surg, other = codes[:100], codes[100:]
    con = duckdb.connect(config={"threads": 2})
    con.execute("CREATE MACRO h(a, b) AS CAST(hash(a, b) % 1000003 AS BIGINT)")
    con.execute(f"""CREATE VIEW syn AS SELECT i, i // 3 AS c, CAST(i % 3 + 1 AS INTEGER) AS ln,
        ['P1', 'P2', 'P3'][1 + h(i // 3, 1) % 3] AS payer,
        DATE '2024-01-01' + CAST(h(i // 3, 2) % 700 AS INTEGER) AS day,
        CASE WHEN h(i, 3) % 5 = 0 THEN {surg}[1 + h(i, 4) % {len(surg)}] ELSE {other}[1 + h(i, 4) % {len(other)}] END AS code,
        CASE WHEN h(i, 5) % 20 = 0 THEN '26' WHEN h(i, 5) % 20 = 1 THEN '50' END AS mod1,
        1 + h(i, 6) % 3 AS units, (2000 + h(i, 7) % 200000) / 100 AS charge,
        CASE WHEN h(i // 3, 8) % 4 = 0 THEN '22' ELSE '11' END AS pos,
        (1000 + h(i, 11) % 80000) / 100 AS allowed, (h(i, 10) % 3000) / 100 AS pr
        FROM range({n}) t(i)""")
    ds = ws.datasets
    r, b = "r" * 16, "b" * 16
    claims = "(SELECT * FROM syn WHERE i % 3 = 0)"
    _canonical(con, "remit_lines", {"file_id": f"'{r}'", "claim_seq": "c", "line_seq": "i", "line_number": "ln",
                                    "procedure_qualifier": "'HC'", "procedure_code": "code", "modifier_1": "mod1",
                                    "charge_amount": "charge", "paid_amount": "allowed - pr", "units": "units",
                                    "service_date_from": "day", "allowed_amount": "allowed"},
               "syn", ds / "remit_lines" / r / "part-00000.parquet")
    _canonical(con, "adjustments", {"file_id": f"'{r}'", "claim_seq": "c", "line_seq": "i", "level": "'line'",
                                    "group_code": "'PR'", "reason_code": "'2'", "amount": "pr"},
               "(SELECT * FROM syn WHERE i % 2 = 0)", ds / "adjustments" / r / "part-00000.parquet")
    _canonical(con, "remit_claims", {"file_id": f"'{r}'", "claim_seq": "c", "claim_id": "'C' || c", "status_code": "'1'",
                                     "payer_id": "payer", "filing_indicator": "'12'", "is_reversal": "false",
                                     "payment_date": "day + 30", "service_date_from": "day"},
               claims, ds / "remit_claims" / r / "part-00000.parquet")
    _canonical(con, "claims", {"file_id": f"'{b}'", "claim_seq": "c", "claim_id": "'C' || c", "claim_type": "'professional'",
                               "submission_date": "day + 2", "place_of_service": "pos", "payer_id": "payer",
                               "filing_indicator": "'12'", "service_date_from": "day"},
               claims, ds / "claims" / b / "part-00000.parquet")
    _canonical(con, "claim_lines", {"file_id": f"'{b}'", "claim_seq": "c", "line_seq": "i", "line_number": "ln",
                                    "procedure_qualifier": "'HC'", "procedure_code": "code", "modifier_1": "mod1",
                                    "charge_amount": "charge", "units": "units", "place_of_service": "pos",
                                    "service_date_from": "day",
                                    "rendering_npi": "CASE WHEN h(i, 9) % 10 = 0 THEN '1000000004' ELSE '1000000012' END"},
               "syn", ds / "claim_lines" / b / "part-00000.parquet")
    import pyarrow as pa
    import pyarrow.parquet as pq

    from parley.store.tables import schema

    rows = [{"file_id": f, "sha256": f * 4, "source_path": f"{f}.{kind}", "source_bytes": 1, "format": f"x12-{kind}",
             "version": "bench", "status": "loaded", "ingested_at": now_utc(), "problem_count": 0, "error_count": 0,
             "elapsed_seconds": 0.0} for f, kind in ((r, "835"), (b, "837p"))]
    for row in rows:
        sch = schema("manifest")
        out = ds / "manifest" / row["file_id"] / "part-00000.parquet"
        out.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.table({f.name: pa.array([row.get(f.name)], f.type) for f in sch}), out)
    con.close()
    for c in _contracts():
        doc = c.model_dump(mode="json", exclude_none=True, by_alias=True)
        doc["effective"] = dt.date(2024, 1, 1).isoformat()
        (ws.contracts_dir / f"{c.contract_id.lower()}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return folder


def child_e2e(mode: str, folder: str, threads: int) -> dict[str, float]:
    """``e2e``: services.reprice.reprice (read, price, classify, persist); ``e2e_baseline``: a plain
    DuckDB scan + COPY to Parquet of the workspace's remitted lines, the floor of any persisted pass."""
    from parley.store.workspace import open_workspace

    ws = open_workspace(folder)
    start = time.perf_counter()
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    extra: dict[str, object] = {}
    if mode == "e2e_baseline":
        con = ws.connect(threads=threads)
        out = Path(folder) / "baseline-out.parquet"
        con.execute(f"COPY (SELECT * FROM remit_lines) TO '{out}' (FORMAT parquet, COMPRESSION snappy)")
        con.close()
        out.unlink()
    else:
        from parley.services.reprice import reprice

        capped = {"memory_limit": os.environ.get("BENCH_MEMORY_LIMIT", "2GB")} if mode == "e2e_capped" else {}
        res = reprice(workspace=ws, threads=threads, **capped)
        extra = {"timings": res.get("timings", {}), "rss_by_stage": res.get("peak_rss_mb", {}), "parts": res.get("parts", 1)}
    secs = time.perf_counter() - start
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    return {"seconds": secs, "cpu_seconds": cpu, "peak_rss_mb": cpu1.ru_maxrss / 1024, "rows": 0, **extra}  # type: ignore[dict-item]


def child_sizes(target: str) -> dict[str, float]:
    """Size of the input in memory (Arrow, as decoded from the Parquet): the engine's lines file, or
    the workspace's canonical tables that ``parley reprice`` reads.  Run in a subprocess so the
    measuring process does not hold the data."""
    import pyarrow.parquet as pq

    path = Path(target)
    if path.is_file():
        return {"input_memory_mb": round(pq.read_table(path).nbytes / 1e6, 1)}
    total = 0
    for table in ("remit_claims", "remit_lines", "adjustments", "claims", "claim_lines"):
        for f in sorted((path / "datasets" / table).glob("*/part-*.parquet")):
            total += pq.read_table(f).nbytes
    return {"input_memory_mb": round(total / 1e6, 1)}


def child(mode: str, path: str, threads: int, rates_path: str) -> dict[str, float]:
    import duckdb

    from parley.engine.reprice import STATUSES, Tolerance, prepare

    con = duckdb.connect(config={"threads": threads, "preserve_insertion_order": False})
    con.execute(f"CREATE VIEW lines_in AS SELECT * FROM read_parquet('{path}')")
    con.execute(f"CREATE TABLE rates AS SELECT * FROM read_parquet('{rates_path}')")
    # the statuses as parley reprice types them (an ENUM: no text built per line)
    con.execute(f"CREATE TYPE line_status AS ENUM ({', '.join(repr(s) for s in STATUSES)})")
    start = time.perf_counter()
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    q = prepare(con, "lines_in", "rates", Tolerance(), status_type="line_status") if mode != "baseline" else ""
    if mode == "baseline":
        row = con.execute("SELECT count(*), sum(charge_amount), sum(actual_allowed), sum(units) FROM lines_in").fetchone()
    elif mode == "reprice":
        row = con.execute(f"SELECT count(*), sum(expected_allowed), count(*) FILTER (status = 'underpaid'), "
                          f"count(*) FILTER (status = 'not_priceable') FROM ({q})").fetchone()
    else:
        out = Path(path).with_name("repriced-out.parquet")
        con.execute(f"COPY ({q}) TO '{out}' (FORMAT parquet, COMPRESSION snappy)")
        row = con.execute(f"SELECT count(*) FROM read_parquet('{out}')").fetchone()
        out.unlink()
    secs = time.perf_counter() - start
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    rss = cpu1.ru_maxrss / 1024
    return {"seconds": secs, "cpu_seconds": cpu, "peak_rss_mb": rss, "rows": row[0] if row else 0}


def compile_rates_file(path: Path, rates_path: Path) -> dict[str, float]:
    import datetime as dt

    import duckdb
    import pyarrow.parquet as pq

    from parley.engine.compile import compile_rates
    from parley.services.contracts import RefdataContext

    con = duckdb.connect(config={"threads": 2})
    start = time.perf_counter()
    keys = con.execute(f"""SELECT DISTINCT payer_id, filing_indicator, procedure_code,
        CASE WHEN modifier_1 IN ('26','TC') THEN modifier_1 ELSE '' END, coalesce(place_of_service, '')
        FROM read_parquet('{path}')""").fetchall()
    keys_s = time.perf_counter() - start
    t = time.perf_counter()
    rates = compile_rates(_contracts(), {tuple(k) for k in keys}, RefdataContext(), until=dt.date(2025, 12, 31))
    compile_s = time.perf_counter() - t
    pq.write_table(rates, rates_path)
    return {"distinct_keys": len(keys), "keys_seconds": round(keys_s, 3), "compile_seconds": round(compile_s, 3),
            "rate_rows": rates.num_rows}


def _sizes(target: Path) -> dict[str, float]:
    proc = subprocess.run([sys.executable, __file__, "--child", "sizes", str(target), "0", "-"],
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run(args: argparse.Namespace) -> dict[str, object]:
    sizes = list(SIZES) if args.size == "both" else [args.size]
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    results: dict[str, object] = {"threads": args.threads, "repeat": args.repeat, "cpu_count": os.cpu_count(),
                                  "load_average_at_start": os.getloadavg()[0]}
    for size in sizes:
        n = SIZES[size]
        path = folder / f"lines-{size}.parquet"
        if not path.exists():
            print(f"synthesising {n:,} lines -> {path}", file=sys.stderr, flush=True)
            make_input(path, n)
        rates_path = folder / f"rates-{size}.parquet"
        entry: dict[str, object] = {"lines": n, "input_mb": round(path.stat().st_size / 1e6, 1)}
        entry["input_memory_mb"] = _sizes(path)["input_memory_mb"]
        modes = args.modes.split(",")
        if {"baseline", "reprice", "reprice_write"} & set(modes):
            entry["compile"] = compile_rates_file(path, rates_path)
        ws_dir = folder / f"ws-{size}"
        if {"e2e", "e2e_baseline", "e2e_capped"} & set(modes):
            print(f"building a workspace of {n:,} remitted lines -> {ws_dir}", file=sys.stderr, flush=True)
            make_workspace(ws_dir, n)
            entry["workspace_mb"] = round(sum(f.stat().st_size for f in (ws_dir / "datasets").rglob("*.parquet")
                                              if "derived" not in f.parts) / 1e6, 1)
            entry["workspace_memory_mb"] = _sizes(ws_dir)["input_memory_mb"]
        for mode in modes:
            runs = []
            for _ in range(args.repeat):
                target = str(ws_dir) if mode.startswith("e2e") else str(path)
                proc = subprocess.run(
                    [sys.executable, __file__, "--child", mode, target, str(args.threads), str(rates_path)],
                    capture_output=True, text=True, check=True, env={**os.environ, "BENCH_MEMORY_LIMIT": args.memory_limit},
                )
                runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            med = statistics.median(r["seconds"] for r in runs)
            cpu = statistics.median(r["cpu_seconds"] for r in runs)
            entry[mode] = {
                "median_seconds": round(med, 3),
                "median_cpu_seconds": round(cpu, 3),
                "lines_per_cpu_second": round(n / cpu) if cpu else None,
                "lines_per_second": round(n / med),
                "peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs), 1),
                "runs": [round(r["seconds"], 3) for r in runs],
                **({"stage_median_seconds": {k: round(statistics.median(r["timings"][k] for r in runs), 3)
                                             for k in runs[-1]["timings"]},
                    "peak_rss_mb_after_stage_last_run": runs[-1].get("rss_by_stage"),
                    "parts": runs[-1].get("parts")} if "timings" in runs[-1] else {}),
            }
            print(f"{size} {mode}: {med:.2f}s, {n / med / 1e6:.2f}M lines/s, peak {entry[mode]['peak_rss_mb']} MB",
                  file=sys.stderr, flush=True)
        for mode, base in (("reprice", "baseline"), ("reprice_write", "baseline"), ("e2e", "e2e_baseline"),
                           ("e2e_capped", "e2e_baseline")):
            if mode in entry and base in entry:
                m, b = entry[mode], entry[base]
                entry[f"{mode}_vs_{base}"] = {  # same-run ratios: robust to a loaded machine
                    "seconds_ratio": round(m["median_seconds"] / b["median_seconds"], 2),  # type: ignore[index]
                    "cpu_seconds_ratio": round(m["median_cpu_seconds"] / b["median_cpu_seconds"], 2),  # type: ignore[index]
                }
        results[size] = entry
    results["load_average_at_end"] = os.getloadavg()[0]
    return results


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--child":
        if argv[1] == "sizes":
            print(json.dumps(child_sizes(argv[2])))
        elif argv[1].startswith("e2e"):
            print(json.dumps(child_e2e(argv[1], argv[2], int(argv[3]))))
        else:
            print(json.dumps(child(argv[1], argv[2], int(argv[3]), argv[4])))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", choices=[*SIZES, "both"], default="1m")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dir", default="/tmp/parley-bench-reprice")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--memory-limit", default="2GB", help="DuckDB memory cap of the e2e_capped mode")
    ap.add_argument("--modes", default="baseline,reprice,reprice_write,e2e_baseline,e2e",
                    help="comma separated: baseline, reprice, reprice_write (engine on a Parquet of input lines); "
                         "e2e_baseline, e2e, e2e_capped (services.reprice on a synthetic workspace)")
    args = ap.parse_args(argv)
    results = run(args)
    print(json.dumps(results, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
