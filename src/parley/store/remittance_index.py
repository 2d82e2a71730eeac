"""Which payments (835 remittances) the workspace already holds, to refuse counting one twice.

A payer or clearinghouse re-sends an ERA, or the same ERA is saved again by another tool
(other delimiters, wrapped lines): the bytes differ, so the content hash does not catch it,
but the payment is the same.  A remittance is identified by its payment: the payer (TRN03
and its name's identifier), the trace number (TRN02: the check or EFT number), the amount,
credit or debit, the payment date (BPR), the payee (N1*PE NPI or TIN), and what it pays
(the number of claims and their total: two zero-dollar remittances that a payer numbered
alike are not one).  Remittances without a trace number are never matched.

The committed remittances are read once per process and partition (a worker that commits
many files reads each committed file's few rows once); :func:`commit_lock` serialises the
check-then-commit of concurrent workers, so two copies of one payment in one run cannot both
land.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from parley.store.datasets import committed_ids, table_dir

KEY_COLUMNS = (
    "payer_id",
    "payer_tax_id",
    "trace_number",
    "payment_amount",
    "credit_debit",
    "payment_date",
    "payee_npi",
    "payee_tax_id",
    "claim_count",
    "sum_claim_paid",
)
Key = tuple[str, ...]


def keys_of(table: pa.Table) -> list[tuple[Key | None, str]]:
    """(payment key or None when there is no trace number, ST02) per remittance row."""
    names = set(table.column_names)
    cols = {c: table.column(c).to_pylist() if c in names else [None] * table.num_rows for c in KEY_COLUMNS}
    control = table.column("transaction_control").to_pylist() if "transaction_control" in names else [None] * table.num_rows
    out: list[tuple[Key | None, str]] = []
    for i in range(table.num_rows):
        key = tuple("" if cols[c][i] is None else str(cols[c][i]).strip() for c in KEY_COLUMNS)
        out.append((key if key[2] else None, control[i] or ""))
    return out


class RemittanceIndex:
    """The payment keys of the committed files (cached per partition for this process)."""

    def __init__(self) -> None:
        self._by_file: dict[str, list[Key]] = {}

    def known(self, datasets: Path) -> dict[Key, str]:
        """Payment key -> the file_id that holds it, over the files committed now."""
        committed = committed_ids(datasets)
        for gone in set(self._by_file) - committed:
            del self._by_file[gone]
        root = table_dir(datasets, "remittances")
        for file_id in committed - set(self._by_file):
            parts = sorted((root / file_id).glob("part-*.parquet"))
            keys: list[Key] = []
            for part in parts:
                have = set(pq.read_schema(part).names)
                cols = [c for c in (*KEY_COLUMNS, "transaction_control") if c in have]
                keys += [k for k, _ in keys_of(pq.read_table(part, columns=cols)) if k is not None]
            self._by_file[file_id] = keys
        out: dict[Key, str] = {}
        for file_id in sorted(self._by_file):
            for key in self._by_file[file_id]:
                out.setdefault(key, file_id)
        return out


#: one per process: workers keep it across the files they commit
INDEX = RemittanceIndex()


@contextlib.contextmanager
def commit_lock(datasets: Path) -> Iterator[None]:
    """An exclusive lock on the workspace's datasets while a file is checked and committed."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: one process at a time is the user's care
        yield
        return
    datasets.mkdir(parents=True, exist_ok=True)
    fd = os.open(datasets / ".commit.lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
