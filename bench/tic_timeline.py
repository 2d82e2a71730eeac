"""Where the cores sit idle in one `parley market ingest` run (``bench_tic.py --trace``).

Two inputs, on one clock (``time.monotonic``, system-wide on Linux):

* the run's trace (``PARLEY_TIC_TRACE``, :mod:`parley.ingest.tic.trace`): the tasks each
  process ran (phase A chunks, phase B batches), the caller's waits and the instants that
  cut the run into stretches (index done, providers done, gate open, every batch
  dispatched, read done, committed, pool closed);
* :class:`CpuSampler`: every ``period`` seconds, the CPU time of every thread of the
  process tree from ``/proc/<pid>/task/<tid>/schedstat`` (nanoseconds).

:func:`stretches` gives, per stretch, its wall time, the core-seconds used and the
core-seconds not used by the run (``cores x wall - used``) and, of those, the idle
ones (``/proc/stat`` of the run's CPUs: no process at all ran; the rest went to other
users' processes): what a perfectly balanced run would not have lost.  Pool processes' idle time (not inside a task) is given too.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

#: (name, the mark that ends it): a stretch runs from the previous mark to this one
STRETCHES = (
    ("start-up: imports, workspace", "ingest_start"),
    ("before the first chunk (sniff, triage)", "first_task"),
    ("phase A until the pool answers", "pool_warm"),
    ("phase A (index)", "index_done"),
    ("provider references", "providers_done"),
    ("gate (SHA-256 verdict, commit opened)", "gate_end"),
    ("phase B, dispatching", "dispatched"),
    ("phase B tail (last batches)", "read_done"),
    ("commit (drain, renames, manifest)", "file_done"),
    ("pool shut down", "pool_closed"),
    ("report (bench: workspace removed)", "reported"),
    ("exit (interpreter, forkserver; not in the wall)", "exit"),
)


class CpuSampler:
    """Samples the CPU time of every thread of a process tree (``schedstat``, ns)."""

    def __init__(self, pid: int, cpus: list[int], period: float = 0.02) -> None:
        self.pid = pid
        self.cpus = cpus
        self.period = period
        self.samples: list[tuple[float, float]] = []  # (monotonic, cumulative CPU s)
        #: (monotonic, cumulative idle seconds of the run's CPUs, /proc/stat: nobody ran)
        self.idle: list[tuple[float, float]] = []
        self._hz = os.sysconf("SC_CLK_TCK")
        self._last: dict[tuple[int, int], int] = {}
        self._total = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _tree(self) -> list[int]:
        import psutil

        try:
            root = psutil.Process(self.pid)
            return [self.pid, *(p.pid for p in root.children(recursive=True))]
        except psutil.Error:
            return []

    def _run(self) -> None:
        pids: list[int] = []
        tick = 0
        while not self._stop.is_set():
            if tick % 10 == 0:  # the tree changes rarely: walk it every 10 samples
                pids = self._tree() or pids
            tick += 1
            for pid in pids:
                try:
                    tids = os.listdir(f"/proc/{pid}/task")
                except OSError:
                    continue
                for tid in tids:
                    try:
                        with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                            ns = int(f.read().split()[0])
                    except (OSError, ValueError, IndexError):
                        continue
                    key = (pid, int(tid))
                    self._total += ns - self._last.get(key, 0)
                    self._last[key] = ns
            now = time.monotonic()
            self.samples.append((now, self._total / 1e9))
            self.idle.append((now, self._cpu_idle()))
            self._stop.wait(self.period)

    def by_process(self) -> dict[int, float]:
        """CPU seconds per process of the tree (threads summed), as last sampled."""
        out: dict[int, float] = {}
        for (pid, _tid), ns in self._last.items():
            out[pid] = out.get(pid, 0.0) + ns / 1e9
        return out

    def _cpu_idle(self) -> float:
        """Idle + iowait seconds of the run's CPUs since boot (clock ticks)."""
        total = 0
        with open("/proc/stat") as f:
            for line in f:
                if not line.startswith("cpu") or line.startswith("cpu "):
                    continue
                name, *fields = line.split()
                if int(name[3:]) in self.cpus:
                    total += int(fields[3]) + int(fields[4])
        return total / self._hz


def load_trace(path: str | Path) -> list[dict[str, Any]]:
    out = []
    for line in Path(path).read_text().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def _used(samples: list[tuple[float, float]], a: float, b: float) -> float:
    """CPU seconds used in [a, b] (linear between samples)."""
    if b <= a or len(samples) < 2:
        return 0.0
    return _cum(samples, b) - _cum(samples, a)


def _cum(samples: list[tuple[float, float]], t: float) -> float:
    import bisect

    times = [s[0] for s in samples]
    i = bisect.bisect_left(times, t)
    if i <= 0:
        return samples[0][1]
    if i >= len(samples):
        return samples[-1][1]
    (t0, c0), (t1, c1) = samples[i - 1], samples[i]
    return c0 + (c1 - c0) * (t - t0) / max(1e-9, t1 - t0)


def _union(intervals: list[tuple[float, float]], a: float, b: float) -> float:
    total, end = 0.0, a
    for s, e in sorted(intervals):
        s, e = max(s, end), min(e, b)
        if e > s:
            total += e - s
            end = e
    return total


def stretches(
    events: list[dict[str, Any]],
    samples: list[tuple[float, float]],
    *,
    idle: list[tuple[float, float]] | None = None,
    by_process: dict[int, float] | None = None,
    launched: float,
    exited: float,
    cores: int,
    main_pid: int,
) -> dict[str, Any]:
    """Per stretch: wall, core-seconds used, idle core-seconds; plus the pool's idle time."""
    marks: dict[str, float] = {"launch": launched, "exit": exited}
    for e in events:
        if e["pid"] == main_pid and e["t0"] == e["t1"]:
            marks.setdefault(e["kind"], e["t0"])
    tasks = [e for e in events if e["kind"] == "scan" or e["kind"].startswith("batch:")]
    if tasks:
        marks["first_task"] = min(e["t0"] for e in tasks)
    gate = [e for e in events if e["kind"] == "gate" and e["pid"] == main_pid]
    if gate:
        marks["gate_end"] = gate[0]["t1"]
    pool_pids = sorted({e["pid"] for e in tasks if e["pid"] != main_pid})
    rows = []
    prev = launched
    for name, end_mark in STRETCHES:
        end = marks.get(end_mark)
        if end is None or end < prev:
            continue
        wall = end - prev
        used = _used(samples, prev, end)
        pool_idle = sum(
            wall - _union([(e["t0"], e["t1"]) for e in tasks if e["pid"] == pid], prev, end)
            for pid in pool_pids
        )
        free = _used(idle, prev, end) if idle else None
        rows.append(
            {
                "stretch": name,
                "wall": round(wall, 3),
                "cpu": round(used, 3),
                "idle_core_s": round(cores * wall - used, 3),
                # of which no process at all ran (the rest: other users' processes)
                "cpu_idle_s": None if free is None else round(free, 3),
                "pool_idle_s": round(pool_idle, 3),
            }
        )
        prev = end
    total_wall = exited - launched
    total_cpu = _used(samples, launched, exited)
    by_kind: dict[str, list[float]] = {}
    for e in events:
        if e["t1"] > e["t0"]:
            acc = by_kind.setdefault(e["kind"], [0, 0.0, 0.0])
            acc[0] += 1
            acc[1] += e["t1"] - e["t0"]
            acc[2] += e.get("cpu", 0.0)
    return {
        "cores": cores,
        "wall": round(total_wall, 3),
        "cpu": round(total_cpu, 3),
        "idle_core_s": round(cores * total_wall - total_cpu, 3),
        "cpu_idle_s": round(_used(idle, launched, exited), 3) if idle else None,
        "stretches": rows,
        "spans": {
            k: {"n": int(v[0]), "wall": round(v[1], 3), "cpu": round(v[2], 3)}
            for k, v in sorted(by_kind.items())
        },
        "cpu_by_process": {
            _role(pid, main_pid, pool_pids): round(cpu, 3)
            for pid, cpu in sorted((by_process or {}).items())
        },
        "tasks_by_process": {
            str(pid): {
                "main": pid == main_pid,
                "tasks": sum(1 for e in tasks if e["pid"] == pid),
                "busy_s": round(sum(e["t1"] - e["t0"] for e in tasks if e["pid"] == pid), 3),
            }
            for pid in sorted({e["pid"] for e in tasks})
        },
    }


def _role(pid: int, main_pid: int, pool_pids: list[int]) -> str:
    if pid == main_pid:
        return f"main {pid}"
    return f"{'pool' if pid in pool_pids else 'other (forkserver...)'} {pid}"


def render(timeline: dict[str, Any]) -> str:
    lines = [
        f"wall {timeline['wall']} s, CPU {timeline['cpu']} s on {timeline['cores']} cores: "
        f"not ours {timeline['idle_core_s']} core-s, of which idle {timeline['cpu_idle_s']}",
        f"{'stretch':<42} {'wall':>7} {'cpu':>7} {'not ours':>9} {'idle':>7} {'pool idle':>10}",
    ]
    for r in timeline["stretches"]:
        lines.append(
            f"{r['stretch']:<42} {r['wall']:>7.3f} {r['cpu']:>7.3f} {r['idle_core_s']:>9.3f} "
            f"{r['cpu_idle_s'] if r['cpu_idle_s'] is not None else '':>7} {r['pool_idle_s']:>10.3f}"
        )
    lines.append(
        "  CPU by process: "
        + ", ".join(f"{k} {v}" for k, v in timeline.get("cpu_by_process", {}).items())
    )
    for kind, v in timeline["spans"].items():
        lines.append(f"  span {kind:<26} n={v['n']:<5} wall {v['wall']:>7.3f} cpu {v['cpu']:>7.3f}")
    return "\n".join(lines)
