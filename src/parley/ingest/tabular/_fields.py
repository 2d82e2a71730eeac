"""From a batch of text cells to typed fields, error flags and adjustment rows.

:func:`evaluate` turns the source columns named by a mapping into one typed
column per field of the mapping's kind (null when unmapped), plus boolean
flag columns ``__bad:<field>`` / ``__miss:<field>`` that the reader turns into
quarantine problems.  All of it is Polars expressions: no per-row Python.
"""

from __future__ import annotations

import polars as pl

from parley.ingest.tabular import _values as V
from parley.ingest.tabular._sources import ROW
from parley.ingest.tabular.mapping import FIELDS, REQUIRED, Mapping, Source

CKEY = "_ckey"
BAD = "__bad:"
MISS = "__miss:"

DTYPES: dict[str, pl.DataType] = {
    "text": pl.Utf8(),
    "patient": pl.Utf8(),
    "money": V.MONEY,
    "quantity": V.QUANTITY,
    "date": pl.Date(),
    "integer": pl.Int32(),
    "birth_date": pl.Int32(),
    "flag": pl.Boolean(),
}

#: the problem code for a cell of each type that does not parse
BAD_CODES = {
    "money": "tabular.bad_amount",
    "quantity": "tabular.bad_amount",
    "date": "tabular.bad_date",
    "birth_date": "tabular.bad_date",
    "integer": "tabular.bad_number",
    "flag": "tabular.bad_flag",
}

_PAYMENT_KEY = ("payer_id", "payer_name", "payment_date", "trace_number")


def raw(src: Source) -> pl.Expr:
    """The text a field's source gives: a column, a constant, or a concatenation."""
    if src.value is not None:
        return pl.lit(src.value, pl.Utf8)
    if src.column is not None:
        return V.clean(pl.col(src.column))
    parts = [V.clean(pl.col(c)) for c in src.concat or []]
    joined = pl.concat_str([p.fill_null("") for p in parts], separator=src.separator)
    return pl.when(pl.all_horizontal([p.is_null() for p in parts])).then(None).otherwise(joined)


def required_fields(mapping: Mapping) -> set[str]:
    return {name for group in REQUIRED[mapping.kind] for name in group if name in mapping.columns}


def claim_key(mapping: Mapping) -> pl.Expr:
    """The text key that groups rows into one claim (for remittances: within one payment)."""
    claim_id = raw(mapping.columns["claim_id"])
    if mapping.kind == "claims":
        return claim_id.alias(CKEY)
    parts = [claim_id] + [raw(mapping.columns[n]) for n in _PAYMENT_KEY if n in mapping.columns]
    key = pl.concat_str([p.fill_null("") for p in parts], separator="\x1f")
    return pl.when(claim_id.is_null()).then(None).otherwise(key).alias(CKEY)


def evaluate(df: pl.DataFrame, mapping: Mapping, date_formats: list[str]) -> pl.DataFrame:
    """Typed fields plus flags, one row per source row (``_row`` and ``_ckey`` kept)."""
    comma = mapping.format.decimal_comma
    required = required_fields(mapping)
    texts = df.select([raw(src).alias(name) for name, src in mapping.columns.items()])
    out: list[pl.Series] = [df[ROW], df[CKEY]]
    unmapped: list[pl.Expr] = []
    for name, fdef in FIELDS[mapping.kind].items():
        if name not in mapping.columns:
            unmapped.append(pl.lit(None, DTYPES[fdef.type]).alias(name))
            continue
        text = texts[name]
        value, bad = _parse(text, fdef.type, date_formats, comma)
        out += [value.alias(name), bad.alias(BAD + name)]
        if name in required:
            out.append(text.is_null().alias(MISS + name))
    frame = pl.DataFrame(out).with_columns(unmapped)
    dx = _diagnosis_exprs(mapping)
    return frame.with_columns(df.select(dx)) if dx else frame


def _parse(
    text: pl.Series, type_: str, formats: list[str], comma: bool
) -> tuple[pl.Series, pl.Series]:
    if type_ == "money":
        return V.money(text, decimal_comma=comma)
    if type_ == "quantity":
        return V.quantity(text, decimal_comma=comma)
    if type_ == "date":
        return V.date(text, formats)
    if type_ == "birth_date":
        return V.birth_year(text, formats)
    if type_ == "integer":
        return V.integer(text)
    if type_ == "flag":
        return V.flag(text)
    return text, pl.Series([False] * len(text), dtype=pl.Boolean)


def _diagnosis_exprs(mapping: Mapping) -> list[pl.Expr]:
    dx = mapping.diagnoses
    if dx is None:
        return []

    def code(e: pl.Expr) -> pl.Expr:
        c = e.str.replace_all(".", "", literal=True).str.to_uppercase()
        return pl.when(c == "").then(None).otherwise(c)

    out = [code(V.clean(pl.col(c))).alias(f"__dx{i}") for i, c in enumerate(dx.columns)]
    if dx.list_column:
        out.append(V.clean(pl.col(dx.list_column)).alias("__dxlist"))
    return out


def flag_columns(frame: pl.DataFrame) -> list[str]:
    return [c for c in frame.columns if c.startswith((BAD, MISS))]


# --------------------------------------------------------------------------- adjustments

_ADJ_ENTRY = r"^\s*(?:([A-Za-z]{2})\s*[-/ ]\s*)?([A-Za-z0-9]{1,5})\s*[:=]\s*(.+?)\s*$"


def adjustments(df: pl.DataFrame, mapping: Mapping) -> pl.DataFrame:
    """Adjustment entries of the batch, long: one row per (source row, adjustment).

    Columns: _row, group_code, reason_code, amount, quantity, __code (problem
    code or null) and __col (the source column concerned).
    """
    adj = mapping.adjustments
    empty = pl.DataFrame(schema=_ADJ_SCHEMA)
    if adj is None:
        return empty
    default = pl.lit(adj.default_group, pl.Utf8)
    parts = [_pair_frame(df, p.group, p.reason, p.amount, p.quantity, default) for p in adj.pairs]
    if adj.list_column:
        parts.append(_list_frame(df, adj.list_column, adj.list_separator, default))
    parts = [p for p in parts if p.height]
    if not parts:
        return empty
    long = pl.concat(parts, how="vertical")
    amount, bad_amount = V.money(long["_amount_text"], decimal_comma=mapping.format.decimal_comma)
    qty, bad_qty = V.quantity(long["_qty_text"], decimal_comma=mapping.format.decimal_comma)
    long = long.with_columns(bad_amount.alias("_bad_amount"), bad_qty.alias("_bad_qty"))
    code = (
        pl.when(pl.col("_unparsed"))
        .then(pl.lit("tabular.bad_amount"))
        .when(pl.col("_amount_text").is_null() | pl.col("reason_code").is_null())
        .then(pl.lit("tabular.missing_value"))
        .when(pl.col("_bad_amount") | pl.col("_bad_qty"))
        .then(pl.lit("tabular.bad_amount"))
        .otherwise(None)
    )
    return long.with_columns(
        amount.alias("amount"), qty.alias("quantity"), code.alias("__code")
    ).select(list(_ADJ_SCHEMA))


_ADJ_SCHEMA = {
    ROW: pl.Int64(),
    "group_code": pl.Utf8(),
    "reason_code": pl.Utf8(),
    "amount": V.MONEY,
    "quantity": V.QUANTITY,
    "__code": pl.Utf8(),
    "__col": pl.Utf8(),
}


def _pair_frame(
    df: pl.DataFrame,
    group: str | None,
    reason: str,
    amount: str,
    quantity: str | None,
    default: pl.Expr,
) -> pl.DataFrame:
    g = V.clean(pl.col(group)).str.to_uppercase() if group else default
    q = V.clean(pl.col(quantity)) if quantity else pl.lit(None, pl.Utf8)
    out = df.select(
        pl.col(ROW),
        pl.coalesce(g, default).alias("group_code"),
        V.clean(pl.col(reason)).str.to_uppercase().alias("reason_code"),
        V.clean(pl.col(amount)).alias("_amount_text"),
        q.alias("_qty_text"),
        pl.lit(False).alias("_unparsed"),
        pl.lit(amount).alias("__col"),
    )
    return out.filter(pl.col("_amount_text").is_not_null() | pl.col("reason_code").is_not_null())


def _list_frame(df: pl.DataFrame, column: str, separator: str, default: pl.Expr) -> pl.DataFrame:
    entries = (
        df.select(pl.col(ROW), V.clean(pl.col(column)).str.split(separator).alias("_entry"))
        .explode("_entry")
        .with_columns(V.clean(pl.col("_entry")).alias("_entry"))
        .filter(pl.col("_entry").is_not_null())
    )
    parts = pl.col("_entry").str.extract_groups(_ADJ_ENTRY)
    return entries.select(
        pl.col(ROW),
        pl.coalesce(parts.struct.field("1").str.to_uppercase(), default).alias("group_code"),
        parts.struct.field("2").str.to_uppercase().alias("reason_code"),
        parts.struct.field("3").alias("_amount_text"),
        pl.lit(None, pl.Utf8).alias("_qty_text"),
        parts.struct.field("2").is_null().alias("_unparsed"),
        pl.lit(column).alias("__col"),
    )
