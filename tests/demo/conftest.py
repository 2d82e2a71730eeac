"""The demo run once per test session: generated, ingested, repriced, operations loaded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

#: the KPI ground-truth demo: small enough for a test session, every planted behaviour present
KPI_DEMO = {"seed": 20261123, "lines": 12_000, "months": 24}


@pytest.fixture(scope="session")
def demo_workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path]]:
    """(workspace, inputs folder) of the KPI demo, the steps of services.demo.run_demo."""
    from parley.demo import DemoSpec, generate_demo
    from parley.services.ingest import ingest_paths
    from parley.services.kpi import load_demo_operations
    from parley.services.reprice import reprice_demo
    from parley.store.workspace import init_workspace

    root = tmp_path_factory.mktemp("kpi-demo")
    ws = init_workspace(root / "ws", organization="Demo")
    inputs = root / "inputs"
    generate_demo(inputs, DemoSpec(**KPI_DEMO))
    ingest_paths(workspace=ws, paths=[str(inputs / "835"), str(inputs / "837")], workers=1)
    reprice_demo(ws, inputs)
    load_demo_operations(ws, inputs)
    yield ws, inputs
