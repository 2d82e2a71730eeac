"""Alembic environment for Parley's system of record.

Run through :func:`parley.store.sor.upgrade` (no alembic.ini needed).  The
caller may hand over an open connection in ``config.attributes["connection"]``;
otherwise one is made from the ``sqlalchemy.url`` option with
:func:`parley.store.sor.make_engine` (so SQLite gets its pragmas).

To write a new migration after changing ``parley.store.models``::

    python -m parley.store.sor revision "add payer tier"

(it migrates a scratch SQLite database to head, autogenerates the difference
into ``versions/NNNN_<slug>.py``; review it, and keep CHECK constraints, which
autogenerate does not see, in step by hand).
"""

from __future__ import annotations

from typing import Any, Literal

import sqlalchemy as sa
from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection

from parley.store.models import Base, Money, UTCDateTime

target_metadata = Base.metadata


def _render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Render Parley's column types as plain SQLAlchemy ones: migrations never import models."""
    if type_ != "type":
        return False
    if isinstance(obj, Money):
        return "sa.Numeric(precision=14, scale=2)"
    if isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if isinstance(obj, sa.JSON):
        autogen_context.imports.add("from sqlalchemy.dialects import postgresql")
        return "sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')"
    return False


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from parley.store.sor import make_engine

    engine = make_engine(context.config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    context.configure(
        url=context.config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
