"""Batches of TiC items (byte spans) -> flat Arrow rows, with the C++ JSON reader.

A batch is a run of items of one top-level array.  The items were chosen on
the code basket already (:func:`key_verdicts`: the index reports where the
items' ``"billing_code"`` keys are, and an item is kept when its own code is
in the basket or cannot be read without parsing; the exact filter on the
parsed code follows); a batch not chosen that way is pre-filtered by a byte
search for ``"billing_code":"X"`` (:func:`prefilter`).  It is newline-joined and parsed by
``pyarrow.json`` with an explicit schema, then rates, prices and providers are
exploded in Arrow.  A batch the fast reader refuses (a number where a string is
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
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from parley.ingest.tic import constant_string
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
#
# In Arrow (pyarrow.compute and numpy index arithmetic), not Polars: the pool's workers then
# never import Polars (about a quarter of a second of every forkserver's start-up), and the
# rows keep the store's ``string`` type (a Polars frame hands back ``string_view`` columns,
# whose cast back copies every string).  The semantics are Polars' explode / unnest / join,
# which the golden tests compare with a plain-Python reference flattener.


def _explode(table: pa.Table, col: str, *, keep_nulls: bool = False) -> pa.Table:
    """One row per element of the list column ``col``, the other columns repeated, in order.

    ``keep_nulls``: a null or empty list gives one row with a null element and null
    elements stay (Polars' ``explode``); otherwise both are dropped (``explode`` followed
    by a filter on the element).
    """
    at = table.schema.get_field_index(col)
    lists = table.column(col).combine_chunks()
    n = len(lists)
    values = lists.flatten()
    lengths = _int64(pc.list_value_length(lists).fill_null(0))
    rest = table.remove_column(at)
    if not keep_nulls:
        parent = np.repeat(np.arange(n, dtype=np.int64), lengths)
        if values.null_count:
            valid = _bools(values.is_valid())
            parent, values = parent[valid], values.filter(valid)
        return rest.take(parent).add_column(at, col, values)
    rows = np.maximum(lengths, 1)
    parent = np.repeat(np.arange(n, dtype=np.int64), rows)
    first = np.cumsum(lengths) - lengths  # each list's first element in ``values``
    rank = np.arange(len(parent), dtype=np.int64) - np.repeat(np.cumsum(rows) - rows, rows)
    empty = (lengths == 0)[parent]
    index = pa.array(first[parent] + rank, mask=empty) if empty.any() else first[parent] + rank
    return rest.take(parent).add_column(at, col, values.take(index))


def _unnest(table: pa.Table, col: str) -> pa.Table:
    """The struct column ``col`` replaced by its fields, in place (null struct: null fields)."""
    at = table.schema.get_field_index(col)
    structs = table.column(col)
    out = table.remove_column(at)
    for k, f in enumerate(structs.type):
        out = out.add_column(at + k, f.name, pc.struct_field(structs, [k]))
    return out


def _int64(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.int64)


def _bools(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=bool)


def _joined(lists: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Each list's strings joined with "," (null elements skipped, as Polars' ``list.join``)."""
    arr = lists.combine_chunks() if isinstance(lists, pa.ChunkedArray) else lists
    values = arr.flatten()
    if values.null_count:
        lengths = _int64(pc.list_value_length(arr).fill_null(0))
        parent = np.repeat(np.arange(len(arr), dtype=np.int64), lengths)
        valid = _bools(values.is_valid())
        counts = np.bincount(parent[valid], minlength=len(arr))
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
        arr = pa.ListArray.from_arrays(pa.array(offsets), values.filter(valid), mask=arr.is_null())
    return pc.binary_join(arr, ",")


def _money(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """A float amount as DECIMAL(14, 2): ``rint(x * 100)`` cents (Polars' ``round(2)``), null
    when missing, not finite or 1e11 and over (no 14-digit decimal holds it)."""
    x = np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)  # nulls -> NaN
    with np.errstate(invalid="ignore"):
        ok = np.abs(x) < 1e11
    cents = np.rint(np.where(ok, x, 0.0) * 100).astype(np.int64)
    words = np.empty(2 * len(cents), np.int64)  # little-endian 128-bit two's complement
    words[0::2] = cents
    words[1::2] = cents >> 63
    validity = None if ok.all() else pa.py_buffer(np.packbits(ok, bitorder="little"))
    return pa.Array.from_buffers(
        pa.decimal128(14, 2), len(cents), [validity, pa.py_buffer(words)], null_count=-1
    )


#: expiration dates as payers write them: ISO first (the schema's), then common variants
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%m/%d/%Y", "%Y%m%d")


def _dates(text: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Date strings -> date32 (ISO, also with a time part, or a common variant); else null."""
    text = pc.utf8_trim_whitespace(text)
    stamped = pc.match_substring_regex(text, r"^\d{4}-\d{2}-\d{2}[T ]")
    text = pc.if_else(stamped, pc.utf8_slice_codeunits(text, 0, 10), text)
    out = None
    for fmt in _DATE_FORMATS:
        parsed = pc.strptime(text, format=fmt, unit="s", error_is_null=True)
        out = parsed if out is None else pc.coalesce(out, parsed)
        if out.null_count == text.null_count:
            break
    return pc.cast(out, pa.date32())


def _inner_join(left: pa.Table, right: pa.Table, key: str) -> pa.Table:
    """Inner join on ``key`` (null keys never match): left's rows in order, each followed by
    its matches in right's order; right's other columns appended."""
    right = right.filter(pc.is_valid(right.column(key)))
    rk = right.column(key).to_numpy()
    order = np.argsort(rk, kind="stable")
    rk = rk[order]
    lk = left.column(key).to_numpy(zero_copy_only=False)
    lo = np.searchsorted(rk, lk, side="left")
    hi = np.searchsorted(rk, lk, side="right")
    if left.column(key).null_count:
        hi = np.where(_bools(pc.is_valid(left.column(key))), hi, lo)
    counts = hi - lo
    li = np.repeat(np.arange(len(lk), dtype=np.int64), counts)
    rank = np.arange(len(li), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    ri = order[np.repeat(lo, counts) + rank]
    out = left.take(li)
    for name in right.column_names:
        if name != key:
            out = out.append_column(name, right.column(name).take(ri))
    return out


def _select(table: pa.Table, columns: dict[str, Any]) -> pa.Table:
    """A table of the named columns: a name (str) takes the column as it is."""
    arrays = [table.column(v) if isinstance(v, str) else v for v in columns.values()]
    return pa.Table.from_arrays(arrays, names=list(columns))


def _in_basket(table: pa.Table, codes: frozenset[str] | None) -> pa.Table:
    if codes is None:
        return table
    basket = pa.array(sorted(codes), _S)
    return table.filter(pc.is_in(table.column("billing_code"), value_set=basket))


def providers_of(table: pa.Table, market: Market) -> pa.Table:
    """provider_references items -> (group id, npi, tin), filtered to the market."""
    groups = _explode(table.select(["provider_group_id", "provider_groups"]), "provider_groups")
    return _explode_groups(groups, "provider_groups", market, ["provider_group_id"])


def _explode_groups(table: pa.Table, col: str, market: Market, keys: list[str]) -> pa.Table:
    g = table.column(col)
    tin = pc.struct_field(g, "tin")
    flat = _select(
        table,
        {
            **{k: k for k in keys},
            "npi": pc.struct_field(g, "npi"),
            "tin_type": pc.struct_field(tin, "type"),
            "tin_value": pc.struct_field(tin, "value"),
        },
    )
    flat = flat.filter(
        pc.or_(pc.is_valid(flat.column("npi")), pc.is_valid(flat.column("tin_value")))
    )
    digits = pc.replace_substring_regex(flat.column("tin_value"), pattern=r"\D", replacement="")
    flat = flat.set_column(flat.schema.get_field_index("tin_value"), "tin_value", digits)
    return _market_filter(_explode(flat, "npi", keep_nulls=True), market)


def _market_filter(flat: pa.Table, market: Market) -> pa.Table:
    if not market.active:
        return flat
    keep = pa.array(np.zeros(flat.num_rows, bool))
    if market.npis is not None:
        npis = pa.array(sorted(market.npis), pa.int64())
        keep = pc.or_(keep, pc.is_in(flat.column("npi"), value_set=npis))
    if market.tins is not None:
        tins = pa.array(sorted(market.tins), _S)
        keep = pc.or_(keep, pc.is_in(flat.column("tin_value"), value_set=tins))
    return flat.filter(keep)


_HEAD = [
    "negotiation_arrangement",
    "billing_code_type",
    "billing_code_type_version",
    "billing_code",
]


def flatten_in_network(
    table: pa.Table, codes: frozenset[str] | None, market: Market
) -> tuple[pa.Table, pa.Table]:
    """(priced rows with a provider_group_id, priced rows with inline providers resolved)."""
    rates = _explode(_in_basket(table, codes), "negotiated_rates")
    rates = _unnest(
        rates.add_column(0, "rate_id", pa.array(np.arange(rates.num_rows))), "negotiated_rates"
    )
    prices = _unnest(
        _explode(rates.select(["rate_id", *_HEAD, "negotiated_prices"]), "negotiated_prices"),
        "negotiated_prices",
    )
    prices = _select(
        prices,
        {
            "rate_id": "rate_id",
            **{h: h for h in _HEAD},
            "negotiated_type": "negotiated_type",
            "rate": _money(prices.column("negotiated_rate")),
            "expiration_date": _dates(prices.column("expiration_date")),
            "service_codes": _joined(prices.column("service_code")),
            "billing_class": "billing_class",
            "setting": "setting",
            "modifiers": _joined(prices.column("billing_code_modifier")),
            "additional_information": "additional_information",
        },
    )
    refs = _explode(rates.select(["rate_id", "provider_references"]), "provider_references")
    refs = refs.rename_columns(["rate_id", "provider_group_id"])
    by_ref = _inner_join(prices, refs, "rate_id")
    groups = _explode(rates.select(["rate_id", "provider_groups"]), "provider_groups")
    inline = _explode_groups(groups, "provider_groups", market, ["rate_id"])
    resolved = _inner_join(prices, inline, "rate_id")
    return by_ref.drop_columns(["rate_id"]), resolved.drop_columns(["rate_id"])


def resolve(by_ref: pa.Table, providers: pa.Table) -> pa.Table:
    """Join priced rows holding a group id to the provider table (inner: market only)."""
    shared = [
        c for c in providers.column_names if c in by_ref.column_names and c != "provider_group_id"
    ]
    return _inner_join(by_ref.drop_columns(shared), providers, "provider_group_id")


def flatten_allowed(table: pa.Table, codes: frozenset[str] | None, market: Market) -> pa.Table:
    """out_of_network items -> one row per allowed amount x provider NPI."""
    amounts = _unnest(_explode(_in_basket(table, codes), "allowed_amounts"), "allowed_amounts")
    tin = amounts.column("tin")
    digits = pc.replace_substring_regex(
        pc.struct_field(tin, "value"), pattern=r"\D", replacement=""
    )
    amounts = (
        amounts.append_column("tin_type", pc.struct_field(tin, "type"))
        .append_column("tin_value", digits)
        .append_column("service_codes", _joined(amounts.column("service_code")))
    )
    pays = _unnest(_explode(amounts, "payments"), "payments")
    provs = _explode(
        _unnest(_explode(pays, "providers", keep_nulls=True), "providers"), "npi", keep_nulls=True
    )
    out = _select(
        provs,
        {
            **{h: h for h in _HEAD[1:]},
            "negotiated_type": constant_string("allowed amount", provs.num_rows),
            "rate": _money(provs.column("allowed_amount")),
            "billed_charge": _money(provs.column("billed_charge")),
            "service_codes": "service_codes",
            "billing_class": "billing_class",
            "setting": "setting",
            "modifiers": _joined(provs.column("billing_code_modifier")),
            "npi": "npi",
            "tin_type": "tin_type",
            "tin_value": "tin_value",
        },
    )
    return _market_filter(out, market)


def provider_locations(table: pa.Table) -> list[tuple[float, str]]:
    """(group id, URL) of provider references that point to a remote file."""
    rows = table.select(["provider_group_id", "location"]).to_pylist()
    return [(r["provider_group_id"], r["location"]) for r in rows if r["location"]]
