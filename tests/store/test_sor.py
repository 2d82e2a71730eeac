"""The system of record on SQLite and (marked ``postgres``) PostgreSQL."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, inspect, select, text

from parley.errors import StoreError
from parley.store import sor
from parley.store.models import (
    AuditEntry,
    Base,
    Contract,
    ContractStatus,
    ContractVersion,
    EventKind,
    IngestBatch,
    IngestStatus,
    Negotiation,
    NegotiationEvent,
    NegotiationStatus,
    Payer,
    ProductLine,
    ProductLineKind,
    Proposal,
    ProposalSide,
    User,
    UserRole,
)

SOR_TABLES = {
    "payers",
    "product_lines",
    "contracts",
    "contract_versions",
    "contract_version_product_lines",
    "negotiations",
    "negotiation_events",
    "proposals",
    "users",
    "audit_log",
    "ingest_batches",
}
AMOUNTS = [
    Decimal("999999999999.99"),
    Decimal("-999999999999.99"),
    Decimal("0.01"),
    Decimal("0.10"),
    Decimal("123456789012.35"),
    Decimal("0.00"),
]


def _diff(url: str, metadata: MetaData) -> list[Any]:
    engine = sor.make_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = sor.make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


# --- migrations --------------------------------------------------------------


def test_upgrade_creates_every_table_at_head(db_url: str) -> None:
    assert sor.current_revision(db_url) is None
    sor.upgrade(db_url)
    assert sor.current_revision(db_url) == sor.head_revision()
    assert _tables(db_url) == SOR_TABLES | {"alembic_version"}
    sor.require_current_schema(db_url)


def test_downgrade_to_base_then_upgrade_again(migrated_url: str) -> None:
    sor.downgrade(migrated_url, "base")
    assert sor.current_revision(migrated_url) is None
    assert _tables(migrated_url) <= {"alembic_version"}
    sor.upgrade(migrated_url)
    assert sor.current_revision(migrated_url) == sor.head_revision()
    assert _tables(migrated_url) == SOR_TABLES | {"alembic_version"}


def test_models_and_migrations_agree(migrated_url: str) -> None:
    assert _diff(migrated_url, Base.metadata) == []


def test_the_model_comparison_would_notice_a_drift(migrated_url: str) -> None:
    drifted = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.tables.values():
        table.to_metadata(drifted)
    drifted.tables["payers"].append_column(Column("tier", Integer, nullable=True))
    assert [d[0] for d in _diff(migrated_url, drifted)] == ["add_column"]


def test_an_unmigrated_database_is_refused_with_the_next_step(db_url: str) -> None:
    with pytest.raises(StoreError, match="parley db upgrade"):
        sor.require_current_schema(db_url)
    with (
        pytest.raises(StoreError, match="parley db upgrade"),
        sor.transaction(sor.session_factory(db_url)) as session,
    ):
        session.execute(select(Payer)).all()


def test_migrations_ship_inside_the_package() -> None:
    assert sor.MIGRATIONS_DIR.parent == Path(sor.__file__).resolve().parent
    assert (sor.MIGRATIONS_DIR / "env.py").is_file()
    assert sor.head_revision() == "0001"


# --- round trips -------------------------------------------------------------


def _seed(url: str) -> int:
    with sor.transaction(sor.session_factory(url)) as session:
        payer = Payer(
            name="Acme Health Plan",
            payer_ids=["60054", "ACME1"],
            aliases=["ACME HEALTH", "Acme Health Plan of Ohio"],
        )
        hmo = ProductLine(name="Acme HMO", kind=ProductLineKind.COMMERCIAL_HMO)
        ma = ProductLine(name="Acme Medicare PPO", kind=ProductLineKind.MEDICARE_ADVANTAGE_PPO)
        payer.product_lines += [hmo, ma]
        contract = Contract(payer=payer, name="Acme professional services agreement")
        contract.versions.append(
            ContractVersion(
                version_number=1,
                effective_date=dt.date(2025, 1, 1),
                expiry_date=dt.date(2027, 12, 31),
                renewal_type="auto_renew",
                notice_days=90,
                status=ContractStatus.ACTIVE,
                yaml_text="payer: Acme\nrates: {}\n",
                yaml_sha256="a" * 64,
                loaded_by="ana@clinic.example",
                product_lines=[hmo, ma],
            )
        )
        negotiation = Negotiation(
            payer=payer,
            title="2026 renewal",
            status=NegotiationStatus.ACTIVE,
            started_on=dt.date(2026, 3, 1),
            target_close_on=dt.date(2026, 9, 30),
        )
        negotiation.events.append(
            NegotiationEvent(
                occurred_on=dt.date(2026, 3, 15),
                kind=EventKind.MEETING,
                summary="Opening meeting; payer offered 2% on E/M.",
                participants=["Ana (us)", "Bo (Acme)"],
                tentative_agreements=[{"item": "E/M", "pct_of_medicare": "118.5"}],
                outstanding_issues=[{"item": "timely filing", "ours": 180, "theirs": 90}],
                recorded_by="ana@clinic.example",
            )
        )
        negotiation.proposals += [
            Proposal(side=ProposalSide(side), yaml_text=f"amount: {amount}\n", modeled_value=amount)
            for side, amount in zip(["ours", "theirs"] * 3, AMOUNTS, strict=True)
        ]
        session.add_all(
            [
                contract,
                negotiation,
                User(name="Ana", email="ana@clinic.example", role=UserRole.ANALYST),
            ]
        )
        session.flush()
        return negotiation.id


def test_crud_round_trip_keeps_money_json_and_time_exact(migrated_url: str) -> None:
    before = dt.datetime.now(dt.UTC)
    negotiation_id = _seed(migrated_url)
    sor.dispose_engines()  # read back through fresh connections

    with sor.transaction(sor.session_factory(migrated_url)) as session:
        negotiation = session.get_one(Negotiation, negotiation_id)
        assert negotiation.payer.payer_ids == ["60054", "ACME1"]
        assert negotiation.payer.aliases == ["ACME HEALTH", "Acme Health Plan of Ohio"]
        assert negotiation.status is NegotiationStatus.ACTIVE
        assert negotiation.target_close_on == dt.date(2026, 9, 30)
        event = negotiation.events[0]
        assert event.kind is EventKind.MEETING
        assert event.tentative_agreements == [{"item": "E/M", "pct_of_medicare": "118.5"}]
        assert event.outstanding_issues == [{"item": "timely filing", "ours": 180, "theirs": 90}]
        values = [p.modeled_value for p in sorted(negotiation.proposals, key=lambda p: p.id)]
        assert values == AMOUNTS
        assert all(type(v) is Decimal and v.as_tuple().exponent == -2 for v in values)
        assert before <= negotiation.created_at <= dt.datetime.now(dt.UTC)
        assert negotiation.created_at.utcoffset() == dt.timedelta(0)

        version = session.scalars(select(ContractVersion)).one()
        assert {pl.kind for pl in version.product_lines} == {
            ProductLineKind.COMMERCIAL_HMO,
            ProductLineKind.MEDICARE_ADVANTAGE_PPO,
        }
        assert version.contract.payer.name == "Acme Health Plan"
        user = session.scalars(select(User)).one()
        assert (user.role, user.email) == (UserRole.ANALYST, "ana@clinic.example")

        version.status = ContractStatus.EXPIRED
        session.delete(negotiation)

    with sor.transaction(sor.session_factory(migrated_url)) as session:
        assert session.scalars(select(ContractVersion.status)).one() is ContractStatus.EXPIRED
        assert session.scalars(select(Negotiation)).all() == []
        assert session.scalars(select(NegotiationEvent)).all() == []
        assert session.scalars(select(Proposal)).all() == []


def test_money_refuses_floats_and_fractions_of_cents(migrated_url: str) -> None:
    negotiation_id = _seed(migrated_url)
    factory = sor.session_factory(migrated_url)
    for bad, error in [
        (1.5, TypeError),
        (Decimal("1.005"), ValueError),
        (Decimal("1e12"), ValueError),
    ]:
        with pytest.raises(error), sor.transaction(factory) as session:
            session.add(
                Proposal(
                    negotiation_id=negotiation_id,
                    side=ProposalSide.OURS,
                    yaml_text="",
                    modeled_value=bad,
                )
            )


def test_naive_datetimes_are_refused(migrated_url: str) -> None:
    with (
        pytest.raises(ValueError, match="naive"),
        sor.transaction(sor.session_factory(migrated_url)) as session,
    ):
        sor.record_ingest_batch(session, files=[], started_at=dt.datetime(2026, 1, 1, 12, 0))


def test_constraints_are_enforced_and_translated(migrated_url: str) -> None:
    factory = sor.session_factory(migrated_url)
    with pytest.raises(StoreError, match="refused a change"), sor.transaction(factory) as session:
        session.add(ProductLine(payer_id=424242, name="ghost", kind=ProductLineKind.ACO))
    with sor.transaction(factory) as session:
        session.add(Payer(name="Dup"))
    with pytest.raises(StoreError, match="refused a change"), sor.transaction(factory) as session:
        session.add(Payer(name="Dup"))
    with pytest.raises(StoreError), sor.transaction(factory) as session:
        session.execute(
            text(
                "INSERT INTO users (name, email, role, created_at) VALUES ('x', 'x@y', 'root', CURRENT_TIMESTAMP)"
            )
        )


# --- audit and ingest batches ------------------------------------------------


def test_audit_log_write_and_read(migrated_url: str) -> None:
    factory = sor.session_factory(migrated_url)
    with sor.transaction(factory) as session:
        sor.record_audit(
            session,
            user="ana@clinic.example",
            action="view",
            object_type="remit_claims",
            object_id="payer:60054",
            detail={"rows": 120, "filters": {"from": "2026-01-01"}, "export": None},
        )
        sor.record_audit(
            session, user="bo", action="export", object_type="claim_lines", object_id="file:abc"
        )

    with sor.transaction(factory) as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert [(e.user, e.action, e.object_type, e.object_id) for e in entries] == [
            ("ana@clinic.example", "view", "remit_claims", "payer:60054"),
            ("bo", "export", "claim_lines", "file:abc"),
        ]
        assert entries[0].detail == {"rows": 120, "filters": {"from": "2026-01-01"}, "export": None}
        assert entries[1].detail is None
        assert all(e.at.tzinfo is not None and e.at <= dt.datetime.now(dt.UTC) for e in entries)


def test_an_uncommitted_audit_entry_rolls_back_with_its_transaction(migrated_url: str) -> None:
    factory = sor.session_factory(migrated_url)
    with pytest.raises(RuntimeError), sor.transaction(factory) as session:
        sor.record_audit(session, user="u", action="view", object_type="t", object_id="1")
        raise RuntimeError("the export failed")
    with sor.transaction(factory) as session:
        assert session.scalars(select(AuditEntry)).all() == []


def test_ingest_batch_recorded_and_finished(migrated_url: str) -> None:
    factory = sor.session_factory(migrated_url)
    started = dt.datetime(2026, 5, 1, 8, 30, tzinfo=dt.timezone(dt.timedelta(hours=-4)))
    files = [{"file_id": "0123456789abcdef", "path": "remits/acme.835", "format": "x12-835"}]
    with sor.transaction(factory) as session:
        batch_id = sor.record_ingest_batch(session, files=files, started_at=started)
    assert isinstance(batch_id, int)
    with sor.transaction(factory) as session:
        sor.finish_ingest_batch(session, batch_id, status="partial", summary={"problems": 3})
    with sor.transaction(factory) as session:
        batch = session.get_one(IngestBatch, batch_id)
        assert batch.files == files
        assert batch.status is IngestStatus.PARTIAL
        assert batch.summary == {"problems": 3}
        assert batch.started_at == started and batch.started_at.utcoffset() == dt.timedelta(0)
        assert batch.finished_at is not None and batch.finished_at >= started
        with pytest.raises(StoreError, match="no ingest batch 999"):
            sor.finish_ingest_batch(session, 999, status="failed")


# --- URLs, engines, errors -----------------------------------------------------


def test_database_url_for_the_workspace_and_override(tmp_path: Path) -> None:
    assert sor.database_url_for(tmp_path) == f"sqlite:///{tmp_path.resolve()}/parley.db"
    assert (
        sor.database_url_for(tmp_path, "postgresql+psycopg://h/db") == "postgresql+psycopg://h/db"
    )


def test_sqlite_engine_turns_on_foreign_keys_and_wal(sqlite_url: str) -> None:
    engine = sor.make_engine(sqlite_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()


@pytest.mark.parametrize("url", ["postgresql://u:pw@h/db", "postgres://u:pw@h/db"])
def test_postgres_urls_use_psycopg_3(url: str) -> None:
    engine = sor.make_engine(url)
    assert engine.dialect.driver == "psycopg"
    engine.dispose()


def test_mask_url_hides_passwords() -> None:
    assert (
        sor.mask_url("postgresql+psycopg://parley:s3cret@db:5432/p")
        == "postgresql+psycopg://parley:***@db:5432/p"
    )
    assert "s3cret" not in sor.mask_url("not a url://parley:s3cret@db")


@pytest.mark.parametrize(
    "url",
    [
        "not-a-url",
        "nosuchdb+driver://parley:s3cret@db/p",
        "mysql://parley:s3cret@db/p",
        "postgresql+psycopg://parley:s3cret@db:notaport/p",
        "postgresql+psycopg2://parley:s3cret@db/p",
    ],
)
def test_an_unusable_url_is_a_store_error_without_the_password(url: str) -> None:
    with pytest.raises(StoreError) as caught:
        sor.make_engine(url)
    assert "s3cret" not in str(caught.value)
    assert "sqlite:///" in str(caught.value)  # the hint names what works


def test_an_unreachable_server_names_host_port_and_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = "postgresql+psycopg://parley:s3cret@127.0.0.1:1/parley?connect_timeout=3"
    monkeypatch.setenv("PARLEY_DATABASE_URL", url)
    for attempt in (sor.check_connection, sor.upgrade, sor.current_revision):
        with pytest.raises(StoreError) as caught:
            attempt(url)
        message = str(caught.value)
        assert "cannot connect" in message and "127.0.0.1:1" in message
        assert "parley:***@127.0.0.1:1" in message and "s3cret" not in message
        assert "PARLEY_DATABASE_URL is set" in message


def test_a_sqlite_file_in_a_missing_folder_says_which_folder(tmp_path: Path) -> None:
    url = sor.database_url_for(tmp_path / "no" / "such" / "workspace")
    with pytest.raises(StoreError, match="no/such/workspace"):
        sor.upgrade(url)


@pytest.mark.postgres
def test_postgres_stores_json_as_jsonb(pg_url: str) -> None:
    sor.upgrade(pg_url)
    engine = sor.make_engine(pg_url)
    try:
        columns = {c["name"]: c["type"] for c in inspect(engine).get_columns("audit_log")}
    finally:
        engine.dispose()
    assert type(columns["detail"]).__name__ == "JSONB"
    assert str(columns["at"]) == "TIMESTAMP" and columns["at"].timezone


def test_autogenerated_migrations_need_no_parley_imports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`python -m parley.store.sor revision` writes plain-SQLAlchemy migrations that build the models."""
    migrations = tmp_path / "migrations"
    shutil.copytree(sor.MIGRATIONS_DIR, migrations, ignore=shutil.ignore_patterns("__pycache__"))
    for old in (migrations / "versions").glob("*.py"):
        old.unlink()
    monkeypatch.setattr(sor, "MIGRATIONS_DIR", migrations)

    script = sor.new_revision("everything from scratch")

    assert script.name == "0001_everything_from_scratch.py"
    source = script.read_text()
    assert "parley" not in source and "Money" not in source and "UTCDateTime" not in source
    url = sor.database_url_for(tmp_path)
    sor.upgrade(url)
    assert _diff(url, Base.metadata) == []
