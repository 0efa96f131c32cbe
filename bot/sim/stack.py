"""The one launcher of the simulated stack: TinyDesk wired to a fake GitHub and a database.

TinyDesk runs either in this process (``Stack``: an aiohttp runner on a listening socket,
as ``tinydesk demo`` and the screenshots do) or as ``tinydesk serve`` subprocesses
(``ServerProcess``: the tests of whole servers and the benchmark). Either way the wiring
is the same: ``github_settings`` / ``github_env`` make TinyDesk the GitHub App whose API is
the fake, ``start_fake`` starts the fake (optionally held to GitHub's OpenAPI contract, or
with its rate limit lifted for load).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from aiohttp import web

from bot.app import create_app
from bot.config import Settings
from bot.http.protocol import TinyDeskRunner
from bot.sim.fakegithub import APP_ID, FakeGitHub, OpenAPIContract, generate_app_key
from storage import migrate
from storage.database import Database

# GitHub gives an installation 5,000+ requests an hour; a load test makes far more.
UNLIMITED = 10**9
NEVER = 2**31


# --------------------------------------------------------------------------- the fake


async def start_fake(
    *,
    openapi: OpenAPIContract | None = None,
    unlimited: bool = False,
    validate_responses: bool = True,
) -> FakeGitHub:
    """A started fake GitHub for the App ``APP_ID`` with the process's key pair; ``unlimited``
    lifts its rate limit so that a benchmark measures TinyDesk, not GitHub's budget."""
    fake = FakeGitHub(
        APP_ID,
        generate_app_key()[1],
        openapi=openapi,
        validate_responses=validate_responses,
    )
    await fake.start()
    if unlimited:
        fake.set_rate_limit(UNLIMITED, reset_at=NEVER)
    return fake


def github_settings(fake: FakeGitHub, webhook_secret: str, **values: Any) -> dict[str, Any]:
    """``Settings`` values that make TinyDesk the GitHub App whose API is ``fake``."""
    return {
        "github_app_id": str(fake.app_id),
        "github_private_key": generate_app_key()[0],
        "github_webhook_secret": webhook_secret,
        "github_api_url": fake.base_url,
        **values,
    }


def github_env(fake: FakeGitHub, webhook_secret: str | None = None) -> dict[str, str]:
    """The same wiring as environment variables, for a ``tinydesk serve`` subprocess."""
    env = {
        "GITHUB_APP_ID": str(fake.app_id),
        "GITHUB_PRIVATE_KEY": generate_app_key()[0],
        "GITHUB_API_URL": fake.base_url,
    }
    if webhook_secret is not None:
        env["GITHUB_WEBHOOK_SECRET"] = webhook_secret
    return env


# --------------------------------------------------------------------------- in process


def listening_socket(host: str, port: int) -> socket.socket:
    """Bind first, so that ``--port 0`` knows its port before the app (and its URLs) exist."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(128)
    sock.setblocking(False)
    return sock


def shown_url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("", "0.0.0.0") else "[::1]" if host == "::" else host
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


@dataclass
class Stack:
    """TinyDesk in this process on ``host:port`` (0: a free one), a fake GitHub and a
    database (a throwaway SQLite file unless ``database_url``); ``start`` then ``close``."""

    admin_token: str
    webhook_secret: str
    host: str = "127.0.0.1"
    port: int = 0
    database_url: str | None = None
    openapi: OpenAPIContract | None = None
    settings: dict[str, Any] = field(default_factory=dict)  # more Settings values
    fake: FakeGitHub | None = None
    db: Database | None = None
    base_url: str = ""
    workdir: Path | None = None
    runner: web.AppRunner | None = None

    async def start(self) -> Stack:
        """Start the fake, then bind, migrate and serve (``OSError`` if the port is taken)."""
        self.workdir = Path(tempfile.mkdtemp(prefix="tinydesk-demo-"))
        self.fake = await start_fake(openapi=self.openapi)
        sock = listening_socket(self.host, self.port)
        port = sock.getsockname()[1]
        self.base_url = shown_url(self.host, port)
        database_url = self.database_url or f"sqlite+aiosqlite:///{self.workdir / 'demo.db'}"
        settings = Settings(
            **github_settings(
                self.fake,
                self.webhook_secret,
                database_url=database_url,
                host=self.host,
                port=port,
                public_url=self.base_url,
                admin_token=self.admin_token,
                run_workers=True,
                **self.settings,
            )
        )
        self.db = Database(settings.database_url, pool_size=2)
        await migrate.upgrade(self.db.engine)
        self.runner = TinyDeskRunner(create_app(settings, db=self.db), access_log=None)
        await self.runner.setup()
        await web.SockSite(self.runner, sock).start()
        return self

    async def close(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
        if self.db is not None:
            await self.db.dispose()
        if self.fake is not None:
            await self.fake.close()
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)


# --------------------------------------------------------------------------- subprocesses


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def can_pin() -> bool:
    return shutil.which("taskset") is not None and (os.cpu_count() or 1) >= 2


def pinned(cpu: str | None, argv: list[str]) -> list[str]:
    """``argv`` under ``taskset -c cpu`` when asked and the machine allows it."""
    return ["taskset", "-c", cpu, *argv] if cpu is not None and can_pin() else argv


def serve_argv() -> list[str]:
    """``tinydesk serve`` on loopback; ``{port}`` is filled in by ``ServerProcess``."""
    return [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", "{port}"]


class ServerProcess:
    """A server process (``tinydesk serve`` unless ``argv``) on a free loopback port; its
    output goes to ``log_path``. ``cwd`` defaults to the log's folder (the tests keep each
    server's files apart there); ``cpu`` pins it to a core with taskset (the benchmark)."""

    def __init__(
        self,
        env: dict[str, str],
        log_path: Path,
        *,
        argv: list[str] | None = None,
        port: int | None = None,
        cwd: Path | None = None,
        cpu: str | None = None,
    ) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._log: IO[bytes] = open(log_path, "wb")  # closed by stop()
        command = [a.replace("{port}", str(self.port)) for a in (argv or serve_argv())]
        self.process = subprocess.Popen(
            pinned(cpu, command),
            env={**os.environ, **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=cwd or log_path.parent,
        )

    def wait_ready(self, path: str = "/healthz", timeout: float = 30.0) -> ServerProcess:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}{path}", timeout=2) as resp:
                    if resp.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        raise TimeoutError(f"server not ready after {timeout}s:\n{self.log()[-3000:]}")

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 15) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
