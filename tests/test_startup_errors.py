"""Every start-up mistake is one line on stderr and exit code 2, no traceback (issue 14,
items 2 and 3), and the start log says what the server does. Each test runs the real
``tinydesk`` command in a subprocess, in a directory of its own, with the settings it names
and no others (the caller's environment may hold any TinyDesk variable)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.config import OWN_LOGGERS
from bot.sim.fakegithub.keys import generate_app_key
from storage import migrate

PG_URL = os.environ.get("TINYDESK_TEST_DATABASE_URL", "").strip()
# Settings the tests never inherit from the caller (a developer's shell, CI).
SETTINGS = (
    "DATABASE_URL",
    "PORT",
    "TINYDESK_ADMIN_TOKEN",
    "TINYDESK_PUBLIC_URL",
    "TINYDESK_WORKERS",
    "TINYDESK_LOG_LEVEL",
    "TINYDESK_DEBUG_LOGGERS",
    "GITHUB_APP_ID",
    "GITHUB_PRIVATE_KEY",
    "GITHUB_PRIVATE_KEY_PATH",
    "GITHUB_WEBHOOK_SECRET",
    "GITHUB_API_URL",
    "REDIS_URL",
)
# Commands that open the database: each says what is wrong with it in the same one line.
DB_COMMANDS = (
    ["serve", "--host", "127.0.0.1", "--port", "0"],
    ["db", "upgrade"],
    ["db", "current"],
    ["products", "list"],
    ["keys", "list"],
)
REFUSED_PG = "postgresql+asyncpg://postgres@127.0.0.1:1/tinydesk"
# Capabilities that let root bind low ports and write where the mode bits say no: dropped
# (with setpriv) so that the permission cases are real for root too.
ROOT_OVERRIDES = "-net_bind_service,-dac_override,-dac_read_search,-fowner"


def environment(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    return {**env, **settings}


def tinydesk(
    args: list[str], cwd: Path, *, unprivileged: bool = False, timeout: float = 60, **settings: str
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "bot.cli", *args]
    if unprivileged and os.geteuid() == 0:
        command = ["setpriv", "--bounding-set", ROOT_OVERRIDES, "--inh-caps", ROOT_OVERRIDES]
        command += [sys.executable, "-m", "bot.cli", *args]
    env = environment(**settings)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The one ``tinydesk: …`` line of a failed start (exit code 2), without its prefix."""
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("tinydesk: "), lines
    return lines[0].removeprefix("tinydesk: ")


def can_drop_root_overrides() -> bool:
    return os.geteuid() != 0 or shutil.which("setpriv") is not None


# -- the port ------------------------------------------------------------------------------


@pytest.fixture
def busy_port():
    """A port another program listens on, on every IPv4 interface."""
    with socket.socket() as sock:
        sock.bind(("0.0.0.0", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_a_busy_port_is_one_line_and_the_database_is_not_touched(tmp_path, busy_port):
    """The port is bound before anything else: nothing is created, and nothing said it was
    listening (the old server logged "listening on http://localhost:8000", then 25 lines)."""
    result = tinydesk(["serve"], tmp_path, PORT=str(busy_port))
    assert one_line(result) == (
        f"cannot listen on 0.0.0.0:{busy_port}: address already in use "
        "(another TinyDesk? choose another with --port or PORT)"
    )
    assert not (tmp_path / "tinydesk.db").exists()


def test_a_busy_port_given_with_host_and_port_flags(tmp_path, busy_port):
    result = tinydesk(["serve", "--host", "127.0.0.1", "--port", str(busy_port)], tmp_path)
    assert one_line(result).startswith(
        f"cannot listen on 127.0.0.1:{busy_port}: address already in use"
    )


@pytest.mark.skipif(not can_drop_root_overrides(), reason="root without setpriv binds any port")
def test_a_low_port_without_the_permission_is_one_line(tmp_path):
    start = Path("/proc/sys/net/ipv4/ip_unprivileged_port_start")
    if start.exists() and int(start.read_text()) <= 80:
        pytest.skip("this system lets anyone bind port 80")
    result = tinydesk(["serve", "--port", "80"], tmp_path, unprivileged=True)
    line = one_line(result)
    assert line.startswith("cannot listen on 0.0.0.0:80: permission denied (ports below 1024")
    assert "--port or PORT" in line


def test_an_unknown_host_is_one_line(tmp_path):
    result = tinydesk(["serve", "--host", "no-such-host.invalid", "--port", "0"], tmp_path)
    assert one_line(result).startswith(
        'cannot listen on no-such-host.invalid:0: unknown host "no-such-host.invalid"'
    )


def test_an_address_of_another_machine_is_one_line(tmp_path):
    # 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never an address of this machine.
    result = tinydesk(["serve", "--host", "192.0.2.1", "--port", "0"], tmp_path)
    assert one_line(result) == (
        "cannot listen on 192.0.2.1:0: 192.0.2.1 is not an address of this machine (check --host)"
    )


def test_a_port_out_of_range_is_refused_by_the_argument_parser(tmp_path):
    result = tinydesk(["serve", "--port", "70000"], tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "70000 is not between 0 and 65535" in result.stderr


# -- the database --------------------------------------------------------------------------


@pytest.mark.parametrize("command", DB_COMMANDS, ids=" ".join)
def test_a_postgresql_that_refuses_connections_is_one_line_for_every_command(tmp_path, command):
    result = tinydesk(command, tmp_path, DATABASE_URL=REFUSED_PG)
    assert one_line(result) == (
        "cannot reach the database at 127.0.0.1:1: connection refused "
        "(is PostgreSQL running there? check DATABASE_URL)"
    )


def pg_url(**parts: str) -> str:
    if not PG_URL:
        pytest.skip("TINYDESK_TEST_DATABASE_URL is not set")
    return make_url(PG_URL).set(**parts).render_as_string(hide_password=False)


@pytest.mark.parametrize("command", [DB_COMMANDS[0], DB_COMMANDS[2]], ids=" ".join)
def test_a_database_that_does_not_exist_says_how_to_create_it(tmp_path, command):
    name = f"tinydesk_missing_{uuid.uuid4().hex[:8]}"
    url = make_url(pg_url(database=name))
    result = tinydesk(command, tmp_path, DATABASE_URL=url.render_as_string(hide_password=False))
    line = one_line(result)
    assert line.startswith(f'database "{name}" does not exist on {url.host}:{url.port or 5432}')
    assert line.endswith(f"(create it: createdb -U {url.username} {name})")


@pytest.mark.parametrize("command", [DB_COMMANDS[0], DB_COMMANDS[3]], ids=" ".join)
def test_a_role_that_does_not_exist_is_one_line(tmp_path, command):
    result = tinydesk(command, tmp_path, DATABASE_URL=pg_url(username="tinydesk_no_such_role"))
    line = one_line(result)
    assert "refused the connection" in line and 'role "tinydesk_no_such_role"' in line


@pytest.mark.parametrize("command", DB_COMMANDS[:2] + DB_COMMANDS[3:], ids=" ".join)
def test_a_missing_sqlite_directory_is_named_by_its_absolute_path(tmp_path, command):
    """A relative DATABASE_URL is shown as the absolute path it means from where the
    command ran (a server started in another directory makes its database there)."""
    result = tinydesk(command, tmp_path, DATABASE_URL="sqlite+aiosqlite:///missing/desk.db")
    assert one_line(result) == (
        f"cannot open the SQLite database {tmp_path}/missing/desk.db: "
        f"directory {tmp_path}/missing does not exist (create it, or fix DATABASE_URL)"
    )


def test_an_sqlite_path_under_a_regular_file_is_one_line(tmp_path):
    (tmp_path / "file.txt").write_text("not a directory")
    url = f"sqlite+aiosqlite:///{tmp_path}/file.txt/db.sqlite"
    result = tinydesk(["db", "upgrade"], tmp_path, DATABASE_URL=url)
    assert one_line(result) == (
        f"cannot open the SQLite database {tmp_path}/file.txt/db.sqlite: "
        f"{tmp_path}/file.txt is a file, not a directory"
    )


def test_a_file_that_is_not_an_sqlite_database_is_one_line(tmp_path):
    (tmp_path / "notes.db").write_text("these are notes, not a database\n" * 100)
    result = tinydesk(["products", "list"], tmp_path, DATABASE_URL="sqlite:///notes.db")
    assert one_line(result) == (
        f"cannot open the SQLite database {tmp_path}/notes.db: the file is not an SQLite "
        "database (check DATABASE_URL)"
    )


@pytest.mark.skipif(not can_drop_root_overrides(), reason="root without setpriv writes anywhere")
def test_an_unwritable_sqlite_directory_is_one_line(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        result = tinydesk(
            ["serve", "--port", "0"],
            tmp_path,
            unprivileged=True,
            DATABASE_URL="sqlite:///locked/desk.db",
        )
    finally:
        locked.chmod(0o755)
    assert one_line(result) == (
        f"cannot open the SQLite database {locked}/desk.db: directory {locked} is not writable"
    )


def test_db_current_creates_no_file_and_says_there_is_none(tmp_path):
    """``db current`` used to create an empty tinydesk.db as a side effect."""
    result = tinydesk(["db", "current"], tmp_path)
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout == (
        f"empty (newest: {migrate.head_revision()}): no database at {tmp_path}/tinydesk.db yet "
        "(tinydesk db upgrade creates it)\n"
    )
    assert list(tmp_path.iterdir()) == []
    result = tinydesk(["db", "current"], tmp_path, DATABASE_URL="sqlite:///gone/x.db")
    assert result.returncode == 0 and "directory" in result.stdout
    assert list(tmp_path.iterdir()) == []


def test_debug_shows_the_traceback_behind_the_line(tmp_path):
    result = tinydesk(
        ["--debug", "db", "upgrade"], tmp_path, DATABASE_URL="sqlite:///missing/desk.db"
    )
    assert result.returncode == 2
    assert "Traceback" in result.stderr and "unable to open database file" in result.stderr
    assert result.stderr.splitlines()[-1].startswith(
        f"tinydesk: cannot open the SQLite database {tmp_path}/missing/desk.db"
    )


# -- the settings ---------------------------------------------------------------------------


def test_a_private_key_that_does_not_parse_stops_serve_without_printing_the_key(tmp_path):
    """It used to be accepted: healthz said "configured" and every job failed with
    InvalidKeyError. The line names the variable and never repeats the key."""
    key = generate_app_key()[0]
    broken = key.replace(key.splitlines()[3], key.splitlines()[3][::-1])
    result = tinydesk(
        ["serve", "--port", "0"], tmp_path, GITHUB_APP_ID="123", GITHUB_PRIVATE_KEY=broken
    )
    line = one_line(result)
    assert line.startswith("GITHUB_PRIVATE_KEY is not a private key that can be read")
    assert key.splitlines()[3][::-1][:16] not in result.stderr
    assert not (tmp_path / "tinydesk.db").exists()


def test_a_private_key_file_that_does_not_parse_is_named_by_its_path(tmp_path):
    (tmp_path / "app.pem").write_text("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n")
    result = tinydesk(["db", "upgrade"], tmp_path, GITHUB_PRIVATE_KEY_PATH="app.pem")
    assert one_line(result).startswith(
        f"GITHUB_PRIVATE_KEY_PATH ({tmp_path}/app.pem) is not a private key that can be read"
    )


def test_every_settings_mistake_is_listed_together_one_line_each(tmp_path):
    result = tinydesk(
        ["serve"],
        tmp_path,
        GITHUB_APP_ID="my-app",
        GITHUB_PRIVATE_KEY="-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----",
        GITHUB_WEBHOOK_SECRET="secret",
        PORT="eighty",
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert [line.split(" ", 2)[1] for line in lines] == [
        "PORT='eighty'",
        "GITHUB_PRIVATE_KEY",
        "GITHUB_APP_ID",
        "GITHUB_WEBHOOK_SECRET",
    ]
    assert all(line.startswith("tinydesk: ") for line in lines)
    assert "SECRET is 6 characters long, shorter than 16" in lines[3]


# -- what the log says (item 3) -------------------------------------------------------------


class Serve:
    """``tinydesk serve`` on ``--port 0``: the port is read from the "listening" line."""

    def __init__(self, cwd: Path, args: list[str], **settings: str) -> None:
        self.log_path = cwd / "serve.log"
        self.log_file = open(self.log_path, "w")
        env = environment(**settings)
        env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--port", "0", *args],
            cwd=cwd,
            env=env,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
        )

    def messages(self) -> list[dict]:
        lines = self.log_path.read_text().splitlines()
        return [json.loads(line) for line in lines]  # JSON lines: not a terminal

    def listening(self, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log_path.read_text()
            for entry in self.messages():
                if entry["message"].startswith("TinyDesk listening on "):
                    return entry["message"].removeprefix("TinyDesk listening on ")
            time.sleep(0.1)
        raise TimeoutError(self.log_path.read_text())

    def stop(self) -> list[dict]:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            self.process.wait(30)
        self.log_file.close()
        return self.messages()


def healthz(url: str) -> dict:
    with urllib.request.urlopen(f"{url}/healthz", timeout=5) as response:
        return json.load(response)


def test_debug_idle_server_logs_its_own_start_lines_and_no_dependency_lines(tmp_path):
    """TINYDESK_LOG_LEVEL=DEBUG used to log 142 aiosqlite lines in 7 idle seconds. The start
    lines say where the database is (absolute, created now), that the workers run here, what
    is missing for GitHub; "listening" comes after binding, with the port --port 0 got."""
    elsewhere = tmp_path / "started-here"
    elsewhere.mkdir()
    server = Serve(elsewhere, ["--host", "127.0.0.1"], TINYDESK_LOG_LEVEL="DEBUG")
    try:
        listening = server.listening()
        assert listening.startswith("http://127.0.0.1:") and not listening.endswith(":0")
        assert healthz(listening)["status"] == "ok"
        time.sleep(3)  # idle
    finally:
        entries = server.stop()
    loggers = {entry["logger"] for entry in entries}
    assert {name.split(".")[0] for name in loggers} <= set(OWN_LOGGERS), loggers
    messages = [entry["message"] for entry in entries]
    head = migrate.head_revision()
    assert (
        f"database: SQLite file {elsewhere}/tinydesk.db (created now: there was no file), "
        f"schema at revision {head}"
    ) in messages
    assert "workers run in this process: the webhook inbox and the GitHub outbox" in messages
    assert any(m.startswith("GitHub App not configured (missing GITHUB_APP_ID") for m in messages)
    # Said once, after the start lines: only once the port is bound and the app started.
    assert messages.index(f"TinyDesk listening on {listening}") > messages.index(
        "workers run in this process: the webhook inbox and the GitHub outbox"
    )


def test_debug_loggers_asked_for_are_shown(tmp_path):
    server = Serve(
        tmp_path,
        ["--host", "127.0.0.1"],
        TINYDESK_LOG_LEVEL="DEBUG",
        TINYDESK_DEBUG_LOGGERS="aiosqlite",
    )
    try:
        healthz(server.listening())
    finally:
        entries = server.stop()
    assert any(entry["logger"] == "aiosqlite" for entry in entries)


def test_all_interfaces_are_said_honestly_and_workers_off_is_said(tmp_path):
    """0.0.0.0 is not "localhost": the line says all interfaces, with a URL to open here.
    With TINYDESK_WORKERS=false the log says who works the deliveries; a configured App
    is named with its API URL; a database that existed is not "created"."""
    tinydesk(["db", "upgrade"], tmp_path)
    server = Serve(
        tmp_path,
        ["--host", "0.0.0.0"],
        TINYDESK_WORKERS="false",
        GITHUB_APP_ID="4242",
        GITHUB_PRIVATE_KEY=generate_app_key()[0],
        GITHUB_WEBHOOK_SECRET="a-webhook-secret-long-enough",
        GITHUB_API_URL="https://ghe.example.com/api/v3",
        TINYDESK_PUBLIC_URL="https://desk.example.com",
    )
    try:
        listening = server.listening()
        port = int(listening.split("port ", 1)[1].split(" ", 1)[0])
        assert listening == f"all interfaces, port {port} (http://localhost:{port})"
        assert healthz(f"http://127.0.0.1:{port}")["github"] == "configured"
    finally:
        messages = [entry["message"] for entry in server.stop()]
    assert f"database: SQLite file {tmp_path}/tinydesk.db, schema at revision " in "\n".join(
        messages
    )
    assert (
        "workers are off in this process (TINYDESK_WORKERS=false): deliveries are stored "
        "and worked by `tinydesk worker` (on SQLite, exactly one)"
    ) in messages
    assert "GitHub App 4242 configured for https://ghe.example.com/api/v3" in messages


def ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6 loopback here")
def test_an_ipv6_address_is_logged_in_brackets_with_the_real_port(tmp_path):
    server = Serve(tmp_path, ["--host", "::1"])
    try:
        listening = server.listening()
        assert listening.startswith("http://[::1]:") and not listening.endswith(":0")
        assert healthz(listening)["status"] == "ok"
    finally:
        server.stop()
