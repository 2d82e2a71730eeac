"""Use cases: ingest price-transparency files for a market, and benchmark a payer.

``ingest_market`` is ``parley market ingest``: every file (TiC in-network,
allowed amounts, tables of contents, provider-reference files, hospital
standard-charge files) is hashed (a committed file is a no-op), sniffed, read
through :func:`parley.ingest.tic.read_market` with the organisation's code
basket and market, and committed atomically with its manifest row and
problems.  Files run concurrently (threads driving one shared process pool or
Dask cluster, so a big file's chunks and small files share the cores).  A TiC
data file is hashed while it is indexed, and with a local pool its rows are
written by the processes that read them (:func:`_one_hashing`).

``benchmark`` is ``parley benchmark PAYER``: see :mod:`parley.engine.market`.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from parley.errors import InputError
from parley.ingest.base import ParsedChunk, Problem
from parley.ingest.formats import Detected
from parley.ingest.sources import Source
from parley.ingest.tic import MarketOptions, read_market, shoppable_codes, sniff_market, trace
from parley.ingest.tic.options import Market, registry_market
from parley.ingest.tic.parallel import Runner, runner
from parley.ingest.tic.reader import PartTarget
from parley.refdata.payer_aliases import FILE_NAME as ALIAS_FILE
from parley.refdata.payer_aliases import PayerAliases, load_payer_aliases
from parley.services.ingest import (
    FileResult,
    IngestReport,
    Progress,
    commit_file,
    discover,
    triage,
)
from parley.store.datasets import (
    FileCommit,
    PartWriter,
    committed_ids,
    now_utc,
    problem_rows,
    read_manifest,
)
from parley.store.workspace import Workspace

if TYPE_CHECKING:  # Polars and DuckDB load on use: not on the way to a pool's first task
    import polars as pl

BASKETS = ("billed", "shoppable", "all")


@dataclass(frozen=True)
class MarketCriteria:
    """The user's market: an NPI registry extract plus filters, or explicit NPIs / TINs."""

    registry: Path | None = None
    states: tuple[str, ...] = ()
    zips: tuple[str, ...] = ()
    taxonomies: tuple[str, ...] = ()
    npis: tuple[str, ...] = ()
    tins: tuple[str, ...] = ()


def billed_codes(ws: Workspace) -> frozenset[str]:
    """The organisation's billed procedure codes (claim_lines and remit_lines)."""
    con = ws.connect()
    try:
        rows = con.execute(
            "SELECT DISTINCT procedure_code FROM claim_lines WHERE procedure_code IS NOT NULL "
            "UNION SELECT DISTINCT procedure_code FROM remit_lines WHERE procedure_code IS NOT NULL"
        ).fetchall()
    finally:
        con.close()
    return frozenset(str(r[0]).strip().upper() for r in rows if str(r[0]).strip())


def basket_codes(
    ws: Workspace, basket: str, codes: Sequence[str] = ()
) -> tuple[frozenset[str] | None, str]:
    """The code basket and a sentence saying where it came from."""
    if codes:
        return frozenset(c.strip().upper() for c in codes if c.strip()), f"{len(codes)} codes given"
    if basket == "all":
        return None, "every code (no basket)"
    if basket == "billed":
        billed = billed_codes(ws)
        if billed:
            return (
                billed,
                f"{len(billed)} codes billed by the organisation (claim_lines, remit_lines)",
            )
    if basket not in BASKETS:
        raise InputError(f"unknown basket {basket!r}", hint=f"use one of {', '.join(BASKETS)}")
    codes_ = shoppable_codes()
    note = "CMS shoppable services" + (
        " (no billed codes in the workspace yet)" if basket == "billed" else ""
    )
    return codes_, f"{len(codes_)} codes: {note}"


def build_market(criteria: MarketCriteria) -> Market:
    if criteria.registry is not None:
        return registry_market(
            criteria.registry,
            states=criteria.states,
            zips=criteria.zips,
            taxonomies=criteria.taxonomies,
            npis=criteria.npis,
            tins=criteria.tins,
        )
    if criteria.states or criteria.zips or criteria.taxonomies:
        raise InputError(
            "a state, ZIP or taxonomy filter needs an NPI registry extract",
            hint="pass --registry NPPES_EXTRACT.csv (columns npi, state, zip, taxonomy)",
        )
    from parley.ingest.tic.options import normalize_tin

    return Market(
        npis=frozenset(int(n) for n in criteria.npis) if criteria.npis else None,
        tins=frozenset(normalize_tin(t) for t in criteria.tins) if criteria.tins else None,
    )


def market_options(
    ws: Workspace,
    *,
    basket: str = "billed",
    codes: Sequence[str] = (),
    criteria: MarketCriteria = MarketCriteria(),
    workers: int | None = None,
    scheduler: str | None = None,
    fetch: bool = False,
    spool_dir: Path | None = None,
) -> tuple[MarketOptions, str]:
    basket_set, note = basket_codes(ws, basket, codes)
    options = MarketOptions(
        codes=basket_set,
        market=build_market(criteria),
        workers=workers or ws.settings.workers,
        scheduler=scheduler,
        fetch_urls=fetch,
        spool_dir=str(spool_dir) if spool_dir else None,
    )
    return options, note


def ingest_market(
    *,
    workspace: Workspace,
    paths: Iterable[str | Path],
    options: MarketOptions,
    progress: Progress | None = None,
) -> IngestReport:
    """Ingest price-transparency files into ``market_rates`` (see module doc)."""
    ws = workspace
    sources = discover(ws, paths)
    aliases = load_payer_aliases(ws.refdata_dir)
    results: list[FileResult] = []
    trace.mark("ingest_start")
    with runner(workers=options.workers, scheduler=options.scheduler) as run:
        queue = _follow_tocs(sources, options, results)
        later, now = _hash_later(queue)
        todo, skipped = triage(ws, now, digest=_digest, unreadable=_unreadable)
        results += skipped
        jobs = len(todo) + len(later)
        threads = max(1, min(jobs, run.workers))
        with (
            ThreadPoolExecutor(max_workers=threads) as pool,
            _Hashes(ws, [s for s, _ in later], threads) as hashes,
        ):
            futures = [
                pool.submit(_one, ws, s, sha, size, options, run, aliases) for s, sha, size in todo
            ]
            futures += [
                pool.submit(_one_hashing, ws, s, fmt, hashes, i, options, run, aliases)
                for i, (s, fmt) in enumerate(later)
            ]
            for i, fut in enumerate(futures, start=1):
                results.append(fut.result())
                if progress:
                    progress(f"{i}/{jobs} files", i, jobs)
    trace.mark("pool_closed")
    order = {s.name: i for i, s in enumerate(sources)}
    results.sort(key=lambda r: order.get(r.source, len(order)))
    return IngestReport(results)


def _one(
    ws: Workspace,
    source: Source,
    sha256: str,
    size: int,
    options: MarketOptions,
    run: Runner,
    aliases: PayerAliases,
) -> FileResult:
    """Read and commit one file: everything or nothing (the ingest service's commit path)."""
    fmt = sniff_market(source.head(), source.suffix)
    problems: list[Problem] = [] if fmt is not None else [_not_market(source)]
    return commit_file(
        ws,
        source,
        sha256=sha256,
        size=size,
        detected=Detected(fmt) if fmt is not None else None,
        chunks=lambda file_id: read_market_file(source, fmt or "", file_id=file_id, options=options, aliases=aliases, run=run),
        problems=problems,
    )


#: TiC files hashed while they are read (a table of contents is small: hashed first)
HASHED_WHILE_READ = ("tic-in-network", "tic-allowed-amounts", "tic-provider-reference")


def _hash_later(sources: list[Source]) -> tuple[list[tuple[Source, str]], list[Source]]:
    """(TiC data files with their format: hashed while read; every other source: hashed first)."""
    later: list[tuple[Source, str]] = []
    now: list[Source] = []
    for source in sources:
        try:
            fmt = sniff_market(source.head(), source.suffix)
        except (OSError, EOFError, ValueError):
            fmt = None  # unreadable: triage records it
        if fmt in HASHED_WHILE_READ:
            later.append((source, fmt))
        else:
            now.append(source)
    return later, now


class _Duplicate(Exception):
    def __init__(self, file_id: str, size: int) -> None:
        super().__init__(file_id)
        self.file_id = file_id
        self.size = size


class _HashFailed(Exception):
    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


class _Hashes:
    """SHA-256 of the batch's big TiC files, each on a thread while the file is read.

    hashlib releases the GIL, so hashing runs beside the reader's index instead of
    before it.  :meth:`verdict` says, once the hash is done, whether file ``i`` is new:
    it is a duplicate when already committed (and not failed) or when an earlier file
    of the batch has the same bytes (as :func:`~parley.services.ingest.triage` decides).
    """

    def __init__(self, ws: Workspace, sources: list[Source], threads: int) -> None:
        manifest = read_manifest(ws.datasets)
        status = dict(
            zip(
                manifest.column("file_id").to_pylist(),
                manifest.column("status").to_pylist(),
                strict=True,
            )
        )
        committed = committed_ids(ws.datasets)
        self.done = {f for f in committed if status.get(f) != "failed"}
        self._pool = ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="sha256")
        self.futures = [self._pool.submit(_traced_digest, s) for s in sources]

    def __enter__(self) -> _Hashes:
        return self

    def __exit__(self, *exc: Any) -> None:
        for fut in self.futures:
            fut.cancel()
        self._pool.shutdown(wait=True)

    def verdict(self, i: int) -> tuple[str, int]:
        """(sha256, size) of file ``i``; raises _Duplicate, or _HashFailed when unreadable."""
        try:
            sha, size = self.futures[i].result()
        except (OSError, EOFError, ValueError) as exc:
            raise _HashFailed(exc) from exc
        if sha[:16] in self.done or any(self._same(j, sha) for j in range(i)):
            raise _Duplicate(sha[:16], size)
        return sha, size

    def _same(self, j: int, sha: str) -> bool:
        try:
            return self.futures[j].result()[0] == sha
        except (OSError, EOFError, ValueError):
            return False


class _Gate:
    """The commit of a file hashed while read, opened once its hash says it is new.

    It is what the reader's workers write into (a :class:`~parley.ingest.tic.reader.PartTarget`):
    :meth:`writer` is asked for once the file is indexed, before any row is written.
    """

    def __init__(self, ws: Workspace, hashes: _Hashes, i: int, aliases: PayerAliases) -> None:
        self.ws = ws
        self.hashes = hashes
        self.i = i
        self.aliases = aliases
        self.sha256 = ""
        self.size = 0
        self.commit: FileCommit | None = None

    def open(self) -> FileCommit:
        if self.commit is None:
            self.sha256, self.size = self.hashes.verdict(self.i)
            self.commit = FileCommit(self.ws.datasets, self.sha256[:16])
        return self.commit

    def writer(self, header: dict[str, Any]) -> PartWriter:
        name = header.get("reporting_entity_name")
        name = None if name is None else str(name)
        payer = self.aliases.mapping([name]).get(name) if name is not None else None
        return self.open().part_writer("market_rates", {"payer": payer})

    def wrote(self, rows: int) -> None:
        self.open().add_rows("market_rates", rows)

    def abort(self) -> None:
        if self.commit is not None:
            self.commit.abort()


def _one_hashing(
    ws: Workspace,
    source: Source,
    fmt: str,
    hashes: _Hashes,
    i: int,
    options: MarketOptions,
    run: Runner,
    aliases: PayerAliases,
) -> FileResult:
    """Read and commit one TiC file while it is hashed: nothing is written before the hash
    says the file is new (the rows only flow once the file is indexed), and a duplicate or
    unreadable file ends as it would have from :func:`~parley.services.ingest.triage`."""
    started = time.perf_counter()
    gate = _Gate(ws, hashes, i, aliases)
    chunks = read_market_file(
        source, fmt, file_id="", options=options, aliases=aliases, run=run, parts=gate
    )
    try:
        first = next(chunks, None)  # the index, the providers and the first rows
        commit = gate.open()
    except _Duplicate as dup:
        chunks.close()
        gate.abort()
        return FileResult(source.name, dup.file_id, "duplicate", bytes=dup.size)
    except _HashFailed as bad:
        chunks.close()
        gate.abort()
        return _unreadable(ws, source, bad.cause)
    except BaseException:
        chunks.close()
        gate.abort()
        raise
    rest = itertools.chain([first] if first is not None else [], chunks)
    try:
        return commit_file(
            ws,
            source,
            sha256=gate.sha256,
            size=gate.size,
            detected=Detected(fmt),
            chunks=lambda _file_id: rest,
            problems=[],
            commit=commit,
            started=started,
        )
    finally:
        trace.mark("file_done")


def read_market_file(
    source: Source,
    fmt: str,
    *,
    file_id: str,
    options: MarketOptions | None,
    aliases: PayerAliases,
    run: Runner | None = None,
    parts: PartTarget | None = None,
) -> Iterator[ParsedChunk]:
    """The one reading path of a price-transparency file, for ``parley market ingest`` and for
    ``parley ingest`` (``options=None``: the shoppable basket, no market filter, with a warning):
    the TiC or hospital reader, then ``market_rates.payer`` from the payer-alias table.
    ``parts``: a commit the reader's workers may write TiC rows into (see
    :func:`~parley.ingest.tic.service_io.read_tic_source`)."""
    if fmt.startswith("tic-") and options is not None:
        from parley.ingest.tic.service_io import read_tic_source

        chunks = read_tic_source(source, fmt, options=options, run=run, arrow=True, parts=parts)
    else:
        chunks = read_market(source, fmt, file_id=file_id, options=options)
    for chunk in chunks:
        frame = chunk.tables.get("market_rates")
        if frame is not None and "payer_name" in (
            frame.column_names if isinstance(frame, pa.Table) else frame.columns
        ):
            chunk.tables["market_rates"] = with_canonical_payer(frame, aliases)
        yield chunk


def with_canonical_payer(frame: pl.DataFrame | pa.Table, aliases: PayerAliases) -> pl.DataFrame | pa.Table:
    """Add ``payer``: the canonical payer of each row's published ``payer_name``.

    An Arrow table (the TiC reader's) stays one: each distinct name is looked up
    once and the rows take their payer by index (no Python work per row)."""
    if isinstance(frame, pa.Table):
        names = frame.column("payer_name")
        distinct = pc.unique(names).drop_null()
        mapping = aliases.mapping(distinct.to_pylist())
        payers = pa.array([mapping.get(v) for v in distinct.to_pylist()], pa.string())
        payer = payers.take(pc.index_in(names, value_set=distinct))
        return frame.append_column("payer", payer)
    import polars as pl

    mapping = aliases.mapping(frame["payer_name"].unique().to_list())
    return frame.with_columns(
        pl.col("payer_name")
        .replace_strict(mapping, default=None, return_dtype=pl.Utf8)
        .alias("payer")
    )


def _not_market(source: Source) -> Problem:
    head = source.head(64)
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped[:1] in (b"{", b"["):
        msg = (
            "JSON, but not a Transparency-in-Coverage or hospital price file (no reporting_entity_name, "
            "in_network, out_of_network, reporting_structure or hospital_name near the start)"
        )
        return Problem("error", "market.not_tic", msg, quarantined=True)
    printable = head[:24].decode("latin-1").encode("unicode_escape").decode()
    return Problem(
        "error",
        "market.not_json",
        f"not JSON nor a hospital CSV (it starts with '{printable}')",
        quarantined=True,
    )


class _Unreadable(ValueError):
    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


def _digest(source: Source) -> tuple[str, int]:
    """SHA-256 of the decompressed bytes; a damaged file says how far it could be read.

    A plain file is hashed straight from its pages (memory-mapped: no copy into a
    buffer, about 15% less CPU than reading it).  A TiC data file is hashed on a
    thread while the reader indexes it (:class:`_Hashes`): the file id must be known
    before any row is written, and rows only flow once the file is indexed.
    """
    import hashlib

    plain = source.local_path()
    if plain is not None:
        return _digest_mapped(plain)
    from parley.ingest.tic.service_io import open_fast

    sha = hashlib.sha256()
    total = 0

    buf = bytearray(4 << 20)  # reused: a fresh 8 MB bytes per read costs its page faults
    view = memoryview(buf)
    try:
        with open_fast(source) as stream:  # ISA-L for .gz when installed (~4x zlib)
            while n := stream.readinto(view):  # type: ignore[attr-defined]
                sha.update(view[:n])
                total += n
    except (OSError, EOFError, ValueError) as exc:
        raise _Unreadable(
            f"byte {total}: cannot be read past this point ({type(exc).__name__}: {exc}) - a truncated download?",
            total,
        ) from exc
    return sha.hexdigest(), total


def _traced_digest(source: Source) -> tuple[str, int]:
    with trace.span("sha256"):
        return _digest(source)


def _digest_mapped(path: Path, window: int = 64 << 20) -> tuple[str, int]:
    """SHA-256 of a plain file from its pages, one 64 MB mapped window at a time (the
    process never holds more than one window of the file)."""
    import hashlib
    import mmap

    sha = hashlib.sha256()
    with open(path, "rb", buffering=0) as handle:
        size = os.fstat(handle.fileno()).st_size
        for at in range(0, size, window):  # window: a multiple of mmap.ALLOCATIONGRANULARITY
            length = min(window, size - at)
            with mmap.mmap(handle.fileno(), length, access=mmap.ACCESS_READ, offset=at) as mapped:
                if hasattr(mapped, "madvise"):
                    mapped.madvise(mmap.MADV_SEQUENTIAL)
                with memoryview(mapped) as view:
                    sha.update(view)  # hashlib releases the GIL
    return sha.hexdigest(), size


def _unreadable(ws: Workspace, source: Source, exc: BaseException) -> FileResult:
    """A source that cannot be hashed: failed, with how far it could be read."""
    offset = exc.offset if isinstance(exc, _Unreadable) else None
    code = "file.truncated" if offset else "file.unreadable"
    message = (
        str(exc)
        if isinstance(exc, _Unreadable)
        else f"cannot be read ({type(exc).__name__}: {exc})"
    )
    return _failed(ws, source, code, message, offset=offset)


def _failed(
    ws: Workspace, source: Source, code: str, message: str, offset: int | None = None
) -> FileResult:
    import hashlib

    fake = hashlib.sha256(f"unreadable:{source.name}".encode()).hexdigest()
    where = f"byte {offset}" if offset is not None else None
    problem = Problem("error", code, message, element=where, quarantined=True)
    commit = FileCommit(ws.datasets, fake[:16])
    try:
        commit.write("problems", problem_rows([problem.as_row()], source_path=source.name))
        commit.commit(
            {
                "sha256": fake,
                "source_path": source.name,
                "source_bytes": 0,
                "format": None,
                "version": None,
                "status": "failed",
                "ingested_at": now_utc(),
                "problem_count": 1,
                "error_count": 1,
                "elapsed_seconds": 0.0,
            }
        )
    except BaseException:
        commit.abort()
        raise
    return FileResult(
        source.name, None, "failed", errors=1, first_problems=[f"{source.name}: {message}"]
    )


def _follow_tocs(
    sources: list[Source], options: MarketOptions, results: list[FileResult]
) -> list[Source]:
    """Sources plus, with --fetch, the files each table of contents lists (downloaded)."""
    import json

    from parley.ingest.tic.remote import download, temp_folder, toc_entries

    out = list(sources)
    if not options.fetch_urls:
        return out
    for source in sources:
        if sniff_market(source.head(), source.suffix) != "tic-toc":
            continue
        try:
            with source.open() as stream:
                doc = json.loads(stream.read())
        except (ValueError, OSError, EOFError):
            continue
        folder = temp_folder()
        for entry in toc_entries(doc if isinstance(doc, dict) else {}):
            url = entry.get("location") or ""
            try:
                out.append(Source(download(url, folder, options.url_timeout)))
            except (OSError, ValueError) as exc:
                results.append(
                    FileResult(
                        url,
                        None,
                        "failed",
                        errors=1,
                        first_problems=[f"{url}: listed in {source.name}, download failed ({exc})"],
                    )
                )
    return out


def benchmark(
    *,
    workspace: Workspace,
    payer: str,
    percentile: float = 75.0,
    codes: Sequence[str] = (),
    year: int = 2025,
    registry: Path | None = None,
) -> dict[str, Any]:
    """``parley benchmark PAYER``: the market distribution, our position, the opportunity.

    ``registry`` (an NPI registry extract) gives provider taxonomies: provider
    types in the breakdown and the taxonomy plausibility rule.
    """
    from parley.engine.market import payer_benchmark

    taxonomy = registry_market(registry).taxonomy if registry is not None else None
    aliases = load_payer_aliases(workspace.refdata_dir)
    return payer_benchmark(
        workspace.connect(),
        payer=payer,
        percentile=percentile,
        codes=list(codes) or None,
        year=year,
        practice_zip=workspace.settings.practice_zip,
        taxonomy=taxonomy,
        aliases=aliases,
    )


def payer_names(*, workspace: Workspace, names: Sequence[str] = ()) -> dict[str, Any]:
    """How payer names resolve: the given names, or every name in market_rates and remittances.

    One row per published name: where it was seen, its canonical payer, the
    alias that decided it (and whether that alias is packaged or from the
    workspace file) - what to check before editing the alias file.
    """
    aliases = load_payer_aliases(workspace.refdata_dir)
    seen: list[tuple[str, str]] = [(n, "given") for n in names]
    if not names:
        seen = _published_names(workspace)
    rows = []
    for name, where in seen:
        hit = aliases.match(name)
        rows.append(
            {
                "name": name,
                "seen_in": where,
                "payer": aliases.canonical(name),
                "alias": hit.alias if hit else None,
                "alias_origin": hit.origin if hit else None,
            }
        )
    return {
        "workspace_file": str(workspace.refdata_dir / ALIAS_FILE),
        "workspace_file_exists": aliases.workspace_file is not None,
        "names": rows,
    }


def _published_names(ws: Workspace) -> list[tuple[str, str]]:
    import duckdb

    con = ws.connect()
    out: list[tuple[str, str]] = []
    try:
        for table, label in (("market_rates", "market_rates"), ("remit_claims", "remittances")):
            try:
                found = con.execute(
                    f"SELECT DISTINCT payer_name FROM {table} WHERE payer_name IS NOT NULL ORDER BY 1"
                ).fetchall()
            except duckdb.Error:
                continue
            out += [(str(r[0]), label) for r in found]
    finally:
        con.close()
    return out
