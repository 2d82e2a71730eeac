"""The local process pool's start: how many processes, and its forkserver, started early.

A light module (no Arrow, no Polars), so a command can call :func:`prestart` before it imports
its own libraries.  The forkserver imports the readers and links the compiled index once
(:mod:`parley.ingest.tic._warm`, about 0.35 s) and forks every pool worker from there;
started early, with the workers forked as soon as it is ready, that overlaps the caller's own
imports (about 0.4 s) instead of following them.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.context
import os
import threading
from typing import Any

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


#: the pool :func:`prestart` opened, until :func:`take_pool` hands it over: (workers, executor)
_EARLY: list[tuple[int, Any]] = []


def prestart(workers: int | None = None, scheduler: str | None = None) -> bool:
    """Launch the forkserver and the pool's processes now when the batch will use a local pool
    (more than one process, no Dask scheduler, not Windows, not already in a worker); returns
    whether it did.

    The processes are forked (from a background thread: the first fork waits for the
    server's preload) while the caller imports the rest of Parley; the batch's
    :func:`parley.ingest.tic.parallel.runner` takes the pool over (:func:`take_pool`).
    """
    if scheduler or os.environ.get("PARLEY_DASK_SCHEDULER") or os.name == "nt":
        return False
    n = default_workers(workers)
    if n <= 1 or in_worker():
        return False
    from multiprocessing import forkserver

    context()
    saved = one_core_per_worker()
    try:
        forkserver.ensure_running()
        if not _EARLY:
            from concurrent.futures import ProcessPoolExecutor

            pool = ProcessPoolExecutor(max_workers=n, mp_context=context())
            threading.Thread(target=fork_workers, args=(pool, n), daemon=True).start()
            _EARLY.append((n, pool))
    except OSError:  # the pool will try again, and report, when it is needed
        return False
    finally:
        restore(saved)
    return True


def fork_workers(pool: Any, n: int) -> None:
    """Start a pool's ``n`` processes and wait until they answer (the first submit to a
    forkserver pool blocks until the server has preloaded: call it off the caller's thread)."""
    with contextlib.suppress(Exception):  # the pool may already be shutting down
        for fut in [pool.submit(int) for _ in range(n)]:
            fut.result()


def take_pool(workers: int) -> Any | None:
    """The executor :func:`prestart` opened for ``workers`` processes (once), else None."""
    if _EARLY and _EARLY[0][0] == workers:
        return _EARLY.pop()[1]
    return None
