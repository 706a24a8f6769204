"""Every mapped table, imported so ``Base.metadata`` is complete for Alembic and tests.

Each feature keeps its models in its own module and adds one import line here.
"""

from db.base import Base
from db.models.outbox import OutboxMessage

__all__ = ["Base", "OutboxMessage"]
