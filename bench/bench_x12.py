#!/usr/bin/env python3
"""Benchmark of the 835 reader: X12 bytes in -> canonical Polars frames out.

    python bench/bench_x12.py --size 50mb            # generate (or reuse) /tmp/era_50mb.835
    python bench/bench_x12.py --size both --json     # 50 MB and ~1 GB
    python bench/bench_x12.py --file some.835 --repeat 5

Every measurement runs in a fresh subprocess (peak RSS = that process's
ru_maxrss), with POLARS_MAX_THREADS=1 and with Polars' default thread count.
The baseline, measured in the same run over the same file, is a bare Python
loop that only splits segments and elements (streamed by 32 MB chunks).
Inputs come from the shared synthetic generator (``--shared``, default
/work/shared/bench/gen_835.py); sizes whose generator is missing are skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

SIZES = {"50mb": 100_000, "1gb": 2_000_000}
DEFAULT_GENERATOR = Path("/work/shared/bench/gen_835.py")


def child_reader(path: str, chunk_mb: int) -> dict[str, float]:
    from parley.ingest.base import PatientHasher
    from parley.ingest.x12 import read_835

    hasher = PatientHasher(b"bench-secret-0123456789")
    lines = claims = problems = 0
    start = time.perf_counter()
    with open(path, "rb") as stream:
        for chunk in read_835(stream, file_id="bench", hasher=hasher, chunk_bytes=chunk_mb << 20):
            frame = chunk.tables.get("remit_lines")
            lines += frame.height if frame is not None else 0
            frame = chunk.tables.get("remit_claims")
            claims += frame.height if frame is not None else 0
            problems += len(chunk.problems)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "lines": lines, "claims": claims, "problems": problems}


def child_baseline(path: str, chunk_mb: int) -> dict[str, float]:
    start = time.perf_counter()
    segments = elements = 0
    with open(path, "rb") as stream:
        head = stream.read(106)
        term, sep = head[105:106], head[3:4]
        carry = head
        while True:
            block = stream.read(chunk_mb << 20)
            data = carry + block
            if block:
                cut = data.rfind(term) + 1
                data, carry = data[:cut], data[cut:]
            for segment in data.split(term):
                fields = segment.strip().split(sep)
                segments += 1
                elements += len(fields)
            if not block:
                break
    return {"seconds": time.perf_counter() - start, "segments": segments, "elements": elements}


def run_child(kind: str, path: Path, chunk_mb: int, threads: str) -> dict[str, float]:
    env = dict(os.environ)
    if threads == "1":
        env["POLARS_MAX_THREADS"] = "1"
    else:
        env.pop("POLARS_MAX_THREADS", None)
    src = Path(__file__).resolve().parents[1] / "src"
    env["PYTHONPATH"] = f"{src}{os.pathsep}{env.get('PYTHONPATH', '')}"
    cmd = [
        sys.executable,
        __file__,
        "--child",
        kind,
        "--file",
        str(path),
        "--chunk-mb",
        str(chunk_mb),
    ]
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(path: Path, repeat: int, chunk_mb: int, threads: list[str]) -> dict[str, object]:
    size = path.stat().st_size
    result: dict[str, object] = {
        "file": str(path),
        "bytes": size,
        "repeat": repeat,
        "chunk_mb": chunk_mb,
    }
    base = [run_child("baseline", path, chunk_mb, "1") for _ in range(repeat)]
    base_s = statistics.median(r["seconds"] for r in base)
    result["baseline"] = {
        "median_seconds": round(base_s, 3),
        "mb_per_s": round(size / base_s / 1e6, 1),
        "process_cpu_seconds": round(statistics.median(r["cpu_seconds"] for r in base), 3),
        "peak_rss_mb": round(max(r["rss_kb"] for r in base) / 1024, 1),
    }
    for t in threads:
        runs = [run_child("reader", path, chunk_mb, t) for _ in range(repeat)]
        secs = statistics.median(r["seconds"] for r in runs)
        cpu = statistics.median(r["cpu_seconds"] for r in runs)
        result[f"reader_threads_{t}"] = {
            "median_seconds": round(secs, 3),
            "mb_per_s": round(size / secs / 1e6, 1),
            "lines_per_s": round(runs[0]["lines"] / secs),
            "claims": runs[0]["claims"],
            "service_lines": runs[0]["lines"],
            "problems": runs[0]["problems"],
            "peak_rss_mb": round(max(r["rss_kb"] for r in runs) / 1024, 1),
            "ratio_to_baseline": round(base_s / secs, 2),
            "all_seconds": [round(r["seconds"], 3) for r in runs],
            "process_cpu_seconds": round(cpu, 3),
        }
    return result


def ensure_file(size: str, generator: Path, out_dir: Path) -> Path | None:
    path = out_dir / f"era_{size}.835"
    if path.exists() and path.stat().st_size > 0:
        return path
    if not generator.exists():
        print(f"skip {size}: generator {generator} not found", file=sys.stderr)
        return None
    print(f"generating {path} ...", file=sys.stderr)
    subprocess.run(
        [sys.executable, str(generator), "--claims", str(SIZES[size]), "--out", str(path)],
        check=True,
        stderr=subprocess.DEVNULL,
    )
    return path


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", choices=["50mb", "1gb", "both"], default="50mb")
    parser.add_argument("--file", help="benchmark this file instead of generated ones")
    parser.add_argument("--shared", type=Path, default=DEFAULT_GENERATOR, help="path of gen_835.py")
    parser.add_argument("--out-dir", type=Path, default=Path("/tmp"))
    parser.add_argument(
        "--repeat", type=int, help="runs per measurement (default 3; 1 for the 1 GB file)"
    )
    parser.add_argument("--chunk-mb", type=int, default=32)
    parser.add_argument("--threads", default="1,default", help="comma list of '1' and 'default'")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--child", choices=["reader", "baseline"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        fn = child_reader if args.child == "reader" else child_baseline
        out = fn(args.file, args.chunk_mb)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        out["rss_kb"] = usage.ru_maxrss
        out["cpu_seconds"] = usage.ru_utime + usage.ru_stime
        print(json.dumps(out))
        return
    threads = [t.strip() for t in args.threads.split(",") if t.strip()]
    targets: list[tuple[str, Path]] = []
    if args.file:
        targets.append(("file", Path(args.file)))
    else:
        for size in ["50mb", "1gb"] if args.size == "both" else [args.size]:
            path = ensure_file(size, args.shared, args.out_dir)
            if path is not None:
                targets.append((size, path))
    results = {}
    for label, path in targets:
        repeat = args.repeat or (1 if label == "1gb" else 3)
        results[label] = measure(path, repeat, args.chunk_mb, threads)
        if not args.json:
            _print(label, results[label])
    if args.json:
        print(json.dumps(results, indent=2))


def _print(label: str, result: dict[str, object]) -> None:
    print(
        f"== {label}: {result['file']} ({result['bytes'] / 1e6:.1f} MB, median of {result['repeat']})"
    )
    base = result["baseline"]
    print(
        f"  baseline split loop : {base['median_seconds']:.2f} s  {base['mb_per_s']:.1f} MB/s  "
        f"rss {base['peak_rss_mb']:.0f} MB"
    )
    for key, value in result.items():
        if key.startswith("reader_"):
            print(
                f"  {key:20s}: {value['median_seconds']:.2f} s  {value['mb_per_s']:.1f} MB/s  "
                f"{value['lines_per_s']:,} lines/s  rss {value['peak_rss_mb']:.0f} MB  "
                f"x{value['ratio_to_baseline']} baseline  (process cpu {value['process_cpu_seconds']:.2f} s)"
            )


if __name__ == "__main__":
    main()
