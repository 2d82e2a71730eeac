"""Operations extracts: appointment schedules and quality-measure files (CSV / Excel).

Two mapping kinds beside claims and remittance, each landing in its canonical
table (``parley.store.tables``): ``appointments`` and ``quality_measures``.  A
file is read through a column mapping (``kind: appointments`` ... in the YAML,
docs/tabular-mapping.md) or, without one, recognised by its header: a header
naming the documented columns (docs/kpi.md, docs/quality.md; a few common
aliases accepted, case and spaces ignored) is its own mapping.

Rows are the unit: a row with a cell that does not parse (a date, a number, a
rate outside 0..1), or without a required value, is quarantined with one
Problem naming the file, row and column; the other rows load.  Patient
identifiers are hashed with the workspace key (:class:`PatientHasher`) before
anything leaves the reader.  Every step is a Polars expression over a batch.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl

from parley.ingest.base import ParsedChunk, PatientHasher, Problem
from parley.ingest.tabular import _values as V
from parley.ingest.tabular._sources import (
    DELIMITERS,
    EXCEL_SUFFIXES,
    ROW,
    SourceFailed,
    open_source,
)
from parley.ingest.tabular.mapping import FIELDS, REQUIRED, Format, Mapping

#: mapping kind -> canonical table
TABLES = {"appointments": "appointments", "quality_measures": "quality_measures"}
SEQ = {"appointments": "appointment_seq", "quality_measures": "measure_seq"}
PROBLEMS_PER_CODE = 20

#: header names accepted for a field besides its own name (compared case- and space-insensitively)
ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "appointments": {
        "appointment_id": ("appt_id", "appointment_number", "visit_id"),
        "appointment_date": ("appt_date", "date_of_service", "visit_date", "date"),
        "patient_id": ("patient_key", "mrn", "patient_number", "member_id"),
        "status": ("appointment_status", "appt_status"),
        "provider_npi": ("npi", "rendering_npi"),
        "place_of_service": ("pos",),
        "referral_source": ("referral", "referred_by", "source_of_referral"),
        "patient_type": ("new_or_established",),
    },
    "quality_measures": {"measure_id": ("measure",), "period": ("reporting_period",), "scope": ("population",)},
}
#: header detection needs these fields (besides REQUIRED)
SIGNATURE = {"appointments": ("appointment_id", "appointment_date", "status"),
             "quality_measures": ("measure_id", "period", "scope")}

STATUS = {
    "completed": "completed", "complete": "completed", "arrived": "completed", "checked out": "completed",
    "checked-out": "completed", "seen": "completed", "kept": "completed",
    "no-show": "no-show", "no show": "no-show", "noshow": "no-show", "no_show": "no-show", "ns": "no-show",
    "dna": "no-show", "did not attend": "no-show",
    "cancelled": "cancelled", "canceled": "cancelled", "cancel": "cancelled", "cx": "cancelled",
    "scheduled": "scheduled", "booked": "scheduled", "pending": "scheduled", "confirmed": "scheduled",
}
PATIENT_TYPE = {"new": "new", "n": "new", "new patient": "new", "established": "established", "est": "established",
                "e": "established", "established patient": "established", "return": "established"}


def _norm(name: str) -> str:
    return "_".join(name.strip().lstrip("\ufeff").casefold().replace("-", " ").split())


def _header_fields(kind: str, header: list[str]) -> dict[str, str]:
    """field -> header column for every field of ``kind`` the header names (own name first, then aliases)."""
    by_norm = {_norm(h): h for h in header}
    out: dict[str, str] = {}
    for name in FIELDS[kind]:  # type: ignore[index]
        for candidate in (name, *ALIASES[kind].get(name, ())):
            if candidate in by_norm:
                out[name] = by_norm[candidate]
                break
    return out


def kind_of_header(header: list[str]) -> str | None:
    """'appointments' / 'quality_measures' when the header names that kind's columns, else None."""
    for kind in TABLES:
        got = _header_fields(kind, header)
        if all(f in got for f in SIGNATURE[kind]) and all(any(f in got for f in g) for g in REQUIRED[kind]):  # type: ignore[index]
            return kind
    return None


def sniff_operations(head: bytes) -> str | None:
    """The operations kind of a CSV / TSV from its first bytes (the header line), else None."""
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff\r\n ")
    first = next((line for line in text.splitlines() if line.strip()), "")
    if not first:
        return None
    delimiter = max(DELIMITERS, key=first.count)
    try:
        header = next(csv.reader(io.StringIO(first), delimiter=delimiter))
    except (csv.Error, StopIteration):
        return None
    return kind_of_header(header)


def header_mapping(kind: str, header: list[str], fmt: Format | None = None) -> Mapping:
    """The mapping a recognised header stands for (every documented column it names)."""
    columns = _header_fields(kind, header)
    return Mapping.model_validate({"name": f"{kind} (by header)", "kind": kind, "columns": columns,
                                   **({"format": fmt} if fmt else {})})


def read_operations(path: Path, mapping: Mapping | None, *, file_id: str, hasher: PatientHasher,
                    chunk_rows: int = 250_000) -> Iterator[ParsedChunk]:
    """Stream an appointments / quality-measures extract into its canonical table."""
    path = Path(path)
    fmt = mapping.format if mapping is not None else Format()  # type: ignore[call-arg]
    if mapping is None and path.suffix.lower() not in EXCEL_SUFFIXES:
        with path.open("rb") as fh:
            head = fh.read(65536)
        first = head.decode("utf-8", errors="replace").lstrip("\ufeff\r\n ").splitlines()[:1]
        if first and first[0].count("\t") > first[0].count(","):
            fmt = Format(delimiter="\t")  # type: ignore[call-arg]
        elif first and first[0].count(";") > first[0].count(","):
            fmt = Format(delimiter=";")  # type: ignore[call-arg]
    try:
        source = open_source(path, fmt, chunk_rows=max(1, chunk_rows))
    except SourceFailed as exc:
        yield ParsedChunk(problems=[exc.problem])
        return
    try:
        if mapping is None:
            kind = kind_of_header(source.header)
            if kind is None:
                yield ParsedChunk(problems=[Problem(
                    "error", "tabular.unknown_extract",
                    f"{path.name}: the header (row {source.header_row}) is neither an appointment extract "
                    "(appointment_id, appointment_date, status, payer_name...) nor a quality-measure file "
                    "(measure_id, period, scope, rate...); pass --mapping with a column mapping",
                    row=source.header_row)])
                return
            mapping = header_mapping(kind, source.header, fmt)
        yield from _Reader(path, mapping, file_id=file_id, hasher=hasher).run(source)
    except SourceFailed as exc:
        yield ParsedChunk(problems=[exc.problem])
    finally:
        source.close()


class _Reader:
    def __init__(self, path: Path, mapping: Mapping, *, file_id: str, hasher: PatientHasher) -> None:
        self.path, self.mapping, self.file_id, self.hasher = path, mapping, file_id, hasher
        self.kind = mapping.kind
        self.table = TABLES[self.kind]
        self.seq = 0
        self.listed: dict[str, int] = {}
        self.unlisted: dict[str, int] = {}
        formats = list(mapping.format.date_formats)
        self.date_formats = formats + (["%Y-%m-%d"] if "%Y-%m-%d" not in formats else [])

    def run(self, source: Any) -> Iterator[ParsedChunk]:
        folded = {h.strip().casefold(): h for h in source.header}
        self.columns: dict[str, str] = {}
        missing = []
        for col in self.mapping.source_columns():
            actual = col if col in source.header else folded.get(col.strip().casefold())
            if actual is None:
                missing.append(col)
            else:
                self.columns[col] = actual
        if missing:
            yield ParsedChunk(problems=[Problem(
                "error", "tabular.missing_columns",
                f"{self.path.name}: the header (row {source.header_row}) lacks the mapped column(s) "
                f"{', '.join(repr(m) for m in missing)}", row=source.header_row, column=", ".join(missing[:3]))])
            return
        for batch in source.batches:
            chunk = self._chunk(batch)
            chunk.problems[:0] = source.problems
            source.problems.clear()
            if source.size and source.bytes_per_row and batch.height:
                chunk.bytes_done = min(source.size, int(batch[ROW].max() * source.bytes_per_row))
            yield chunk
        final = [p for p in source.problems]
        for code, n in sorted(self.unlisted.items()):
            final.append(Problem("error", code, f"{self.path.name}: {n} more row(s) quarantined for {code} (not listed)",
                                 quarantined=True))
        yield ParsedChunk(problems=final, bytes_done=source.size)

    # ------------------------------------------------------------------ one batch

    def _text(self, field: str) -> pl.Expr:
        src = self.mapping.columns[field]
        if src.value is not None:
            return pl.lit(src.value, pl.Utf8)
        if src.column is not None:
            return V.clean(pl.col(self.columns[src.column]))
        parts = [V.clean(pl.col(self.columns[c])) for c in src.concat or []]
        joined = pl.concat_str([p.fill_null("") for p in parts], separator=src.separator)
        return pl.when(pl.all_horizontal([p.is_null() for p in parts])).then(None).otherwise(joined)

    def _chunk(self, batch: pl.DataFrame) -> ParsedChunk:
        mapped = list(self.mapping.columns)
        texts = batch.select(pl.col(ROW), *(self._text(f).alias(f) for f in mapped))
        if mapped:
            texts = texts.filter(pl.any_horizontal(pl.col(f).is_not_null() for f in mapped))
        n = texts.height
        values: dict[str, pl.Series] = {}
        bad: dict[str, pl.Series] = {}
        comma = self.mapping.format.decimal_comma
        for name, fdef in FIELDS[self.kind].items():  # type: ignore[index]
            if name not in self.mapping.columns:
                continue
            t = texts[name]
            if fdef.type == "date":
                values[name], bad[name] = V.date(t, self.date_formats)
            elif fdef.type == "integer":
                v, b = V.integer(t)
                values[name], bad[name] = v.cast(pl.Int64), b
            elif fdef.type == "rate":
                values[name], bad[name] = _rate(t, comma)
            elif fdef.type == "flag":
                values[name], bad[name] = V.flag(t)
            elif fdef.type == "patient":
                values[name], bad[name] = self.hasher.hash_series(t), pl.Series([False] * n)
            else:
                values[name], bad[name] = t, pl.Series([False] * n)
        missing = {f: texts[f].is_null() for g in REQUIRED[self.kind] for f in g  # type: ignore[index]
                   if len(g) == 1 and f in texts.columns}
        for g in REQUIRED[self.kind]:  # type: ignore[index]
            if len(g) > 1:
                present = [texts[f].is_not_null() for f in g if f in texts.columns]
                if present:
                    anyp = present[0]
                    for p in present[1:]:
                        anyp = anyp | p
                    missing["/".join(g)] = ~anyp
        problems: list[Problem] = []
        drop = pl.Series([False] * n)
        rows = texts[ROW]
        for name, flags in bad.items():
            flags = flags.fill_null(False)
            if flags.any():
                code = {"date": "tabular.bad_date", "integer": "tabular.bad_number", "rate": "tabular.bad_rate",
                        "flag": "tabular.bad_flag"}.get(FIELDS[self.kind][name].type, "tabular.bad_value")  # type: ignore[index]
                what = {"tabular.bad_rate": "a rate (a fraction 0..1, or a percentage with %)",
                        "tabular.bad_flag": "true / false", "tabular.bad_date": "a date in " + " or ".join(self.date_formats),
                        "tabular.bad_number": "a whole number"}.get(code, "a value")
                problems += self._problems(code, rows.filter(flags), texts[name].filter(flags), name, f"is not {what}")
                drop = drop | flags
        for name, flags in missing.items():
            flags = flags.fill_null(False)
            if flags.any():
                problems += self._problems("tabular.missing_value", rows.filter(flags), None, name, "is blank (required)")
                drop = drop | flags
        keep = ~drop
        frame = self._frame(values, texts[ROW], n).filter(keep)
        return ParsedChunk(tables={self.table: frame} if frame.height else {}, problems=problems)

    def _problems(self, code: str, rows: pl.Series, cells: pl.Series | None, field: str, what: str) -> list[Problem]:
        src = self.mapping.columns[field]
        column = src.column or field
        out = []
        for row in rows.to_list():
            if self.listed.get(code, 0) >= PROBLEMS_PER_CODE:
                self.unlisted[code] = self.unlisted.get(code, 0) + 1
                continue
            self.listed[code] = self.listed.get(code, 0) + 1
            # the cell text is not echoed: an extract row may hold PHI
            out.append(Problem("error", code, f"the {field} value {what}; row quarantined",
                               row=int(row), column=column, quarantined=True))
        return out

    def _frame(self, values: dict[str, pl.Series], rows: pl.Series, n: int) -> pl.DataFrame:
        cols: dict[str, pl.Series] = {ROW: rows.cast(pl.Int64)}
        for name in FIELDS[self.kind]:  # type: ignore[index]
            if name in values:
                cols[name] = values[name]
        df = pl.DataFrame(cols)
        first_data_row = self.mapping.format.header_row + 1  # _row of the first data row
        df = df.with_columns(pl.lit(self.file_id).alias("file_id"), (pl.col(ROW) - first_data_row).alias(SEQ[self.kind]))
        return _appointments(df) if self.kind == "appointments" else _quality(df)


def _rate(text: pl.Series, comma: bool) -> tuple[pl.Series, pl.Series]:
    """A rate as a fraction 0..1 ('0.62'), or a percentage with % ('62%', '62.5 %'), exactly."""
    pct = text.str.ends_with("%").fill_null(False)
    body = text.str.strip_suffix("%").str.strip_chars()
    value, bad = V.decimal(body, scale=6, int_digits=4, decimal_comma=comma)
    frame = pl.DataFrame({"v": value.cast(pl.Decimal(20, 8)), "pct": pct})
    scaled = frame.select(pl.when(pl.col("pct")).then(pl.col("v") / 100).otherwise(pl.col("v"))).to_series()
    in_range = scaled.cast(pl.Float64).is_between(0, 1).fill_null(False)
    bad = (bad | (text.is_not_null() & ~in_range)).fill_null(False)
    out = scaled.cast(pl.Decimal(9, 6), strict=False)
    return out.zip_with(~bad, pl.Series([None], dtype=out.dtype)).alias(text.name), bad


def _col(df: pl.DataFrame, name: str, dtype: pl.DataType) -> pl.Expr:
    return pl.col(name).cast(dtype) if name in df.columns else pl.lit(None, dtype).alias(name)


def _appointments(df: pl.DataFrame) -> pl.DataFrame:
    status = pl.col("status").str.to_lowercase().str.strip_chars()
    ptype = pl.col("patient_type").str.to_lowercase().str.strip_chars() if "patient_type" in df.columns else None
    df = df.with_columns(status.replace_strict(STATUS, default=pl.col("status")).alias("status"))
    if ptype is not None:
        df = df.with_columns(ptype.replace_strict(PATIENT_TYPE, default=pl.col("patient_type")).alias("patient_type"))
    if "patient_id" in df.columns:
        df = df.rename({"patient_id": "patient_key"})
    if "payer_name" not in df.columns and "payer" in df.columns:
        df = df.with_columns(pl.col("payer").alias("payer_name"))
    s = pl.Utf8()
    return df.select(
        "file_id", pl.col("appointment_seq").cast(pl.Int64), pl.col(ROW).alias("source_row"),
        _col(df, "appointment_id", s), _col(df, "appointment_date", pl.Date()), _col(df, "provider_npi", s),
        _col(df, "specialty", s), _col(df, "payer", s), _col(df, "payer_name", s), _col(df, "product_line", s),
        _col(df, "patient_key", s), _col(df, "status", s), _col(df, "patient_type", s), _col(df, "visit_type", s),
        _col(df, "place_of_service", s), _col(df, "referral_source", s),
    )


def _quality(df: pl.DataFrame) -> pl.DataFrame:
    r = pl.Decimal(9, 6)
    if "rate" not in df.columns:
        df = df.with_columns(pl.lit(None, r).alias("rate"))
    if "numerator" in df.columns and "denominator" in df.columns:
        derived = pl.when(pl.col("denominator") > 0).then(
            (pl.col("numerator").cast(pl.Float64) / pl.col("denominator")).round(6)).otherwise(None).cast(r)
        df = df.with_columns(pl.coalesce(pl.col("rate"), derived).alias("rate"))
    if "scope" not in df.columns:
        df = df.with_columns(pl.lit("ALL").alias("scope"))
    s = pl.Utf8()
    return df.select(
        "file_id", pl.col("measure_seq").cast(pl.Int64), pl.col(ROW).alias("source_row"),
        _col(df, "measure_id", s), _col(df, "measure_name", s), _col(df, "period", s),
        pl.col("scope").fill_null("ALL").cast(s), _col(df, "numerator", pl.Int64()), _col(df, "denominator", pl.Int64()),
        _col(df, "rate", r), _col(df, "baseline", r), _col(df, "peer_benchmark", r), _col(df, "payer_target", r),
        _col(df, "higher_is_better", pl.Boolean()),
    )
