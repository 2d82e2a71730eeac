"""Use cases: contract performance KPIs (denials, speed, burden, mix, operations, population,
quality) and the payer scorecard.  The CLI (``parley kpi``) is a thin face over this.

Appointment and quality extracts are canonical tables (``appointments``,
``quality_measures``; docs/tables.md) loaded by ``parley ingest`` (recognised by
header, or through a column mapping) or :func:`load_operations_file`
(``parley kpi load-appointments`` / ``load-quality``); their columns are documented
in docs/kpi.md and docs/quality.md.

The prepared fact tables (:mod:`parley.engine.kpi.base`) are persisted per
workspace state under ``datasets/derived/kpi_facts/`` and reused while nothing
changes (new files, contracts).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from parley.engine.kpi import (
    burden,
    denials,
    mix,
    operations,
    population,
    quality,
    scorecard,
    speed,
)
from parley.engine.kpi.base import KpiParams, KpiResult, as_of_date, empty_contract_map, facts
from parley.errors import InputError, WorkspaceError
from parley.store.workspace import Workspace

OPERATIONS = "operations"
APPOINTMENT_COLUMNS = ("appointment_id", "appointment_date", "provider_npi", "specialty", "payer", "payer_name",
                       "product_line", "patient_key", "status", "patient_type", "visit_type", "place_of_service")
QUALITY_COLUMNS = ("measure_id", "measure_name", "period", "scope", "numerator", "denominator", "rate", "baseline",
                   "peer_benchmark", "payer_target", "higher_is_better")
_FILES = {"appointments": ("appointments.csv", APPOINTMENT_COLUMNS), "quality": ("quality_measures.csv", QUALITY_COLUMNS)}

_TYPES = {"appointments": "{'patient_key': 'VARCHAR', 'provider_npi': 'VARCHAR', 'place_of_service': 'VARCHAR', 'appointment_date': 'DATE'}",
          "quality_measures": "{'period': 'VARCHAR', 'scope': 'VARCHAR', 'measure_id': 'VARCHAR', 'higher_is_better': 'VARCHAR'}"}

FAMILIES = ("denials", "speed", "burden", "mix", "operations", "population", "quality")


def params_from(**kw: Any) -> KpiParams:
    """KpiParams from options; None keeps the default."""
    clean: dict[str, Any] = {k: (Decimal(str(v)) if k != "as_of" else v) for k, v in kw.items() if v is not None}
    try:
        return KpiParams(**clean)
    except (TypeError, ArithmeticError) as exc:
        raise InputError(f"bad KPI setting: {exc}") from None


def load_operations_file(*, workspace: Workspace, path: Path, kind: str) -> dict[str, Any]:
    """Ingest an appointments / quality CSV into its canonical table (``parley ingest`` does the same).

    The file goes through the ingest service: recognised by its header (docs/kpi.md,
    docs/quality.md), committed atomically, bad rows quarantined with their row and
    column, a file already loaded is a no-op.  Returns kind, rows, status, file_id.
    """
    from parley.services.ingest import ingest_paths

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    table = _KIND_TABLE[kind]
    report = ingest_paths(workspace=workspace, paths=[str(path)], workers=1)
    (res,) = report.as_dict()["files"]
    if res["status"] not in ("duplicate",) and res.get("format") != f"tabular-{table}":
        raise InputError(f"{path}: not an {'appointment extract' if kind == 'appointments' else 'quality-measure file'}"
                         + (f" ({res['first_problems'][0]})" if res.get("first_problems") else ""),
                         hint=f"see docs/{'quality' if kind == 'quality' else 'kpi'}.md for the columns, or ingest it "
                              "with 'parley ingest FILE --mapping MAPPING.yaml'")
    return {"kind": kind, "rows": res["counts"].get(table, 0), "status": res["status"], "file_id": res["file_id"],
            "errors": res["errors"], "first_problems": res["first_problems"]}


_KIND_TABLE = {"appointments": "appointments", "quality": "quality_measures"}


def load_demo_operations(workspace: Workspace, inputs_dir: Path) -> dict[str, Any]:
    """Ingest the demo's appointments.csv and quality_measures.csv (the demo calls this)."""
    out = {}
    for kind, (name, _) in _FILES.items():
        if (Path(inputs_dir) / name).is_file():
            out[kind] = load_operations_file(workspace=workspace, path=Path(inputs_dir) / name, kind=kind)["rows"]
    return out


# --------------------------------------------------------------------------- connection


def _contract_tables(ws: Workspace, con: duckdb.DuckDBPyConnection) -> str | None:
    """Register kpi_contract_map and kpi_prior_auth; return the practice locality from the contracts."""
    from parley.services.contracts import workspace_contracts

    contracts = workspace_contracts(ws, check_reference=False) if ws.contracts_dir.is_dir() else []
    rows, auth, locality = [], [], None
    for c in contracts:
        pp = c.prompt_pay
        for pid in c.payer.payer_ids:
            indicators: list[str | None] = list(c.claim_filing_indicators) or [None]
            for fi in indicators:
                rows.append((c.contract_id, pid, fi, c.effective, c.expires, " / ".join(c.product_lines),
                             pp.days if pp else None, pp.interest_percent_annual if pp else None, c.timely_filing_days))
        auth += [(c.contract_id, code) for code in c.prior_authorization_codes]
        m = getattr(c.professional, "methodology", None) if c.professional else None
        locality = locality or getattr(m, "locality", None) or getattr(m, "zip", None)
    empty_contract_map(con)
    if rows:
        con.executemany("INSERT INTO kpi_contract_map VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    con.execute("CREATE OR REPLACE TEMP TABLE kpi_prior_auth (contract_id VARCHAR, procedure_code VARCHAR)")
    if auth:
        con.executemany("INSERT INTO kpi_prior_auth VALUES (?, ?)", auth)
    return locality


def _refdata_tables(ws: Workspace, con: duckdb.DuckDBPyConnection, locality: str | None) -> dict[str, Any]:
    import polars as pl

    from parley import refdata

    extra = ws.refdata_dir
    con.register("_carc", refdata.carc(extra).select("code", "category", "category_label", "recoverable").to_arrow())
    con.execute("CREATE OR REPLACE TEMP TABLE kpi_carc AS SELECT * FROM _carc")
    con.register("_pos", refdata.place_of_service(extra).select("pos", "facility").to_arrow())
    con.execute("CREATE OR REPLACE TEMP TABLE kpi_pos AS SELECT * FROM _pos")
    em = pa.table({"code": list(operations.EM_BENCHMARK), "benchmark_share": list(operations.EM_BENCHMARK.values())})
    con.register("_em", em)
    con.execute("CREATE OR REPLACE TEMP TABLE kpi_em_benchmark AS SELECT * FROM _em")
    zip_code = ws.settings.practice_zip
    place = {"zip": zip_code} if zip_code else ({"zip": locality} if locality and "-" not in locality and len(locality) == 5 else {"locality": locality})
    years = [r[0] for r in con.execute("SELECT DISTINCT year FROM kpi_line_cube WHERE year IS NOT NULL").fetchall()]
    have = refdata.available_years(extra)
    frames = []
    for y in years:
        src = min(have, key=lambda h: (abs(h - y), -h))
        for fac in (False, True):
            fs = refdata.fee_schedule(src, facility=fac, extra_dir=extra, **place)
            frames.append(fs.select(pl.lit(y).alias("year"), "hcpcs", "modifier", pl.lit(fac).alias("facility"),
                                    pl.col("amount").cast(pl.Float64),
                                    (pl.col("work_rvu") + pl.col("pe_rvu") + pl.col("mp_rvu")).cast(pl.Float64).alias("total_rvu")))
    con.execute("CREATE OR REPLACE TEMP TABLE kpi_mfs (year INTEGER, hcpcs VARCHAR, modifier VARCHAR, facility BOOLEAN, amount DECIMAL(12, 2), total_rvu DOUBLE)")
    if frames:
        con.register("_mfs", pl.concat(frames).to_arrow())
        con.execute("INSERT INTO kpi_mfs SELECT * FROM _mfs")
    return {"medicare_place": place or "national", "pfs_years": {y: min(have, key=lambda h: (abs(h - y), -h)) for y in years}}


def _operations_views(ws: Workspace, con: duckdb.DuckDBPyConnection, appointments: Path | None, quality_csv: Path | None) -> None:
    """The canonical appointments / quality_measures tables stand, unless a CSV is given for this run.

    A workspace of an older Parley may still hold ``<workspace>/operations/*.csv`` copies and
    nothing ingested: those are read then (ingest them with 'parley ingest' to move on)."""
    for view, given, (name, _cols) in (("appointments", appointments, _FILES["appointments"]),
                                       ("quality_measures", quality_csv, _FILES["quality"])):
        legacy = ws.root / OPERATIONS / name
        ingested = con.execute(f"SELECT count(*) FROM (SELECT 1 FROM main.{view} LIMIT 1)").fetchone()[0]
        path = Path(given) if given else (legacy if not ingested and legacy.is_file() else None)
        if path is None:
            continue
        if not path.is_file():
            raise InputError(f"{path}: no such file")
        p = path.as_posix().replace("'", "''")
        src = f"read_csv('{p}', header = true, all_varchar = false, types = {_TYPES[view]})"
        have = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()}
        extra = "".join(f", NULL::VARCHAR AS {c}" for c in ("referral_source",) if view == "appointments" and c not in have)
        con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT *{extra} FROM {src}")


def facts_dir(ws: Workspace) -> Path:
    """Where the prepared KPI fact tables are persisted, one folder per workspace state."""
    return ws.datasets / "derived" / "kpi_facts"


class KpiSession:
    """One prepared connection for a workspace: build once, run many metrics."""

    def __init__(self, *, workspace: Workspace, params: KpiParams | None = None, threads: int | None = None,
                 appointments: Path | None = None, quality_csv: Path | None = None, persist: bool = True) -> None:
        self.ws = workspace
        self.params = params or KpiParams()
        self.con = workspace.connect(threads=threads)
        locality = _contract_tables(workspace, self.con)
        #: "built", "reused" (persisted facts of the same workspace state) or "built (not persisted)"
        self.facts = facts(self.con, facts_dir(workspace) if persist else None)
        self.as_of = as_of_date(self.con, self.params)
        self.context = {"as_of": self.as_of, **_refdata_tables(workspace, self.con, locality)}
        self.has_repriced = self._repriced()
        _operations_views(workspace, self.con, appointments, quality_csv)

    def _repriced(self) -> bool:
        from parley.services.reprice import repriced_view

        return repriced_view(self.ws, self.con)

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> KpiSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------- families

    def family(self, name: str, *, by: str = "payer", top: int = 20) -> list[KpiResult]:
        runs: dict[str, Callable[[], list[KpiResult]]] = {
            "denials": lambda: [denials.denial_rates(self.con, by=by), denials.top_reasons(self.con, top=min(top, 20))],
            "speed": lambda: [speed.days_to_pay(self.con, by=by), speed.days_to_pay_distribution(self.con, by=by),
                              speed.accounts_receivable(self.con, by=by if by in ("payer", "product_line", "all") else "payer"),
                              speed.prompt_pay(self.con)],
            "burden": lambda: [burden.burden(self.con, self.params)],
            "mix": lambda: [mix.payer_mix(self.con), mix.top_codes(self.con, top=top), mix.medicare_value(self.con),
                            mix.medicare_value(self.con, by_code=True), mix.payments_per_visit(self.con)]
                           + ([mix.actual_vs_modeled(self.con)] if self.has_repriced else []),
            "operations": lambda: [operations.visits(self.con), operations.em_levels(self.con), operations.referrals(self.con)],
            "population": lambda: [population.age_bands(self.con), population.chronic_prevalence(self.con),
                                   population.top_diagnoses(self.con, top=min(top, 10))],
            "quality": lambda: [quality.measures(self.con)],
        }
        if name not in runs:
            raise InputError(f"unknown KPI family {name!r}: choose one of {', '.join(FAMILIES)}")
        results = runs[name]()
        for r in results:
            r.assumptions = {**r.assumptions, "as_of": str(self.as_of)}
        return results

    def scorecard(self) -> KpiResult:
        """One row per payer; see :mod:`parley.engine.kpi.scorecard`."""
        by_payer: dict[str, dict[str, Any]] = {}

        def merge(result: KpiResult, cols: dict[str, str]) -> None:
            for r in result.rows:
                if r.get("payer") is not None and r["payer"] in by_payer:
                    by_payer[r["payer"]].update({new: r.get(old) for old, new in cols.items()})

        for r in mix.payer_mix(self.con).rows:
            by_payer[r["payer"]] = {"payer": r["payer"], "claims": r["claims"], "collected": r["collected"],
                                    "share_of_collected": r["share_of_collected"]}
        merge(mix.medicare_value(self.con), {"percent_of_medicare": "percent_of_medicare", "revenue_per_rvu": "revenue_per_rvu"})
        if self.has_repriced:
            merge(mix.actual_vs_modeled(self.con), {"actual_vs_modeled": "actual_vs_modeled"})
            merge(self._accuracy(), {"payment_accuracy": "payment_accuracy"})
        merge(denials.denial_rates(self.con, by="payer"), {"initial_denial_rate": "initial_denial_rate", "final_denial_rate": "final_denial_rate"})
        merge(speed.days_to_pay(self.con, by="payer"), {"median_days_to_pay": "median_days_to_pay"})
        merge(speed.accounts_receivable(self.con, by="payer"), {"days_in_ar": "days_in_ar"})
        merge(self._late(), {"late_share": "late_share"})
        merge(burden.burden(self.con, self.params), {"prior_auths_per_100_claims": "prior_auths_per_100_claims", "cost_to_collect": "cost_to_collect"})
        rows = [scorecard.score(r) for r in by_payer.values()]
        rows.sort(key=lambda r: -(r["value_score"] or 0))
        return KpiResult("scorecard", "payer_scorecard", rows, scorecard.DEFINITIONS,
                         assumptions={**self.params.as_dict(), "as_of": str(self.as_of)},
                         notes=["scores use fixed anchors (docs/kpi.md), so they compare across payers and over time"])

    def _accuracy(self) -> KpiResult:
        from parley.engine.kpi.base import rows

        sql = """SELECT coalesce(pm.payer, r.payer_name, r.payer_id) AS payer,
            round(CAST(sum(actual_allowed) FILTER (final_status = 'paid_correctly') AS DOUBLE)
                  / nullif(sum(actual_allowed) FILTER (final_status IN ('paid_correctly', 'underpaid', 'overpaid', 'recoded')), 0), 4) AS payment_accuracy
            FROM repriced r LEFT JOIN kpi_payer_ids pm USING (payer_id)
            WHERE is_final GROUP BY 1"""
        return KpiResult("scorecard", "payment_accuracy", rows(self.con, sql), {})

    def _late(self) -> KpiResult:
        res = speed.prompt_pay(self.con)
        agg: dict[str, list[int]] = {}
        for r in res.rows:
            a = agg.setdefault(r["payer"], [0, 0])
            a[0] += r["late_claims"]
            a[1] += r["paid_claims_with_terms"]
        return KpiResult("speed", "late", [{"payer": p, "late_share": round(a / b, 4) if b else None} for p, (a, b) in agg.items()], {})


def run(*, workspace: Workspace, family: str, by: str = "payer", top: int = 20, params: KpiParams | None = None,
        appointments: Path | None = None, quality_csv: Path | None = None) -> list[KpiResult]:
    """Run one KPI family (or 'scorecard') and return its result tables.

    DuckDB errors (typically a malformed appointments / quality CSV) are translated to
    :class:`~parley.errors.WorkspaceError` here, at the service edge.
    """
    try:
        with KpiSession(workspace=workspace, params=params, appointments=appointments, quality_csv=quality_csv) as s:
            if family == "scorecard":
                return [s.scorecard()]
            return s.family(family, by=by, top=top)
    except duckdb.Error as exc:
        raise WorkspaceError(f"KPI '{family}' failed: {str(exc).splitlines()[0]}",
                             hint="check the operations CSVs (parley kpi load-appointments / load-quality) and the "
                                  "datasets ('parley status'); rerun with --debug for details") from exc


def prepare_facts(*, workspace: Workspace) -> dict[str, Any]:
    """Build (or confirm) the persisted fact tables of the workspace's current state.

    Worth running after an ingest so the next KPI / scorecard / brief run starts warm.
    Returns the status ("built" / "reused"), the state key folder, row counts and seconds.
    """
    import time

    from parley.engine.kpi.base import FACT_TABLES

    started = time.perf_counter()
    with KpiSession(workspace=workspace) as s:
        counts = {t: s.con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in FACT_TABLES}
        folder = next((p for p in facts_dir(workspace).iterdir() if p.is_dir() and not p.name.startswith(".")), None) \
            if facts_dir(workspace).is_dir() else None
        return {"facts": s.facts, "folder": str(folder) if folder else None, "rows": counts, "as_of": str(s.as_of),
                "seconds": round(time.perf_counter() - started, 2)}


def as_json(results: list[KpiResult]) -> list[dict[str, Any]]:
    return [r.as_dict() for r in results]
