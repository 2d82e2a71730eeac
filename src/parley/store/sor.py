"""The system of record: engines, sessions, migrations, audit.

A SQLite file in the workspace by default (``<workspace>/parley.db``);
PostgreSQL when a URL is given (``postgresql+psycopg://user@host:5432/parley``;
``postgresql://`` and ``postgres://`` are read as psycopg 3).  The schema is
owned by Alembic; the migrations ship inside the package
(``parley/store/migrations``), so no ``alembic.ini`` is needed::

    url = database_url_for(workspace_dir, override=settings.database_url)
    upgrade(url)                      # create or bring the schema to head
    Session = session_factory(url)
    with transaction(Session) as session:
        record_audit(session, user="ana@clinic.org", action="export",
                     object_type="remit_claims", object_id="payer:42")

SQLAlchemy and psycopg errors are translated here into
:class:`parley.errors.StoreError`; passwords in URLs are never shown.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.orm import Session, sessionmaker

from parley.errors import StoreError
from parley.store.models import AuditEntry, Base, IngestBatch, IngestStatus, utcnow

__all__ = [
    "MIGRATIONS_DIR",
    "check_connection",
    "current_revision",
    "database_url_for",
    "dispose_engines",
    "downgrade",
    "finish_ingest_batch",
    "head_revision",
    "make_engine",
    "mask_url",
    "record_audit",
    "record_ingest_batch",
    "require_current_schema",
    "session_factory",
    "transaction",
    "translate_errors",
    "upgrade",
]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_FILENAME = "parley.db"
ENV_VAR = "PARLEY_DATABASE_URL"
_URL_HINT = "use sqlite:///path/to/parley.db or postgresql+psycopg://user:password@host:5432/db"
_PASSWORD_IN_URL = re.compile(r"(://[^:/@]*:)[^@]*@")


# --- URLs --------------------------------------------------------------------


def database_url_for(workspace_dir: Path, override: str | None = None) -> str:
    """The system of record's URL: ``override`` if given, else the workspace's SQLite file."""
    if override:
        return override
    return f"sqlite:///{(Path(workspace_dir).resolve() / SQLITE_FILENAME).as_posix()}"


def mask_url(url: str | URL) -> str:
    """The URL with its password replaced by ``***`` (also for unparsable URLs)."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return _PASSWORD_IN_URL.sub(r"\1***@", url)


def _parse(url: str) -> URL:
    """Parse and normalise a URL: PostgreSQL always through psycopg 3."""
    try:
        parsed = make_url(url)
    except (exc.ArgumentError, ValueError) as error:
        raise StoreError(
            f"not a database URL: {mask_url(url)!r}", hint=_URL_HINT + _env_note()
        ) from error
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise StoreError(
            f"the system of record runs on SQLite or PostgreSQL, not {parsed.get_backend_name()} "
            f"({mask_url(parsed)})",
            hint=_URL_HINT + _env_note(),
        )
    return parsed


def _env_note() -> str:
    if os.environ.get(ENV_VAR):
        return f"; {ENV_VAR} is set ({mask_url(os.environ[ENV_VAR])}): fix or unset it"
    return ""


# --- engines -----------------------------------------------------------------


def make_engine(url: str) -> Engine:
    """A new engine. SQLite: foreign keys on, WAL journal, real transactions. PostgreSQL: psycopg 3."""
    return _make_engine(url, sqlite_foreign_keys=True)


def _make_engine(url: str, *, sqlite_foreign_keys: bool) -> Engine:
    parsed = _parse(url)
    try:
        if parsed.get_backend_name() == "sqlite":
            engine = create_engine(parsed)
            _configure_sqlite(engine, foreign_keys=sqlite_foreign_keys)
            return engine
        connect_args = {} if "connect_timeout" in parsed.query else {"connect_timeout": 10}
        return create_engine(parsed, pool_pre_ping=True, connect_args=connect_args)
    except (exc.ArgumentError, exc.NoSuchModuleError, ImportError) as error:
        raise StoreError(
            f"cannot use database URL {mask_url(parsed)}: {error}",
            hint=_URL_HINT + " (psycopg 3: install parley[postgres])" + _env_note(),
        ) from error


def _configure_sqlite(engine: Engine, *, foreign_keys: bool) -> None:
    """Pragmas on every connection, and SQLAlchemy (not pysqlite) owning transactions.

    pysqlite's own transaction handling leaves DDL outside transactions; the
    recipe from SQLAlchemy's SQLite docs makes migrations all-or-nothing.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.execute("PRAGMA busy_timeout=5000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN")


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def _shared_engine(url: str) -> Engine:
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _engines[url] = make_engine(url)
        return engine


def dispose_engines() -> None:
    """Close the pooled connections of every engine :func:`session_factory` made."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def session_factory(url: str) -> sessionmaker[Session]:
    """Sessions on one shared engine per URL (objects stay usable after commit)."""
    return sessionmaker(bind=_shared_engine(url), expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work is committed on success, rolled back on error, errors translated."""
    session = factory()
    try:
        with translate_errors(session.get_bind().engine.url), session.begin():
            yield session
    finally:
        session.close()


# --- error translation ---------------------------------------------------------


@contextmanager
def translate_errors(url: str | URL, doing: str = "") -> Iterator[None]:
    """Turn SQLAlchemy/psycopg errors raised inside into :class:`StoreError`."""
    try:
        yield
    except exc.StatementError as error:
        if not isinstance(error, exc.DBAPIError) and isinstance(error.orig, TypeError | ValueError):
            raise error.orig from error  # a bad value from the caller (a float for money...)
        raise _translate(error, url, doing) from error
    except exc.SQLAlchemyError as error:
        raise _translate(error, url, doing) from error


def _translate(error: exc.SQLAlchemyError, url: str | URL, doing: str) -> StoreError:
    masked = mask_url(url)
    parsed = url if isinstance(url, URL) else _parse_quietly(url)
    reason = _scrub(_first_line(error), parsed)
    where = f" while {doing}" if doing else ""
    if isinstance(error, exc.DBAPIError) and error.statement is None:
        return _connect_error(parsed, masked, reason)
    if isinstance(error, exc.IntegrityError):
        return StoreError(
            f"the system of record refused a change{where}: {reason}",
            hint="a unique value is already taken, or a referenced record is missing",
        )
    if isinstance(error, exc.OperationalError | exc.ProgrammingError) and _looks_unmigrated(reason):
        return StoreError(
            f"the system of record at {masked} lacks a table or column{where}: {reason}",
            hint="bring its schema up to date: run `parley db upgrade`",
        )
    return StoreError(f"system of record error at {masked}{where}: {reason}")


def _connect_error(parsed: URL | None, masked: str, reason: str) -> StoreError:
    if parsed is not None and parsed.get_backend_name() == "sqlite":
        folder = Path(parsed.database or ".").parent
        return StoreError(
            f"cannot open the SQLite system of record {masked}: {reason}",
            hint=f"check that the folder {folder} exists and is writable" + _env_note(),
        )
    host = (parsed.host if parsed else None) or "localhost"
    port = (parsed.port if parsed else None) or 5432
    hint = f"check that PostgreSQL is running and accepts connections on {host}:{port}"
    if os.environ.get(ENV_VAR):
        hint += (
            f"; {ENV_VAR} is set, so Parley uses this server instead of the workspace's "
            f"SQLite file: fix it, or unset it to use SQLite"
        )
    return StoreError(
        f"cannot connect to the system of record at {host}:{port} ({masked}): {reason}", hint=hint
    )


def _parse_quietly(url: str) -> URL | None:
    try:
        return make_url(url)
    except exc.ArgumentError:
        return None


def _first_line(error: exc.SQLAlchemyError) -> str:
    orig = getattr(error, "orig", None)
    message = str(orig if orig is not None else error).strip()
    return message.splitlines()[0] if message else type(error).__name__


def _scrub(message: str, parsed: URL | None) -> str:
    if parsed is not None and parsed.password:
        message = message.replace(str(parsed.password), "***")
    return message


def _looks_unmigrated(reason: str) -> bool:
    lowered = reason.lower()
    return any(s in lowered for s in ("no such table", "no such column", "does not exist"))


# --- migrations --------------------------------------------------------------


def _alembic_config(url: str, connection: Connection | None = None) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


def _migrate(url: str, action: str, revision: str) -> None:
    from alembic import command

    engine = _make_engine(url, sqlite_foreign_keys=False)
    try:
        with translate_errors(url, f"migrating ({action} to {revision})"), engine.connect() as conn:
            getattr(command, action)(_alembic_config(url, conn), revision)
            conn.commit()
            _check_foreign_keys(conn)
    finally:
        engine.dispose()


def _check_foreign_keys(conn: Connection) -> None:
    """SQLite migrations run with foreign keys off (batch mode copies tables); verify after."""
    if conn.dialect.name != "sqlite":
        return
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    conn.rollback()
    if broken:
        raise StoreError(
            f"migration left {len(broken)} broken foreign keys, e.g. {tuple(broken[0])}"
        )


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the schema up to ``revision`` (creating it on an empty database)."""
    _migrate(url, "upgrade", revision)


def downgrade(url: str, revision: str = "base") -> None:
    """Migrate the schema down to ``revision`` (``base``: drop every table)."""
    _migrate(url, "downgrade", revision)


def current_revision(url: str) -> str | None:
    """The database's Alembic revision, ``None`` when it has never been migrated."""
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url)
    try:
        with translate_errors(url, "reading the schema revision"), engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str | None:
    """The newest revision shipped with this version of Parley."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


def require_current_schema(url: str) -> None:
    """Raise :class:`StoreError` unless the database is at the shipped head revision."""
    current, head = current_revision(url), head_revision()
    if current != head:
        raise StoreError(
            f"the system of record at {mask_url(url)} is at schema revision {current or 'none'}, "
            f"this Parley expects {head}",
            hint="run `parley db upgrade` (back up the database first)",
        )


def metadata() -> Any:
    """The models' metadata (for Alembic's ``compare_metadata`` and tooling)."""
    return Base.metadata


# --- writes services need everywhere -----------------------------------------


def record_audit(
    session: Session,
    *,
    user: str,
    action: str,
    object_type: str,
    object_id: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one audit entry (flushed now; committed with the caller's transaction).

    Every view or export of claim-level data must call this.
    """
    entry = AuditEntry(
        user=user, action=action, object_type=object_type, object_id=object_id, detail=detail
    )
    session.add(entry)
    with translate_errors(session.get_bind().engine.url, "writing the audit log"):
        session.flush()


def record_ingest_batch(
    session: Session,
    *,
    files: Sequence[dict[str, Any]],
    status: IngestStatus | str = IngestStatus.RUNNING,
    started_at: dt.datetime | None = None,
    finished_at: dt.datetime | None = None,
    summary: dict[str, Any] | None = None,
) -> int:
    """Record an ingest batch and return its id (flushed; committed with the caller)."""
    batch = IngestBatch(
        files=list(files),
        status=IngestStatus(status),
        started_at=started_at or utcnow(),
        finished_at=finished_at,
        summary=summary,
    )
    session.add(batch)
    with translate_errors(session.get_bind().engine.url, "recording an ingest batch"):
        session.flush()
    return batch.id


def finish_ingest_batch(
    session: Session,
    batch_id: int,
    *,
    status: IngestStatus | str,
    summary: dict[str, Any] | None = None,
    finished_at: dt.datetime | None = None,
) -> None:
    """Mark a batch finished with its final status and summary."""
    with translate_errors(session.get_bind().engine.url, f"finishing ingest batch {batch_id}"):
        batch = session.get(IngestBatch, batch_id)
        if batch is None:
            raise StoreError(f"no ingest batch {batch_id} in the system of record")
        batch.status = IngestStatus(status)
        batch.finished_at = finished_at or utcnow()
        if summary is not None:
            batch.summary = summary
        session.flush()


def check_connection(url: str) -> None:
    """Connect once and run ``SELECT 1`` (raises :class:`StoreError`)."""
    engine = make_engine(url)
    try:
        with translate_errors(url, "connecting"), engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    finally:
        engine.dispose()


def new_revision(message: str) -> Path:
    """Autogenerate the next migration from the models (a development tool).

    Compares the models with a scratch SQLite database migrated to head and
    writes ``migrations/versions/NNNN_<slug>.py``; review it before committing.
    """
    import tempfile

    from alembic import command

    head = head_revision()
    rev_id = f"{int(head or 0) + 1:04d}"
    with tempfile.TemporaryDirectory() as scratch:
        url = database_url_for(Path(scratch))
        upgrade(url)
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                config = _alembic_config(url, conn)
                config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
                script = command.revision(config, message=message, autogenerate=True, rev_id=rev_id)
        finally:
            engine.dispose()
    if script is None or isinstance(script, list):
        raise StoreError("alembic produced no single revision")
    return Path(script.path)


if __name__ == "__main__":
    import sys

    if len(sys.argv) != 3 or sys.argv[1] != "revision":
        sys.exit('usage: python -m parley.store.sor revision "what changed"')
    print(new_revision(sys.argv[2]))
