"""Reading one TiC file: index it, cut its arrays into batches, run the batches in parallel.

Two paths share the batch code (:func:`run_batch`):

* a plain local file is indexed in parallel: phase A scans byte chunks of at
  most 16 MB (each worker assumes its chunk starts outside a string, between
  two items of a top-level array, and returns the bracket events at that
  level and the ``"billing_code"`` keys one level down, with the verdict of
  the code basket on each); the main process chains the chunks' states,
  has the few chunks whose assumption was wrong (the file's last chunk, one
  where an array ends or a string was cut) rescanned from the state it
  reached (:func:`rescan_chunk`, in the pool: the main process of a pool
  never loads the compiled index) and builds the layout.  Only
  the items whose code is in the basket are read again: phase B runs them in
  batches, provider references first, so ``provider_references`` placed after
  ``in_network`` costs nothing extra.  Workers read their bytes by offset:
  nothing large crosses a process boundary.
* a stream (gzip, zip member, URL) is indexed block by block in the main
  process and batches travel as bytes.  Rows whose providers are not known
  yet (``provider_references`` after ``in_network``) and the rest are spooled
  to temporary Parquet and resolved at the end, so memory stays flat.

Either way nothing is yielded until the whole file has been indexed without
error, so a truncated or malformed file yields problems and no rows.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from parley.ingest.tic import items as it
from parley.ingest.tic import trace
from parley.ingest.tic.layout import Layout
from parley.ingest.tic.options import Market, MarketOptions
from parley.ingest.tic.parallel import Runner, ordered, shared_table
from parley.ingest.tic.scan import Events, ScanState, shallow, structure

#: a stream's batches travel as bytes to the workers: smaller pieces keep memory flat
STREAM_BLOCK = 16 << 20
STREAM_BATCH = 8 << 20
STREAMED = (
    "provider_references",
    "in_network",
    "out_of_network",
    "provider_groups",
    "reporting_structure",
)


class TicError(ValueError):
    """A file that cannot be read as TiC: code, message, byte offset."""

    def __init__(self, code: str, message: str, offset: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.offset = offset


#: phase A chunks: at most this many bytes (a reused buffer per process; larger
#: reads into fresh memory cost more in page faults than they save in calls)
SCAN_CHUNK = 16 << 20
#: bytes read past a chunk's end, to read a ``"billing_code"`` key cut by it
LOOKAHEAD = 512
#: kept items closer than this are read in one piece (gap included)
READ_GAP = 64 << 10
#: with a code basket, phase B batches hold at most this many bytes of kept items: their
#: rows (price x provider), not their bytes, fill memory (~33,000 rows per 256 KB on the
#: bench, a few KB each while they are exploded, joined and written)
KEPT_BATCH = 256 << 10
#: tables yielded to the writer have at most this many rows
TABLE_ROWS = 1 << 16
#: depth of an item's members (root 1, top-level array 2, item 3)
ITEM_DEPTH = 3
CODED = ("in_network", "out_of_network")


@dataclass
class Batch:
    kind: str
    offset: int  # absolute offset of the first byte of data
    spans: np.ndarray  # [start, end) relative to data
    data: bytes | None = None
    path: str | None = None
    length: int = 0
    #: [start, end) file ranges whose bytes, concatenated, are the data (else offset/length)
    reads: np.ndarray | None = None
    #: the file offset of each span (the data was gathered from several places)
    origins: np.ndarray | None = None
    #: the spans were already chosen on the code basket
    filtered: bool = False


@dataclass
class FileOutput:
    """Everything read from one file, yielded in parts."""

    header: dict[str, Any] = field(default_factory=dict)
    problems: list[dict[str, Any]] = field(default_factory=list)
    #: rows written by the workers (a RowSink), not yielded
    written: int = 0


# --- worker side -----------------------------------------------------------------------------


def _batch_bytes(batch: Batch) -> bytes:
    if batch.data is not None:
        return batch.data
    assert batch.path is not None
    with open(batch.path, "rb", buffering=0) as handle:
        if batch.reads is None:
            handle.seek(batch.offset)
            return handle.read(batch.length)
        parts = []
        for start, end in batch.reads.tolist():
            handle.seek(start)
            parts.append(handle.read(end - start))
        return parts[0] if len(parts) == 1 else b"".join(parts)


@dataclass(frozen=True)
class RowSink:
    """Where a worker writes its batch's rows itself (instead of sending them back):
    the file-level columns are added (``finish_arrow``, from the header) and ``write``
    (a store writer that pickles, e.g. :class:`parley.store.datasets.PartWriter`)
    writes them as part ``part``.  ``rate_seq`` is then ``part << 32`` + the row's
    number in its batch: unique in the file and increasing in file order."""

    write: Callable[[pa.Table, int], int]
    header: dict[str, Any]
    source_kind: str

    def __call__(self, rows: pa.Table, part: int) -> int:
        from parley.ingest.tic import finish_arrow

        return self.write(finish_arrow(rows, self.header, self.source_kind, part << 32), part)


# Given the file's header: the sink its workers write rows into (None: send the rows back).
SinkFor = Callable[[dict[str, Any]], RowSink | None]


class PartTarget(Protocol):
    """The commit a reader's workers may write into (see :class:`RowSink`)."""

    def writer(self, header: dict[str, Any]) -> Callable[[pa.Table, int], int] | None:
        """A picklable writer of ``market_rates`` parts, called once the header is known
        and before any row is written (None: send the rows back)."""
        ...

    def wrote(self, rows: int) -> None:
        """How many rows the workers wrote, once the file is read."""
        ...


def run_batch(
    batch: Batch,
    codes: frozenset[str] | None,
    market: Market,
    group_ids: frozenset[float] | None,
    providers: Any = None,
    sink: RowSink | None = None,
    part: int = 0,
) -> it.BatchResult:
    """Parse and flatten one batch (runs in a worker).

    Rows that name provider groups come back unresolved (``by_ref``: one row per
    price x group, far fewer than per NPI); the caller joins them to the
    provider table.  ``group_ids`` (the market's groups, when known) drops the
    others early; with ``providers`` (a handle from ``Runner.share``) they are
    resolved here, in the worker, and with a ``sink`` written here too, as part
    number ``part`` (only the count comes back).
    """
    result = _run_batch(batch, codes, market, group_ids, providers)
    if sink is not None and result.rates is not None:
        result.written = sink(result.rates, part)
        result.rates = None
    return result


def _run_batch(
    batch: Batch,
    codes: frozenset[str] | None,
    market: Market,
    group_ids: frozenset[float] | None,
    providers: Any = None,
) -> it.BatchResult:
    data = _batch_bytes(batch)
    result = it.BatchResult(items=len(batch.spans), bytes=len(data))
    spans = (
        it.prefilter(data, batch.spans, codes)
        if batch.kind in CODED and not batch.filtered
        else batch.spans
    )
    result.kept_items = len(spans)
    base = batch.origins if batch.origins is not None and batch.filtered else batch.offset
    table, problems = it.parse(data, spans, batch.kind, base)
    result.problems = problems
    if batch.kind == "provider_references":
        result.providers = it.providers_of(table, market)
        result.locations = it.provider_locations(table)
    elif batch.kind == "provider_groups":
        result.providers = _groups_file(table, market)
    elif batch.kind == "in_network":
        by_ref, inline = it.flatten_in_network(table, codes, market)
        if group_ids is not None:
            by_ref = by_ref.filter(
                pc.is_in(by_ref.column("provider_group_id"), pa.array(sorted(group_ids)))
            )
        table_ = shared_table(providers)
        if table_ is not None:
            merged = _concat([it.resolve(by_ref, table_), inline])
            inline = merged if merged is not None else inline
            by_ref = by_ref.slice(0, 0)
        result.by_ref = by_ref if by_ref.num_rows else None
        result.rates = inline if inline.num_rows else None
    elif batch.kind == "out_of_network":
        result.rates = it.flatten_allowed(table, codes, market)
    return result


def _groups_file(table: pa.Table, market: Market) -> pa.Table:
    wrapped = pa.table(
        {
            "provider_group_id": pa.nulls(1, pa.float64()),
            "provider_groups": [table.to_pylist()],
            "location": pa.nulls(1, pa.string()),
        }
    )
    return it.providers_of(wrapped.cast(it.PROVIDER_REFERENCE), market)


def _concat(tables: list[pa.Table | None]) -> pa.Table | None:
    present = [t for t in tables if t is not None and t.num_rows]
    if not present:
        return None
    return pa.concat_tables(present, promote_options="permissive")


_LOCAL = threading.local()


def _read_into(path: str, start: int, length: int) -> tuple[bytearray, int]:
    """Read ``length`` bytes at ``start`` into this thread's reused buffer: (buffer, bytes read)."""
    buf: bytearray | None = getattr(_LOCAL, "buf", None)
    if buf is None or len(buf) < length:
        buf = _LOCAL.buf = bytearray(length)
    view = memoryview(buf)
    got = 0
    with open(path, "rb", buffering=0) as handle:
        handle.seek(start)
        while got < length:
            n = handle.readinto(view[got:length])
            if not n:
                break
            got += n
    return buf, got


def scan_chunk(
    path: str, start: int, end: int, codes: frozenset[str] | None = None
) -> tuple[Events, ScanState, bool, np.ndarray]:
    """Phase A: bracket events and keys of one chunk, with the basket's verdict on each key.

    The file's first chunk is scanned from its known state.  Any other chunk is
    assumed to start outside a string between two items of a top-level array:
    it keeps the events at its lowest depth (the items' boundaries, if the
    assumption holds) and the keys one level down (the items' own codes); the
    main process checks the assumption (the state's ``floor``) and has the chunk
    rescanned when it fails (:func:`rescan_chunk`).
    """
    buf, got = _read_into(path, start, end - start + LOOKAHEAD)
    n = min(end - start, got)
    key_limit = None if codes is None else ITEM_DEPTH
    if start == 0:
        events, state = structure(buf, ScanState(), limit=2, key_limit=key_limit, end=n, size=got)
    else:
        events, state = structure(
            buf,
            ScanState(),
            limit=0,
            relative=True,
            key_limit=None if key_limit is None else 1,
            end=n,
            size=got,
        )
    verdicts = (
        it.key_verdicts(memoryview(buf)[:got], events.keys, codes)
        if codes is not None
        else np.empty(0, np.int8)
    )
    events.pos += start
    events.keys += start
    starts_clean = buf[:1] != b"\\"
    return events, state, starts_clean, verdicts


def rescan_chunk(
    path: str, start: int, end: int, state: ScanState, codes: frozenset[str] | None
) -> tuple[Events, ScanState, np.ndarray]:
    """Phase A again for a chunk whose assumption failed, from the state the chain reached:
    its events at the items' level and their keys (file offsets), its end state, the verdicts."""
    buf, got = _read_into(path, start, end - start + LOOKAHEAD)
    data = memoryview(buf)[:got]
    events, local = structure(
        data,
        state,
        limit=2,
        key_limit=None if codes is None else ITEM_DEPTH,
        end=min(end - start, got),
    )
    verdicts = (
        it.key_verdicts(data, events.keys, codes) if codes is not None else np.empty(0, np.int8)
    )
    events.pos += start
    events.keys += start
    return events, local, verdicts


def _on(runner: Runner, fn: Callable[..., Any], *args: Any) -> Any:
    """One task's result, from the local pool when there is one (so the caller never loads
    the compiled index), else computed here (one process, or a Dask client)."""
    if not runner.helps:
        return fn(*args)
    task, task_args = trace.wrap(fn, args)
    return runner.submit(task, *task_args).result()


# --- main side -------------------------------------------------------------------------------


def _batches(kind: str, spans: np.ndarray, size: int) -> Iterator[tuple[int, int, np.ndarray]]:
    """Contiguous runs of item spans of about ``size`` bytes: (offset, length, relative spans)."""
    if not len(spans):
        return
    group = (spans[:, 0] - spans[0, 0]) // max(1, size)
    cuts = np.flatnonzero(np.diff(group)) + 1
    for part in np.split(spans, cuts):
        offset = int(part[0, 0])
        yield offset, int(part[-1, 1]) - offset, part - offset


def _size_groups(spans: np.ndarray, size: int) -> list[np.ndarray]:
    """Consecutive runs of item spans holding about ``size`` bytes each."""
    lengths = spans[:, 1] - spans[:, 0]
    group = (np.cumsum(lengths) - lengths) // max(1, size)
    return np.split(spans, np.flatnonzero(np.diff(group)) + 1)


def _file_batches(
    kind: str, spans: np.ndarray, size: int, path: str, *, filtered: bool
) -> Iterator[Batch]:
    """Batches of about ``size`` bytes of items, read from the file by offset.

    Items closer than ``READ_GAP`` are read in one piece; the batch's data is
    the concatenation of its pieces (so a sparse selection reads only its items).
    """
    if not len(spans):
        return
    for part in _size_groups(spans, size):
        gaps = part[1:, 0] - part[:-1, 1]
        breaks = np.flatnonzero(gaps > READ_GAP) + 1
        first = np.concatenate([[0], breaks])
        last = np.concatenate([breaks - 1, [len(part) - 1]])
        reads = np.stack([part[first, 0], part[last, 1]], axis=1)
        sizes = reads[:, 1] - reads[:, 0]
        at = np.cumsum(sizes) - sizes  # where each piece starts in the data
        piece = np.searchsorted(reads[:, 0], part[:, 0], side="right") - 1
        rel = part - (reads[piece, 0] - at[piece])[:, None]
        yield Batch(
            kind,
            int(part[0, 0]),
            rel,
            path=path,
            length=int(sizes.sum()),
            reads=reads,
            origins=part[:, 0].copy(),
            filtered=filtered,
        )


@dataclass
class Keys:
    """The items' own ``"billing_code"`` keys (file offsets) and whether each is kept."""

    pos: np.ndarray
    keep: np.ndarray

    def select(self, spans: np.ndarray) -> np.ndarray:
        return it.keep_items(spans, self.pos, self.keep)


def index_plain(
    path: Path,
    size: int,
    options: MarketOptions,
    runner: Runner,
    early: Callable[[str, np.ndarray], None] | None = None,
) -> tuple[Layout, dict[str, np.ndarray], Keys | None]:
    """Phase A over a plain file: its layout, every item span by array key and, with a
    code basket, the items' code keys.  ``early(key, spans)`` hears of items as soon as
    the chunks before them are chained (:class:`EarlyProviders`)."""
    codes = options.codes
    bounds = _chunk_bounds(path, size, scan_bytes(size, options.block_bytes, runner.workers))
    # the caller only chains: it never loads the compiled index (the pool's processes have it)
    tasks = ((scan_chunk, (str(path), s, e, codes)) for s, e in bounds)
    results = ordered(runner, tasks, caller_helps=False)
    layout = Layout()
    state = ScanState()
    spans: dict[str, list[np.ndarray]] = {}
    key_pos: list[np.ndarray] = []
    key_keep: list[np.ndarray] = []
    with open(path, "rb", buffering=0) as handle:

        def fetch(a: int, b: int) -> bytes:
            handle.seek(a)
            return handle.read(max(0, b - a))

        for (start, end), result in zip(bounds, results, strict=True):
            events, state, verdicts = _chain(runner, str(path), start, end, state, result, codes)
            _check_depth(events, start)
            if codes is not None:
                mine = (events.key_depth == ITEM_DEPTH) & (verdicts >= 0)
                key_pos.append(events.keys[mine])
                key_keep.append(verdicts[mine] == 1)
            for key, found in layout.feed(events, fetch).items():
                spans.setdefault(key, []).extend(found)
                if early is not None:
                    early(key, np.concatenate(found))
            layout.end_block(end, fetch)
    _check_complete(layout, state, size)
    keys = Keys(np.concatenate(key_pos), np.concatenate(key_keep)) if codes is not None else None
    return layout, {k: np.concatenate(v) for k, v in spans.items()}, keys


def _chain(
    runner: Runner,
    path: str,
    start: int,
    end: int,
    state: ScanState,
    result: tuple[Events, ScanState, bool, np.ndarray],
    codes: frozenset[str] | None,
) -> tuple[Events, ScanState, np.ndarray]:
    """A phase A chunk's events in file terms and the state after it, given the state before
    it: its own result when its assumption held, else a rescan from that state."""
    events, local, clean, verdicts = result
    if start == 0:
        return events, local, verdicts
    if (
        state.parity
        or state.escape
        or not clean
        or local.floor is None
        or local.floor + state.depth < 2
    ):
        return _on(runner, rescan_chunk, path, start, end, state, codes)  # type: ignore[no-any-return]
    events.depth += state.depth
    events.key_depth += state.depth
    events = shallow(events, 2)
    return events, ScanState(local.parity, local.depth + state.depth, local.escape), verdicts


def scan_bytes(size: int, block: int, workers: int) -> int:
    """Phase A chunk size: at most ``block`` and ``SCAN_CHUNK``, and at least 8 chunks per
    process when the file allows (an uneven last round costs at most one small chunk),
    never under 4 MB."""
    return int(min(block, SCAN_CHUNK, max(4 << 20, size // max(1, 8 * workers))))


def _chunk_bounds(path: Path, size: int, chunk: int) -> list[tuple[int, int]]:
    """Chunks of about ``chunk`` bytes, each starting just after a ``}`` followed by ``,``.

    Such a point is almost always outside a string, so phase A's assumption
    holds and the main process rarely rescans; when it does not, the rescan
    keeps the result exact.
    """
    cuts = [0]
    with open(path, "rb", buffering=0) as handle:
        for nominal in range(chunk, size, chunk):
            handle.seek(nominal)
            window = handle.read(1 << 16)
            at = window.find(b"},")
            cut = nominal + at + 1 if at >= 0 else nominal
            if cut > cuts[-1]:
                cuts.append(cut)
    cuts.append(size)
    return [(a, b) for a, b in zip(cuts, cuts[1:], strict=False) if b > a] or [(0, 0)]


def _check_depth(events: Events, start: int) -> None:
    if len(events.depth) and int(events.depth.min()) < 0:
        bad = int(events.pos[int(np.argmax(events.depth < 0))])
        raise TicError("json.unbalanced", "a closing bracket without its opening one", bad)


def _check_complete(layout: Layout, state: ScanState, size: int) -> None:
    if not layout.complete:
        raise TicError(
            "json.truncated",
            f"the JSON ends before its top-level object is closed (depth {state.depth} at the end) - "
            "a truncated download?",
            size,
        )


def read_plain(
    path: Path,
    size: int,
    options: MarketOptions,
    runner: Runner,
    output: FileOutput,
    sink_for: SinkFor | None = None,
) -> Iterator[pa.Table]:
    """Read a plain local file; yields tables of rows (providers already resolved).

    ``sink_for(header)``, called once the file is indexed, may give a :class:`RowSink`:
    the batches' rows are then written by the processes that read them (counted in
    ``output.written``) and nothing is yielded.
    """
    early = EarlyProviders(path, options, runner)
    layout, spans, keys = index_plain(path, size, options, runner, early.feed)
    trace.mark("index_done")
    output.header = layout.header()
    check_header(output.header)
    providers = _providers(path, spans, options, runner, output, early)
    trace.mark("providers_done")
    # after the providers: their batches keep the processes busy while the SHA-256 ends
    with trace.span("gate"):
        sink = sink_for(output.header) if sink_for is not None else None
    group_ids = _group_ids(providers, options)
    handle = runner.share(providers) if providers is not None and providers.num_rows else None

    def tasks() -> Iterator[tuple[Callable[..., Any], tuple[Any, ...]]]:
        part = 0
        for kind in CODED:
            found = spans.get(kind, np.empty((0, 2), np.int64))
            if keys is not None:
                found = keys.select(found)
            cap = options.batch_bytes if keys is None else min(options.batch_bytes, KEPT_BATCH)
            size_ = batch_bytes(found, cap, runner.workers)
            for batch in _file_batches(kind, found, size_, str(path), filtered=True):
                args = (batch, options.codes, options.market, group_ids, handle)
                yield run_batch, (*args, sink, part) if sink is not None else args
                part += 1
        trace.mark("dispatched")

    for res in ordered(runner, tasks()):
        yield from _take(res, output, providers)
    trace.mark("read_done")


def batch_bytes(spans: np.ndarray | None, size: int, workers: int) -> int:
    """Phase B batch size in bytes of items: at most ``size``, and at least 8 batches per
    process when the items allow (balance at the end of the file), never under 256 KB.

    Sized on the items a batch parses, not on the file range they span: with a code
    basket a batch holds only kept items, whose rows (price x provider) are what
    fills memory - 256 KB of a dense in-network item can give ~30,000 rows.
    """
    if spans is None or not len(spans):
        return size
    total = int((spans[:, 1] - spans[:, 0]).sum())
    return int(min(size, max(256 << 10, total // max(1, 8 * workers))))


def _group_ids(providers: pa.Table | None, options: MarketOptions) -> frozenset[float] | None:
    if providers is None or not options.market.active:
        return None
    return frozenset(pc.unique(providers.column("provider_group_id")).to_pylist())


def _take(
    res: it.BatchResult, output: FileOutput, providers: pa.Table | None
) -> Iterator[pa.Table]:
    output.problems.extend(res.problems)
    output.written += res.written
    if res.rates is not None and res.rates.num_rows:
        yield from _pieces(res.rates)
    if res.by_ref is not None and res.by_ref.num_rows and providers is not None:
        resolved = it.resolve(res.by_ref, providers)
        if resolved.num_rows:
            yield from _pieces(resolved)


def _pieces(table: pa.Table) -> Iterator[pa.Table]:
    """A batch's rows in slices of at most ``TABLE_ROWS`` (the writer encodes a few at a time)."""
    for start in range(0, table.num_rows, TABLE_ROWS):
        yield table.slice(start, TABLE_ROWS)


PROVIDER_KINDS = ("provider_references", "provider_groups")


class EarlyProviders:
    """Provider-reference batches sent to the pool while the index still runs.

    Provider references usually come first in a file; their batches then run
    on the pool's processes while the caller chains the index, instead of
    after it.  Only with a local pool that is up (otherwise the caller would
    wait for it); their results are taken after the index, so a file that
    fails to index still yields nothing.
    """

    def __init__(self, path: Path, options: MarketOptions, runner: Runner) -> None:
        self.path = str(path)
        self.options = options
        self.runner = runner
        self.size = min(options.batch_bytes, 8 << 20)
        self.waiting: dict[str, list[np.ndarray]] = {}
        self.sent: dict[str, int] = {}
        self.futures: list[Any] = []

    def feed(self, kind: str, found: np.ndarray) -> None:
        if kind not in PROVIDER_KINDS or not self.runner.helps:
            return
        self.waiting.setdefault(kind, []).append(found)
        spans = np.concatenate(self.waiting[kind])
        if int((spans[:, 1] - spans[:, 0]).sum()) < self.size or not self.runner.ready():
            self.waiting[kind] = [spans]
            return
        for batch in _file_batches(kind, spans, self.size, self.path, filtered=True):
            fn, args = trace.wrap(run_batch, (batch, None, self.options.market, None))
            self.futures.append(self.runner.submit(fn, *args))
        self.sent[kind] = self.sent.get(kind, 0) + len(spans)
        self.waiting[kind] = []


def _providers(
    path: Path,
    spans: dict[str, np.ndarray],
    options: MarketOptions,
    runner: Runner,
    output: FileOutput,
    early: EarlyProviders | None = None,
) -> pa.Table | None:
    kinds = [k for k in PROVIDER_KINDS if k in spans]
    if not kinds:
        return None
    sent = early.sent if early is not None else {}
    rest = {k: spans[k][sent.get(k, 0) :] for k in kinds}
    tasks = (
        (run_batch, (batch, None, options.market, None))
        for kind in kinds
        for batch in _file_batches(
            kind,
            rest[kind],
            batch_bytes(rest[kind], options.batch_bytes, runner.workers),
            str(path),
            filtered=True,
        )
    )
    rest_results = list(ordered(runner, tasks, local_first=True))  # the caller helps meanwhile
    results = [f.result() for f in early.futures] if early is not None else []
    return _merge_providers(results + rest_results, options, output)


def _merge_providers(
    results: list[it.BatchResult], options: MarketOptions, output: FileOutput
) -> pa.Table:
    from parley.ingest.tic.remote import fetch_provider_reference

    tables = [r.providers for r in results if r.providers is not None]
    for r in results:
        output.problems.extend(r.problems)
        for group_id, url in r.locations:
            table, problem = fetch_provider_reference(group_id, url, options)
            if problem:
                output.problems.append(problem)
            if table is not None:
                tables.append(table)
    merged = _concat(tables)
    return merged if merged is not None else it.PROVIDERS.empty_table()


def check_header(header: dict[str, Any]) -> None:
    version = str(header.get("version") or "")
    if version and version.split(".")[0] not in ("1", "2"):
        raise TicError(
            "tic.unknown_version",
            f"schema version {version!r} is not one Parley reads (1.x or 2.x)",
            0,
        )


# --- streams ---------------------------------------------------------------------------------


def read_stream(
    stream: IO[bytes],
    options: MarketOptions,
    runner: Runner,
    output: FileOutput,
    *,
    spool_dir: str | None = None,
) -> Iterator[pa.Table]:
    """Read a stream (gzip, URL): index in this process, spool, resolve at the end."""
    spool = Path(tempfile.mkdtemp(prefix="parley-tic-", dir=spool_dir))
    try:
        unresolved, resolved, provider_results = _spool_stream(
            stream, options, runner, output, spool
        )
        check_header(output.header)
        providers = (
            _merge_providers(provider_results, options, output) if provider_results else None
        )
        for part in resolved:
            yield pq.read_table(part)
        for part in unresolved:
            table = pq.read_table(part)
            if providers is not None:
                yield it.resolve(table, providers)
    finally:
        shutil.rmtree(spool, ignore_errors=True)


def _spool_stream(
    stream: IO[bytes], options: MarketOptions, runner: Runner, output: FileOutput, spool: Path
) -> tuple[list[Path], list[Path], list[it.BatchResult]]:
    """Decompress and index in this process; batches run through :func:`ordered`, so this
    process reads ahead while the pool is busy and runs a batch itself when it would wait.
    With a pool, a thread decompresses the next block meanwhile (:class:`_ReadAhead`)."""
    unresolved: list[Path] = []
    resolved: list[Path] = []
    providers: list[it.BatchResult] = []
    ahead = _ReadAhead(stream, min(options.block_bytes, STREAM_BLOCK)) if runner.helps else None
    try:
        for res in ordered(runner, _stream_tasks(ahead or stream, options, output)):
            output.problems.extend(res.problems)
            if res.providers is not None or res.locations:
                providers.append(res)
            if res.rates is not None and res.rates.num_rows:
                _write(res.rates, resolved, spool)
            if res.by_ref is not None and res.by_ref.num_rows:
                _write(res.by_ref, unresolved, spool)
    finally:
        if ahead is not None:
            ahead.close()
    return unresolved, resolved, providers


class _ReadAhead:
    """Reads (decompresses) the next block in a thread while the caller indexes this one.

    ISA-L and zlib release the GIL, and so does the compiled index: with a
    pool (2+ processes) decompression and indexing overlap on two cores.
    """

    def __init__(self, stream: IO[bytes], size: int) -> None:
        self._queue: queue.Queue[tuple[bytes, BaseException | None]] = queue.Queue(maxsize=1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(stream, size), daemon=True)
        self._thread.start()

    def _run(self, stream: IO[bytes], size: int) -> None:
        try:
            while not self._stop.is_set():
                block = stream.read(size)
                self._queue.put((block, None))
                if not block:
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the reader's thread
            self._queue.put((b"", exc))

    def read(self, size: int = -1) -> bytes:
        block, exc = self._queue.get()
        if exc is not None:
            raise exc
        return block

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(queue.Empty):
            while True:
                self._queue.get_nowait()
        self._thread.join(timeout=5)


def _stream_tasks(
    stream: IO[bytes] | _ReadAhead, options: MarketOptions, output: FileOutput
) -> Iterator[tuple[Callable[..., Any], tuple[Any, ...]]]:
    """Read, index and cut a stream into batch tasks (the header is set at the end).

    With a code basket only the items whose code may be in it travel (a key's
    item may close blocks later: keys wait in ``pending`` until then).
    """
    codes = options.codes
    layout = Layout()
    state = ScanState()
    carry = b""
    base = 0
    offset = 0
    pending = Keys(np.empty(0, np.int64), np.empty(0, bool))
    while True:
        try:
            block = stream.read(min(options.block_bytes, STREAM_BLOCK))
        except (EOFError, OSError) as exc:
            raise TicError(
                "file.truncated", f"the compressed stream is damaged or truncated ({exc})", offset
            ) from exc
        if not block:
            break
        data = carry + block
        events, state = structure(
            block, state, limit=2, key_limit=None if codes is None else ITEM_DEPTH
        )
        if codes is not None:
            mine = events.key_depth == ITEM_DEPTH
            verdicts = it.key_verdicts(block, events.keys[mine], codes)
            real = verdicts >= 0
            pending = Keys(
                np.concatenate([pending.pos, events.keys[mine][real] + offset]),
                np.concatenate([pending.keep, verdicts[real] == 1]),
            )
        events.pos += offset
        _check_depth(events, offset)

        def fetch(a: int, b: int, data: bytes = data, base: int = base) -> bytes:
            return data[max(0, a - base) : max(0, b - base)]

        found = layout.feed(events, fetch)
        offset += len(block)
        layout.end_block(offset, fetch)
        closed = 0
        for kind, parts in found.items():
            spans = np.concatenate(parts)
            closed = max(closed, int(spans[-1, 1]))
            if kind not in STREAMED or kind == "reporting_structure":
                continue
            coded = codes is not None and kind in CODED
            if coded:
                spans = pending.select(spans)
            size = min(options.batch_bytes, STREAM_BATCH)
            for batch in _memory_batches(kind, spans, size, data, base):
                yield run_batch, (batch, codes if coded else None, options.market, None)
        if codes is not None and closed:
            later = pending.pos >= closed
            pending = Keys(pending.pos[later], pending.keep[later])
        cut = (
            offset - 4096
            if layout.pending_start is None
            else min(layout.pending_start, offset - 4096)
        )
        cut = max(cut, base)
        carry = data[cut - base :]
        base = cut
    output.header = layout.header()
    _check_complete(layout, state, offset)


def _memory_batches(
    kind: str, spans: np.ndarray, size: int, data: bytes, base: int
) -> Iterator[Batch]:
    """Batches of about ``size`` bytes of items cut from ``data`` (file offset ``base``):
    a contiguous run travels as one slice, a sparse selection as its items only."""
    if not len(spans):
        return
    for part in _size_groups(spans, size):
        total = int((part[:, 1] - part[:, 0]).sum())
        s0, e0 = int(part[0, 0]), int(part[-1, 1])
        if e0 - s0 <= total + READ_GAP:
            yield Batch(kind, s0, part - s0, data=data[s0 - base : e0 - base], filtered=True)
            continue
        pieces = [data[s - base : e - base] for s, e in part.tolist()]
        sizes = part[:, 1] - part[:, 0]
        at = np.cumsum(sizes) - sizes
        rel = np.stack([at, at + sizes], axis=1)
        yield Batch(kind, s0, rel, data=b"".join(pieces), origins=part[:, 0].copy(), filtered=True)


def _write(table: pa.Table, parts: list[Path], spool: Path) -> None:
    if table.num_rows:
        path = spool / f"part-{len(list(spool.iterdir())):06d}.parquet"
        pq.write_table(table, path, compression="lz4")
        parts.append(path)


def is_plain(path: Path | None) -> bool:
    return path is not None and path.is_file() and os.access(path, os.R_OK)


def iter_items(
    stream: IO[bytes], keys: tuple[str, ...], block_bytes: int = 16 << 20
) -> Iterator[tuple[str, bytes, int]]:
    """(key, item bytes, byte offset) of the items of the named top-level arrays, streaming.

    After the last item, ``("", header JSON bytes, size)`` gives the root's scalar members.
    """
    layout = Layout()
    state = ScanState()
    carry = b""
    base = 0
    offset = 0
    while True:
        try:
            block = stream.read(block_bytes)
        except (EOFError, OSError) as exc:
            raise TicError(
                "file.truncated", f"the compressed stream is damaged or truncated ({exc})", offset
            ) from exc
        if not block:
            break
        data = carry + block
        events, state = structure(block, state, limit=2)
        events.pos += offset
        _check_depth(events, offset)

        def fetch(a: int, b: int, data: bytes = data, base: int = base) -> bytes:
            return data[max(0, a - base) : max(0, b - base)]

        found = layout.feed(events, fetch)
        offset += len(block)
        layout.end_block(offset, fetch)
        for key, parts in found.items():
            if key in keys:
                for s, e in np.concatenate(parts).tolist():
                    yield key, data[s - base : e - base], s
        cut = (
            offset - 4096
            if layout.pending_start is None
            else min(layout.pending_start, offset - 4096)
        )
        cut = max(cut, base)
        carry = data[cut - base :]
        base = cut
    _check_complete(layout, state, offset)
    import json as _json

    yield "", _json.dumps(layout.header(), default=str).encode(), offset
