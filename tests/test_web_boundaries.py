"""The pages draw on bot/views and bot/http, never on the JSON route modules of bot/api."""

from __future__ import annotations

import ast
from pathlib import Path

import bot.web

WEB = Path(bot.web.__file__).parent


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_no_page_module_imports_the_api():
    modules = sorted(WEB.rglob("*.py"))
    assert len(modules) > 5
    offending = {
        str(path.relative_to(WEB)): sorted(
            m for m in imported_modules(path) if m.startswith("bot.api")
        )
        for path in modules
    }
    assert {path: names for path, names in offending.items() if names} == {}
