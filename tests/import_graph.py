"""What a source file imports, read with ``ast`` (function-local and ``TYPE_CHECKING`` imports
too, relative ones resolved): the one walker behind every boundary test."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def sources(*folders: str) -> Iterator[Path]:
    """Every ``.py`` file below the checkout's ``folders``, sorted."""
    for folder in folders:
        yield from sorted((ROOT / folder).rglob("*.py"))


def rel(path: Path) -> Path:
    return path.relative_to(ROOT)


def module_name(path: Path) -> str:
    """``bot/web/html.py`` -> ``bot.web.html``; a package's ``__init__.py`` is the package."""
    parts = list(rel(path).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def statements(path: Path, package: str | None = None) -> Iterator[tuple[str, list[str]]]:
    """Each import as ``(module, names)``: ``import a.b`` is ``("a.b", [])`` and
    ``from a import b, c`` is ``("a", ["b", "c"])``; relative imports are resolved in
    ``package`` (by default the one ``path`` is in)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    if package is None:
        package = ".".join(rel(path).with_suffix("").parts[:-1])
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            yield base, [alias.name for alias in node.names]


def imports(path: Path, package: str | None = None) -> Iterator[str]:
    """Every module ``path`` may import: ``from a import b`` yields ``a`` and ``a.b``, since
    ``b`` may be a module."""
    for module, names in statements(path, package):
        yield module
        for name in names:
            yield f"{module}.{name}"


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")
