"""Use cases of negotiation modeling: scenarios, walk-away / ZOPA, payer exit, value-based
sensitivity, rubric, objections, and the strategy for one payer (CLI and web share them).

Scenarios read the derived dataset of repriced lines (``parley reprice`` first)
and value each proposal with the repricing engine (:mod:`parley.engine.scenarios`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import yaml
from pydantic import BaseModel, ConfigDict, Field

from parley.domain import negotiation as neg
from parley.domain import objections as obj
from parley.domain import rubric as rub
from parley.domain.contracts import Contract
from parley.domain.scenarios import Proposal
from parley.domain.value_based import Population, VbcTerms, build, from_contract_terms
from parley.engine import montecarlo as mc
from parley.engine.scenarios import Valuation, price_lines, value_proposal
from parley.errors import InputError, WorkspaceError
from parley.services.contracts import RefdataContext, workspace_contracts
from parley.store.workspace import Workspace

BASE_REL = "sc_base"
PROF_REL = "sc_base_prof"
"""The professional lines of the base period (``pricing_level = 'line'``): what the rate scenarios value."""
FACILITY = "coalesce(pricing_level, 'line') = 'claim'"
"""Facility (institutional) claims: one claim-level row each in the repriced dataset, priced per claim
by :mod:`parley.engine.facility` (docs/contracts.md, "Facility terms")."""


def read_yaml(path: Path, *, what: str) -> Any:
    try:
        return yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read the {what}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML: {exc}") from None


def load_proposal(path: Path) -> Proposal:
    """A proposal YAML file; errors name the file and the field."""
    data = read_yaml(path, what="proposal")
    try:
        return build(Proposal, data, what=str(path))  # type: ignore[return-value]
    except InputError as exc:
        raise InputError(str(exc), hint="see docs/strategy.md and examples/proposals/") from None


def payer_contracts(contracts: list[Contract], payer: str, product_lines: list[str] | None = None) -> list[Contract]:
    """Contracts whose id, payer name or payer id equals ``payer`` (case-insensitive), by product line."""
    needle = payer.strip().lower()
    lines = {p.lower() for p in product_lines or []}
    out = []
    for c in contracts:
        names = {c.contract_id.lower(), c.payer.name.lower(), *(x.lower() for x in c.payer.payer_ids)}
        if needle in names and (not lines or lines & {p.lower() for p in c.product_lines}):
            out.append(c)
    return out


def _repriced_view(ws: Workspace, con: duckdb.DuckDBPyConnection) -> None:
    from parley.services.reprice import repriced_view

    if not repriced_view(ws, con):
        raise WorkspaceError("nothing repriced yet", hint="run 'parley reprice' first")


def _base_period(con: duckdb.DuckDBPyConnection, ids: list[str], months: int) -> tuple[dt.date, dt.date]:
    row = con.execute("SELECT max(service_date) FROM repriced WHERE contract_id IN (SELECT unnest(?))", [ids]).fetchall()[0]
    if not row or row[0] is None:
        raise WorkspaceError(f"no repriced lines for contracts {', '.join(ids)}", hint="ingest remits and run 'parley reprice'")
    end: dt.date = row[0]
    start = (end.replace(day=1) - dt.timedelta(days=1)).replace(day=1) if months <= 0 else _months_back(end, months)
    return start, end


def _months_back(end: dt.date, months: int) -> dt.date:
    y, m = divmod(end.year * 12 + end.month - 1 - months, 12)
    day = min(end.day, 28)
    return dt.date(y, m + 1, day) + dt.timedelta(days=1)


def _base_lines(con: duckdb.DuckDBPyConnection, ids: list[str], period: tuple[dt.date, dt.date]) -> None:
    """The volume: the contracts' repriced lines in the base period, final remit per claim (``sc_base``:
    professional lines and facility claims; ``sc_base_prof``: the professional lines only)."""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {BASE_REL} AS SELECT * FROM repriced
                    WHERE contract_id IN (SELECT unnest(?)) AND is_final AND service_date BETWEEN ? AND ?""",
                [ids, period[0], period[1]])
    con.execute(f"CREATE OR REPLACE TEMP VIEW {PROF_REL} AS SELECT * FROM {BASE_REL} WHERE NOT ({FACILITY})")


def facility_base(con: duckdb.DuckDBPyConnection) -> tuple[int, Decimal]:
    """(facility claims, their expected allowed on non-denied claims) in the base period (``sc_base``)."""
    n, allowed = _q(f"""SELECT count(*), coalesce(sum(expected_allowed) FILTER (NOT denied), 0)
                       FROM {BASE_REL} WHERE {FACILITY}""", con)
    return int(n), Decimal(allowed)


def price_facility_claims(con: duckdb.DuckDBPyConnection, contract: Contract, *, until: dt.date) -> Decimal:
    """The contract's facility claims of the base period priced again by the facility engine (the pass
    ``parley reprice`` uses), under the contract as it is: expected allowed of the non-denied claims."""
    from parley.engine.facility import compile_facility, facility_sql, register
    from parley.engine.reprice import Tolerance
    from parley.services.reprice_facility import facility_inputs

    con.execute(f"""CREATE OR REPLACE TEMP TABLE sc_fac AS
        SELECT claim_key, payer_id, filing_indicator, type_of_bill, drg_code, statement_from, statement_to, admission_date,
               charge_amount, patient_responsibility, actual_allowed, denied
        FROM {BASE_REL} WHERE {FACILITY} AND contract_id = ?""", [contract.contract_id])
    (n,) = _q("SELECT count(*) FROM sc_fac", con)
    if not n:
        return Decimal(0)
    facility_inputs(con)  # fac_lines: the claims' revenue-code lines (837, else 835), as parley reprice reads them
    con.execute("CREATE OR REPLACE TEMP TABLE sc_fac_lines AS SELECT * FROM fac_lines WHERE claim_key IN (SELECT claim_key FROM sc_fac)")
    keys = {(r[0], r[1]) for r in con.execute(
        "SELECT DISTINCT payer_id, coalesce(filing_indicator, '') FROM sc_fac WHERE payer_id IS NOT NULL").fetchall()}
    tables = compile_facility([contract], keys, until=until)
    register(con, tables)
    try:
        (allowed,) = _q(f"""SELECT coalesce(sum(p.expected_allowed), 0)
                           FROM ({facility_sql('sc_fac', 'sc_fac_lines', Tolerance())}) p JOIN sc_fac f USING (claim_key)
                           WHERE NOT f.denied""", con)
    finally:
        for name in tables:
            con.unregister(name)
    return Decimal(allowed)


def value_scenarios(*, workspace: Workspace, proposals: list[Proposal], base_months: int = 12) -> list[Valuation]:
    """Value each proposal on the workspace's history (see :mod:`parley.engine.scenarios`)."""
    if base_months < 1 or base_months > 60:
        raise InputError(f"base_months: must be 1..60, got {base_months}")
    contracts = workspace_contracts(workspace)
    ctx = RefdataContext(workspace.refdata_dir)
    con = workspace.connect()
    out = []
    try:
        _repriced_view(workspace, con)
        for p in proposals:
            scoped = payer_contracts(contracts, p.payer, p.product_lines)
            if not scoped:
                raise InputError(f"proposal {p.name!r}: payer: no contract matches {p.payer!r}"
                                 + (f" with product lines {p.product_lines}" if p.product_lines else ""),
                                 hint="use a contract id, payer name or payer id ('parley contracts list')")
            ids = [c.contract_id for c in scoped]
            period = _base_period(con, ids, base_months)
            _base_lines(con, ids, period)
            out.append(value_proposal(con, base_rel=PROF_REL, contracts=scoped, proposal=p, ctx=ctx, base_period=period))
    finally:
        con.close()
    return out


def reconcile(*, workspace: Workspace, payer: str, base_months: int = 12) -> dict[str, Any]:
    """"No change" check: the engine path of the scenarios, on the base period at its own dates and
    under the contracts as they are, against the repriced dataset's expected allowed.  Professional lines
    go through the repricing engine, facility claims through the facility engine (claim level)."""
    contracts = payer_contracts(workspace_contracts(workspace), payer)
    if not contracts:
        raise InputError(f"payer: no contract matches {payer!r}")
    ctx = RefdataContext(workspace.refdata_dir)
    con = workspace.connect()
    try:
        _repriced_view(workspace, con)
        ids = [c.contract_id for c in contracts]
        period = _base_period(con, ids, base_months)
        _base_lines(con, ids, period)
        professional = facility = Decimal(0)
        for c in contracts:
            con.execute(f"CREATE OR REPLACE TEMP TABLE sc_one AS SELECT * FROM {PROF_REL} WHERE contract_id = ?", [c.contract_id])
            professional += price_lines(con, "sc_one", c, ctx, until=period[1])["allowed"]
            facility += price_facility_claims(con, c, until=period[1])
        row = con.execute(f"SELECT coalesce(sum(expected_allowed), 0) FROM {BASE_REL} WHERE NOT denied").fetchall()[0]
        fac_claims, fac_dataset = facility_base(con)
    finally:
        con.close()
    dataset = Decimal(row[0]) if row else Decimal(0)
    engine = professional + facility
    return {"payer": payer, "base_period": [period[0].isoformat(), period[1].isoformat()],
            "engine_total": str(engine), "repriced_dataset_total": str(dataset), "equal": engine == dataset,
            "engine_professional": str(professional), "engine_facility": str(facility), "facility_claims": fac_claims,
            "repriced_dataset_facility": str(fac_dataset)}


def compare_rows(valuations: list[Valuation]) -> list[dict[str, Any]]:
    """Side-by-side rows: one per proposal, one column per year plus totals."""
    rows = []
    for v in valuations:
        row: dict[str, Any] = {"proposal": v.proposal, "payer": v.payer}
        for y in v.years:
            row[f"year_{y.year}_change"] = str(y.revenue_change)
        row.update({"revenue_current": str(v.revenue_current_total), "revenue_proposal": str(v.revenue_proposal_total),
                    "change": str(v.revenue_change_total), "payer_cost_change": str(v.payer_cost_change_total),
                    "npv_change": str(v.npv_revenue_change)})
        rows.append(row)
    return rows


# --------------------------------------------------------------------------- workspace figures


def _medicare_contract(base: Contract, contracts: list[Contract], ws: Workspace) -> Contract:
    """A synthetic contract paying 100% of Medicare (current PFS year, latest loaded) for the payer's claims."""
    from parley.domain.contracts import PercentOfMedicare, Professional, Terms
    from parley.domain.scenarios import contract_for

    place: dict[str, str] = {}
    for c in [base, *contracts]:
        m = c.professional.methodology if c.professional else None
        if isinstance(m, PercentOfMedicare) and (m.locality or m.zip):
            place = {"locality": m.locality} if m.locality else {"zip": m.zip}  # type: ignore[dict-item]
            break
    if not place and ws.settings.practice_zip:
        place = {"zip": ws.settings.practice_zip}
    method = PercentOfMedicare.model_validate({"percent": Decimal(100), "pfs_year": "current",
                                               "if_year_unavailable": "latest_available", **place})
    terms = Terms(professional=Professional(methodology=method, lesser_of_billed=False))
    return contract_for(terms, base, start=dt.date(1990, 1, 1), end=dt.date(2100, 12, 31), suffix="medicare-100")


def _q(sql: str, con: duckdb.DuckDBPyConnection, params: list[Any] | None = None) -> tuple[Any, ...]:
    return tuple(con.execute(sql, params or []).fetchall()[0])


def workspace_figures(con: duckdb.DuckDBPyConnection, ws: Workspace, scoped: list[Contract], all_contracts: list[Contract],
                      period: tuple[dt.date, dt.date]) -> dict[str, dict[str, Any]]:
    """The payer's figures from the repriced lines of the base period (``sc_base`` must exist)."""
    from parley.engine.scenarios import price_table

    ctx = RefdataContext(ws.refdata_dir)
    figs: dict[str, dict[str, Any]] = {}

    def put(name: str, value: Any, derivation: str) -> None:
        figs[name] = {"value": value, "derivation": derivation}

    cur, lines = _q(f"SELECT coalesce(sum(expected_allowed), 0), count(*) FROM {BASE_REL} WHERE NOT denied", con)
    put("current_revenue", Decimal(cur), f"expected allowed at current terms, non-denied lines {period[0]}..{period[1]}")
    put("lines", lines, "non-denied service lines in the base period (a facility claim counts as one)")
    fac_n, fac_allowed = facility_base(con)
    put("facility_claims", fac_n, "facility (institutional) claims in the base period, priced per claim (DRG, per diem, "
        "percent of charges)")
    put("facility_revenue", fac_allowed, "expected allowed of the non-denied facility claims, included in current revenue; "
        "not in the Medicare comparison nor in the proposals' valuation (professional lines only)")
    # percent of Medicare, on the lines Medicare prices
    con.execute("CREATE OR REPLACE TEMP TABLE sc_mcr (line_key VARCHAR, expected_allowed DECIMAL(14,2))")
    for c in scoped:
        con.execute(f"CREATE OR REPLACE TEMP TABLE sc_one AS SELECT * FROM {PROF_REL} WHERE contract_id = ?", [c.contract_id])
        price_table(con, "sc_one", _medicare_contract(c, all_contracts, ws), ctx, until=period[1], out="sc_m1")
        con.execute("INSERT INTO sc_mcr SELECT line_key, expected_allowed FROM sc_m1 WHERE NOT denied AND expected_allowed > 0")
    ours, mcr, n = _q(f"""SELECT coalesce(sum(b.expected_allowed), 0), coalesce(sum(m.expected_allowed), 0), count(*)
                         FROM sc_mcr m JOIN {BASE_REL} b USING (line_key)""", con)
    put("medicare_revenue", (Decimal(mcr) * Decimal(cur) / Decimal(ours)).quantize(Decimal("0.01")) if ours else None,
        f"our volume at 100% of Medicare: ${mcr} on the {n} lines the PFS prices, scaled to all lines by current revenue")
    pom = (Decimal(ours) / Decimal(mcr) * 100).quantize(Decimal("0.1")) if mcr else None
    put("percent_of_medicare", pom, f"current ${ours} / Medicare ${mcr} x 100 on the {n} PFS-priced lines")
    _kpi_figures(con, scoped, period, put)
    _market_figures(con, ws, scoped, period, figs, put)
    return figs


def _kpi_figures(con: duckdb.DuckDBPyConnection, scoped: list[Contract], period: tuple[dt.date, dt.date], put: Any) -> None:
    ids = [c.contract_id for c in scoped]
    d, n = _q(f"SELECT count(DISTINCT claim_id) FILTER (claim_status = '4'), count(DISTINCT claim_id) FROM {BASE_REL}", con)
    ad, an = _q("""SELECT count(DISTINCT claim_id) FILTER (claim_status = '4'), count(DISTINCT claim_id) FROM repriced
                   WHERE is_final AND service_date BETWEEN ? AND ?""", con, list(period))
    rate = (Decimal(d) / Decimal(n)).quantize(Decimal("0.0001")) if n else None
    all_rate = (Decimal(ad) / Decimal(an)).quantize(Decimal("0.0001")) if an else None
    put("denial_rate_claims", rate, f"claims denied (final remit status 4) / claims: {d} / {n}")
    put("denial_rate_claims_percent", (rate * 100).quantize(Decimal("0.01")) if rate is not None else None, "denial rate x 100")
    put("denial_rate_all_percent", (all_rate * 100).quantize(Decimal("0.01")) if all_rate is not None else None, f"all payers: {ad} / {an} claims")
    ok, tot, under = _q(f"""SELECT coalesce(sum(actual_allowed) FILTER (final_status = 'paid_correctly'), 0),
            coalesce(sum(actual_allowed) FILTER (final_status IN ('paid_correctly','underpaid','overpaid','recoded')), 0),
            coalesce(sum(underpaid_amount), 0) FROM {BASE_REL}""", con)
    acc = (Decimal(ok) / Decimal(tot)).quantize(Decimal("0.0001")) if tot else None
    put("payment_accuracy_dollars", acc, f"allowed dollars paid correctly / adjudicated priced dollars: {ok} / {tot}")
    put("payment_accuracy_percent", (acc * 100).quantize(Decimal("0.01")) if acc is not None else None, "payment accuracy x 100")
    put("underpayment_dollars", Decimal(under), "sum of underpaid amounts in the base period")
    mine, alls = _q(f"""SELECT (SELECT coalesce(sum(actual_allowed), 0) FROM {BASE_REL} WHERE NOT denied),
                        coalesce(sum(actual_allowed), 0) FROM repriced WHERE is_final AND NOT denied
                        AND service_date BETWEEN ? AND ?""", con, list(period))
    share = (Decimal(mine) / Decimal(alls)).quantize(Decimal("0.0001")) if alls else None
    put("share_of_our_revenue", share, f"the payer's allowed / all payers' allowed: {mine} / {alls}")
    put("share_of_our_revenue_percent", (share * 100).quantize(Decimal("0.01")) if share is not None else None, "share x 100")
    (patients,) = _q(f"""SELECT count(DISTINCT r.patient_key) FROM remit_claims r
                         WHERE r.claim_id IN (SELECT claim_id FROM {BASE_REL})""", con)
    put("patients", patients, "distinct patients (keyed hash) with a claim in the base period")
    pa = sorted({x for c in scoped for x in c.prior_authorization_codes})
    (pa_lines,) = _q(f"SELECT count(*) FROM {BASE_REL} WHERE procedure_code IN (SELECT unnest(?))", con, [pa])
    put("prior_auth_lines", pa_lines, f"lines whose code needs prior authorisation under {', '.join(ids)}")


def _market_figures(con: duckdb.DuckDBPyConnection, ws: Workspace, scoped: list[Contract], period: tuple[dt.date, dt.date],
                    figs: dict[str, dict[str, Any]], put: Any) -> None:
    """Volume-weighted market median and p75 for the payer (None without market_rates).

    Payer names resolve with the workspace's payer-alias table and percent of Medicare uses the
    practice's ZIP, exactly as ``parley benchmark`` does.
    """
    try:
        from parley.engine.market import payer_distribution
        from parley.refdata.payer_aliases import load_payer_aliases

        units = {r[0]: float(r[1]) for r in con.execute(
            f"SELECT procedure_code, sum(units) FROM {PROF_REL} WHERE NOT denied GROUP BY 1").fetchall()}
        dist = payer_distribution(con, payer=scoped[0].payer.name, codes=list(units), year=period[1].year,
                                  practice_zip=ws.settings.practice_zip, aliases=load_payer_aliases(ws.refdata_dir))
        rows = dist.to_dicts()
    except Exception as exc:  # noqa: BLE001 - no market data is a normal state, reported as such
        put("market_p50_revenue", None, f"no market benchmarks ({type(exc).__name__})")
        put("market_p75_revenue", None, "no market benchmarks")
        return
    p50 = sum((Decimal(str(r.get("p50") or 0)) * Decimal(str(units.get(r.get("billing_code"), 0))) for r in rows), Decimal(0))
    p75 = sum((Decimal(str(r.get("p75") or 0)) * Decimal(str(units.get(r.get("billing_code"), 0))) for r in rows), Decimal(0))
    if not rows or not p50:
        put("market_p50_revenue", None, "no market rates for this payer and our codes")
        put("market_p75_revenue", None, "no market rates for this payer and our codes")
        return
    codes = [r.get("billing_code") for r in rows]
    (ours,) = _q(f"SELECT coalesce(sum(expected_allowed), 0) FROM {BASE_REL} WHERE NOT denied AND procedure_code IN (SELECT unnest(?))",
                 con, [codes])
    put("market_p50_revenue", p50.quantize(Decimal("0.01")), f"our units x the payer's market median, {len(rows)} codes")
    put("market_p75_revenue", p75.quantize(Decimal("0.01")), f"our units x the payer's market 75th percentile, {len(rows)} codes")
    put("percent_of_market_median", (Decimal(ours) / p50 * 100).quantize(Decimal("0.1")),
        f"our current ${ours} / market median ${p50:.2f} x 100 on the same codes")
    pom = figs.get("percent_of_medicare", {}).get("value")
    if pom:
        put("market_median_percent_of_medicare", (pom * p50 / Decimal(ours)).quantize(Decimal("0.1")) if ours else None,
            "percent of Medicare x market median / our revenue on the same codes")


# --------------------------------------------------------------------------- strategy inputs and result


STRATEGY_NOTE = "Every number carries its derivation; 'assumption' marks a default the user should replace."


class NegotiationSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cost_to_serve: Decimal | None = Field(default=None, ge=0)
    cost_per_rvu: Decimal | None = Field(default=None, ge=0)
    total_rvus: Decimal | None = Field(default=None, ge=0)
    required_margin: Decimal = Field(default=Decimal("0.05"), ge=-1, le=5)
    batna_value: Decimal | None = Field(default=None, ge=0)
    batna_description: str | None = None
    payer_max_revenue: Decimal | None = Field(default=None, ge=0)
    opening_position: Decimal = Field(default=Decimal("0.8"), ge=0, le=1)
    opening_offer_revenue: Decimal | None = Field(default=None, ge=0)


class ExitSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    admin_cost_saved: Decimal = Field(default=Decimal(0), ge=0)
    exit_date: dt.date | None = None
    plan_year_start: str = "01-01"
    years: int = Field(default=3, ge=1, le=10)
    revenue_trend: Decimal = Field(default=Decimal(0), ge=-0.5, le=1)
    cases: dict[str, neg.ExitCase] | None = None


class VbcSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    terms: VbcTerms | None = None
    population: Population | None = None
    uncertainty: mc.Uncertainty = Field(default_factory=mc.Uncertainty)
    years: int = Field(default=3, ge=1, le=30)
    draws: int = Field(default=10_000, ge=1, le=5_000_000)
    seed: int = 42


class StrategyInputs(BaseModel):
    """Optional per-payer inputs (YAML); anything missing is derived or assumed (and says so)."""

    model_config = ConfigDict(extra="forbid")

    proposals: list[str] = Field(default_factory=list, description="proposal YAML paths (relative to this file)")
    base_months: int = Field(default=12, ge=1, le=60)
    negotiation: NegotiationSpec = Field(default_factory=NegotiationSpec)
    exit: ExitSpec = Field(default_factory=ExitSpec)
    value_based: VbcSpec = Field(default_factory=VbcSpec)
    rubric: str | None = Field(default=None, description="rubric YAML path (default: the shipped rubric)")
    scores: dict[str, Decimal] = Field(default_factory=dict, description="user entries for rubric criteria (0-100)")
    figures: dict[str, str | Decimal] = Field(default_factory=dict, description="extra or overriding figures")


class StrategyResult(BaseModel):
    """Everything Parley models for one payer (rendered by the CLI, the brief and the web app)."""

    payer: str
    contracts: list[str]
    product_lines: list[str]
    base_period: tuple[dt.date, dt.date]
    figures: dict[str, dict[str, Any]]
    reconciliation: dict[str, Any]
    scenarios: list[Valuation]
    negotiation: neg.NegotiationResult | None
    negotiation_note: str
    exit: dict[str, Any]
    value_based: dict[str, Any] | None
    scorecard: rub.Scorecard
    objections: list[obj.Answer]
    assumptions: list[str]
    note: str = STRATEGY_NOTE


def load_inputs(path: Path | None) -> tuple[StrategyInputs, Path]:
    if path is None:
        return StrategyInputs(), Path.cwd()
    data = read_yaml(path, what="strategy inputs") or {}
    return build(StrategyInputs, data, what=str(path)), path.parent  # type: ignore[return-value]


def load_rubric_file(path: Path | None) -> rub.Rubric:
    return rub.default_rubric() if path is None else rub.load_rubric(read_yaml(path, what="rubric"), what=str(path))


def workspace_objections(ws: Workspace) -> list[obj.Objection]:
    lib = obj.default_library()
    extra = ws.root / "objections.yaml"
    if extra.exists():
        lib = obj.merge(lib, obj.load_library(read_yaml(extra, what="objections"), what=str(extra)))
    return lib


def _vbc(spec: VbcSpec, scoped: list[Contract], figs: dict[str, dict[str, Any]], assumptions: list[str]) -> dict[str, Any] | None:
    terms = spec.terms
    if terms is None:
        items = [v for c in scoped for v in c.value_based]
        if not items:
            return None
        terms = from_contract_terms(items)
    pop = spec.population
    if pop is None:
        bench = next((v.benchmark_pmpm for c in scoped for v in c.value_based if v.benchmark_pmpm), None)
        if bench is None:
            return {"note": "value-based terms without a benchmark or population: give value_based.population"}
        patients = Decimal(figs["patients"]["value"] or 0)
        pop = Population(member_months=patients * 12, benchmark_pmpm=bench, actual_pmpm=bench,
                         ffs_revenue=figs["current_revenue"]["value"])
        assumptions.append(f"value-based population: {patients} patients x 12 member months, actual cost = benchmark "
                           f"${bench} PMPM (assumption - give value_based.population)")
    out = mc.run(terms, pop, spec.uncertainty, years=spec.years, draws=spec.draws, seed=spec.seed)
    return {"terms": terms.model_dump(mode="json"), "population": pop.model_dump(mode="json"),
            "uncertainty": spec.uncertainty.model_dump(), "simulation": out}


def _exit_inputs(spec: ExitSpec, scoped: list[Contract], figs: dict[str, dict[str, Any]], period: tuple[dt.date, dt.date],
                 assumptions: list[str]) -> neg.ExitInputs:
    cur = figs["current_revenue"]["value"]
    med = figs["medicare_revenue"]["value"]
    ma = any("medicare advantage" in p.lower() for c in scoped for p in c.product_lines)
    cases = spec.cases
    if cases is None:
        if ma and med:
            ratio = (med / cur).quantize(Decimal("0.0001")) if cur else Decimal(1)
            cases = {k: neg.ExitCase(retained_share=Decimal(s), retained_payment_ratio=ratio, backfill_share=Decimal("0.1"))
                     for k, s in (("low", "0.4"), ("base", "0.6"), ("high", "0.75"))}
            assumptions.append(f"MA exit: 40/60/75% of patients move to traditional Medicare, paid at Medicare "
                               f"(ratio {ratio} = Medicare / current); 10% of lost volume back-filled (assumption)")
        else:
            cases = {k: neg.ExitCase(retained_share=Decimal(0), retained_payment_ratio=Decimal(0),
                                     out_of_network_share=Decimal(s), out_of_network_ratio=Decimal("0.7"),
                                     backfill_share=Decimal(b))
                     for k, s, b in (("low", "0.05", "0.2"), ("base", "0.15", "0.35"), ("high", "0.25", "0.5"))}
            assumptions.append("exit: 5/15/25% of patients stay out of network at 70% of current; 20/35/50% of the lost "
                               "volume back-filled by other payers at current rates (assumption)")
    exit_date = spec.exit_date or (period[1] + dt.timedelta(days=1))
    return neg.ExitInputs(current_revenue=cur, admin_cost_saved=spec.admin_cost_saved, exit_date=exit_date,
                          plan_year_start=spec.plan_year_start, years=spec.years, revenue_trend=spec.revenue_trend,
                          cases=cases)


def _negotiation(spec: NegotiationSpec, figs: dict[str, dict[str, Any]], exit_result: dict[str, Any],
                 assumptions: list[str]) -> tuple[neg.NegotiationResult | None, str]:
    batna, batna_why = spec.batna_value, spec.batna_description or "best alternative"
    if batna is None:
        base = exit_result["cases"].get("base")
        if base and len(base["years"]) >= 1:
            last = base["years"][-1]
            batna = Decimal(last["revenue_at_risk"]) + Decimal(last["net_change"])
            batna_why = "leaving the payer (exit base case, steady-state year: revenue kept + back-fill + admin saved)"
            assumptions.append(f"BATNA derived from the exit base case: ${batna} a year")
    mx, mx_src = spec.payer_max_revenue, "user"
    if mx is None and figs.get("market_p75_revenue", {}).get("value") is not None:
        mx, mx_src = figs["market_p75_revenue"]["value"], "market: our volume at the payer's 75th percentile"
    try:
        inputs = neg.NegotiationInputs(
            current_revenue=figs["current_revenue"]["value"], medicare_revenue=figs["medicare_revenue"]["value"],
            cost_to_serve=spec.cost_to_serve, cost_per_rvu=spec.cost_per_rvu, total_rvus=spec.total_rvus,
            required_margin=spec.required_margin, batna_value=batna, batna_description=batna_why,
            payer_max_revenue=mx, payer_max_source=mx_src, opening_position=spec.opening_position,
            opening_offer_revenue=spec.opening_offer_revenue)
        notes = [] if mx is not None else ["give negotiation.payer_max_revenue or load market benchmarks"]
        if spec.cost_to_serve is None and spec.cost_per_rvu is None:
            notes.append("no cost to serve given: the walk-away rests on the BATNA only (give negotiation.cost_to_serve)")
        return neg.analyse(inputs), "; ".join(notes)
    except InputError as exc:
        if "opening_offer" in str(exc):
            raise
        return None, str(exc)


def strategy(*, workspace: Workspace, payer: str, inputs_path: Path | None = None, product_lines: list[str] | None = None,
             rubric_path: Path | None = None, entries: dict[str, Decimal] | None = None) -> StrategyResult:
    """Scenarios, figures, walk-away / ZOPA / opening, exit, value-based sensitivity, score, objections."""
    spec, folder = load_inputs(inputs_path)
    proposals = [load_proposal(folder / p) for p in spec.proposals]
    valuations = value_scenarios(workspace=workspace, proposals=proposals, base_months=spec.base_months) if proposals else []
    all_contracts = workspace_contracts(workspace)
    scoped = payer_contracts(all_contracts, payer, product_lines)
    if not scoped:
        raise InputError(f"payer: no contract matches {payer!r}", hint="use a contract id, payer name or payer id")
    con = workspace.connect()
    try:
        _repriced_view(workspace, con)
        ids = [c.contract_id for c in scoped]
        period = _base_period(con, ids, spec.base_months)
        _base_lines(con, ids, period)
        figs = workspace_figures(con, workspace, scoped, all_contracts, period)
    finally:
        con.close()
    assumptions: list[str] = []
    if figs["facility_claims"]["value"]:
        assumptions.append(f"{figs['facility_claims']['value']} facility claims (${figs['facility_revenue']['value']} expected "
                           "allowed at current terms) are in current revenue, the walk-away and the exit figures, but proposals "
                           "value the professional lines only: their facility dollars are unchanged by a proposal")
    _proposal_figures(figs, valuations)
    for k, v in spec.figures.items():
        figs[k] = {"value": v, "derivation": "user figure"}
    exit_in = _exit_inputs(spec.exit, scoped, figs, period, assumptions)
    exit_result = neg.exit_impact(exit_in)
    negotiation, neg_note = _negotiation(spec.negotiation, figs, exit_result, assumptions)
    if negotiation is not None:
        figs["walk_away_percent_of_medicare"] = {"value": negotiation.walk_away_percent_of_medicare.value,
                                                 "derivation": negotiation.walk_away_percent_of_medicare.derivation}
        b = next((f for f in negotiation.inputs if f.name == "batna_value"), None)
        figs["batna"] = {"value": f"{b.derivation}: ${b.value} a year" if b else "no BATNA given",
                         "derivation": "the BATNA used for the walk-away"}
    vbc = _vbc(spec.value_based, scoped, figs, assumptions)
    if vbc and "simulation" in vbc:
        figs["probability_owing"] = {"value": Decimal(str(vbc["simulation"]["terms"]["probability_owing_any_year"])),
                                     "derivation": "Monte Carlo: share of draws owing money in some year"}
    rubric = load_rubric_file(rubric_path or (folder / spec.rubric if spec.rubric else None))
    card = rub.score(rubric, subject=f"{payer} ({', '.join(ids)})", figures=_values(figs), entries={**spec.scores, **(entries or {})})
    answers = [obj.answer(o, _values(figs)) for o in workspace_objections(workspace)]
    with_rec = reconcile(workspace=workspace, payer=payer, base_months=spec.base_months) if not product_lines else {}
    return StrategyResult(payer=payer, contracts=ids, product_lines=sorted({p for c in scoped for p in c.product_lines}),
                          base_period=period, figures=_jsonable(figs), reconciliation=with_rec, scenarios=valuations,
                          negotiation=negotiation, negotiation_note=neg_note, exit=exit_result, value_based=vbc,
                          scorecard=card, objections=answers, assumptions=assumptions)


def _proposal_figures(figs: dict[str, dict[str, Any]], valuations: list[Valuation]) -> None:
    if not valuations:
        return
    v = valuations[0]
    y1 = v.years[0]
    change = y1.revenue_change
    figs["proposal_change"] = {"value": change, "derivation": f"proposal {v.proposal!r}, contract year 1 revenue change"}
    pct = (change / y1.revenue_current * 100).quantize(Decimal("0.01")) if y1.revenue_current else None
    figs["revenue_change_percent"] = {"value": pct, "derivation": f"year 1 change / current revenue x 100 ({v.proposal!r})"}


def _values(figs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {k: v["value"] for k, v in figs.items()}


def _jsonable(figs: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {k: {"value": str(v["value"]) if isinstance(v["value"], Decimal) else v["value"],
                "derivation": v["derivation"]} for k, v in figs.items()}


def score_payer(*, workspace: Workspace, payer: str, proposal_path: Path | None = None, rubric_path: Path | None = None,
                entries: dict[str, Decimal] | None = None) -> rub.Scorecard:
    """Score a payer's contract (current terms) or a proposal against the rubric."""
    if rubric_path is not None:
        load_rubric_file(rubric_path)  # fail fast on a bad rubric
    with_prop: list[str] = [str(proposal_path.resolve())] if proposal_path else []
    tmp = StrategyInputs(proposals=with_prop)
    return _score_with(workspace, payer, tmp, rubric_path, entries)


def _score_with(ws: Workspace, payer: str, spec: StrategyInputs, rubric_path: Path | None,
                entries: dict[str, Decimal] | None) -> rub.Scorecard:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / "inputs.yaml"
        f.write_text(yaml.safe_dump(spec.model_dump(mode="json")), encoding="utf-8")
        return strategy(workspace=ws, payer=payer, inputs_path=f, rubric_path=rubric_path, entries=entries).scorecard


def objections_for(*, workspace: Workspace, payer: str, inputs_path: Path | None = None) -> list[obj.Answer]:
    return strategy(workspace=workspace, payer=payer, inputs_path=inputs_path).objections
