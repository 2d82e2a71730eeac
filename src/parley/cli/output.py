"""Rendering results: Rich tables for people, JSON for machines (--json)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

# piped or logged output (no terminal to measure) gets 120 columns, not Rich's 80:
# a scorecard's money columns should not wrap in a CI log or a file
_PIPED_WIDTH = None if (sys.stdout.isatty() or os.environ.get("COLUMNS")) else 120
console = Console(stderr=False, highlight=False, width=_PIPED_WIDTH)
err_console = Console(stderr=True, highlight=False)


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, default=_default, indent=2) + "\n")
    sys.stdout.flush()


def fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1 else f"{value:,.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    return str(value)


def print_table(rows: Sequence[Mapping[str, Any]], *, title: str | None = None, columns: Iterable[str] | None = None) -> None:
    cols = list(columns) if columns is not None else (list(rows[0].keys()) if rows else [])
    table = Table(title=title, show_lines=False, header_style="bold")
    for col in cols:
        numeric = bool(rows) and isinstance(rows[0].get(col), (int, float, Decimal)) and not isinstance(rows[0].get(col), bool)
        # numbers never break across lines; text folds when the table is too wide
        table.add_column(col, justify="right" if numeric else "left", overflow="fold", no_wrap=numeric)
    # an integer column takes thousands separators for all its rows or none (6018 under
    # 40,730 reads as a different kind of number); years and codes stay bare
    grouped = {
        c for c in cols
        if any(isinstance(v, int) and not isinstance(v, bool) and abs(v) >= 10_000 for v in (r.get(c) for r in rows))
    }
    for row in rows:
        table.add_row(*(_cell(row.get(c), c in grouped) for c in cols))
    console.print(table)


def _cell(value: Any, grouped: bool) -> str:
    if grouped and isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return fmt(value)


def print_pairs(pairs: Mapping[str, Any], *, title: str | None = None) -> None:
    table = Table(title=title, show_header=False, box=None, padding=(0, 2))
    table.add_column(style="bold")
    table.add_column(justify="right")
    for key, value in pairs.items():
        table.add_row(key.replace("_", " "), fmt(value))
    console.print(table)
