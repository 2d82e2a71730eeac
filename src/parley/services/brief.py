"""Use case: the negotiation brief for one payer (``parley brief``), in HTML, PDF, Excel and PowerPoint.

One :class:`~parley.report.model.Brief` is built from the existing services
(:func:`parley.services.strategy.strategy`, the KPI session, the contracts), its charts are
drawn once (:func:`parley.report.charts.draw_charts`), and each renderer writes one file
atomically.  ``parley demo`` calls :func:`brief_all`, which gathers the workspace-wide data
once and reuses it for every payer.
"""

from __future__ import annotations

import datetime as dt
import importlib
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from parley.errors import InputError
from parley.report import FORMATS
from parley.report.model import Brief
from parley.services import brief_plan as bp
from parley.services import brief_sections as bs
from parley.services.brief_data import BriefContext, gather, payer_inputs, slug
from parley.store.workspace import Workspace

RENDERERS = {"html": "parley.report.render_html", "pdf": "parley.report.render_pdf",
             "xlsx": "parley.report.render_xlsx", "pptx": "parley.report.render_pptx"}


def parse_formats(text: str | list[str] | None) -> list[str]:
    items = text if isinstance(text, list) else (text or ",".join(FORMATS)).split(",")
    out = [x.strip().lower() for x in items if x.strip()]
    bad = [x for x in out if x not in FORMATS]
    if bad:
        raise InputError(f"--format: unknown format(s) {', '.join(bad)}: choose from {', '.join(FORMATS)}")
    return list(dict.fromkeys(out))


def assemble(ctx: BriefContext, pi: Any, *, product_lines: list[str] | None = None) -> Brief:
    """The report model from the gathered data (pure selection and wording, no I/O)."""
    p = bs.Parts(ctx, pi)
    sections: list[Any] = [bs.inventory(p), bs.performance(p), bs.value_story(p), bp.scenarios(p)]
    sections.append(bp.playbook(p, sections))
    summary = bp.summary(p, sections)
    sections.insert(0, summary)
    method = bp.method(p, sections)
    scoped = pi.scoped
    lines = product_lines or sorted({x for c in scoped for x in c.product_lines})
    base = pi.strategy.base_period if pi.strategy else None
    return Brief(
        payer=p.payer, organization=ctx.organization, title=f"{p.payer.title()}: negotiation brief",
        subtitle=f"{ctx.organization} - {', '.join(lines)}", contracts=[c.contract_id for c in scoped], product_lines=lines,
        as_of=ctx.as_of, base_period=base, generated_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
        summary=summary, inventory=sections[1], performance=sections[2], value=sections[3], scenarios=sections[4],
        playbook=sections[5], method=method,
        headline_figures=[f for f in summary.figures + summary.key_dates])


def build_brief(*, workspace: Workspace, payer: str, product_lines: list[str] | None = None, as_of: dt.date | None = None,
                inputs_path: Path | None = None, context: BriefContext | None = None) -> Brief:
    """The brief's model for one payer (gathers the workspace-wide data unless ``context`` is given)."""
    ctx, pi = _gather_and_payer(workspace, payer, product_lines, as_of, inputs_path, context)
    return assemble(ctx, pi, product_lines=product_lines)


def _gather_and_payer(ws: Workspace, payer: str, product_lines: list[str] | None, as_of: dt.date | None,
                      inputs_path: Path | None, context: BriefContext | None) -> tuple[BriefContext, Any]:
    if context is not None:
        return context, payer_inputs(context, payer=payer, product_lines=product_lines, inputs_path=inputs_path)
    # the KPI session and the payer's strategy are independent: run them side by side (DuckDB releases the GIL)
    from parley.services.contracts import workspace_contracts

    light = BriefContext(workspace=ws, as_of=as_of or dt.date.today(), organization="", kpi_ok=False, kpi_note=None,
                         contracts=workspace_contracts(ws) if ws.contracts_dir.is_dir() else [])
    with ThreadPoolExecutor(max_workers=2) as pool:
        fut_ctx = pool.submit(gather, workspace=ws, as_of=as_of)
        fut_pi = pool.submit(payer_inputs, light, payer=payer, product_lines=product_lines, inputs_path=inputs_path)
        return fut_ctx.result(), fut_pi.result()


def default_out(ws: Workspace, brief: Brief) -> Path:
    return ws.root / "reports" / f"brief-{slug(brief.payer)}-{brief.as_of:%Y-%m-%d}"


def render(brief: Brief, *, formats: list[str], out: Path) -> dict[str, Any]:
    """Draw the charts once and write each format (each renderer writes atomically)."""
    from parley.report.charts import draw_charts

    seconds: dict[str, float] = {}
    t = time.perf_counter()
    charts = draw_charts(brief)
    seconds["charts"] = time.perf_counter() - t
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {}
    stem = f"brief-{slug(brief.payer)}"
    for fmt in formats:
        module = importlib.import_module(RENDERERS[fmt])
        t = time.perf_counter()
        files[fmt] = str(module.write(brief, charts, out / f"{stem}.{fmt}"))
        seconds[fmt] = time.perf_counter() - t
    return {"files": files, "seconds": {k: round(v, 3) for k, v in seconds.items()}}


def write_brief(*, workspace: Workspace, payer: str, formats: list[str] | None = None, out: Path | None = None,
                product_lines: list[str] | None = None, as_of: dt.date | None = None, inputs_path: Path | None = None,
                context: BriefContext | None = None) -> dict[str, Any]:
    """Build the model and write the requested formats; returns paths, timings and the headline figures."""
    t = time.perf_counter()
    brief = build_brief(workspace=workspace, payer=payer, product_lines=product_lines, as_of=as_of, inputs_path=inputs_path,
                        context=context)
    model_s = time.perf_counter() - t
    folder = Path(out) if out else default_out(workspace, brief)
    result = render(brief, formats=parse_formats(formats), out=folder)
    result["seconds"] = {"model": round(model_s, 3), **result["seconds"], "total": round(time.perf_counter() - t, 3)}
    return {"payer": brief.payer, "contracts": brief.contracts, "as_of": brief.as_of.isoformat(), "out": str(folder),
            **result, "decision": brief.summary.decision, "headline": brief.summary.headline,
            "figures": {f.key: {"label": f.label, "value": _plain(f.value), "unit": f.unit, "display": f.display}
                        for f in brief.headline_figures},
            "missing": {s.id: s.missing for s in brief.sections() if s.missing}}


def _plain(v: Any) -> Any:
    return v.isoformat() if isinstance(v, dt.date) else (str(v) if v is not None and not isinstance(v, (int, str)) else v)


def _one(args: tuple[Workspace, str, list[str] | None, Path | None, BriefContext]) -> dict[str, Any]:
    ws, payer, formats, folder, ctx = args
    return write_brief(workspace=ws, payer=payer, formats=formats, out=folder, context=ctx)


def brief_all(*, workspace: Workspace, formats: list[str] | None = None, out_root: Path | None = None,
              workers: int | None = None) -> list[dict[str, Any]]:
    """A brief for every payer with a contract (the demo's last step).

    The workspace-wide data are gathered once and shared; payers are built in parallel processes
    (one per core, at most 4): each brief is independent and mostly CPU-bound Python (rate
    compilation, chart drawing), so threads would not help.
    """
    import multiprocessing as mp
    import os
    from concurrent.futures import ProcessPoolExecutor

    ctx = gather(workspace=workspace)
    payers = list(dict.fromkeys(c.payer.name for c in ctx.contracts))
    jobs = [(workspace, payer, formats, (out_root / f"brief-{slug(payer)}-{ctx.as_of:%Y-%m-%d}") if out_root else None, ctx)
            for payer in payers]
    n = min(workers or os.cpu_count() or 1, 4, len(jobs))
    if n <= 1:
        return [_one(j) for j in jobs]
    with ProcessPoolExecutor(max_workers=n, mp_context=mp.get_context("spawn")) as pool:
        return list(pool.map(_one, jobs))
