"""Read a CSV or Excel claim / payment extract into canonical-table chunks.

The reader streams the file in batches of ``chunk_rows`` rows.  Each batch is
parsed with Polars expressions (no per-row Python on the happy path); rows
with a bad cell are quarantined together with every other row of their claim
(claims are the unit), and each bad cell becomes a :class:`Problem`.  Rows of
the claim that straddles a batch boundary are carried into the next batch,
so a claim is never split when its rows are contiguous.

Nothing here raises on bad input: a file that cannot be read at all yields
one error Problem and no records.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import polars as pl

from parley.ingest.base import ParsedChunk, PatientHasher, Problem
from parley.ingest.tabular import _build as B
from parley.ingest.tabular._fields import (
    BAD_CODES,
    CKEY,
    MISS,
    adjustments,
    claim_key,
    evaluate,
    flag_columns,
)
from parley.ingest.tabular._sources import (
    CSV_SUFFIXES,
    DELIMITERS,
    EXCEL_SUFFIXES,
    ROW,
    RowSource,
    SourceFailed,
    open_source,
)
from parley.ingest.tabular.mapping import ADJUSTMENT_GROUPS, Mapping

WARNINGS_PER_CODE = 20
"""Warnings listed per problem code and file; the rest are counted in one summary."""

_T = TypeVar("_T")


def sniff_tabular(path: Path) -> bool:
    """True for an .xlsx/.xlsm workbook, or a .csv/.tsv/.txt file whose first line looks like a header.

    A header here is a text line holding a delimiter (, ; tab |) within the first ten
    lines (report-title preamble allowed), in a file that is not an X12 envelope.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        with path.open("rb") as fh:
            head = fh.read(65536)
    except OSError:
        return False
    if suffix in EXCEL_SUFFIXES:
        return head[:4] == b"PK\x03\x04"
    if suffix not in CSV_SUFFIXES or b"\x00" in head:
        return False
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff\r\n ")
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    if not lines or lines[0].startswith(("ISA", "GS", "ST")):
        return False
    return any(d in line for line in lines[:10] for d in DELIMITERS)


def read_tabular(
    path: Path,
    mapping: Mapping | None,
    *,
    file_id: str,
    hasher: PatientHasher,
    chunk_rows: int = 250_000,
) -> Iterator[ParsedChunk]:
    """Stream an extract through its mapping into claims or remittance tables.

    Appointment and quality-measure extracts (mapping kind ``appointments`` /
    ``quality_measures``, or no mapping: recognised by header) go to
    :mod:`parley.ingest.tabular.operations`.
    """
    if mapping is None or mapping.kind in ("appointments", "quality_measures"):
        from parley.ingest.tabular.operations import read_operations

        yield from read_operations(Path(path), mapping, file_id=file_id, hasher=hasher, chunk_rows=chunk_rows)
        return
    yield from _FileReader(
        Path(path), mapping, file_id=file_id, hasher=hasher, chunk_rows=chunk_rows
    ).run()


class _FileReader:
    """The per-file state: sequence counters, payments seen, warning counts."""

    def __init__(
        self, path: Path, mapping: Mapping, *, file_id: str, hasher: PatientHasher, chunk_rows: int
    ) -> None:
        self.path, self.mapping, self.file_id, self.hasher = path, mapping, file_id, hasher
        self.chunk_rows = max(1, chunk_rows)
        self.claim_seq = 0
        self.line_seq = 0
        self.data_rows = 0
        self.payments: dict[str, dict[str, Any]] = {}
        self.warned: dict[str, int] = {}
        self.patient_cache: dict[str, str] = {}
        excel = path.suffix.lower() in EXCEL_SUFFIXES
        formats = list(mapping.format.date_formats)
        self.date_formats = formats + (["%Y-%m-%d"] if excel and "%Y-%m-%d" not in formats else [])
        self.columns: dict[str, str] = {}

    # ------------------------------------------------------------------ driver

    def run(self) -> Iterator[ParsedChunk]:
        try:
            source = open_source(self.path, self.mapping.format, chunk_rows=self.chunk_rows)
        except SourceFailed as exc:
            yield ParsedChunk(problems=[exc.problem])
            return
        try:
            yield from self._run(source)
        except SourceFailed as exc:
            yield ParsedChunk(problems=[exc.problem])
        finally:
            source.close()

    def _run(self, source: RowSource) -> Iterator[ParsedChunk]:
        missing = self._resolve(source.header)
        if missing:
            yield ParsedChunk(problems=[self._missing_columns(missing, source)])
            return
        carry: pl.DataFrame | None = None
        for batch, last in _lookahead(source.batches):
            frame = self._prepare(batch)
            if carry is not None:
                frame = pl.concat([carry, frame])
            frame, carry = (frame, None) if last else self._hold_tail(frame)
            if frame.height:
                chunk = self._chunk_safely(frame, source)
                chunk.problems[:0] = _drain(source.problems)
                yield chunk
        if carry is not None and carry.height:
            yield self._chunk_safely(carry, source)
        yield self._final(source, _drain(source.problems))

    def _resolve(self, header: list[str]) -> list[str]:
        """Match mapped column names to the header (exactly, else ignoring case and spaces)."""
        folded = {h.strip().casefold(): h for h in header}
        missing = []
        for name in self.mapping.source_columns():
            actual = name if name in header else folded.get(name.strip().casefold())
            if actual is None:
                missing.append(name)
            else:
                self.columns[name] = actual
        return missing

    def _prepare(self, batch: pl.DataFrame) -> pl.DataFrame:
        """Mapped columns only, renamed to the mapping's names; blank rows dropped."""
        frame = batch.select(pl.col(ROW), *(pl.col(a).alias(n) for n, a in self.columns.items()))
        names = list(self.columns)
        if names:
            frame = frame.filter(pl.any_horizontal(pl.col(n).is_not_null() for n in names))
        return frame.with_columns(claim_key(self.mapping))

    def _hold_tail(self, frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame | None]:
        """Split off the rows of the last claim, which may continue in the next batch."""
        if not frame.height or frame.height > 4 * self.chunk_rows:
            return frame, None
        last = frame[CKEY][-1]
        if last is None:
            return frame, None
        tail = pl.col(CKEY) == last
        return frame.filter(~tail.fill_null(False)), frame.filter(tail.fill_null(False))

    def _chunk_safely(self, frame: pl.DataFrame, source: RowSource) -> ParsedChunk:
        first, last = frame[ROW].min(), frame[ROW].max()
        try:
            chunk = self._chunk(frame)
        except (
            pl.exceptions.PolarsError,
            ArithmeticError,
            ValueError,
        ) as exc:  # pragma: no cover - defensive
            chunk = ParsedChunk(
                problems=[
                    Problem(
                        "error",
                        "tabular.unreadable",
                        f"{self.path.name}: rows {first!s}-{last!s} could not be processed "
                        f"({type(exc).__name__}); they are quarantined. Please report this with the mapping file.",
                        row=first if isinstance(first, int) else None,
                        quarantined=True,
                    )
                ]
            )
        self.data_rows += frame.height
        if source.bytes_per_row and isinstance(last, int):
            chunk.bytes_done = min(source.size, int(last * source.bytes_per_row))
        return chunk

    # ------------------------------------------------------------------ one batch

    def _chunk(self, frame: pl.DataFrame) -> ParsedChunk:
        typed = evaluate(frame, self.mapping, self.date_formats)
        adj = adjustments(frame, self.mapping)
        problems, bad_keys = self._errors(typed, adj)
        good = typed.filter(pl.col(CKEY).is_not_null() & ~pl.col(CKEY).is_in(list(bad_keys)))
        if not good.height:
            return ParsedChunk(problems=problems)
        if "patient_id" in self.mapping.columns:
            good = good.with_columns(self._patient_keys(good["patient_id"]))
        good = self._number(good)
        adj = adj.filter(pl.col("__code").is_null())
        if self.mapping.kind == "claims":
            tables = B.claims_tables(good, self.mapping, self.file_id)
        else:
            tables = B.remit_tables(good, adj, self.mapping, self.file_id)
            tables["remit_claims"] = self._payments(tables["remit_claims"])
        problems += self._warnings(good, tables)
        return ParsedChunk(tables=tables, problems=problems)

    def _patient_keys(self, ids: pl.Series) -> pl.Series:
        """hasher.hash_series, hashing each distinct identifier once per file (bounded cache)."""
        if len(self.patient_cache) > 1_000_000:
            self.patient_cache.clear()
        cleaned = ids.str.strip_chars()
        keys = cleaned.replace_strict(self.patient_cache, default=None, return_dtype=pl.Utf8)
        fresh = cleaned.filter(keys.is_null() & cleaned.is_not_null() & (cleaned != "")).unique()
        if fresh.len():
            self.patient_cache.update(
                zip(fresh.to_list(), self.hasher.hash_series(fresh).to_list(), strict=True)
            )
            keys = cleaned.replace_strict(self.patient_cache, default=None, return_dtype=pl.Utf8)
        return keys.alias("patient_id")

    def _number(self, good: pl.DataFrame) -> pl.DataFrame:
        """claim_seq / line_seq unique within the file; lines grouped claim by claim.

        Rows of a claim are usually contiguous: then a running count of key
        changes numbers the claims.  Otherwise rows are first sorted so each
        claim's rows follow its first row.
        """
        starts = pl.col(CKEY).ne_missing(pl.col(CKEY).shift(1))
        if good.select(starts.sum()).item() != good[CKEY].n_unique():
            good = good.with_columns(pl.col(ROW).min().over(CKEY).alias("_first")).sort(
                "_first", ROW
            )
        index = pl.int_range(pl.len(), dtype=pl.Int64)
        good = good.with_columns(starts.alias("_start"), index.alias("_i")).with_columns(
            (pl.col("_start").cum_sum().cast(pl.Int64) - 1 + self.claim_seq).alias("claim_seq"),
            (pl.col("_i") + self.line_seq).alias("line_seq"),
            pl.when(pl.col("_start")).then(pl.col("_i")).forward_fill().alias("_claim_start"),
        )
        good = good.with_columns(
            pl.coalesce(
                pl.col("line_number"), (pl.col("_i") - pl.col("_claim_start") + 1).cast(pl.Int32)
            ).alias("_lineno")
        )
        self.claim_seq += int(good["_start"].sum())
        if self.mapping.has_lines():
            self.line_seq += good.height
        return good

    # ------------------------------------------------------------------ problems

    def _errors(self, typed: pl.DataFrame, adj: pl.DataFrame) -> tuple[list[Problem], set[str]]:
        """One error per bad or missing cell; the keys of every claim to quarantine."""
        flags = flag_columns(typed)
        bad_rows = typed.filter(pl.any_horizontal(flags)) if flags else typed.clear()
        bad_adj = adj.filter(pl.col("__code").is_not_null()).join(
            typed.select(ROW, CKEY, "claim_id"), on=ROW, how="inner"
        )
        keys = {k for k in bad_rows[CKEY].to_list() + bad_adj[CKEY].to_list() if k is not None}
        if bad_rows.height == 0 and bad_adj.height == 0:
            return [], keys
        sizes = dict(typed.filter(pl.col(CKEY).is_in(list(keys))).group_by(CKEY).len().iter_rows())
        found: list[Problem] = []
        for row in bad_rows.iter_rows(named=True):
            for flag in flags:
                if row[flag]:
                    found.append(self._cell_problem(row, flag, sizes))
        for row in bad_adj.iter_rows(named=True):
            found.append(self._problem(row["__code"], row, row["__col"], "adjustment", sizes))
        found.sort(key=lambda p: (p.row or 0, p.column or ""))
        return found, keys

    def _cell_problem(self, row: dict[str, Any], flag: str, sizes: dict[str, int]) -> Problem:
        name = flag.split(":", 1)[1]
        code = (
            "tabular.missing_value"
            if flag.startswith(MISS)
            else BAD_CODES[self.mapping.field(name).type]
        )
        src = self.mapping.columns[name]
        column = "+".join(src.source_columns()) or None
        return self._problem(code, row, column, name, sizes)

    def _problem(
        self, code: str, row: dict[str, Any], column: str | None, name: str, sizes: dict[str, int]
    ) -> Problem:
        what = {
            "tabular.missing_value": f"{name} is required but the cell is empty",
            "tabular.bad_amount": f"the {name} cell is not an amount (expected e.g. 1234.50, $1,234.50 or (12.00)"
            + ("; the mapping says decimal comma" if self.mapping.format.decimal_comma else "")
            + ")",
            "tabular.bad_date": f"the {name} cell is not a date in {' or '.join(self.date_formats)}",
            "tabular.bad_number": f"the {name} cell is not a whole number",
            "tabular.bad_flag": f"the {name} cell is not yes or no (Y / N, true / false, 1 / 0)",
        }[code]
        if name == "adjustment":
            what = (
                "an adjustment has a reason code without an amount or an amount without a reason code"
                if code == "tabular.missing_value"
                else "an adjustment cannot be read (expected group, reason and amount, e.g. CO-45:12.50)"
            )
        claim_id = row.get("claim_id")
        key = row.get(CKEY)
        if key is None:
            fate = "the row has no claim id, so it is quarantined on its own"
        else:
            n = sizes.get(key, 1)
            fate = f"claim {claim_id} ({n} row{'s' if n != 1 else ''}) is quarantined"
        where = f"{self.path.name}, row {row[ROW]}" + (f", column '{column}'" if column else "")
        return Problem(
            "error",
            code,
            f"{where}: {what}; {fate}. Fix the cell in the extract (or the mapping) and ingest the file again.",
            row=row[ROW],
            column=column,
            claim_id=claim_id,
            quarantined=True,
        )

    def _warnings(self, good: pl.DataFrame, tables: dict[str, pl.DataFrame]) -> list[Problem]:
        out: list[Problem] = []
        if "procedure_code" in self.mapping.columns and self.mapping.has_lines():
            qualifier = pl.col("procedure_qualifier").str.to_uppercase()
            odd = (
                pl.col("procedure_code").is_not_null()
                & (qualifier.is_null() | (qualifier == "HC"))
                & ~pl.col("procedure_code").str.contains(r"^[A-Za-z0-9]{5}$")
            )
            out += self._warn(
                good.filter(odd),
                "tabular.unknown_procedure_code",
                "procedure_code",
                "the procedure code is not 5 letters/digits (CPT/HCPCS); kept as is",
            )
        if "adjustments" in tables and tables["adjustments"].height:
            out += self._adjustment_warnings(good, tables["adjustments"])
        if self.mapping.diagnoses is not None and tables.get("diagnoses") is not None:
            out += self._diagnosis_warnings(good, tables["diagnoses"])
        return out

    def _adjustment_warnings(self, good: pl.DataFrame, adj: pl.DataFrame) -> list[Problem]:
        odd = adj.filter(
            pl.col("group_code").is_null() | ~pl.col("group_code").is_in(sorted(ADJUSTMENT_GROUPS))
        )
        if not odd.height:
            return []
        rows = odd.join(
            good.group_by("claim_seq").agg(pl.col(ROW).min(), pl.col("claim_id").first()),
            on="claim_seq",
            how="left",
        )
        adj_map = self.mapping.adjustments
        column = (
            (adj_map.list_column or (adj_map.pairs[0].group if adj_map.pairs else None))
            if adj_map
            else None
        )
        return self._warn(
            rows,
            "tabular.unknown_adjustment_group",
            column,
            "an adjustment has no group code or one other than CO, PR, OA, PI, CR; kept as is",
        )

    def _diagnosis_warnings(self, good: pl.DataFrame, dx: pl.DataFrame) -> list[Problem]:
        system = self.mapping.diagnoses.code_system if self.mapping.diagnoses else "icd10"
        pattern = r"^[A-Z][0-9][0-9A-Z]{1,5}$" if system == "icd10" else r"^[0-9EV][0-9]{2,4}$"
        odd = dx.filter(~pl.col("code").str.contains(pattern))
        if not odd.height:
            return []
        rows = odd.join(
            good.group_by("claim_seq").agg(pl.col(ROW).min(), pl.col("claim_id").first()),
            on="claim_seq",
            how="left",
        )
        return self._warn(
            rows,
            "tabular.unknown_diagnosis_code",
            None,
            f"a diagnosis code does not look like {system.upper()}; kept as is",
        )

    def _warn(self, rows: pl.DataFrame, code: str, column: str | None, what: str) -> list[Problem]:
        done = self.warned.get(code, 0)
        self.warned[code] = done + rows.height
        room = max(0, WARNINGS_PER_CODE - done)
        if column is not None and column in self.mapping.columns:
            column = "+".join(self.mapping.columns[column].source_columns()) or column
        out = []
        for r in rows.head(room).iter_rows(named=True):
            where = f"{self.path.name}, row {r[ROW]}" + (f", column '{column}'" if column else "")
            out.append(
                Problem(
                    "warning",
                    code,
                    f"{where}: {what} (claim {r['claim_id']}).",
                    row=r[ROW],
                    column=column,
                    claim_id=r["claim_id"],
                )
            )
        return out

    def _missing_columns(self, missing: list[str], source: RowSource) -> Problem:
        header = source.header
        shown = ", ".join(repr(h) for h in header[:30]) + (" ..." if len(header) > 30 else "")
        message = (
            f"{self.path.name}: the header (row {source.header_row}) lacks the mapped column(s) "
            f"{', '.join(repr(m) for m in missing)}; the header has {shown}. "
        )
        hint = next((d for d in DELIMITERS if len(header) <= 1 and header and d in header[0]), None)
        if hint is not None and self.path.suffix.lower() not in EXCEL_SUFFIXES:
            shown_delim = "\\t" if hint == "\t" else hint
            message += (
                f"Everything is in one column: did you mean delimiter '{shown_delim}'? "
                f'Set format.delimiter: "{shown_delim}" in the mapping.'
            )
            code = "tabular.wrong_delimiter"
        else:
            message += "Fix the column names in the mapping, or format.header_row if the header is on another row."
            code = "tabular.missing_columns"
        column = ", ".join(missing[:3]) + (
            f" (+{len(missing) - 3} more)" if len(missing) > 3 else ""
        )
        return Problem("error", code, message, row=source.header_row, column=column)

    # ------------------------------------------------------------------ payments

    def _payments(self, claims: pl.DataFrame) -> pl.DataFrame:
        """Give each claim the remittance_seq of its (payer, payment date, trace number)."""
        fields = [
            "payer_id",
            "payer_name",
            "payer_tax_id",
            "payee_name",
            "payee_npi",
            "payee_tax_id",
            "payment_date",
            "payment_method",
            "trace_number",
            "payment_amount",
        ]
        groups = claims.group_by("_pkey", maintain_order=True).agg(
            pl.col(fields).drop_nulls().first(),
            pl.len().alias("_n"),
            pl.col("paid_amount").sum().alias("_paid"),
        )
        for g in groups.iter_rows(named=True):
            seen = self.payments.get(g["_pkey"])
            if seen is None:
                self.payments[g["_pkey"]] = {
                    **{f: g[f] for f in fields},
                    "remittance_seq": len(self.payments),
                    "claim_count": g["_n"],
                    "sum_claim_paid": g["_paid"] or Decimal(0),
                }
            else:
                seen["claim_count"] += g["_n"]
                seen["sum_claim_paid"] += g["_paid"] or Decimal(0)
        seqs = {k: v["remittance_seq"] for k, v in self.payments.items()}
        claims = claims.with_columns(
            pl.col("_pkey").replace_strict(seqs, return_dtype=pl.Int64).alias("remittance_seq")
        )
        return B.conform(claims, "remit_claims", self.file_id)

    def _final(self, source: RowSource, pending: list[Problem]) -> ParsedChunk:
        problems = list(pending)
        for code, n in self.warned.items():
            if n > WARNINGS_PER_CODE:
                problems.append(
                    Problem(
                        "warning",
                        code,
                        f"{self.path.name}: {n - WARNINGS_PER_CODE} more rows "
                        f"with {code} are not listed (only the first {WARNINGS_PER_CODE} are).",
                    )
                )
        if self.data_rows == 0:
            problems.append(
                Problem(
                    "warning",
                    "tabular.no_rows",
                    f"{self.path.name}: the file has a header (row {source.header_row}) but no data "
                    "rows; nothing was loaded. Check the export's date range or filters.",
                )
            )
        tables = (
            {"remittances": self._remittances()}
            if self.mapping.kind == "remittance" and self.payments
            else {}
        )
        return ParsedChunk(tables=tables, problems=problems, bytes_done=source.size)

    def _remittances(self) -> pl.DataFrame:
        rows = []
        for p in self.payments.values():
            total = p["payment_amount"] if p["payment_amount"] is not None else p["sum_claim_paid"]
            rows.append(
                {
                    **p,
                    "version": "tabular",
                    "handling_code": "I",
                    "credit_debit": "D" if total < 0 else "C",
                    "payment_amount": total,
                    "sum_provider_adjustments": Decimal("0.00"),
                    "balance_difference": total - p["sum_claim_paid"],
                    "balanced": total == p["sum_claim_paid"],
                }
            )
        schema = {k: v for k, v in B.polars_schema("remittances").items() if k != "file_id"}
        frame = pl.DataFrame(
            [{k: r.get(k) for k in schema} for r in rows], schema=schema, orient="row"
        )
        return B.conform(frame, "remittances", self.file_id)


def _drain(problems: list[Problem]) -> list[Problem]:
    """Take the problems a source has reported so far."""
    taken = list(problems)
    problems.clear()
    return taken


def _lookahead(items: Iterator[_T]) -> Iterator[tuple[_T, bool]]:
    """Each item with a flag telling whether it is the last."""
    it = iter(items)
    try:
        current = next(it)
    except StopIteration:
        return
    for nxt in it:
        yield current, False
        current = nxt
    yield current, True
