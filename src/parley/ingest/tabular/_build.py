"""From good (unquarantined) typed rows to canonical-table frames.

Input rows are sorted claim by claim and carry ``claim_seq``, ``line_seq``
and ``_lineno``; everything here is Polars group-bys and joins.
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa

from parley.ingest.tabular import _values as V
from parley.ingest.tabular._sources import ROW
from parley.ingest.tabular.mapping import FIELDS, Mapping
from parley.store import tables as T

_SCHEMAS: dict[str, pl.Schema] = {}


def polars_schema(table: str) -> pl.Schema:
    if table not in _SCHEMAS:
        empty = pa.Table.from_batches([], schema=T.schema(table))
        _SCHEMAS[table] = pl.from_arrow(empty).schema  # type: ignore[union-attr]
    return _SCHEMAS[table]


def conform(frame: pl.DataFrame, table: str, file_id: str) -> pl.DataFrame:
    """Exactly the canonical columns, in order and type (absent ones null)."""
    frame = frame.with_columns(pl.lit(file_id).alias("file_id"))
    return frame.select(
        [
            (pl.col(c) if c in frame.columns else pl.lit(None)).cast(t, strict=False).alias(c)
            for c, t in polars_schema(table).items()
        ]
    )


def _sum(col: str | pl.Expr) -> pl.Expr:
    """A decimal sum that stays null when every value is null."""
    e = pl.col(col) if isinstance(col, str) else col
    return pl.when(e.is_not_null().any()).then(e.sum()).otherwise(None).cast(V.MONEY, strict=False)


def _claim_level(mapping: Mapping) -> list[str]:
    return [n for n, f in FIELDS[mapping.kind].items() if f.level == "claim"]


def _modifiers(frame: pl.DataFrame, mapping: Mapping) -> pl.DataFrame:
    if "modifiers" not in mapping.columns:
        return frame
    parts = pl.col("modifiers").str.to_uppercase().str.replace_all(r"[,;\s]+", ",").str.split(",")
    return frame.with_columns(
        pl.coalesce(pl.col(f"modifier_{i}"), parts.list.get(i - 1, null_on_oob=True)).alias(
            f"modifier_{i}"
        )
        for i in range(1, 5)
    )


def _qualifier() -> pl.Expr:
    q = pl.col("procedure_qualifier").str.to_uppercase()
    return pl.coalesce(q, pl.when(pl.col("procedure_code").is_not_null()).then(pl.lit("HC")))


def _line_to() -> pl.Expr:
    return pl.coalesce("service_date_to", "service_date_from")


def claim_heads(rows: pl.DataFrame, mapping: Mapping, extra: list[pl.Expr]) -> pl.DataFrame:
    """One row per claim: claim-level fields from its first row, plus line aggregates."""
    dx = [c for c in rows.columns if c.startswith("__dx")]
    return rows.group_by("claim_seq", maintain_order=True).agg(
        pl.col(_claim_level(mapping) + dx).first(),
        pl.col(ROW).first().alias("_first_row"),
        pl.col("service_date_from").min().alias("_min_from"),
        _line_to().max().alias("_max_to"),
        pl.len().alias("_rows"),
        *extra,
    )


# --------------------------------------------------------------------------- claims


def claims_tables(rows: pl.DataFrame, mapping: Mapping, file_id: str) -> dict[str, pl.DataFrame]:
    rows = _modifiers(rows, mapping)
    heads = claim_heads(rows, mapping, [_sum("charge_amount").alias("_line_charge")])
    lines = mapping.has_lines()
    claims = heads.with_columns(
        pl.lit("tabular").alias("version"),
        _claim_type().alias("claim_type"),
        pl.col("is_encounter").fill_null(False).alias("is_encounter"),
        pl.coalesce("claim_charge_amount", "_line_charge").alias("charge_amount"),
        pl.coalesce("patient_birth_date", "patient_birth_year").alias("patient_birth_year"),
        _sex().alias("patient_sex"),
        pl.coalesce("claim_service_date_from", "_min_from").alias("service_date_from"),
        pl.coalesce("claim_service_date_to", "_max_to").alias("service_date_to"),
        pl.col("patient_id").alias("patient_key"),
        (pl.col("_rows") if lines else pl.lit(0)).cast(pl.Int64).alias("line_count"),
    )
    out = {
        "claims": conform(claims, "claims", file_id),
        "diagnoses": _diagnoses(heads, mapping, file_id),
    }
    if lines:
        out["claim_lines"] = conform(_claim_lines(rows), "claim_lines", file_id)
    return out


def _claim_type() -> pl.Expr:
    t = pl.col("claim_type").str.to_lowercase()
    guess = (
        pl.when(pl.col("type_of_bill").is_not_null())
        .then(pl.lit("institutional"))
        .otherwise(pl.lit("professional"))
    )
    return (
        pl.when(t.str.starts_with("p"))
        .then(pl.lit("professional"))
        .when(t.str.starts_with("i"))
        .then(pl.lit("institutional"))
        .otherwise(pl.coalesce(t, guess))
    )


def _sex() -> pl.Expr:
    s = pl.col("patient_sex").str.to_uppercase().str.slice(0, 1)
    return pl.when(s.is_in(["F", "M", "U"])).then(s).when(s.is_not_null()).then(pl.lit("U"))


def _claim_lines(rows: pl.DataFrame) -> pl.DataFrame:
    return rows.with_columns(
        pl.col("_lineno").alias("line_number"),
        _qualifier().alias("procedure_qualifier"),
        pl.coalesce("charge_amount", "claim_charge_amount").alias("charge_amount"),
        pl.coalesce(pl.col("units"), pl.lit(1).cast(V.QUANTITY)).alias("units"),
        pl.coalesce(pl.col("unit_basis").str.to_uppercase(), pl.lit("UN")).alias("unit_basis"),
        pl.coalesce("line_place_of_service", "place_of_service").alias("place_of_service"),
        pl.coalesce("service_date_from", "claim_service_date_from").alias("service_date_from"),
        pl.coalesce("service_date_to", "service_date_from", "claim_service_date_to").alias(
            "service_date_to"
        ),
        pl.coalesce("line_rendering_npi", "rendering_npi").alias("rendering_npi"),
    )


def _diagnoses(heads: pl.DataFrame, mapping: Mapping, file_id: str) -> pl.DataFrame:
    dx = mapping.diagnoses
    if dx is None:
        return conform(pl.DataFrame(), "diagnoses", file_id).clear()
    parts = [
        heads.select("claim_seq", pl.lit(i).alias("_pos"), pl.col(f"__dx{i}").alias("code"))
        for i in range(len(dx.columns))
    ]
    if dx.list_column:
        listed = (
            heads.select("claim_seq", pl.col("__dxlist").str.split(dx.separator).alias("code"))
            .explode("code")
            .with_columns(pl.col("code").str.replace_all(r"[.\s]", "").str.to_uppercase())
            .with_columns((pl.int_range(pl.len()).over("claim_seq") + 1000).alias("_pos"))
            .select("claim_seq", "_pos", "code")
        )
        parts.append(listed)
    if not parts:
        return conform(pl.DataFrame(), "diagnoses", file_id).clear()
    long = (
        pl.concat([p.with_columns(pl.col("_pos").cast(pl.Int64)) for p in parts])
        .filter(pl.col("code").is_not_null() & (pl.col("code") != ""))
        .unique(["claim_seq", "code"], keep="first", maintain_order=True)
        .sort("claim_seq", "_pos")
        .with_columns((pl.int_range(pl.len()).over("claim_seq") + 1).alias("sequence"))
    )
    first, other = ("ABK", "ABF") if dx.code_system == "icd10" else ("BK", "BF")
    long = long.with_columns(
        (pl.col("sequence") == 1).alias("is_principal"),
        pl.when(pl.col("sequence") == 1)
        .then(pl.lit(first))
        .otherwise(pl.lit(other))
        .alias("qualifier"),
    )
    return conform(long, "diagnoses", file_id)


# --------------------------------------------------------------------------- remittance


def remit_tables(
    rows: pl.DataFrame, adj: pl.DataFrame, mapping: Mapping, file_id: str
) -> dict[str, pl.DataFrame]:
    """remit_claims (with ``_pkey``, the payment key, still attached), remit_lines, adjustments."""
    rows = _modifiers(rows, mapping)
    lines = mapping.has_lines()
    adj = _place_adjustments(rows, adj, mapping, lines)
    by_line = (
        adj.filter(pl.col("line_seq").is_not_null())
        .group_by("line_seq")
        .agg(_sum("amount").alias("_adj"))
    )
    heads = claim_heads(
        rows,
        mapping,
        [_sum("charge_amount").alias("_line_charge"), _sum("paid_amount").alias("_line_paid")],
    )
    claims = _remit_claims(heads, adj, lines)
    out = {"remit_claims": claims, "adjustments": conform(adj, "adjustments", file_id)}
    if lines:
        out["remit_lines"] = conform(_remit_lines(rows, by_line), "remit_lines", file_id)
    return out


def _place_adjustments(
    rows: pl.DataFrame, adj: pl.DataFrame, mapping: Mapping, lines: bool
) -> pl.DataFrame:
    """Attach adjustments to their claim (and line); claim-level ones from each claim's first row only."""
    keys = rows.select(ROW, "claim_seq", "line_seq")
    placed = adj.join(keys, on=ROW, how="inner")
    if lines and mapping.adjustment_level == "line":
        return placed.with_columns(pl.lit("line").alias("level")).sort(
            "line_seq", ROW, maintain_order=True
        )
    firsts = rows.group_by("claim_seq").agg(pl.col(ROW).min().alias(ROW))
    placed = placed.join(firsts, on=["claim_seq", ROW], how="semi")
    return placed.with_columns(
        pl.lit(None, pl.Int64).alias("line_seq"), pl.lit("claim").alias("level")
    ).sort("claim_seq", ROW, maintain_order=True)


def _remit_claims(heads: pl.DataFrame, adj: pl.DataFrame, lines: bool) -> pl.DataFrame:
    sums = adj.group_by("claim_seq").agg(
        _sum(pl.col("amount").filter(pl.col("level") == "claim")).alias("claim_adjustment_amount"),
        _sum(pl.col("amount").filter(pl.col("level") == "line")).alias("line_adjustment_amount"),
        _sum(pl.col("amount").filter(pl.col("group_code") == "PR")).alias("_pr"),
    )
    zero = pl.lit(0).cast(V.MONEY)
    c = heads.join(sums, on="claim_seq", how="left").with_columns(
        pl.coalesce("claim_charge_amount", "_line_charge").alias("charge_amount"),
        pl.coalesce("claim_paid_amount", "_line_paid").alias("paid_amount"),
        pl.coalesce("patient_responsibility", "_pr").alias("patient_responsibility"),
        pl.col("claim_adjustment_amount").fill_null(zero),
        pl.col("line_adjustment_amount").fill_null(zero),
        (pl.col("status_code") == "22").fill_null(False).alias("is_reversal"),
        pl.col("patient_id").alias("patient_key"),
        pl.coalesce("claim_service_date_from", "_min_from").alias("service_date_from"),
        pl.coalesce("claim_service_date_to", "_max_to").alias("service_date_to"),
        pl.col("claim_remark_codes").alias("remark_codes"),
        (pl.col("_rows") if lines else pl.lit(0)).cast(pl.Int64).alias("line_count"),
        _payment_key().alias("_pkey"),
    )
    diff = (
        pl.col("charge_amount")
        - pl.col("paid_amount")
        - pl.col("claim_adjustment_amount")
        - pl.col("line_adjustment_amount")
    ).cast(V.MONEY, strict=False)
    return c.with_columns(diff.alias("balance_difference")).with_columns(
        (pl.col("balance_difference") == 0).alias("balanced")
    )


def _payment_key() -> pl.Expr:
    parts = [
        pl.col(c).cast(pl.Utf8).fill_null("")
        for c in ("payer_id", "payer_name", "payment_date", "trace_number")
    ]
    return pl.concat_str(parts, separator="\x1f")


def _remit_lines(rows: pl.DataFrame, by_line: pl.DataFrame) -> pl.DataFrame:
    zero = pl.lit(0).cast(V.MONEY)
    lines = rows.join(by_line, on="line_seq", how="left").with_columns(
        pl.col("_lineno").alias("line_number"),
        _qualifier().alias("procedure_qualifier"),
        pl.coalesce("charge_amount", "claim_charge_amount").alias("charge_amount"),
        pl.coalesce("paid_amount", "claim_paid_amount").alias("paid_amount"),
        pl.coalesce(pl.col("units"), pl.lit(1).cast(V.QUANTITY)).alias("units"),
        pl.coalesce("service_date_from", "claim_service_date_from").alias("service_date_from"),
        pl.coalesce("service_date_to", "service_date_from", "claim_service_date_to").alias(
            "service_date_to"
        ),
        pl.col("_adj").fill_null(zero).alias("adjustment_amount"),
    )
    diff = (pl.col("charge_amount") - pl.col("paid_amount") - pl.col("adjustment_amount")).cast(
        V.MONEY, strict=False
    )
    return lines.with_columns(diff.alias("balance_difference")).with_columns(
        (pl.col("balance_difference") == 0).alias("balanced")
    )
