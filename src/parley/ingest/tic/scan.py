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
"""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(slots=True)
class Events:
    """Brackets outside strings in one block: offset, +1 open / -1 close, depth after."""

    pos: IntArray
    delta: npt.NDArray[np.int8]
    depth: npt.NDArray[np.int32]
    is_array: npt.NDArray[np.bool_]


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


def _structure(block: bytes | bytearray | memoryview, state: ScanState) -> tuple[Events, ScanState]:
    """The bracket events of one (small) block, and the state at its end."""
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
    return Events(bpos.astype(np.int64, copy=False), delta, depth, (raw | _BIT) != raw), new


def shallow(events: Events, limit: int) -> Events:
    """Only the events whose depth before or after is at most ``limit``."""
    before = events.depth - events.delta
    keep = (events.depth <= limit) | (before <= limit)
    return Events(events.pos[keep], events.delta[keep], events.depth[keep], events.is_array[keep])


SUB_BLOCK = 1 << 20


def structure(
    block: bytes | bytearray | memoryview,
    state: ScanState,
    *,
    limit: int | None = None,
    relative: bool = False,
) -> tuple[Events, ScanState]:
    """The bracket events of a block (scanned in 1 MB pieces: cache-friendly, little memory).

    ``limit`` keeps only events at depth <= limit (``shallow``); with ``relative``
    the limit counts from the lowest depth reached in the block (phase A of the
    parallel index, where the absolute depth is not known yet).
    """
    view = memoryview(block)
    parts: list[Events] = []
    floor = state.depth
    for i in range(0, len(view), SUB_BLOCK):
        events, state = _structure(view[i : i + SUB_BLOCK], state)
        if len(events.pos):
            events.pos += i
        if limit is not None:
            if relative and len(events.depth):
                floor = min(floor, int(events.depth.min()))
            events = shallow(events, floor + limit if relative else limit)
        parts.append(events)
    if not parts:
        empty = np.empty(0, np.int64)
        return Events(
            empty, empty.astype(np.int8), empty.astype(np.int32), empty.astype(bool)
        ), state
    merged = Events(
        np.concatenate([e.pos for e in parts]),
        np.concatenate([e.delta for e in parts]),
        np.concatenate([e.depth for e in parts]),
        np.concatenate([e.is_array for e in parts]),
    )
    if limit is not None and relative:
        merged = shallow(merged, floor + limit)
    return merged, state
