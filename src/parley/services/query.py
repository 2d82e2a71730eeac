"""Use case: a read-only SQL query over the workspace's canonical tables."""

from __future__ import annotations

from typing import Any

import duckdb

from parley.errors import InputError
from parley.store.workspace import Workspace

_WRITES = ("insert", "update", "delete", "create", "drop", "alter", "copy", "attach", "install", "load", "export")


def run_query(*, workspace: Workspace, query: str, limit: int = 100) -> list[dict[str, Any]]:
    """Rows of a SELECT over the canonical tables (DuckDB SQL), at most ``limit``."""
    first = query.strip().split(None, 1)[0].lower() if query.strip() else ""
    if first in _WRITES:
        raise InputError("parley sql runs read-only queries", hint="start with SELECT, WITH, DESCRIBE or SUMMARIZE")
    con = workspace.connect()
    try:
        cur = con.execute(query)
        names = [d[0] for d in cur.description or []]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchmany(limit)]
    except duckdb.Error as exc:
        raise InputError(f"query failed: {exc}", hint="'parley tables' lists the tables and columns") from exc
    finally:
        con.close()
