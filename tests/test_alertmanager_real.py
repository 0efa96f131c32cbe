"""Alerts to tickets with the real Alertmanager (Debian's ``prometheus-alertmanager``; `.ci/run`
installs it and sets ``TINYDESK_REQUIRE_ALERTMANAGER=1``, which turns the skip into a
failure): Alertmanager runs on loopback with a webhook receiver pointing at TinyDesk,
authenticated by a desk key as its bearer token, and alerts are posted to Alertmanager's own
API. Fire → a ticket; Alertmanager repeating the group → no second ticket; resolve → the
ticket resolves; fire again → the same ticket reopens."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.app import create_app
from bot.config import Settings
from storage.models import AlertGroup, Ticket
from tests.conftest import ADMIN_TOKEN
from tests.deskkit import add_product, make_key

BINARY = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
REQUIRED = os.environ.get("TINYDESK_REQUIRE_ALERTMANAGER") == "1"
WAIT_SECONDS = 30.0

if BINARY is None and REQUIRED:
    raise RuntimeError("TINYDESK_REQUIRE_ALERTMANAGER=1 but prometheus-alertmanager is missing")
pytestmark = pytest.mark.skipif(
    BINARY is None, reason="Alertmanager is not installed (apt-get install prometheus-alertmanager)"
)

CONFIG = """\
route:
  receiver: tinydesk
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 2s
receivers:
  - name: tinydesk
    webhook_configs:
      - url: {url}
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: {key}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(folder: Path, webhook_url: str, key: str) -> tuple[subprocess.Popen, int]:
    """Alertmanager on a free loopback port, its log in ``folder``."""
    config = folder / "alertmanager.yml"
    config.write_text(CONFIG.format(url=webhook_url, key=key))
    port = free_port()
    assert BINARY is not None
    with open(folder / "alertmanager.log", "wb") as log:
        process = subprocess.Popen(
            [
                BINARY,
                f"--config.file={config}",
                f"--storage.path={folder / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",
                "--log.level=warn",
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    return process, port


async def wait_ready(base: str, folder: Path) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(100):
            try:
                async with http.get(f"{base}/-/ready") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError((folder / "alertmanager.log").read_text())


@pytest.fixture
async def alertmanager(db, aiohttp_client, tmp_path) -> AsyncIterator[tuple[str, object]]:
    app = create_app(Settings(admin_token=ADMIN_TOKEN, run_workers=False), db=db)
    client = await aiohttp_client(app)
    await add_product(client, "api")
    key = (await make_key(client, "alertmanager@ops.test", products=["api"]))["key"]
    webhook = str(client.make_url("/api/alerts/alertmanager"))
    process, port = launch(tmp_path, webhook, key)
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(base, tmp_path)
        yield base, client
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


async def post_alert(base: str, *, ends_in: dt.timedelta) -> None:
    """One alert, as Prometheus posts it to Alertmanager's API (endsAt in the past: resolved)."""
    now = dt.datetime.now(dt.UTC)
    alert = {
        "labels": {"alertname": "HighLatency", "severity": "critical", "job": "api"},
        "annotations": {"summary": "p99 latency above 2 s"},
        "startsAt": (now - dt.timedelta(seconds=5)).isoformat(),
        "endsAt": (now + ends_in).isoformat(),
        "generatorURL": "http://prometheus.local:9090/graph",
    }
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}/api/v2/alerts", json=[alert]) as resp:
            assert resp.status == 200, await resp.text()


async def eventually(check, what: str):
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    while True:
        found = await check()
        if found:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"Alertmanager never got TinyDesk to {what}")
        await asyncio.sleep(0.2)


async def the_ticket(db) -> Ticket | None:
    async with db.session() as session:
        return await session.scalar(select(Ticket))


async def test_fire_repeat_resolve_fire_again(alertmanager, db):
    base, _client = alertmanager
    await post_alert(base, ends_in=dt.timedelta(hours=1))
    ticket = await eventually(lambda: the_ticket(db), "open a ticket")
    assert ticket.source_type == "alert" and ticket.priority == "urgent"
    assert ticket.status == "open"

    async def repeated() -> bool:
        async with db.session() as session:
            group = await session.scalar(select(AlertGroup))
        return group is not None and group.notifications >= 3

    await eventually(repeated, "receive the group's repeats")
    async with db.session() as session:
        assert (await session.scalar(select(func.count()).select_from(Ticket))) == 1

    await post_alert(base, ends_in=dt.timedelta(seconds=-1))

    async def status_is(status: str):
        async def check() -> bool:
            found = await the_ticket(db)
            return found is not None and found.status == status

        return check

    await eventually(await status_is("resolved"), "resolve the ticket")
    await post_alert(base, ends_in=dt.timedelta(hours=1))
    await eventually(await status_is("open"), "reopen the ticket")
    async with db.session() as session:
        assert (await session.scalar(select(func.count()).select_from(Ticket))) == 1
