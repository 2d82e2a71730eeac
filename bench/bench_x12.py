#!/usr/bin/env python3
"""Benchmark of the 835 reader: X12 bytes in -> canonical Polars frames out.

    python bench/bench_x12.py --size 50mb            # generate (or reuse) /tmp/bench/era_50mb.835
    python bench/bench_x12.py --size both --json     # 50 MB and ~1 GB
    python bench/bench_x12.py --file some.835 --repeat 5

Every measurement runs in a fresh subprocess (peak RSS = that process's
ru_maxrss), with POLARS_MAX_THREADS=1 / NUMBA_NUM_THREADS=1 and with the
default thread counts.  Three figures per thread setting:

- reader: read_835 alone (bytes in -> canonical frames out); its time
  includes the one-off load of the compiled kernels (``first_call_seconds``
  = the same reader over a tiny file, measured first in the same process and
  not counted in the reader time; the cold numba compile is only paid once
  per machine: see ``--cold``);
- e2e: the ingest service, ``ingest_paths(workspace=init_workspace(tmp),
  paths=[file], workers=1)`` into a fresh temporary workspace (X12 bytes in
  -> Parquet committed), timed around the call (imports and the kernels'
  first call excluded, as for the reader).
- write: the Parquet floor - the reader's output for the same file, streamed
  chunk by chunk, conformed and written as the service writes it, on one
  thread (only the writing is timed): what any end-to-end ingest on one core
  pays on top of reading.
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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

SIZES = {"50mb": 100_000, "1gb": 2_000_000}
DEFAULT_GENERATOR = Path("/work/shared/bench/gen_835.py")


TINY = (
    b"ISA*00*          *00*          *ZZ*A              *ZZ*B              *240101*1200*^*00501*"
    b"000000001*0*P*:~GS*HP*A*B*20240101*1200*1*X*005010X221A1~ST*835*0001~BPR*I*30*C*CHK"
    b"************20240101~TRN*1*1*1~N1*PR*P~N1*PE*Q*XX*1~CLP*C1*1*10*10*0*12*X~NM1*QC*1*A*B"
    b"****MI*M1~DTM*232*20240101~SVC*HC:99213*10*10**1~DTM*472*20240101~CAS*CO*45*0~"
    b"AMT*B6*10~CLP*C2*1*20*20*0*12*X~NM1*QC*1*C*D****MI*M2~SVC*HC:99213:25*10*10**1~"
    b"DTM*472*20240101~SVC*HC:99214*10*10**1~DTM*472*20240102~AMT*B6*10~"
    b"SE*20*0001~GE*1*1~IEA*1*000000001~"
)  # two claims of two lines: every kernel meets the array layouts of real batches


def _warm() -> float:
    """Run the reader once over a tiny file: loads (or compiles) the kernels."""
    import io

    from parley.ingest.base import PatientHasher
    from parley.ingest.x12 import read_835

    start = time.perf_counter()
    hasher = PatientHasher(b"bench-secret-0123456789")
    for _ in read_835(io.BytesIO(TINY), file_id="warm", hasher=hasher, chunk_bytes=1 << 20):
        pass
    return time.perf_counter() - start


def _chunks(path: str, chunk_mb: int) -> Iterator[Any]:
    """The reader's chunks of a file (a fixed bench secret for the patient hash)."""
    from parley.ingest.base import PatientHasher
    from parley.ingest.x12 import read_835

    hasher = PatientHasher(b"bench-secret-0123456789")
    with open(path, "rb") as stream:
        yield from read_835(stream, file_id="bench", hasher=hasher, chunk_bytes=chunk_mb << 20)


def _timed(fn: Callable[[], dict[str, Any]], first_call: float) -> dict[str, Any]:
    """Run ``fn`` and add its wall and CPU seconds and the kernels' first-call time."""
    cpu0 = time.process_time()
    start = time.perf_counter()
    out = fn()
    out["seconds"] = time.perf_counter() - start
    out["work_cpu_seconds"] = time.process_time() - cpu0
    out["first_call_seconds"] = first_call
    return out


def child_reader(path: str, chunk_mb: int) -> dict[str, Any]:
    first_call = _warm()

    def read() -> dict[str, Any]:
        lines = claims = problems = 0
        for chunk in _chunks(path, chunk_mb):
            frame = chunk.tables.get("remit_lines")
            lines += frame.height if frame is not None else 0
            frame = chunk.tables.get("remit_claims")
            claims += frame.height if frame is not None else 0
            problems += len(chunk.problems)
        return {"lines": lines, "claims": claims, "problems": problems}

    return _timed(read, first_call)


def child_e2e(path: str, chunk_mb: int) -> dict[str, Any]:
    """The ingest service end to end: X12 bytes in -> Parquet committed in a fresh workspace."""
    import tempfile

    from parley.services.ingest import ingest_paths
    from parley.store.workspace import init_workspace

    first_call = _warm()
    with tempfile.TemporaryDirectory(prefix="bench-x12-") as tmp:
        workspace = init_workspace(Path(tmp) / "ws")
        cpu0 = time.process_time()
        start = time.perf_counter()
        report = ingest_paths(workspace=workspace, paths=[path], workers=1)
        seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu0
        totals = report.totals()
        status = [f.status for f in report.files]
    return {
        "seconds": seconds,
        "work_cpu_seconds": cpu,
        "lines": totals.get("remit_lines", 0),
        "claims": totals.get("remit_claims", 0),
        "status": ",".join(status),
        "first_call_seconds": first_call,
    }


def child_write(path: str, chunk_mb: int) -> dict[str, Any]:
    """The Parquet floor: the reader's own output conformed and written exactly as the ingest
    service writes it (zstd, decimals as integers, per-table dictionaries, statistics and
    delta encodings; a table's chunks held until they make a part), on this one thread.
    Streamed like the service (memory stays flat); only the conform + write of each part is
    timed, not the reading.  An end-to-end ingest on one core cannot be faster than this."""
    import tempfile

    from parley.store import datasets

    first_call = _warm()
    # sources from before parts were coalesced (--baseline-src) write one part per chunk
    part_bytes = getattr(datasets, "PART_BYTES", 0)
    part_rows = getattr(datasets, "PART_ROWS", 0)
    held: dict[str, list[Any]] = {}
    sizes: dict[str, tuple[int, int]] = {}
    lines = claims = parts = 0
    seconds = cpu = 0.0

    def write(name: str, folder: Path) -> None:
        nonlocal seconds, cpu, parts
        frames = held.pop(name)
        sizes.pop(name)
        cpu0 = time.process_time()
        start = time.perf_counter()
        out = folder / f"{name}-{parts}.parquet"
        if hasattr(datasets, "write_frames"):
            datasets.write_frames(name, frames, out, file_id="bench-file-id-00")
        else:
            arrow = datasets.conform(name, frames[0], file_id="bench-file-id-00")
            datasets.write_parquet(arrow, out, **datasets.write_options(name, arrow))
        seconds += time.perf_counter() - start
        cpu += time.process_time() - cpu0
        parts += 1

    with tempfile.TemporaryDirectory(prefix="bench-x12-write-") as tmp:
        for chunk in _chunks(path, chunk_mb):
            for name, frame in chunk.tables.items():
                if frame.height:
                    held.setdefault(name, []).append(frame)
                    rows, size = sizes.get(name, (0, 0))
                    sizes[name] = (rows + frame.height, size + frame.estimated_size())
                    if sizes[name][0] >= part_rows or sizes[name][1] >= part_bytes:
                        write(name, Path(tmp))
            if "remit_lines" in chunk.tables:
                lines += chunk.tables["remit_lines"].height
            if "remit_claims" in chunk.tables:
                claims += chunk.tables["remit_claims"].height
        for name in list(held):
            write(name, Path(tmp))
    return {
        "seconds": seconds,
        "work_cpu_seconds": cpu,
        "lines": lines,
        "claims": claims,
        "parts": parts,
        "status": "written",
        "first_call_seconds": first_call,
    }


def child_cold(path: str, chunk_mb: int) -> dict[str, float]:
    """First call with an empty numba cache (NUMBA_CACHE_DIR set by the parent to a fresh dir)."""
    return {"seconds": _warm()}


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


def run_child(
    kind: str,
    path: Path,
    chunk_mb: int,
    threads: str,
    cache_dir: str | None = None,
    src: Path | None = None,
) -> dict[str, float]:
    env = dict(os.environ)
    if threads == "1":
        env["POLARS_MAX_THREADS"] = "1"
        env["NUMBA_NUM_THREADS"] = "1"
    else:
        env.pop("POLARS_MAX_THREADS", None)
        env.pop("NUMBA_NUM_THREADS", None)
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = cache_dir
    src = src or Path(__file__).resolve().parents[1] / "src"
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


def measure(
    path: Path,
    repeat: int,
    chunk_mb: int,
    threads: list[str],
    kinds: list[str],
    baseline_src: Path | None = None,
) -> dict[str, object]:
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
    for kind in kinds:
        for t in threads:
            runs, base_runs = [], []
            for _ in range(repeat):  # interleaved with the baseline source, when given
                runs.append(run_child(kind, path, chunk_mb, t))
                if baseline_src is not None:
                    base_runs.append(run_child(kind, path, chunk_mb, t, src=baseline_src))
            if base_runs:
                result[f"{kind}_threads_{t}_baseline_src"] = _entry(kind, size, base_s, base_runs)
                mine = _entry(kind, size, base_s, runs)
                mine["cpu_ratio_to_baseline_src"] = round(
                    statistics.median(r["work_cpu_seconds"] for r in base_runs)
                    / statistics.median(r["work_cpu_seconds"] for r in runs),
                    3,
                )
                result[f"{kind}_threads_{t}"] = mine
                continue
            result[f"{kind}_threads_{t}"] = _entry(kind, size, base_s, runs)
    return result


def _entry(kind: str, size: int, base_s: float, runs: list[dict[str, Any]]) -> dict[str, object]:
    """Medians of one kind's runs (``cpu_mb_per_s``: bytes per work CPU-second)."""
    secs = statistics.median(r["seconds"] for r in runs)
    entry: dict[str, object] = {
        "median_seconds": round(secs, 3),
        "mb_per_s": round(size / secs / 1e6, 1),
        "lines_per_s": round(runs[0]["lines"] / secs),
        "claims": runs[0]["claims"],
        "service_lines": runs[0]["lines"],
        "peak_rss_mb": round(max(r["rss_kb"] for r in runs) / 1024, 1),
        "ratio_to_baseline": round(base_s / secs, 2),
        "all_seconds": [round(r["seconds"], 3) for r in runs],
        "work_cpu_seconds": round(statistics.median(r["work_cpu_seconds"] for r in runs), 3),
        "process_cpu_seconds": round(statistics.median(r["cpu_seconds"] for r in runs), 3),
    }
    entry["cpu_mb_per_s"] = round(size / 1e6 / max(float(entry["work_cpu_seconds"]), 1e-9), 1)  # type: ignore[arg-type]
    entry["first_call_seconds"] = round(statistics.median(r["first_call_seconds"] for r in runs), 3)
    if kind == "reader":
        entry["problems"] = runs[0]["problems"]
    else:
        entry["status"] = runs[0]["status"]
    return entry


def ensure_file(size: str, generator: Path, out_dir: Path) -> Path | None:
    path = out_dir / f"era_{size}.835"
    if path.exists() and path.stat().st_size > 0:
        return path
    if not generator.exists():
        print(f"skip {size}: generator {generator} not found", file=sys.stderr)
        return None
    print(f"generating {path} ...", file=sys.stderr)
    out_dir.mkdir(parents=True, exist_ok=True)
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
    parser.add_argument(
        "--out-dir", type=Path, default=Path("/tmp/bench"), help="where the generated files go"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per measurement (median reported; default 3)"
    )
    parser.add_argument("--chunk-mb", type=int, default=32)
    parser.add_argument("--threads", default="1,default", help="comma list of '1' and 'default'")
    parser.add_argument(
        "--kinds",
        default="reader,e2e,write",
        help="comma list of 'reader', 'e2e' (service) and 'write' (the Parquet floor)",
    )
    parser.add_argument(
        "--cold", action="store_true", help="also measure the first call with an empty numba cache"
    )
    parser.add_argument(
        "--baseline-src",
        type=Path,
        help="also run every measurement with this other source tree (e.g. an older commit's "
        "'src', from git archive), interleaved run by run with this one, and report the CPU ratio",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument(
        "--child", choices=["reader", "baseline", "e2e", "write", "cold"], help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        fn = {
            "reader": child_reader,
            "baseline": child_baseline,
            "e2e": child_e2e,
            "write": child_write,
            "cold": child_cold,
        }[args.child]
        out = fn(args.file, args.chunk_mb)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        out["rss_kb"] = usage.ru_maxrss
        out["cpu_seconds"] = usage.ru_utime + usage.ru_stime
        print(json.dumps(out))
        return
    threads = [t.strip() for t in args.threads.split(",") if t.strip()]
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
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
        results[label] = measure(
            path, args.repeat, args.chunk_mb, threads, kinds, baseline_src=args.baseline_src
        )
        if not args.json:
            _print(label, results[label])
    if args.cold and targets:
        import tempfile

        with tempfile.TemporaryDirectory(prefix="bench-numba-") as cache:
            cold = run_child("cold", targets[0][1], args.chunk_mb, "1", cache_dir=cache)
            warm = run_child("cold", targets[0][1], args.chunk_mb, "1", cache_dir=cache)
        results["kernels"] = {
            "cold_compile_first_call_seconds": round(cold["seconds"], 3),
            "cached_first_call_seconds": round(warm["seconds"], 3),
        }
        if not args.json:
            print(
                f"== kernels: first call {cold['seconds']:.2f} s with an empty numba cache "
                f"(compile), {warm['seconds']:.2f} s with the cache"
            )
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
        if key.startswith(("reader_", "e2e_", "write_")):
            extra = f", kernels first call {value['first_call_seconds']:.2f} s not counted"
            if "status" in value:
                extra += f", {value['status']}"
            print(
                f"  {key:20s}: {value['median_seconds']:.2f} s  {value['mb_per_s']:.1f} MB/s  "
                f"{value['lines_per_s']:,} lines/s  rss {value['peak_rss_mb']:.0f} MB  "
                f"x{value['ratio_to_baseline']} baseline  (cpu {value['work_cpu_seconds']:.2f} s"
                f"{extra})"
                + (
                    f"  cpu x{value['cpu_ratio_to_baseline_src']} vs --baseline-src"
                    if "cpu_ratio_to_baseline_src" in value
                    else ""
                )
            )


if __name__ == "__main__":
    main()
