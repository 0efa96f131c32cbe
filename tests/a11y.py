"""The accessibility checks a browser test runs on the page it has open (issue 19, item 5).

``await assert_accessible(page)`` runs axe-core (tests/axe_core.py) in the page and fails
listing every violation of impact serious or critical: the rule, what it asks for, and the
elements it found. axe is evaluated through Playwright's DevTools channel, which the page's
strict CSP (``script-src 'self'``) does not govern, so the page is checked as it is served:
no ``bypass_csp``, and nothing of axe is added to TinyDesk's pages.

``assert_no_horizontal_scroll(page)`` checks the page fits a narrow viewport (360 px).
"""

from __future__ import annotations

from typing import Any

from tests.axe_core import axe_source

FAILING_IMPACTS = ("serious", "critical")

# Runs in the page: axe's result, reduced to what a failure message needs.
RUN_AXE = """async () => {
    const results = await axe.run(document, {resultTypes: ["violations"]});
    return results.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.map((n) => n.target.join(" ")),
    }));
}"""


async def axe_violations(page) -> list[dict[str, Any]]:
    """Every axe violation on the page as it is now, of any impact."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.evaluate(axe_source())
    return await page.evaluate(RUN_AXE)


def describe(violations: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']}; at {', '.join(v['nodes'])}" for v in violations
    )


async def assert_accessible(page, what: str | None = None) -> None:
    """Fail when axe finds a serious or critical violation on the page, naming each."""
    violations = [v for v in await axe_violations(page) if v["impact"] in FAILING_IMPACTS]
    assert not violations, (
        f"{what or page.url}: {len(violations)} serious or critical accessibility "
        f"violation(s):\n{describe(violations)}"
    )


async def assert_no_horizontal_scroll(page, what: str | None = None) -> None:
    """Fail when the page is wider than its viewport (it would scroll sideways)."""
    widths = await page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    scroll, viewport = widths
    if scroll > viewport:
        wide = await page.evaluate(WIDEST)
        raise AssertionError(
            f"{what or page.url}: {scroll} px wide in a {viewport} px viewport; "
            f"elements past the edge: {wide}"
        )


# Runs in the page: what makes it wider than the viewport: the outermost elements that reach
# past its right edge, and the innermost whose own text overflows them (a long word).
WIDEST = """() => {
    const edge = window.innerWidth;
    const name = (el) => {
        const cls = el.className && typeof el.className === "string"
            ? "." + el.className.trim().split(/\\s+/).join(".") : "";
        return `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}${cls}`;
    };
    const all = Array.from(document.querySelectorAll("body *"));
    const past = all.filter((el) => el.getBoundingClientRect().right > edge + 0.5);
    const outermost = past.filter((el) => !past.includes(el.parentElement));
    const spill = all.filter((el) => el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1 &&
        getComputedStyle(el).overflowX === "visible");
    const innermost = spill.filter((el) => !spill.some((o) => o !== el && el.contains(o)));
    const right = (el) => Math.round(el.getBoundingClientRect().right);
    return [
        ...outermost.map((el) => `${name(el)} (${right(el)} px)`),
        ...innermost.map((el) => `${name(el)} (content ${el.scrollWidth} px in ${el.clientWidth})`),
    ].slice(0, 8);
}"""
