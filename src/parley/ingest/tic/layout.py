"""From bracket events to the layout of a TiC file: its header and its items.

:class:`Layout` consumes the shallow bracket events (depth <= 3) of a file, in
order, a block at a time, and records

* the root object's scalar members (``reporting_entity_name``, ``version``,
  ``plan_name``...): the bytes at depth 1, with every container replaced by
  ``null``, parse as a small JSON object;
* for every top-level array, its key and the byte spans of its items (objects
  opening at depth 3), handed out in batches while the stream goes on.

Item spans are absolute byte offsets ``[start, end)`` in the (decompressed)
file, so a batch can be re-read from a plain file by offset or cut from the
block in memory.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from parley.ingest.tic.scan import Events, IntArray

_KEY_BEFORE = re.compile(rb'"((?:[^"\\]|\\.)*)"\s*:\s*$')
MAX_HEADER_BYTES = 8 << 20
Fetch = Callable[[int, int], bytes]


class LayoutError(ValueError):
    """The bytes are not the JSON object a TiC file is (with the byte offset)."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(f"byte {offset}: {message}")
        self.offset = offset


@dataclass
class Container:
    key: str
    start: int
    is_array: bool
    end: int | None = None


@dataclass
class Layout:
    """Incrementally built layout of one file (see module doc)."""

    containers: list[Container] = field(default_factory=list)
    _header_parts: list[bytes] = field(default_factory=list)
    _header_bytes: int = 0
    _root_open: int | None = None
    _root_close: int | None = None
    _region_start: int | None = None
    _current: Container | None = None
    _pending_start: int | None = None
    _small: dict[str, bytes] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return self._root_close is not None

    def header(self) -> dict[str, Any]:
        """The root's scalar members; containers appear as ``None``."""
        text = b"".join(self._header_parts)
        if not self.complete:
            text += b"}"
        try:
            out = json.loads(text) if text else {}
        except ValueError:
            out = {}
        if not isinstance(out, dict):
            return {}
        for key, raw in self._small.items():
            with contextlib.suppress(ValueError):
                out[key] = json.loads(raw)
        return out

    def _take_region(self, start: int, end: int, fetch: Fetch) -> None:
        piece = fetch(start, end)
        self._header_bytes += len(piece)
        if self._header_bytes > MAX_HEADER_BYTES:
            raise LayoutError("the top-level object has more than 8 MB of scalar members", start)
        self._header_parts.append(piece)

    def feed(self, events: Events, fetch: Fetch) -> dict[str, list[IntArray]]:
        """Consume one block's shallow events (absolute offsets); returns new item spans by key.

        ``fetch(start, end)`` returns file bytes: the header regions and the few
        bytes before a container's opening bracket (its key).
        """
        out: dict[str, list[IntArray]] = {}
        pos, delta, depth = events.pos, events.delta, events.depth
        top = np.flatnonzero(((delta == 1) & (depth <= 2)) | ((delta == -1) & (depth <= 1)))
        cursor = 0
        for t in top.tolist():
            self._items(pos[cursor:t], delta[cursor:t], depth[cursor:t], out)
            self._top_event(
                int(pos[t]), int(delta[t]), int(depth[t]), bool(events.is_array[t]), fetch
            )
            cursor = t + 1
        self._items(pos[cursor:], delta[cursor:], depth[cursor:], out)
        return out

    def _top_event(self, p: int, d: int, depth: int, is_array: bool, fetch: Fetch) -> None:
        if d == 1 and depth == 1:
            if self._root_open is not None or is_array:
                raise LayoutError("the file is not one JSON object", p)
            self._root_open = p
            self._header_parts.append(b"{")
            self._region_start = p + 1
        elif d == 1 and depth == 2:
            if self._region_start is not None:
                self._take_region(self._region_start, p, fetch)
            self._header_parts.append(b"null")
            self._region_start = None
            before = fetch(max(0, p - 512), p)
            match = _KEY_BEFORE.search(before)
            key = match.group(1).decode("utf-8", "replace") if match else ""
            self._current = Container(key, p, is_array)
            self.containers.append(self._current)
        elif d == -1 and depth == 1:
            if self._current is not None:
                self._current.end = p + 1
                if p + 1 - self._current.start <= 1 << 20:
                    self._small[self._current.key] = fetch(self._current.start, p + 1)
            self._current = None
            self._region_start = p + 1
        elif d == -1 and depth == 0:
            if self._region_start is not None:
                self._take_region(self._region_start, p + 1, fetch)
            self._region_start = None
            self._root_close = p
        else:
            raise LayoutError("unbalanced brackets", p)

    def _items(self, pos: IntArray, delta: Any, depth: Any, out: dict[str, list[IntArray]]) -> None:
        if not len(pos) or self._current is None or not self._current.is_array:
            return
        opens = pos[(delta == 1) & (depth == 3)]
        closes = pos[(delta == -1) & (depth == 2)] + 1
        if self._pending_start is not None:
            opens = np.concatenate([np.array([self._pending_start], np.int64), opens])
            self._pending_start = None
        if len(opens) > len(closes):
            self._pending_start = int(opens[-1])
            opens = opens[:-1]
        if len(opens):
            out.setdefault(self._current.key, []).append(np.stack([opens, closes], axis=1))

    def end_block(self, end: int, fetch: Fetch) -> None:
        """The block ends at absolute offset ``end``: keep the header bytes seen so far."""
        if (
            self._region_start is not None
            and self._root_open is not None
            and self._region_start < end
        ):
            self._take_region(self._region_start, end, fetch)
            self._region_start = end

    @property
    def pending_start(self) -> int | None:
        """Start of an item not yet closed (the bytes from here must be kept)."""
        return self._pending_start
