"""Load generators: wrk (with a Lua script) when installed, else a Python aiohttp client.

Both return the same figures: requests, seconds, requests/s, p50/p95/p99 in milliseconds and
errors (a transport error or any status >= 400). Every run is bounded in time and count.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import secrets
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.procs import LOAD_CPU, pinned


@dataclasses.dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    body: bytes | None = None


@dataclasses.dataclass
class Target:
    """What to ask for: a printf path over a random number range, a list of paths cycled,
    or a list of POST bodies cycled, each sent with a new ``X-GitHub-Delivery``."""

    method: str = "GET"
    path_format: str | None = None  # e.g. "/api/tickets/TK-%05d"
    number_range: tuple[int, int] = (1, 1)
    paths: list[str] | None = None
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    # POST: (path, headers, body) cycled; "X-GitHub-Delivery" is made unique per request.
    posts: list[tuple[str, dict[str, str], bytes]] | None = None
    delivery_prefix: str = "bench"
    # GET: each request from one of this many client addresses (X-Forwarded-For, for a
    # server behind TINYDESK_TRUST_PROXY); 0: all from the load generator's own.
    clients: int = 0

    def request(self, i: int, rng) -> Request:
        if self.posts:
            path, headers, body = self.posts[i % len(self.posts)]
            return Request(
                "POST", path, {**headers, "X-GitHub-Delivery": f"{self.delivery_prefix}-{i}"}, body
            )
        if self.paths:
            return Request(self.method, self.paths[i % len(self.paths)], self.headers)
        assert self.path_format is not None
        headers = self.headers
        if self.clients:
            k = rng.randrange(self.clients)
            headers = {**headers, "X-Forwarded-For": f"10.{k >> 16 & 255}.{k >> 8 & 255}.{k & 255}"}
        return Request(self.method, self.path_format % rng.randint(*self.number_range), headers)


def _lua_string(text: str) -> str:
    return "[==[" + text + "]==]"


def wrk_script(target: Target, workdir: Path) -> Path:
    lines = ["local counter = 0"]
    for name, value in target.headers.items():
        lines.append(f"wrk.headers[ {_lua_string(name)} ] = {_lua_string(value)}")
    if target.posts:
        lines.append("local bodies, paths, sigs, events = {}, {}, {}, {}")
        for i, (path, headers, body) in enumerate(target.posts):
            body_file = workdir / f"body{i}.json"
            body_file.write_bytes(body)
            lines.append(
                f"do local f = io.open({_lua_string(str(body_file))}, 'rb'); "
                f"bodies[{i + 1}] = f:read('*a'); f:close() end"
            )
            lines.append(f"paths[{i + 1}] = {_lua_string(path)}")
            lines.append(f"sigs[{i + 1}] = {_lua_string(headers['X-Hub-Signature-256'])}")
            lines.append(f"events[{i + 1}] = {_lua_string(headers['X-GitHub-Event'])}")
        lines.append(f"local n = {len(target.posts)}")
        lines.append(f"local prefix = {_lua_string(target.delivery_prefix)}")
        lines.append("""
request = function()
  counter = counter + 1
  local k = (counter % n) + 1
  local h = {}
  h["Content-Type"] = "application/json"
  h["User-Agent"] = "GitHub-Hookshot/bench"
  h["X-GitHub-Event"] = events[k]
  h["X-Hub-Signature-256"] = sigs[k]
  h["X-GitHub-Delivery"] = prefix .. "-" .. counter
  return wrk.format("POST", paths[k], h, bodies[k])
end""")
    elif target.paths:
        lines.append("local paths = {" + ",".join(_lua_string(p) for p in target.paths) + "}")
        lines.append(f"""
request = function()
  counter = counter + 1
  return wrk.format({_lua_string(target.method)}, paths[(counter % #paths) + 1])
end""")
    else:
        lo, hi = target.number_range
        method = _lua_string(target.method)
        path_format = _lua_string(target.path_format or "/")
        lines.append(f"""
math.randomseed(os.time())
request = function()
  return wrk.format({method}, string.format({path_format}, math.random({lo}, {hi})))
end""")
    lines.append("""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests":%d,"duration_us":%d,"p50":%d,"p95":%d,"p99":%d,' ..
    '"status_errors":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), e.status, e.connect, e.read, e.write, e.timeout))
end""")
    script = workdir / "bench.lua"
    script.write_text("\n".join(lines) + "\n")
    return script


def run_wrk(wrk: str, base_url: str, target: Target, *, seconds: float, connections: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        script = wrk_script(target, Path(tmp))
        argv = pinned(
            LOAD_CPU,
            [
                wrk,
                "-t1",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "10s",
                "-s",
                str(script),
                base_url,
            ],
        )
        out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    found = re.search(r"WRKJSON (\{.*\})", out.stdout)
    if not found:
        raise RuntimeError(f"wrk failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    raw = json.loads(found.group(1))
    duration = raw["duration_us"] / 1e6
    socket_errors = raw["connect"] + raw["read"] + raw["write"] + raw["timeout"]
    return {
        "tool": "wrk",
        "requests": raw["requests"],
        "seconds": round(duration, 3),
        "rps": round(raw["requests"] / duration, 1) if duration else 0.0,
        "p50_ms": raw["p50"] / 1000,
        "p95_ms": raw["p95"] / 1000,
        "p99_ms": raw["p99"] / 1000,
        "errors": raw["status_errors"] + socket_errors,
        "connections": connections,
    }


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(q / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[index]


async def run_python(
    base_url: str,
    target: Target | Callable[[int], Request],
    *,
    seconds: float,
    connections: int,
    max_requests: int | None = None,
    ok: Callable[[int], bool] = lambda status: status < 400,
) -> dict:
    """A closed-loop load of ``connections`` concurrent clients, for ``seconds`` or
    ``max_requests`` requests, whichever ends first."""
    import random

    import aiohttp

    rng = random.Random(1)
    make = target.request if isinstance(target, Target) else (lambda i, _rng: target(i))
    latencies: list[float] = []
    errors: list[str] = []
    counter = iter(range(max_requests if max_requests is not None else 10**12))
    deadline = time.monotonic() + seconds

    async def client(http: aiohttp.ClientSession) -> None:
        for i in counter:
            if time.monotonic() >= deadline:
                return
            req = make(i, rng)
            started = time.perf_counter()
            try:
                async with http.request(
                    req.method, base_url + req.path, headers=req.headers, data=req.body
                ) as resp:
                    await resp.read()
                    if not ok(resp.status):
                        errors.append(f"{req.method} {req.path}: {resp.status}")
            except (TimeoutError, aiohttp.ClientError) as exc:
                errors.append(f"{req.method} {req.path}: {exc!r}")
            latencies.append((time.perf_counter() - started) * 1000)

    connector = aiohttp.TCPConnector(limit=connections)
    timeout = aiohttp.ClientTimeout(total=30)
    started = time.perf_counter()
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        await asyncio.gather(*(client(http) for _ in range(connections)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "tool": "python",
        "requests": len(latencies),
        "seconds": round(elapsed, 3),
        "rps": round(len(latencies) / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(percentile(latencies, 50), 3),
        "p95_ms": round(percentile(latencies, 95), 3),
        "p99_ms": round(percentile(latencies, 99), 3),
        "errors": len(errors),
        "error_samples": errors[:5],
        "connections": connections,
    }


def measure(
    base_url: str, target: Target, *, wrk: str | None, seconds: float, connections: int
) -> dict:
    """One run with wrk if there is one, else with the Python client (which alone sends
    requests from many client addresses). Every run numbers its deliveries afresh, so each
    gets a prefix of its own: a warm-up and the runs after it would otherwise send the same
    delivery ids again, measuring the cheaper "already queued" answer instead of a store."""
    if target.posts:
        run = secrets.token_hex(4)
        target = dataclasses.replace(target, delivery_prefix=f"{target.delivery_prefix}-{run}")
    if wrk and not target.clients:
        return run_wrk(wrk, base_url, target, seconds=seconds, connections=connections)
    return asyncio.run(run_python(base_url, target, seconds=seconds, connections=connections))
