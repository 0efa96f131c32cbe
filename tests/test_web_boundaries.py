"""The pages draw on bot/views and bot/http, never on the JSON route modules of bot/api."""

from __future__ import annotations

from pathlib import Path

import bot.web
from tests.import_graph import imports, within

WEB = Path(bot.web.__file__).parent


def test_no_page_module_imports_the_api():
    modules = sorted(WEB.rglob("*.py"))
    assert len(modules) > 5
    offending = {
        str(path.relative_to(WEB)): sorted(m for m in set(imports(path)) if within(m, "bot.api"))
        for path in modules
    }
    assert {path: names for path, names in offending.items() if names} == {}
