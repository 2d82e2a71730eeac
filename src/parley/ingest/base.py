"""What every ingester produces: canonical-table chunks and problems as data.

An ingester is a generator of :class:`ParsedChunk`.  Each chunk holds Polars
frames named after canonical tables (``parley.store.tables``) and the
problems found in that stretch of the file.  The ingest service conforms the
frames to the canonical schemas, writes them aside, and commits the whole
file atomically at the end, so an ingester never touches the workspace.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # Polars is imported where frames are built: the pool's workers never need it
    import polars as pl

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem found in a source file. Never carries PHI."""

    severity: Severity
    code: str
    message: str
    segment_number: int | None = None
    segment_id: str | None = None
    loop: str | None = None
    element: str | None = None
    row: int | None = None
    column: str | None = None
    transaction_control: str | None = None
    claim_id: str | None = None
    quarantined: bool = False

    def as_row(self) -> dict[str, Any]:
        return asdict(self)

    def where(self) -> str:
        """A short human location: 'segment 12 (CLP, loop 2100)' or 'row 7, column paid'."""
        if self.segment_number is not None:
            parts = [f"segment {self.segment_number}"]
            detail = ", ".join(x for x in (self.segment_id, self.loop and f"loop {self.loop}", self.element) if x)
            return f"{parts[0]} ({detail})" if detail else parts[0]
        if self.row is not None:
            return f"row {self.row}" + (f", column {self.column}" if self.column else "")
        return "file"


@dataclass(slots=True)
class ParsedChunk:
    """A stretch of parsed records, table name -> frame, plus its problems."""

    tables: dict[str, pl.DataFrame] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    #: bytes of the source consumed so far (for progress bars)
    bytes_done: int = 0


class PatientHasher:
    """Keyed hash of patient identifiers (HMAC-SHA256, truncated to 128 bits).

    The key is the workspace's secret, so the same patient hashes the same way
    across files of one workspace and cannot be reversed or matched across
    workspaces.  Hashing is done per distinct value, then mapped back, so it
    costs little on millions of rows.
    """

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the patient-hash secret must be at least 16 bytes")
        self._secret = secret

    def hash_one(self, identifier: str) -> str:
        normal = identifier.strip().upper().encode()
        return hmac.new(self._secret, normal, hashlib.sha256).hexdigest()[:32]

    def hash_series(self, identifiers: pl.Series) -> pl.Series:
        """Hash a column of identifiers; nulls and blanks stay null."""
        import polars as pl

        cleaned = identifiers.cast(pl.Utf8).str.strip_chars()
        uniques = cleaned.drop_nulls().unique()
        uniques = uniques.filter(uniques != "")
        mapping = {u: self.hash_one(u) for u in uniques.to_list()}
        return cleaned.replace_strict(mapping, default=None, return_dtype=pl.Utf8).alias(identifiers.name)


Ingester = Callable[..., Iterator[ParsedChunk]]
