"""The demo run once per test session: generated, ingested, repriced, operations loaded."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

#: the KPI ground-truth demo: small enough for a test session, every planted behaviour present
KPI_DEMO = {"seed": 20261123, "lines": 12_000, "months": 24}


def _zip_shim(mp: pytest.MonkeyPatch) -> None:
    """Packaged refdata may lack the 2024 ZIP table; ZIP 10001 is locality 13202-01 every year."""
    from parley import refdata
    from parley.demo import medicare as dm
    from parley.errors import ParleyError

    try:
        refdata.locality_for_zip("10001", 2024)
        return
    except ParleyError:
        pass

    def by_locality(code: str, modifier: str, year: int, facility: bool) -> Decimal:
        fee = refdata.medicare_fee(code, year=year, modifier=modifier or None, locality="13202-01", facility=facility)
        return Decimal(fee.amount).quantize(Decimal("0.01"))

    mp.setattr(dm, "medicare_amount", by_locality)


@pytest.fixture(scope="session")
def demo_workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path]]:
    """(workspace, inputs folder) of the KPI demo, the steps of services.demo.run_demo."""
    from parley.demo import DemoSpec, generate_demo
    from parley.services.ingest import ingest_paths
    from parley.services.kpi import load_demo_operations
    from parley.services.reprice import reprice_demo
    from parley.store.workspace import init_workspace

    mp = pytest.MonkeyPatch()
    _zip_shim(mp)
    root = tmp_path_factory.mktemp("kpi-demo")
    ws = init_workspace(root / "ws", organization="Demo")
    inputs = root / "inputs"
    try:
        generate_demo(inputs, DemoSpec(**KPI_DEMO))
        ingest_paths(workspace=ws, paths=[str(inputs / "835"), str(inputs / "837")], workers=1)
        reprice_demo(ws, inputs)
        load_demo_operations(ws, inputs)
    finally:
        mp.undo()
    yield ws, inputs
