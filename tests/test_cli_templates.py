"""``tinydesk templates list | add | edit | remove``, the real command run as a subprocess (as
tests/test_cli.py runs it): what it prints, its exit codes, bad input named by its flags and
nothing stored, and that a template it adds is the one the desk API fills tickets from."""

from __future__ import annotations

import asyncio
import json

import pytest

from bot.cli import main
from tests.deskkit import bearer, make_key
from tests.test_cli import tinydesk


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    return {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"}


def listed(env) -> list[dict]:
    proc = tinydesk("templates", "list", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_templates_add_list_edit_remove(env):
    assert main(["products", "add", "my-saas-app", "--repo", "octo-org/my-saas-app"], env) == 0
    proc = tinydesk(
        "templates", "add", "New Employee Setup",
        "--subject", "Set up a new employee", "--body", "Laptop and accounts.",
        "--priority", "high", "--type", "service_request", "--category", "Onboarding",
        "--tag", "onboarding", "--tag", "hr", "--product", "my-saas-app",
        env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("added template New Employee Setup (tpl_")
    (template,) = listed(env)
    assert {k: template[k] for k in ("name", "priority", "type", "category", "tags")} == {
        "name": "New Employee Setup",
        "priority": "high",
        "type": "service_request",
        "category": "Onboarding",
        "tags": ["onboarding", "hr"],
    }
    assert template["productSlug"] == "my-saas-app" and template["createdBy"] == "cli"

    proc = tinydesk("templates", "list", env=env)
    assert proc.stdout == (
        f"{template['id']}  New Employee Setup  (product my-saas-app; priority high; "
        "type service_request; category Onboarding; tags onboarding, hr)\n"
    )
    # By name: an empty value clears a field, --no-tags every tag.
    proc = tinydesk(
        "templates", "edit", "New Employee Setup", "--name", "Onboarding",
        "--priority", "", "--product", "", "--no-tags", env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"updated template Onboarding ({template['id']})\n"
    (edited,) = listed(env)
    assert edited["priority"] is None and edited["productSlug"] is None and edited["tags"] == []
    assert edited["subject"] == "Set up a new employee"  # not named, not changed
    # By id.
    proc = tinydesk("templates", "remove", template["id"], env=env)
    assert proc.returncode == 0 and proc.stdout == f"removed template {template['id']}\n"
    proc = tinydesk("templates", "remove", template["id"], env=env)
    assert proc.returncode == 1 and "Template not found" in proc.stderr
    proc = tinydesk("templates", "list", env=env)
    assert proc.stdout.startswith("no templates yet: tinydesk templates add NAME")


def test_bad_input_names_the_flags_exits_2_and_stores_nothing(env):
    proc = tinydesk(
        "templates", "add", "tpl_x", "--priority", "critical", "--type", "chore", env=env
    )
    assert proc.returncode == 2
    assert "templates add: error: argument NAME: must not look like a template id" in proc.stderr
    assert "error: argument --priority: must be low, medium, high or urgent" in proc.stderr
    assert "error: argument --type: must be incident, service_request" in proc.stderr
    # The unknown product is found only in the database, and refused the same way.
    proc = tinydesk("templates", "add", "VPN Configuration Request", "--product", "nope", env=env)
    assert proc.returncode == 2
    assert "error: argument --product: no product has the slug 'nope'" in proc.stderr
    assert listed(env) == []


def test_edit_refuses_nothing_to_change_and_a_taken_name(env):
    assert main(["templates", "add", "A"], env) == 0
    assert main(["templates", "add", "B"], env) == 0
    proc = tinydesk("templates", "edit", "A", env=env)
    assert proc.returncode == 2 and "nothing to change: give --name" in proc.stderr
    proc = tinydesk("templates", "edit", "A", "--name", "B", env=env)
    assert proc.returncode == 1 and "Template already exists" in proc.stderr
    assert sorted(t["name"] for t in listed(env)) == ["A", "B"]


def test_the_group_alone_prints_its_actions(env):
    proc = tinydesk("templates", env=env)
    assert proc.returncode == 2
    assert proc.stderr.startswith("usage: tinydesk templates [-h] ACTION ...")
    for action in ("list", "add", "edit", "remove"):
        assert f"\n    {action} " in proc.stderr


async def test_a_template_the_cli_adds_fills_a_desk_ticket(database_url, client, product):
    """The command and the server share the database: the desk fills a ticket from it."""
    proc = await asyncio.to_thread(
        tinydesk,
        "templates", "add", "VPN Configuration Request", "--subject", "VPN access",
        "--body", "Which network, from when.", "--priority", "urgent", "--tag", "vpn",
        env={"DATABASE_URL": database_url},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    key = await make_key(client)
    resp = await client.post(
        "/api/v1/desk/tickets",
        json={"template": "VPN Configuration Request", "email": "a@example.com"},
        headers=bearer(key),
    )
    assert resp.status == 201, await resp.text()
    ticket = await resp.json()
    assert (ticket["subject"], ticket["priority"], ticket["tags"]) == (
        "VPN access",
        "urgent",
        ["vpn"],
    )
