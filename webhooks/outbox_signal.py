"""Wake the outbox worker as soon as a web request queues a message (PostgreSQL).

Without a signal the worker finds new rows on its next pass, up to ``--interval`` seconds
later; for a Telegram button press that is a spinner on the person's button for seconds. On
PostgreSQL the request sends ``NOTIFY`` in its own transaction (delivered only if it commits)
and the worker waits with ``LISTEN`` instead of sleeping. SQLite has no such signal, so the
worker there keeps polling.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

log = logging.getLogger("recordcheck.worker")

CHANNEL = "recordcheck_outbox"
_NOTIFY = text(f"NOTIFY {CHANNEL}")


def notify_outbox(session: Session) -> None:
    """Tell a listening worker that this transaction queued messages (sent at commit)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_NOTIFY)


class OutboxWaker:
    """Waits between worker passes: until a ``NOTIFY`` or the timeout on PostgreSQL; a plain
    sleep elsewhere or while the listening connection is down (it reconnects next time)."""

    def __init__(self, engine: Engine) -> None:
        self._conninfo: str | None = None
        if engine.dialect.name == "postgresql":
            url = engine.url.set(drivername="postgresql")
            self._conninfo = url.render_as_string(hide_password=False)
        self._connection: Any = None

    def wait(self, timeout: float) -> None:
        """Return after ``timeout`` seconds, or sooner when a message was queued."""
        if self._conninfo is None:
            time.sleep(timeout)
            return
        try:
            connection = self._listening()
            for _ in connection.notifies(timeout=timeout, stop_after=1):
                pass
        except Exception as error:  # noqa: BLE001 - a lost listener must not stop sending
            log.warning("outbox listener unavailable", extra={"exc_type": type(error).__name__})
            self.close()
            time.sleep(timeout)

    def _listening(self) -> Any:
        if self._connection is None and self._conninfo is not None:
            import psycopg

            self._connection = psycopg.connect(self._conninfo, autocommit=True)
            self._connection.execute(f"LISTEN {CHANNEL}")
        return self._connection

    def close(self) -> None:
        """Close the listening connection, if any."""
        if self._connection is not None:
            try:
                self._connection.close()
            finally:
                self._connection = None
