"""A real SMTP server for tests (aiosmtpd) that keeps every message TinyDesk sends it.

    async with MailSink() as sink:
        settings = ... TINYDESK_SMTP_URL=sink.url ...
        message = await sink.wait_for(lambda m: m["To"] == "ada@example.com")

Messages are parsed with the standard library's ``email`` package (policy ``default``), so
tests read headers and parts the way a mail client would.
"""

from __future__ import annotations

import asyncio
import dataclasses
import email
import email.policy
import socket
from collections.abc import Callable
from email.message import EmailMessage
from types import TracebackType

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclasses.dataclass
class Received:
    envelope_from: str
    envelope_to: list[str]
    message: EmailMessage
    raw: bytes


class _Recorder:
    def __init__(self, sink: MailSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if isinstance(envelope.content, bytes) and not raw:
            raw = envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.sink.received.append(
            Received(
                envelope_from=str(envelope.mail_from),
                envelope_to=list(envelope.rcpt_tos),
                message=message,
                raw=raw,
            )
        )
        self.sink.changed.set()
        reply = self.sink.reply
        return reply if reply is not None else "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class MailSink:
    """``reply``: set to e.g. ``"451 try again later"`` to refuse messages for a while."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[Received] = []
        self.changed = asyncio.Event()
        self.reply: str | None = None
        self._controller = Controller(_Recorder(self), hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def messages(self) -> list[EmailMessage]:
        return [item.message for item in self.received]

    async def __aenter__(self) -> MailSink:
        await asyncio.to_thread(self._controller.start)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self._controller.stop)

    async def wait_for(
        self, matches: Callable[[EmailMessage], bool], *, seconds: float = 10.0
    ) -> EmailMessage:
        """The first message received that ``matches``, waiting up to ``seconds``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            for message in self.messages:
                if matches(message):
                    return message
            remaining = deadline - loop.time()
            if remaining <= 0:
                subjects = [message["Subject"] for message in self.messages]
                raise AssertionError(f"no matching message in {seconds} s; got {subjects}")
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), remaining)
            except TimeoutError:
                pass
