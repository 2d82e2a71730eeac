"""Initial schema: payers, product lines, contracts and versions, negotiations,
events, proposals, users, audit log, ingest batches.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

#: JSON, stored as JSONB on PostgreSQL (as in parley.store.models).
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user", sa.String(length=320), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("object_type", sa.String(length=64), nullable=False),
        sa.Column("object_id", sa.String(length=200), nullable=False),
        sa.Column("detail", JSON, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"])
    op.create_index(op.f("ix_audit_log_object"), "audit_log", ["object_type", "object_id"])
    op.create_index(op.f("ix_audit_log_user"), "audit_log", ["user"])
    op.create_table(
        "ingest_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("files", JSON, nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("summary", JSON, nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'loaded', 'partial', 'failed')",
            name=op.f("ck_ingest_batches_ingest_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_batches")),
    )
    op.create_index(op.f("ix_ingest_batches_started_at"), "ingest_batches", ["started_at"])
    op.create_table(
        "payers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("payer_ids", JSON, nullable=False),
        sa.Column("aliases", JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payers")),
        sa.UniqueConstraint("name", name=op.f("uq_payers_name")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role IN ('admin', 'analyst', 'viewer')", name=op.f("ck_users_user_role")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "contracts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payer_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["payer_id"], ["payers.id"], name=op.f("fk_contracts_payer_id"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contracts")),
        sa.UniqueConstraint("payer_id", "name", name=op.f("uq_contracts_payer_id_name")),
    )
    op.create_index(op.f("ix_contracts_payer_id"), "contracts", ["payer_id"])
    op.create_table(
        "product_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payer_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["payer_id"], ["payers.id"], name=op.f("fk_product_lines_payer_id"), ondelete="CASCADE"
        ),
        sa.CheckConstraint(
            "kind IN ('commercial_hmo', 'commercial_ppo', 'commercial_epo', 'commercial_pos', 'medicare_advantage_hmo', 'medicare_advantage_ppo', 'managed_medicaid', 'exchange', 'direct_to_employer', 'aco')",
            name=op.f("ck_product_lines_product_line_kind"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_lines")),
        sa.UniqueConstraint("payer_id", "name", name=op.f("uq_product_lines_payer_id_name")),
    )
    op.create_index(op.f("ix_product_lines_payer_id"), "product_lines", ["payer_id"])
    op.create_table(
        "contract_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("expiry_date", sa.Date(), nullable=True),
        sa.Column("renewal_type", sa.String(length=32), nullable=True),
        sa.Column("notice_days", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("yaml_text", sa.Text(), nullable=False),
        sa.Column("yaml_sha256", sa.String(length=64), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("loaded_by", sa.String(length=320), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_contract_versions_contract_id"),
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'active', 'expired')",
            name=op.f("ck_contract_versions_contract_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract_versions")),
        sa.UniqueConstraint(
            "contract_id",
            "version_number",
            name=op.f("uq_contract_versions_contract_id_version_number"),
        ),
        sa.UniqueConstraint(
            "contract_id", "yaml_sha256", name=op.f("uq_contract_versions_contract_id_yaml_sha256")
        ),
    )
    op.create_index(op.f("ix_contract_versions_contract_id"), "contract_versions", ["contract_id"])
    op.create_table(
        "negotiations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payer_id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("target_close_on", sa.Date(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_negotiations_contract_id"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["payer_id"], ["payers.id"], name=op.f("fk_negotiations_payer_id"), ondelete="RESTRICT"
        ),
        sa.CheckConstraint(
            "status IN ('planning', 'active', 'tentative_agreement', 'signed', 'walked_away')",
            name=op.f("ck_negotiations_negotiation_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_negotiations")),
    )
    op.create_index(op.f("ix_negotiations_contract_id"), "negotiations", ["contract_id"])
    op.create_index(op.f("ix_negotiations_payer_id"), "negotiations", ["payer_id"])
    op.create_table(
        "contract_version_product_lines",
        sa.Column("contract_version_id", sa.Integer(), nullable=False),
        sa.Column("product_line_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_version_id"],
            ["contract_versions.id"],
            name=op.f("fk_contract_version_product_lines_contract_version_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_line_id"],
            ["product_lines.id"],
            name=op.f("fk_contract_version_product_lines_product_line_id"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint(
            "contract_version_id", "product_line_id", name=op.f("pk_contract_version_product_lines")
        ),
    )
    op.create_table(
        "negotiation_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("negotiation_id", sa.Integer(), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("participants", JSON, nullable=False),
        sa.Column("tentative_agreements", JSON, nullable=False),
        sa.Column("outstanding_issues", JSON, nullable=False),
        sa.Column("recorded_by", sa.String(length=320), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["negotiation_id"],
            ["negotiations.id"],
            name=op.f("fk_negotiation_events_negotiation_id"),
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "kind IN ('meeting', 'email', 'call', 'letter', 'note')",
            name=op.f("ck_negotiation_events_event_kind"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_negotiation_events")),
    )
    op.create_index(
        op.f("ix_negotiation_events_negotiation_id"), "negotiation_events", ["negotiation_id"]
    )
    op.create_table(
        "proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("negotiation_id", sa.Integer(), nullable=False),
        sa.Column("side", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("proposed_on", sa.Date(), nullable=True),
        sa.Column("yaml_text", sa.Text(), nullable=False),
        sa.Column("modeled_value", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["negotiation_id"],
            ["negotiations.id"],
            name=op.f("fk_proposals_negotiation_id"),
            ondelete="CASCADE",
        ),
        sa.CheckConstraint("side IN ('ours', 'theirs')", name=op.f("ck_proposals_proposal_side")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposals")),
    )
    op.create_index(op.f("ix_proposals_negotiation_id"), "proposals", ["negotiation_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_proposals_negotiation_id"), table_name="proposals")
    op.drop_table("proposals")
    op.drop_index(op.f("ix_negotiation_events_negotiation_id"), table_name="negotiation_events")
    op.drop_table("negotiation_events")
    op.drop_table("contract_version_product_lines")
    op.drop_index(op.f("ix_negotiations_payer_id"), table_name="negotiations")
    op.drop_index(op.f("ix_negotiations_contract_id"), table_name="negotiations")
    op.drop_table("negotiations")
    op.drop_index(op.f("ix_contract_versions_contract_id"), table_name="contract_versions")
    op.drop_table("contract_versions")
    op.drop_index(op.f("ix_product_lines_payer_id"), table_name="product_lines")
    op.drop_table("product_lines")
    op.drop_index(op.f("ix_contracts_payer_id"), table_name="contracts")
    op.drop_table("contracts")
    op.drop_table("users")
    op.drop_table("payers")
    op.drop_index(op.f("ix_ingest_batches_started_at"), table_name="ingest_batches")
    op.drop_table("ingest_batches")
    op.drop_index(op.f("ix_audit_log_user"), table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_object"), table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_at"), table_name="audit_log")
    op.drop_table("audit_log")
