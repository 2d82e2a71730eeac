"""Typed settings, resolved flags > environment (``PARLEY_*``) > parley.toml > defaults.

Settings are built on first use by :func:`load_settings`, never at import time.
The workspace directory is resolved first (flag, then ``PARLEY_WORKSPACE``,
then the nearest parent of the current directory holding a ``parley.toml``,
then ``./parley-workspace``), because the config file lives inside it.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator

from parley.errors import ConfigError

CONFIG_NAME = "parley.toml"
DEFAULT_WORKSPACE = "parley-workspace"
ENV_PREFIX = "PARLEY_"


class Settings(BaseModel):
    """Everything a Parley run can be told.  Field docs are the documentation."""

    model_config = {"extra": "forbid", "frozen": True}

    workspace: Path = Field(description="the workspace folder")
    database_url: str | None = Field(
        default=None,
        description="system of record URL; default is SQLite at <workspace>/parley.db "
        "(env PARLEY_DATABASE_URL, e.g. postgresql+psycopg://user@host/db)",
    )
    organization_name: str = Field(default="My organisation", description="shown on reports")
    practice_zip: str | None = Field(default=None, description="practice ZIP, selects the Medicare locality")
    chunk_mb: int = Field(default=32, ge=1, le=1024, description="X12 read chunk size in MB")
    workers: int = Field(default=0, ge=0, description="processes for parallel ingestion (0 = one per core)")
    tolerance_dollars: str = Field(default="1.00", description="payment-accuracy tolerance in dollars")
    tolerance_percent: str = Field(default="1.0", description="payment-accuracy tolerance in percent")

    @field_validator("practice_zip")
    @classmethod
    def _zip5(cls, value: str | None) -> str | None:
        if value is not None and not (len(value) == 5 and value.isdigit()):
            raise ValueError("practice_zip must be five digits")
        return value

    @property
    def config_path(self) -> Path:
        return self.workspace / CONFIG_NAME


def resolve_workspace(flag: str | Path | None = None, *, cwd: Path | None = None) -> Path:
    """Where the workspace is: flag > PARLEY_WORKSPACE > a parent with parley.toml > default."""
    if flag:
        return Path(flag).expanduser().resolve()
    env = os.environ.get(f"{ENV_PREFIX}WORKSPACE")
    if env:
        return Path(env).expanduser().resolve()
    here = (cwd or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    return here / DEFAULT_WORKSPACE


def read_config_file(path: Path) -> dict[str, Any]:
    """The [parley] table of a parley.toml (missing file: empty)."""
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}", hint="fix the file or run 'parley init' again") from exc
    section = data.get("parley", {})
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [parley] must be a table")
    return section


def _environment() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in Settings.model_fields:
        value = os.environ.get(f"{ENV_PREFIX}{name.upper()}")
        if value not in (None, "") and name != "workspace":
            out[name] = value
    return out


def load_settings(workspace: str | Path | None = None, **flags: Any) -> Settings:
    """Build settings: flags > environment > <workspace>/parley.toml > defaults."""
    folder = resolve_workspace(workspace)
    merged: dict[str, Any] = {}
    merged.update(read_config_file(folder / CONFIG_NAME))
    merged.update(_environment())
    merged.update({k: v for k, v in flags.items() if v is not None})
    merged["workspace"] = folder
    try:
        return Settings(**merged)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            f"setting '{where}': {first['msg']}",
            hint=f"check the flag, the {ENV_PREFIX}{where.upper()} variable, or {folder / CONFIG_NAME}",
        ) from exc
