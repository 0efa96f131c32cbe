"""The two fuzz targets, each a synchronous ``test_one_input(bytes)`` (what atheris calls)
around a real app and database on one event loop, and a ``mutate(bytes, max_size, seed)``
(atheris's custom mutator, also the random engine's)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
import tempfile
import urllib.parse
import uuid
from pathlib import Path
from typing import Any

from aiohttp import ClientError, ServerDisconnectedError
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bot.app import create_app
from bot.config import RateLimits, Settings
from bot.jobs.outcomes import GiveUp, RetryLater
from bot.rules.linking import pull_request_references
from fuzz import corpus
from fuzz.mutate import Mutator, dumps
from storage import migrate
from storage.database import Database
from storage.models import Delivery, Product, Ticket
from webhooks import payload as readers
from webhooks.inbox import InboxProcessor

SECRET = "fuzz-webhook-secret"
ADMIN_TOKEN = "fuzz-admin-token-" + "0123456789abcdef" * 2
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
# Bytes-level mutations (atheris's own) now and then: bodies that are not JSON at all.
BYTE_MUTATION_RATE = 0.1


class Finding(AssertionError):
    """What the fuzzer reports: a crash, a 5xx, or something stored unsigned."""


class Target:
    """One app, one database, one event loop for the whole run."""

    name = "target"

    def __init__(
        self,
        database_url: str | None = None,
        shared: Path | None = None,
    ) -> None:
        self.loop = asyncio.new_event_loop()
        self.tmp = tempfile.TemporaryDirectory(prefix="tinydesk-fuzz-")
        self.database_url = database_url or f"sqlite+aiosqlite:///{self.tmp.name}/fuzz.db"
        self.cases = corpus.cases(shared)
        self.mutator = Mutator([payload for _, payload in self.cases])
        self.client: TestClient | None = None
        self.db: Database | None = None
        self.loop.run_until_complete(self._start())

    async def _start(self) -> None:
        engine = create_async_engine(self.database_url, poolclass=NullPool)
        try:
            await migrate.upgrade(engine)
        finally:
            await engine.dispose()
        self.db = Database(self.database_url, pool_size=5)
        settings = Settings(
            admin_token=ADMIN_TOKEN,
            github_webhook_secret=SECRET,
            public_url="https://desk.example.test",
            run_workers=False,
            rate_limits=RateLimits(0, 0, 0, 0),
            log_level="CRITICAL",
        )
        self.client = TestClient(TestServer(create_app(settings, db=self.db)))
        await self.client.start_server()
        await self._seed()

    async def _seed(self) -> None:
        """The corpus's product (deployments tracked) with tickets on ``TICKETED_ISSUES``."""
        assert self.client is not None and self.db is not None
        resp = await self.client.post(
            "/api/admin/products",
            json={"slug": corpus.REPO, "repo": f"{corpus.OWNER}/{corpus.REPO}"},
            headers=ADMIN,
        )
        if resp.status == 409:
            return  # seeded by an earlier run on this scratch database
        assert resp.status == 201, await resp.text()
        for number in corpus.TICKETED_ISSUES:
            resp = await self.client.post(
                "/api/tickets",
                json={
                    "productSlug": corpus.REPO,
                    "submitterEmail": "fuzz@example.com",
                    "subject": f"Ticket for issue {number}",
                    "body": "Steps: fuzz",
                },
            )
            assert resp.status == 201, await resp.text()
        async with self.db.begin() as session:
            await session.execute(
                update(Product).values(installation_id=corpus.INSTALLATION_ID)
            )
            ids = (await session.scalars(select(Ticket.id).order_by(Ticket.id))).all()
            for ticket_id, number in zip(ids, corpus.TICKETED_ISSUES, strict=True):
                await session.execute(
                    update(Ticket).where(Ticket.id == ticket_id).values(issue_number=number)
                )

    def close(self) -> None:
        async def stop() -> None:
            if self.client is not None:
                await self.client.close()
            if self.db is not None:
                await self.db.dispose()

        self.loop.run_until_complete(stop())
        self.loop.close()
        self.tmp.cleanup()

    # -- what the engines call ------------------------------------------------------------

    def seeds(self) -> list[bytes]:
        raise NotImplementedError

    def test_one_input(self, data: bytes) -> None:
        self.loop.run_until_complete(self.run_one(data))

    async def run_one(self, data: bytes) -> None:
        raise NotImplementedError

    def mutate(self, data: bytes, max_size: int, seed: int) -> bytes:
        raise NotImplementedError

    async def stored(self) -> int:
        assert self.db is not None
        async with self.db.session() as session:
            return int(await session.scalar(select(func.count()).select_from(Delivery)) or 0)


def byte_mutate(data: bytes, max_size: int, rng: random.Random) -> bytes:
    """Bodies that are not JSON: bytes flipped, dropped or inserted."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        where = rng.randrange(len(out) + 1)
        choice = rng.randrange(3)
        if choice == 0 and out:
            out[min(where, len(out) - 1)] = rng.randrange(256)
        elif choice == 1:
            del out[where : where + rng.randint(1, 16)]
        else:
            out[where:where] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
    return bytes(out[:max_size])


# --------------------------------------------------------------------------- readers


class ReadersTarget(Target):
    """A payload, mutated as JSON, read by the readers and run through every handler."""

    name = "readers"

    def seeds(self) -> list[bytes]:
        return [self.encode(event, payload) for event, payload in self.cases]

    @staticmethod
    def encode(event: str, payload: Any) -> bytes:
        return dumps({"event": event, "payload": payload}).encode("utf-8")

    @staticmethod
    def decode(data: bytes) -> tuple[str, Any] | None:
        try:
            case = json.loads(data)
        except (ValueError, RecursionError):
            return None
        if not isinstance(case, dict) or not isinstance(case.get("event"), str):
            return None
        return case["event"], case.get("payload")

    def mutate(self, data: bytes, max_size: int, seed: int) -> bytes:
        rng = random.Random(seed)
        case = self.decode(data)
        if case is None:
            event, payload = rng.choice(self.cases)
        else:
            event, payload = case
        try:
            mutated = self.encode(
                self.mutator.mutate_event(rng, event), self.mutator.mutate_payload(rng, payload)
            )
        except RecursionError:  # nested past what copying can walk: start again from a seed
            event, payload = rng.choice(self.cases)
            return self.encode(event, payload)
        return mutated if len(mutated) <= max_size else data

    async def run_one(self, data: bytes) -> None:
        case = self.decode(data)
        if case is None:
            return
        event, payload = case
        if isinstance(payload, dict):
            read_everything(payload)
        text = dumps(payload)
        action = payload.get("action") if isinstance(payload, dict) else None
        delivery = Delivery(
            delivery_id=str(uuid.uuid4()),
            event=event[:64],
            action=action[:64] if isinstance(action, str) else None,
            payload=text,
        )
        assert self.db is not None
        try:
            await InboxProcessor(self.db, None, close_grace_seconds=0)(delivery)
        except RetryLater:
            pass
        except GiveUp as exc:
            if "unexpected payload shape" in str(exc):
                raise Finding(f"a handler could not read a {event} payload: {exc}") from exc


def read_everything(data: dict[str, Any]) -> None:
    """Every reader of webhooks/payload.py and the PR reference reader, on every object they
    are meant for; none may raise on any JSON."""
    readers.sender_login(data)
    repo = readers.repository_of(data)
    if repo is not None and not all(isinstance(part, str) for part in repo):
        raise Finding(f"repository_of gave {repo!r}")
    installation_id = readers.installation_id_of(data)
    if installation_id is not None and not isinstance(installation_id, int):
        raise Finding(f"installation_id_of gave {installation_id!r}")
    for key in ("issue", "pull_request", "review", "deployment", "deployment_status"):
        item = data.get(key)
        if not isinstance(item, dict):
            continue
        readers.as_int(item.get("number"))
        readers.as_int(item.get("id"))
        for field in ("created_at", "updated_at", "closed_at", "merged_at", "submitted_at"):
            readers.parse_time(item.get(field))
        if key == "pull_request":
            readers.pr_state(item)
            for number in pull_request_references(item, *(repo or ("o", "r"))):
                if not isinstance(number, int):
                    raise Finding(f"pull_request_references gave {number!r}")


# --------------------------------------------------------------------------- receiver

SIGNINGS = ("valid", "valid", "valid", "wrong", "none", "sha1", "garbage", "empty", "upper")
CONTENT_TYPES = (
    "application/json",
    "application/json; charset=utf-8",
    "application/x-www-form-urlencoded",
    "text/plain",
    "",
    "application/json\x7f",
    "multipart/form-data; boundary=x",
    None,
)
ODD_HEADERS = (
    "",
    " ",
    "x" * 65,
    "x" * 9000,
    "é",
    "\u202e",
    "../../etc/passwd",
    "0",
    "-1",
    "99999999999999999999",
    "issues",
    "ping",
    "gzip",
    "deflate",
    "br",
    "chunked",
)


class ReceiverTarget(Target):
    """Random bodies and headers posted to /webhooks/github: never a 5xx, nothing stored
    unless the signature is GitHub's."""

    name = "receiver"

    def seeds(self) -> list[bytes]:
        seeds = []
        for index, (event, payload) in enumerate(self.cases):
            spec = {"sign": "valid", "event": event, "delivery": f"seed-{index}"}
            seeds.append(self.encode(spec, json.dumps(payload).encode("utf-8")))
        return seeds

    @staticmethod
    def encode(spec: dict[str, Any], body: bytes) -> bytes:
        return json.dumps(spec).encode("utf-8") + b"\n" + body

    @staticmethod
    def decode(data: bytes) -> tuple[dict[str, Any], bytes]:
        head, _, body = data.partition(b"\n")
        try:
            spec = json.loads(head)
        except (ValueError, RecursionError):
            spec = None
        if not isinstance(spec, dict):
            return {"sign": "valid", "event": "issues", "delivery": "raw"}, data
        return spec, body

    def mutate(self, data: bytes, max_size: int, seed: int) -> bytes:
        rng = random.Random(seed)
        spec, body = self.decode(data)
        spec = dict(spec)
        choice = rng.randrange(10)
        if choice == 0:
            spec["sign"] = rng.choice(SIGNINGS)
        elif choice == 1:
            spec["content_type"] = rng.choice(CONTENT_TYPES)
        elif choice == 2:
            key = rng.choice(["event", "delivery"])
            spec[key] = rng.choice([*ODD_HEADERS, None, str(uuid.UUID(int=rng.getrandbits(128)))])
        elif choice == 3:
            name = rng.choice(
                [
                    "X-Hub-Signature",
                    "X-Hub-Signature-256",
                    "Content-Encoding",
                    "Transfer-Encoding",
                    "X-Extra",
                ]
            )
            spec.setdefault("headers", {})[name] = rng.choice(ODD_HEADERS)
        elif choice == 4:
            spec["form"] = not spec.get("form")
        elif choice == 5 or rng.random() < BYTE_MUTATION_RATE:
            body = byte_mutate(body, max(1, max_size - 512), rng)
        else:
            try:
                payload = json.loads(body)
            except (ValueError, RecursionError):
                payload = rng.choice(self.cases)[1]
            try:
                payload = self.mutator.mutate_payload(rng, payload)
            except RecursionError:
                payload = rng.choice(self.cases)[1]
            body = dumps(payload, rng).encode("utf-8", "surrogatepass")
        mutated = self.encode(spec, body)
        return mutated if len(mutated) <= max_size else data

    def request(self, spec: dict[str, Any], body: bytes) -> tuple[dict[str, str], bytes, bool]:
        """The headers and body ``spec`` describes, and whether GitHub could have signed it."""
        if spec.get("form"):
            body = b"payload=" + urllib.parse.quote_from_bytes(body).encode("ascii")
            content_type = "application/x-www-form-urlencoded"
        else:
            content_type = "application/json"
        headers: dict[str, str] = {}
        if "content_type" in spec:
            content_type = spec["content_type"]
        if isinstance(content_type, str):
            headers["Content-Type"] = content_type
        for name, key in (("X-GitHub-Event", "event"), ("X-GitHub-Delivery", "delivery")):
            if isinstance(spec.get(key), str):
                headers[name] = spec[key]
        digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        sign = spec.get("sign")
        signed = sign == "valid"
        if sign == "valid":
            headers["X-Hub-Signature-256"] = f"sha256={digest}"
        elif sign == "wrong":
            wrong = hmac.new(b"not-the-secret", body, hashlib.sha256).hexdigest()
            headers["X-Hub-Signature-256"] = f"sha256={wrong}"
        elif sign == "sha1":
            sha1 = hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest()
            headers["X-Hub-Signature"] = f"sha1={sha1}"
        elif sign == "garbage":
            headers["X-Hub-Signature-256"] = "sha256=zz" + digest[2:]
        elif sign == "empty":
            headers["X-Hub-Signature-256"] = ""
        elif sign == "upper":
            headers["X-Hub-Signature-256"] = f"SHA256={digest.upper()}"
            signed = False  # whether it counts is gidgethub's call; either way, no 5xx
        extra = spec.get("headers")
        if isinstance(extra, dict):
            for name, value in extra.items():
                if isinstance(name, str) and isinstance(value, str):
                    headers[name] = value
                    if name.lower() == "x-hub-signature-256":
                        signed = False
        # What an HTTP client can send at all (aiohttp refuses the rest before the wire).
        headers = {
            name: "".join(c for c in value if c not in "\r\n\x00")
            for name, value in headers.items()
            if name and all(33 <= ord(c) < 127 and c != ":" for c in name)
        }
        return headers, body, signed

    async def run_one(self, data: bytes) -> None:
        spec, body = self.decode(data)
        headers, body, signed = self.request(spec, body)
        # Unique per run: a "duplicate" answer must not hide whether this one was stored.
        if "X-GitHub-Delivery" in headers and headers["X-GitHub-Delivery"] not in ODD_HEADERS:
            headers["X-GitHub-Delivery"] = uuid.uuid4().hex
        assert self.client is not None
        before = await self.stored()
        try:
            resp = await self.client.post(
                "/webhooks/github", data=body, headers=headers, skip_auto_headers=["Content-Type"]
            )
        except ServerDisconnectedError as exc:
            raise Finding(f"the server hung up on {headers!r}") from exc
        except (ValueError, ClientError, UnicodeEncodeError):
            return  # the client refused to send it: not a request the server can see
        text = await resp.text()
        after = await self.stored()
        if resp.status >= 500:
            raise Finding(f"{resp.status} for {headers!r}: {text[:500]}")
        if resp.content_type == "application/json" and resp.status >= 400:
            answer = json.loads(text)
            if not (isinstance(answer, dict) and answer.get("error") and answer.get("hint")):
                raise Finding(f"{resp.status} without error and hint: {text[:200]}")
        if after != before and not signed:
            raise Finding(f"stored an unsigned delivery ({resp.status}) for {headers!r}")
        if resp.status == 202 and not signed and spec.get("sign") != "upper":
            raise Finding(f"accepted an unsigned delivery for {headers!r}")
        if resp.status == 202 and after == before and "duplicate" not in text:
            raise Finding(f"202 without storing for {headers!r}: {text[:200]}")


TARGETS: dict[str, type[Target]] = {"readers": ReadersTarget, "receiver": ReceiverTarget}
