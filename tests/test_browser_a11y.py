"""Every page passes axe-core with no serious or critical violation, and fits a 360 px screen
(issue 19, item 5): the public pages, the workspace as a staff admin, an agent and a viewer
see it, and the admin console, each filled with the showcase desk (tests/showcase.py) so the
checks see real rows, clocks, stages, comments and forms rather than empty states.

axe-core runs in the page as it is served (tests/a11y.py: evaluated over DevTools, which the
strict CSP does not govern). One test per area walks its pages and reports every failing
page at once, so a regression shows its whole extent in one run.
"""

from __future__ import annotations

import pytest

from tests import test_browser
from tests.a11y import assert_accessible, assert_no_horizontal_scroll
from tests.axe_core import axe_source
from tests.showcase import PASSWORD, VIEWER, build
from tests.test_browser import CHROMIUM, WAIT_MS
from tests.test_browser_desk import invite

database_url = test_browser.database_url
browser = test_browser.browser
base = test_browser.base

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (/usr/bin/chromium)"),
    pytest.mark.slow,
]

PUBLIC_PAGES = (
    "/",
    "/track",
    "/track/{progress_id}",
    "/track/{progress_id}?token={progress_token}",
    "/track/{deployed_id}?token={deployed_token}",
    "/track/{closed_id}",
    "/track/TK-99999",
    "/submit",
    "/submit/my-saas-app",
    "/desk/sign-in",
    "/desk/forgot",
    "{invite_path}",
    "/admin/sign-in",
)
DESK_PAGES = (
    "/desk",
    "/desk?view=mine",
    "/desk?view=unassigned",
    "/desk?view=due-soon",
    "/desk?view=breached",
    "/desk?view=pending",
    "/desk?view=product&product=my-saas-app",
    "/desk?view=stage&stage=PR_OPEN",
    "/desk?view=all",
    "/desk?q=Safari",
    "/desk?view=nonsense",
    "/desk/tickets/{progress_id}",
    "/desk/tickets/{changes_id}",
    "/desk/tickets/{deployed_id}",
    "/desk/tickets/{new_id}",
    "/desk/new",
    "/desk/new?template={template_id}",
    "/desk/breaches",
    "/desk/settings",
)
VIEWER_PAGES = ("/desk", "/desk/tickets/{progress_id}", "/desk/breaches", "/desk/settings")
ADMIN_PAGES = (
    "/admin",
    "/admin/products",
    "/admin/sla",
    "/admin/sla/new",
    "/admin/tickets",
    "/admin/tickets/{progress_id}",
    "/admin/breaches",
    "/admin/templates",
    "/admin/templates/{template_id}/edit",
    "/admin/clients",
    "/admin/clients/{client_id}",
    "/admin/contracts",
    "/admin/contracts/{contract_id}",
    "/admin/invoices",
    "/admin/invoices/{invoice_ref}",
    "/admin/deliveries",
    "/admin/callbacks",
    "/admin/jobs",
    "/admin/jobs/{job_id}",
    "/admin/api-keys",
    "/admin/staff",
    "/admin/setup",
)
WIDTHS = ((1280, 900), (360, 740))


@pytest.fixture
async def showcase(base, db):
    axe_source()  # skip (or, under TINYDESK_REQUIRE_AXE=1, fail) before building anything
    return await build(base, db)


async def walk(browser, base: str, paths, values: dict[str, str], sign_in=None) -> None:
    """Open each page at each width; fail listing every page with a violation."""
    failures: list[str] = []
    for width, height in WIDTHS:
        context = await browser.new_context(viewport={"width": width, "height": height})
        context.set_default_timeout(WAIT_MS)
        page = await context.new_page()
        try:
            if sign_in is not None:
                await sign_in(page)
            for template in paths:
                url = base + template.format(**values)
                response = await page.goto(url)
                assert response is not None
                # The pages that say "not found" or "bad request" are pages too, and checked.
                expected = 404 if "TK-99999" in template else 400 if "nonsense" in template else 200
                if response.status != expected:
                    failures.append(f"{url}: HTTP {response.status}, not {expected}")
                    continue
                what = f"{template} at {width} px"
                try:
                    await assert_accessible(page, what)
                    if width < 400:
                        await assert_no_horizontal_scroll(page, what)
                except AssertionError as failure:
                    failures.append(str(failure))
        finally:
            await context.close()
    assert not failures, "\n\n".join(failures)


def staff_sign_in(base: str, email: str, link: str):
    """Sign in as the invited ``email``: through the invitation the first time (it sets the
    password and is then spent), with the password after that."""
    accepted = False

    async def sign_in(page) -> None:
        nonlocal accepted
        if not accepted:
            await page.goto(link)
            await page.fill("#password", PASSWORD)
            await page.click("button:has-text('Set password')")
            accepted = True
        else:
            await page.goto(f"{base}/desk/sign-in")
            await page.fill("#email", email)
            await page.fill("#password", PASSWORD)
            await page.click("form button:has-text('Sign in')")
        await page.wait_for_selector("h1:has-text('Inbox')")

    return sign_in


async def test_the_public_pages_are_accessible(browser, base, showcase):
    await walk(browser, base, PUBLIC_PAGES, showcase.values)


async def test_the_workspace_is_accessible_to_an_admin(browser, base, showcase):
    link = await invite(base, "root@support.test", "Ro Root", "admin")
    await walk(
        browser, base, DESK_PAGES, showcase.values, staff_sign_in(base, "root@support.test", link)
    )


async def test_the_workspace_is_accessible_to_a_viewer(browser, base, showcase):
    link = base + showcase.invite_links[VIEWER[0]]
    await walk(browser, base, VIEWER_PAGES, showcase.values, staff_sign_in(base, VIEWER[0], link))


async def test_the_admin_console_is_accessible(browser, base, showcase):
    async def sign_in(page) -> None:
        await test_browser.sign_in(page, base)

    await walk(browser, base, ADMIN_PAGES, showcase.values, sign_in)
