"""Benchmark: 10,000 Monte Carlo draws of a 3-year value-based contract (median of runs).

Usage: python bench/bench_vbc.py [--draws 10000] [--years 3] [--runs 7] [--json]
The last stdout line is a JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from decimal import Decimal as D

from parley.domain.value_based import DownsideRisk, Population, SharedSavings, VbcTerms, Withhold
from parley.engine import montecarlo as mc


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--draws", type=int, default=10_000)
    p.add_argument("--years", type=int, default=3)
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    terms = VbcTerms(shared_savings=SharedSavings(cap=D("0.1")), downside=DownsideRisk(cap=D("0.05")),
                     withhold=Withhold(percent=D("0.02")), care_management_pmpm=D(4), corridor=D("0.08"))
    pop = Population(member_months=D(60000), benchmark_pmpm=D(1050), actual_pmpm=D(1010), ffs_revenue=D(9000000))
    times = []
    for _ in range(a.runs):
        t0 = time.perf_counter()
        mc.run(terms, pop, years=a.years, draws=a.draws, seed=42)  # terms + zero-downside variant
        times.append(time.perf_counter() - t0)
    res = {"bench": "vbc_monte_carlo", "draws": a.draws, "years": a.years, "runs": a.runs,
           "median_seconds": round(statistics.median(times), 4), "max_seconds": round(max(times), 4),
           "includes_zero_downside_variant": True, "target_seconds": 1.0}
    if not a.json:
        print(f"{a.draws} draws x {a.years} years: median {res['median_seconds']} s over {a.runs} runs")
    print(json.dumps(res))


if __name__ == "__main__":
    main()
