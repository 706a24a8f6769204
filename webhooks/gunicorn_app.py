"""Run gunicorn from the CLI with the Procfile's worker settings."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path
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
            # gunicorn 27's control socket is one path per user (~/.gunicorn/gunicorn.ctl):
            # a second server would take it over. Nothing here uses it.
            "control_socket_disable": True,
        }
    ).run()


PROCFILE = Path(__file__).resolve().parents[1] / "Procfile"


def procfile_web_args(bind: str, *, threads: int | None = None) -> list[str]:
    """The Procfile's ``web`` gunicorn arguments (after ``gunicorn``), bound to ``bind``.

    Tests and benchmarks start gunicorn from these, so they run what production runs.
    ``${VAR:-default}`` takes the environment's value or the default.
    """
    line = next(
        entry.partition(":")[2]
        for entry in PROCFILE.read_text(encoding="utf-8").splitlines()
        if entry.startswith("web:")
    )
    expanded = re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: os.environ.get(m[1], m[2]), line)
    words = shlex.split(expanded)
    if words[0] != "gunicorn":
        raise ValueError(f"the Procfile's web line does not start gunicorn: {line.strip()}")
    args = words[1:]
    args[args.index("--bind") + 1] = bind
    if threads is not None:
        args[args.index("--threads") + 1] = str(threads)
    return args
