"""``tinydesk demo``: the whole journey against the built-in simulated GitHub."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import os
import re
import subprocess
import sys

import pytest

from bot.sim import demo
from bot.sim.demo import DemoOptions, run_demo
from bot.sim.events import Clock, Payloads
from webhooks.payload import parse_time, repository_of

STAGES_IN_ORDER = [
    "RECEIVED",
    "ISSUE_CREATED",
    "FIX_IN_PROGRESS",
    "FIX_IN_PROGRESS",
    "PR_OPEN",
    "CHANGES_REQUESTED",
    "PR_OPEN",
    "MERGED",
    "DEPLOYED",
    "CLOSED",
]


def stages_printed(output: str) -> list[str]:
    return re.findall(r"^✓ ([A-Z_]+) — ", output, flags=re.MULTILINE)


@pytest.mark.slow
def test_demo_once_plays_the_journey_and_exits_0():
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "demo", "--once", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert stages_printed(out) == STAGES_IN_ORDER
    assert re.search(r"Open the tracking page: http://127\.0\.0\.1:\d+/track/TK-00001\?token=", out)
    assert re.search(r"/admin +\(admin token: \S+\)", out)
    assert "status comment on issue #1 says Closed" in out
    assert out.rstrip().endswith("the ticket went from RECEIVED to CLOSED.")


async def test_demo_entry_point_and_the_tracking_history(monkeypatch):
    out = io.StringIO()
    history: list[str] = []
    original = demo.Demo.play

    async def play_then_read_history(self):
        await original(self)
        async with self.http.get(f"/api/tickets/{self.public_id}") as resp:
            history.extend(h["to"] for h in (await resp.json())["history"])

    monkeypatch.setattr(demo.Demo, "play", play_then_read_history)
    code = await asyncio.wait_for(run_demo(DemoOptions(port=0, once=True), out), 60)
    assert code == 0, out.getvalue()
    assert history == [s for i, s in enumerate(STAGES_IN_ORDER) if i != 3]  # draft moves nothing


async def test_demo_fails_with_a_clear_message_when_a_stage_is_not_reached(monkeypatch, capsys):
    async def never_closes(self, expected, event, payload):
        if expected == "CLOSED":
            # Only this wait is short: the outbox may take its idle poll (2 s) elsewhere.
            self.options = dataclasses.replace(self.options, timeout=1.5)
            payload["issue"]["state_reason"] = "reopened"  # not a close that finishes anything
            payload["issue"]["closed_at"] = None
            payload["action"] = "edited"
        await original(self, expected, event, payload)

    original = demo.Demo.step
    monkeypatch.setattr(demo.Demo, "step", never_closes)
    code = await run_demo(DemoOptions(port=0, once=True), io.StringIO())
    assert code == 1
    assert "CLOSED not reached within 1.5 s (the ticket is at DEPLOYED)" in capsys.readouterr().err


def test_payload_timestamps_increase_and_carry_what_handlers_read():
    p = Payloads("demo-org", "demo-app", 7, Clock())
    pr = {"number": 2, "body": "Fixes #1", "head_sha": "c" * 40, "author": "dev"}
    events = [
        p.issues_assigned(1, "Bug", "dev"),
        p.pull_request_event("opened", "dev", draft=True, **pr),
        p.review_submitted("approved", "rev", **pr),
        p.pull_request_event("closed", "dev", merge_commit_sha="a" * 40, **pr),
        p.deployment_status_created("b" * 40, 9),
        p.issues_closed(1, "Bug", ("dev",), "dev"),
    ]
    times = [
        parse_time(
            (body.get("review") or {}).get("submitted_at")
            or (body.get("deployment_status") or {}).get("updated_at")
            or (body.get("pull_request") or body.get("issue"))["updated_at"]
        )
        for _, body in events
    ]
    assert times == sorted(times) and len(set(times)) == len(times)
    for _, body in events:
        assert repository_of(body) == ("demo-org", "demo-app")
        assert body["installation"]["id"] == 7  # real deliveries carry its node_id too
        assert body["sender"]["type"] == "User"
    merged = events[3][1]["pull_request"]
    assert merged["merged"] is True and merged["merge_commit_sha"] == "a" * 40
    assert merged["merged_at"] == merged["closed_at"]
    assert events[4][1]["deployment"]["environment"] == "production"
    assert events[5][1]["issue"]["closed_at"] is not None
