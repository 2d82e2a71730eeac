"""What the negotiation brief reads from the workspace, gathered through the existing services.

:func:`gather` collects the workspace-wide figures once (the KPI session: scorecard across
payers, denials, speed, A/R, burden, quality and operations, plus per-payer root causes and
monthly trends); :func:`payer_inputs` adds one payer's strategy result (figures, negotiation,
exit, value-based simulation, rubric, objections, proposals valued by the repricing engine).
``parley demo`` gathers once and reuses the context for every payer.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from parley.domain.contracts import Contract
from parley.errors import InputError, ParleyError, WorkspaceError
from parley.store.workspace import Workspace

DEFAULT_PROPOSALS = (
    {"name": "+3% across the board", "years": 3, "across_the_board_percent": 3, "escalators_percent": [2, 2]},
    {"name": "+5% on the top 20 codes", "years": 3, "targeted": [{"top_n_by_revenue": 20, "percent": 5}],
     "escalators_percent": [2, 2]},
)
STRATEGY_DIR = "strategy"


@dataclass
class BriefContext:
    """Workspace-wide data for briefs, gathered once (KPI tables keyed by payer name, upper case)."""

    workspace: Workspace
    as_of: dt.date
    organization: str
    contracts: list[Contract]
    kpi_ok: bool
    kpi_note: str | None
    scorecard: list[dict[str, Any]] = field(default_factory=list)
    scorecard_definitions: dict[str, str] = field(default_factory=dict)
    denials: dict[str, dict[str, Any]] = field(default_factory=dict)
    speed: dict[str, dict[str, Any]] = field(default_factory=dict)
    ar: dict[str, dict[str, Any]] = field(default_factory=dict)
    burden: dict[str, dict[str, Any]] = field(default_factory=dict)
    reasons: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    denial_trend: dict[str, dict[str, Decimal | None]] = field(default_factory=dict)
    visits: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    quality: list[dict[str, Any]] = field(default_factory=list)
    quality_periods: list[dict[str, Any]] = field(default_factory=list)
    definitions: dict[str, str] = field(default_factory=dict)
    kpi_assumptions: dict[str, str] = field(default_factory=dict)
    pfs_years: dict[Any, Any] = field(default_factory=dict)
    data_period: tuple[dt.date | None, dt.date | None] = (None, None)
    seconds: float = 0.0


def _by_payer(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(r["payer"]).upper(): r for r in rows if r.get("payer") is not None}


def _group(rows: list[dict[str, Any]], key: str = "payer") -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        out.setdefault(str(r.get(key) or "").upper(), []).append(r)
    return out


def gather(*, workspace: Workspace, as_of: dt.date | None = None) -> BriefContext:
    """Run the workspace-wide KPIs once (a workspace without remits gives an empty context that says so)."""
    import time

    from parley.services.contracts import workspace_contracts

    started = time.perf_counter()
    contracts = workspace_contracts(workspace) if workspace.contracts_dir.is_dir() else []
    org = getattr(workspace.settings, "organization_name", None) or "Our organisation"
    ctx = BriefContext(workspace=workspace, as_of=as_of or dt.date.today(), organization=str(org), contracts=contracts,
                       kpi_ok=False, kpi_note=None)
    try:
        _kpis(ctx, as_of)
    except (ParleyError, Exception) as exc:  # noqa: BLE001 - no remits yet is a normal state, reported in the brief
        ctx.kpi_note = f"KPIs not available: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
    ctx.seconds = time.perf_counter() - started
    return ctx


def _kpis(ctx: BriefContext, as_of: dt.date | None) -> None:
    from parley.engine.kpi import burden, denials, operations, quality, speed
    from parley.services.kpi import KpiSession, params_from

    with KpiSession(workspace=ctx.workspace, params=params_from(as_of=as_of)) as s:
        ctx.as_of = s.as_of
        ctx.pfs_years = dict(s.context.get("pfs_years", {}))
        card = s.scorecard()
        ctx.scorecard, ctx.scorecard_definitions = card.rows, card.definitions
        ctx.kpi_assumptions = dict(card.assumptions)
        d = denials.denial_rates(s.con, by="payer")
        ctx.denials = _by_payer(d.rows)
        sp = speed.days_to_pay(s.con, by="payer")
        ctx.speed = _by_payer(sp.rows)
        ar = speed.accounts_receivable(s.con, by="payer")
        ctx.ar = _by_payer(ar.rows)
        b = burden.burden(s.con, s.params)
        ctx.burden = _by_payer(b.rows)
        ctx.reasons = _group(_reasons(s.con))
        ctx.denial_trend = _denial_trend(s.con)
        ctx.visits = _group(operations.visits(s.con).rows)
        q = quality.measures(s.con)
        ctx.quality = q.rows
        ctx.quality_periods = _quality_periods(s.con)
        for r in (card, d, sp, ar, b, q):
            ctx.definitions.update(r.definitions)
        row = s.con.execute("SELECT min(service_date), max(service_date) FROM kpi_lines").fetchall()
        ctx.data_period = (row[0][0], row[0][1]) if row else (None, None)
    ctx.kpi_ok = bool(ctx.scorecard)
    if not ctx.kpi_ok:
        ctx.kpi_note = "no remittances in the workspace yet"


def _reasons(con: Any) -> list[dict[str, Any]]:
    """Initially denied dollars by payer and root-cause category (the top_reasons logic, grouped by payer)."""
    from parley.engine.kpi.base import rows

    return rows(con, """
        SELECT l.payer, coalesce(c.category, 'other') AS category,
            coalesce(any_value(c.category_label), 'Other / unmapped') AS category_label,
            bool_or(coalesce(c.recoverable, false)) AS recoverable, count(*) AS denied_lines,
            count(DISTINCT l.claim_id) AS denied_claims, sum(l.charge_amount) AS denied_dollars
        FROM kpi_lines l LEFT JOIN kpi_carc c ON c.code = l.primary_carc
        WHERE l.is_first AND l.denied GROUP BY 1, 2 ORDER BY 1, denied_dollars DESC""")


def _denial_trend(con: Any) -> dict[str, dict[str, Decimal | None]]:
    """Initial claim denial rate by month of first adjudication, per payer and for all payers ('*')."""
    out: dict[str, dict[str, Decimal | None]] = {}
    for payer, month, rate in con.execute("""
            SELECT coalesce(payer, '*') AS payer, month,
                CAST(count(*) FILTER (initially_denied) AS DOUBLE) / nullif(count(*), 0)
            FROM kpi_claims WHERE adjudications > 0 AND month IS NOT NULL
            GROUP BY GROUPING SETS ((payer, month), (month)) ORDER BY 2""").fetchall():
        out.setdefault(str(payer).upper(), {})[month] = Decimal(str(round(rate, 4))) if rate is not None else None
    return out


def _quality_periods(con: Any) -> list[dict[str, Any]]:
    from parley.engine.kpi.base import rows

    return rows(con, """SELECT measure_id, any_value(measure_name) AS measure_name, scope, period,
                           CAST(any_value(rate) AS DOUBLE) AS rate, CAST(any_value(baseline) AS DOUBLE) AS baseline,
                           CAST(any_value(peer_benchmark) AS DOUBLE) AS peer_benchmark,
                           CAST(any_value(payer_target) AS DOUBLE) AS payer_target,
                           any_value(lower(CAST(higher_is_better AS VARCHAR))) IN ('true', '1', 'yes') AS higher_is_better
                       FROM quality_measures GROUP BY measure_id, scope, period ORDER BY measure_id, scope, period""")


# --------------------------------------------------------------------------- one payer


@dataclass
class PayerInputs:
    scoped: list[Contract]
    strategy: Any | None  # StrategyResult
    strategy_note: str | None
    default_proposals: bool
    valuations: list[Any] = field(default_factory=list)
    vbc_totals: list[float] = field(default_factory=list)
    underpaid_claims: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0


def scoped_contracts(ctx: BriefContext, payer: str, product_lines: list[str] | None) -> list[Contract]:
    from parley.services.strategy import payer_contracts

    scoped = payer_contracts(ctx.contracts, payer, product_lines)
    if not scoped:
        names = sorted({c.payer.name for c in ctx.contracts})
        raise InputError(f"payer: no contract matches {payer!r}" + (f" with product lines {product_lines}" if product_lines else ""),
                         hint="use a contract id, payer name or payer id: " + (", ".join(names) or "no contracts in the workspace"))
    return scoped


def find_inputs(ws: Workspace, scoped: list[Contract]) -> Path | None:
    """``<workspace>/strategy/<contract id or payer>.yaml`` when the user keeps strategy inputs there."""
    folder = ws.root / STRATEGY_DIR
    for stem in [c.contract_id for c in scoped] + [slug(scoped[0].payer.name)]:
        for ext in (".yaml", ".yml"):
            if (folder / f"{stem}{ext}").is_file():
                return folder / f"{stem}{ext}"
    return None


def slug(text: str) -> str:
    import re

    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "payer"


def payer_inputs(ctx: BriefContext, *, payer: str, product_lines: list[str] | None, inputs_path: Path | None,
                 proposals: bool = True) -> PayerInputs:
    """The payer's strategy result (with the user's proposals, or illustrative defaults) and its details."""
    import time

    from parley.services import strategy as st

    started = time.perf_counter()
    scoped = scoped_contracts(ctx, payer, product_lines)
    inputs_path = inputs_path or find_inputs(ctx.workspace, scoped)
    spec, folder = st.load_inputs(inputs_path)
    default = proposals and not spec.proposals
    lines = product_lines or sorted({p for c in scoped for p in c.product_lines})
    out = PayerInputs(scoped=scoped, strategy=None, strategy_note=None, default_proposals=default)
    with tempfile.TemporaryDirectory() as tmp:
        path = _inputs_file(Path(tmp), spec, folder)
        try:
            # product lines given explicitly (all of the payer's by default): the same figures, without
            # the "no change" reconciliation pass, which the brief does not show
            out.strategy = st.strategy(workspace=ctx.workspace, payer=payer, inputs_path=path, product_lines=lines)
        except WorkspaceError as exc:
            out.strategy_note = str(exc)
    if out.strategy is not None:
        out.valuations = list(out.strategy.scenarios)
        if default:
            # illustrative proposals, valued apart so that the rubric scores the current terms as the CLI does
            out.valuations += _value_defaults(ctx.workspace, scoped, _default_proposals(scoped, lines), spec.base_months)
        out.vbc_totals = _vbc_totals(out.strategy)
        out.underpaid_claims = _underpaid_claims(ctx.workspace, out.strategy)
    out.seconds = time.perf_counter() - started
    return out


def _default_proposals(scoped: list[Contract], lines: list[str]) -> list[Any]:
    from parley.domain.scenarios import Proposal

    return [Proposal.model_validate({**p, "payer": scoped[0].payer.name, "product_lines": lines}) for p in DEFAULT_PROPOSALS]


def _value_defaults(ws: Workspace, scoped: list[Contract], proposals: list[Any], base_months: int) -> list[Any]:
    """Value the proposals as :func:`parley.services.strategy.value_scenarios` does, on one connection, pricing
    the current terms of each contract year once for all of them (the engine's own cache)."""
    from parley.engine.scenarios import value_proposal
    from parley.services import strategy as st
    from parley.services.contracts import RefdataContext

    ctx = RefdataContext(ws.refdata_dir)
    con = ws.connect()
    cache: dict[Any, Any] = {}
    try:
        st._repriced_view(ws, con)
        ids = [c.contract_id for c in scoped]
        period = st._base_period(con, ids, base_months)
        st._base_lines(con, ids, period)
        return [value_proposal(con, base_rel=st.PROF_REL, contracts=scoped, proposal=p, ctx=ctx, base_period=period, cache=cache)
                for p in proposals]
    finally:
        con.close()


def _inputs_file(tmp: Path, spec: Any, folder: Path) -> Path:
    data = spec.model_dump(mode="json", exclude_defaults=False)
    data["proposals"] = [str((folder / p).resolve()) for p in spec.proposals]
    if spec.rubric:
        data["rubric"] = str((folder / spec.rubric).resolve())
    path = tmp / "inputs.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _vbc_totals(res: Any) -> list[float]:
    """The Monte Carlo draws of the value-based total (all years), same spec and seed as the strategy."""
    vb = res.value_based
    if not vb or "simulation" not in vb:
        return []
    from parley.domain.value_based import Population, VbcTerms
    from parley.engine import montecarlo as mc

    sim = vb["simulation"]["terms"]
    cash = mc.simulate_cash(VbcTerms.model_validate(vb["terms"]), Population.model_validate(vb["population"]),
                            mc.Uncertainty.model_validate(vb["uncertainty"]), years=int(sim["years"]),
                            draws=int(sim["draws"]), seed=int(sim["seed"]))
    return [float(x) for x in cash.sum(axis=1)]


def _underpaid_claims(ws: Workspace, res: Any, top: int = 10) -> list[dict[str, Any]]:
    """The base period's most underpaid claims (appeal first): from the repriced dataset."""
    from parley.services.reprice import repriced_view

    con = ws.connect()
    try:
        if not repriced_view(ws, con):
            return []
        cur = con.execute(f"""
            SELECT claim_id, min(service_date) AS service_date, count(*) AS lines,
                string_agg(DISTINCT procedure_code, ', ') AS codes, sum(expected_allowed) AS expected_allowed,
                sum(actual_allowed) AS actual_allowed, sum(underpaid_amount) AS underpaid
            FROM repriced
            WHERE is_final AND contract_id IN (SELECT unnest(?)) AND service_date BETWEEN ? AND ? AND underpaid_amount > 0
            GROUP BY claim_id ORDER BY underpaid DESC, claim_id LIMIT {int(top)}""",
                          [res.contracts, res.base_period[0], res.base_period[1]])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()
