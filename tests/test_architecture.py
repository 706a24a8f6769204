"""The dependency rule of DESIGN.md section 2, checked on the source itself."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
FORBIDDEN = {"flask", "sqlalchemy", "twilio", "telegram", "httpx", "requests", "werkzeug"}
PURE_PACKAGES = ["knowledge", "bot"]


def _imported_top_level_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", PURE_PACKAGES)
def test_pure_packages_import_no_web_database_or_network_library(package):
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imported_top_level_names(path) & FORBIDDEN)
        for path in _modules(package)
    }

    assert {k: v for k, v in offenders.items() if v} == {}


def test_knowledge_imports_nothing_from_the_rest_of_the_project():
    project = {"bot", "webhooks", "db"}
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imported_top_level_names(path) & project)
        for path in _modules("knowledge")
    }

    assert {k: v for k, v in offenders.items() if v} == {}


def test_bot_does_not_import_the_web_layer_or_the_database_layer():
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imported_top_level_names(path) & {"webhooks", "db"})
        for path in _modules("bot")
    }

    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_checker_itself_catches_a_forbidden_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import os\nfrom sqlalchemy.orm import Session\nimport twilio.rest\n")

    assert _imported_top_level_names(sample) & FORBIDDEN == {"sqlalchemy", "twilio"}
