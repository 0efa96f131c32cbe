"""The layering README's "The code" promises, checked from the import statements themselves
(every import, also those inside functions or under TYPE_CHECKING), not by eye."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "webhooks", "storage")
# What a pure rule must never need: the web server, the database, GitHub, the clock's I/O.
IO_LIBRARIES = (
    "aiohttp", "sqlalchemy", "gidgethub", "asyncpg", "aiosqlite", "sqlite3", "alembic",
    "jwt", "cachetools", "orjson", "socket", "asyncio", "subprocess",
)
EVENT_FAMILIES = ("issues", "pull_requests", "reviews", "deployments", "installations")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def product_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                modules[module_name(path)] = path
    return modules


MODULES = product_modules()


def imports_of(path: Path) -> set[str]:
    """Every module ``path`` imports, by its full dotted name (``from a import b`` counts
    ``a.b`` when ``a.b`` is a module of ours, else ``a``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"
    own = module_name(path)
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = own.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:
                candidate = f"{module}.{alias.name}"
                found.add(candidate if candidate in MODULES else module)
    return found


GRAPH = {name: imports_of(path) for name, path in MODULES.items()}


def ours(name: str) -> bool:
    return name.split(".")[0] in PACKAGES


def offenders(prefix: str, forbidden) -> list[str]:
    return sorted(
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        if module == prefix or module.startswith(prefix + ".")
        for target in targets
        if forbidden(target)
    )


def test_the_import_graph_sees_the_whole_product():
    # A guard for the guards: if the walk found nothing, every check below would pass.
    assert {"bot.rules.pipeline", "webhooks.issues", "storage.database"} <= set(MODULES)
    assert "bot.rules.pipeline" in GRAPH["bot.tickets.transitions"]


def test_pure_rules_import_no_io_library_and_nothing_above_them():
    def forbidden(target: str) -> bool:
        top = target.split(".")[0]
        if top in IO_LIBRARIES:
            return True
        return ours(target) and not (target.startswith("bot.rules") or target == "bot.errors")

    assert offenders("bot.rules", forbidden) == []


def test_the_error_type_low_layers_raise_has_no_web_framework_in_it():
    assert offenders("bot.errors", lambda t: t.split(".")[0] in IO_LIBRARIES or ours(t)) == []


def test_storage_imports_nothing_from_bot_or_webhooks():
    assert offenders("storage", lambda t: t.split(".")[0] in ("bot", "webhooks")) == []


@pytest.mark.parametrize("family", EVENT_FAMILIES)
def test_no_event_family_imports_another(family):
    others = {f"webhooks.{other}" for other in EVENT_FAMILIES if other != family}
    assert offenders(f"webhooks.{family}", lambda t: t in others) == []


def test_the_product_has_no_import_cycles():
    """Depth-first search for a back edge among our own modules; the cycle is reported."""
    edges = {m: sorted(t for t in ts if t in MODULES and t != m) for m, ts in GRAPH.items()}
    state: dict[str, str] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        state[module] = "open"
        stack.append(module)
        for target in edges[module]:
            if state.get(target) == "open":
                cycles.append([*stack[stack.index(target):], target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[module] = "done"

    for module in sorted(edges):
        if module not in state:
            visit(module)
    assert cycles == [], "\n".join(" -> ".join(cycle) for cycle in cycles)
