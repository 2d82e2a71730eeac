"""Where batches run: inline, a local process pool, or a Dask distributed cluster.

A runner has one method, ``submit(fn, *args) -> future`` (``future.result()``).
Dask is imported here only, and only when a scheduler address is given; a
missing install raises an error naming the extra to install.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.ipc  # noqa: F401 - pa.ipc

from parley.errors import ConfigError


class Runner(Protocol):
    workers: int

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any: ...

    def share(self, table: pa.Table) -> Any:
        """A handle every task can take as an argument (see :func:`shared_table`)."""
        ...


_CACHE: dict[str, pa.Table] = {}


def shared_table(handle: Any) -> pa.Table | None:
    """In a worker: the table behind a handle from ``Runner.share`` (a path is read once, memory-mapped)."""
    if handle is None or isinstance(handle, pa.Table):
        return handle
    if handle not in _CACHE:
        _CACHE.clear()
        with pa.memory_map(handle) as source:
            _CACHE[handle] = pa.ipc.open_file(source).read_all()
    return _CACHE[handle]


class InlineRunner:
    """Runs each task at once in this process (tests, nested workers, one core)."""

    workers = 1

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        fut: Future[Any] = Future()
        try:
            fut.set_result(fn(*args))
        except BaseException as exc:  # noqa: BLE001 - delivered through the future
            fut.set_exception(exc)
        return fut

    def share(self, table: pa.Table) -> Any:
        return table


class PoolRunner:
    def __init__(self, pool: ProcessPoolExecutor, workers: int) -> None:
        self._pool = pool
        self.workers = workers
        self._tmp: str | None = None

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        return self._pool.submit(fn, *args)

    def share(self, table: pa.Table) -> Any:
        """Written once as an Arrow file the workers memory-map (instead of pickling it per task)."""
        if self._tmp is None:
            self._tmp = tempfile.mkdtemp(prefix="parley-share-")
        path = os.path.join(self._tmp, f"shared-{len(os.listdir(self._tmp))}.arrow")
        with pa.OSFile(path, "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
        return path

    def close(self) -> None:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)


class DaskRunner:
    def __init__(self, client: Any) -> None:
        self._client = client
        info = client.scheduler_info()
        self.workers = max(1, sum(w.get("nthreads", 1) for w in info.get("workers", {}).values()))

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self._client.submit(fn, *args, pure=False)

    def share(self, table: pa.Table) -> Any:
        return self._client.scatter(table, broadcast=True)


def _in_worker() -> bool:
    return multiprocessing.parent_process() is not None


def default_workers(requested: int | None) -> int:
    if requested:
        return requested
    env = os.environ.get("PARLEY_WORKERS")
    if env and env.isdigit() and int(env) > 0:
        return int(env)
    return os.cpu_count() or 1


@contextmanager
def runner(*, workers: int | None = None, scheduler: str | None = None) -> Iterator[Runner]:
    """A runner for one ingestion batch (closed at the end)."""
    scheduler = scheduler or os.environ.get("PARLEY_DASK_SCHEDULER") or None
    if scheduler:
        client = _dask_client(scheduler)
        try:
            yield DaskRunner(client)
        finally:
            client.close()
        return
    n = default_workers(workers)
    if n <= 1 or _in_worker():
        yield InlineRunner()
        return
    saved = os.environ.get("POLARS_MAX_THREADS")
    os.environ["POLARS_MAX_THREADS"] = "1"  # inherited by the forkserver: one core per worker
    try:
        with ProcessPoolExecutor(max_workers=n, mp_context=_context()) as pool:
            run = PoolRunner(pool, n)
            # start the workers in the background while the caller hashes or sniffs its files
            threading.Thread(target=_warm, args=(pool, n), daemon=True).start()
            try:
                yield run
            finally:
                run.close()
    finally:
        if saved is None:
            os.environ.pop("POLARS_MAX_THREADS", None)
        else:
            os.environ["POLARS_MAX_THREADS"] = saved


def _warm(pool: ProcessPoolExecutor, n: int) -> None:
    with contextlib.suppress(RuntimeError):  # the pool may already be shutting down
        for _ in range(n):
            pool.submit(int)


def _context() -> multiprocessing.context.BaseContext:
    """forkserver (no fork of a threaded process) with the readers preloaded: workers start in ms."""
    if os.name == "nt":
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["parley.ingest.tic.reader"])
    return ctx


def _dask_client(address: str) -> Any:
    try:
        from distributed import Client
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ConfigError(
            "a Dask scheduler was given but Dask is not installed",
            hint="pip install 'parley[distributed]' (dask[distributed]) on this machine and on the workers",
        ) from exc
    try:
        return Client(address, timeout="20s")  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError) as exc:
        raise ConfigError(
            f"cannot reach the Dask scheduler at {address} ({exc})",
            hint="check the address (tcp://host:8786) and that 'dask scheduler' is running",
        ) from exc
