"""The SMTP (and LMTP) listener the app starts when TINYDESK_SMTP_PORT is set, spoken to with
Python's own smtplib, and the `tinydesk mail-in` pipe command run as an MTA runs it: what they
accept, what they refuse (550 not ours, 552 too large, 451 storage down: try again), and the
exit codes an MTA acts on."""

from __future__ import annotations

import asyncio
import os
import smtplib
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.mail.listener import MAIL_LISTENER, start_listener
from bot.rules import mail_tokens
from storage.database import Database
from storage.models import Comment, MailMessage, Ticket
from tests.conftest import ADMIN_TOKEN
from tests.mail_in_kit import MAIL_FROM, corpus_message, key, mail_settings, seed


async def count(db, model) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def listening_port(client) -> int:
    return client.server.app[MAIL_LISTENER].sockets[0].getsockname()[1]


def send(port: int, raw: bytes, to: list[str], *, sender: str = "grace@example.org") -> dict:
    """One SMTP session with smtplib (in a thread: the server shares the test's loop); lines
    end in CRLF on the wire, as every MTA sends them."""
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        return smtp.sendmail(sender, to, crlf(raw))


def crlf(raw: bytes) -> bytes:
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


async def test_a_message_sent_with_smtplib_becomes_a_ticket_once(db, make_client):
    await seed(db)
    client = await make_client(mail_settings(listen_port=0))
    port = listening_port(client)
    raw = corpus_message("new_thunderbird.eml")
    refused = await asyncio.to_thread(send, port, raw, ["support+my-saas-app@example.com"])
    assert refused == {}
    # The MTA's retry of the same message (a lost 250) opens nothing more.
    await asyncio.to_thread(send, port, raw, ["support+my-saas-app@example.com"])
    assert await count(db, Ticket) == 2 and await count(db, MailMessage) == 1


async def test_a_reply_over_smtp_becomes_a_comment(db, make_client):
    await seed(db)
    client = await make_client(mail_settings(listen_port=0))
    raw = corpus_message("reply_gmail.eml")
    address = mail_tokens.reply_address(key(), MAIL_FROM, "TK-00001")  # as our mail says
    await asyncio.to_thread(send, listening_port(client), raw, [address], sender="ada@example.com")
    assert await count(db, Comment) == 1


async def test_a_recipient_that_is_not_ours_is_refused_at_rcpt(db, make_client):
    await seed(db)
    client = await make_client(mail_settings(listen_port=0))
    raw = corpus_message("new_thunderbird.eml")
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        await asyncio.to_thread(send, listening_port(client), raw, ["someone@elsewhere.example"])
    [(code, _)] = refused.value.recipients.values()
    assert code == 550
    assert await count(db, Ticket) == 1


async def test_a_message_over_the_size_limit_is_refused_with_552(db, make_client):
    await seed(db)
    client = await make_client(mail_settings(listen_port=0, max_message_bytes=2048))
    raw = corpus_message("new_thunderbird.eml") + (b"x" * 70 + b"\n") * 60
    with pytest.raises((smtplib.SMTPSenderRefused, smtplib.SMTPDataError)) as refused:
        await asyncio.to_thread(send, listening_port(client), raw, [f"{MAIL_FROM}"])
    assert refused.value.smtp_code == 552
    assert await count(db, Ticket) == 1


async def test_storage_down_answers_451_so_the_sender_retries(tmp_path: Path):
    broken = Database(f"sqlite+aiosqlite:///{tmp_path}/missing/dir/tinydesk.db")
    server = await start_listener(broken, mail_settings(), host="127.0.0.1", port=0)
    try:
        port = server.sockets[0].getsockname()[1]
        raw = corpus_message("new_thunderbird.eml")
        with pytest.raises(smtplib.SMTPDataError) as refused:
            await asyncio.to_thread(send, port, raw, [MAIL_FROM])
        assert refused.value.smtp_code == 451
    finally:
        server.close()
        await server.wait_closed()
        await broken.dispose()


async def test_the_listener_speaks_lmtp_when_asked(db, make_client):
    await seed(db)
    client = await make_client(mail_settings(listen_port=0, lmtp=True))
    port = listening_port(client)
    raw = corpus_message("new_thunderbird.eml")

    def deliver_by_lmtp() -> dict:
        with smtplib.LMTP("127.0.0.1", port) as lmtp:
            return lmtp.sendmail(
                "grace@example.org", ["support+my-saas-app@example.com"], crlf(raw)
            )

    assert await asyncio.to_thread(deliver_by_lmtp) == {}
    assert await count(db, Ticket) == 2


async def test_no_listener_without_a_port(db, make_client):
    client = await make_client(mail_settings())
    assert MAIL_LISTENER not in client.server.app


# -- tinydesk mail-in ---------------------------------------------------------------------


def tinydesk(tmp_path: Path, *argv: str, stdin: bytes = b"", database: str | None = None):
    env = {
        **os.environ,
        "DATABASE_URL": database or f"sqlite+aiosqlite:///{tmp_path}/tinydesk.db",
        "TINYDESK_MAIL_FROM": MAIL_FROM,
        "TINYDESK_ADMIN_TOKEN": ADMIN_TOKEN,
        "PYTHONIOENCODING": "utf-8",
    }
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *argv],
        input=stdin,
        capture_output=True,
        timeout=60,
        env=env,
    )


def test_mail_in_files_a_message_from_a_pipe_with_sysexits_codes(tmp_path: Path):
    added = tinydesk(
        tmp_path,
        "products",
        "add",
        "my-saas-app",
        "--repo",
        "octo-org/my-saas-app",
        "--mail-address",
        "Help@My-SaaS.example",
    )
    assert added.returncode == 0, added.stderr
    tinydesk(tmp_path, "products", "add", "other-app", "--repo", "octo-org/other-app")
    raw = corpus_message("new_thunderbird.eml").replace(
        b"To: support+my-saas-app@example.com", b"To: help@my-saas.example"
    )
    taken = tinydesk(tmp_path, "mail-in", "--sender", "grace@example.org", stdin=raw)
    assert taken.returncode == 0, taken.stderr
    assert taken.stdout.decode() == "ticket TK-00001 (new)\n"
    again = tinydesk(tmp_path, "mail-in", stdin=raw)
    assert (again.returncode, again.stdout.decode()) == (0, "duplicate (message-id-seen)\n")
    bounce = tinydesk(tmp_path, "mail-in", "--sender", "", stdin=raw.replace(b"<5b1d", b"<ab"))
    assert (bounce.returncode, bounce.stdout.decode()) == (0, "ignored (null-sender)\n")
    garbage = tinydesk(tmp_path, "mail-in", stdin=b"\x00 not a message")
    assert garbage.returncode == 65, garbage.stderr


def test_mail_in_asks_the_mta_to_retry_when_the_database_is_unreachable(tmp_path: Path):
    down = "postgresql+asyncpg://nobody@127.0.0.1:1/none"
    proc = tinydesk(tmp_path, "mail-in", stdin=corpus_message("new_thunderbird.eml"), database=down)
    assert proc.returncode == 75, proc.stderr
