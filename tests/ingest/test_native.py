"""Native kernels (parley.ingest._native): same results as numba's dispatcher, no numba import
once built, and every failure (damaged file, unresolvable symbol, switched off) falls back."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parley.ingest import _native
from parley.ingest.tic import _index, _kernel

pytestmark = [
    pytest.mark.skipif(not _index.ENABLED, reason="numba is not installed"),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="native kernels: ELF only"),
]

_BYTES = st.lists(st.sampled_from(list(b'{}[]":,\\ab') + list(b'"billing_code"')), max_size=400)


def _args(data: bytes, cap: int, limit: int, relative: bool, key_limit: int) -> list[object]:
    a = np.frombuffer(data, np.uint8)
    words = np.frombuffer(data, np.uint64, count=len(data) // 8)
    outs = [
        np.zeros(cap, t) for t in (np.int64, np.int8, np.int32, np.bool_, np.int64, np.int32)
    ]
    return [a, words, len(data), 0, 0, 0, False, 0, limit, relative, key_limit, True, *outs]


@settings(max_examples=120, deadline=None)
@given(
    raw=_BYTES,
    cap=st.sampled_from([64, 65, 200, 4096]),
    limit=st.sampled_from([-1, 0, 1, 2]),
    relative=st.booleans(),
    key_limit=st.sampled_from([-1, 1, 3]),
)
def test_native_kernel_equals_numba(
    raw: list[int], cap: int, limit: int, relative: bool, key_limit: int
) -> None:
    assert _kernel.native() is not None
    data = bytes(raw)
    native_args = _args(data, cap, limit, relative, key_limit)
    numba_args = _args(data, cap, limit, relative, key_limit)
    got = _kernel.index_block(*native_args)
    want = tuple(int(x) if not isinstance(x, bool) else x for x in _index.index_block(*numba_args))
    assert got == (want[0], want[1], want[2], want[3], want[4], bool(want[5]), want[6])
    for mine, theirs in zip(native_args[12:], numba_args[12:], strict=True):
        assert np.array_equal(mine, theirs)  # type: ignore[arg-type]


def test_wrong_arrays_are_refused_not_written_through() -> None:
    args = _args(b'{"in_network":[]}' * 4, 64, 2, False, -1)
    args[12] = np.zeros(64, np.int32)  # event positions must be int64
    with pytest.raises(TypeError, match="argument 12"):
        _kernel.index_block(*args)
    args = _args(b'{"in_network":[]}' * 4, 64, 2, False, -1)
    args[13] = np.zeros(8, np.int8)  # shorter than the positions
    with pytest.raises(ValueError, match="lengths"):
        _kernel.index_block(*args)


_FRESH = """
import json, sys
from parley.ingest.tic.scan import ScanState, structure
events, state = structure(b'{"in_network":[{"billing_code":"1"}]}', ScanState(), limit=2, key_limit=3)
print(json.dumps({"pos": events.pos.tolist(), "keys": events.keys.tolist(), "numba": "numba" in sys.modules}))
"""


def test_a_process_scans_without_importing_numba_once_built() -> None:
    assert _kernel.native() is not None  # built (or found) by this process
    out = subprocess.run([sys.executable, "-c", _FRESH], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"pos": [0, 14, 15, 34, 35, 36], "keys": [16], "numba": False}


@pytest.fixture
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "parley-native"
    monkeypatch.setattr(_native, "_cache_dirs", lambda source_dir: [folder])
    monkeypatch.setattr(_native, "_LOADED", {})
    return folder


def _call(fn: object, monkeypatch: pytest.MonkeyPatch) -> tuple[int, ...]:
    """``index_block`` through the given ctypes kernel."""
    with monkeypatch.context() as m:
        m.setattr(_kernel, "native", lambda: fn)
        return _kernel.index_block(*_args(b'{"in_network":[{"billing_code":"1"}]}', 64, 2, False, 3))


def test_a_damaged_object_file_is_rebuilt(
    private_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _native.load(_kernel.SPEC)
    assert first is not None
    (built,) = private_cache.glob("tic-index-block-*.native")
    blob = built.read_bytes()
    built.write_bytes(blob[: len(blob) // 2])  # truncated, e.g. a full disk
    _native._LOADED.clear()
    again = _native.load(_kernel.SPEC)
    assert again is not None
    assert _native._read(built) is not None  # whole again (numba's code may differ byte-wise)
    assert _call(again, monkeypatch) == _call(first, monkeypatch) == (6, 1, 1, 0, 0, False, 0)


def test_a_symbol_the_process_cannot_resolve_means_numba(
    private_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_native, "STUBBED_PREFIXES", ("no-such-prefix",))  # numba_* unresolved
    assert _native.load(_kernel.SPEC) is None


def test_switched_off(private_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARLEY_NATIVE", "0")
    assert _native.load(_kernel.SPEC) is None
    assert not private_cache.exists()


def test_elf_reader_rejects_what_is_not_an_elf64_object() -> None:
    assert _native.elf_undefined_symbols(b"") is None
    assert _native.elf_undefined_symbols(b"\x7fELF" + b"\0" * 60) is None
    assert _native.elf_undefined_symbols(b"MZ" + b"\0" * 200) is None
