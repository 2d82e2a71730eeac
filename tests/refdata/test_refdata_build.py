"""Rebuilding the packaged data from the shared folder (skipped when it is absent)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

SHARED = Path("/work/shared/data")


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED / "cms").is_dir(), reason="shared data folder not available")
def test_build_reproduces_packaged_data(tmp_path: Path) -> None:
    from parley.refdata import build, packaged_dir

    build.build(SHARED, tmp_path)
    pkg = packaged_dir()
    for rel in ("pfs/2025D/rvu.parquet", "pfs/2024C/gpci.parquet", "pfs/2025D/zip5.parquet"):
        assert pl.read_parquet(tmp_path / rel).equals(pl.read_parquet(pkg / rel)), rel
    for rel in ("codes/carc.csv", "conversion_factors.csv", "codes/place_of_service.csv"):
        assert (tmp_path / rel).read_text() == (pkg / rel).read_text(), rel
