"""The compiled structural index (numba) equals the numpy one, block by block and in parts."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parley.ingest.tic import _index
from parley.ingest.tic.scan import Events, ScanState, structure

pytestmark = pytest.mark.skipif(not _index.ENABLED, reason="numba is not installed")

_CHARS = list('{}[]",:\\ab_ é\n\t') + ["billing_code", '"billing_code"']
_TEXT = st.lists(st.sampled_from(_CHARS), max_size=12).map("".join)
_SCALAR = st.one_of(st.integers(-5, 10**6), _TEXT, st.none(), st.booleans())


def _json_values() -> st.SearchStrategy[object]:
    return st.recursive(
        _SCALAR,
        lambda inner: st.one_of(
            st.lists(inner, max_size=5),
            st.dictionaries(
                st.sampled_from(["billing_code", "a", "b{", 'q"]', "x\\"]), inner, max_size=4
            ),
        ),
        max_leaves=40,
    )


def _doc() -> st.SearchStrategy[bytes]:
    item = st.fixed_dictionaries(
        {"billing_code": st.one_of(_TEXT, st.integers(0, 99999))},
        optional={"rates": _json_values(), "note": _TEXT},
    )
    doc = st.fixed_dictionaries(
        {"version": _TEXT, "in_network": st.lists(item, max_size=6)},
        optional={"provider_references": st.lists(_json_values(), max_size=4), "z": _json_values()},
    )
    return st.tuples(doc, st.sampled_from([None, 0, 1, 2])).map(
        lambda d: json.dumps(d[0], indent=d[1], ensure_ascii=False).encode()
    )


def _same(a: Events, b: Events) -> None:
    for name in ("pos", "delta", "depth", "is_array", "keys", "key_depth"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name


def _in_parts(data: bytes, cut: int, compiled: bool, **kw: object) -> tuple[Events, ScanState]:
    state = ScanState()
    parts = []
    for i in range(0, len(data), cut):
        events, state = structure(
            data[i:], state, end=min(cut, len(data) - i), compiled=compiled, **kw
        )  # type: ignore[arg-type]
        events.pos += i
        events.keys += i
        parts.append(events)
    return (
        Events(
            *(np.concatenate([getattr(e, n) for e in parts]) for n in Events.__slots__)  # type: ignore[attr-defined]
        ),
        state,
    )


@settings(max_examples=150, deadline=None)
@given(data=_doc(), cut=st.integers(1, 200), limit=st.sampled_from([None, 1, 2, 3]))
def test_compiled_index_equals_numpy(data: bytes, cut: int, limit: int | None) -> None:
    key_limit = None if limit is None else limit + 1
    whole_c, end_c = structure(data, ScanState(), limit=limit, key_limit=key_limit, compiled=True)
    whole_n, end_n = structure(data, ScanState(), limit=limit, key_limit=key_limit, compiled=False)
    _same(whole_c, whole_n)
    assert end_c == end_n
    parts_c, pend_c = _in_parts(data, cut, True, limit=limit, key_limit=key_limit)
    parts_n, pend_n = _in_parts(data, cut, False, limit=limit, key_limit=key_limit)
    _same(parts_c, parts_n)
    assert pend_c == pend_n == end_c
    _same(parts_c, whole_c)


@settings(max_examples=100, deadline=None)
@given(
    data=_doc(),
    start=st.integers(0, 400),
    length=st.integers(1, 400),
    limits=st.sampled_from([(2, 3), (0, 1), (0, None)]),
)
def test_relative_chunk_equals_numpy(
    data: bytes, start: int, length: int, limits: tuple[int, int | None]
) -> None:
    """Phase A: a chunk scanned from an assumed clean state, limits relative to its floor."""
    chunk = data[start : start + length]
    kw = {"limit": limits[0], "relative": True, "key_limit": limits[1]}
    c, sc = structure(chunk, ScanState(), compiled=True, **kw)  # type: ignore[arg-type]
    n, sn = structure(chunk, ScanState(), compiled=False, **kw)  # type: ignore[arg-type]
    _same(c, n)
    assert sc == sn and sc.floor == sn.floor


def test_output_arrays_fill_and_resume() -> None:
    """Every bracket kept: the compiled pass stops when its arrays are full and resumes."""
    data = b'{"a":[' + b",".join([b'[{"b":[1,"]"]}]'] * 20000) + b"]}"
    c, sc = structure(data, ScanState(), compiled=True)
    n, sn = structure(data, ScanState(), compiled=False)
    _same(c, n)
    assert sc == sn == ScanState(0, 0, False)
    assert len(c.pos) == 4 + 20000 * 6


def test_keys_are_real_keys_only() -> None:
    doc = {
        "in_network": [
            {"billing_code": "99213", "description": '"billing_code":"x"'},
            {"name": "billing_code", "billing_code": "A1", "bundled": [{"billing_code": "B2"}]},
        ]
    }
    data = json.dumps(doc).encode()
    events, _ = structure(data, ScanState(), limit=2, key_limit=3, compiled=True)
    # strings outside strings, at depth <= 3: the reader keeps those followed by ':'
    assert [data[p : p + 22] for p in events.keys.tolist()] == [
        b'"billing_code": "99213',
        b'"billing_code", "billi',
        b'"billing_code": "A1", ',
    ]
    assert events.key_depth.tolist() == [3, 3, 3]


def test_escapes_across_block_ends() -> None:
    data = json.dumps(
        {"a": ['x\\"]{', "\\\\", '\\"'], "in_network": [{"billing_code": "1"}]}
    ).encode()
    for cut in range(1, 12):
        c, sc = _in_parts(data, cut, True, limit=2, key_limit=3)
        n, sn = _in_parts(data, cut, False, limit=2, key_limit=3)
        _same(c, n)
        assert sc == sn == ScanState(0, 0, False)
