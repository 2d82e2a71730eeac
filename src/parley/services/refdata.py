"""Use cases: reference data (load a newer CMS release, list what is available)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from parley.store.workspace import Workspace


def load_release(*, workspace: Workspace, path: Path, year: int | None = None) -> dict[str, Any]:
    """Load a CMS PFS release (CMS's own file layout, a file, folder or .zip) into the workspace."""
    from parley.refdata import load_cms_release

    report = load_cms_release(path, dest_dir=workspace.refdata_dir, year=year)
    return report.as_dict()


def list_refdata(*, workspace: Workspace | None) -> list[dict[str, Any]]:
    """Every packaged and workspace-loaded reference table, by year and release."""
    from parley.refdata import inventory

    return inventory(extra_dir=workspace.refdata_dir if workspace else None)
