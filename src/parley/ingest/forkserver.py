"""The local process pool's start: how many processes, and its forkserver, started early.

A light module (no Arrow, no Polars), so a command can call :func:`prestart` before it imports
its own libraries.  The forkserver imports the readers and loads the compiled index once
(:mod:`parley.ingest.tic._warm`, about a second) and forks every pool worker from there;
started early, that second overlaps the caller's own imports instead of following them.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
import os

PRELOAD = ["parley.ingest.tic._warm"]


def default_workers(requested: int | None) -> int:
    """Processes for a batch: the request, else ``PARLEY_WORKERS``, else one per core."""
    if requested:
        return requested
    env = os.environ.get("PARLEY_WORKERS")
    if env and env.isdigit() and int(env) > 0:
        return int(env)
    return os.cpu_count() or 1


def in_worker() -> bool:
    return multiprocessing.parent_process() is not None


def context() -> multiprocessing.context.BaseContext:
    """forkserver (no fork of a threaded process) with the readers preloaded and the compiled
    index loaded: workers start in ms, ready to scan (spawn on Windows)."""
    if os.name == "nt":
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


def one_core_per_worker() -> str | None:
    """Set what every worker must inherit from the forkserver (Polars on one thread); returns
    the previous value for :func:`restore`."""
    saved = os.environ.get("POLARS_MAX_THREADS")
    os.environ["POLARS_MAX_THREADS"] = "1"
    return saved


def restore(saved: str | None) -> None:
    if saved is None:
        os.environ.pop("POLARS_MAX_THREADS", None)
    else:
        os.environ["POLARS_MAX_THREADS"] = saved


def prestart(workers: int | None = None, scheduler: str | None = None) -> bool:
    """Launch the forkserver now when the batch will use a local pool (more than one process,
    no Dask scheduler, not Windows, not already in a worker); returns whether it did."""
    if scheduler or os.environ.get("PARLEY_DASK_SCHEDULER") or os.name == "nt":
        return False
    if default_workers(workers) <= 1 or in_worker():
        return False
    from multiprocessing import forkserver

    context()
    saved = one_core_per_worker()
    try:
        forkserver.ensure_running()
    except OSError:  # the pool will try again, and report, when it is needed
        return False
    finally:
        restore(saved)
    return True
