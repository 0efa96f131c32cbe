"""The peers: other webhook receivers, measured under the baseline's own verify-POST load.

Each peer is a server the ``peers`` scenario (``bench/scenarios.py``) starts on CPU 0 as it
starts the baseline: the baseline on uvloop (``bench/baseline.py --uvloop``) and aiohttp
with gidgethub (``bench/peers/gidgethub_router.py``). A peer that cannot run here (no
uvloop) is a row with the reason instead of figures; it never fails a run.

Before a peer is loaded, ``check_verifies`` sends it a delivery with a wrong signature,
which must be refused with a 4xx, and each real delivery, which must be answered with a
2xx: a peer that skipped the signature check cannot be measured as fast.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import importlib.util
import sys
import urllib.error
import urllib.request

WEBHOOK_PATH = "/webhook"

Delivery = tuple[str, dict[str, str], bytes]


@dataclasses.dataclass
class Peer:
    """A server to measure, or the reason it is not measured (``skipped``)."""

    name: str  # the row's endpoint: unique among all rows (ratios find their base by it)
    argv: list[str]
    env: dict[str, str] = dataclasses.field(default_factory=dict)
    ready_path: str = "/healthz"
    versions: str = ""
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
