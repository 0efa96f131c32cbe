"""storage/ stands alone: it imports nothing from bot/ or webhooks/, and the differences
between SQLite and PostgreSQL are told only by storage/dialect.py and the SQLite corner."""

from __future__ import annotations

import re
from pathlib import Path

from tests.import_graph import ROOT, imports, within

HISTORY = ROOT / "storage" / "migrations" / "versions"  # revisions are history, left as made
DIALECT_HOMES = {ROOT / "storage" / "dialect.py", *(ROOT / "storage" / "sqlite").glob("*.py")}
# Looking at the dialect, in any of the forms the code used before storage/dialect.py.
BRANCH = re.compile(
    r"dialect\.name\b|is_sqlite|get_backend_name|==\s*[\"'](sqlite|postgresql)[\"']"
)


def modules(*packages: str) -> list[Path]:
    return [
        path
        for package in packages
        for path in sorted((ROOT / package).rglob("*.py"))
        if HISTORY not in path.parents
    ]


def test_storage_imports_nothing_from_bot_or_webhooks():
    found = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in modules("storage")
        for name in set(imports(path))
        if within(name, "bot") or within(name, "webhooks")
    }
    assert not found


def test_only_the_dialect_module_and_the_sqlite_corner_look_at_the_dialect():
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in modules("storage", "bot", "webhooks")
        if path not in DIALECT_HOMES
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if BRANCH.search(line) and "def is_sqlite" not in line
    ]
    assert not found
