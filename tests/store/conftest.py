"""Fixtures for the system of record: a SQLite file per test, and a fresh
PostgreSQL database per test when ``PARLEY_TEST_DATABASE_URL`` is set.

Start a throwaway server and run the PostgreSQL tier with::

    eval "$(scripts/pg_local.sh start)"
    .venv/bin/python -m pytest tests/store -q
    scripts/pg_local.sh stop

The URL's role must be allowed to CREATE DATABASE: each test gets its own
``parley_t_<random>`` database, dropped afterwards.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

try:
    import parley  # noqa: F401
except ImportError:  # running from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from parley.store import sor

PG_ENV = "PARLEY_TEST_DATABASE_URL"
PG_SKIP_REASON = (
    f"{PG_ENV} is not set: start a throwaway PostgreSQL with "
    '`eval "$(scripts/pg_local.sh start)"` (CI sets it)'
)


@pytest.fixture(autouse=True)
def _dispose_shared_engines() -> Iterator[None]:
    yield
    sor.dispose_engines()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return sor.database_url_for(tmp_path)


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(PG_SKIP_REASON)
    return url


@pytest.fixture
def pg_url(pg_admin_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped after it."""
    name = f"parley_t_{uuid.uuid4().hex[:12]}"
    admin = make_url(pg_admin_url).set(drivername="postgresql+psycopg")
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        sor.dispose_engines()
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """An empty database on each backend (the PostgreSQL one skips without a server)."""
    fixture = "sqlite_url" if request.param == "sqlite" else "pg_url"
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture
def migrated_url(db_url: str) -> str:
    sor.upgrade(db_url)
    return db_url
