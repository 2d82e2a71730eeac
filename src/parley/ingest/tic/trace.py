"""An opt-in timeline of a TiC ingestion: who was busy with what, and when.

Set ``PARLEY_TIC_TRACE=/path/trace.jsonl`` and every process of the run (the
caller, the forkserver's workers) appends one JSON line per span: ``pid``,
``tid``, ``kind`` (``scan`` = a phase A chunk, ``batch:<array>`` = a phase B
batch, ``chain``, ``wait``, ``commit``...), ``t0`` / ``t1`` (``time.monotonic``:
one clock for every process of the machine) and the CPU seconds the thread
spent (``cpu``); :func:`mark` records an instant (``t1`` = ``t0``).  Lines are
short single ``write`` calls on an ``O_APPEND`` file, so processes do not
interleave inside a line.  ``bench/bench_tic.py --trace`` turns a trace and the
process tree's CPU samples into idle core-seconds per stretch of the run.

Unset (the default), :func:`span` costs one attribute test and tasks are
submitted as they are.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

ENV = "PARLEY_TIC_TRACE"


def path() -> str | None:
    return os.environ.get(ENV) or None


def _write(record: dict[str, Any]) -> None:
    target = path()
    if target is None:
        return
    line = (json.dumps(record, separators=(",", ":")) + "\n").encode()
    fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def mark(kind: str, **extra: Any) -> None:
    """An instant of the run (e.g. ``index_done``)."""
    if path() is None:
        return
    now = time.monotonic()
    _write(
        {
            "pid": os.getpid(),
            "tid": threading.get_native_id(),
            "kind": kind,
            "t0": now,
            "t1": now,
            **extra,
        }
    )


@contextmanager
def span(kind: str, **extra: Any) -> Iterator[None]:
    """A stretch of this thread's time (nothing is recorded unless tracing)."""
    if path() is None:
        yield
        return
    t0, c0 = time.monotonic(), time.thread_time()
    try:
        yield
    finally:
        _write(
            {
                "pid": os.getpid(),
                "tid": threading.get_native_id(),
                "kind": kind,
                "t0": t0,
                "t1": time.monotonic(),
                "cpu": round(time.thread_time() - c0, 6),
                **extra,
            }
        )


def task_kind(fn: Callable[..., Any], args: tuple[Any, ...]) -> str:
    """``scan`` for a phase A chunk, ``batch:<array>`` for a phase B batch, else the name."""
    name = getattr(fn, "__name__", "task")
    if name == "scan_chunk":
        return "scan"
    kind = getattr(args[0], "kind", None) if args else None
    return f"batch:{kind}" if kind else name


def traced_call(kind: str, fn: Callable[..., Any], *args: Any) -> Any:
    """Run a task inside a span (picklable: submitted to the pool in place of ``fn``)."""
    with span(kind):
        return fn(*args)


def wrap(
    fn: Callable[..., Any], args: tuple[Any, ...]
) -> tuple[Callable[..., Any], tuple[Any, ...]]:
    """The task to submit: ``fn`` itself, or inside a span when tracing."""
    if path() is None:
        return fn, args
    return traced_call, (task_kind(fn, args), fn, *args)
