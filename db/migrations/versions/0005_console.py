"""console: worker accounts, login sessions, audit events, batch jobs

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import db.base

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", db.base.UTCDateTime(), nullable=True),
        sa.Column("setup_token_hash", sa.String(length=64), nullable=True),
        sa.Column("setup_token_expires_at", db.base.UTCDateTime(), nullable=True),
        sa.Column("created_at", db.base.UTCDateTime(), nullable=False),
        sa.Column("last_login_at", db.base.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_users")),
        sa.UniqueConstraint("email", name=op.f("uq_console_users_email")),
        sa.UniqueConstraint("setup_token_hash", name=op.f("uq_console_users_setup_token_hash")),
    )
    op.create_table(
        "console_audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("target_hash", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.String(length=200), nullable=True),
        sa.Column("created_at", db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["console_users.id"],
            name=op.f("fk_console_audit_events_user_id_console_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_audit_events")),
    )
    op.create_index(
        op.f("ix_console_audit_events_target_hash"),
        "console_audit_events",
        ["target_hash"],
        unique=False,
    )
    op.create_index(
        "ix_console_audit_events_time", "console_audit_events", ["created_at"], unique=False
    )
    op.create_index(
        op.f("ix_console_audit_events_user_id"), "console_audit_events", ["user_id"], unique=False
    )
    op.create_table(
        "console_batch_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("as_of", sa.String(length=10), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("summary_json", sa.Text(), nullable=True),
        sa.Column("result_csv", sa.Text(), nullable=True),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.Column("created_at", db.base.UTCDateTime(), nullable=False),
        sa.Column("finished_at", db.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["console_users.id"],
            name=op.f("fk_console_batch_jobs_user_id_console_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_batch_jobs")),
    )
    op.create_index(
        op.f("ix_console_batch_jobs_user_id"), "console_batch_jobs", ["user_id"], unique=False
    )
    op.create_table(
        "console_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", db.base.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", db.base.UTCDateTime(), nullable=False),
        sa.Column("expires_at", db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["console_users.id"],
            name=op.f("fk_console_sessions_user_id_console_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_console_sessions_token_hash")),
    )
    op.create_index(
        op.f("ix_console_sessions_user_id"), "console_sessions", ["user_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_console_sessions_user_id"), table_name="console_sessions")
    op.drop_table("console_sessions")
    op.drop_index(op.f("ix_console_batch_jobs_user_id"), table_name="console_batch_jobs")
    op.drop_table("console_batch_jobs")
    op.drop_index(op.f("ix_console_audit_events_user_id"), table_name="console_audit_events")
    op.drop_index("ix_console_audit_events_time", table_name="console_audit_events")
    op.drop_index(op.f("ix_console_audit_events_target_hash"), table_name="console_audit_events")
    op.drop_table("console_audit_events")
    op.drop_table("console_users")
