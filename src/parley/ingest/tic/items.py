"""Batches of TiC items (byte spans) -> flat Arrow rows, with the C++ JSON reader.

A batch is a run of items of one top-level array.  The items were chosen on
the code basket already (:func:`key_verdicts`: the index reports where the
items' ``"billing_code"`` keys are, and an item is kept when its own code is
in the basket or cannot be read without parsing; the exact filter on the
parsed code follows); a batch not chosen that way is pre-filtered by a byte
search for ``"billing_code":"X"`` (:func:`prefilter`).  It is newline-joined and parsed by
``pyarrow.json`` with an explicit schema; Polars then explodes rates, prices
and providers.  A batch the fast reader refuses (a number where a string is
expected, NPIs as strings...) is parsed item by item with the standard
library, and an item that is not JSON becomes a problem at its byte offset.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.json as pj

from parley.ingest.tic.options import Market

_S = pa.string()
_F = pa.float64()
TIN = pa.struct([("type", _S), ("value", _S)])
GROUP = pa.struct([("npi", pa.list_(pa.int64())), ("tin", TIN)])
PRICE = pa.struct(
    [
        ("negotiated_type", _S),
        ("negotiated_rate", _F),
        ("expiration_date", _S),
        ("service_code", pa.list_(_S)),
        ("billing_class", _S),
        ("setting", _S),
        ("billing_code_modifier", pa.list_(_S)),
        ("additional_information", _S),
    ]
)
RATE = pa.struct(
    [
        ("provider_references", pa.list_(_F)),
        ("provider_groups", pa.list_(GROUP)),
        ("negotiated_prices", pa.list_(PRICE)),
    ]
)
CODE_FIELDS = [("billing_code_type", _S), ("billing_code_type_version", _S), ("billing_code", _S)]
IN_NETWORK = pa.schema(
    [("negotiation_arrangement", _S), *CODE_FIELDS, ("negotiated_rates", pa.list_(RATE))]
)
PAYMENT = pa.struct(
    [
        ("allowed_amount", _F),
        ("billing_code_modifier", pa.list_(_S)),
        ("providers", pa.list_(pa.struct([("billed_charge", _F), ("npi", pa.list_(pa.int64()))]))),
    ]
)
ALLOWED = pa.struct(
    [
        ("tin", TIN),
        ("service_code", pa.list_(_S)),
        ("billing_class", _S),
        ("setting", _S),
        ("payments", pa.list_(PAYMENT)),
    ]
)
OUT_OF_NETWORK = pa.schema([*CODE_FIELDS, ("allowed_amounts", pa.list_(ALLOWED))])
PROVIDER_REFERENCE = pa.schema(
    [("provider_group_id", _F), ("provider_groups", pa.list_(GROUP)), ("location", _S)]
)

SCHEMAS = {
    "in_network": IN_NETWORK,
    "out_of_network": OUT_OF_NETWORK,
    "provider_references": PROVIDER_REFERENCE,
    "provider_groups": pa.schema(list(GROUP)),
}

#: the provider table a file's rates join to: group id -> (npi, tin)
PROVIDERS = pa.schema(
    [("provider_group_id", _F), ("npi", pa.int64()), ("tin_type", _S), ("tin_value", _S)]
)

_CODE_RE = re.compile(rb'"billing_code"\s*:\s*"([^"\\]*)"')
_STRING_FIELDS = {
    "billing_code_type",
    "billing_code_type_version",
    "billing_code",
    "negotiation_arrangement",
    "negotiated_type",
    "expiration_date",
    "billing_class",
    "setting",
    "additional_information",
    "type",
    "value",
    "location",
}


@dataclass
class BatchResult:
    """What one batch gives: flat rows and the providers it defines, plus problems."""

    rates: pa.Table | None = None  # priced rows with their providers
    by_ref: pa.Table | None = (
        None  # priced rows naming a provider_group_id, to join to the provider table
    )
    providers: pa.Table | None = None
    locations: list[tuple[float, str]] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)
    items: int = 0
    kept_items: int = 0
    bytes: int = 0
    written: int = 0  # rows the worker wrote itself (a RowSink), not returned in rates


_KEY_VALUE = re.compile(rb'"billing_code"\s*:\s*"([^"\\]*)"')
_KEY_NOT = re.compile(rb'"billing_code"\s*[,}\]]')


def key_verdicts(
    data: bytes | bytearray | memoryview, keys: np.ndarray, codes: frozenset[str]
) -> np.ndarray:
    """For each ``"billing_code"`` string at ``keys`` (offsets in ``data``): 1 = its value is
    in the basket or unreadable here (a number, an escape, cut by the end: the parse decides),
    0 = not in the basket, -1 = not a key (a string value that happens to read so)."""
    out = np.ones(len(keys), np.int8)
    for i, p in enumerate(keys.tolist()):
        m = _KEY_VALUE.match(data, p)
        if m is not None:
            out[i] = 1 if m.group(1).decode("latin-1") in codes else 0
        elif _KEY_NOT.match(data, p) is not None:
            out[i] = -1
    return out


def keep_items(spans: np.ndarray, key_pos: np.ndarray, key_keep: np.ndarray) -> np.ndarray:
    """The item spans holding at least one key to keep (positions in the same coordinates)."""
    if not len(spans) or not len(key_pos):
        return spans[:0]
    idx = np.searchsorted(spans[:, 0], key_pos, side="right") - 1
    inside = (idx >= 0) & (key_pos < spans[np.maximum(idx, 0), 1]) & key_keep
    kept: np.ndarray = spans[np.unique(idx[inside])]
    return kept


def prefilter(data: bytes, spans: np.ndarray, codes: frozenset[str] | None) -> np.ndarray:
    """Spans of the items that may hold a basket code (all spans without a basket)."""
    if codes is None or not len(spans):
        return spans
    found = [m.start() for m in _CODE_RE.finditer(data) if m.group(1).decode("latin-1") in codes]
    if not found:
        return spans[:0]
    hits = np.asarray(found, np.int64)
    starts = np.searchsorted(spans[:, 0], hits, side="right") - 1
    ok = (starts >= 0) & (hits < spans[np.maximum(starts, 0), 1])
    kept: np.ndarray = spans[np.unique(starts[ok])]
    return kept


def ndjson(data: bytes, spans: np.ndarray) -> bytes:
    """The spans' bytes, one item per line (newlines inside items become spaces)."""
    joined = b"\n".join(data[s:e] for s, e in spans.tolist())
    if joined.count(b"\n") != len(spans) - 1:
        parts = [data[s:e].replace(b"\r", b" ").replace(b"\n", b" ") for s, e in spans.tolist()]
        joined = b"\n".join(parts)
    return joined


def parse(
    data: bytes, spans: np.ndarray, kind: str, base: int | np.ndarray
) -> tuple[pa.Table, list[dict[str, Any]]]:
    """Parse item spans with the fast reader; fall back to item-by-item on refusal.

    ``base``: the file offset of ``data`` (problems name ``base + start``), or the
    file offset of each span when ``data`` was gathered from several places.
    """
    schema = SCHEMAS[kind]
    if not len(spans):
        return schema.empty_table(), []
    text = ndjson(data, spans)
    opts = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
    try:
        return pj.read_json(
            io.BytesIO(text), parse_options=opts, read_options=_read_options(len(text))
        ), []
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return _parse_slowly(data, spans, schema, base)


def _read_options(size: int) -> pj.ReadOptions:
    return pj.ReadOptions(use_threads=False, block_size=max(1 << 20, min(size + 1, 1 << 30)))


def _parse_slowly(
    data: bytes, spans: np.ndarray, schema: pa.Schema, base: int | np.ndarray
) -> tuple[pa.Table, list[dict[str, Any]]]:
    rows: list[dict[str, Any]] = []
    problems: list[dict[str, Any]] = []
    where = base.tolist() if isinstance(base, np.ndarray) else (spans[:, 0] + base).tolist()
    for (s, e), at in zip(spans.tolist(), where, strict=True):
        try:
            rows.append(_coerce(json.loads(data[s:e]), schema))
        except (ValueError, TypeError) as exc:
            problems.append(
                item_problem("tic.bad_item", f"an item is not valid TiC JSON ({exc})", int(at))
            )
    return pa.Table.from_pylist(rows, schema=schema), problems


def item_problem(code: str, message: str, offset: int) -> dict[str, Any]:
    return {
        "severity": "error",
        "code": code,
        "message": f"byte {offset}: {message}",
        "element": f"byte {offset}",
        "quarantined": True,
    }


def _coerce(value: Any, schema: Any) -> Any:
    """Normalise one parsed item to the Arrow schema (strings, integer NPIs)."""
    if isinstance(schema, pa.Schema):
        return (
            {f.name: _coerce(value.get(f.name), f.type) for f in schema}
            if isinstance(value, dict)
            else None
        )
    if value is None:
        return None
    if pa.types.is_struct(schema):
        if not isinstance(value, dict):
            raise TypeError(f"expected an object, got {type(value).__name__}")
        return {f.name: _coerce(value.get(f.name), f.type) for f in schema}
    if pa.types.is_list(schema):
        items = value if isinstance(value, list) else [value]
        return [_coerce(v, schema.value_type) for v in items]
    if pa.types.is_string(schema):
        return str(value)
    if pa.types.is_int64(schema):
        return int(float(value))
    if pa.types.is_float64(schema):
        return float(value)
    return value


# --- flattening -----------------------------------------------------------------------------


def _join_list(col: str, name: str) -> pl.Expr:
    return pl.col(col).list.join(",").alias(name)


def _money(col: str) -> pl.Expr:
    value = pl.col(col)
    return pl.when(value.abs() < 1e11).then(value.round(2)).otherwise(None).cast(pl.Decimal(14, 2))


def providers_of(table: pa.Table, market: Market) -> pa.Table:
    """provider_references items -> (group id, npi, tin), filtered to the market."""
    df = pl.from_arrow(table)
    assert isinstance(df, pl.DataFrame)
    df = df.filter(pl.col("provider_groups").is_not_null()).select(
        "provider_group_id", "provider_groups"
    )
    return _explode_groups(
        df.explode("provider_groups"), "provider_groups", market, ["provider_group_id"]
    )


def _explode_groups(df: pl.DataFrame, col: str, market: Market, keys: list[str]) -> pa.Table:
    g = pl.col(col)
    flat = df.select(
        *keys,
        g.struct.field("npi").alias("npi"),
        g.struct.field("tin").struct.field("type").alias("tin_type"),
        g.struct.field("tin").struct.field("value").alias("tin_value"),
    ).filter(pl.col("npi").is_not_null() | pl.col("tin_value").is_not_null())
    flat = flat.with_columns(pl.col("tin_value").str.replace_all(r"\D", "").alias("tin_value"))
    flat = flat.explode("npi")
    flat = _market_filter(flat, market)
    return flat.to_arrow()


def _market_filter(flat: pl.DataFrame, market: Market) -> pl.DataFrame:
    if not market.active:
        return flat
    cond = pl.lit(False)
    if market.npis is not None:
        cond = cond | pl.col("npi").is_in(list(market.npis))
    if market.tins is not None:
        cond = cond | pl.col("tin_value").is_in(list(market.tins))
    return flat.filter(cond)


def flatten_in_network(
    table: pa.Table, codes: frozenset[str] | None, market: Market
) -> tuple[pa.Table, pa.Table]:
    """(priced rows with a provider_group_id, priced rows with inline providers resolved)."""
    df = pl.from_arrow(table)
    assert isinstance(df, pl.DataFrame)
    if codes is not None:
        df = df.filter(pl.col("billing_code").is_in(list(codes)))
    head = [
        "negotiation_arrangement",
        "billing_code_type",
        "billing_code_type_version",
        "billing_code",
    ]
    rates = df.explode("negotiated_rates").filter(pl.col("negotiated_rates").is_not_null())
    rates = rates.with_row_index("rate_id").unnest("negotiated_rates")
    price = pl.col("negotiated_prices")
    prices = (
        rates.select("rate_id", *head, "negotiated_prices")
        .explode("negotiated_prices")
        .filter(price.is_not_null())
        .unnest("negotiated_prices")
        .select(
            "rate_id",
            *head,
            "negotiated_type",
            _money("negotiated_rate").alias("rate"),
            pl.col("expiration_date").str.to_date(strict=False).alias("expiration_date"),
            _join_list("service_code", "service_codes"),
            "billing_class",
            "setting",
            _join_list("billing_code_modifier", "modifiers"),
            "additional_information",
        )
    )
    refs = (
        rates.select("rate_id", "provider_references").explode("provider_references").drop_nulls()
    )
    by_ref = prices.join(refs.rename({"provider_references": "provider_group_id"}), on="rate_id")
    groups = rates.select("rate_id", "provider_groups").explode("provider_groups").drop_nulls()
    inline = pl.from_arrow(_explode_groups(groups, "provider_groups", market, ["rate_id"]))
    assert isinstance(inline, pl.DataFrame)
    resolved = prices.join(inline, on="rate_id")
    return by_ref.drop("rate_id").to_arrow(), resolved.drop("rate_id").to_arrow()


def resolve(by_ref: pa.Table, providers: pa.Table) -> pa.Table:
    """Join priced rows holding a group id to the provider table (inner: market only)."""
    left = pl.from_arrow(by_ref)
    right = pl.from_arrow(providers)
    assert isinstance(left, pl.DataFrame) and isinstance(right, pl.DataFrame)
    left = left.drop([c for c in right.columns if c in left.columns and c != "provider_group_id"])
    return left.join(right, on="provider_group_id").to_arrow()


def flatten_allowed(table: pa.Table, codes: frozenset[str] | None, market: Market) -> pa.Table:
    """out_of_network items -> one row per allowed amount x provider NPI."""
    df = pl.from_arrow(table)
    assert isinstance(df, pl.DataFrame)
    if codes is not None:
        df = df.filter(pl.col("billing_code").is_in(list(codes)))
    head = ["billing_code_type", "billing_code_type_version", "billing_code"]
    amounts = (
        df.explode("allowed_amounts")
        .filter(pl.col("allowed_amounts").is_not_null())
        .unnest("allowed_amounts")
    )
    amounts = amounts.with_columns(
        pl.col("tin").struct.field("type").alias("tin_type"),
        pl.col("tin").struct.field("value").str.replace_all(r"\D", "").alias("tin_value"),
        _join_list("service_code", "service_codes"),
    )
    pays = amounts.explode("payments").filter(pl.col("payments").is_not_null()).unnest("payments")
    provs = pays.explode("providers").unnest("providers").explode("npi")
    out = provs.select(
        *head,
        pl.lit("allowed amount").alias("negotiated_type"),
        _money("allowed_amount").alias("rate"),
        _money("billed_charge").alias("billed_charge"),
        "service_codes",
        "billing_class",
        "setting",
        _join_list("billing_code_modifier", "modifiers"),
        "npi",
        "tin_type",
        "tin_value",
    )
    return _market_filter(out, market).to_arrow()


def provider_locations(table: pa.Table) -> list[tuple[float, str]]:
    """(group id, URL) of provider references that point to a remote file."""
    rows = table.select(["provider_group_id", "location"]).to_pylist()
    return [(r["provider_group_id"], r["location"]) for r in rows if r["location"]]
