"""Which modules run as mypyc-compiled C, and whether that C still matches its source.

setup.py compiles the batch screening path (COMPILED_SOURCES) when a C compiler is present and
records the hash of each source file in compiled.json beside this file. Python imports a
compiled module in preference to its source, so an edit made after the build would be ignored
without a word; the tests and the CLI ask `stale_compiled_modules` and say so instead.
Standard library only: setup.py loads this file before the package's dependencies exist.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD_RECORD = Path(__file__).resolve().with_name("compiled.json")
COMPILED_SOURCES = ("knowledge/engine.py", "webhooks/screen_csv.py")
REBUILD_HINT = "run `make install-dev` to rebuild"


def module_name(source: str) -> str:
    """knowledge/engine.py -> knowledge.engine."""
    return source.removesuffix(".py").replace("/", ".")


def source_hashes(root: Path, sources: Iterable[str] = COMPILED_SOURCES) -> dict[str, str]:
    """SHA-256 of each source file, by its path relative to `root`."""
    return {path: hashlib.sha256((root / path).read_bytes()).hexdigest() for path in sources}


def running_compiled(sources: Iterable[str] = COMPILED_SOURCES) -> tuple[str, ...]:
    """The sources whose module Python would load from a compiled extension."""
    compiled = []
    for source in sources:
        spec = importlib.util.find_spec(module_name(source))
        origin = spec.origin if spec else None
        if origin and origin.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES)):
            compiled.append(source)
    return tuple(compiled)


def stale(
    root: Path, recorded: Mapping[str, str] | None, compiled: Iterable[str]
) -> tuple[str, ...]:
    """The compiled sources that changed since they were compiled (all, with no record)."""
    compiled = tuple(compiled)
    if not compiled:
        return ()
    current = source_hashes(root, compiled)
    return tuple(s for s in compiled if recorded is None or recorded.get(s) != current[s])


def read_record(path: Path = BUILD_RECORD) -> dict[str, str] | None:
    """The hashes setup.py recorded at the last compiled build; None if there is none."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else None


def stale_compiled_modules() -> tuple[str, ...]:
    """Compiled modules of this checkout whose source was edited after the build."""
    return stale(ROOT, read_record(), running_compiled())


def stale_message(sources: Iterable[str]) -> str:
    """One plain line for a developer who edited a compiled module's source."""
    return (
        f"{', '.join(sources)} changed since it was compiled, so Python would run the old "
        f"compiled code; {REBUILD_HINT}"
    )
