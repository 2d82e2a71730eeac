"""The system of record's tables: what people edit, and the audit.

Claims and remittances live in the workspace's Parquet datasets
(:mod:`parley.store.tables`); this module holds the rest: payers and their
product lines, contracts and their versions, negotiations with their event
log and proposals, users, the audit log, and a mirror of ingest batches for
the UI.

Conventions
- Money is :class:`Money`, a ``NUMERIC(14, 2)`` that takes and returns
  :class:`~decimal.Decimal` only (a float is refused).
- Timestamps are :class:`UTCDateTime`: timezone-aware UTC going in and coming
  out, on SQLite (which has no time zones) as on PostgreSQL.
- Choice columns (``kind``, ``status``, ``role``, ``side``) are ``VARCHAR``
  plus a ``CHECK`` constraint, not native PostgreSQL enums, so adding a value
  is a one-line migration on both backends.
- Constraint names follow :data:`NAMING_CONVENTION`, so migrations can name
  what they alter on every backend.

The initial migration (``migrations/versions/0001_initial.py``) must match
these models exactly; ``tests/store/test_sor.py`` checks that with Alembic's
``compare_metadata`` on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Date,
    DateTime,
    Dialect,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator, TypeEngine

__all__ = [
    "AuditEntry",
    "Base",
    "Contract",
    "ContractStatus",
    "ContractVersion",
    "EventKind",
    "IngestBatch",
    "IngestStatus",
    "Money",
    "Negotiation",
    "NegotiationEvent",
    "NegotiationStatus",
    "Payer",
    "ProductLine",
    "ProductLineKind",
    "Proposal",
    "ProposalSide",
    "User",
    "UserRole",
    "UTCDateTime",
    "utcnow",
]

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}

CENT = Decimal("0.01")


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """``TIMESTAMP WITH TIME ZONE``; aware UTC datetimes in and out.

    SQLite keeps no zone, so values are stored as naive UTC and the zone is
    put back on reading.  A naive datetime is refused: it is a bug to guess.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: give a timezone-aware datetime (UTC)")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)  # type: ignore[no-any-return]
        return value.astimezone(dt.UTC)  # type: ignore[no-any-return]


class Money(TypeDecorator[Decimal]):
    """``NUMERIC(14, 2)`` holding :class:`~decimal.Decimal` dollars, never floats.

    SQLite has no decimal type and keeps such a column as a binary double;
    every value of 14 significant digits survives that trip exactly (a double
    carries 15), and is read back through its shortest ``repr`` into a
    ``Decimal`` quantised to cents.  Arithmetic inside SQLite would be binary,
    so sum money in Python or on PostgreSQL.
    """

    impl = Numeric(14, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Numeric(14, 2, asdecimal=False))
        return dialect.type_descriptor(Numeric(14, 2, asdecimal=True))

    def process_bind_param(self, value: Decimal | int | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, float) or not isinstance(value, Decimal | int):
            raise TypeError(f"money must be a Decimal, not {type(value).__name__} ({value!r})")
        cents = Decimal(value).quantize(CENT)
        if cents != value:
            raise ValueError(f"money {value} has more than 2 decimal places")
        if abs(cents) >= Decimal("1e12"):
            raise ValueError(f"money {value} does not fit NUMERIC(14, 2)")
        return float(cents) if dialect.name == "sqlite" else cents

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(repr(value) if isinstance(value, float) else value).quantize(CENT)


#: JSON everywhere; JSONB on PostgreSQL (indexable, compact).
JSONType = JSON().with_variant(JSONB(), "postgresql")


def _choice(enum_cls: type[enum.Enum], name: str) -> Enum:
    """A VARCHAR + CHECK column for a Python enum, storing its values."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        validate_strings=True,
        values_callable=lambda members: [m.value for m in members],
    )


class ProductLineKind(enum.StrEnum):
    COMMERCIAL_HMO = "commercial_hmo"
    COMMERCIAL_PPO = "commercial_ppo"
    COMMERCIAL_EPO = "commercial_epo"
    COMMERCIAL_POS = "commercial_pos"
    MEDICARE_ADVANTAGE_HMO = "medicare_advantage_hmo"
    MEDICARE_ADVANTAGE_PPO = "medicare_advantage_ppo"
    MANAGED_MEDICAID = "managed_medicaid"
    EXCHANGE = "exchange"
    DIRECT_TO_EMPLOYER = "direct_to_employer"
    ACO = "aco"


class ContractStatus(enum.StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    EXPIRED = "expired"


class NegotiationStatus(enum.StrEnum):
    PLANNING = "planning"
    ACTIVE = "active"
    TENTATIVE_AGREEMENT = "tentative_agreement"
    SIGNED = "signed"
    WALKED_AWAY = "walked_away"


class EventKind(enum.StrEnum):
    MEETING = "meeting"
    EMAIL = "email"
    CALL = "call"
    LETTER = "letter"
    NOTE = "note"


class ProposalSide(enum.StrEnum):
    OURS = "ours"
    THEIRS = "theirs"


class UserRole(enum.StrEnum):
    ADMIN = "admin"
    ANALYST = "analyst"
    VIEWER = "viewer"


class IngestStatus(enum.StrEnum):
    RUNNING = "running"
    LOADED = "loaded"
    PARTIAL = "partial"
    FAILED = "failed"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        dt.datetime: UTCDateTime(),
        dt.date: Date(),
        Decimal: Money(),
        dict[str, Any]: JSONType,
        list[str]: JSONType,
        list[dict[str, Any]]: JSONType,
        list[Any]: JSONType,
    }


def _pk() -> Mapped[int]:
    return mapped_column(Integer, primary_key=True)


def _created_at() -> Mapped[dt.datetime]:
    return mapped_column(default=utcnow)


class Payer(Base):
    """A health plan we contract with (a parent company, not a product)."""

    __tablename__ = "payers"

    id: Mapped[int] = _pk()
    name: Mapped[str] = mapped_column(String(200), unique=True)
    payer_ids: Mapped[list[str]] = mapped_column(
        default=list, doc="EDI payer ids (835 REF*2U / N1*PR04, 837 NM1*PR09)"
    )
    aliases: Mapped[list[str]] = mapped_column(default=list, doc="other names seen in files")
    created_at: Mapped[dt.datetime] = _created_at()

    product_lines: Mapped[list[ProductLine]] = relationship(
        back_populates="payer", cascade="all, delete-orphan"
    )


class ProductLine(Base):
    """One of a payer's products (its HMO, its Medicare Advantage PPO...)."""

    __tablename__ = "product_lines"
    __table_args__ = (UniqueConstraint("payer_id", "name"),)

    id: Mapped[int] = _pk()
    payer_id: Mapped[int] = mapped_column(ForeignKey("payers.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[ProductLineKind] = mapped_column(_choice(ProductLineKind, "product_line_kind"))
    created_at: Mapped[dt.datetime] = _created_at()

    payer: Mapped[Payer] = relationship(back_populates="product_lines")


class Contract(Base):
    """A payer agreement; its terms live in its versions."""

    __tablename__ = "contracts"
    __table_args__ = (UniqueConstraint("payer_id", "name"),)

    id: Mapped[int] = _pk()
    payer_id: Mapped[int] = mapped_column(ForeignKey("payers.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = _created_at()

    payer: Mapped[Payer] = relationship()
    versions: Mapped[list[ContractVersion]] = relationship(
        back_populates="contract",
        cascade="all, delete-orphan",
        order_by="ContractVersion.version_number",
    )


contract_version_product_lines = Table(
    "contract_version_product_lines",
    Base.metadata,
    Column(
        "contract_version_id",
        ForeignKey("contract_versions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "product_line_id",
        ForeignKey("product_lines.id", ondelete="RESTRICT"),
        primary_key=True,
    ),
)


class ContractVersion(Base):
    """One loaded text of a contract (original, amendment, renewal).

    ``yaml_sha256`` is unique per contract, so loading the same YAML twice is
    recognised.
    """

    __tablename__ = "contract_versions"
    __table_args__ = (
        UniqueConstraint("contract_id", "version_number"),
        UniqueConstraint("contract_id", "yaml_sha256"),
    )

    id: Mapped[int] = _pk()
    contract_id: Mapped[int] = mapped_column(
        ForeignKey("contracts.id", ondelete="CASCADE"), index=True
    )
    version_number: Mapped[int]
    effective_date: Mapped[dt.date]
    expiry_date: Mapped[dt.date | None]
    renewal_type: Mapped[str | None] = mapped_column(
        String(32), doc="e.g. evergreen, auto_renew, fixed_term"
    )
    notice_days: Mapped[int | None] = mapped_column(
        doc="days of notice to terminate or renegotiate"
    )
    status: Mapped[ContractStatus] = mapped_column(
        _choice(ContractStatus, "contract_status"), default=ContractStatus.DRAFT
    )
    yaml_text: Mapped[str] = mapped_column(Text)
    yaml_sha256: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    loaded_by: Mapped[str] = mapped_column(String(320))

    contract: Mapped[Contract] = relationship(back_populates="versions")
    product_lines: Mapped[list[ProductLine]] = relationship(
        secondary=contract_version_product_lines
    )


class Negotiation(Base):
    """A negotiation with a payer, from preparation to signature or walk-away."""

    __tablename__ = "negotiations"

    id: Mapped[int] = _pk()
    payer_id: Mapped[int] = mapped_column(ForeignKey("payers.id", ondelete="RESTRICT"), index=True)
    contract_id: Mapped[int | None] = mapped_column(
        ForeignKey("contracts.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[NegotiationStatus] = mapped_column(
        _choice(NegotiationStatus, "negotiation_status"), default=NegotiationStatus.PLANNING
    )
    started_on: Mapped[dt.date]
    target_close_on: Mapped[dt.date | None]
    closed_on: Mapped[dt.date | None]
    created_at: Mapped[dt.datetime] = _created_at()

    payer: Mapped[Payer] = relationship()
    events: Mapped[list[NegotiationEvent]] = relationship(
        back_populates="negotiation",
        cascade="all, delete-orphan",
        order_by="NegotiationEvent.occurred_on",
    )
    proposals: Mapped[list[Proposal]] = relationship(
        back_populates="negotiation", cascade="all, delete-orphan"
    )


class NegotiationEvent(Base):
    """One entry of a negotiation's log: a meeting, email, call..."""

    __tablename__ = "negotiation_events"

    id: Mapped[int] = _pk()
    negotiation_id: Mapped[int] = mapped_column(
        ForeignKey("negotiations.id", ondelete="CASCADE"), index=True
    )
    occurred_on: Mapped[dt.date]
    kind: Mapped[EventKind] = mapped_column(_choice(EventKind, "event_kind"))
    summary: Mapped[str] = mapped_column(Text)
    participants: Mapped[list[str]] = mapped_column(default=list)
    tentative_agreements: Mapped[list[Any]] = mapped_column(default=list)
    outstanding_issues: Mapped[list[Any]] = mapped_column(default=list)
    recorded_by: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[dt.datetime] = _created_at()

    negotiation: Mapped[Negotiation] = relationship(back_populates="events")


class Proposal(Base):
    """A set of terms put on the table by us or by the payer."""

    __tablename__ = "proposals"

    id: Mapped[int] = _pk()
    negotiation_id: Mapped[int] = mapped_column(
        ForeignKey("negotiations.id", ondelete="CASCADE"), index=True
    )
    side: Mapped[ProposalSide] = mapped_column(_choice(ProposalSide, "proposal_side"))
    label: Mapped[str | None] = mapped_column(String(200))
    proposed_on: Mapped[dt.date | None]
    yaml_text: Mapped[str] = mapped_column(Text)
    modeled_value: Mapped[Decimal | None] = mapped_column(doc="modeled annual allowed, dollars")
    created_at: Mapped[dt.datetime] = _created_at()

    negotiation: Mapped[Negotiation] = relationship(back_populates="proposals")


class User(Base):
    """A person who signs in to Parley."""

    __tablename__ = "users"

    id: Mapped[int] = _pk()
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    role: Mapped[UserRole] = mapped_column(_choice(UserRole, "user_role"), default=UserRole.VIEWER)
    created_at: Mapped[dt.datetime] = _created_at()


class AuditEntry(Base):
    """Who did what to which object, and when; append-only.

    ``user`` is a plain string (email or OS user), not a foreign key, so the
    trail outlives deleted accounts and covers CLI use without a login.
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_object", "object_type", "object_id"),)

    id: Mapped[int] = _pk()
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    user: Mapped[str] = mapped_column(String(320), index=True)
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(200))
    detail: Mapped[dict[str, Any] | None]


class IngestBatch(Base):
    """One ingest run over one or more files; mirrors the dataset manifest for the UI."""

    __tablename__ = "ingest_batches"

    id: Mapped[int] = _pk()
    started_at: Mapped[dt.datetime] = mapped_column(index=True)
    finished_at: Mapped[dt.datetime | None]
    files: Mapped[list[dict[str, Any]]] = mapped_column(
        default=list, doc="per file: file_id, path, format, status"
    )
    status: Mapped[IngestStatus] = mapped_column(_choice(IngestStatus, "ingest_status"))
    summary: Mapped[dict[str, Any] | None] = mapped_column(doc="counts, problems, elapsed")
