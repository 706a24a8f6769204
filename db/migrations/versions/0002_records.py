"""records: cases, charges, defendants, relief programs, import runs, lookup audit

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import db.base

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "record_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_number", sa.String(length=32), nullable=False),
        sa.Column("court", sa.String(length=16), nullable=False),
        sa.Column("county", sa.String(length=64), nullable=True),
        sa.Column("case_status", sa.String(length=16), nullable=True),
        sa.Column("case_type", sa.String(length=16), nullable=True),
        sa.Column("filing_date", sa.Date(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("content_hash", sa.String(length=32), nullable=False),
        sa.Column("import_run_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", db.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_cases")),
        sa.UniqueConstraint("case_number", name=op.f("uq_record_cases_case_number")),
    )
    op.create_table(
        "record_charges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("charge_number", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("statute", sa.String(length=64), nullable=True),
        sa.Column("offense_date", sa.Date(), nullable=True),
        sa.Column("disposition", sa.String(length=200), nullable=True),
        sa.Column("disposition_date", sa.Date(), nullable=True),
        sa.Column("sentence_completed_on", sa.Date(), nullable=True),
        sa.Column("probation_violation", sa.Boolean(), nullable=True),
        sa.Column("content_hash", sa.String(length=32), nullable=False),
        sa.Column("import_run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["record_cases.id"],
            name=op.f("fk_record_charges_case_id_record_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_charges")),
        sa.UniqueConstraint("case_id", "charge_number", name=op.f("uq_record_charges_case_id")),
    )
    op.create_table(
        "record_defendants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("source_key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("name_key", sa.String(length=200), nullable=True),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("content_hash", sa.String(length=32), nullable=False),
        sa.Column("import_run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["record_cases.id"],
            name=op.f("fk_record_defendants_case_id_record_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_defendants")),
        sa.UniqueConstraint("case_id", "source_key", name=op.f("uq_record_defendants_case_id")),
    )
    op.create_index(
        op.f("ix_record_defendants_date_of_birth"),
        "record_defendants",
        ["date_of_birth"],
        unique=False,
    )
    op.create_table(
        "relief_programs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("created_at", db.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_relief_programs")),
        sa.UniqueConstraint("name", name=op.f("uq_relief_programs_name")),
    )
    op.create_table(
        "program_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_number", sa.String(length=32), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=100), nullable=False),
        sa.Column("status_date", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("content_hash", sa.String(length=32), nullable=False),
        sa.Column("import_run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["relief_programs.id"],
            name=op.f("fk_program_entries_program_id_relief_programs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program_entries")),
        sa.UniqueConstraint(
            "case_number", "program_id", name=op.f("uq_program_entries_case_number")
        ),
    )
    op.create_table(
        "import_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file", sa.String(length=500), nullable=False),
        sa.Column("fmt", sa.String(length=32), nullable=False),
        sa.Column("program", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", db.base.UTCDateTime(), nullable=False),
        sa.Column("finished_at", db.base.UTCDateTime(), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("cases_added", sa.Integer(), nullable=False),
        sa.Column("cases_updated", sa.Integer(), nullable=False),
        sa.Column("charges_added", sa.Integer(), nullable=False),
        sa.Column("charges_updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_runs")),
    )
    op.create_table(
        "lookup_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("requester", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("case_number_hash", sa.String(length=64), nullable=True),
        sa.Column("query_hash", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("result_count", sa.Integer(), nullable=True),
        sa.Column("created_at", db.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lookup_audit")),
    )
    op.create_index(
        "ix_lookup_audit_requester_created",
        "lookup_audit",
        ["requester", "created_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_lookup_audit_requester_created", table_name="lookup_audit")
    op.drop_table("lookup_audit")
    op.drop_table("import_runs")
    op.drop_table("program_entries")
    op.drop_table("relief_programs")
    op.drop_index(op.f("ix_record_defendants_date_of_birth"), table_name="record_defendants")
    op.drop_table("record_defendants")
    op.drop_table("record_charges")
    op.drop_table("record_cases")
