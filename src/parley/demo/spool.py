"""Records waiting for their month's file, keyed by (kind, payer, month), bounded in memory."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

SPOOL_MEMORY_RECORDS = 60_000  # spill the spool to disk beyond this many records in memory


class Spool:
    """Records by (kind, payer, month), in memory until SPOOL_MEMORY_RECORDS, then on disk."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.mem: dict[tuple[str, int, int], list[Any]] = {}
        self.n_mem = 0

    def add(self, key: tuple[str, int, int], rec: Any) -> None:
        self.mem.setdefault(key, []).append(rec)
        self.n_mem += 1
        if self.n_mem > spool_limit():
            self.spill(-1)

    def _path(self, key: tuple[str, int, int]) -> Path:
        return self.root / f"{key[0]}_{key[1]}_{key[2]}.pkl"

    def spill(self, after_month: int) -> None:
        for key in [k for k in self.mem if k[2] > after_month]:
            recs = self.mem.pop(key)
            self.n_mem -= len(recs)
            with self._path(key).open("ab") as fh:
                pickle.dump(recs, fh, protocol=pickle.HIGHEST_PROTOCOL)

    def take(self, key: tuple[str, int, int]) -> list[Any]:
        out: list[Any] = []
        path = self._path(key)
        if path.exists():
            with path.open("rb") as fh:
                while True:
                    try:
                        out.extend(pickle.load(fh))
                    except EOFError:
                        break
            path.unlink()
        recs = self.mem.pop(key, [])
        self.n_mem -= len(recs)
        out.extend(recs)
        return out

    def count(self, kind: str) -> int:
        """Records still waiting, of one kind (e.g. remits dated after the end)."""
        n = sum(len(v) for k, v in self.mem.items() if k[0] == kind)
        for f in sorted(self.root.glob(f"{kind}_*.pkl")):
            with f.open("rb") as fh:
                while True:
                    try:
                        n += len(pickle.load(fh))
                    except EOFError:
                        break
        return n


def spool_limit() -> int:
    """The in-memory record limit (a function so tests can lower it)."""
    return SPOOL_MEMORY_RECORDS
