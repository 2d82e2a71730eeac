"""Use case: ingest a batch of files into a workspace.

For each source: hash it (a file already committed is a no-op), detect its
format, stream it through its reader into a :class:`FileCommit`, and commit
the file atomically with its manifest row and its problems.  Files run in
parallel processes when there are several; one large file streams in-process
with byte-level progress.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa

from parley.errors import InputError, ParleyError
from parley.ingest.base import ParsedChunk, Problem
from parley.ingest.formats import Detected, detect, read
from parley.ingest.sources import Source, expand
from parley.ingest.validate import check_codes
from parley.store.datasets import (
    FileCommit,
    committed_ids,
    now_utc,
    problem_rows,
    read_manifest,
    sweep_staging,
)
from parley.store.remittance_index import INDEX, KEY_COLUMNS, Key, commit_lock, keys_of
from parley.store.workspace import Workspace, open_workspace

MARKET_PREFIXES = ("tic-", "hpt-")
"""Detected formats of price-transparency files (read by :func:`parley.services.market.read_market_file`)."""

Progress = Callable[[str, int, int], None]
"""progress(label, done, total): bytes of the current file, or files of the batch."""


@dataclass
class FileResult:
    source: str
    file_id: str | None
    status: str  # loaded, partial, failed, duplicate
    format: str | None = None
    version: str | None = None
    bytes: int = 0
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    errors: int = 0
    warnings: int = 0
    first_problems: list[str] = field(default_factory=list)


@dataclass
class IngestReport:
    files: list[FileResult]

    @property
    def ok(self) -> bool:
        return all(f.status in ("loaded", "duplicate") for f in self.files)

    def totals(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for f in self.files:
            for k, v in f.counts.items():
                out[k] = out.get(k, 0) + v
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "files": [asdict(f) for f in self.files],
            "totals": self.totals(),
            "by_status": {s: sum(f.status == s for f in self.files) for s in sorted({f.status for f in self.files})},
        }


def _status(counts: dict[str, int], problems: list[Problem]) -> str:
    data_rows = sum(v for k, v in counts.items() if k != "problems")
    if data_rows == 0 and any(p.severity == "error" for p in problems):
        return "failed"
    if any(p.quarantined or p.severity == "error" for p in problems):
        return "partial"
    return "loaded"


def _line(p: Problem, name: str) -> str:
    if p.message.startswith(name):
        return p.message
    return f"{name}: {p.message}" if p.where() == "file" else f"{name}: {p.where()}: {p.message}"


def _summarise(problems: list[Problem], name: str) -> list[str]:
    errors = [p for p in problems if p.severity == "error"]
    return [_line(p, name) for p in (errors or problems)[:5]]


def commit_file(
    ws: Workspace,
    source: Source,
    *,
    sha256: str,
    size: int,
    detected: Detected | None,
    chunks: Callable[[str], Iterable[ParsedChunk]],
    problems: list[Problem],
    progress: Progress | None = None,
    commit: FileCommit | None = None,
    started: float | None = None,
) -> FileResult:
    """Stream one source's chunks into a FileCommit and commit it with its manifest and problems.

    ``chunks(file_id)`` yields the reader's output (not called when ``detected`` is None);
    ``problems`` may already hold problems found before reading.  Everything or nothing.
    ``commit``: one already holding parts (written by a reader's workers), else a new one;
    ``started``: when reading began (``time.perf_counter``), if before this call.
    """
    started = time.perf_counter() if started is None else started
    file_id = sha256[:16]
    commit = commit if commit is not None else FileCommit(ws.datasets, file_id)
    before = list(problems)
    try:
        remits = _stream(commit, chunks(file_id) if detected is not None else (), problems, source, size, progress)
        with commit_lock(ws.datasets) if remits else contextlib.nullcontext():
            repeats = _repeated_payments(ws, file_id, remits)
            if repeats and all(r.earlier for r in repeats) and len(repeats) == sum(len(r) for r in remits):
                commit.abort()  # every payment of the file is already loaded from other files
                return FileResult(source.name, file_id, "duplicate", format=detected.format if detected else None,
                                  bytes=size, first_problems=[_repeat_message(ws, repeats[0])])
            if repeats:  # read it again without the repeated transactions
                commit.abort()
                commit = FileCommit(ws.datasets, file_id)
                problems[:] = before + [_repeat_problem(ws, r) for r in repeats]
                dropped = {r.remittance_seq for r in repeats}
                _stream(commit, _without(chunks(file_id), dropped), problems, source, size, progress)
            counts = dict(commit.counts)
            status = _status(counts, problems)
            commit.write("problems", problem_rows((p.as_row() for p in problems), source_path=source.name))
            errors = sum(p.severity == "error" for p in problems)
            elapsed = time.perf_counter() - started
            commit.commit(
                {
                    "sha256": sha256,
                    "source_path": source.name,
                    "source_bytes": size,
                    "format": detected.format if detected else None,
                    "version": detected.version if detected else None,
                    "status": status,
                    "ingested_at": now_utc(),
                    "problem_count": len(problems),
                    "error_count": errors,
                    "elapsed_seconds": elapsed,
                }
            )
    except BaseException:
        commit.abort()
        raise
    return FileResult(
        source=source.name, file_id=file_id, status=status,
        format=detected.format if detected else None, version=detected.version if detected else None,
        bytes=size, seconds=round(elapsed, 3), counts=counts, errors=errors,
        warnings=len(problems) - errors, first_problems=_summarise(problems, source.name),
    )


def _stream(
    commit: FileCommit, chunks: Iterable[ParsedChunk], problems: list[Problem], source: Source, size: int,
    progress: Progress | None,
) -> list[pa.Table]:
    """Write the chunks into ``commit``, gather their problems; returns the remittances rows."""
    remits: list[pa.Table] = []
    for chunk in chunks:
        for table, frame in chunk.tables.items():
            commit.write(table, frame)
            if table == "remittances" and frame.height:
                remits.append(frame.to_arrow())
        problems.extend(chunk.problems)
        problems.extend(check_codes(chunk))
        if progress:
            progress(source.name, chunk.bytes_done, size)
    return remits


@dataclass(frozen=True)
class _Repeat:
    """A remittance whose payment is already in the workspace (``earlier``: its file) or earlier
    in the same file (``earlier`` None)."""

    remittance_seq: int
    control: str
    key: Key
    earlier: str | None


def _repeated_payments(ws: Workspace, file_id: str, remits: list[pa.Table]) -> list[_Repeat]:
    if not remits:
        return []
    known = INDEX.known(ws.datasets)
    seen: set[Key] = set()
    out: list[_Repeat] = []
    for table in remits:
        seqs = table.column("remittance_seq").to_pylist()
        for seq, (key, control) in zip(seqs, keys_of(table), strict=True):
            if key is None:
                continue
            earlier = known.get(key)
            if earlier is not None and earlier != file_id:
                out.append(_Repeat(seq, control, key, earlier))
            elif key in seen:
                out.append(_Repeat(seq, control, key, None))
            seen.add(key)
    return out


def _without(chunks: Iterable[ParsedChunk], dropped: set[int]) -> Iterator[ParsedChunk]:
    """The chunks without the rows of the ``dropped`` remittances (claims, their lines and
    adjustments, PLB); a claim's lines and adjustments never come before the claim."""
    claims: set[int] = set()
    for chunk in chunks:
        tables = {}
        for name, frame in chunk.tables.items():
            if "remittance_seq" in frame.columns:
                if name == "remit_claims":
                    gone = frame.filter(pl.col("remittance_seq").is_in(list(dropped)))
                    claims.update(gone["claim_seq"].to_list())
                frame = frame.filter(~pl.col("remittance_seq").is_in(list(dropped)))
            elif "claim_seq" in frame.columns and claims:
                frame = frame.filter(~pl.col("claim_seq").is_in(list(claims)))
            tables[name] = frame
        yield ParsedChunk(tables=tables, problems=chunk.problems, bytes_done=chunk.bytes_done)


def _describe(key: Key) -> str:
    named = dict(zip(KEY_COLUMNS, key, strict=True))
    return f"trace {named['trace_number']}, {named['payment_amount']} paid {named['payment_date'] or 'undated'}"


def _source_of(ws: Workspace, file_id: str | None) -> str:
    if file_id is None:
        return "earlier in this file"
    manifest = read_manifest(ws.datasets)
    paths = dict(zip(manifest.column("file_id").to_pylist(), manifest.column("source_path").to_pylist(), strict=True))
    return f"from {paths.get(file_id, file_id)}"


def _repeat_message(ws: Workspace, repeat: _Repeat) -> str:
    return (f"the same payments are already loaded {_source_of(ws, repeat.earlier)} ({_describe(repeat.key)}): "
            "a re-sent or re-saved ERA; nothing was loaded, so no payment counts twice")


def _repeat_problem(ws: Workspace, repeat: _Repeat) -> Problem:
    return Problem(
        "warning",
        "x12.duplicate_remittance",
        f"transaction {repeat.control or '?'} pays what is already loaded {_source_of(ws, repeat.earlier)} "
        f"({_describe(repeat.key)}); it was skipped so that no payment counts twice",
        segment_id="TRN",
        loop="header",
        element="TRN02",
        transaction_control=repeat.control or None,
        quarantined=True,
    )


def ingest_one(
    ws: Workspace,
    source: Source,
    *,
    sha256: str,
    size: int,
    mapping: Any | None = None,
    progress: Progress | None = None,
) -> FileResult:
    """Ingest one source whose hash is known; commits atomically or leaves nothing."""
    problems: list[Problem] = []
    detected: Detected | None = None
    try:
        detected = detect(source, source.head(), mapping=mapping)
    except InputError as exc:
        problems.append(Problem("error", "file.unreadable", str(exc).replace("\n  hint: ", " - ")))

    def chunks(file_id: str) -> Iterable[ParsedChunk]:
        assert detected is not None
        if detected.format.startswith(MARKET_PREFIXES):
            # price-transparency files: the same reading path as 'parley market ingest' (payer aliases included)
            from parley.refdata.payer_aliases import load_payer_aliases
            from parley.services.market import read_market_file

            return read_market_file(source, detected.format, file_id=file_id, options=None,
                                    aliases=load_payer_aliases(ws.refdata_dir))
        return read(
            source, detected, file_id=file_id, hasher=ws.hasher(), mapping=mapping,
            chunk_bytes=ws.settings.chunk_mb << 20,
        )

    return commit_file(
        ws, source, sha256=sha256, size=size, detected=detected, chunks=chunks, problems=problems,
        progress=progress,
    )


def _ingest_in_worker(root: str, source: Source, sha256: str, size: int, mapping_path: str | None) -> FileResult:
    ws = open_workspace(root)
    mapping = _load_mapping(mapping_path)
    return ingest_one(ws, source, sha256=sha256, size=size, mapping=mapping)


def _load_mapping(path: str | Path | None) -> Any | None:
    if path is None:
        return None
    from parley.ingest.tabular import load_mapping

    return load_mapping(Path(path))


def _prior_status(ws: Workspace) -> dict[str, str]:
    manifest = read_manifest(ws.datasets)
    return dict(zip(manifest.column("file_id").to_pylist(), manifest.column("status").to_pylist(), strict=True))


def ingest_paths(
    *,
    workspace: Workspace,
    paths: Iterable[str | Path],
    mapping_path: str | Path | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    """Ingest files, folders, globs (and .gz / .zip) into the workspace."""
    ws = workspace
    sources = discover(ws, paths)
    mapping = _load_mapping(mapping_path)
    todo, results = triage(ws, sources)
    n_workers = workers if workers is not None else (ws.settings.workers or os.cpu_count() or 1)
    if len(todo) <= 1 or n_workers <= 1:
        for source, sha, size in todo:
            results.append(ingest_one(ws, source, sha256=sha, size=size, mapping=mapping, progress=progress))
    else:
        results.extend(_parallel(ws, todo, n_workers, mapping_path, progress))
    order = {s.name: i for i, s in enumerate(sources)}
    results.sort(key=lambda r: order.get(r.source, 0))
    return IngestReport(results)


Todo = list[tuple[Source, str, int]]
"""Sources to read, with their SHA-256 and decompressed size."""


def discover(ws: Workspace, paths: Iterable[str | Path]) -> list[Source]:
    """The batch's sources (files, folders, globs, archive members), never the workspace's own
    files; sweeps leftovers of an interrupted run first.  No source at all is an input error."""
    sweep_staging(ws.datasets)
    sources = [s for s in expand(paths) if not _workspace_own(ws, s.path)]
    if not sources:
        raise InputError("no files to ingest", hint="name files, folders or globs")
    return sources


def triage(
    ws: Workspace,
    sources: Iterable[Source],
    *,
    digest: Callable[[Source], tuple[str, int]] = Source.digest,
    unreadable: Callable[[Workspace, Source, BaseException], FileResult] | None = None,
) -> tuple[Todo, list[FileResult]]:
    """Hash every source: (sources to read, results for duplicates and unreadable sources).

    A file already committed (and not failed) or twice in the batch is a ``duplicate``;
    a source that cannot be hashed (``digest`` raises OSError, EOFError or ValueError)
    is recorded as failed by ``unreadable`` (default: a ``file.unreadable`` problem).
    """
    prior = _prior_status(ws)
    committed = committed_ids(ws.datasets)
    results: list[FileResult] = []
    todo: Todo = []
    seen: set[str] = set()
    for source in sources:
        try:
            sha, size = digest(source)
        except (OSError, EOFError, ValueError) as exc:
            results.append((unreadable or _unreadable)(ws, source, exc))
            continue
        file_id = sha[:16]
        if (file_id in committed and prior.get(file_id) != "failed") or file_id in seen:
            results.append(FileResult(source.name, file_id, "duplicate", bytes=size))
            continue
        seen.add(file_id)
        todo.append((source, sha, size))
    return todo, results


def _parallel(
    ws: Workspace, todo: list[tuple[Source, str, int]], n_workers: int,
    mapping_path: str | Path | None, progress: Progress | None,
) -> list[FileResult]:
    """Largest files first over a process pool; progress counts bytes of finished files."""
    todo = sorted(todo, key=lambda t: -t[2])
    total = sum(t[2] for t in todo)
    done = 0
    out: list[FileResult] = []
    mp = str(mapping_path) if mapping_path else None
    # spawn, not fork: a forked child inherits Polars' and DuckDB's thread pools mid-state and can hang
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(n_workers, len(todo)), mp_context=context) as pool:
        pending: set[Future[FileResult]] = {
            pool.submit(_ingest_in_worker, str(ws.root), s, sha, size, mp) for s, sha, size in todo
        }
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                result = fut.result()
                out.append(result)
                done += result.bytes
                if progress:
                    progress(f"{len(out)}/{len(todo)} files", done, total)
    return out


def _workspace_own(ws: Workspace, path: Path) -> bool:
    """The workspace's own files (settings, datasets, database...) are never inputs; its inputs/ folder is."""
    root = ws.root.resolve()
    resolved = path.resolve()
    if not resolved.is_relative_to(root):
        return False
    parts = resolved.relative_to(root).parts
    return len(parts) == 1 or parts[0] in ("datasets", "refdata", "contracts", "reports")


def _unreadable(ws: Workspace, source: Source, exc: BaseException) -> FileResult:
    """A source that cannot even be read (bad gzip, bad zip): record it as failed."""
    import hashlib

    reason = f"{source.name}: cannot be read ({type(exc).__name__}: {exc})"
    fake_sha = hashlib.sha256(f"unreadable:{source.name}".encode()).hexdigest()
    problem = Problem("error", "file.unreadable", reason + " - check the file is complete (a truncated download?)")
    commit = FileCommit(ws.datasets, fake_sha[:16])
    try:
        commit.write("problems", problem_rows([problem.as_row()], source_path=source.name))
        commit.commit(
            {"sha256": fake_sha, "source_path": source.name, "source_bytes": 0, "format": None, "version": None,
             "status": "failed", "ingested_at": now_utc(), "problem_count": 1, "error_count": 1,
             "elapsed_seconds": 0.0}
        )
    except BaseException:
        commit.abort()
        raise
    return FileResult(source.name, None, "failed", errors=1, first_problems=[reason])


__all__ = ["FileResult", "IngestReport", "ingest_paths", "ingest_one", "discover", "triage", "ParleyError"]
