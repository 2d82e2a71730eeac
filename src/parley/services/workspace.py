"""Use cases: create a workspace, migrate its system of record."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from parley.store.workspace import Workspace, init_workspace


def create_workspace(*, folder: Path, organization: str = "My organisation") -> dict[str, Any]:
    """Create the folder layout, config and key, and migrate the system of record."""
    ws = init_workspace(folder, organization=organization)
    info = upgrade_database(workspace=ws)
    return {"workspace": str(ws.root), "config": str(ws.settings.config_path), **info}


def upgrade_database(*, workspace: Workspace) -> dict[str, Any]:
    """Bring the system of record to the newest migration."""
    from parley.store.sor import current_revision, mask_url, upgrade

    url = workspace.database_url
    upgrade(url)
    return {"database": mask_url(url), "revision": current_revision(url)}
