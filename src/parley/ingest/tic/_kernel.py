"""The structural index's compiled pass, as cheaply as it loads: native, else numba.

:func:`index_block` is :func:`parley.ingest.tic._index.index_block` (same arguments, same
result).  It calls the kernel's machine code linked by :mod:`parley.ingest._native` when it
can (numba is then never imported: about 0.4 s less per process, the pool's forkserver
included) and numba's dispatcher otherwise.  ``PARLEY_TIC_NUMBA=0`` turns the compiled pass
off (``ENABLED`` False: :mod:`~parley.ingest.tic.scan` uses its numpy passes).
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
from pathlib import Path
from typing import Any

import numpy as np

from parley.ingest import _native

ENABLED = (
    os.environ.get("PARLEY_TIC_NUMBA", "1") != "0"
    and importlib.util.find_spec("numba") is not None
)

_P = ctypes.c_void_p
_I = ctypes.c_int64
SPEC = _native.KernelSpec(
    name="tic-index-block",
    sources=(str(Path(__file__).with_name("_index.py")),),
    build="parley.ingest.tic._index:cfunc_index_block",
    argtypes=(_P, _I, _P, _I, _I, _P, _P, _P, _P, _P, _I, _P, _P, _I),
)

_CHECKS = (
    (0, np.uint8),
    (1, np.uint64),
    (12, np.int64),
    (13, np.int8),
    (14, np.int32),
    (15, np.bool_),
    (16, np.int64),
    (17, np.int32),
)


def native() -> Any:
    """The ctypes kernel, or None (numba then)."""
    return _native.load(SPEC) if ENABLED else None


def index_block(*args: Any) -> tuple[int, int, int, int, int, bool, int]:
    """See :func:`parley.ingest.tic._index.index_block`."""
    fn = native()
    if fn is None:
        from parley.ingest.tic import _index

        return _index.index_block(*args)  # type: ignore[no-any-return]
    (a, words, n, block, parity, depth, escape, floor, limit, relative, key_limit,
     backslashes, ev_pos, ev_delta, ev_depth, ev_arr, k_pos, k_depth) = args  # fmt: skip
    for i, dtype in _CHECKS:  # raw pointers: a wrong array would be written out of bounds
        arr = args[i]
        if arr.dtype != dtype or not arr.flags.c_contiguous:
            raise TypeError(f"index_block: argument {i} must be a contiguous {np.dtype(dtype)} array")
    cap, kcap = len(ev_pos), len(k_pos)
    if min(len(ev_delta), len(ev_depth), len(ev_arr)) < cap or len(k_depth) < kcap:
        raise ValueError("index_block: output arrays of different lengths")
    if n > len(a) or len(words) > len(a) // 8:
        raise ValueError("index_block: n or words past the end of the bytes")
    state = np.array(
        [block, parity, depth, escape, floor, limit, relative, key_limit, backslashes]
        + [0] * 7,
        np.int64,
    )
    fn(
        a.ctypes.data, len(a), words.ctypes.data, len(words), n, state.ctypes.data,
        ev_pos.ctypes.data, ev_delta.ctypes.data, ev_depth.ctypes.data, ev_arr.ctypes.data, cap,
        k_pos.ctypes.data, k_depth.ctypes.data, kcap,
    )  # fmt: skip
    ne, nk, blk, par, dep, esc, flo = (int(x) for x in state[9:])
    return ne, nk, blk, par, dep, bool(esc), flo
