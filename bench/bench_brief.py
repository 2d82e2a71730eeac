"""Benchmark: the negotiation brief of one payer on the demo workspace, all four formats.

    .venv/bin/python bench/bench_brief.py [--workspace DIR] [--payer NAME] [--runs 3] [--lines 200000] [--json]

Without ``--workspace`` the demo workspace is built once (``parley demo --lines N --no-briefs``)
in a temporary folder.  Each run times, in one process:

* *baseline*: the payer's ``strategy()`` alone (what ``parley strategy PAYER`` computes), the
  biggest input of the brief, measured in the same run so machine load shows in both;
* *model*: the whole report model (workspace KPIs + strategy + proposals, in parallel threads);
* *charts*: every chart drawn once (SVG + PNG);
* *html*, *pdf*, *xlsx*, *pptx*: each renderer;
* *total*: model + charts + the four formats (the issue's target: under 20 s).

Prints the median of the runs and the ratio total / baseline.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any


def _demo(lines: int, folder: Path) -> Path:
    from parley.services.demo import run_demo

    run_demo(folder=folder, lines=lines, seed=20261123, briefs=False)
    return folder


def _run(ws: Any, payer: str, out: Path) -> dict[str, float]:
    import importlib

    from parley.report.charts import draw_charts
    from parley.services import strategy as st
    from parley.services.brief import RENDERERS, build_brief

    t = time.perf_counter()
    st.strategy(workspace=ws, payer=payer)
    times = {"baseline_strategy": time.perf_counter() - t}
    t = time.perf_counter()
    brief = build_brief(workspace=ws, payer=payer)
    times["model"] = time.perf_counter() - t
    t = time.perf_counter()
    charts = draw_charts(brief)
    times["charts"] = time.perf_counter() - t
    for fmt, module in RENDERERS.items():
        t = time.perf_counter()
        importlib.import_module(module).write(brief, charts, out / f"brief.{fmt}")
        times[fmt] = time.perf_counter() - t
    times["total"] = sum(v for k, v in times.items() if k != "baseline_strategy")
    return times


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workspace", type=Path)
    ap.add_argument("--payer", default="KEYSTONE NATIONAL HEALTH")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--lines", type=int, default=200_000)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    from parley.store.workspace import open_workspace

    with tempfile.TemporaryDirectory(prefix="parley-bench-brief-") as tmp:
        folder = args.workspace or _demo(args.lines, Path(tmp) / "demo")
        ws = open_workspace(folder)
        runs = [_run(ws, args.payer, Path(tmp)) for _ in range(args.runs)]
    med = {k: round(statistics.median(r[k] for r in runs), 3) for k in runs[0]}
    result = {"bench": "brief", "payer": args.payer, "runs": args.runs, "median_seconds": med,
              "total_over_baseline": round(med["total"] / med["baseline_strategy"], 2) if med["baseline_strategy"] else None,
              "target_seconds": 20, "all_runs": [{k: round(v, 3) for k, v in r.items()} for r in runs]}
    if not args.json:
        for k, v in med.items():
            print(f"{k:>18}: {v:7.2f} s")
        print(f"total / baseline: {result['total_over_baseline']}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
