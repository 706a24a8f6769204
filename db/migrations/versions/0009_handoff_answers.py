"""handoff_requests: a worker's answer for the resident, delivered when they next write

The service keeps no address for a handoff (DESIGN.md section 3), so a worker's answer waits
in the request until the resident writes again on the same channel, and is sent inline with
the bot's reply. ``answered_by`` is ``worker:<id>`` like ``claimed_by``.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import db.base

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("handoff_requests") as batch:
        batch.add_column(sa.Column("answer", sa.Text(), nullable=True))
        batch.add_column(sa.Column("answered_by", sa.String(length=254), nullable=True))
        batch.add_column(sa.Column("answered_at", db.base.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("answer_delivered_at", db.base.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("handoff_requests") as batch:
        batch.drop_column("answer_delivered_at")
        batch.drop_column("answered_at")
        batch.drop_column("answered_by")
        batch.drop_column("answer")
