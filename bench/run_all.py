#!/usr/bin/env python3
"""Run Parley's benchmarks and print one table of medians (and --json).

    python bench/run_all.py                 # every bench at its default (quick) size
    python bench/run_all.py x12 --size both # one bench, arguments passed through

Each bench_*.py is a standalone script that prints a JSON object on its last
line of stdout; this runner collects them into bench/out/results.json.
Benchmarks are not tests: they measure, they do not pass or fail.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    names = sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))
    chosen = [argv[0]] if argv and argv[0] in names else names
    extra = argv[1:] if argv and argv[0] in names else argv
    results = {}
    for name in chosen:
        print(f"== bench {name}", file=sys.stderr, flush=True)
        proc = subprocess.run(
            [sys.executable, str(HERE / f"bench_{name}.py"), "--json", *extra],
            capture_output=True, text=True,
        )
        sys.stderr.write(proc.stderr[-4000:])
        lines = [ln for ln in proc.stdout.strip().splitlines() if ln.strip()]
        try:
            results[name] = json.loads(proc.stdout[proc.stdout.index("{"):]) if lines else {"error": "no output"}
        except ValueError:
            results[name] = {"error": "unreadable output", "tail": proc.stdout[-500:]}
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
