"""Every mapped table, imported so ``Base.metadata`` is complete for Alembic and tests.

Each feature keeps its models in its own module and adds one import line here.
"""

from db.base import Base
from db.models.channels import (  # noqa: F401 - registers the channel tables
    ChannelOptOut,
    ChannelSetting,
    DeliveryStatus,
    SenderThrottle,
)
from db.models.console import (  # noqa: F401 - registers the console tables
    ConsoleAuditEvent,
    ConsoleBatchJob,
    ConsoleSession,
    ConsoleUser,
)
from db.models.conversation import (  # noqa: F401 - registers the conversation tables
    Conversation,
    HandoffRequest,
    ProcessedMessage,
    Reminder,
)
from db.models.outbox import OutboxMessage
from db.models.records import (  # noqa: F401 - registers the records tables
    ImportRun,
    LookupAudit,
    ProgramEntry,
    RecordCase,
    RecordCharge,
    RecordDefendant,
    ReliefProgram,
)

__all__ = ["Base", "OutboxMessage"]
