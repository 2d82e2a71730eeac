"""The workspace's datasets: Parquet per canonical table, committed atomically per file.

Layout::

    datasets/<table>/<file_id>/part-00000.parquet   one folder per source file
    datasets/manifest/<file_id>/part-00000.parquet  the commit record, written last
    datasets/.staging/<file_id>/...                 work in progress

A :class:`FileCommit` writes every chunk of one source file under
``.staging``; :meth:`FileCommit.commit` renames each table folder into place
and writes the manifest row last.  Readers only see rows whose ``file_id`` is
in the manifest, so a crash, an exception or Ctrl-C at any point leaves
nothing half-written: the staging folder is swept on the next run and an
orphaned table folder (renamed before the crash, manifest not yet written) is
invisible and replaced when the file is ingested again.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import shutil
import uuid
from collections import deque
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from parley.store.tables import ALL_TABLES, MANIFEST, PROBLEMS, schema

if TYPE_CHECKING:  # frames arrive as Polars or Arrow; pool workers writing parts import no Polars
    import polars as pl

STAGING = ".staging"


def conform(table: str, frame: pl.DataFrame | pa.Table, *, file_id: str) -> pa.Table:
    """Cast a frame to the canonical schema: add missing columns as nulls, order, type.

    A string column that arrives as Arrow string views (Polars' own layout; the 835 reader's
    columns point into the X12 bytes) stays one: the Parquet writer takes views as they are
    and the file reads back as plain strings (835 tables: one copy of every string less).
    Other string layouts become ``string``.
    """
    target = schema(table)
    arrow = frame if isinstance(frame, pa.Table) else _to_arrow(frame)
    n = arrow.num_rows
    columns = []
    fields = []
    for fld in target:
        if fld.name == "file_id":
            col = _constant(file_id, n)
        elif fld.name in arrow.column_names:
            col = arrow.column(fld.name)
            if pa.types.is_string(fld.type) and pa.types.is_string_view(col.type):
                fld = fld.with_type(col.type)
            elif pa.types.is_large_string(col.type) or pa.types.is_string_view(col.type):
                col = col.cast(pa.string())
            if col.type != fld.type:
                col = col.cast(fld.type)
        else:
            col = pa.nulls(n, fld.type)
        columns.append(col)
        fields.append(fld)
    return pa.Table.from_arrays(columns, schema=pa.schema(fields, metadata=target.metadata))


def plain_strings(table: pa.Table) -> pa.Table:
    """``table`` with its string-view columns as ``string`` (one schema for parts to join)."""
    if not any(pa.types.is_string_view(f.type) for f in table.schema):
        return table
    return table.cast(
        pa.schema(
            [f.with_type(pa.string()) if pa.types.is_string_view(f.type) else f for f in table.schema],
            metadata=table.schema.metadata,
        )
    )


def _to_arrow(frame: pl.DataFrame) -> pa.Table:
    """A Polars frame as Arrow.  When every column is of a plain type (strings, numbers,
    decimals, dates, booleans), strings leave as Polars holds them (string views, no copy):
    the cast to ``string`` in :func:`conform` is then their only copy, instead of Polars'
    default export to ``large_string`` and that cast (835 tables: ~30% less CPU)."""
    import polars as pl

    plain = all(
        dtype == pl.String
        or dtype == pl.Boolean
        or dtype == pl.Date
        or dtype == pl.Null
        or dtype.is_integer()
        or dtype.is_float()
        or isinstance(dtype, pl.Decimal)
        for dtype in frame.dtypes
    )
    return frame.to_arrow(compat_level=pl.CompatLevel.newest()) if plain else frame.to_arrow()


def _constant(text: str, n: int) -> pa.Array:
    """A string column of ``n`` copies of ``text``, built from buffers (no Python list)."""
    raw = text.encode()
    offsets = np.arange(n + 1, dtype=np.int32) * len(raw)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(raw * n))


@functools.cache
def schema_tag(table: str) -> str:
    """A short fingerprint of a table's canonical schema, carried in each part file's name.

    Readers bind a view from one file when every part carries the current tag (cheap),
    and fall back to reading every footer (``union_by_name``) when schemas differ, e.g.
    files written by an older version of Parley.
    """
    text = schema(table).to_string(show_field_metadata=False, show_schema_metadata=False)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def part_tags(files: Iterable[Path]) -> set[str]:
    """The schema tags of part files (``part-00000.<tag>.parquet``; untagged files give '')."""
    return {(f.name.split(".")[1] if f.name.count(".") == 2 else "") for f in files}


def table_dir(datasets: Path, table: str) -> Path:
    return datasets / table


#: claim, remittance and market-rate tables: their numbers, dates and row ids are nearly all
#: distinct, so only their repetitive string columns are dictionary-encoded (smaller files,
#: written in about two thirds of the time of dictionary-everything; market rates: encoding
#: 1.40 -> 1.10 CPU-s and 10.0 -> 8.7 MB per million rates)
STRING_DICTIONARY_TABLES = frozenset(
    {"remittances", "remit_claims", "remit_lines", "adjustments", "provider_adjustments",
     "claims", "claim_lines", "diagnoses", "market_rates"}
)
_ROW_IDS = frozenset({"claim_id", "payer_claim_number", "patient_key", "line_control_number"})


#: the X12 tables (835 and 837) keep min/max statistics only on their integer, date and boolean
#: columns and these key strings: statistics on every money and free-text column cost about a
#: fifth of the encoding time (835 tables: 0.57 -> 0.46 CPU-s per 50 MB of X12, same file
#: size) and no query prunes row groups on them
X12_STATISTICS_TABLES = frozenset(
    {"remittances", "remit_claims", "remit_lines", "adjustments", "provider_adjustments",
     "claims", "claim_lines", "diagnoses"}
)
_STATISTICS_STRINGS = frozenset(
    {"file_id", "claim_id", "payer_claim_number", "payer_id", "status_code", "procedure_code",
     "reason_code", "group_code"}
)


def write_parquet(
    table: pa.Table,
    path: Path,
    *,
    dictionary: bool | list[str] = True,
    statistics: bool | list[str] = True,
    encodings: dict[str, str] | None = None,
) -> None:
    """One Parquet file as Parley writes them (zstd; decimals stored as integers).

    A table with string-view columns is written without its Arrow schema in the footer, so
    that every reader sees those columns as the plain strings of the canonical schema (the
    Parquet types alone round-trip the canonical tables' types; only the manifest has a
    time zone, and it has no views).
    """
    pq.write_table(
        table,
        path,
        compression="zstd",
        store_schema=not any(pa.types.is_string_view(f.type) for f in table.schema),
        store_decimal_as_integer=True,
        use_dictionary=dictionary,
        write_statistics=statistics,
        column_encoding=encodings or None,
    )


def delta_columns(name: str, table: pa.Table) -> dict[str, str]:
    """The X12 tables' integer, date and decimal columns, delta-encoded (none elsewhere).

    Row numbers, dates and cents are delta-bit-packed before zstd: 835 tables encode in
    about 12% less CPU into files about 10% smaller than plain + zstd.
    """
    if name not in X12_STATISTICS_TABLES:
        return {}
    return {
        f.name: "DELTA_BINARY_PACKED"
        for f in table.schema
        if pa.types.is_integer(f.type) or pa.types.is_date32(f.type) or pa.types.is_decimal(f.type)
    }


def write_options(name: str, table: pa.Table) -> dict[str, Any]:
    """:func:`write_parquet` keywords for one canonical table."""
    return {
        "dictionary": dictionary_columns(name, table),
        "statistics": statistics_columns(name, table),
        "encodings": delta_columns(name, table),
    }


def statistics_columns(name: str, table: pa.Table) -> bool | list[str]:
    """Which columns of a canonical table carry min/max statistics (True: all)."""
    if name not in X12_STATISTICS_TABLES:
        return True
    return [
        f.name
        for f in table.schema
        if f.name in _STATISTICS_STRINGS or not (_is_text(f.type) or pa.types.is_decimal(f.type))
    ]


def dictionary_columns(name: str, table: pa.Table) -> bool | list[str]:
    """Which columns of a canonical table to dictionary-encode (True: all)."""
    if name not in STRING_DICTIONARY_TABLES:
        return True
    return [f.name for f in table.schema if _is_text(f.type) and f.name not in _ROW_IDS]


def _is_text(dtype: pa.DataType) -> bool:
    return pa.types.is_string(dtype) or pa.types.is_string_view(dtype)


#: a :class:`FileCommit` writes a table's chunks as one part once they hold this many bytes
#: (in memory) or rows: 32 MB is about four 8 MB batches of 835 service lines
PART_BYTES = 32 << 20
PART_ROWS = 1 << 20


def frame_size(frame: pl.DataFrame | pa.Table) -> tuple[int, int]:
    """(rows, bytes in memory) of a chunk."""
    if isinstance(frame, pa.Table):
        return frame.num_rows, frame.nbytes
    return frame.height, frame.estimated_size()


def write_frames(table: str, frames: list[Any], path: Path, *, file_id: str) -> int:
    """Chunks of one table (Polars or Arrow), conformed and written as one Parquet part."""
    parts = [conform(table, frame, file_id=file_id) for frame in frames]
    if any(p.schema != parts[0].schema for p in parts[1:]):
        parts = [plain_strings(p) for p in parts]
    arrow = parts[0] if len(parts) == 1 else pa.concat_tables(parts)
    write_parquet(arrow, path, **write_options(table, arrow))
    return arrow.num_rows


@dataclass(frozen=True)
class PartWriter:
    """Writes parts of one table of one :class:`FileCommit`, in any process of this machine.

    ``writer(rows, part)`` conforms ``rows`` (with the ``constants`` columns added) and
    writes ``part-wNNNNN.<tag>.parquet`` in the commit's staging folder; it returns the
    number of rows.  Part numbers are the caller's (one per task): ``w`` keeps them apart
    from the commit's own parts.  Nothing is visible until the commit.
    """

    folder: str
    table: str
    file_id: str
    constants: tuple[tuple[str, str | None], ...] = ()

    def __call__(self, rows: pa.Table, part: int) -> int:
        for name, value in self.constants:
            if name not in rows.column_names:
                rows = rows.append_column(name, _text_column(value, rows.num_rows))
        path = Path(self.folder) / f"part-w{part:05d}.{schema_tag(self.table)}.parquet"
        return write_frames(self.table, [rows], path, file_id=self.file_id)  # as FileCommit writes


def _text_column(value: str | None, n: int) -> pa.Array:
    return pa.nulls(n, pa.string()) if value is None else _constant(value, n)


@dataclass
class FileCommit:
    """Writes one source file's rows aside, then commits them all at once.

    Chunks of a table are held until they add up to ``part_bytes`` (or ``part_rows``),
    then encoded and written as one part on two background threads (Arrow releases the
    GIL), so parsing the next chunks overlaps writing the last.  Fewer, larger parts
    cost less to encode (835 tables: about a fifth less than one part per 8 MB batch)
    and to scan.  At most ``max_pending`` parts wait to be written, which keeps memory
    bounded.
    """

    datasets: Path
    file_id: str
    max_pending: int = 2
    part_bytes: int = PART_BYTES
    part_rows: int = PART_ROWS
    counts: dict[str, int] = field(default_factory=dict)
    _parts: dict[str, int] = field(default_factory=dict)
    _held: dict[str, list[Any]] = field(default_factory=dict)
    _held_size: dict[str, tuple[int, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.staging = self.datasets / STAGING / f"{self.file_id}-{uuid.uuid4().hex[:8]}"
        self.staging.mkdir(parents=True, exist_ok=False)
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="parquet")
        self._pending: deque[Future[None]] = deque()

    def write(self, table: str, frame: pl.DataFrame | pa.Table) -> None:
        """Append a chunk of rows for one table (an empty frame writes nothing)."""
        if table not in ALL_TABLES:
            raise KeyError(f"unknown canonical table {table!r}")
        rows, size = frame_size(frame)
        if not rows:
            return
        self.counts[table] = self.counts.get(table, 0) + rows
        self._held.setdefault(table, []).append(frame)
        held_rows, held_bytes = self._held_size.get(table, (0, 0))
        held_rows, held_bytes = held_rows + rows, held_bytes + size
        self._held_size[table] = (held_rows, held_bytes)
        if held_rows >= self.part_rows or held_bytes >= self.part_bytes:
            self._flush(table)

    def _flush(self, table: str) -> None:
        """Send the held chunks of ``table`` to be written as one part."""
        frames = self._held.pop(table, [])
        self._held_size.pop(table, None)
        if not frames:
            return
        part = self._parts.get(table, 0)
        self._parts[table] = part + 1
        folder = self.staging / table
        folder.mkdir(exist_ok=True)
        while len(self._pending) >= self.max_pending:
            self._pending.popleft().result()
        path = folder / f"part-{part:05d}.{schema_tag(table)}.parquet"
        self._pending.append(self._pool.submit(self._write_part, table, frames, path))

    def part_writer(self, table: str, constants: dict[str, str | None] | None = None) -> PartWriter:
        """A writer of this commit's parts of ``table`` that other processes can run (it
        pickles): a reader's workers write their rows straight into the staging folder,
        instead of sending them back to be written here.  Count them with :meth:`add_rows`."""
        if table not in ALL_TABLES:
            raise KeyError(f"unknown canonical table {table!r}")
        folder = self.staging / table
        folder.mkdir(exist_ok=True)
        return PartWriter(str(folder), table, self.file_id, tuple((constants or {}).items()))

    def add_rows(self, table: str, rows: int) -> None:
        """Count rows written by :meth:`part_writer`'s writers (the manifest's record counts)."""
        if rows:
            self.counts[table] = self.counts.get(table, 0) + rows

    def _write_part(self, table: str, frames: list[Any], path: Path) -> None:
        write_frames(table, frames, path, file_id=self.file_id)

    def flush(self) -> None:
        """Write every held chunk now (staged, not yet committed) and wait for the writes."""
        for table in list(self._held):
            self._flush(table)
        while self._pending:
            self._pending.popleft().result()

    def _drain(self) -> None:
        try:
            self.flush()
        finally:
            self._held.clear()
            self._held_size.clear()
            self._pool.shutdown(wait=True, cancel_futures=True)

    def commit(self, manifest_row: dict[str, Any]) -> None:
        """Move every table into place, then write the manifest row (the commit point)."""
        self._drain()
        for folder in sorted(p for p in self.staging.iterdir() if p.is_dir()):
            target = table_dir(self.datasets, folder.name) / self.file_id
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                shutil.rmtree(target)
            folder.rename(target)
        row = {**manifest_row, "file_id": self.file_id, "record_counts": json.dumps(self.counts, sort_keys=True)}
        manifest = pa.Table.from_pylist([row], schema=MANIFEST.schema)
        mdir = self.staging / "manifest-commit"
        mdir.mkdir()
        write_parquet(manifest, mdir / f"part-00000.{schema_tag(MANIFEST.name)}.parquet")
        target = table_dir(self.datasets, MANIFEST.name) / self.file_id
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            shutil.rmtree(target)
        mdir.rename(target)
        shutil.rmtree(self.staging, ignore_errors=True)

    def abort(self) -> None:
        self._held.clear()  # rows not yet sent are dropped, not written
        self._held_size.clear()
        with contextlib.suppress(Exception):  # aborting anyway: the staging folder goes
            self._drain()
        shutil.rmtree(self.staging, ignore_errors=True)


def sweep_staging(datasets: Path) -> int:
    """Remove work left behind by an interrupted run; returns how many folders."""
    root = datasets / STAGING
    if not root.exists():
        return 0
    leftovers = [p for p in root.iterdir()]
    for p in leftovers:
        shutil.rmtree(p, ignore_errors=True)
    return len(leftovers)


def remove_file(datasets: Path, file_id: str) -> None:
    """Forget one source file: manifest first (it becomes invisible), then its rows."""
    for name in [MANIFEST.name, *(t for t in ALL_TABLES if t != MANIFEST.name)]:
        shutil.rmtree(table_dir(datasets, name) / file_id, ignore_errors=True)


def read_manifest(datasets: Path) -> pa.Table:
    files = sorted((datasets / MANIFEST.name).glob("*/part-*.parquet"))
    if not files:
        return MANIFEST.schema.empty_table()
    return pa.concat_tables(pq.read_table(f, schema=MANIFEST.schema) for f in files)


def committed_ids(datasets: Path) -> set[str]:
    tagged = f"part-00000.{schema_tag(MANIFEST.name)}.parquet"
    return {p.name for p in (datasets / MANIFEST.name).glob("*")
            if (p / tagged).exists() or any(p.glob("part-*.parquet"))}


def problem_rows(problems: Iterable[dict[str, Any]], *, source_path: str) -> pa.Table:
    rows = [{**p, "source_path": source_path} for p in problems]
    return pa.Table.from_pylist(rows, schema=PROBLEMS.schema) if rows else PROBLEMS.schema.empty_table()


def now_utc() -> datetime:
    return datetime.now(UTC)
