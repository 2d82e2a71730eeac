"""A vectorised structural index of JSON: where the objects of a big top-level array are.

Transparency-in-Coverage files are one JSON object whose few top-level arrays
(``in_network``, ``provider_references``, ``out_of_network``,
``reporting_structure``) hold millions of independent items.  Parsing them
token by token in Python runs at ~25 MB/s; instead we find the items' byte
boundaries with numpy over large blocks and hand batches of items to a C++
JSON reader (:mod:`parley.ingest.tic.items`).

How the index is built, per block (``structure``):

1. one pass marks the bytes ``{ [ } ] "`` (``byte | 0x20`` folds ``[``/``]``
   onto ``{``/``}``, so three comparisons suffice);
2. the positions of those bytes (``flatnonzero``) form a small event list;
3. a quote preceded by an odd run of backslashes is escaped (rare: handled
   per quote);
4. the cumulative parity of unescaped quotes tells which brackets are inside
   strings; the cumulative sum of +1/-1 over the rest is the nesting depth.

The root object is depth 1, a top-level array depth 2 and its items open at
depth 3.  State (quote parity, depth, a pending backslash) carries across
blocks, so a stream of any size is indexed with one block in memory.

The same index is computed in one compiled pass by :mod:`parley.ingest.tic._index`
(numba, used whenever it is importable, its machine code called without numba's start-up
when :mod:`parley.ingest._native` can; ``PARLEY_TIC_NUMBA=0`` forces the
numpy passes below, which stay as the reference the tests compare it with).
Both can also report the positions of the keys ``"billing_code"`` at a shallow
depth (``key_limit``), which the reader's code basket is checked on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

_OPEN = np.uint8(0x7B)  # '{' and '[' after | 0x20
_CLOSE = np.uint8(0x7D)  # '}' and ']' after | 0x20
_QUOTE = np.uint8(0x22)
_BIT = np.uint8(0x20)

IntArray = npt.NDArray[np.int64]


@dataclass(slots=True)
class ScanState:
    """Lexical state at a block boundary."""

    parity: int = 0  # 1 when the boundary is inside a string
    depth: int = 0  # nesting depth at the boundary
    escape: bool = False  # the previous block ended with an odd run of backslashes
    #: with ``relative``: the lowest depth reached in the block (its start included)
    floor: int | None = field(default=None, compare=False)


def _no_int64() -> IntArray:
    return np.empty(0, np.int64)


def _no_int32() -> npt.NDArray[np.int32]:
    return np.empty(0, np.int32)


@dataclass(slots=True)
class Events:
    """Brackets outside strings in one block: offset, +1 open / -1 close, depth after.

    ``keys`` / ``key_depth``: the opening quotes of ``"billing_code"`` keys (outside
    strings) and the depth they sit at, when asked for (``key_limit``).  A key cut by
    the end of the bytes is included when its start matches (the caller decides).
    """

    pos: IntArray
    delta: npt.NDArray[np.int8]
    depth: npt.NDArray[np.int32]
    is_array: npt.NDArray[np.bool_]
    keys: IntArray = field(default_factory=_no_int64)
    key_depth: npt.NDArray[np.int32] = field(default_factory=_no_int32)


def _escaped_quotes(
    a: npt.NDArray[np.uint8], qpos: IntArray, escape: bool
) -> npt.NDArray[np.bool_]:
    """For each quote position, whether an odd run of backslashes precedes it."""
    out = np.zeros(len(qpos), dtype=bool)
    prev = np.zeros(len(qpos), dtype=bool)
    inner = qpos > 0
    prev[inner] = a[qpos[inner] - 1] == 0x5C
    for i in np.flatnonzero(prev):
        p = int(qpos[i]) - 1
        run = 0
        while p >= 0 and a[p] == 0x5C:
            run += 1
            p -= 1
        odd = run % 2 == 1
        out[i] = (not odd) if (p < 0 and escape) else odd
    if escape and len(qpos) and qpos[0] == 0:
        out[0] = True
    return out


def _trailing_escape(a: npt.NDArray[np.uint8], escape: bool) -> bool:
    """Whether the block ends with an unconsumed (odd) run of backslashes."""
    n = len(a)
    p = n - 1
    while p >= 0 and a[p] == 0x5C:
        p -= 1
    run = n - 1 - p
    if p < 0 and escape:
        run -= 1
    return run % 2 == 1


def _structure(
    block: bytes | bytearray | memoryview,
    state: ScanState,
    key_limit: int | None = None,
    after: bytes | bytearray | memoryview = b"",
) -> tuple[Events, ScanState]:
    """The bracket events of one (small) block, and the state at its end (numpy passes).

    With ``key_limit``, also the ``"billing_code"`` keys at depth <= key_limit
    (``after``: the bytes that follow the block, to read a key cut by its end).
    """
    a = np.frombuffer(block, dtype=np.uint8)
    b = a | _BIT
    mask = b == _OPEN
    mask |= b == _CLOSE
    mask |= b == _QUOTE
    pos = np.flatnonzero(mask)
    v = b[pos]
    isq = v == _QUOTE
    keep_q = isq
    has_backslash = bool(np.count_nonzero(a == 0x5C))
    if has_backslash or state.escape:
        qidx = np.flatnonzero(isq)
        esc = _escaped_quotes(a, pos[qidx], state.escape)
        if esc.any():
            isq = isq.copy()
            isq[qidx[esc]] = False
    par = np.cumsum(isq, dtype=np.int32)
    if state.parity:
        par += 1
    keep = ~keep_q & ((par & 1) == 0)
    bpos = pos[keep]
    raw = a[bpos]
    opens = v[keep] == _OPEN
    delta = np.where(opens, np.int8(1), np.int8(-1))
    depth = np.cumsum(delta, dtype=np.int32)
    if state.depth:
        depth += state.depth
    new = ScanState(
        parity=(int(par[-1]) & 1) if len(par) else state.parity,
        depth=int(depth[-1]) if len(depth) else state.depth,
        escape=_trailing_escape(a, state.escape) if has_backslash or state.escape else False,
    )
    events = Events(bpos.astype(np.int64, copy=False), delta, depth, (raw | _BIT) != raw)
    if key_limit is not None:
        # an opening quote: an unescaped quote after which the parity is odd
        starts = pos[isq & ((par & 1) == 1)]
        nxt = np.minimum(starts + 1, max(len(a) - 1, 0))
        starts = starts[(starts + 1 >= len(a)) | (a[nxt] == 0x62)] if len(a) else starts
        found = []
        for p in starts.tolist():
            ext = bytes(block[p + 1 : p + len(_KEY)])
            if len(ext) < len(_KEY) - 1:
                ext += bytes(after[: len(_KEY) - 1 - len(ext)])
            if _KEY[1:].startswith(ext):
                found.append(p)
        keys = np.asarray(found, np.int64)
        at = np.searchsorted(bpos, keys, side="right") - 1
        kdepth = np.where(at >= 0, depth[np.maximum(at, 0)] if len(depth) else 0, state.depth)
        kdepth = kdepth.astype(np.int32)
        ok = kdepth <= key_limit
        events.keys, events.key_depth = keys[ok], kdepth[ok]
    return events, new


_KEY = b'"billing_code"'


def shallow(events: Events, limit: int, key_limit: int | None = None) -> Events:
    """Only the events whose depth before or after is at most ``limit`` (and keys at most
    ``key_limit`` deep, when given)."""
    before = events.depth - events.delta
    keep = (events.depth <= limit) | (before <= limit)
    keys, key_depth = events.keys, events.key_depth
    if key_limit is not None and len(keys):
        ok = key_depth <= key_limit
        keys, key_depth = keys[ok], key_depth[ok]
    return Events(
        events.pos[keep],
        events.delta[keep],
        events.depth[keep],
        events.is_array[keep],
        keys,
        key_depth,
    )


SUB_BLOCK = 1 << 20
#: first capacity of the compiled pass's output arrays (it stops and resumes when full)
_EVENTS = 1 << 14


def structure(
    block: bytes | bytearray | memoryview,
    state: ScanState,
    *,
    limit: int | None = None,
    relative: bool = False,
    key_limit: int | None = None,
    end: int | None = None,
    size: int | None = None,
    compiled: bool | None = None,
) -> tuple[Events, ScanState]:
    """The bracket events of ``block[:end]`` and the state at ``end``.

    ``limit`` keeps only events at depth <= limit (``shallow``); with ``relative``
    the limit counts from the lowest depth reached in the block (phase A of the
    parallel index, where the absolute depth is not known yet).  ``key_limit``
    (counted the same way) asks for the ``"billing_code"`` keys at most that deep;
    the bytes past ``end`` are only read to complete a key cut by ``end``.
    ``size`` (default: all) is how many bytes of ``block`` hold data (a reused buffer).
    ``compiled`` chooses the numba pass (default: when available) or numpy.
    With ``relative``, the returned state's ``floor`` is the lowest depth reached.
    """
    size = len(block) if size is None else min(size, len(block))
    n = size if end is None else min(end, size)
    if compiled is None:
        compiled = _kernel().ENABLED
    if compiled:
        backslashes = state.escape or _has_backslash(block, n)
        if size < len(block):
            block = memoryview(block)[:size]
        return _structure_compiled(block, n, state, limit, relative, key_limit, backslashes)
    if size < len(block):
        block = memoryview(block)[:size]
    return _structure_numpy(block, n, state, limit, relative, key_limit)


def _kernel() -> Any:
    """The compiled index (:mod:`parley.ingest.tic._kernel`), imported on first use: its
    machine code linked directly (a few ms), or numba's dispatcher (about 0.4 s), which a
    process that never scans (the caller of a process pool) does not pay either way."""
    from parley.ingest.tic import _kernel

    return _kernel


def _has_backslash(block: bytes | bytearray | memoryview, n: int) -> bool:
    if isinstance(block, bytes | bytearray):
        return block.find(b"\\", 0, n) >= 0  # memchr
    return bool(np.count_nonzero(np.frombuffer(block, np.uint8, count=n) == 0x5C))


def _structure_compiled(
    block: bytes | bytearray | memoryview,
    n: int,
    state: ScanState,
    limit: int | None,
    relative: bool,
    key_limit: int | None,
    backslashes: bool,
) -> tuple[Events, ScanState]:
    a = np.frombuffer(block, np.uint8)
    words = np.frombuffer(block, np.uint64, count=n // 8)
    # read-only whatever the buffer: one compiled signature for bytes and bytearray
    a.flags.writeable = False
    words.flags.writeable = False
    parts: list[tuple[np.ndarray, ...]] = []
    resume, parity, depth, escape, floor = 0, state.parity, state.depth, state.escape, state.depth
    cap = _EVENTS
    blocks = (n + 63) // 64
    while True:
        out = (
            np.empty(cap, np.int64),
            np.empty(cap, np.int8),
            np.empty(cap, np.int32),
            np.empty(cap, np.bool_),
            np.empty(cap, np.int64),
            np.empty(cap, np.int32),
        )
        ne, nk, resume, parity, depth, escape, floor = _kernel().index_block(
            a,
            words,
            n,
            resume,
            parity,
            depth,
            escape,
            floor,
            -1 if limit is None else limit,
            relative,
            -1 if key_limit is None else key_limit,
            backslashes,
            *out,
        )
        parts.append(tuple(x[:ne] for x in out[:4]) + tuple(x[:nk] for x in out[4:]))
        if resume >= blocks:
            break
        cap *= 4  # stopped early: many events (no limit, or a flat file)
    if len(parts) == 1:
        pos, delta, depth_, is_array, keys, key_depth = parts[0]
    else:
        pos, delta, depth_, is_array, keys, key_depth = (
            np.concatenate([p[i] for p in parts]) for i in range(6)
        )
    end_depth = depth
    events = Events(pos, delta, depth_, is_array, keys, key_depth)
    if relative and limit is not None:
        events = shallow(
            events, int(floor) + limit, None if key_limit is None else int(floor) + key_limit
        )
    escape = _trailing_escape(a[:n], state.escape) if backslashes and n else state.escape and not n
    return events, ScanState(
        int(parity), int(end_depth), bool(escape), int(floor) if relative else None
    )


def _structure_numpy(
    block: bytes | bytearray | memoryview,
    n: int,
    state: ScanState,
    limit: int | None,
    relative: bool,
    key_limit: int | None,
) -> tuple[Events, ScanState]:
    """The numpy passes over 1 MB pieces (cache-friendly, little memory)."""
    view = memoryview(block)
    parts: list[Events] = []
    floor = state.depth
    for i in range(0, n, SUB_BLOCK):
        j = min(n, i + SUB_BLOCK)
        klim = None  # relative: the floor so far gives a superset, filtered at the end
        if key_limit is not None:
            klim = key_limit + floor if relative else key_limit
        events, state = _structure(view[i:j], state, klim, view[j : j + 64])
        if len(events.pos):
            events.pos += i
        if len(events.keys):
            events.keys += i
        if limit is not None:
            if relative and len(events.depth):
                floor = min(floor, int(events.depth.min()))
            events = shallow(events, floor + limit if relative else limit)
        parts.append(events)
    if not parts:
        empty = np.empty(0, np.int64)
        if relative:
            state = ScanState(state.parity, state.depth, state.escape, state.depth)
        return Events(
            empty, empty.astype(np.int8), empty.astype(np.int32), empty.astype(bool)
        ), state
    merged = Events(
        np.concatenate([e.pos for e in parts]),
        np.concatenate([e.delta for e in parts]),
        np.concatenate([e.depth for e in parts]),
        np.concatenate([e.is_array for e in parts]),
        np.concatenate([e.keys for e in parts]),
        np.concatenate([e.key_depth for e in parts]),
    )
    if relative:
        if limit is not None:
            merged = shallow(
                merged, floor + limit, None if key_limit is None else floor + key_limit
            )
        state = ScanState(state.parity, state.depth, state.escape, floor)
    return merged, state
