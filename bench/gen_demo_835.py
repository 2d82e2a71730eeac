"""Time the demo generator: ``python bench/gen_demo_835.py [lines] [out_dir] [--seed N]``."""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from parley.demo import DemoSpec, generate_demo


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("lines", nargs="?", type=int, default=200_000)
    ap.add_argument("out_dir", nargs="?", type=Path)
    ap.add_argument("--seed", type=int, default=DemoSpec.seed)
    ap.add_argument("--months", type=int, default=DemoSpec.months)
    a = ap.parse_args()
    out = a.out_dir or Path(tempfile.mkdtemp(prefix="parley-demo-"))
    spec = DemoSpec(seed=a.seed, lines=a.lines, months=a.months)
    t0 = time.perf_counter()
    man = generate_demo(out, spec)
    dt = time.perf_counter() - t0
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(
        json.dumps(
            {
                "out_dir": str(out),
                "seconds": round(dt, 2),
                "lines": man.counts["lines"],
                "lines_per_second": round(man.counts["lines"] / dt),
                "bytes": size,
                "counts": man.counts,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
