"""Progress bars for long work (Rich, on stderr so --json stdout stays clean)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from parley.cli.output import err_console

ProgressFn = Callable[[str, int, int], None]


@contextmanager
def byte_progress(*, enabled: bool = True) -> Iterator[ProgressFn | None]:
    """A progress(label, done, total) callback drawing one bar; None when disabled."""
    if not enabled or not err_console.is_terminal:
        yield None
        return
    bar = Progress(
        TextColumn("[bold]{task.description}", justify="left"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    )
    task = bar.add_task("starting", total=None)

    def update(label: str, done: int, total: int) -> None:
        name = label if len(label) <= 40 else "..." + label[-37:]
        bar.update(task, description=name, completed=done, total=total or None)

    with bar:
        yield update
