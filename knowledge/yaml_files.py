"""Reading the knowledge base's YAML files with libyaml's parser when PyYAML has it.

PyYAML's pure-Python parser takes about 70 ms for the texts alone, paid by every CLI run and
web worker; libyaml (in PyYAML's wheels) parses the same documents with the same safe
constructor several times faster. Without it the pure-Python SafeLoader gives the same data.
"""

from __future__ import annotations

from typing import IO, Any

import yaml

SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(stream: IO[str]) -> Any:
    """yaml.safe_load, through libyaml when available."""
    return yaml.load(stream, Loader=SafeLoader)  # noqa: S506 - a safe loader
