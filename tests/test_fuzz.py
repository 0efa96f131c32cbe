"""The fuzz targets (``fuzz/``; README, "Development") run for a fixed number of inputs with a
fixed seed on every backend, fed with the real payloads of ``../shared``; and each crash they
found stays fixed (the inputs that found them, reduced)."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.appkeys import DB
from bot.github.comments import marked_ticket
from bot.rules.timestamps import parse_time
from fuzz import corpus
from storage.models import Delivery
from tests.payloads import delivery_headers, encode
from tests.shared import shared_dir
from tests.world import WEBHOOK_SECRET
from webhooks.payload import (
    as_int,
    as_number,
    as_text,
    installation_id_of,
    repository_of,
    sender_login,
)

ROOT = Path(__file__).resolve().parents[1]
# Inputs per target: about ten seconds each on SQLite (the seeds first, then mutations).
RUNS = {"readers": 2000, "receiver": 1200}


@pytest.mark.slow
@pytest.mark.parametrize("target", ["readers", "receiver"])
def test_fuzz_target_finds_nothing(target: str, database_url: str, tmp_path: Path):
    """No exception escapes the readers or a handler on any mutated payload; the receiver
    answers no 5xx and stores nothing unsigned (fuzz/targets.py says what each checks)."""
    shared_dir()  # without ../shared the corpus would be the packaged shapes only
    files = list(corpus.payload_files())
    assert len(files) > 150  # the shapes, the examples and the real captures
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "fuzz",
            target,
            "--runs",
            str(RUNS[target]),
            "--seed",
            "1",
            "--database",
            database_url,
            "--artifacts",
            str(tmp_path),
            "--corpus-dir",
            str(tmp_path / "corpus"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    assert f"{len(files)} payloads in the corpus" in output
    # libFuzzer's final stats, or the random engine's last line (without atheris).
    ran = re.search(r"stat::number_of_executed_units: *(\d+)|done: (\d+) runs", output)
    assert ran, output[-2000:]
    assert int(ran.group(1) or ran.group(2)) >= RUNS[target], output[-2000:]
    assert not list(tmp_path.glob("crash-*"))


def test_readers_take_any_json_without_raising():
    """What the fuzzer found in webhooks/payload.py, bot/rules/timestamps.py and
    bot/github/comments.py: each of these raised before."""
    assert parse_time(1e20) is None  # OverflowError: beyond year 9999
    assert parse_time(float("nan")) is None  # ValueError
    assert parse_time(-(10**30)) is None
    assert parse_time("0001-01-01T00:00:00+01:00") is None  # OverflowError once in UTC
    utc = dt.datetime(2026, 1, 2, 1, 4, 5, tzinfo=dt.UTC)
    assert parse_time("2026-01-02T03:04:05+02:00") == utc
    assert as_int(2**63) is None and as_int(-(2**63) - 1) is None and as_int(2**63 - 1)
    assert as_int(True) is None
    assert as_number(2**31) is None and as_number(0) is None and as_number(7) == 7
    assert installation_id_of({"installation": "1"}) is None
    assert installation_id_of({"installation": {"id": True}}) is None
    assert installation_id_of({"installation": {"id": 2**64}}) is None
    assert sender_login({"sender": {"login": ["a"]}}) is None
    assert sender_login({"sender": {"login": "x" * 201}}) is None
    assert as_text(["sha"], 64) is None and as_text("a" * 65, 64) is None
    assert marked_ticket(1.5) is None and marked_ticket(["x"]) is None
    assert as_text("a\x00b", 64) is None
    assert repository_of({"repository": {"name": "r\x00", "owner": {"login": "o"}}}) is None
    assert repository_of({"repository": {"full_name": "o/r"}}) == ("o", "r")
    assert repository_of({"repository": {"full_name": "o/"}}) is None


@pytest.mark.parametrize(
    "event, payload",
    [
        # AttributeError: the installation was a string.
        ("installation", {"action": "created", "installation": "x", "repositories": []}),
        ("installation", {"action": "deleted", "installation": [1]}),
        # TypeError: repositories was a number.
        ("installation", {"action": "created", "installation": {"id": 5}, "repositories": 3}),
        # OverflowError from SQLite: an installation id beyond 64 bits.
        ("installation", {"action": "deleted", "installation": {"id": 2**64}}),
        # TypeError: a float issue body in the lost-answer recovery.
        ("issues", {"action": "opened", "issue": {"number": 1, "body": 1.5}}),
        # TypeError: an unhashable action in gidgethub's router.
        ("issues", {"action": {"a": 1}, "issue": {"number": 1}}),
        # PostgreSQL: "invalid byte sequence for encoding UTF8: 0x00" (retried for ever).
        (
            "issues",
            {
                "action": "assigned",
                "issue": {"number": 1},
                "repository": {"name": "my-saas-app\x00", "owner": {"login": "octo-org"}},
            },
        ),
        (
            "installation",
            {
                "action": "created",
                "installation": {"id": 5},
                "repositories": [{"full_name": "octo-org/my-saas-app\x00"}],
            },
        ),
        (
            "pull_request_review",
            {
                "action": "submitted",
                "review": {"state": "approved", "user": {"login": "r\x00"}},
                "pull_request": {"number": 3},
                "repository": {"full_name": "octo-org/my-saas-app"},
            },
        ),
    ],
)
async def test_payloads_the_fuzzer_found_are_answered_and_processed(world, event, payload):
    """Each was signed, accepted, and then crashed a handler (parked as failed with a
    TypeError or worse); now it is processed, or parked with a reason of its own."""
    resp = await world.post(event, payload)
    assert resp.status == 202, await resp.text()
    await world.settle()
    states = await world.queue_states()
    if isinstance(payload["action"], str):
        assert states["deliveries"]["done"] == 1, states
    else:
        assert states["deliveries"]["failed"] == 1, states


async def test_a_body_that_does_not_decode_as_its_content_encoding_is_a_400(world):
    """``Content-Encoding: gzip`` on a plain body was a 500 (aiohttp's RequestPayloadError)."""
    body = encode({"zen": "hi"})
    headers = delivery_headers("ping", body, WEBHOOK_SECRET)
    headers["Content-Encoding"] = "gzip"
    resp = await world.client.post("/webhooks/github", data=body, headers=headers)
    assert resp.status == 400
    assert (await resp.json())["hint"]


async def test_a_form_body_whose_json_is_not_utf8_text_is_a_400(world):
    """A form-encoded body's JSON may escape a lone surrogate; stored, its action was a 500
    on PostgreSQL (asyncpg cannot encode it). It is refused like malformed JSON now."""
    payload = '{"action": "submitted\\udfff", "zen": "hi"}'
    body = ("payload=" + urllib.parse.quote(payload)).encode("ascii")
    headers = delivery_headers("ping", body, WEBHOOK_SECRET)
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    resp = await world.client.post("/webhooks/github", data=body, headers=headers)
    assert resp.status == 400, await resp.text()
    assert sum((await world.queue_states())["deliveries"].values()) == 0


async def test_an_action_holding_nul_is_refused_and_nothing_stored(world):
    """``"action": "a\\u0000b"`` was a 500 on PostgreSQL (text cannot hold NUL): it is a 400
    naming the action, and nothing is stored."""
    resp = await world.post("issues", {"action": "opened\x00", "issue": {"number": 1}})
    assert resp.status == 400, await resp.text()
    assert "action" in (await resp.json())["hint"]
    async with world.client.app[DB].session() as session:
        assert (await session.scalars(select(Delivery))).all() == []
