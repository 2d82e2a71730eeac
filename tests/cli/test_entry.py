"""The executable's entry: which commands start the pool's forkserver before Typer loads."""

from __future__ import annotations

import pytest

from parley.cli import entry


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["market", "ingest", "rates.json"], True),
        (["market", "ingest", "--workers", "2", "a.json.gz"], True),
        (["market", "ingest", "--help"], False),
        (["market", "benchmark", "UHC"], False),
        (["ingest", "remits/"], False),
        ([], False),
    ],
)
def test_commands_that_use_a_pool(args: list[str], expected: bool) -> None:
    assert entry._uses_pool(args) is expected


def test_worker_and_scheduler_options_are_read_as_typer_would() -> None:
    args = ["market", "ingest", "--workers", "3", "--scheduler=tcp://h:8786", "f.json"]
    assert entry._int_option(args, "--workers") == 3
    assert entry._option(args, "--scheduler") == "tcp://h:8786"
    assert entry._int_option(["market", "ingest", "--workers", "x"], "--workers") is None
    assert entry._int_option(["market", "ingest"], "--workers") is None


def test_the_entry_runs_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[tuple[int | None, str | None]] = []
    ran: list[list[str]] = []
    monkeypatch.setattr(
        "parley.ingest.forkserver.prestart", lambda w=None, s=None: started.append((w, s))
    )
    monkeypatch.setattr("parley.cli.app.main", lambda args: ran.append(args))
    entry.main(["market", "ingest", "--workers", "2", "f.json"])
    entry.main(["status"])
    assert started == [(2, None)]
    assert ran == [["market", "ingest", "--workers", "2", "f.json"], ["status"]]
