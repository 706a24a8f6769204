"""delivery_statuses.status: 32 characters, for Twilio's ``partially_delivered``

Twilio's list of message statuses includes ``partially_delivered`` (19 characters); the column
held 16, so PostgreSQL refused the status callback (500, and the stored status stayed stale).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("delivery_statuses") as batch:
        batch.alter_column(
            "status", existing_type=sa.String(16), type_=sa.String(32), existing_nullable=False
        )


def downgrade() -> None:
    # A stored ``partially_delivered`` is cut to 16 characters rather than stop the downgrade.
    with op.batch_alter_table("delivery_statuses") as batch:
        batch.alter_column(
            "status",
            existing_type=sa.String(32),
            type_=sa.String(16),
            existing_nullable=False,
            postgresql_using="substr(status, 1, 16)",
        )
