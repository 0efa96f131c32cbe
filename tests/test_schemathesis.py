"""Schemathesis against a real ``tinydesk serve``: the public, desk and admin APIs, fuzzed
from /api/openapi.json with a fixed seed and a bounded number of examples.

What it protects: no input yields a 5xx; every answer's status code, content type, headers
and body are the ones the document declares; requests the document calls valid are not
refused for their shape (positive_data_acceptance) and requests it calls invalid are refused
(negative_data_rejection); a desk key scoped to product A never reads, changes or lists
product B's tickets (tests/schemathesis_hooks.py); and the server logs no traceback. Billing
is fuzzed with an unscoped key (its own security scheme, ``billingKey``) on seeded clients,
contracts, time and invoices.

Run it alone with ``.venv/bin/pytest tests/test_schemathesis.py`` (README, "Development").
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from bot.cli import main
from bot.sim.stack import ServerProcess, github_env, start_fake

ROOT = Path(__file__).resolve().parent.parent
ADMIN_TOKEN = "schemathesis-admin-token-0123456789abcdefghij"
SEED = 20261202
MAX_EXAMPLES = int(os.environ.get("TINYDESK_SCHEMATHESIS_EXAMPLES", "40"))
B_SUBJECT = "beta-only subject 7f3c"

CONFIG = """
seed = {seed}
continue-on-failure = true
max-failures = 200
request-timeout = 20
# One worker: CPython 3.11 can fail ast.parse in concurrent threads (hypothesis uses it).
workers = 1

[cache]
enabled = false

[generation]
max-examples = {examples}
deterministic = true
mode = "all"
database = "none"

[phases.examples]
enabled = true
[phases.coverage]
enabled = true
[phases.fuzzing]
enabled = true
[phases.stateful]
enabled = true
max-steps = 20
inference.algorithms = ["location-headers", "dependency-analysis"]

[checks]
enabled = true

[auth.openapi.deskKey]
bearer = "{desk_key}"

[auth.openapi.adminToken]
bearer = "{admin_token}"

[auth.openapi.billingKey]
bearer = "{billing_key}"
"""


async def _json(http: aiohttp.ClientSession, method: str, url: str, **kwargs) -> dict:
    async with http.request(method, url, **kwargs) as resp:
        assert resp.status < 300, (method, url, resp.status, await resp.text())
        return await resp.json()


async def _seed(url: str) -> dict[str, object]:
    """Two products, a desk key scoped to each, and two tickets on each product."""
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with aiohttp.ClientSession() as http:
        keys = {}
        for name, slug in (("a", "prod-alpha"), ("b", "prod-beta")):
            created = await _json(
                http,
                "POST",
                f"{url}/api/admin/keys",
                json={"name": f"key {name}", "products": [slug]},
                headers=admin,
            )
            keys[name] = created["key"]
        tickets: dict[str, list[str]] = {"a": [], "b": []}
        for name in ("a", "b"):
            for n in range(2):
                subject = B_SUBJECT if name == "b" else f"alpha ticket {n}"
                ticket = await _json(
                    http,
                    "POST",
                    f"{url}/api/v1/desk/tickets",
                    json={"subject": subject, "body": "b", "email": "c@example.com"},
                    headers={"Authorization": f"Bearer {keys[name]}"},
                )
                tickets[name] += [ticket["id"], ticket["publicId"]]
        b_view = await _b_view(http, url, keys["b"], tickets["b"])
        billing_key = (
            await _json(
                http, "POST", f"{url}/api/admin/keys", json={"name": "billing"}, headers=admin
            )
        )["key"]
        billing = await _seed_billing(http, url, billing_key, tickets["a"][0])
    return {
        "keys": keys,
        "tickets": tickets,
        "b_view": b_view,
        "billing_key": billing_key,
        "billing": billing,
    }


async def _seed_billing(
    http: aiohttp.ClientSession, url: str, key: str, ticket: str
) -> dict[str, list[str]]:
    """With an unscoped key: a client with both kinds of contract, time on one of A's
    tickets, an issued invoice and a draft; their ids for the hooks (ST_BILLING)."""
    headers = {"Authorization": f"Bearer {key}"}
    desk = f"{url}/api/v1/desk"

    async def post(path: str, body: dict, method: str = "POST") -> dict:
        return await _json(http, method, f"{desk}{path}", json=body, headers=headers)

    client = await post(
        "/clients", {"name": "Schemathesis Ltd", "taxes": [{"name": "VAT", "rate": "19"}]}
    )
    terms = {"client": client["id"], "startsOn": "2026-01-01"}
    bank = await post(
        "/contracts",
        {**terms, "name": "Bank", "kind": "time_based", "hoursPerPeriod": 10,
         "hourlyRate": "80.00", "overageRate": "100.00", "rounding": {"increment": 15}},
    )
    fixed = await post("/contracts", {**terms, "name": "Fee", "kind": "fixed_price", "fee": 50})
    await post(f"/tickets/{ticket}/client", {"client": client["id"]}, method="PUT")
    entries = [
        await post(
            f"/tickets/{ticket}/time",
            {"minutes": minutes, "description": "work", "startedAt": started,
             "contract": contract},
        )
        for minutes, started, contract in (
            (90, "2026-01-05T10:00:00Z", bank["id"]),
            (30, "2026-02-05T10:00:00Z", None),
            (20, "2026-02-06T10:00:00Z", None),
        )
    ]
    await post("/rates", {"currency": "EUR", "rate": "90.00"}, method="PUT")
    issued = await post("/invoices", {"client": client["id"], "periodEnd": "2026-01-31"})
    issued = await post(f"/invoices/{issued['id']}/issue", {})
    draft = await post("/invoices", {"client": client["id"], "periodEnd": "2026-02-28"})
    return {
        "cli": [client["id"]],
        "con": [bank["id"], fixed["id"]],
        "tim": [entry["id"] for entry in entries],
        "inv": [issued["number"], issued["id"], draft["id"]],
        "inl": [line["id"] for line in issued["lines"]],
        "tkt": [ticket],
    }


# What a desk key can change on a ticket (PATCH, DELETE, comments). The admin API may change
# the rest during the run (remove product B, link a ticket), which is no leak.
DESK_CHANGES = ("status", "priority", "assignee", "tags", "type", "category", "source_type",
                "updatedAt", "updated_by", "comments")


async def _b_view(http: aiohttp.ClientSession, url: str, key: str, ids: list[str]) -> list:
    headers = {"Authorization": f"Bearer {key}"}
    views = [await _json(http, "GET", f"{url}/api/v1/desk/tickets/{i}", headers=headers)
             for i in ids[::2]]
    return [{k: v[k] for k in DESK_CHANGES} for v in views]


@pytest.mark.slow
async def test_schemathesis_finds_nothing(database_url, tmp_path):
    fake = await start_fake()  # GitHub for the link endpoint and the workers, in this loop
    env = {
        **github_env(fake, "schemathesis-webhook-secret"),
        "GITHUB_PRIVATE_KEY_PATH": "",
        "DATABASE_URL": database_url,
        "TINYDESK_ADMIN_TOKEN": ADMIN_TOKEN,
        "TINYDESK_TRUST_PROXY": "1",  # each generated request its own address (the hooks)
        "TINYDESK_DESK_RATE_LIMIT": "0",
        "TINYDESK_DESK_CREATE_RATE_LIMIT": "0",
        "TINYDESK_PUBLIC_CREATE_RATE_LIMIT": "0",
        "TINYDESK_PUBLIC_READ_RATE_LIMIT": "0",
    }
    for slug, repo in (("prod-alpha", "acme/alpha"), ("prod-beta", "acme/beta")):
        args = ["products", "add", slug, "--repo", repo]
        assert await asyncio.to_thread(main, args, env) == 0
    server = ServerProcess(env, tmp_path / "serve.log")
    try:
        await asyncio.to_thread(server.wait_ready)
        seeded = await _seed(server.url)
        keys, tickets = seeded["keys"], seeded["tickets"]
        config = tmp_path / "schemathesis.toml"
        config.write_text(
            CONFIG.format(
                seed=SEED,
                examples=MAX_EXAMPLES,
                desk_key=keys["a"],
                admin_token=ADMIN_TOKEN,
                billing_key=seeded["billing_key"],
            )
        )
        report = tmp_path / "report.json"
        command = [
            sys.executable, "-m", "schemathesis.cli",
            "--config-file", str(config), "--no-color",
            "run", f"{server.url}/api/openapi.json",
            "--report", "ndjson", "--report-ndjson-path", str(report),
        ]
        run_env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "SCHEMATHESIS_HOOKS": "tests.schemathesis_hooks",
            "ST_A_TICKETS": ",".join(tickets["a"]),
            "ST_B_TICKETS": ",".join(tickets["b"]),
            "ST_B_SUBJECT": B_SUBJECT,
            "ST_BILLING": json.dumps(seeded["billing"]),
        }
        result = await asyncio.to_thread(
            subprocess.run, command, cwd=tmp_path, env=run_env, capture_output=True, text=True,
            timeout=600,
        )
        (tmp_path / "schemathesis.out").write_text(result.stdout + result.stderr)
        async with aiohttp.ClientSession() as http:
            b_after = await _b_view(http, server.url, keys["b"], tickets["b"])
    finally:
        server.stop()
        await fake.close()
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-20000:]
    assert b_after == seeded["b_view"], "product B's tickets changed during the run"
    log = server.log()
    tracebacks = [line for line in log.splitlines() if "Traceback" in line]
    assert tracebacks == [], tracebacks[:3]
    assert ADMIN_TOKEN not in log



def test_the_authorization_check_fails_on_a_leak(monkeypatch):
    """The custom check is no check that cannot fail: a 200 for B's ticket, or B's ticket in
    an answer to key A, raises; a 404 for it and answers about A's tickets do not."""
    from types import SimpleNamespace

    from tests.schemathesis_hooks import other_products_tickets_stay_hidden as check

    monkeypatch.setenv("ST_B_TICKETS", "tkt_b,TK-00003")
    monkeypatch.setenv("ST_B_SUBJECT", B_SUBJECT)

    def case(path: str, ticket: str | None = None):
        params = {"id": ticket} if ticket else {}
        return SimpleNamespace(operation=SimpleNamespace(path=path), path_parameters=params,
                               method="GET")

    one = "/api/v1/desk/tickets/{id}"
    def answer(status_code: int, text: str) -> SimpleNamespace:
        # Schemathesis's response: the raw bytes (the check reads them, PDFs included).
        return SimpleNamespace(status_code=status_code, text=text, content=text.encode())

    check(None, answer(status_code=404, text='{"error": "Ticket not found"}'), case(one, "tkt_b"))
    check(None, answer(status_code=200, text='{"id": "tkt_a"}'), case(one, "tkt_a"))
    for response, sent in [
        (answer(status_code=200, text='{"id": "tkt_b"}'), case(one, "TK-00003")),
        (answer(status_code=200, text='{"tickets": [{"id": "tkt_b"}]}'),
         case("/api/v1/desk/tickets")),
        (answer(status_code=200, text=f'{{"subject": "{B_SUBJECT}"}}'), case(one, "tkt_a")),
    ]:
        with pytest.raises(AssertionError):
            check(None, response, sent)
