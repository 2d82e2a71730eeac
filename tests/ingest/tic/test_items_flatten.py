"""The Arrow flattening helpers of TiC batches: Polars' explode / round / join semantics."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pytest

from parley.ingest.tic import items as it


def test_explode_drops_or_keeps_empty_and_null_lists_like_polars() -> None:
    table = pa.table({"k": [1, 2, 3, 4], "xs": [[10, None, 11], [], None, [12]]})
    dropped = it._explode(table, "xs")
    assert dropped.to_pydict() == {"k": [1, 1, 4], "xs": [10, 11, 12]}
    kept = it._explode(table, "xs", keep_nulls=True)
    assert kept.to_pydict() == {
        "k": [1, 1, 1, 2, 3, 4],
        "xs": [10, None, 11, None, None, 12],
    }
    assert kept.column_names == ["k", "xs"]  # the column stays where it was


def test_unnest_puts_fields_in_place_and_a_null_struct_gives_null_fields() -> None:
    struct = pa.array([{"a": 1, "b": "x"}, None], pa.struct([("a", pa.int64()), ("b", pa.string())]))
    out = it._unnest(pa.table({"k": [1, 2], "s": struct, "z": [0, 0]}), "s")
    assert out.column_names == ["k", "a", "b", "z"]
    assert out.to_pydict()["a"] == [1, None] and out.to_pydict()["b"] == ["x", None]


def test_money_is_polars_round_2_exactly_and_null_when_out_of_range() -> None:
    values = [0.125, 2.675, 1.005, -2.675, 37675.245, 99999999999.99, 1e11, float("nan"), None]
    got = it._money(pa.array(values, pa.float64())).to_pylist()
    finite = np.array(values[:6], dtype=np.float64)
    cents = np.rint(finite * 100).astype(np.int64)  # Polars' round(2) on float64
    assert got[:6] == [Decimal(int(c)).scaleb(-2) for c in cents]
    assert got[6:] == [None, None, None]
    assert it._money(pa.array([], pa.float64())).type == pa.decimal128(14, 2)


def test_joined_skips_null_elements_and_keeps_null_lists() -> None:
    lists = pa.array([["a", None, "b"], [], None, ["c"]], pa.list_(pa.string()))
    assert it._joined(lists).to_pylist() == ["a,b", "", None, "c"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-12-31", dt.date(2025, 12, 31)),
        (" 2025-12-31T00:00:00Z", dt.date(2025, 12, 31)),
        ("2025/12/31", dt.date(2025, 12, 31)),
        ("12/31/2025", dt.date(2025, 12, 31)),
        ("20251231", dt.date(2025, 12, 31)),
        ("31-12-2025", None),
        ("soon", None),
        (None, None),
    ],
)
def test_expiration_dates_in_the_forms_payers_write(text: str | None, expected: dt.date | None) -> None:
    assert it._dates(pa.array([text, "2024-01-02"], pa.string())).to_pylist() == [
        expected,
        dt.date(2024, 1, 2),
    ]


def test_inner_join_keeps_left_order_then_right_order_and_never_matches_nulls() -> None:
    left = pa.table({"g": [2.0, 1.0, None, 3.0], "v": ["a", "b", "c", "d"]})
    right = pa.table({"g": [1.0, 2.0, 1.0, None], "npi": [10, 20, 11, 99]})
    out = it._inner_join(left, right, "g")
    assert out.to_pydict() == {"g": [2.0, 1.0, 1.0], "v": ["a", "b", "b"], "npi": [20, 10, 11]}
