"""Fixtures for the reference-data tests (no access to /work/shared needed)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
try:  # the project may not be installed in the test environment
    import parley  # noqa: F401
except ImportError:  # pragma: no cover
    sys.path.insert(0, str(ROOT / "src"))

CMS = ROOT / "tests" / "data" / "cms"


@pytest.fixture
def cms_dir() -> Path:
    return CMS


@pytest.fixture(autouse=True)
def _fresh_cache():
    from parley.refdata import clear_cache

    clear_cache()
    yield
    clear_cache()
