"""The peers: other webhook receivers, measured under the baseline's own verify-POST load.

Each peer is a server the ``peers`` scenario (``bench/scenarios.py``) starts on CPU 0 as it
starts the baseline. Python peers: the baseline on uvloop (``bench/baseline.py --uvloop``)
and aiohttp with gidgethub (``bench/peers/gidgethub_router.py``). Node peers, in
``bench/peers/node`` (exact versions pinned by its ``package-lock.json``, installed here with
``npm ci`` when ``node_modules`` is missing): @octokit/webhooks on node:http, Probot's
middleware on node:http, and ``probot run``. A peer that cannot run here (no uvloop, no
node, the install failed) is a row with the reason instead of figures; it never fails a run.

Before a peer is loaded, ``check_verifies`` sends it a delivery with a wrong signature,
which must be refused with a 4xx, and each real delivery, which must be answered with a
2xx: a peer that skipped the signature check cannot be measured as fast.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import importlib.util
import json
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

NODE_DIR = Path(__file__).resolve().with_name("node")
NPM_TIMEOUT = 180  # seconds: an unreachable registry must not hold a run for long
WEBHOOK_PATH = "/webhook"

Delivery = tuple[str, dict[str, str], bytes]


@dataclasses.dataclass
class Peer:
    """A server to measure, or the reason it is not measured (``skipped``)."""

    name: str  # the row's endpoint: unique among all rows (ratios find their base by it)
    argv: list[str]
    env: dict[str, str] = dataclasses.field(default_factory=dict)
    ready_path: str = "/healthz"
    cwd: Path | None = None
    versions: str = ""
    runtime: str = "python"  # or "node"
    skipped: str | None = None


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def python_peers() -> list[Peer]:
    uvloop = Peer(
        "aiohttp on uvloop, verify POST",
        [sys.executable, "-m", "bench.baseline", "--uvloop", "--port", "{port}"],
        versions=f"aiohttp {_version('aiohttp')}, uvloop {_version('uvloop')}",
    )
    if importlib.util.find_spec("uvloop") is None:
        uvloop.skipped = "uvloop is not installed (pip install -e '.[test]')"
    gidgethub = Peer(
        "aiohttp + gidgethub Event.from_http + Router",
        [sys.executable, "-m", "bench.peers.gidgethub_router", "--port", "{port}"],
        versions=f"aiohttp {_version('aiohttp')}, gidgethub {_version('gidgethub')}",
    )
    return [uvloop, gidgethub]


def node_install(log=print) -> tuple[str | None, str]:
    """(None, node's version) when the node peers can run, else (the reason, "")."""
    node = shutil.which("node")
    if node is None:
        return "node is not installed", ""
    try:
        version = subprocess.run(
            [node, "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        return f"node --version failed: {exc}", ""
    try:
        major, minor = (int(part) for part in version.lstrip("v").split(".")[:2])
    except ValueError:
        return f"node --version said {version!r}", ""
    if (major, minor) < (20, 18):
        return f"node {version} is older than the 20.18 Probot 14 needs", version
    # npm writes this file last: without it an install is missing or was cut short.
    if (NODE_DIR / "node_modules" / ".package-lock.json").exists():
        return None, version
    npm = shutil.which("npm")
    if npm is None:
        return "npm is not installed (node_modules is missing)", version
    argv = [npm, "ci", "--prefix", str(NODE_DIR), "--no-audit", "--no-fund", "--fetch-retries=1"]
    argv.append("--loglevel=error")
    log(f"peers: installing the node peers ({' '.join(argv[1:])}) ...")
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=NPM_TIMEOUT)
    except subprocess.TimeoutExpired:
        return f"npm ci did not finish in {NPM_TIMEOUT} s", version
    except OSError as exc:
        return f"npm ci could not start: {exc}", version
    if done.returncode != 0:
        return f"npm ci failed: {_npm_said(done.stderr or done.stdout)}", version
    return None, version


def _npm_said(output: str) -> str:
    """npm's own words for a failure: its error code and message, without the stack."""
    said = []
    for line in output.splitlines():
        text = line.removeprefix("npm error").removeprefix("npm ERR!").strip()
        if text and not text.startswith(("at ", "syscall", "errno", "{", "}")):
            said.append(text)
    return " / ".join(said[:2])[:240] or "no message"


def _node_version_of(package: str) -> str:
    try:
        meta = json.loads((NODE_DIR / "node_modules" / package / "package.json").read_text())
        return str(meta["version"])
    except (OSError, ValueError, KeyError):
        return "?"


def throwaway_private_key() -> str:
    """A new RSA key for the Probot peers' app id (never used: no call reaches GitHub)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def node_peers(log=print) -> list[Peer]:
    reason, node_version = node_install(log)
    probot_env = {
        "APP_ID": "1",
        "PRIVATE_KEY": throwaway_private_key() if reason is None else "",
        # as deployed; the probot peers then log as JSON, and at warn (no line per request)
        "NODE_ENV": "production",
    }
    octokit = f"node {node_version}, @octokit/webhooks {_node_version_of('@octokit/webhooks')}"
    probot = f"node {node_version}, probot {_node_version_of('probot')}"
    node = shutil.which("node") or "node"
    peers = [
        Peer(
            "@octokit/webhooks verifyAndReceive on node:http",
            [node, str(NODE_DIR / "octokit.mjs"), "--port", "{port}"],
            env={"NODE_ENV": "production"},
            versions=octokit,
        ),
        Peer(
            "Probot createNodeMiddleware on node:http",
            [node, str(NODE_DIR / "probot-middleware.mjs"), "--port", "{port}"],
            env=probot_env,
            versions=probot,
        ),
        Peer(
            "probot run (Probot's own server)",
            [node, str(NODE_DIR / "probot-run.mjs"), "--port", "{port}"],
            env=probot_env,
            ready_path="/ping",
            versions=probot,
        ),
    ]
    for peer in peers:
        peer.cwd = NODE_DIR  # Probot reads a .env and package.json from its working directory
        peer.runtime = "node"
        peer.skipped = reason
    return peers


def with_path(bodies: list[Delivery], path: str = WEBHOOK_PATH) -> list[Delivery]:
    return [(path, headers, body) for _, headers, body in bodies]


def _post(url: str, headers: dict[str, str], body: bytes) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as exc:
        exc.read()
        return exc.code


def check_verifies(base_url: str, bodies: list[Delivery]) -> str | None:
    """None when the server refuses a wrong signature with a 4xx and answers every real
    delivery with a 2xx; else what it did instead."""
    path, headers, body = bodies[0]
    forged = {
        **headers,
        "X-Hub-Signature-256": "sha256=" + "0" * 64,
        "X-GitHub-Delivery": "peer-check-forged",
    }
    status = _post(base_url + path, forged, body)
    if not 400 <= status < 500:
        return f"a delivery with a wrong signature was answered {status}, not 4xx"
    for k, (path, headers, body) in enumerate(bodies):
        status = _post(base_url + path, {**headers, "X-GitHub-Delivery": f"peer-check-{k}"}, body)
        if not 200 <= status < 300:
            event = headers.get("X-GitHub-Event")
            return f"a correctly signed {event} delivery was answered {status}, not 2xx"
    return None
