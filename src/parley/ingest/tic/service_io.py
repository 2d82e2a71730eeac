"""One TiC source (plain, gzip, zip member) -> ParsedChunks of ``market_rates``.

Chooses the path (plain file: parallel index; anything else: stream), owns
the runner for the file, turns reader errors into problems with the byte
offset, and adds the file-level columns.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from parley.ingest.base import ParsedChunk, Problem
from parley.ingest.tic import as_frame, finish_arrow, problem_from
from parley.ingest.tic.options import MarketOptions
from parley.ingest.tic.parallel import Runner, runner
from parley.ingest.tic.reader import (
    FileOutput,
    PartTarget,
    RowSink,
    SinkFor,
    TicError,
    check_header,
    read_plain,
    read_stream,
)
from parley.ingest.tic.remote import toc_entries

MAX_TOC_BYTES = 256 << 20
SOURCE_KIND = {
    "tic-in-network": "tic-in-network",
    "tic-allowed-amounts": "tic-allowed-amounts",
    "tic-provider-reference": "tic-in-network",
}


def open_fast(source: Any) -> IO[bytes]:
    """Open a source, with ISA-L gzip (about 4x Python's) when it is installed."""
    if getattr(source, "member", None) is None and getattr(source, "is_gzip", False):
        try:
            from isal import igzip
        except ImportError:
            return source.open()  # type: ignore[no-any-return]
        return igzip.open(source.path, "rb")  # type: ignore[no-any-return, no-untyped-call]
    return source.open()  # type: ignore[no-any-return]


def read_tic_source(
    source: Any,
    detected_format: str,
    *,
    options: MarketOptions,
    extra_problems: list[Problem] | None = None,
    run: Runner | None = None,
    arrow: bool = False,
    parts: PartTarget | None = None,
) -> Iterator[ParsedChunk]:
    """The chunks of one TiC source: ``market_rates`` as Polars frames or, with ``arrow``,
    as Arrow tables already in the store's types (what ``parley market ingest`` commits:
    :class:`~parley.store.datasets.FileCommit` writes them without a conversion, where a
    Polars frame's ``string_view`` columns cost a copy of every string).

    With ``parts`` and a local process pool, a plain file's rows are written by the
    processes that read them, into ``parts``' commit (:class:`~parley.ingest.tic.reader.RowSink`):
    no rows cross back to this process, which only hears how many there were."""
    problems = list(extra_problems or [])
    if detected_format == "tic-toc":
        yield ParsedChunk(problems=problems + _toc_problems(source))
        return
    output = FileOutput()
    seq = 0
    done = 0
    try:
        with _maybe_runner(run, options) as active:
            kind = SOURCE_KIND.get(detected_format, "tic-in-network")
            sink_for = _sink_for(parts, kind) if parts is not None and active.shares_files else None
            for table in _tables(source, options, active, output, sink_for):
                frame = finish_arrow(
                    table, output.header, SOURCE_KIND.get(detected_format, "tic-in-network"), seq
                )
                seq += frame.num_rows
                done += frame.num_rows
                rates: Any = frame if arrow else as_frame(frame)
                yield ParsedChunk(tables={"market_rates": rates})
        if parts is not None and output.written:
            parts.wrote(output.written)
            done += output.written
    except TicError as exc:
        where = f"byte {exc.offset}" if exc.offset is not None else None
        problems.append(
            Problem(
                "error",
                exc.code,
                f"{where + ': ' if where else ''}{exc}",
                element=where,
                quarantined=True,
            )
        )
    problems.extend(problem_from(p) for p in output.problems)
    if not done and not any(p.severity == "error" for p in problems):
        problems.append(
            Problem(
                "warning",
                "market.no_rates",
                "no rates matched the code basket and market in this file",
            )
        )
    yield ParsedChunk(problems=problems)


class _maybe_runner:
    def __init__(self, run: Runner | None, options: MarketOptions) -> None:
        self.run = run
        self.options = options
        self._cm: Any = None

    def __enter__(self) -> Runner:
        if self.run is not None:
            return self.run
        self._cm = runner(workers=self.options.workers, scheduler=self.options.scheduler)
        return self._cm.__enter__()  # type: ignore[no-any-return]

    def __exit__(self, *exc: Any) -> None:
        if self._cm is not None:
            self._cm.__exit__(*exc)


def _sink_for(parts: PartTarget, source_kind: str) -> SinkFor:
    def sink_for(header: dict[str, Any]) -> RowSink | None:
        write = parts.writer(header)
        return RowSink(write, header, source_kind) if write is not None else None

    return sink_for


def _tables(
    source: Any,
    options: MarketOptions,
    run: Runner,
    output: FileOutput,
    sink_for: SinkFor | None = None,
) -> Iterator[Any]:
    plain = source.local_path() if hasattr(source, "local_path") else None
    if plain is not None:
        size = Path(plain).stat().st_size
        yield from read_plain(Path(plain), size, options, run, output, sink_for)
        return
    if options.spool_dir is not None:
        yield from _spooled(source, options, run, output, sink_for)
        return
    with open_fast(source) as stream:
        yield from read_stream(stream, options, run, output)


def _spooled(
    source: Any,
    options: MarketOptions,
    run: Runner,
    output: FileOutput,
    sink_for: SinkFor | None = None,
) -> Iterator[Any]:
    """Decompress to a temporary plain file, then read it in parallel (deleted afterwards)."""
    folder = Path(tempfile.mkdtemp(prefix="parley-gunzip-", dir=options.spool_dir))
    try:
        target = folder / "file.json"
        offset = 0
        with open_fast(source) as stream, open(target, "wb") as out:
            try:
                while block := stream.read(16 << 20):
                    out.write(block)
                    offset += len(block)
            except (EOFError, OSError) as exc:
                raise TicError(
                    "file.truncated",
                    f"the compressed stream is damaged or truncated ({exc})",
                    offset,
                ) from exc
        yield from read_plain(target, offset, options, run, output, sink_for)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _toc_problems(source: Any) -> list[Problem]:
    """A table of contents holds no rates: say what it lists and how to follow it."""
    try:
        with open_fast(source) as stream:
            raw = stream.read(MAX_TOC_BYTES + 1)
        doc = json.loads(raw)
        check_header(doc)
    except TicError as exc:
        return [Problem("error", exc.code, str(exc), quarantined=True)]
    except (ValueError, OSError, EOFError) as exc:
        return [
            Problem(
                "error",
                "tic.bad_toc",
                f"the table of contents is not valid JSON ({exc})",
                quarantined=True,
            )
        ]
    entries = toc_entries(doc) if isinstance(doc, dict) else []
    return [
        Problem(
            "warning",
            "tic.toc",
            f"table of contents listing {len(entries)} files; "
            "'parley market ingest TOC --fetch' downloads and reads them",
        )
    ]
