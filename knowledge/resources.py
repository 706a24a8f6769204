"""Free-help resources (phone numbers, links) with their sources, loaded from data."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from knowledge.yaml_files import safe_load

_FILE = Path(__file__).resolve().parent / "data" / "resources.yaml"


@dataclass(frozen=True, slots=True)
class Resource:
    """One place that gives free help, with where we learned about it."""

    id: str
    name: str
    phone: str | None
    url: str
    text_key: str
    sources: tuple[str, ...]
    confidence: str


def _load() -> tuple[Resource, ...]:
    with _FILE.open(encoding="utf-8") as fh:
        data = safe_load(fh)
    return tuple(
        Resource(
            id=str(r["id"]),
            name=str(r["name"]),
            phone=None if r["phone"] is None else str(r["phone"]),
            url=str(r["url"]),
            text_key=str(r["text_key"]),
            sources=tuple(str(s) for s in r["sources"]),
            confidence=str(r["confidence"]),
        )
        for r in data
    )


RESOURCES: tuple[Resource, ...] = _load()


def resource(resource_id: str) -> Resource:
    """Return one resource by id."""
    for r in RESOURCES:
        if r.id == resource_id:
            return r
    raise KeyError(resource_id)
