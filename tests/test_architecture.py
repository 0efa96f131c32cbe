"""The layering README's "The code" promises, checked from the import statements themselves
(every import, also those inside functions or under TYPE_CHECKING), not by eye."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.import_graph import ROOT, module_name, statements

PACKAGES = ("bot", "webhooks", "storage")
# What a pure rule must never need: the web server, the database, GitHub, the clock's I/O.
IO_LIBRARIES = (
    "aiohttp",
    "sqlalchemy",
    "gidgethub",
    "asyncpg",
    "aiosqlite",
    "sqlite3",
    "alembic",
    "jwt",
    "cachetools",
    "orjson",
    "socket",
    "asyncio",
    "subprocess",
)
EVENT_FAMILIES = ("issues", "pull_requests", "reviews", "deployments", "installations")


def product_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                modules[module_name(path)] = path
    return modules


MODULES = product_modules()


def imports_of(path: Path) -> set[str]:
    """Every module of ours (or library) ``path`` imports, by its full dotted name:
    ``from a import b`` counts ``a.b`` when that is a module of ours, else ``a``."""
    found: set[str] = set()
    for module, names in statements(path):
        if not names:
            found.add(module)
        for name in names:
            candidate = f"{module}.{name}"
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
                cycles.append([*stack[stack.index(target) :], target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[module] = "done"

    for module in sorted(edges):
        if module not in state:
            visit(module)
    assert cycles == [], "\n".join(" -> ".join(cycle) for cycle in cycles)
