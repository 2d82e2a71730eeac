"""Parley's exceptions.

Every error Parley raises on purpose descends from :class:`ParleyError`::

    ParleyError
     ├── ConfigError            settings or workspace configuration is wrong
     ├── WorkspaceError         no workspace, or a workspace in a bad state
     ├── InputError (ValueError)   a user's file or argument cannot be used
     │    ├── UnknownFormatError   a file whose format Parley cannot detect
     │    └── MappingError         a tabular column-mapping file is wrong
     ├── StoreError             the system of record failed (translated from SQLAlchemy)
     └── ReferenceDataError     packaged or loaded reference data is missing or bad

Messages say what was wrong, where (file, segment or row, field), and what to
do next.  Library exceptions are translated at the adapter edge.
"""

from __future__ import annotations


class ParleyError(Exception):
    """Root of every error Parley raises on purpose."""

    hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint

    def __str__(self) -> str:
        base = super().__str__()
        return f"{base}\n  hint: {self.hint}" if self.hint else base


class ConfigError(ParleyError):
    """Settings or the workspace configuration file are wrong."""


class WorkspaceError(ParleyError):
    """No workspace where one is needed, or a workspace in a bad state."""


class InputError(ParleyError, ValueError):
    """A user's file or argument cannot be used."""


class UnknownFormatError(InputError):
    """A file whose format Parley cannot detect."""


class MappingError(InputError):
    """A tabular column-mapping file is wrong."""


class StoreError(ParleyError):
    """The system of record failed."""


class ReferenceDataError(ParleyError):
    """Reference data (CMS fee schedules, code lists) is missing or bad."""
