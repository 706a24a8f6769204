"""Run gunicorn from the CLI with the Procfile's worker settings."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication


class _App(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from webhooks.app import create_app

        return create_app()


def run_gunicorn(*, host: str, port: int, workers: int, threads: int = 4) -> None:
    """Serve with gthread workers; each worker builds its own app and engine after the fork."""
    _App(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "worker_class": "gthread",
            "threads": threads,
            "timeout": 30,
            "accesslog": None,
        }
    ).run()
