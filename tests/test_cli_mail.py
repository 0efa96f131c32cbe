"""``tinydesk mail digest --now``, run as the real command against a real SMTP sink."""

from __future__ import annotations

import asyncio

from tests.conftest import ADMIN_TOKEN
from tests.mail_sink import MailSink
from tests.test_cli import tinydesk


async def test_digest_now_mails_every_staff_address(tmp_path):
    async with MailSink() as sink:
        env = {
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
            "TINYDESK_ADMIN_TOKEN": ADMIN_TOKEN,
            "TINYDESK_MAIL_FROM": "Example Support <support@example.com>",
            "TINYDESK_SMTP_URL": sink.url,
            "TINYDESK_MAIL_DIGEST_TO": "staff@example.com",
        }
        proc = await asyncio.to_thread(tinydesk, "mail", "digest", "--now", env=env)
        assert proc.returncode == 0, proc.stderr
        assert "sent to 1 address" in proc.stdout
        [message] = sink.messages
        assert message["To"] == "staff@example.com"
        assert message["Subject"].startswith("TinyDesk digest")


def test_digest_without_mail_settings_is_one_line_and_exit_1(tmp_path):
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"}
    proc = tinydesk("mail", "digest", "--now", env=env)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "TINYDESK_SMTP_URL" in proc.stderr
