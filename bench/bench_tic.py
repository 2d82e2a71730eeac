#!/usr/bin/env python3
"""Benchmark of TiC in-network ingestion: uncompressed JSON MB/s, rates/s, peak memory, 1 vs N processes.

    python /work/shared/bench/gen_tic.py --codes 34500 --providers 20000 --out /tmp/tic_1gb.json
    gzip -6 -k /tmp/tic_1gb.json                      # or gen_tic.py --out /tmp/tic_1gb.json.gz
    python bench/bench_tic.py --file /tmp/tic_1gb.json --workers 1,2 --repeat 3 --json

Every measurement runs in a fresh subprocess; the parent samples the whole
process tree (the reader, the forkserver and the pool's processes) with
psutil every 50 ms (PSS every 0.25 s: reading it is not free): peak memory is
the largest sum of PSS over the tree (shared library pages counted once; the
RSS sum and the largest process's RSS are reported too), CPU seconds the sum of the processes' user + system
time, ``cores_used`` = CPU seconds / wall.  Children run with
POLARS_MAX_THREADS=1, OMP_NUM_THREADS=1 (Arrow's pool) and NUMBA_NUM_THREADS=1,
so "N processes" means N cores at most (``workers=N`` is the caller plus a
pool of N - 1).  "MB/s" is uncompressed JSON bytes / wall time; "MB/s per
CPU-second" is bytes / CPU seconds (what one core sustains: the figure to
compare on a shared machine).  Rows are market_rates rows (negotiated price x
provider NPI) for the code basket (CMS shoppable services, 493 codes).

Modes run interleaved, ``--repeat`` rounds, so load drift hits all alike; the
summary gives medians per mode, the ratio to the same run's ijson baseline
(``x_ijson``, wall and per CPU-second), the N-process speed-up (ratio of median
walls, and the median of per-round paired ratios) and the CPU ratio to 1 process.

``phases`` (1 process, inline, in one child) times each step of the reader on
its own, CPU and wall: imports, the structural index (phase A, with the code
basket's verdicts), provider references, then per kept batch: read, parse,
flatten, provider join; and ``finish`` (file-level columns).

``ingest`` is the whole ``parley market ingest`` (hash, read, Parquet, commit); its
``phases_cpu`` gives the CPU of the SHA-256 (``hash``) and of the Parquet writers'
threads (``write``: conform + encode), each measured with ``thread_time`` (with
N processes only the caller's share is seen).  ``--baseline-src DIR`` adds
``ingest-base``: the same, with another version's ``src`` (e.g. ``git archive
COMMIT src | tar -x -C /tmp/base``), interleaved: a same-run before/after.

Each N-process measurement runs on N CPUs (``sched_setaffinity``, inherited by the
forkserver and the pool; ``--no-pin`` to turn it off): one process then has one core for
its helper threads too (the SHA-256 thread, the Parquet writer threads), so 1 -> 2
compares one core with two.  Unpinned, "1 process" already uses 1.3-1.5 cores through those
threads on a 2-core machine, and 1 -> 2 measures what is left of the second core.

Bytecode: this sandbox's venv has no ``.pyc`` files and PYTHONDONTWRITEBYTECODE
is set, so every process would compile numba, Polars and pyarrow from source
(~2 s per process, of which ~1 s in numba's first call).  An installed package
has its bytecode (pip compiles it), so children run with PYTHONPYCACHEPREFIX
set to ``--bytecode-cache`` (default: a folder in the temp dir, filled by a
warm-up child before the rounds); ``--bytecode-cache none`` measures as-is.

Baselines, measured in the same run over the same file:
* ``read``: reading the file (page cache) - the floor;
* ``gunzip-isal`` / ``gunzip-zlib``: decompressing the .gz;
* ``parley-spool``: a .gz decompressed to a temporary file first (``--spool-dir``),
  then read with the parallel plain-file path;
* ``ijson``: ijson's C backend streaming ``in_network`` items and flattening
  prices x provider references (the classic approach), run for a time budget
  and reported as MB/s over the bytes it consumed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, os.environ.get("PARLEY_BENCH_SRC") or str(HERE.parent / "src"))


# --- children ----------------------------------------------------------------------------------


def child_read(path: str) -> dict[str, Any]:
    n = 0
    with open(path, "rb", buffering=0) as f:
        while block := f.read(64 << 20):
            n += len(block)
    return {"bytes": n}


def child_gunzip(path: str, engine: str) -> dict[str, Any]:
    if engine == "isal":
        from isal import igzip as gz
    else:
        import gzip as gz  # type: ignore[no-redef]
    n = 0
    with gz.open(path, "rb") as f:
        while block := f.read(64 << 20):
            n += len(block)
    return {"bytes": n}


class _Counting:
    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.n = 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.n += len(data)
        return data


def child_ijson(path: str, budget: float, codes: frozenset[str]) -> dict[str, Any]:
    """ijson (C backend) streaming in_network items, flattening prices x provider references."""
    import ijson

    start = time.perf_counter()
    rows = 0
    with open(path, "rb") as raw:
        stream = _Counting(raw)
        for item in ijson.items(stream, "in_network.item", use_float=True):
            keep = item["billing_code"] in codes
            for rate in item["negotiated_rates"]:
                if keep:
                    rows += len(rate.get("provider_references") or []) * len(
                        rate["negotiated_prices"]
                    )
            if time.perf_counter() - start > budget:
                break
    return {"bytes": stream.n, "rows": rows, "partial": True, "backend": ijson.backend}


def child_parley(
    path: str, workers: int, codes: frozenset[str] | None, spool: str | None = None
) -> dict[str, Any]:
    from parley.ingest.sources import Source
    from parley.ingest.tic import MarketOptions, read_market, sniff_market

    source = Source(Path(path))
    fmt = sniff_market(source.head(), source.suffix)
    rows = 0
    problems = 0
    options = MarketOptions(codes=codes, workers=workers, spool_dir=spool)
    for chunk in read_market(source, fmt or "tic-in-network", file_id="bench", options=options):
        rows += sum(f.height for f in chunk.tables.values())
        problems += sum(p.severity == "error" for p in chunk.problems)
    size = _uncompressed_size(path)
    return {"bytes": size, "rows": rows, "errors": problems}


def child_ingest(path: str, workers: int, codes: frozenset[str] | None) -> dict[str, Any]:
    """The whole `parley market ingest`: hash, read, write Parquet, commit."""
    from parley.ingest.tic import MarketOptions
    from parley.services import market
    from parley.services.market import ingest_market
    from parley.store import datasets
    from parley.store.workspace import init_workspace

    # CPU of the hash and of the Parquet writers (each on its own thread: thread_time)
    spent = {"hash": 0.0, "write": 0.0}
    lock = threading.Lock()

    def timed(name: str, fn: Any) -> Any:
        def run(*a: Any, **k: Any) -> Any:
            t = time.thread_time()
            try:
                return fn(*a, **k)
            finally:
                with lock:
                    spent[name] += time.thread_time() - t

        return run

    market._digest = timed("hash", market._digest)  # type: ignore[method-assign]
    datasets.FileCommit._write_part = timed("write", datasets.FileCommit._write_part)  # type: ignore[method-assign]
    if hasattr(datasets, "PartWriter"):  # parts written by the caller's own tasks (pool mode)
        datasets.PartWriter.__call__ = timed("write", datasets.PartWriter.__call__)  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        ws = init_workspace(Path(tmp) / "ws")
        report = ingest_market(
            workspace=ws, paths=[path], options=MarketOptions(codes=codes, workers=workers)
        )
        rows = report.totals().get("market_rates", 0)
    return {
        "bytes": _uncompressed_size(path),
        "rows": rows,
        "ok": report.ok,
        "phases": {k: {"cpu": round(v, 3), "wall": None} for k, v in spent.items()},
    }


def child_phases(path: str, codes: frozenset[str] | None, t_start: float) -> dict[str, Any]:
    """Each step of the reader timed on its own (1 process, inline): CPU and wall seconds."""
    import pyarrow as pa

    from parley.ingest.tic import MarketOptions, finish_arrow
    from parley.ingest.tic import items as it
    from parley.ingest.tic import reader as rd
    from parley.ingest.tic.parallel import InlineRunner

    phases: dict[str, list[float]] = {}

    class Step:
        def __init__(self, name: str) -> None:
            self.name = name

        def __enter__(self) -> None:
            self.w, self.c = time.perf_counter(), time.process_time()

        def __exit__(self, *exc: Any) -> None:
            acc = phases.setdefault(self.name, [0.0, 0.0])
            acc[0] += time.process_time() - self.c
            acc[1] += time.perf_counter() - self.w

    phases["import"] = [time.process_time(), time.perf_counter() - t_start]
    size = os.path.getsize(path)
    opts = MarketOptions(codes=codes, workers=1)
    run = InlineRunner()
    with Step("index"):
        layout, spans, keys = rd.index_plain(Path(path), size, opts, run)
    with Step("providers"):
        providers = rd._providers(Path(path), spans, opts, run, rd.FileOutput())
    rows = 0
    header = layout.header()
    for kind in ("in_network", "out_of_network"):
        found = spans.get(kind)
        if found is None:
            continue
        if keys is not None:
            found = keys.select(found)
        size_ = rd.batch_bytes(found, opts.batch_bytes, 1)
        for batch in rd._file_batches(kind, found, size_, path, filtered=True):
            with Step("read"):
                data = rd._batch_bytes(batch)
            with Step("parse"):
                origins = batch.origins if batch.origins is not None else batch.offset
                table, _ = it.parse(data, batch.spans, kind, origins)
            with Step("flatten"):
                if kind == "in_network":
                    by_ref, inline = it.flatten_in_network(table, codes, opts.market)
                else:
                    by_ref, inline = None, it.flatten_allowed(table, codes, opts.market)
            with Step("join"):
                out = [inline]
                if by_ref is not None and providers is not None:
                    out.append(it.resolve(by_ref, providers))
                merged = (
                    pa.concat_tables([t for t in out if t.num_rows], promote_options="permissive")
                    if any(t.num_rows for t in out)
                    else None
                )
            if merged is not None:
                with Step("finish"):
                    rows += finish_arrow(merged, header, "tic-in-network", rows).num_rows
    return {
        "bytes": size,
        "rows": rows,
        "phases": {k: {"cpu": round(v[0], 3), "wall": round(v[1], 3)} for k, v in phases.items()},
    }


def _uncompressed_size(path: str) -> int:
    if path.endswith(".gz"):
        plain = path[:-3]
        if os.path.exists(plain):
            return os.path.getsize(plain)
        return child_gunzip(path, "zlib")["bytes"]
    return os.path.getsize(path)


def _codes(name: str) -> frozenset[str] | None:
    if name == "all":
        return None
    from parley.ingest.tic import shoppable_codes

    return shoppable_codes()


def child_main(args: argparse.Namespace) -> None:
    start = time.perf_counter()
    if args.child == "warm":  # fills the bytecode cache; not measured
        import importlib

        import ijson  # noqa: F401

        import parley.services.market  # noqa: F401

        for name in ("parley.ingest.tic._warm", "parley.ingest.tic.reader"):
            try:  # the compiled index, loaded once (older versions: the reader)
                importlib.import_module(name)
                break
            except ImportError:
                continue

        print(json.dumps({"bytes": 0, "wall": time.perf_counter() - start}))
        return
    if args.child == "phases":
        out = child_phases(args.file, _codes(args.basket), start)
        out["wall"] = time.perf_counter() - start
        print(json.dumps(out))
        return
    if args.child == "ingest":  # the pool's forkserver started first, as the command does
        try:
            from parley.ingest.forkserver import prestart
        except ImportError:  # --baseline-src older than prestart
            pass
        else:
            prestart(int(args.workers))
    codes = _codes(args.basket)
    if args.child == "read":
        out = child_read(args.file)
    elif args.child.startswith("gunzip-"):
        out = child_gunzip(args.file, args.child.split("-", 1)[1])
    elif args.child == "ijson":
        out = child_ijson(args.file, args.budget, codes or frozenset())
    elif args.child == "parley":
        out = child_parley(args.file, int(args.workers), codes)
    elif args.child == "parley-spool":
        out = child_parley(args.file, int(args.workers), codes, spool=tempfile.gettempdir())
    else:
        out = child_ingest(args.file, int(args.workers), codes)
    out["wall"] = time.perf_counter() - start
    if os.environ.get("PARLEY_TIC_TRACE"):
        try:
            from parley.ingest.tic import trace
        except ImportError:  # --baseline-src older than the trace
            pass
        else:
            trace.mark("reported")  # the end of the wall this child reports
    print(json.dumps(out))


# --- parent ------------------------------------------------------------------------------------


#: PSS (``memory_full_info``: the whole of /proc/PID/smaps, ~1.5 ms of CPU per process, and a
#: walk of its page tables that page faults wait for) and the process tree (a scan of all of
#: /proc) every 5th sample, i.e. every 0.25 s; RSS and CPU times (cheap) every 50 ms.  Reading
#: PSS every 50 ms took ~15% of a core from a 2-process run (no spare core for the sampler)
#: and nothing from a pinned 1-process run (the sampler ran on the idle core): a bias
#: against the N-process runs.
PSS_EVERY = 5


def _sample_tree(pid: int, stop: threading.Event, out: dict[str, Any]) -> None:
    import psutil

    root = psutil.Process(pid)
    cpu: dict[int, float] = {}
    peak_pss = peak_rss = peak_one = 0
    tick = 0
    procs: list[Any] = []
    while not stop.is_set():
        full = tick % PSS_EVERY == 0
        tick += 1
        if full or not procs:  # the tree (a scan of every /proc entry) with the PSS
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                break
        pss = rss = 0
        for p in procs:
            try:
                info = p.memory_full_info() if full else p.memory_info()
                pss += getattr(info, "pss", info.rss)
                rss += info.rss
                peak_one = max(peak_one, info.rss)
                t = p.cpu_times()
                cpu[p.pid] = t.user + t.system
            except psutil.Error:
                continue
        peak_rss = max(peak_rss, rss)
        if full:
            peak_pss = max(peak_pss, pss)
        stop.wait(0.05)
    out["peak_pss_mb"] = round(
        peak_pss / 2**20, 1
    )  # the tree's real footprint (shared pages counted once)
    out["peak_rss_sum_mb"] = round(
        peak_rss / 2**20, 1
    )  # shared library pages counted in every process
    out["peak_rss_max_process_mb"] = round(peak_one / 2**20, 1)
    out["cpu_seconds"] = round(sum(cpu.values()), 2)


def measure(
    mode: str,
    file: str,
    *,
    workers: int = 1,
    basket: str = "shoppable",
    budget: float = 20.0,
    bytecode: str | None = None,
    src: str | None = None,
    pin: bool = False,
    trace: str | None = None,
) -> dict[str, Any]:
    cmd = [
        sys.executable,
        __file__,
        "--child",
        mode,
        "--file",
        file,
        "--workers",
        str(workers),
        "--basket",
        basket,
        "--budget",
        str(budget),
    ]
    # one core per process: Polars' own thread pool would blur the 1-vs-N comparison
    env = {
        **os.environ,
        "PYTHONPATH": src or str(HERE.parent / "src"),
        "POLARS_MAX_THREADS": "1",  # Polars' pool
        "OMP_NUM_THREADS": "1",  # Arrow's CPU pool (pyarrow reads it at start-up)
        "NUMBA_NUM_THREADS": "1",
    }
    if src:
        env["PARLEY_BENCH_SRC"] = src
    if bytecode:  # like an installed package: bytecode compiled once, then read
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = bytecode
    if trace:  # the run's timeline (parley.ingest.tic.trace); no memory sampling then
        trace_file = os.path.join(trace, f"{mode}-x{workers}-{time.time_ns()}.jsonl")
        env["PARLEY_TIC_TRACE"] = trace_file
    load_start = os.getloadavg()[0]
    cpus = sorted(os.sched_getaffinity(0))[: max(1, workers)] if pin else None
    launched = time.monotonic()
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
        # --pin: the child and every process it starts (forkserver, pool) share N CPUs, so
        # "N processes" is N cores: the threads of 1 process (SHA-256, Parquet writers) too
        preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None,
    )
    stats: dict[str, Any] = {}
    stop = threading.Event()
    if trace:
        from tic_timeline import CpuSampler

        cpu_sampler = CpuSampler(proc.pid, list(cpus or os.sched_getaffinity(0)))
        cpu_sampler.start()
    else:
        sampler = threading.Thread(target=_sample_tree, args=(proc.pid, stop, stats))
        sampler.start()
    stdout, stderr = proc.communicate()
    exited = time.monotonic()
    if trace:
        cpu_sampler.stop()
    else:
        stop.set()
        sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"{mode} failed:\n{stderr[-3000:]}")
    result = json.loads(stdout.strip().splitlines()[-1])
    if trace:
        result["timeline"] = _timeline(
            trace_file, cpu_sampler, launched, exited, len(cpus or os.sched_getaffinity(0)), proc.pid
        )
        stats = {"cpu_seconds": result["timeline"]["cpu"], "peak_pss_mb": None,
                 "peak_rss_sum_mb": None, "peak_rss_max_process_mb": None}
    mb = result["bytes"] / 1e6
    result.update(stats)
    result.update(
        {
            "mode": mode,
            "file": file,
            "workers": workers,
            "mb_per_s": round(mb / result["wall"], 1),
            "mb_per_cpu_s": round(mb / result["cpu_seconds"], 1)
            if result.get("cpu_seconds")
            else None,
        }
    )
    if "rows" in result:
        result["rows_per_s"] = round(result["rows"] / result["wall"])
    result["cores_used"] = (
        round(result["cpu_seconds"] / result["wall"], 2) if result["wall"] else None
    )
    result["load_start"] = round(load_start, 2)
    result["pinned_cpus"] = cpus
    result["wall"] = round(result["wall"], 2)
    return result


def _timeline(
    trace_file: str, sampler: Any, launched: float, exited: float, cores: int, pid: int
) -> dict[str, Any]:
    from tic_timeline import load_trace, stretches

    events = load_trace(trace_file) if os.path.exists(trace_file) else []
    return stretches(
        events,
        sampler.samples,
        idle=sampler.idle,
        by_process=sampler.by_process(),
        launched=launched,
        exited=exited,
        cores=cores,
        main_pid=pid,
    )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--file", default="/tmp/tic_1gb.json")
    ap.add_argument("--gz", default=None, help="gzip file (default: FILE.gz when it exists)")
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--basket", default="shoppable", choices=["shoppable", "all"])
    ap.add_argument("--budget", type=float, default=15.0, help="seconds for the ijson baseline")
    ap.add_argument("--repeat", type=int, default=3, help="rounds (medians are reported)")
    ap.add_argument(
        "--skip",
        default="",
        help="comma-separated modes to skip (read,gunzip,ijson,phases,parley,ingest,gz)",
    )
    ap.add_argument(
        "--bytecode-cache",
        default=os.path.join(tempfile.gettempdir(), "parley-bench-pycache"),
        help="PYTHONPYCACHEPREFIX for the children ('none': as the environment says)",
    )
    ap.add_argument(
        "--baseline-src",
        default=None,
        help="a src folder of another version (e.g. a git worktree's src): adds 'ingest-base', "
        "the whole ingest with that code, interleaved with 'ingest' (same-run before/after)",
    )
    ap.add_argument(
        "--pin",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run each N-process measurement on N CPUs only (sched_setaffinity; the default): 1 "
        "process is then 1 core, its helper threads included, so 1 -> N is a scaling in cores; "
        "--no-pin lets one process's threads use every core",
    )
    ap.add_argument(
        "--trace",
        default=None,
        metavar="DIR",
        help="record each run's timeline (PARLEY_TIC_TRACE, one file per run in DIR) and the "
        "process tree's CPU every 20 ms: idle core-seconds per stretch of the run (start-up, "
        "phase A, providers, gate, phase B, tail, commit...); no memory sampling then",
    )
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child_main(args)
        return
    if not os.path.exists(args.file):
        sys.exit(
            f"{args.file} missing: python /work/shared/bench/gen_tic.py --codes 34500 --providers 20000 "
            f"--out {args.file}"
        )
    skip = set(filter(None, args.skip.split(",")))
    if args.trace:
        os.makedirs(args.trace, exist_ok=True)
    gz = args.gz or (args.file + ".gz" if os.path.exists(args.file + ".gz") else None)
    workers = [int(x) for x in args.workers.split(",")]
    plan = _plan(args.file, gz, workers, skip)
    bytecode = None if args.bytecode_cache == "none" else args.bytecode_cache
    if bytecode:
        measure("warm", args.file, basket=args.basket, bytecode=bytecode)
    base_src = str(Path(args.baseline_src).resolve()) if args.baseline_src else None
    if base_src:
        plan += [("ingest-base", args.file, w) for w in workers]
        if bytecode:
            measure("warm", args.file, basket=args.basket, bytecode=bytecode, src=base_src)
    results = []
    for round_ in range(args.repeat):  # interleaved: load drift hits every mode alike
        for mode, file, w in plan:
            r = measure(
                mode,
                file,
                workers=w,
                basket=args.basket,
                budget=args.budget,
                bytecode=bytecode,
                src=base_src if mode == "ingest-base" else None,
                pin=args.pin,
                trace=args.trace,
            )
            r["round"] = round_
            results.append(r)
            if not args.json:
                print(_line(r), flush=True)
            if "timeline" in r:
                from tic_timeline import render

                print(f"{r['mode']} x{r['workers']} round {round_}", file=sys.stderr)
                print(render(r["timeline"]), file=sys.stderr, flush=True)
    summary = summarise(results)
    if args.json:
        print(
            json.dumps(
                {
                    "summary": summary,
                    "results": results,
                    "cpu_count": os.cpu_count(),
                    "loadavg_end": os.getloadavg(),
                    "bytecode_cache": bytecode,
                },
                indent=2,
            )
        )
    else:
        print(json.dumps(summary, indent=2))


def _plan(
    file: str, gz: str | None, workers: list[int], skip: set[str]
) -> list[tuple[str, str, int]]:
    plan: list[tuple[str, str, int]] = []
    if "read" not in skip:
        plan.append(("read", file, 1))
    if gz and "gunzip" not in skip:
        plan += [("gunzip-isal", gz, 1), ("gunzip-zlib", gz, 1)]
    if "ijson" not in skip:
        plan.append(("ijson", file, 1))
    if "phases" not in skip:
        plan.append(("phases", file, 1))
    if "parley" not in skip:
        plan += [("parley", file, w) for w in workers]
    if gz and "gz" not in skip:
        plan += [("parley", gz, w) for w in workers]
        plan += [("parley-spool", gz, w) for w in workers]
    if "ingest" not in skip:
        plan += [("ingest", file, w) for w in workers]
    return plan


def summarise(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians per (mode, file, workers); ratios to the same run's ijson baseline and to 1 process."""
    import statistics

    groups: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    for r in results:
        groups.setdefault((r["mode"], Path(r["file"]).name, r["workers"]), []).append(r)
    out: dict[str, Any] = {}
    for (mode, name, w), runs in groups.items():
        med = {
            k: round(statistics.median(r[k] for r in runs if r.get(k) is not None), 2)
            for k in (
                "wall",
                "mb_per_s",
                "mb_per_cpu_s",
                "cpu_seconds",
                "cores_used",
                "peak_pss_mb",
                "rows_per_s",
                "load_start",
            )
            if any(r.get(k) is not None for r in runs)
        }
        med["mb_per_s_per_process"] = round(med["mb_per_s"] / w, 1)
        med["runs"] = len(runs)
        out[f"{mode} {name} x{w}"] = med
    for (mode, name, w), runs in groups.items():
        if any("phases" in r for r in runs):
            names = {p for r in runs for p in r.get("phases", {})}
            out[f"{mode} {name} x{w}"]["phases_cpu"] = {
                p: round(
                    statistics.median(r["phases"][p]["cpu"] for r in runs if p in r["phases"]), 3
                )
                for p in sorted(names)
            }
    base = next((v for k, v in out.items() if k.startswith("ijson")), None)
    for key, med in out.items():
        if base and key.startswith(("parley", "ingest", "phases")):  # ingest-base too
            med["x_ijson"] = round(med["mb_per_s"] / base["mb_per_s"], 2)
            med["x_ijson_per_cpu_s"] = round(med["mb_per_cpu_s"] / base["mb_per_cpu_s"], 2)
        one = out.get(key.rsplit(" x", 1)[0] + " x1")
        if one and one is not med:
            med["speedup_vs_1"] = round(one["wall"] / med["wall"], 2)
            med["cpu_ratio_vs_1"] = round(med["cpu_seconds"] / one["cpu_seconds"], 2)
    # paired per round: each N-process run against the 1-process run of the same round
    for key, med in out.items():
        mode, name, w = key.rsplit(" ", 2)[0], key.rsplit(" ", 2)[1], int(key.rsplit("x", 1)[1])
        if w == 1:
            continue
        pairs = [
            (a["wall"] / b["wall"])
            for a in results
            for b in results
            if a["mode"] == b["mode"] == mode
            and Path(a["file"]).name == Path(b["file"]).name == name
            and a["round"] == b["round"]
            and a["workers"] == 1
            and b["workers"] == w
        ]
        if pairs:
            med["paired_speedup_median"] = round(statistics.median(pairs), 2)
    return out


def _line(r: dict[str, Any]) -> str:
    rows = f", {r['rows']:,} rows, {r['rows_per_s']:,} rows/s" if "rows" in r else ""
    if "phases" in r:
        rows += " | cpu " + ", ".join(f"{k} {v['cpu']}" for k, v in r["phases"].items())
    return (
        f"{r['mode']:<12} {Path(r['file']).name:<18} workers={r['workers']} wall={r['wall']}s "
        f"{r['mb_per_s']} MB/s, {r['mb_per_cpu_s']} MB/CPU-s, cpu={r['cpu_seconds']}s "
        f"(cores used {r['cores_used']}, load {r['load_start']}), "
        f"peak PSS={r['peak_pss_mb']} MB (RSS sum {r['peak_rss_sum_mb']}, largest process "
        f"{r['peak_rss_max_process_mb']}){rows}"
    )


if __name__ == "__main__":
    main()
