"""conversations: drop the index on updated_at, which every message moved

Every inbound message sets its conversation's ``updated_at``, so the index cost each message
an index entry moved (on SQLite one more page written per commit; on PostgreSQL it also kept
the update from being a heap-only tuple update, so all three indexes took a new entry). Its
only reader was the daily retention purge, which scans the table instead: one row per sender
of the last retention period.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_conversations_updated_at", table_name="conversations")


def downgrade() -> None:
    op.create_index("ix_conversations_updated_at", "conversations", ["updated_at"], unique=False)
