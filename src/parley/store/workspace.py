"""A workspace: a folder holding an organisation's data and settings.

::

    <workspace>/
      parley.toml        settings ([parley] table); flags and PARLEY_* override it
      .secret            the key for patient hashes (never leaves the workspace)
      datasets/          Parquet, one folder per canonical table (see datasets.py)
      refdata/           reference data loaded with 'parley refdata load'
      contracts/         contract terms (YAML)
      reports/           generated briefs and exports
      parley.db          system of record (SQLite) unless PARLEY_DATABASE_URL is set

Analytics run in DuckDB over the Parquet: :meth:`Workspace.connect` returns a
connection with one view per canonical table, showing committed files only.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from parley.config import CONFIG_NAME, Settings, load_settings
from parley.errors import WorkspaceError
from parley.ingest.base import PatientHasher
from parley.store.datasets import part_tags, schema_tag, sweep_staging
from parley.store.tables import ALL_TABLES, MANIFEST

if TYPE_CHECKING:  # imported by connect(): an ingest that never queries does not load DuckDB
    import duckdb

SECRET_NAME = ".secret"
FOLDERS = ("datasets", "refdata", "contracts", "reports")

CONFIG_TEMPLATE = """\
# Parley workspace settings. Flags and PARLEY_* environment variables override these.
[parley]
organization_name = "{organization}"
# practice_zip = "10001"          # selects the Medicare locality for percent-of-Medicare
# database_url = "postgresql+psycopg://parley@localhost/parley"   # default: SQLite parley.db here
# chunk_mb = 32                   # X12 read chunk size
# workers = 0                     # ingestion processes (0 = one per core)
# tolerance_dollars = "1.00"      # payment-accuracy tolerance
# tolerance_percent = "1.0"
"""


@dataclass(frozen=True)
class Workspace:
    settings: Settings

    @property
    def root(self) -> Path:
        return self.settings.workspace

    @property
    def datasets(self) -> Path:
        return self.root / "datasets"

    @property
    def refdata_dir(self) -> Path:
        return self.root / "refdata"

    @property
    def contracts_dir(self) -> Path:
        return self.root / "contracts"

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"

    @property
    def database_url(self) -> str:
        return self.settings.database_url or f"sqlite:///{self.root / 'parley.db'}"

    def hasher(self) -> PatientHasher:
        path = self.root / SECRET_NAME
        try:
            return PatientHasher(bytes.fromhex(path.read_text().strip()))
        except (OSError, ValueError) as exc:
            raise WorkspaceError(
                f"{path}: the patient-hash key is missing or damaged",
                hint="restore it from your backup; without it new patient keys will not match old ones",
            ) from exc

    def connect(self, *, threads: int | None = None) -> duckdb.DuckDBPyConnection:
        """DuckDB in memory with a view per canonical table over the committed Parquet."""
        import duckdb

        con = duckdb.connect(config={"threads": threads} if threads else {})
        ordered = sorted(ALL_TABLES.items(), key=lambda kv: kv[0] != MANIFEST.name)
        for name, table in ordered:
            files = list((self.datasets / name).glob("*/part-*.parquet"))
            empty = table.schema.empty_table()
            con.register(f"_empty_{name}", empty)
            if not files:
                con.execute(f"CREATE VIEW {name} AS SELECT * FROM _empty_{name}")
                continue
            glob = (self.datasets / name / "*" / "part-*.parquet").as_posix().replace("'", "''")
            uniform = part_tags(files) == {schema_tag(name)}
            source = f"read_parquet('{glob}', union_by_name={'false' if uniform else 'true'})"
            if not uniform:  # parts of an older schema: every canonical column, null where absent
                source = f"(SELECT * FROM _empty_{name} UNION ALL BY NAME SELECT * FROM {source})"
            if name == MANIFEST.name:
                con.execute(f"CREATE VIEW {name} AS SELECT * FROM {source}")
            else:
                con.execute(
                    f"CREATE VIEW {name} AS SELECT * FROM {source} "
                    f"WHERE file_id IN (SELECT file_id FROM {MANIFEST.name})"
                )
        return con


def init_workspace(folder: Path, *, organization: str = "My organisation") -> Workspace:
    """Create (or complete) a workspace folder; an existing one keeps its files and key."""
    folder = folder.expanduser().resolve()
    folder.mkdir(parents=True, exist_ok=True)
    for sub in FOLDERS:
        (folder / sub).mkdir(exist_ok=True)
    config = folder / CONFIG_NAME
    if not config.exists():
        config.write_text(CONFIG_TEMPLATE.format(organization=organization.replace('"', "'")), encoding="utf-8")
    secret = folder / SECRET_NAME
    if not secret.exists():
        fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")
    gitignore = folder / ".gitignore"
    if not gitignore.exists():
        gitignore.write_text("# workspace data holds PHI-derived records: keep it out of version control\n*\n")
    ws = Workspace(load_settings(folder))
    sweep_staging(ws.datasets)
    return ws


def open_workspace(folder: str | Path | None = None, *, create: bool = False, **flags: object) -> Workspace:
    """Open the workspace named by flag / PARLEY_WORKSPACE / the current folder."""
    settings = load_settings(folder, **flags)
    if not (settings.workspace / CONFIG_NAME).is_file():
        if create:
            init_workspace(settings.workspace)
            settings = load_settings(settings.workspace, **flags)
        else:
            raise WorkspaceError(
                f"no Parley workspace at {settings.workspace}",
                hint="run 'parley init DIR' (or 'parley demo') first, or pass --workspace DIR",
            )
    return Workspace(settings)
