"""The simulator's boundaries, read from the source with ``ast`` (function-local imports too):
the product does not depend on ``bot.sim``, on jsonschema or on ``../shared``; tests and the
benchmark do not import each other."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.import_graph import ROOT, imports, rel, sources, within

PRODUCT = ("bot", "webhooks", "storage")
# The one door from the product into the simulator: the CLI registers ``tinydesk demo``
# (``from bot.sim import demo``).
DEMO_COMMAND = {
    (Path("bot/cli/__init__.py"), "bot.sim"),
    (Path("bot/cli/__init__.py"), "bot.sim.demo"),
}
SHARED_MARKERS = ("../shared", "github-openapi", "github-payloads", "TINYDESK_SHARED_DIR")


def non_docstring_strings(path: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) not in docstrings:
                yield node.value


def test_the_imports_parser_sees_function_local_and_relative_imports(tmp_path: Path) -> None:
    module = tmp_path / "probe.py"
    module.write_text("def f():\n    from .sim import demo\n    import jsonschema\n")
    assert set(imports(module, package="bot")) == {"bot.sim", "bot.sim.demo", "jsonschema"}


def test_the_product_does_not_import_the_simulator() -> None:
    offenders = []
    for path in sources(*PRODUCT):
        if within(".".join(rel(path).parts), "bot.sim"):
            continue
        offenders += [
            f"{rel(path)} imports {module}"
            for module in imports(path)
            if within(module, "bot.sim") and (rel(path), module) not in DEMO_COMMAND
        ]
    assert offenders == []


def test_the_product_needs_no_jsonschema_and_reads_no_shared_folder() -> None:
    offenders = []
    for path in sources(*PRODUCT):
        offenders += [f"{rel(path)} imports {m}" for m in imports(path) if within(m, "jsonschema")]
        offenders += [
            f"{rel(path)} names {text!r}"
            for text in non_docstring_strings(path)
            if text == "shared" or any(marker in text for marker in SHARED_MARKERS)
        ]
    assert offenders == []


def test_tinydesk_receive_does_not_import_the_simulator() -> None:
    assert not [m for m in imports(ROOT / "bot/cli/receive.py") if within(m, "bot.sim")]


def test_the_benchmark_does_not_import_the_tests() -> None:
    offenders = [
        f"{rel(path)} imports {m}"
        for path in sources("bench")
        for m in imports(path)
        if within(m, "tests")
    ]
    assert offenders == []


def test_the_tests_do_not_import_the_benchmark() -> None:
    """They run it as a command (test_bench_quick, test_bench_stacks) instead."""
    offenders = [
        f"{rel(path)} imports {m}"
        for path in sources("tests")
        for m in imports(path)
        if within(m, "bench")
    ]
    assert offenders == []
