"""Take the README's screenshots (not run in CI): ``python scripts/screenshots.py [OUTDIR]``.

Plays ``tinydesk demo --once`` in-process and, when the ticket reaches MERGED, photographs
its tracking page at desktop and phone width; then signs in to the admin pages, registers a
second product with the form and photographs the products page. Uses the system Chromium
(``/usr/bin/chromium``) through Playwright, like the browser tests.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, async_playwright

from bot.sim.demo import Demo, DemoOptions

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]
SHOT_AT = "MERGED"


class ScreenshotDemo(Demo):
    browser: Browser
    outdir: Path
    tracking_url = ""

    async def submit_ticket(self) -> dict[str, Any]:
        ticket = await super().submit_ticket()
        self.tracking_url = ticket["trackingUrl"]
        return ticket

    async def step(self, expected: str, event: str, payload: dict[str, Any]) -> None:
        await super().step(expected, event, payload)
        if expected == SHOT_AT:
            await self.shoot_tracking_page()

    async def shoot_tracking_page(self) -> None:
        for name, viewport in (
            ("tracking-page.png", {"width": 1100, "height": 900}),
            ("tracking-page-phone.png", {"width": 390, "height": 844}),
        ):
            context = await self.browser.new_context(viewport=viewport)
            try:
                page = await context.new_page()
                await page.goto(self.tracking_url)
                await page.wait_for_selector('main[data-live="on"]', timeout=10_000)
                await page.screenshot(path=self.outdir / name, full_page=True)
            finally:
                await context.close()

    async def shoot_admin_products(self) -> None:
        context = await self.browser.new_context(viewport={"width": 1280, "height": 800})
        try:
            page = await context.new_page()
            page.set_default_timeout(10_000)
            await page.goto(f"{self.base_url}/admin/products")
            await page.fill("#admin-token", self.admin_token)
            await page.click("button:has-text('Sign in')")
            await page.wait_for_selector(".admin-bar")
            await page.fill("#slug", "billing-portal")
            await page.fill("#repo", "demo-org/billing-portal")
            await page.fill("#name", "Billing Portal")
            await page.click("button:has-text('Register product')")
            await page.wait_for_selector(".notice")
            await page.screenshot(path=self.outdir / "admin-products.png", full_page=True)
        finally:
            await context.close()


async def take(outdir: Path) -> None:
    demo = ScreenshotDemo(DemoOptions(port=0, once=True), sys.stdout)
    demo.outdir = outdir
    try:
        await demo.start()
        async with async_playwright() as playwright:
            demo.browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                await demo.play()
                await demo.shoot_admin_products()
            finally:
                await demo.browser.close()
    finally:
        await demo.close()


def main() -> int:
    default = Path(__file__).resolve().parents[1] / "docs"
    outdir = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    outdir.mkdir(parents=True, exist_ok=True)
    asyncio.run(take(outdir))
    for path in sorted(outdir.glob("*.png")):
        print(f"{path}: {path.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
