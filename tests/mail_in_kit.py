"""What the mail-in tests share: settings with mail on, the corpus of real-shaped messages
(tests/data/mail/*.eml) with genuine tokens filled in, and a seeded ticket to reply to."""

from __future__ import annotations

import base64
import dataclasses
from pathlib import Path

from bot.config import MailSettings, Settings, mail_key
from bot.rules import mail_tokens
from bot.tickets.intake import open_ticket
from storage.database import Database
from storage.models import Product
from storage.repos.products import ProductRepo
from tests.conftest import ADMIN_TOKEN

CORPUS = Path(__file__).parent / "data" / "mail"
MAIL_FROM = "support@example.com"
SUBMITTER = "ada@example.com"


def mail_settings(**mail: object) -> Settings:
    return Settings(
        admin_token=ADMIN_TOKEN,
        public_url="https://desk.example.test",
        run_workers=False,
        mail=MailSettings(mail_from=MAIL_FROM, **mail),  # type: ignore[arg-type]
    )


def key() -> bytes:
    made = mail_key(mail_settings())
    assert made is not None
    return made


def corpus_message(name: str, public_id: str = "TK-00001") -> bytes:
    """A corpus file with its placeholders made genuine: ``@@MID@@`` a Message-ID TinyDesk
    would have sent about ``public_id``, ``@@REPLY@@`` its reply address, ``@@MARKER@@`` its
    body marker, ``@@BIG_PDF@@`` a PDF just over the attachment limit."""
    text = (CORPUS / name).read_text(encoding="utf-8")
    text = text.replace("@@MID@@", mail_tokens.message_id(key(), public_id, "example.com"))
    text = text.replace("@@REPLY@@", mail_tokens.reply_address(key(), MAIL_FROM, public_id))
    text = text.replace("@@MARKER@@", mail_tokens.body_marker(key(), public_id))
    if "@@BIG_PDF@@" in text:
        pdf = b"%PDF-1.4\n" + b"0" * (5 * 1024 * 1024)
        text = text.replace("@@BIG_PDF@@", base64.encodebytes(pdf).decode())
    return text.encode("utf-8")


@dataclasses.dataclass
class Seeded:
    product: Product
    ticket_id: int
    public_id: str


async def seed(db: Database, *, products: tuple[str, ...] = ("my-saas-app",)) -> Seeded:
    """Products by slug, and TK-00001 from ada@example.com on the first of them."""
    async with db.begin() as session:
        repo = ProductRepo(session)
        made = [
            await repo.add(Product(slug=slug, name=slug, repo_owner="octo-org", repo_name=slug))
            for slug in products
        ]
        opened = await open_ticket(
            session,
            product=made[0],
            subject="Login button does nothing",
            body="Clicking the login button does nothing on Safari.",
            email=SUBMITTER,
            submitter_name="Ada Lovelace",
        )
    assert opened.ticket.id == 1
    return Seeded(made[0], opened.ticket.id, "TK-00001")
