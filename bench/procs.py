"""Processes the benchmark starts: servers pinned to one core, wrk installed on demand.

The servers are ``bot.sim.stack.ServerProcess`` (the launcher the tests use too) with what
only a benchmark needs: CPU pinning, TinyDesk's own rate limits off, profiles, CPU and RSS.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bot.sim.stack import ServerProcess, can_pin, pinned, serve_argv  # noqa: F401  (load.py pins wrk)

ROOT = Path(__file__).resolve().parents[1]
SERVER_CPU = "0"
LOAD_CPU = "1"

# Load tests must not be throttled by TinyDesk's own per-client limits.
NO_RATE_LIMITS = {
    "TINYDESK_PUBLIC_CREATE_RATE_LIMIT": "0",
    "TINYDESK_PUBLIC_READ_RATE_LIMIT": "0",
    "TINYDESK_DESK_RATE_LIMIT": "0",
    "TINYDESK_DESK_CREATE_RATE_LIMIT": "0",
}


def pin_self(cpu: str = LOAD_CPU) -> None:
    """Keep the load generator (and the fake GitHub) off the server's core."""
    if can_pin() and hasattr(os, "sched_setaffinity"):
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, {int(cpu)})


def ensure_wrk() -> str | None:
    """The path of wrk, installing Debian's package if it is missing; None if impossible."""
    found = shutil.which("wrk")
    if found:
        return found
    if not shutil.which("apt-get"):
        return None
    prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
    print("bench: installing wrk (apt-get install -y wrk) ...", file=sys.stderr)
    for argv in ([*prefix, "apt-get", "install", "-y", "-q", "wrk"],):
        try:
            subprocess.run(
                argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=180
            )
        except (OSError, subprocess.SubprocessError):
            try:  # the package lists may be missing on a fresh machine
                subprocess.run(
                    [*prefix, "apt-get", "update", "-q"],
                    check=True,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    timeout=180,
                )
                subprocess.run(
                    argv,
                    check=True,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    timeout=180,
                )
            except (OSError, subprocess.SubprocessError):
                return None
    return shutil.which("wrk")


class Server(ServerProcess):
    """A server process (``tinydesk serve`` or the bare baseline) on a free loopback port,
    pinned to the server's core, run from the checkout (``bot.sim.stack.ServerProcess``)."""

    def __init__(
        self,
        argv: list[str],
        env: dict[str, str],
        log_path: Path,
        *,
        port: int | None = None,
        cpu: str = SERVER_CPU,
        cwd: Path | None = None,
    ) -> None:
        super().__init__(env, log_path, argv=argv, port=port, cwd=cwd or ROOT, cpu=cpu)

    @classmethod
    def tinydesk(cls, env: dict[str, str], log_path: Path, **kw) -> Server:
        return cls(serve_argv(), {**NO_RATE_LIMITS, **env}, log_path, **kw)

    def wait_ready(self, path: str = "/healthz", timeout: float = 60.0) -> Server:
        super().wait_ready(path, timeout)
        return self

    def profile(self, path: Path, seconds: float) -> subprocess.Popen | None:
        """Sample the server with py-spy (if installed) for ``seconds``: raw stacks to ``path``."""
        spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        if not os.path.exists(spy):
            return None
        argv = [
            spy,
            "record",
            "-p",
            str(self.process.pid),
            "-d",
            str(max(1, round(seconds))),
            "-r",
            "200",
            "-f",
            "raw",
            "-o",
            str(path),
        ]
        return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def cpu_seconds(self) -> float:
        """User + system CPU time the server has used so far (all its threads)."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def wait_idle(self, *, timeout: float = 60.0) -> None:
        """Until the server stops working off what a finished load left queued (a slow
        request still running would steal the next measurement's CPU)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            before = self.cpu_seconds()
            time.sleep(0.25)
            if self.cpu_seconds() - before < 0.025:
                return

    def rss_mb(self) -> float | None:
        """Resident memory of the server (the python process, not taskset)."""
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return None

    def stop(self, timeout: float = 15) -> None:
        super().stop(timeout)

    def __enter__(self) -> Server:
        return self
