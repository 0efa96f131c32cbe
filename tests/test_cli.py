"""The ``tinydesk`` command: products, db, and serve with no settings at all."""

from __future__ import annotations

import json
import urllib.request

import pytest

from bot.cli import main
from bot.sim.stack import ServerProcess
from storage import migrate


@pytest.fixture
def env(tmp_path):
    return {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"}


def test_products_add_list_remove(env, capsys):
    assert (
        main(
            [
                "products",
                "add",
                "my-saas-app",
                "--repo",
                "octo-org/my-saas-app",
                "--name",
                "My SaaS",
            ],
            env,
        )
        == 0
    )
    assert "registered my-saas-app -> octo-org/my-saas-app" in capsys.readouterr().out
    assert main(["products", "list"], env) == 0
    out = capsys.readouterr().out
    assert "my-saas-app" in out and "octo-org/my-saas-app" in out and "app not installed yet" in out
    assert main(["products", "list", "--json"], env) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(p["slug"], p["repo"], p["name"]) for p in listed] == [
        ("my-saas-app", "octo-org/my-saas-app", "My SaaS")
    ]
    assert main(["products", "remove", "my-saas-app"], env) == 0
    assert main(["products", "remove", "my-saas-app"], env) == 1
    assert "no product has the slug" in capsys.readouterr().err
    assert main(["products", "list", "--json"], env) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_products_add_rejects_bad_input_and_duplicates(env, capsys):
    assert main(["products", "add", "Bad Slug", "--repo", "nope"], env) == 1
    err = capsys.readouterr().err
    assert "slug may hold only lowercase letters" in err and "repo must be OWNER/NAME" in err
    assert main(["products", "add", "app", "--repo", "o/r"], env) == 0
    assert main(["products", "add", "app", "--repo", "o/r2"], env) == 1
    assert "Product already exists" in capsys.readouterr().err


def test_products_add_with_deployment_settings(env, capsys):
    args = [
        "products",
        "add",
        "api",
        "--repo",
        "o/api",
        "--no-deployment-tracking",
        "--environments",
        "prod,live",
    ]
    assert main(args, env) == 0
    capsys.readouterr()
    main(["products", "list", "--json"], env)
    listed = json.loads(capsys.readouterr().out)
    assert listed[0]["deploymentTracking"] is False
    assert listed[0]["productionEnvironments"] == ["prod", "live"]


def test_products_issue_text_is_set_on_add_and_changed_with_set(env, capsys):
    assert (
        main(["products", "add", "api", "--repo", "o/api", "--issue-text", "subject-only"], env)
        == 0
    )
    main(["products", "list", "--json"], env)
    assert json.loads(capsys.readouterr().out.split("\n", 1)[1])[0]["issueText"] == "subject-only"
    assert main(["products", "set", "api", "--issue-text", "full", "--name", "API"], env) == 0
    assert "updated api: issue text full" in capsys.readouterr().out
    assert main(["products", "set", "api", "--issue-text", "default"], env) == 0
    main(["products", "list"], env)
    assert "issue text by visibility (scrubbed if public)" in capsys.readouterr().out
    assert main(["products", "set", "nope", "--issue-text", "full"], env) == 1
    assert "Product not found" in capsys.readouterr().err
    assert main(["products", "set", "api"], env) == 1  # nothing to change
    assert "send at least one" in capsys.readouterr().err


def test_db_upgrade_reports_the_revision(env, capsys):
    assert main(["db", "upgrade"], env) == 0
    head = migrate.head_revision()  # the newest migration, whichever it is
    assert f"database is at revision {head}" in capsys.readouterr().out
    assert main(["db", "current"], env) == 0
    assert capsys.readouterr().out.startswith(head)


def test_bad_configuration_exits_2_with_every_problem(capsys):
    assert main(["products", "list"], {"PORT": "x", "DATABASE_URL": "mysql://x"}) == 2
    err = capsys.readouterr().err
    assert "PORT" in err and "DATABASE_URL" in err


def test_serve_with_no_settings_starts_on_sqlite(tmp_path):
    """No environment at all: the default SQLite file is created, healthz answers, one warning."""
    server = ServerProcess(
        {
            "DATABASE_URL": "",
            "GITHUB_APP_ID": "",
            "GITHUB_PRIVATE_KEY": "",
            "GITHUB_PRIVATE_KEY_PATH": "",
            "GITHUB_WEBHOOK_SECRET": "",
            "TINYDESK_ADMIN_TOKEN": "",
            "PORT": "",
        },
        tmp_path / "serve.log",
    )
    try:
        server.wait_ready()
        with urllib.request.urlopen(f"{server.url}/healthz") as resp:
            health = json.load(resp)
        assert health["status"] == "ok" and health["github"] == "not configured"
        assert (tmp_path / "tinydesk.db").exists()
    finally:
        server.stop()
    log = server.log()
    assert f"listening on http://127.0.0.1:{server.port}" in log
    assert log.count("tickets will wait at RECEIVED until the App is configured") == 1
