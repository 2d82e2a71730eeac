"""Shared fixtures. Tests never read ../shared: what they need is under tests/data."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PARLEY_WORKSPACE", "PARLEY_DATABASE_URL", "PARLEY_CHUNK_MB", "PARLEY_WORKERS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def data_dir() -> Path:
    return DATA


@pytest.fixture
def workspace(tmp_path: Path):
    from parley.store.workspace import init_workspace

    return init_workspace(tmp_path / "ws", organization="Test Group")
