"""Price-transparency files: payers' Transparency in Coverage (TiC) and hospitals' standard charges.

The two entry points the ingest service uses:

* :func:`sniff_market` - is this file TiC or a hospital file, from its first bytes;
* :func:`read_market` - read it into ``market_rates`` chunks, problems as data.

TiC schema 1.x (inline provider groups, remote provider-reference files,
float group ids) and 2.x; in-network rates, allowed amounts, tables of
contents and provider-reference files; plain or gzip.  Hospital files: CMS
template CSV (tall and wide) and JSON, 2.x and 3.0 (:mod:`parley.ingest.hpt`).
See docs/market.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from parley.ingest.base import ParsedChunk, Problem
from parley.ingest.tic.options import Market, MarketOptions, shoppable_codes

if TYPE_CHECKING:  # Polars only for finish(): the pool's workers never import it
    import polars as pl

__all__ = ["Market", "MarketOptions", "sniff_market", "read_market", "shoppable_codes"]

TIC_FORMATS = ("tic-in-network", "tic-allowed-amounts", "tic-toc", "tic-provider-reference")
HPT_FORMATS = ("hpt-csv", "hpt-json")
_TIC_KEYS = (
    b'"reporting_entity_name"',
    b'"in_network"',
    b'"provider_references"',
    b'"out_of_network"',
    b'"reporting_structure"',
)


def sniff_market(source_head: bytes, suffix: str) -> str | None:
    """The market format of a file from its first bytes, or None when it is not one."""
    head = source_head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head[:1] == b"{":
        if b'"hospital_name"' in head or b'"standard_charge_information"' in head:
            return "hpt-json"
        if b'"reporting_structure"' in head:
            return "tic-toc"
        if b'"out_of_network"' in head:
            return "tic-allowed-amounts"
        if any(k in head for k in _TIC_KEYS):
            return "tic-in-network"
        if b'"provider_groups"' in head:
            return "tic-provider-reference"
        return None
    if suffix in (".csv", ".txt", ".tsv"):
        from parley.ingest.hpt.csv_reader import looks_like_hpt_csv

        return "hpt-csv" if looks_like_hpt_csv(head) else None
    return None


def read_market(
    source: Any,
    detected_format: str,
    *,
    file_id: str,
    hasher: Any = None,
    options: MarketOptions | None = None,
) -> Iterator[ParsedChunk]:
    """Read one market file into ``market_rates`` chunks (hasher unused: no patient data).

    Without options the basket is the CMS shoppable services list and the
    market is everyone (a warning says so); ``parley market ingest`` passes the
    organisation's basket and market.
    """
    problems: list[Problem] = []
    if options is None:
        options = MarketOptions(codes=shoppable_codes())
        problems.append(
            Problem(
                "warning",
                "market.default_basket",
                "read with the CMS shoppable-services code basket and no market filter; "
                "'parley market ingest' uses your billed codes and market",
            )
        )
    if detected_format in HPT_FORMATS:
        from parley.ingest.hpt import read_hpt

        yield from read_hpt(source, detected_format, options=options, extra_problems=problems)
        return
    from parley.ingest.tic.service_io import read_tic_source

    yield from read_tic_source(source, detected_format, options=options, extra_problems=problems)


def finish(table: pa.Table, header: dict[str, Any], source_kind: str, seq0: int) -> pl.DataFrame:
    """Add the file-level columns (payer, plan, version...) and the row numbers (Polars)."""
    return as_frame(finish_arrow(table, header, source_kind, seq0))


def as_frame(table: pa.Table) -> pl.DataFrame:
    """A Polars frame of finished rows (Polars imported here only: workers never need it)."""
    import polars as pl

    df = pl.from_arrow(table)
    assert isinstance(df, pl.DataFrame)
    return df


def finish_arrow(table: pa.Table, header: dict[str, Any], source_kind: str, seq0: int) -> pa.Table:
    """:func:`finish` in Arrow, with the store's types (``string``, ``date32``, ``int64``).

    The writer then stores the columns as they are: a Polars frame would reach
    it as ``string_view`` columns, whose cast back to ``string`` copied every
    string (about 2.2 CPU-s per million rates, more than the Parquet encoding).
    The file-level columns are built from buffers, without a Python list.
    """
    n = table.num_rows
    names: list[str] = []
    columns: list[pa.Array | pa.ChunkedArray] = []
    for name, col in zip(table.column_names, table.columns, strict=True):
        if name == "npi":
            name, col = "provider_npi", col.cast(pa.string())
        elif name == "tin_value":
            name = "provider_tin"
        if pa.types.is_large_string(col.type) or pa.types.is_string_view(col.type):
            col = col.cast(pa.string())
        names.append(name)
        columns.append(col)
    consts = {
        "source": source_kind,
        "schema_version": _s(header.get("version")),
        "payer_name": _s(header.get("reporting_entity_name")),
        "reporting_entity_type": _s(header.get("reporting_entity_type")),
        "plan_name": _s(header.get("plan_name")),
        "plan_id": _s(header.get("plan_id")),
        "plan_id_type": _s(header.get("plan_id_type")),
        "plan_market_type": _s(header.get("plan_market_type")),
        "issuer_name": _s(header.get("issuer_name")),
    }
    for key, value in consts.items():
        if key not in names:
            names.append(key)
            columns.append(constant_string(value, n))
    updated = _date(header.get("last_updated_on"))
    names.append("last_updated_on")
    columns.append(
        pa.nulls(n, pa.date32())
        if updated is None
        else pa.array(np.full(n, (updated - _EPOCH).days, np.int32)).view(pa.date32())
    )
    names.append("rate_seq")
    columns.append(pa.array(np.arange(seq0, seq0 + n, dtype=np.int64)))
    # one contiguous chunk per column: the reader's slices would keep their parent
    # batches alive in the writer's queue, and many small chunks encode slower
    return pa.Table.from_arrays(columns, names=names).combine_chunks()


_EPOCH = date(1970, 1, 1)


def constant_string(text: str | None, n: int) -> pa.Array:
    """``n`` copies of ``text`` (None: nulls) as an Arrow ``string`` array, from buffers."""
    if text is None:
        return pa.nulls(n, pa.string())
    raw = text.encode()
    if n * len(raw) >= 1 << 31:  # past 32-bit offsets: one value, taken n times
        return pa.array([text], pa.string()).take(np.zeros(n, np.int64))
    offsets = np.arange(n + 1, dtype=np.int32) * len(raw)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(raw * n))


def _s(value: Any) -> str | None:
    return None if value is None else str(value)


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def problem_from(row: dict[str, Any]) -> Problem:
    """A problem dict from a worker -> Problem."""
    return Problem(
        severity=row.get("severity", "error"),
        code=row.get("code", "tic.problem"),
        message=row.get("message", ""),
        element=row.get("element"),
        row=row.get("row"),
        column=row.get("column"),
        quarantined=bool(row.get("quarantined", False)),
    )
