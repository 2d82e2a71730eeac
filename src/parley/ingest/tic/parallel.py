"""Where batches run: inline, a local process pool, or a Dask distributed cluster.

A runner has ``submit(fn, *args) -> future`` (``future.result()``) and
``share(table)``; :func:`ordered` runs a stream of tasks on it and yields their
results in order.

With ``workers=N`` a local run is a pool of N processes, one per core, and
the calling process, which coordinates: it hashes the file, chains the index
and commits, and runs a task itself only when its oldest result is late
(:func:`ordered`, not for the structural index: a caller that never scans
never loads the compiled index, about half a second of start-up).  So "2
processes" is two cores' worth of workers, and the pool's start-up (the
forkserver importing Arrow and Polars) overlaps the caller's own imports.
With ``workers=1`` the caller runs everything (:class:`InlineRunner`).

Dask is imported here only, and only when a scheduler address is given; a
missing install raises an error naming the extra to install.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.ipc  # noqa: F401 - pa.ipc

from parley.errors import ConfigError
from parley.ingest.forkserver import (
    context,
    default_workers,
    fork_workers,
    in_worker,
    one_core_per_worker,
    restore,
    take_pool,
)
from parley.ingest.tic import trace


class Runner(Protocol):
    workers: int  # processes doing tasks, the caller included when it helps
    pool_workers: int  # processes behind submit()
    helps: bool  # the caller runs tasks itself while waiting (see ordered)
    #: tasks run on this machine, in other processes: they can write into the workspace's
    #: staging folder themselves (a Dask worker may be elsewhere; inline needs no hand-off)
    shares_files: bool

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any: ...

    def ready(self) -> bool:
        """Whether submit() will not block (a local pool may still be starting)."""
        ...

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
    pool_workers = 1
    helps = False
    shares_files = False

    def ready(self) -> bool:
        return True

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
    """A local process pool of ``workers`` processes; the caller helps when it would wait."""

    helps = True
    shares_files = True

    def __init__(self, pool: ProcessPoolExecutor, workers: int) -> None:
        self._pool = pool
        self.workers = workers
        self.pool_workers = workers
        # one helping thread at a time (several files may share a runner)
        self.help_lock = threading.Lock()
        self.warm = threading.Event()
        self._tmp: str | None = None

    def ready(self) -> bool:
        """Whether the pool's processes are up (until then a helping caller runs every task)."""
        return self.warm.is_set()

    def wait_ready(self) -> None:
        """Until the pool's processes answer (a submit meanwhile would block on the forkserver)."""
        self.warm.wait()

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
    helps = False  # the client may not see the files nor have cores to spare
    shares_files = False

    def __init__(self, client: Any) -> None:
        self._client = client
        info = client.scheduler_info()
        self.workers = max(1, sum(w.get("nthreads", 1) for w in info.get("workers", {}).values()))
        self.pool_workers = self.workers

    def ready(self) -> bool:
        return True

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self._client.submit(fn, *args, pure=False)

    def share(self, table: pa.Table) -> Any:
        return self._client.scatter(table, broadcast=True)


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
    if n <= 1 or in_worker():
        yield InlineRunner()
        return
    saved = one_core_per_worker()  # inherited by the forkserver (unless prestart launched it)
    try:
        early = take_pool(n)  # the command's prestart forked them already
        with early or ProcessPoolExecutor(max_workers=n, mp_context=context()) as pool:
            run = PoolRunner(pool, n)
            # start the workers in the background while the caller hashes, sniffs or reads
            threading.Thread(target=_warm, args=(pool, n, run.warm), daemon=True).start()
            try:
                yield run
            finally:
                run.close()
    finally:
        restore(saved)


Task = tuple[Callable[..., Any], tuple[Any, ...]]


def ordered(
    run: Runner, tasks: Iterable[Task], *, local_first: bool = False, caller_helps: bool = True
) -> Iterator[Any]:
    """The results of ``tasks`` (``(fn, args)``, pulled lazily), in order.

    Up to two tasks per pool process are in flight, so no process waits for
    the next one.  When the runner ``helps`` (and ``caller_helps``) and the oldest
    result is not ready, the calling process runs the next task itself
    instead of waiting (and, with ``local_first``, always runs the first
    task: a lone task is not worth a round trip); until the pool answers it
    runs every task.  Without ``caller_helps`` every task goes to the pool, once it
    is up.  At most ``4 x workers`` results are held, so memory stays bounded
    whatever the number of tasks.  A task's exception is raised when its
    turn comes.
    """
    source = iter(tasks)
    window: deque[Future[Any]] = deque()
    cap = 2 * max(1, run.pool_workers)
    limit = 4 * max(1, run.workers) + 2
    lock: threading.Lock | None = getattr(run, "help_lock", None) if run.helps and caller_helps else None
    if lock is None and not run.ready():
        getattr(run, "wait_ready", lambda: None)()
    exhausted = False

    def pull() -> Task | None:
        nonlocal exhausted
        if not exhausted:
            task = next(source, None)
            exhausted = task is None
            return task
        return None

    if local_first and lock is not None and (task := pull()) is not None:
        window.append(_local(task, lock))
    while True:
        while not exhausted and len(window) < limit and _busy(window) < cap:
            if lock is not None and not run.ready():
                if (task := pull()) is not None:
                    window.append(_local(task, lock))  # the pool is still starting
                break
            if (task := pull()) is not None:
                fn, args = trace.wrap(*task)
                window.append(run.submit(fn, *args))
        if not window:
            return
        head = window[0]
        if (
            not head.done()
            and lock is not None
            and len(window) < limit
            and lock.acquire(blocking=False)
        ):
            try:
                task = pull()
                if task is not None:
                    window.append(_run_here(task))
                    continue
            finally:
                lock.release()
        window.popleft()
        if head.done():
            yield head.result()
            continue
        with trace.span("wait"):
            result = head.result()
        yield result


def _busy(window: deque[Future[Any]]) -> int:
    return sum(1 for f in window if not f.done())


def _run_here(task: Task) -> Future[Any]:
    fn, args = trace.wrap(*task)
    return InlineRunner().submit(fn, *args)


def _local(task: Task, lock: threading.Lock) -> Future[Any]:
    with lock:
        return _run_here(task)


def _warm(pool: ProcessPoolExecutor, n: int, warm: threading.Event) -> None:
    """Start the pool's processes (:func:`~parley.ingest.forkserver.fork_workers`, off the
    caller's thread); ``warm`` is set once they answer."""
    fork_workers(pool, n)
    warm.set()
    trace.mark("pool_warm")


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
