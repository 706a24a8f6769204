"""outbox: the answer a message is a part of, so its parts go out in order

A long Telegram answer is several messages: the first in the webhook reply, the others queued
1.5 seconds apart. A part retried after a 429 could be overtaken by the next; parts sharing an
``answer_key`` now wait for the earlier ones (lower id) to leave the queue.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("answer_key", sa.String(length=128), nullable=True))
        batch.create_index(batch.f("ix_outbox_answer_key"), ["answer_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index(batch.f("ix_outbox_answer_key"))
        batch.drop_column("answer_key")
