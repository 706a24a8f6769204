"""Build hook: compile the batch screening path to C with mypyc when a C compiler is present.

Everything else is in pyproject.toml. The compiled modules (knowledge/compiled.py,
COMPILED_SOURCES) are ordinary source files that pass mypy --strict; mypyc turns them into C
extensions that screen a record file about 1.45x faster (docs/benchmarks.md, "Screening").
Without a C compiler or Python's headers, or with RECORDCHECK_PURE_PYTHON=1, the package
installs as plain Python and gives the same answers, only slower. The build records the hash
of each compiled source, so an edit made after it is reported rather than silently shadowed
by the old C.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sysconfig
from pathlib import Path
from types import ModuleType

from setuptools import setup

ROOT = Path(__file__).resolve().parent


def _compiled_module() -> ModuleType:
    """knowledge/compiled.py on its own: the package's dependencies may not be installed yet."""
    spec = importlib.util.spec_from_file_location(
        "_recordcheck_compiled", ROOT / "knowledge" / "compiled.py"
    )
    if spec is None or spec.loader is None:
        raise ImportError("knowledge/compiled.py is missing from this checkout")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cannot_compile() -> str | None:
    """Why mypyc cannot build on this machine, or None: it needs a C compiler and Python's
    headers (Debian's python3 has no Python.h without python3-dev)."""
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        return "no C compiler found"
    headers = Path(sysconfig.get_paths()["include"], "Python.h")
    if not headers.is_file():
        return f"no Python headers ({headers}; on Debian: apt-get install python3-dev)"
    return None


def _extensions() -> list[object]:
    compiled = _compiled_module()
    compiled.BUILD_RECORD.unlink(missing_ok=True)
    if os.environ.get("RECORDCHECK_PURE_PYTHON"):
        print("recordcheck: RECORDCHECK_PURE_PYTHON is set; installing as plain Python")
        return []
    reason = _cannot_compile()
    if reason is not None:
        print(f"recordcheck: {reason}; installing as plain Python (slower screening)")
        return []
    from mypyc.build import mypycify

    sources = list(compiled.COMPILED_SOURCES)
    extensions = list(mypycify([*sources, "--ignore-missing-imports"], opt_level="3"))
    hashes = compiled.source_hashes(ROOT, sources)
    compiled.BUILD_RECORD.write_text(json.dumps(hashes, indent=2, sort_keys=True) + "\n")
    return extensions


setup(ext_modules=_extensions())
