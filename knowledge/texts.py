"""Text catalogue: resident-facing words live in YAML files, looked up by dotted key."""

from __future__ import annotations

import functools
import string
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from knowledge.yaml_files import safe_load

LANGS: tuple[str, ...] = ("en", "es")

TEXTS_DIR = Path(__file__).resolve().parent / "texts"

_FORMATTER = string.Formatter()


def placeholders(text: str) -> frozenset[str]:
    """Return the named placeholders of a str.format template."""
    names: set[str] = set()
    for _literal, field, _spec, _conv in _FORMATTER.parse(text):
        if field is None:
            continue
        # "{a.b}" or "{a[0]}" refer to the parameter "a".
        name = field.split(".", 1)[0].split("[", 1)[0]
        if name == "" or name.isdigit():
            raise ValueError(f"positional placeholder in text: {text!r}")
        names.add(name)
    return frozenset(names)


def _flatten(prefix: str, node: object, out: dict[str, str], source: Path) -> None:
    if isinstance(node, Mapping):
        for key, value in node.items():
            if not isinstance(key, str | int):
                raise ValueError(
                    f"{source}: key {key!r} under {prefix or '<top>'} is not a string"
                )
            full = f"{prefix}.{key}" if prefix else str(key)
            _flatten(full, value, out, source)
        return
    if isinstance(node, str):
        if prefix in out:
            raise ValueError(f"{source}: text key {prefix!r} is defined twice")
        out[prefix] = node
        return
    raise ValueError(f"{source}: text {prefix!r} must be a string, got {type(node).__name__}")


def _catalog_files(lang: str) -> list[Path]:
    main = TEXTS_DIR / f"{lang}.yaml"
    files = [main] if main.exists() else []
    files.extend(sorted(TEXTS_DIR.glob(f"*.{lang}.yaml")))
    return files


@functools.lru_cache(maxsize=len(LANGS) + 2)
def load_catalog(lang: str) -> Mapping[str, str]:
    """Load and flatten every text file of one language (read once, then cached)."""
    if lang not in LANGS:
        raise ValueError(f"unsupported language {lang!r}; expected one of {LANGS}")
    merged: dict[str, str] = {}
    for path in _catalog_files(lang):
        with path.open(encoding="utf-8") as fh:
            data = safe_load(fh)
        if data is None:
            continue
        part: dict[str, str] = {}
        _flatten("", data, part, path)
        for key, value in part.items():
            if key in merged:
                raise ValueError(f"{path}: text key {key!r} is defined twice across files")
            merged[key] = value
    return MappingProxyType(merged)


def render(key: str, lang: str, **params: object) -> str:
    """Render the text `key` in `lang` with named parameters."""
    catalog = load_catalog(lang)
    try:
        template = catalog[key]
    except KeyError:
        raise KeyError(f"no text {key!r} for language {lang!r}") from None
    try:
        return template.format_map(params)
    except KeyError as exc:
        raise KeyError(f"text {key!r} ({lang}) needs placeholder {exc.args[0]!r}") from None
