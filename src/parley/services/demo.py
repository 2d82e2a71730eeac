"""Use case: build the demo workspace (generate a synthetic group, ingest it, summarise)."""

from __future__ import annotations

import json
import multiprocessing
import shutil
import time
from dataclasses import asdict, is_dataclass
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from parley.services.ingest import Progress, ingest_paths
from parley.services.summary import workspace_summary
from parley.services.workspace import create_workspace
from parley.store.workspace import open_workspace

SPEC_FILE = "demo-spec.json"


def _plain(obj: Any) -> Any:
    if is_dataclass(obj) and not isinstance(obj, type):
        return {k: _plain(v) for k, v in asdict(obj).items()}
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    return obj if isinstance(obj, (str, int, float, bool)) or obj is None else str(obj)


def run_demo(
    *, folder: Path, lines: int, seed: int, months: int = 24, fresh: bool = False, progress: Progress | None = None,
    briefs: bool = True,
) -> dict[str, Any]:
    """Generate the demo organisation's files into <workspace>/inputs, ingest them, summarise.

    Re-running with the same spec re-uses the workspace (ingestion is a no-op for
    files already loaded); a different spec, or ``fresh``, starts the datasets over.
    """
    from parley.demo import DemoSpec, generate_demo

    folder = folder.expanduser().resolve()
    spec = {"seed": seed, "lines": lines, "months": months}
    spec_path = folder / SPEC_FILE
    if folder.exists() and (fresh or (spec_path.exists() and json.loads(spec_path.read_text()) != spec)):
        for sub in ("datasets", "inputs"):
            shutil.rmtree(folder / sub, ignore_errors=True)
    create_workspace(folder=folder, organization="Riverside Medical Group (synthetic)")
    ws = open_workspace(folder)
    inputs = folder / "inputs"
    started = time.perf_counter()
    warmer = _start_warm_up()

    def gen_progress(done: int, total: int) -> None:
        if progress:
            progress("generating demo files", done, total)

    manifest = generate_demo(inputs, DemoSpec(seed=seed, lines=lines, months=months), progress=gen_progress)
    generated_at = time.perf_counter()
    spec_path.write_text(json.dumps(spec))
    x12 = sorted(str(p) for p in inputs.rglob("*") if p.suffix.lower() in (".835", ".837"))
    if warmer is not None:
        warmer.join()  # its kernels are in the cache now: the ingest workers load, not compile
    warmed_at = time.perf_counter()
    report = ingest_paths(workspace=ws, paths=x12, progress=progress)
    ingested_at = time.perf_counter()
    from parley.services.reprice import reprice_demo

    accuracy = reprice_demo(ws, inputs)
    from parley.services.kpi import load_demo_operations

    operations = load_demo_operations(ws, inputs)
    repriced_at = time.perf_counter()
    market = _market(ws, inputs, DemoSpec(seed=seed, lines=lines, months=months))
    market_at = time.perf_counter()
    summary = workspace_summary(workspace=ws)
    summarised_at = time.perf_counter()
    brief_files = _briefs(ws) if briefs else []
    plain = _plain(manifest)
    counts = plain.get("counts", plain) if isinstance(plain, dict) else {}
    return {
        "workspace": str(folder),
        "inputs": str(inputs),
        "generated": counts,
        "ingest": report.as_dict(),
        "summary": summary,
        "reprice": accuracy,
        "operations": operations,
        "market": market,
        "briefs": brief_files,
        "underpayment_precision": accuracy["underpayment_precision"],
        "underpayment_recall": accuracy["underpayment_recall"],
        "seconds": {
            "generate": round(generated_at - started, 2),
            "compile_wait": round(warmed_at - generated_at, 2),
            "ingest": round(ingested_at - warmed_at, 2),
            "reprice": round(repriced_at - ingested_at, 2),
            "market": round(market_at - repriced_at, 2),
            "briefs": round(time.perf_counter() - summarised_at, 2),
            "total": round(time.perf_counter() - started, 2),
        },
    }


def _start_warm_up() -> BaseProcess | None:
    """The X12 kernels compiled (or loaded) in a background process, alongside the generation.

    On a fresh install the compile takes ~35 s and the generation ~15 s on the other core;
    without this, every ingest worker would compile the same kernels after the generation.
    A warm-up that cannot start or fails costs nothing: the workers compile as before.
    """
    from parley.ingest.x12.warm import warm_kernels

    try:
        process = multiprocessing.get_context("spawn").Process(target=warm_kernels, daemon=True)
        process.start()
    except OSError:
        return None
    return process


def _market(ws: Any, inputs: Path, spec: Any) -> dict[str, Any]:
    """The demo market (parley.demo.market), ingested as 'parley market ingest <inputs>/market/prices' does.

    The code basket is the demo's chargemaster; the demo payers' spellings go to
    <workspace>/refdata/payer_aliases.csv unless that file exists (it is the user's).
    """
    from parley.demo.market import PRICES, write_demo_market
    from parley.services.market import ingest_market, market_options

    market = write_demo_market(inputs / "market", spec)
    aliases = ws.refdata_dir / "payer_aliases.csv"
    if market.aliases is not None and not aliases.exists():
        aliases.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(market.aliases, aliases)
    options, basket = market_options(ws, codes=market.codes, workers=1)  # a few small files: no process pool
    report = ingest_market(workspace=ws, paths=[str(market.out_dir / PRICES)], options=options)
    return {"folder": str(market.out_dir / PRICES), "files": len(market.files), "rates": market.tally["rows"],
            "peers": market.tally["peers"], "basket": basket, "registry": str(market.registry),
            "ingest": report.as_dict()}


def _briefs(ws: Any) -> list[dict[str, Any]]:
    """The negotiation brief of every demo payer (HTML, PDF, Excel, PowerPoint) under <workspace>/reports/."""
    from parley.services.brief import brief_all

    return [{"payer": r["payer"], "decision": r["decision"], "out": r["out"], "files": r["files"]}
            for r in brief_all(workspace=ws, out_root=ws.root / "reports")]
