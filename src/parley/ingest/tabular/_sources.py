"""Row sources: a CSV or Excel file as a header plus batches of text cells.

A source yields Polars frames whose columns are the file's header names,
every cell as text (never inferred: '00123' stays '00123', '1,234.50' stays
text until the money parser sees it), plus ``_row``, the 1-based row number
in the file counting the header and any preamble rows (for CSV, records:
a quoted cell spanning several lines counts once).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import itertools
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl

from parley.ingest.base import Problem
from parley.ingest.tabular.mapping import Format

ROW = "_row"
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
CSV_SUFFIXES = {".csv", ".tsv", ".txt"}
DELIMITERS = (",", ";", "\t", "|")
_BLOCK = 1 << 22


class SourceFailed(Exception):
    """The file cannot be read at all; carries the one Problem to report."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


@dataclass
class RowSource:
    """A readable file: its header, its batches, and problems found opening it."""

    header: list[str]
    batches: Iterator[pl.DataFrame]
    header_row: int
    problems: list[Problem] = field(default_factory=list)
    size: int = 0
    bytes_per_row: float = 0.0
    cleanup: list[Path] = field(default_factory=list)

    def close(self) -> None:
        for p in self.cleanup:
            p.unlink(missing_ok=True)


def fail(path: Path, code: str, message: str, **where: Any) -> SourceFailed:
    return SourceFailed(Problem("error", code, f"{path.name}: {message}", **where))


def open_source(path: Path, fmt: Format, *, chunk_rows: int) -> RowSource:
    """Open a CSV or Excel file; SourceFailed when nothing can be read."""
    if path.suffix.lower() in EXCEL_SUFFIXES:
        return _open_excel(path, fmt, chunk_rows=chunk_rows)
    return _open_csv(path, fmt, chunk_rows=chunk_rows)


# --------------------------------------------------------------------------- CSV


def _open_csv(path: Path, fmt: Format, *, chunk_rows: int) -> RowSource:
    size = path.stat().st_size
    if size == 0 or not _has_content(path):
        raise fail(
            path,
            "tabular.empty_file",
            "the file is empty; export it again with a header row and data rows",
        )
    readable, problems, cleanup = _utf8_copy(path, fmt.encoding)
    delimiter = fmt.delimiter or ("\t" if path.suffix.lower() == ".tsv" else ",")
    options: dict[str, Any] = {
        "separator": delimiter,
        "quote_char": fmt.quote_char,
        "skip_rows": fmt.header_row - 1,
        "infer_schema": False,
        "truncate_ragged_lines": True,
        "raise_if_empty": False,
    }
    try:
        header = pl.scan_csv(readable, n_rows=0, **options).collect_schema().names()
    except (pl.exceptions.PolarsError, OSError) as exc:
        for p in cleanup:
            p.unlink(missing_ok=True)
        raise fail(
            path,
            "tabular.unreadable",
            f"cannot read the header row {fmt.header_row} ({_short(exc)})",
            row=fmt.header_row,
        ) from None
    if not header:
        for p in cleanup:
            p.unlink(missing_ok=True)
        raise fail(
            path,
            "tabular.empty_file",
            f"the file has no row {fmt.header_row} (the header row); check format.header_row",
            row=fmt.header_row,
        )
    lf = pl.scan_csv(readable, row_index_name=ROW, row_index_offset=fmt.header_row + 1, **options)
    header = [h.lstrip("\ufeff") for h in header]
    return RowSource(
        header=header,
        batches=_csv_batches(path, readable, lf, fmt, header, chunk_rows, problems),
        header_row=fmt.header_row,
        problems=problems,
        size=size,
        bytes_per_row=_bytes_per_row(path),
        cleanup=cleanup,
    )


def _csv_batches(
    path: Path,
    readable: Path,
    lf: pl.LazyFrame,
    fmt: Format,
    header: list[str],
    chunk_rows: int,
    problems: list[Problem],
) -> Iterator[pl.DataFrame]:
    """Polars batches; on malformed quoting, the rest through Python's tolerant csv module."""
    done = 0
    try:
        for batch in lf.collect_batches(chunk_size=chunk_rows):
            done += batch.height
            yield batch.with_columns(pl.col(ROW).cast(pl.Int64))
        return
    except pl.exceptions.PolarsError as exc:
        near = re.search(r"at column '([^']*)'", str(exc))
        where = f" near column '{near.group(1)}'" if near else ""
    problems.append(
        Problem(
            "warning",
            "tabular.malformed_csv",
            f"{path.name}: the file has malformed quoting{where} after row {fmt.header_row + done}; "
            "it was read with a slower, tolerant parser. Check that quote characters inside cells are doubled.",
        )
    )
    yield from _tolerant_batches(path, readable, fmt, header, chunk_rows, skip=done)


def _tolerant_batches(
    path: Path, readable: Path, fmt: Format, header: list[str], chunk_rows: int, *, skip: int
) -> Iterator[pl.DataFrame]:
    delimiter = fmt.delimiter or ("\t" if path.suffix.lower() == ".tsv" else ",")
    width = len(header)
    first = fmt.header_row + 1 + skip
    try:
        with readable.open(encoding="utf-8", errors="replace", newline="") as fh:
            reader = csv.reader(
                fh,
                delimiter=delimiter,
                quotechar=fmt.quote_char or '"',
                quoting=csv.QUOTE_MINIMAL if fmt.quote_char else csv.QUOTE_NONE,
            )
            records = itertools.islice(reader, fmt.header_row + skip, None)
            while block := list(itertools.islice(records, chunk_rows)):
                columns = [
                    [(r[i] or None) if i < len(r) else None for r in block] for i in range(width)
                ]
                frame = {ROW: pl.Series(ROW, range(first, first + len(block)), dtype=pl.Int64)}
                frame |= {
                    h: pl.Series(h, col, dtype=pl.Utf8)
                    for h, col in zip(header, columns, strict=True)
                }
                first += len(block)
                yield pl.DataFrame(frame)
    except (csv.Error, OSError) as exc:
        raise fail(
            path,
            "tabular.unreadable",
            f"reading stopped after row {first - 1} ({type(exc).__name__}); "
            "check quoting and the delimiter, then ingest the file again",
        ) from None


def _has_content(path: Path) -> bool:
    with path.open("rb") as fh:
        while block := fh.read(_BLOCK):
            if block.strip(b" \t\r\n\x00\xef\xbb\xbf"):
                return True
    return False


def _bytes_per_row(path: Path) -> float:
    with path.open("rb") as fh:
        sample = fh.read(1 << 20)
    return len(sample) / max(1, sample.count(b"\n"))


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with path.open("rb") as fh:
            while block := fh.read(_BLOCK):
                decoder.decode(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _utf8_copy(path: Path, encoding: str) -> tuple[Path, list[Problem], list[Path]]:
    """The file itself when it is UTF-8, else a UTF-8 copy (Polars reads UTF-8 only)."""
    with path.open("rb") as fh:
        head = fh.read(4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and encoding in (
        "utf-8",
        "utf-16",
    ):
        encoding = "utf-16"  # Excel's "Unicode text" export
    elif encoding == "utf-8" and _decodes(path, "utf-8"):
        return path, [], []
    problems: list[Problem] = []
    if encoding == "utf-8" or not _decodes(path, encoding):
        problems.append(
            Problem(
                "warning",
                "tabular.encoding_fallback",
                f"{path.name}: the file is not valid {encoding}; read it as cp1252 (Windows) instead. "
                "Check accented names in the result, or set format.encoding in the mapping.",
            )
        )
        encoding = "cp1252"
    copy = _transcode(path, encoding)
    return copy, problems, [copy]


def _transcode(path: Path, encoding: str) -> Path:
    fd, name = tempfile.mkstemp(prefix="parley-tabular-", suffix=".csv")
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    with os.fdopen(fd, "wb") as out, path.open("rb") as fh:
        while block := fh.read(_BLOCK):
            out.write(decoder.decode(block).encode("utf-8"))
        out.write(decoder.decode(b"", final=True).encode("utf-8"))
    return Path(name)


def _short(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__


# --------------------------------------------------------------------------- Excel


def _open_excel(path: Path, fmt: Format, *, chunk_rows: int) -> RowSource:
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise fail(
            path,
            "tabular.unreadable",
            f"not a readable Excel workbook ({_short(exc)}); save it again as .xlsx or export CSV",
        ) from None
    names = wb.sheetnames
    if fmt.sheet is not None and fmt.sheet not in names:
        wb.close()
        raise fail(
            path,
            "tabular.missing_sheet",
            f"no sheet named {fmt.sheet!r}; the workbook has {', '.join(map(repr, names))}. "
            "Set format.sheet in the mapping to one of them.",
        )
    ws = wb[fmt.sheet] if fmt.sheet is not None else wb[names[0]]
    rows = ws.iter_rows(min_row=1, values_only=True)
    header = None
    for number, values in enumerate(rows, start=1):
        if number == fmt.header_row:
            header = _excel_header(values)
            break
    if header is None:
        wb.close()
        raise fail(
            path,
            "tabular.empty_file",
            f"sheet {ws.title!r} has no row {fmt.header_row} (the header row); check format.header_row",
        )
    return RowSource(
        header=header,
        batches=_excel_batches(wb, rows, header, fmt.header_row, chunk_rows, fmt.decimal_comma),
        header_row=fmt.header_row,
        size=path.stat().st_size,
    )


def _excel_header(values: tuple[Any, ...]) -> list[str]:
    header: list[str] = []
    for i, v in enumerate(values):
        name = _cell_text(v) or f"column_{i + 1}"
        while name in header:
            name += "_"
        header.append(name)
    while header and header[-1].startswith("column_"):
        header.pop()
    return header


def _excel_batches(
    wb: Any,
    rows: Iterator[tuple[Any, ...]],
    header: list[str],
    header_row: int,
    chunk_rows: int,
    decimal_comma: bool,
) -> Iterator[pl.DataFrame]:
    width = len(header)
    try:
        columns: list[list[str | None]] = [[] for _ in range(width + 1)]
        for number, values in enumerate(rows, start=header_row + 1):
            columns[0].append(number)  # type: ignore[arg-type]
            for i in range(width):
                columns[i + 1].append(
                    _cell_text(values[i], decimal_comma) if i < len(values) else None
                )
            if len(columns[0]) >= chunk_rows:
                yield _excel_frame(header, columns)
                columns = [[] for _ in range(width + 1)]
        if columns[0]:
            yield _excel_frame(header, columns)
    finally:
        wb.close()


def _excel_frame(header: list[str], columns: list[list[Any]]) -> pl.DataFrame:
    data = {ROW: pl.Series(ROW, columns[0], dtype=pl.Int64)}
    for name, values in zip(header, columns[1:], strict=True):
        data[name] = pl.Series(name, values, dtype=pl.Utf8)
    return pl.DataFrame(data)


def _cell_text(v: Any, decimal_comma: bool = False) -> str | None:
    """An Excel cell as the text a CSV export would hold; numbers exactly as Excel shows them.

    A float goes through its 15 significant digits (what Excel displays), so
    0.1 + 0.2 stored as 0.30000000000000004 reads as 0.3, never as a binary
    fraction.  With a decimal-comma mapping, numbers are written 1234,5.
    """
    if v is None:
        return None
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        text = format(Decimal(format(v, ".15g")), "f")
        return text.replace(".", ",") if decimal_comma else text
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time() else v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    text = str(v).strip()
    return text or None
