"""The ``tinydesk`` command: products, db, and serve with no settings at all; and the
conventions of a good CLI: ``--version``, each group's own help, errors that name the
command's flags, ``receive`` refusing unknown events, ``demo`` deaf to the environment,
``wait``."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import urllib.request

import pytest
from aiohttp import web

from bot import __version__
from bot.cli import keys, main, products
from bot.cli.receive import KNOWN_EVENTS
from bot.sim.stack import ServerProcess, free_port
from storage import migrate
from webhooks import router


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
    assert main(["products", "add", "Bad Slug", "--repo", "nope"], env) == 2
    err = capsys.readouterr().err
    assert "argument SLUG: may hold only lowercase letters" in err
    assert "argument --repo: must be OWNER/NAME" in err
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
    assert main(["products", "set", "api"], env) == 2  # nothing to change
    assert "nothing to change: give --name" in capsys.readouterr().err


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


def tinydesk(*argv: str, env: dict[str, str] | None = None, timeout: float = 60):
    """The real command, as a script runs it (exit code, stdout, stderr)."""
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONIOENCODING": "utf-8", **(env or {})},
    )


# -- --version and each group's own help ---------------------------------------------------


def test_version_prints_the_package_version():
    proc = tinydesk("--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"tinydesk {__version__}\n"


@pytest.mark.parametrize(
    ("group", "actions"),
    [
        ("keys", ["create", "list", "set", "revoke"]),
        ("db", ["upgrade", "current"]),
        ("products", ["add", "set", "list", "remove"]),
    ],
)
def test_a_group_without_its_action_prints_its_own_help_and_exits_2(group, actions, capsys):
    """`tinydesk keys` shows the keys actions, not the top-level list of commands."""
    assert main([group], {}) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"usage: tinydesk {group} [-h] ACTION ...")
    for action in actions:
        assert f"\n    {action} " in err
    assert "receive" not in err and "COMMAND" not in err


def test_no_command_prints_the_top_level_help_and_exits_2():
    proc = tinydesk()
    assert proc.returncode == 2
    assert proc.stderr.startswith("usage: tinydesk [-h] [--version] [--debug] COMMAND ...")
    for command in ("serve", "db", "products", "receive", "keys", "wait", "demo"):
        assert f"\n    {command} " in proc.stderr
    proc = tinydesk("keys")  # the installed entry point keeps the exit code
    assert proc.returncode == 2 and proc.stderr.startswith("usage: tinydesk keys ")


# -- validation errors in the command's terms ----------------------------------------------

# (command, argv, the body field the validator refuses, what the CLI must say instead)
FIELD_ERRORS = [
    ("products add", ["Bad Slug", "--repo", "o/r"], "slug", "argument SLUG: may hold only"),
    ("products add", ["app", "--repo", "nope"], "repo", "argument --repo: must be OWNER/NAME"),
    (
        "products add",
        ["app", "--repo", "o/r", "--name", "x" * 201],
        "name",
        "argument --name: must be at most 200 characters",
    ),
    (
        "products add",
        ["app", "--repo", "o/r", "--environments", " , "],
        "productionEnvironments",
        "argument --environments: must name at least one environment, comma-separated",
    ),
    (
        "products add",
        ["app", "--repo", "o/r", "--mail-address", "not an address"],
        "mailAddress",
        "argument --mail-address: must be an email address, or none",
    ),
    ("products set", ["app", "--name", " "], "name", "argument --name: must not be blank"),
    (
        "products set",
        ["app", "--mail-address", "nope"],
        "mailAddress",
        "argument --mail-address: must be an email address, or none",
    ),
    (
        "products set",
        ["app", "--environments", ","],
        "productionEnvironments",
        "argument --environments: must name at least one environment",
    ),
    ("products set", ["app"], "body", "nothing to change: give --name, --issue-text, "),
    (
        "products set",
        ["app", "--sla-policy", " "],
        "slaPolicy",
        "argument --sla-policy: must name an SLA policy (tinydesk sla policies) or be default",
    ),
    ("keys create", ["--name", " "], "name", "argument --name: must not be blank"),
    (
        "keys create",
        ["--name", "Dana", "--public-name", "dana@example.com"],
        "publicName",
        "argument --public-name: must be 1 to 100 characters, on one line, without @",
    ),
    (
        "keys create",
        ["--name", "Dana", "--product", " "],
        "products",
        "argument --product: may be given up to 100 times, each with a product's slug",
    ),
    ("keys set", ["key_x", "--name", " "], "name", "argument --name: must not be blank"),
    (
        "keys set",
        ["key_x", "--public-name", "Dana\uff20Support"],
        "publicName",
        "argument --public-name: must be 1 to 100 characters",
    ),
    ("keys set", ["key_x"], "body", "nothing to change: give --name, --public-name or "),
]
FLAG_MAPPINGS = {
    "products add": products.ADD_FLAGS,
    "products set": products.SET_FLAGS,
    "keys create": keys.CREATE_FLAGS,
    "keys set": keys.SET_FLAGS,
}


@pytest.mark.parametrize(
    ("command", "argv", "field", "said"),
    FIELD_ERRORS,
    ids=[f"{c}-{f}" for c, _, f, _ in FIELD_ERRORS],
)
def test_a_refused_value_is_named_by_its_flag(command, argv, field, said, env, tmp_path, capsys):
    """The validators speak the API (productionEnvironments, "Fix the fields listed in
    fields"); the command names its own flag, as argparse does, exits 2, and opens no
    database for an argument it refuses."""
    assert main([*command.split(), *argv], env) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"usage: tinydesk {command} ")
    assert f"\ntinydesk {command}: error: {said}" in err
    assert "fields" not in err and "Fix the" not in err
    if field != field.lower() or field == "body":  # an API name that is no flag's
        assert field not in err
    assert not (tmp_path / "cli.db").exists()


def test_every_field_a_command_maps_has_its_error_case():
    """Each command's mapping (kept beside its arguments) and the cases above name the same
    fields, so a new field cannot go unmapped or untested."""
    for command, flags in FLAG_MAPPINGS.items():
        assert set(flags) == {f for c, _, f, _ in FIELD_ERRORS if c == command}, command


def test_several_refused_values_are_each_named(env, capsys):
    assert main(["products", "add", "Bad Slug", "--repo", "nope", "--environments", ","], env) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if ": error: " in line]
    assert [line.split(": error: argument ")[1].split(":")[0] for line in lines] == [
        "SLUG",
        "--repo",
        "--environments",
    ]


def test_a_choice_outside_the_list_is_refused_by_argparse_in_the_same_words(env, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["products", "add", "app", "--repo", "o/r", "--issue-text", "most"], env)
    assert exited.value.code == 2
    assert "tinydesk products add: error: argument --issue-text: invalid choice: 'most'" in (
        capsys.readouterr().err
    )


# -- receive: only the events the router subscribes to -------------------------------------


def test_receive_knows_exactly_the_events_the_router_handles():
    """The one list: what the router subscribes to, plus ping (answered by the receiver)."""
    handled = set(router._shallow_routes) | set(router._deep_routes)
    assert set(KNOWN_EVENTS) == handled | {"ping"}


@pytest.fixture
async def webhook_sink(aiohttp_server):
    """A stand-in server that records each delivery's event header and answers 202."""
    seen: list[str] = []

    async def receive(request: web.Request) -> web.Response:
        seen.append(request.headers["X-GitHub-Event"])
        return web.json_response({"queued": True}, status=202)

    app = web.Application()
    app.router.add_post("/webhooks/github", receive)
    server = await aiohttp_server(app)
    return str(server.make_url("/webhooks/github")), seen


async def test_receive_refuses_a_mistyped_event_with_the_closest_name(
    webhook_sink, tmp_path, capsys
):
    url, seen = webhook_sink
    payload = tmp_path / "pr.json"
    payload.write_text('{"action": "opened"}')
    environ = {"GITHUB_WEBHOOK_SECRET": "x" * 32}
    argv = ["receive", "pull_requests", str(payload), "--url", url]
    assert await asyncio.to_thread(main, argv, environ) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("tinydesk receive: unknown event 'pull_requests': did you mean")
    assert "'pull_request'?" in err and "--force" in err
    assert seen == []  # nothing was posted

    assert await asyncio.to_thread(main, [*argv, "--force"], environ) == 0
    assert seen == ["pull_requests"]
    assert (
        await asyncio.to_thread(
            main, ["receive", "pull_request", str(payload), "--url", url], environ
        )
        == 0
    )
    assert seen == ["pull_requests", "pull_request"]


# -- demo: the environment does not reach it -----------------------------------------------


@pytest.mark.slow
def test_demo_starts_whatever_the_environment_says():
    """README: the demo ignores the environment; values `serve` would refuse change nothing."""
    proc = tinydesk(
        "demo",
        "--once",
        "--port",
        "0",
        env={
            "PORT": "abc",
            "DATABASE_URL": "mysql://nowhere/x",
            "TINYDESK_ADMIN_TOKEN": "change-me",
            "GITHUB_APP_ID": "not-a-number",
            "GITHUB_PRIVATE_KEY": "garbage",
            "TINYDESK_LOG_LEVEL": "LOUD",
        },
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.rstrip().endswith("the ticket went from RECEIVED to CLOSED.")


# -- wait ----------------------------------------------------------------------------------


def test_wait_returns_once_a_starting_server_answers(tmp_path):
    """`serve &` then `wait`: wait returns 0 only once /healthz answers, with the URL from
    PORT (no --url), so the next command finds the server listening."""
    server = ServerProcess(
        {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'w.db'}"}, tmp_path / "serve.log"
    )
    try:
        proc = tinydesk("wait", "--timeout", "60", env={"PORT": str(server.port)}, timeout=90)
        assert proc.returncode == 0, proc.stderr + server.log()
        assert proc.stdout.startswith(f"TinyDesk is up at http://127.0.0.1:{server.port} (")
        with urllib.request.urlopen(f"{server.url}/healthz", timeout=5) as resp:
            assert json.load(resp)["status"] == "ok"
    finally:
        server.stop()


def test_wait_gives_up_after_the_timeout_with_one_line():
    port = free_port()  # nothing listens there
    # Giving up is the point, not how fast: the run's own timeout fails a wait that hangs.
    proc = tinydesk("wait", "--url", f"http://127.0.0.1:{port}", "--timeout", "0.5", timeout=120)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr == (
        f"tinydesk wait: http://127.0.0.1:{port}/healthz did not answer 200 within 0.5 s "
        "(last: Connection refused)\n"
    )


async def test_wait_is_not_satisfied_by_a_degraded_server(aiohttp_server, capsys):
    """/healthz answering 503 (its database unreachable) is not up; the line says why."""

    async def degraded(request: web.Request) -> web.Response:
        return web.json_response({"status": "degraded", "database": "unreachable"}, status=503)

    app = web.Application()
    app.router.add_get("/healthz", degraded)
    server = await aiohttp_server(app)
    environ = {"TINYDESK_PUBLIC_URL": str(server.make_url("/")).rstrip("/")}
    code = await asyncio.to_thread(main, ["wait", "--timeout", "0.3"], environ)
    assert code == 1
    assert capsys.readouterr().err.endswith("(last: HTTP 503 (degraded: database unreachable))\n")


def test_wait_refuses_a_url_it_cannot_use():
    proc = tinydesk("wait", "--url", "localhost:8000")
    assert proc.returncode == 2
    assert proc.stderr == "tinydesk wait: --url must be an http(s) URL, got 'localhost:8000'\n"
