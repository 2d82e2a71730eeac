"""Use cases: reprice every remitted line, explain a claim, payment-accuracy KPIs, appeals.

``reprice`` reads the workspace's canonical tables, takes the 837's billed line
as the truth where one exists (joined on claim id + REF*6R line control
number, else line number), compiles the workspace's contracts to a rate table
and prices every line in one DuckDB pass (:mod:`parley.engine.reprice`).
Recoded lines (the 835 adjudicated a different code than the 837 billed, or
SVC06 shows a change) are priced twice: at the billed code (the truth) and at
the paid code; they are ``underpaid`` when short even at the paid code, else
``recoded`` (the difference is a coding dispute, reported as recode dollars).

The result is the derived dataset ``datasets/derived/repriced_lines/``
(written aside, then renamed).  Reversal remits (CLP02 = 22) are not priced.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import shutil
import sys
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from parley.domain.contracts import Contract, select_contract
from parley.domain.pricing import Explanation, Line, price_claim
from parley.engine.compile import compile_rates
from parley.engine.reprice import STATUSES, Tolerance, _pmod, prepare
from parley.errors import InputError, WorkspaceError
from parley.services.contracts import RefdataContext, workspace_contracts
from parley.services.reprice_facility import (
    FAC_FINAL_SQL,
    LATEST_837_SQL,
    explain_facility,
    facility_inputs,
    price_facility,
)
from parley.store.workspace import Workspace

DERIVED = "derived"
REPRICED = "repriced_lines"

# Lines and claims are keyed by integers while priced (file number x 2^40 + line / claim sequence:
# cheaper to build, hold and join than text), the derived dataset by text (file id:sequence).
_FILES_SQL = """
CREATE OR REPLACE TEMP TABLE reprice_files AS
SELECT file_id, CAST(row_number() OVER (ORDER BY file_id) AS BIGINT) * 1099511627776 AS key_base
FROM (SELECT DISTINCT file_id FROM manifest)
"""

# Every remitted claim with what is known of its claim id (its last payment date, the days it
# was reversed, its latest 837 submission), for the facility and the professional claims alike:
# joins on the claim id text are the cost of this stage (about 1 CPU-s per million claims each),
# and the two kinds of claims share these.
_REMIT_837_SQL = """
CREATE OR REPLACE TEMP TABLE remit_837 AS
WITH ids AS (
    SELECT claim_id, max(payment_date) AS last_payment_date,
           list(DISTINCT payment_date) FILTER (WHERE is_reversal) AS reversal_days
    FROM remit_claims GROUP BY claim_id
),
b AS ({latest})
SELECT r.file_id, r.claim_seq, r.claim_id, r.status_code, r.payer_id, r.payer_name, r.filing_indicator, r.payment_date,
       r.service_date_from, r.service_date_to, r.charge_amount, r.paid_amount, r.patient_responsibility, r.facility_code,
       r.frequency_code, r.drg_code, r.is_reversal, ids.last_payment_date, ids.reversal_days,
       b.* EXCLUDE (claim_id), fb.key_base + b.b_claim_seq AS b_claim_key
FROM remit_claims r
JOIN ids USING (claim_id)
LEFT JOIN b USING (claim_id)
LEFT JOIN reprice_files fb ON fb.file_id = b.b_file_id
"""

# The remitted claims to price, one row each, with their 837 claim (the latest submission of the
# claim id): claim-level work done once per claim, so the line-level joins below are on integer
# keys of the (835 and 837) claims.
_CLAIMS_SQL = """
CREATE OR REPLACE TEMP TABLE reprice_claims AS
SELECT r.file_id, r.claim_seq, f.key_base, r.claim_id, CAST(r.status_code AS t_claim_status) AS status_code,
       coalesce(r.b_payer_id, r.payer_id) AS payer_id, CAST(r.payer_name AS t_payer_name) AS payer_name,
       CAST(m.source_path AS t_remit_file) AS remit_file,
       coalesce(r.b_filing, r.filing_indicator) AS filing_indicator, r.payment_date,
       r.service_date_from AS claim_service_date,
       -- the claim's last word: no later remit, and no reversal on the same payment date
       coalesce(NOT (r.last_payment_date > r.payment_date OR list_contains(r.reversal_days, r.payment_date)), true) AS is_final,
       r.b_file_id, r.b_claim_seq, r.claim_pos,
       f.key_base + r.claim_seq AS claim_key, r.b_claim_key
FROM remit_837 r
JOIN reprice_files f ON f.file_id = r.file_id
LEFT JOIN (SELECT file_id, source_path FROM manifest) m ON m.file_id = r.file_id
LEFT JOIN fac_remit fx ON fx.file_id = r.file_id AND fx.claim_seq = r.claim_seq
WHERE NOT coalesce(r.is_reversal, false) AND fx.claim_key IS NULL
"""

# One row per remitted line to price; its 837 line is matched within the claim's 837 claim on
# the line control number (REF*6R) when the remit gives one, else on the line number (a claim's
# line numbers are unique: LX).
_INPUT_SQL = """
CREATE OR REPLACE TEMP TABLE reprice_input AS
WITH pr AS (
    SELECT f.key_base + a.line_seq AS line_key, sum(a.amount) AS pr
    FROM (SELECT file_id, line_seq, amount FROM adjustments WHERE level = 'line' AND group_code = 'PR' {remit_where}) a
    JOIN reprice_files f USING (file_id) GROUP BY ALL
),
rl AS (
    SELECT f.key_base + r.claim_seq AS claim_key, f.key_base + r.line_seq AS line_key, r.*
    FROM (SELECT file_id, claim_seq, line_seq, line_number, line_control_number, procedure_code, modifier_1, modifier_2,
                 modifier_3, modifier_4, submitted_procedure_code, units, submitted_units, charge_amount, allowed_amount,
                 paid_amount, service_date_from FROM remit_lines WHERE true {remit_where}) r
    JOIN reprice_files f USING (file_id)
),
b AS (
    SELECT f.key_base + c.claim_seq AS b_claim_key, c.line_number, c.line_control_number, c.procedure_code, c.modifier_1,
           c.modifier_2, c.modifier_3, c.modifier_4, c.units, c.charge_amount, c.place_of_service, c.rendering_npi,
           c.service_date_from
    FROM (SELECT * FROM claim_lines WHERE true {b_where}) c JOIN reprice_files f USING (file_id)
    {b_semi}
),
j AS (
    SELECT rl.*, rc.claim_id, rc.status_code, rc.is_final, rc.payer_id, rc.payer_name, rc.remit_file, rc.filing_indicator,
           rc.payment_date, rc.claim_service_date, coalesce(pr.pr, 0) AS pr_amount,
           coalesce(bn.procedure_code, bl.procedure_code) AS b_code, coalesce(bn.modifier_1, bl.modifier_1) AS b_m1,
           coalesce(bn.modifier_2, bl.modifier_2) AS b_m2, coalesce(bn.modifier_3, bl.modifier_3) AS b_m3,
           coalesce(bn.modifier_4, bl.modifier_4) AS b_m4, coalesce(bn.units, bl.units) AS b_units,
           coalesce(bn.charge_amount, bl.charge_amount) AS b_charge,
           coalesce(bn.place_of_service, bl.place_of_service,
                    CASE WHEN bn.b_claim_key IS NOT NULL OR bl.b_claim_key IS NOT NULL THEN rc.claim_pos END) AS b_pos,
           coalesce(bn.rendering_npi, bl.rendering_npi) AS b_npi, coalesce(bn.service_date_from, bl.service_date_from) AS b_date,
           coalesce(bn.procedure_code, bl.procedure_code) IS NOT NULL AS has_837
    FROM rl
    JOIN {claims} rc ON rc.claim_key = rl.claim_key
    -- two equality joins, at most one of which matches (an OR in one join condition made every
    -- remitted line compare with every line of its 837 claim)
    LEFT JOIN b bn ON bn.b_claim_key = rc.b_claim_key
         AND bn.line_number = CASE WHEN rl.line_control_number IS NULL THEN rl.line_number END
    LEFT JOIN (SELECT * FROM b WHERE line_control_number IS NOT NULL) bl
         ON bl.b_claim_key = rc.b_claim_key AND bl.line_control_number = rl.line_control_number
    LEFT JOIN pr ON pr.line_key = rl.line_key
)
SELECT
    line_key,
    claim_key,
    file_id, claim_seq, line_seq, claim_id, line_number, payer_id, payer_name, remit_file, filing_indicator, payment_date,
    status_code AS claim_status, is_final,
    coalesce(b_date, service_date_from, claim_service_date) AS service_date,
    coalesce(b_code, submitted_procedure_code, procedure_code) AS procedure_code,
    CASE WHEN has_837 THEN b_m1 ELSE modifier_1 END AS modifier_1,
    CASE WHEN has_837 THEN b_m2 ELSE modifier_2 END AS modifier_2,
    CASE WHEN has_837 THEN b_m3 ELSE modifier_3 END AS modifier_3,
    CASE WHEN has_837 THEN b_m4 ELSE modifier_4 END AS modifier_4,
    CAST(coalesce(b_units, submitted_units, units, 1) AS DECIMAL(12, 3)) AS units,
    CAST(coalesce(b_charge, charge_amount) AS DECIMAL(14, 2)) AS charge_amount,
    b_pos AS place_of_service,
    b_npi AS rendering_npi,
    CAST(pr_amount AS DECIMAL(14, 2)) AS patient_responsibility,
    CAST(coalesce(allowed_amount, paid_amount + pr_amount) AS DECIMAL(14, 2)) AS actual_allowed,
    paid_amount,
    (status_code = '4' OR (paid_amount = 0 AND coalesce(allowed_amount, 0) = 0 AND pr_amount = 0)) AS denied,
    procedure_code AS paid_code,
    has_837,
    ((has_837 AND b_code <> procedure_code)
     OR (submitted_procedure_code IS NOT NULL AND submitted_procedure_code <> procedure_code)) AS recoded
FROM j
"""

def tolerance_for(workspace: Workspace, dollars: str | Decimal | None = None, percent: str | Decimal | None = None) -> Tolerance:
    s = workspace.settings
    try:
        return Tolerance(Decimal(str(dollars if dollars is not None else s.tolerance_dollars)),
                         Decimal(str(percent if percent is not None else s.tolerance_percent)))
    except ArithmeticError as exc:
        raise InputError(f"tolerance must be a number: {exc}") from None


def _derived_dir(ws: Workspace) -> Path:
    return ws.datasets / DERIVED / REPRICED


def _load_contracts(ws: Workspace) -> list[Contract]:
    contracts = workspace_contracts(ws)
    if not contracts:
        raise WorkspaceError(f"no contracts in {ws.contracts_dir}",
                             hint="add contract YAML files there (see docs/contracts.md), then run 'parley reprice'")
    return contracts


# Lines priced per pass: above this, the remitted claims are split into contiguous ranges of
# claims (a claim's lines stay together: MPPR ranks within a claim) priced and written one range
# at a time, so memory is bounded by a range, not by the workspace.
PART_LINES = 2_000_000


def reprice(*, workspace: Workspace, tolerance_dollars: str | Decimal | None = None,
            tolerance_percent: str | Decimal | None = None, threads: int | None = None,
            memory_limit: str | None = None, part_lines: int | None = None) -> dict[str, Any]:
    """Price every remitted line; write the derived dataset; return counts and roll-ups.

    ``memory_limit`` (e.g. ``"2GB"``) caps DuckDB's memory: what does not fit spills to
    ``datasets/derived/.spill`` (removed afterwards), trading time for memory.  Default:
    DuckDB's (80% of RAM); memory is bounded anyway by ``part_lines`` (default
    :data:`PART_LINES`) lines priced at a time (10M lines: 2.5 GB at most, and a 2 GB cap
    costs no time).
    """
    started = time.perf_counter()
    ws = workspace
    contracts = _load_contracts(ws)
    tol = tolerance_for(ws, tolerance_dollars, tolerance_percent)
    ctx = RefdataContext(ws.refdata_dir)
    con = ws.connect(threads=threads)
    con.execute("SET preserve_insertion_order = false")  # lets COPY stream without order buffers
    spill = _limit_memory(con, ws, memory_limit)
    _committed_views(con, ws)
    _enum_types(con)
    clock = _Clock()
    target = _derived_dir(ws)
    staging = target.parent / f".staging-{uuid.uuid4().hex[:8]}"
    staging.mkdir(parents=True)
    try:
        con.execute(_FILES_SQL)
        con.execute(_REMIT_837_SQL.format(latest=LATEST_837_SQL.format(claim_filter='')))
        n_fac = facility_inputs(con, joined="remit_837")
        clock.lap("facility_inputs")
        con.execute(_CLAIMS_SQL)
        con.execute("DROP TABLE remit_837")  # one row per remitted claim: done with once the claims are split
        parts = _parts(con, part_lines or PART_LINES)
        fac_until = con.execute("SELECT max(greatest(statement_to, statement_from, admission_date)) FROM fac_remit").fetchone()
        price_facility(con, contracts, tol, (fac_until[0] if fac_until else None) or dt.date.today())
        clock.lap("facility")
        # with several parts the rate table is compiled part by part (the keys each part adds),
        # for periods up to a bound known before the first part; one part: up to its last date
        until = _until_bound(con) if len(parts) > 1 else None
        clock.lap("claims")
        compiled: set[tuple[Any, ...]] = set()
        rate_tables: list[pa.Table] = []
        n_lines = 0
        for i, bounds in enumerate(parts):
            n_lines += _price_part(con, i, bounds, _Pricing(contracts, ctx, tol, until, compiled, rate_tables), staging, clock)
        if not n_lines and not n_fac:
            raise WorkspaceError("no remitted lines to price", hint="ingest 835 files first ('parley ingest')")
        _swap(staging, target)
        totals = summary(workspace=ws, con=con)
        clock.lap("summary")
    finally:
        con.close()
        shutil.rmtree(staging, ignore_errors=True)
        if spill is not None:
            shutil.rmtree(spill, ignore_errors=True)
    n_rates = sum(t.num_rows for t in rate_tables)
    totals.update({"lines_priced": n_lines + n_fac, "facility_claims_priced": n_fac, "contracts": len(contracts),
                   "rate_rows": n_rates, "parts": len(parts), "dataset": str(target),
                   "seconds": round(time.perf_counter() - started, 2),
                   "compile_seconds": round(clock.laps.get("compile", 0.0), 2), "timings": clock.laps, "peak_rss_mb": clock.rss,
                   "tolerance": {"dollars": str(tol.dollars), "percent": str(tol.percent)}})
    return totals


@dataclass
class _Pricing:
    """What every part of a reprice shares: the contracts, the tolerance and the rate table so far."""

    contracts: list[Contract]
    ctx: RefdataContext
    tol: Tolerance
    until: dt.date | None
    compiled: set[tuple[Any, ...]]
    rate_tables: list[pa.Table]
    rate_types: dict[str, str] = field(default_factory=dict)  # rate table column -> its ENUM type (_enum_rates)


def _parts(con: duckdb.DuckDBPyConnection, part_lines: int) -> list[tuple[int, int] | None]:
    """[None] (one pass) or contiguous claim-key ranges [lo, hi] of about ``part_lines`` lines each."""
    row = con.execute("SELECT count(*) FROM remit_lines").fetchone()
    k = -(-(row[0] if row else 0) // max(part_lines, 1))
    if k <= 1:
        return [None]
    cuts = con.execute(f"SELECT quantile_disc(key_base + claim_seq, [{', '.join(str(j / k) for j in range(1, k))}]) "
                       "FROM reprice_claims").fetchone()
    edges = sorted(set(cuts[0] if cuts and cuts[0] else []))
    lows = [-1, *edges]
    return [(lo + 1, hi) for lo, hi in zip(lows, [*edges, 2 ** 62], strict=True)]


def _until_bound(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    """A date no line to price is after (the latest 837 line, remitted line or remitted claim date
    of the workspace): the rates are compiled up to it before the first part is read.

    Over whole tables, not only the claims priced (semi joins on 10M lines cost 3 s for the
    same answer but for reversals and facility claims: a later bound only adds periods)."""
    row = con.execute("""
        SELECT greatest((SELECT max(service_date_from) FROM claim_lines), (SELECT max(service_date_from) FROM remit_lines),
                        (SELECT max(claim_service_date) FROM reprice_claims))""").fetchone()
    return row[0] if row else None


def _price_part(con: duckdb.DuckDBPyConnection, i: int, bounds: tuple[int, int] | None, pr: _Pricing,
                staging: Path, clock: _Clock) -> int:
    """Price one range of claims (all of them when ``bounds`` is None) and write its Parquet files
    (the first part's with the facility claims' rows); returns the number of lines priced."""
    # joins as written (the small side builds): DuckDB's estimates over the Parquet views are
    # off by orders of magnitude and it would hash the million-row side
    con.execute("SET disabled_optimizers = 'build_side_probe_side'")
    if bounds is None:
        remit_where = ""
        con.execute(_INPUT_SQL.format(claims="reprice_claims", remit_where="", b_where="", b_semi=""))
    else:
        con.execute(f"CREATE OR REPLACE TEMP TABLE part_claims AS SELECT * FROM reprice_claims "
                    f"WHERE claim_key BETWEEN {bounds[0]} AND {bounds[1]}")
        remit_where, b_where = _part_filters(con)
        con.execute(_INPUT_SQL.format(claims="part_claims", remit_where=remit_where, b_where=b_where, b_semi=_PART_837_SEMI))
    con.execute("RESET disabled_optimizers")
    con.execute(_RECODED_SQL.format(remit_where=remit_where))
    clock.lap("read_inputs")
    n = con.execute("SELECT count(*), max(service_date) FROM reprice_input").fetchone()
    until = pr.until or (n[1] if n else None) or dt.date.today()
    keys = {tuple(k) for k in con.execute(_KEYS_SQL.format(src="reprice_input")).fetchall()}
    keys |= {tuple(k) for k in con.execute(_KEYS_SQL.format(src="recoded_input")).fetchall()}
    new = keys - pr.compiled
    clock.lap("keys")
    if new or not pr.rate_tables:
        pr.rate_tables.append(compile_rates(pr.contracts, new, pr.ctx, until=until))
        pr.compiled |= new
        con.register("rates", pa.concat_tables(pr.rate_tables) if len(pr.rate_tables) > 1 else pr.rate_tables[0])
        pr.rate_types = _enum_rates(con, i)
    clock.lap("compile")
    priced_sql = prepare(con, "reprice_input", "rates_e", pr.tol, carry=_CARRY, status_type="line_status")
    clock.lap("mppr_ranks")
    paid_sql = prepare(con, "recoded_input", "rates_e", pr.tol, ranks_table="mppr_ranks_paid_code", status_type="line_status")
    con.execute(f"CREATE OR REPLACE TEMP TABLE priced_paid_code AS {paid_sql}")
    clock.lap("recoded_at_paid_code")
    _scalar_fallback(con, pr.contracts, pr.ctx, pr.tol)
    clock.lap("scalar_fallback")
    facility = f"SELECT {_typed_facility(pr.rate_types)} FROM ({FAC_FINAL_SQL})" + ("" if i == 0 else " LIMIT 0")  # same columns in every file
    _copy(con, f"({_final_sql(con, priced_sql)}) UNION ALL BY NAME ({facility})", staging, f"part-{i:04d}-{{i}}")
    for table in _PART_TABLES:  # freed before the next part's are built (a replace holds both at once)
        con.execute(f"DROP TABLE IF EXISTS {table}")
    clock.lap("price_classify_write")
    return int(n[0]) if n else 0


# Text columns written as ENUMs (DuckDB keeps a small integer per row and writes the type's
# values as the Parquet dictionary; a text column costs the writer a hash per row: half the
# write of the 58 columns at 1M lines).  The Parquet columns are plain strings either way.
_RATE_TEXT = ("contract_id", "product_line", "segment", "kind", "term", "method")
_CLAIM_TEXT = {"t_claim_status": "SELECT DISTINCT status_code FROM remit_claims",
               "t_payer_name": "SELECT DISTINCT payer_name FROM remit_claims",
               "t_remit_file": "SELECT DISTINCT source_path FROM manifest"}


def _enum_type(con: duckdb.DuckDBPyConnection, name: str, values: Any) -> None:
    vals = sorted({str(v) for v in values if v is not None}) or [""]
    con.execute(f"CREATE TYPE {name} AS ENUM ({', '.join(_lit(v) for v in vals)})")


def _lit(v: str) -> str:
    """A text as a SQL literal."""
    return "'" + v.replace("'", "''") + "'"


def _enum_types(con: duckdb.DuckDBPyConnection) -> None:
    """The types of the statuses, the pricing level and the claim-level text columns."""
    _enum_type(con, "line_status", STATUSES)
    _enum_type(con, "pricing_level", ("line", "claim"))
    for name, sql in _CLAIM_TEXT.items():
        _enum_type(con, name, (r[0] for r in con.execute(sql).fetchall()))


def _enum_rates(con: duckdb.DuckDBPyConnection, i: int) -> dict[str, str]:
    """``rates_e``: the rate table with its text columns as ENUMs of this part's values (and of
    the facility claims', which share the files); returns column -> type."""
    lists = ", ".join(f"list(DISTINCT {c})" for c in _RATE_TEXT)
    values = [con.execute(f"SELECT {lists} FROM {t}").fetchone() for t in ("rates", "priced_facility")]
    types = {}
    for k, col in enumerate(_RATE_TEXT):
        types[col] = f"rt{i}_{col}"
        _enum_type(con, types[col], [v for row in values if row for v in (row[k] or [])])
    casts = ", ".join(f"CAST({c} AS {t}) AS {c}" for c, t in types.items())
    con.execute(f"CREATE OR REPLACE TEMP TABLE rates_e AS SELECT * REPLACE ({casts}) FROM rates")
    return types


def _typed_facility(rate_types: dict[str, str]) -> str:
    """The select list giving the facility rows the line rows' types (a union of an ENUM and a text
    column is text)."""
    casts = [f"CAST({c} AS {t}) AS {c}" for c, t in rate_types.items()]
    casts += [f"CAST({c} AS line_status) AS {c}" for c in ("status", "status_paid_code", "final_status")]
    casts += ["CAST(pricing_level AS pricing_level) AS pricing_level", "CAST(claim_status AS t_claim_status) AS claim_status",
              "CAST(payer_name AS t_payer_name) AS payer_name", "CAST(remit_file AS t_remit_file) AS remit_file"]
    return f"* EXCLUDE (line_key, claim_key) REPLACE ({', '.join(casts)})"


_PART_TABLES = ("reprice_input", "recoded_input", "mppr_ranks", "mppr_ranks_paid_code", "priced_paid_code", "part_claims")


def _limit_memory(con: duckdb.DuckDBPyConnection, ws: Workspace, memory_limit: str | None) -> Path | None:
    if memory_limit is None:
        return None
    if not re.fullmatch(r"\s*\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*", memory_limit, flags=re.IGNORECASE):
        raise InputError(f"memory limit {memory_limit!r}: expected a size such as 2GB or 512MB")
    spill = ws.datasets / DERIVED / ".spill"
    spill.mkdir(parents=True, exist_ok=True)
    con.execute(f"SET memory_limit = '{memory_limit.strip()}'")
    con.execute(f"SET temp_directory = '{spill.as_posix().replace(chr(39), chr(39) * 2)}'")
    return spill


_PRICED_TABLES = ("remit_claims", "remit_lines", "adjustments", "claims", "claim_lines")


def _committed_views(con: duckdb.DuckDBPyConnection, ws: Workspace) -> None:
    """Temp views over the committed files with the file ids as a literal list.

    The workspace's views filter on ``file_id IN (SELECT file_id FROM manifest)``; DuckDB then
    estimates a few thousand rows for a table of millions and builds its hash joins on the big
    side (10x the memory and time of reprice).  A literal list is pushed into the Parquet scan
    and keeps the estimates right.
    """
    ids = [r[0] for r in con.execute("SELECT DISTINCT file_id FROM manifest").fetchall()]
    if not ids:
        return
    listed = ", ".join(_lit(str(i)) for i in ids)
    for name in _PRICED_TABLES:
        if not any((ws.datasets / name).glob("*/part-*.parquet")):
            continue
        glob = _q(ws.datasets / name / "*" / "part-*.parquet")
        con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM read_parquet('{glob}', union_by_name=true) "
                    f"WHERE file_id IN ({listed})")


class _Clock:
    """Seconds per stage of a reprice (reported as ``timings``, summed over its parts) and the process's peak resident
    memory at the end of each stage (``peak_rss_mb``: a running maximum, so the stage where it
    grows is the stage that needed it)."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self.rss: dict[str, int] = {}
        self._t = time.perf_counter()

    def lap(self, name: str) -> float:
        """Close a stage (a stage met again, in a later part, adds to its time)."""
        now = time.perf_counter()
        self.laps[name] = round(self.laps.get(name, 0.0) + now - self._t, 3)
        self.rss[name] = _peak_rss_mb()
        self._t = now
        return self.laps[name]


def _peak_rss_mb() -> int:
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024)


def _scalar_fallback(con: duckdb.DuckDBPyConnection, contracts: list[Contract], ctx: RefdataContext, tol: Tolerance) -> int:
    """Price the few lines the engine leaves to the scalar reference (anesthesia: minutes -> time units).

    The lines are found by joining the input with the anesthesia rows of the rate table (small),
    not by a pricing pass; the results go to ``scalar_fix``, which the final write applies."""
    con.execute("CREATE OR REPLACE TEMP TABLE scalar_fix (line_key BIGINT, ea DECIMAL(14,2), ep DECIMAL(14,2), st line_status, rs VARCHAR, df DECIMAL(14,2))")
    rows = _rows(con, f"""
        SELECT DISTINCT i.* FROM (SELECT *, {_pmod()} AS pmod FROM reprice_input) i
        JOIN (SELECT * FROM rates WHERE kind = 'anesthesia') r
          ON r.payer_id = i.payer_id AND r.filing_indicator = coalesce(i.filing_indicator, '') AND r.code = i.procedure_code
         AND r.pmod = i.pmod AND r.pos = coalesce(i.place_of_service, '') AND i.service_date BETWEEN r.seg_start AND r.seg_end
        WHERE NOT i.denied AND i.charge_amount >= 0 AND i.units >= 0""")
    if not rows:
        return 0
    from parley.domain.pricing import classify, expected_allowed

    fixes: list[tuple[Any, ...]] = []
    for r in rows:
        contract = select_contract(contracts, payer_id=r["payer_id"], filing_indicator=r["filing_indicator"], on=r["service_date"])
        if contract is None:
            continue
        e = expected_allowed(_line(r), contract, ctx)
        if e.expected_allowed is None:
            fixes.append((r["line_key"], None, None, "not_priceable", e.reason, None))
            continue
        status = classify(e.expected_allowed, r["actual_allowed"], tolerance_dollars=tol.dollars, tolerance_percent=tol.percent)
        fixes.append((r["line_key"], e.expected_allowed, e.expected_paid, status, None, e.expected_allowed - r["actual_allowed"]))
    con.executemany("INSERT INTO scalar_fix VALUES (?, ?, ?, ?, ?, ?)", fixes)
    return len(fixes)


# The recoded lines at the payer's code: the paid code and the 835's modifiers (read back from the
# remitted line for these few lines, not carried by every line of reprice_input).
_RECODED_SQL = """
CREATE OR REPLACE TEMP TABLE recoded_input AS
SELECT i.* EXCLUDE (procedure_code, modifier_1, modifier_2, modifier_3, modifier_4), i.paid_code AS procedure_code,
    rl.modifier_1, rl.modifier_2, rl.modifier_3, rl.modifier_4
FROM (SELECT * FROM reprice_input WHERE recoded) i
JOIN (SELECT file_id, line_seq, modifier_1, modifier_2, modifier_3, modifier_4 FROM remit_lines WHERE true {remit_where}) rl
  ON rl.file_id = i.file_id AND rl.line_seq = i.line_seq
"""

# columns of reprice_input the pricing query carries through to the derived dataset
_CARRY = ("file_id", "claim_seq", "line_seq", "claim_id", "payer_name", "remit_file", "payment_date", "claim_status", "paid_code",
          "recoded", "has_837", "is_final")

_KEYS_SQL = """
SELECT DISTINCT payer_id, coalesce(filing_indicator, '') AS fi, procedure_code,
    CASE WHEN modifier_1 IN ('26','TC') THEN modifier_1 WHEN modifier_2 IN ('26','TC') THEN modifier_2
         WHEN modifier_3 IN ('26','TC') THEN modifier_3 WHEN modifier_4 IN ('26','TC') THEN modifier_4 ELSE '' END,
    coalesce(place_of_service, '')
FROM {src} i WHERE payer_id IS NOT NULL AND procedure_code IS NOT NULL
"""

# The derived dataset straight from the streaming pricing query: the only joins are small
# build sides (the recoded lines priced at the paid code, the anesthesia fixes).
_FINAL_SQL = """
WITH p0 AS ({priced}),
p AS ({fixed})
SELECT p.* EXCLUDE (line_key, claim_key),
    q.expected_allowed AS expected_allowed_paid_code,
    q.status AS status_paid_code,
    CASE WHEN p.recoded AND p.status NOT IN ('denied') THEN
            CASE WHEN q.status = 'underpaid' THEN 'underpaid'::line_status
                 WHEN q.status = 'overpaid' THEN 'overpaid'::line_status
                 WHEN p.status = 'not_priceable' THEN 'not_priceable'::line_status
                 ELSE 'recoded'::line_status END
         ELSE p.status END AS final_status,
    CASE WHEN p.recoded THEN greatest(coalesce(p.expected_allowed - q.expected_allowed, 0), 0) ELSE 0 END AS recode_amount,
    CASE WHEN p.recoded AND q.status = 'underpaid' THEN q.difference
         WHEN NOT p.recoded AND p.status = 'underpaid' THEN p.difference ELSE 0 END AS underpaid_amount,
    CASE WHEN p.recoded AND q.status = 'overpaid' THEN -q.difference
         WHEN NOT p.recoded AND p.status = 'overpaid' THEN -p.difference ELSE 0 END AS overpaid_amount,
    'line'::pricing_level AS pricing_level
FROM p
LEFT JOIN (SELECT line_key, expected_allowed, status, difference FROM priced_paid_code) q ON q.line_key = p.line_key
"""

_FIXED_SQL = """
SELECT p0.* REPLACE (
    CASE WHEN f.line_key IS NULL THEN p0.expected_allowed ELSE f.ea END AS expected_allowed,
    CASE WHEN f.line_key IS NULL THEN p0.expected_paid ELSE f.ep END AS expected_paid,
    CASE WHEN f.line_key IS NULL THEN p0.status ELSE f.st END AS status,
    CASE WHEN f.line_key IS NULL THEN p0.reason ELSE f.rs END AS reason,
    CASE WHEN f.line_key IS NULL THEN p0.difference ELSE f.df END AS difference)
FROM p0 LEFT JOIN scalar_fix f USING (line_key)
"""

# Parquet written by DuckDB, one file per thread (a single file is written by one thread, which
# made the write half the whole reprice's time on two cores); snappy costs little CPU.
_COPY_OPTIONS = "FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 122880"


# The 837 lines of one part's claims (a semi join on the part's claims, small, builds).
_PART_837_SEMI = "SEMI JOIN part_claims pc ON pc.b_claim_key = f.key_base + c.claim_seq"


def _part_filters(con: duckdb.DuckDBPyConnection) -> tuple[str, str]:
    """Filters a part's scans of the line tables can push into the Parquet reader (the joins
    stay exact; these only let it skip files and row groups): the part's 835 and 837 files and
    the range of claim sequences in them.  The joins are on computed integer keys, through which
    DuckDB pushes nothing into the scans: without these every part would read every line."""
    row = con.execute("""SELECT list(DISTINCT file_id), min(claim_seq), max(claim_seq),
        list(DISTINCT b_file_id) FILTER (b_file_id IS NOT NULL), min(b_claim_seq), max(b_claim_seq)
        FROM part_claims""").fetchone()
    if not row or row[0] is None:
        return "AND false", "AND false"

    def where(files: list[str] | None, lo: int | None, hi: int | None) -> str:
        if not files:
            return "AND false"
        return f"AND file_id IN ({', '.join(_lit(f) for f in files)}) AND claim_seq BETWEEN {int(lo or 0)} AND {int(hi or 0)}"

    return where(row[0], row[1], row[2]), where(row[3], row[4], row[5])


def _final_sql(con: duckdb.DuckDBPyConnection, priced_sql: str) -> str:
    fixes = con.execute("SELECT count(*) FROM scalar_fix").fetchone()
    return _FINAL_SQL.format(priced=priced_sql, fixed=_FIXED_SQL if fixes and fixes[0] else "SELECT * FROM p0")


def _q(path: Path) -> str:
    return path.as_posix().replace("'", "''")


def _copy(con: duckdb.DuckDBPyConnection, query: str, staging: Path, pattern: str) -> None:
    """Write a query's rows into the staging folder, one file per thread named by ``pattern``."""
    con.execute(f"COPY ({query}) TO '{_q(staging)}' ({_COPY_OPTIONS}, PER_THREAD_OUTPUT true, "
                f"FILENAME_PATTERN '{pattern}', OVERWRITE_OR_IGNORE true)")


def _swap(staging: Path, target: Path) -> None:
    """The new dataset replaces the old one (renames: readers see one or the other)."""
    old = target.parent / f".old-{uuid.uuid4().hex[:8]}"
    if target.exists():
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def repriced_view(ws: Workspace, con: duckdb.DuckDBPyConnection, name: str = "repriced") -> bool:
    """A temp view ``name`` over the derived dataset (False when nothing is repriced yet).

    The text keys ``line_key`` (file id:line sequence, or file id:claim sequence:claim for a facility
    claim's row) and ``claim_key`` (file id:claim sequence) are derived here, not stored: they
    repeat columns of the files and cost the writer a string per row each (a dataset written
    before this stores them)."""
    files = sorted(_derived_dir(ws).glob("part-*.parquet"))
    if not files:
        return False
    source = f"read_parquet('{_q(_derived_dir(ws))}/part-*.parquet')"
    stored = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{_q(files[0])}')").fetchall()}
    keys = "" if "line_key" in stored else _KEYS_SELECT
    con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT {keys}* FROM {source}")
    return True


_KEYS_SELECT = """file_id || ':' || CASE WHEN pricing_level = 'claim' THEN claim_seq || ':claim'
    ELSE CAST(line_seq AS VARCHAR) END AS line_key, file_id || ':' || claim_seq AS claim_key, """


def _repriced(ws: Workspace, con: duckdb.DuckDBPyConnection | None = None) -> duckdb.DuckDBPyConnection:
    con = con or ws.connect()
    if not repriced_view(ws, con):
        raise WorkspaceError("nothing repriced yet", hint="run 'parley reprice' first")
    return con


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    cur = con.execute(sql, params or [])
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def summary(*, workspace: Workspace, con: duckdb.DuckDBPyConnection | None = None) -> dict[str, Any]:
    """Counts by status and by payer / product line of the last reprice."""
    own = con is None
    con = _repriced(workspace, con)
    try:
        by_status = {r["final_status"]: r["n"] for r in _rows(con, "SELECT final_status, count(*) AS n FROM repriced GROUP BY 1 ORDER BY 1")}
        head = _rows(con, """SELECT count(*) AS lines, sum(underpaid_amount) AS underpayment_dollars,
                count(*) FILTER (final_status = 'underpaid') AS underpaid_lines,
                sum(recode_amount) AS recode_dollars FROM repriced""")[0]
        by_payer = _rows(con, f"SELECT * FROM ({_kpi_sql('payer')}) ORDER BY underpayment_dollars DESC")
        reasons = _rows(con, """SELECT reason, count(*) AS lines FROM repriced WHERE final_status = 'not_priceable'
                                GROUP BY 1 ORDER BY 2 DESC LIMIT 10""")
    finally:
        if own:
            con.close()
    return {**head, "by_status": by_status, "by_payer": by_payer, "not_priceable_reasons": reasons}


# --------------------------------------------------------------------------- KPIs, appeals

_GROUPS = {
    "payer": "coalesce(payer_name, payer_id)",
    "product_line": "coalesce(product_line, 'no contract')",
    "code": "coalesce(procedure_code, 'MS-DRG ' || drg_code, 'TOB ' || type_of_bill)",
    "month": "strftime(service_date, '%Y-%m')",
    "contract": "coalesce(contract_id, 'no contract')",
    "claim": "claim_id",
}


def _kpi_sql(by: str) -> str:
    if by not in _GROUPS:
        raise InputError(f"--by {by!r}: choose one of {', '.join(_GROUPS)}")
    return f"""
SELECT {_GROUPS[by]} AS {by},
    count(*) AS lines,
    count(*) FILTER (final_status IN ('paid_correctly', 'underpaid', 'overpaid', 'recoded')) AS adjudicated_priced_lines,
    count(*) FILTER (final_status = 'paid_correctly') AS lines_paid_correctly,
    round(count(*) FILTER (final_status = 'paid_correctly') / nullif(count(*) FILTER (final_status IN ('paid_correctly', 'underpaid', 'overpaid', 'recoded')), 0), 4) AS share_lines_correct,
    sum(actual_allowed) FILTER (final_status IN ('paid_correctly', 'underpaid', 'overpaid', 'recoded')) AS allowed_dollars,
    sum(actual_allowed) FILTER (final_status = 'paid_correctly') AS allowed_dollars_correct,
    round(sum(actual_allowed) FILTER (final_status = 'paid_correctly') / nullif(sum(actual_allowed) FILTER (final_status IN ('paid_correctly', 'underpaid', 'overpaid', 'recoded')), 0), 4) AS share_dollars_correct,
    count(*) FILTER (final_status = 'underpaid') AS underpaid_lines,
    coalesce(sum(underpaid_amount), 0) AS underpayment_dollars,
    count(*) FILTER (final_status = 'overpaid') AS overpaid_lines,
    coalesce(sum(overpaid_amount), 0) AS overpayment_dollars,
    count(*) FILTER (final_status = 'recoded') AS recoded_lines,
    coalesce(sum(recode_amount), 0) AS recode_dollars,
    count(*) FILTER (final_status = 'denied') AS denied_lines,
    count(*) FILTER (final_status = 'not_priceable') AS not_priceable_lines
FROM repriced GROUP BY 1
"""


def accuracy(*, workspace: Workspace, by: str = "payer") -> list[dict[str, Any]]:
    """Payment-accuracy KPIs by payer, product line, code, month or contract."""
    con = _repriced(workspace)
    try:
        return _rows(con, f"SELECT * FROM ({_kpi_sql(by)}) ORDER BY underpayment_dollars DESC, 1")
    finally:
        con.close()


def appeals(*, workspace: Workspace, top: int | None = 50) -> list[dict[str, Any]]:
    """Claims to appeal, ranked by recoverable dollars (underpayment + recode differences)."""
    con = _repriced(workspace)
    limit = f"LIMIT {int(top)}" if top else ""
    try:
        return _rows(con, f"""
SELECT claim_id, any_value(coalesce(payer_name, payer_id)) AS payer, any_value(product_line) AS product_line,
    any_value(contract_id) AS contract_id, min(service_date) AS service_date, max(payment_date) AS payment_date,
    any_value(remit_file) AS remit_file,
    count(*) FILTER (final_status = 'underpaid') AS underpaid_lines,
    count(*) FILTER (final_status = 'recoded') AS recoded_lines,
    sum(underpaid_amount) AS underpayment_dollars, sum(recode_amount) AS recode_dollars,
    sum(underpaid_amount) + sum(recode_amount) AS recoverable_dollars,
    sum(expected_allowed) AS expected_allowed, sum(actual_allowed) AS actual_allowed,
    string_agg(DISTINCT coalesce(procedure_code, 'MS-DRG ' || drg_code, 'TOB ' || type_of_bill), ',') AS codes,
    CASE WHEN bool_or(pricing_level = 'claim') THEN 'claim' ELSE 'line' END AS pricing_level
FROM repriced WHERE is_final AND final_status IN ('underpaid', 'recoded', 'paid_correctly', 'overpaid')
GROUP BY claim_id HAVING sum(underpaid_amount) + sum(recode_amount) > 0
ORDER BY recoverable_dollars DESC, claim_id {limit}""")
    finally:
        con.close()


def export_rows(rows: list[dict[str, Any]], *, csv_path: Path | None = None, xlsx_path: Path | None = None, sheet: str = "Parley") -> list[str]:
    """Write rows as CSV and / or Excel (aside, then renamed); returns the paths written."""
    written = []
    cols = list(rows[0]) if rows else []
    if csv_path:
        tmp = csv_path.with_name(f".{csv_path.name}.tmp")
        with tmp.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(cols)
            w.writerows([[("" if r[c] is None else r[c]) for c in cols] for r in rows])
        tmp.replace(csv_path)
        written.append(str(csv_path))
    if xlsx_path:
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        ws.title = sheet[:31]
        ws.append(cols)
        for r in rows:
            ws.append([float(v) if isinstance(v, Decimal) else v for v in (r[c] for c in cols)])
        for i, c in enumerate(cols, start=1):
            if rows and isinstance(rows[0][c], Decimal):
                for cell in ws.iter_cols(min_col=i, max_col=i, min_row=2):
                    for x in cell:
                        x.number_format = "#,##0.00"
        tmp = xlsx_path.with_name(f".{xlsx_path.name}.tmp.xlsx")
        wb.save(tmp)
        tmp.replace(xlsx_path)
        written.append(str(xlsx_path))
    return written


# --------------------------------------------------------------------------- explain


def explain(*, workspace: Workspace, claim_id: str) -> list[dict[str, Any]]:
    """The derivation of every line of a claim (scalar reference), beside the engine's result.

    A facility claim (priced per claim) gives one ``level: claim`` entry with the claim-level
    derivation, then one ``level: line`` entry per revenue-code line with the claim's expected
    allowed allocated pro rata to the line charges (to the cent, summing exactly).
    """
    con = _repriced(workspace)
    try:
        rows = _rows(con, "SELECT * FROM repriced WHERE claim_id = ? ORDER BY payment_date, file_id, claim_seq, line_number", [claim_id])
        fac_lines: dict[str, list[dict[str, Any]]] = {}
        if any(r.get("pricing_level") == "claim" for r in rows):
            facility_inputs(con, claim_id)
            for r in _rows(con, "SELECT * FROM fac_lines ORDER BY claim_key, line_number"):
                fac_lines.setdefault(r["claim_key"], []).append(r)
    finally:
        con.close()
    if not rows:
        raise InputError(f"claim {claim_id!r} has no repriced lines", hint="check the claim id (CLP01) and run 'parley reprice'")
    contracts = _load_contracts(workspace)
    ctx = RefdataContext(workspace.refdata_dir)
    out: list[dict[str, Any]] = []
    by_remit: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_remit.setdefault(r["claim_key"], []).append(r)
    for remit_rows in by_remit.values():
        first = remit_rows[0]
        contract = select_contract(contracts, payer_id=first["payer_id"], filing_indicator=first["filing_indicator"],
                                   on=first["service_date"])
        if first.get("pricing_level") == "claim":
            out += explain_facility(first, fac_lines.get(first["claim_key"], []), contract)
            continue
        lines = [_line(r) for r in remit_rows]
        exps: list[Explanation | None] = list(price_claim(lines, contract, ctx)) if contract else [None] * len(lines)
        for r, e in zip(remit_rows, exps, strict=True):
            out.append({**explain_row(r), "level": "line", "scalar_expected_allowed": e.expected_allowed if e else None,
                        "derivation": e.steps if e else [r["reason"] or "no contract covers this claim"]})
    return out


def explain_row(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "claim_id": r["claim_id"], "remit_file": r["remit_file"], "payment_date": r["payment_date"],
        "line_number": r["line_number"], "code": r["procedure_code"], "paid_code": r["paid_code"],
        "status": r["final_status"], "expected_allowed": r["expected_allowed"], "actual_allowed": r["actual_allowed"],
        "expected_paid": r["expected_paid"], "paid": r["paid_amount"], "difference": r["difference"],
        "recode_amount": r["recode_amount"], "reason": r["reason"],
    }


def _line(r: dict[str, Any]) -> Line:
    mods = tuple(m for m in (r["modifier_1"], r["modifier_2"], r["modifier_3"], r["modifier_4"]) if m)
    return Line(procedure_code=r["procedure_code"], service_date=r["service_date"], units=r["units"],
                charge_amount=r["charge_amount"], modifiers=mods, place_of_service=r["place_of_service"],
                rendering_npi=r["rendering_npi"], patient_responsibility=r["patient_responsibility"] or Decimal(0),
                line_number=r["line_number"], claim_key=str(r["claim_key"]))


# --------------------------------------------------------------------------- demo


def reprice_demo(workspace: Workspace, demo_inputs_dir: Path) -> dict[str, Any]:
    """Write the demo's contracts as YAML, reprice, and score against the planted underpayments.

    Precision = planted lines among those found underpaid / lines found underpaid;
    recall = planted lines found / planted lines.  Lines are matched on claim id + line number
    (+ the 835 file name when the truth names it).
    """
    from parley.services.contracts import write_demo_contracts

    demo_inputs_dir = Path(demo_inputs_dir)
    cj = demo_inputs_dir / "contracts.json"
    if not cj.is_file():
        raise InputError(f"{cj} not found", hint="generate the demo first ('parley demo')")
    write_demo_contracts(contracts_json=cj, dest=workspace.contracts_dir)
    result = reprice(workspace=workspace)
    truth = _truth(demo_inputs_dir / "ground_truth_underpayments.csv")
    con = _repriced(workspace)
    try:
        found_rows = con.execute("SELECT claim_id, line_number, remit_file FROM repriced WHERE final_status = 'underpaid'").fetchall()
    finally:
        con.close()
    found = {(c, int(n), Path(f or "").name) for c, n, f in found_rows}
    hits = len(found & truth)
    precision = hits / len(found) if found else (1.0 if not truth else 0.0)
    recall = hits / len(truth) if truth else 1.0
    return {
        "underpayment_precision": round(precision, 4), "underpayment_recall": round(recall, 4),
        "planted_underpaid_lines": len(truth), "found_underpaid_lines": len(found), "matched": hits,
        "lines_priced": result["lines_priced"], "underpaid_lines": result["underpaid_lines"],
        "underpayment_dollars": result["underpayment_dollars"], "by_status": result["by_status"],
        "seconds": result["seconds"],
    }


def _truth(path: Path) -> set[tuple[str, int, str]]:
    out = set()
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            out.add((row["clp01_claim_id"], int(row["line_number"]), Path(row.get("file") or "").name))
    return out
