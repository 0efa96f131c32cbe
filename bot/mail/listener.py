"""The SMTP (or LMTP) listener ``tinydesk serve`` starts when TINYDESK_SMTP_PORT is set: an
aiosmtpd server in the app's own event loop, living and stopping with the app.

It refuses at RCPT TO what is not one of TinyDesk's addresses (550), refuses messages larger
than TINYDESK_MAIL_MAX_BYTES (552), and answers 451 when the message could not be stored, so
the sending server tries again later; everything else is accepted (250) and worked by
bot.mail.incoming.deliver, automatic mail included (accepted and ignored, never bounced).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session

from bot.appkeys import DB, SETTINGS
from bot.config import Settings, mail_key
from bot.mail.incoming.deliver import deliver
from bot.mail.incoming.parse import Unparsable
from bot.rules.mail_tokens import read_recipient
from storage.database import Database
from storage.repos.mail import MailRepo

log = logging.getLogger(__name__)

NOT_OURS = "550 5.1.1 Not a TinyDesk address"
TOO_BIG = "552 5.3.4 Message too big for TinyDesk"
NOT_A_MESSAGE = "554 5.6.0 Not a mail message"
TRY_LATER = "451 4.3.0 Could not store the message; try again later"
ACCEPTED = "250 2.0.0 OK"
# How long stopping waits for the sessions still open to end.
CLOSE_SECONDS = 5.0

MAIL_LISTENER = web.AppKey("mail_listener", asyncio.Server)


class MailHandler:
    """aiosmtpd's handler: the RCPT TO check and the delivery of each message."""

    def __init__(self, db: Database, settings: Settings, *, lmtp: bool = False) -> None:
        self.db, self.settings, self.lmtp = db, settings, lmtp

    async def is_ours(self, address: str) -> bool:
        key, mail_from = mail_key(self.settings), self.settings.mail.mail_from
        if key is None or mail_from is None:
            return False
        if read_recipient(key, mail_from, address).kind != "foreign":
            return True
        async with self.db.session() as session:
            return await MailRepo(session).product_by_address(address) is not None

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        try:
            ours = await self.is_ours(address)
        except Exception:
            log.warning("mail in: could not check a recipient", exc_info=True)
            return TRY_LATER
        if not ours:
            return NOT_OURS
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        status = await self.status_of(envelope)
        # LMTP answers once per recipient; the message is worked once for all of them.
        return "\r\n".join([status] * len(envelope.rcpt_tos)) if self.lmtp else status

    async def status_of(self, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if not raw and isinstance(envelope.content, bytes):
            raw = envelope.content
        if len(raw) > self.settings.mail.max_message_bytes:
            return TOO_BIG
        try:
            await deliver(
                self.db,
                self.settings,
                raw,
                sender=envelope.mail_from or "",
                recipients=tuple(envelope.rcpt_tos),
            )
        except Unparsable:
            return NOT_A_MESSAGE
        except Exception:
            log.exception("mail in: could not store a message; the sender will retry")
            return TRY_LATER
        return ACCEPTED


async def start_listener(
    db: Database, settings: Settings, *, host: str, port: int
) -> asyncio.Server:
    loop = asyncio.get_running_loop()
    lmtp = settings.mail.lmtp
    handler = MailHandler(db, settings, lmtp=lmtp)
    protocol = LMTP if lmtp else SMTP

    def factory() -> SMTP:
        return protocol(
            handler,
            data_size_limit=settings.mail.max_message_bytes,
            enable_SMTPUTF8=True,
            hostname=_hostname(settings),
            loop=loop,
        )

    return await loop.create_server(factory, host=host, port=port)


def _hostname(settings: Settings) -> str:
    mail_from = settings.mail.mail_from or "tinydesk.invalid"
    return mail_from.rpartition("@")[2] or "tinydesk.invalid"


async def mail_listener_ctx(app: web.Application) -> AsyncIterator[None]:
    """The listener, when TINYDESK_SMTP_PORT is set (port 0: any free port, for tests)."""
    settings = app[SETTINGS]
    port = settings.mail.listen_port
    if port is None or not settings.mail.receiving:
        yield
        return
    host = settings.mail.listen_host
    server = await start_listener(app[DB], settings, host=host, port=port)
    app[MAIL_LISTENER] = server
    bound = server.sockets[0].getsockname()[1] if server.sockets else port
    log.info(
        "mail in: %s listening on %s:%s", "LMTP" if settings.mail.lmtp else "SMTP", host, bound
    )
    yield
    server.close()
    try:
        await asyncio.wait_for(server.wait_closed(), CLOSE_SECONDS)
    except TimeoutError:
        log.warning("mail in: sessions still open at shutdown were cut")
