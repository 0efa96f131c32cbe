"""Mail in (issue 17, items 2 and 3): a corpus of real-shaped messages and what each becomes,
threading that trusts only our signed tokens (and the subject only from the submitter),
quoted history stripped, replies reopening a recently finished ticket, attachments kept or
named, one decision per Message-ID, and never a ticket or comment from automatic mail."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from sqlalchemy import func, select

from bot.mail.incoming.deliver import deliver
from bot.mail.incoming.parse import Unparsable
from storage.models import Attachment, Comment, MailMessage, Ticket
from storage.repos.desk import DeskRepo
from tests.mail_in_kit import SUBMITTER, corpus_message, mail_settings, seed


async def count(db, model) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def comments_of(db, ticket_id: int) -> list[Comment]:
    async with db.session() as session:
        return list(await DeskRepo(session).comments(ticket_id))


async def ticket(db, ticket_id: int) -> Ticket:
    async with db.session() as session:
        found = await session.get(Ticket, ticket_id)
        assert found is not None
        return found


# Each message of the corpus, with the decision and reason it must get, and the text the
# stored ticket or comment must (and must not) hold.
CORPUS_OUTCOMES = {
    "new_thunderbird.eml": ("ticket", "new", "error 500", None),
    "reply_gmail.eml": ("comment", "in-reply-to", "Safari still shows the old page.", "wrote"),
    "reply_outlook.eml": ("comment", "reply-address", "It works now", "Original"),
    "reply_apple_mail.eml": ("comment", "references", "the button is grey", "wrote:"),
    "reply_thunderbird_marker.eml": ("comment", "body-marker", "TypeError", "Support wrote"),
    "reply_submitter_subject_only.eml": ("comment", "subject-submitter", "Any news", None),
    "stranger_quotes_other_ticket.eml": ("ticket", "subject-stranger", "mallory", None),
    "forged_message_id.eml": ("ticket", "new", "I am the submitter", None),
    "auto_reply.eml": ("ignored", "auto-submitted", None, None),
    "bounce_dsn.eml": ("ignored", "delivery-report", None, None),
    "list_mail.eml": ("ignored", "precedence-list", None, None),
    "forwarded.eml": ("ticket", "new", "The invoice page shows nothing", None),
    "html_only.eml": ("ticket", "new", 'are empty & the legend says "no data"', "alert"),
    "latin1_base64.eml": ("ticket", "new", "la page des paramètres affiche une erreur", None),
    "image_attachment.eml": ("ticket", "new", "screenshot attached", None),
    "oversized_attachment.eml": ("ticket", "new", "The whole log is attached.", None),
}


@pytest.mark.parametrize("name", sorted(CORPUS_OUTCOMES))
async def test_each_corpus_message_gets_its_expected_outcome(db, name, caplog):
    decision, reason, kept_text, dropped_text = CORPUS_OUTCOMES[name]
    seeded = await seed(db, products=("my-saas-app", "other-app"))
    caplog.set_level(logging.INFO, logger="bot.mail")
    outcome = await deliver(db, mail_settings(), corpus_message(name), sender="someone@x.test")
    assert (outcome.decision, outcome.reason) == (decision, reason)
    # Every decision is logged with its reason and the message's id.
    logged = [r for r in caplog.records if getattr(r, "decision", None) == decision]
    assert logged and logged[0].reason == reason and logged[0].message_id
    async with db.session() as session:
        stored = (await session.scalars(select(MailMessage))).one()
    assert (stored.decision, stored.reason) == (decision, reason)
    if decision == "ignored":
        assert await count(db, Ticket) == 1 and await count(db, Comment) == 0
        return
    if decision == "comment":
        assert outcome.public_id == seeded.public_id and await count(db, Ticket) == 1
        [comment] = await comments_of(db, seeded.ticket_id)
        assert not comment.internal
        text = comment.body
    else:
        assert outcome.public_id == "TK-00002"
        new = await ticket(db, 2)
        assert new.source_type == "email" and new.product_id == seeded.product.id
        text = new.body
    assert kept_text in text
    if dropped_text:
        assert dropped_text not in text


async def test_latin1_subject_and_sender_name_are_decoded(db):
    await seed(db)
    await deliver(db, mail_settings(), corpus_message("latin1_base64.eml"))
    new = await ticket(db, 2)
    assert new.subject == "Problème avec les paramètres"
    assert new.submitter_name == "Françoise Dupont"
    assert new.submitter_email == "francoise@example.fr"


async def test_a_forged_token_is_logged_and_never_attaches_to_the_ticket(db, caplog):
    await seed(db)
    caplog.set_level(logging.WARNING, logger="bot.mail")
    await deliver(db, mail_settings(), corpus_message("forged_message_id.eml"))
    assert await comments_of(db, 1) == []
    forged = sorted(r.reason for r in caplog.records if r.reason.startswith("forged-"))
    assert forged == [
        "forged-body-marker",
        "forged-in-reply-to",
        "forged-references",
        "forged-reply-address",
    ]
    # The log names no address.
    assert not any("mallory@" in r.getMessage() for r in caplog.records)


async def test_the_subject_number_threads_only_for_the_submitter_any_case(db):
    await seed(db)
    ours = await deliver(db, mail_settings(), corpus_message("reply_submitter_subject_only.eml"))
    theirs = await deliver(db, mail_settings(), corpus_message("stranger_quotes_other_ticket.eml"))
    assert ours.public_id == "TK-00001" and theirs.public_id == "TK-00002"
    assert [c.author for c in await comments_of(db, 1)] == ["ADA@Example.com"]


async def test_a_message_delivered_twice_makes_one_ticket(db):
    await seed(db)
    raw = corpus_message("new_thunderbird.eml")
    first = await deliver(db, mail_settings(), raw)
    again = await deliver(db, mail_settings(), raw)
    assert first.decision == "ticket" and again.decision == "duplicate"
    assert await count(db, Ticket) == 2 and await count(db, MailMessage) == 1


async def test_a_message_without_message_id_is_deduplicated_by_its_bytes(db):
    await seed(db)
    raw = b"From: Bo <bo@example.org>\nTo: support@example.com\nSubject: Hi\n\nHelp please\n"
    assert (await deliver(db, mail_settings(), raw)).decision == "ticket"
    assert (await deliver(db, mail_settings(), raw)).decision == "duplicate"
    other = raw.replace(b"Help please", b"Help again")
    assert (await deliver(db, mail_settings(), other)).decision == "ticket"


async def test_a_reply_reopens_a_ticket_resolved_within_the_window(db):
    await seed(db)
    now = dt.datetime(2026, 12, 10, 12, 0, tzinfo=dt.UTC)
    async with db.begin() as session:
        row = await session.get(Ticket, 1)
        assert row is not None
        row.status, row.resolved_at = "resolved", now - dt.timedelta(days=3)
    outcome = await deliver(
        db, mail_settings(reopen_days=14), corpus_message("reply_gmail.eml"), now=now
    )
    assert outcome.decision == "comment"
    reopened = await ticket(db, 1)
    assert reopened.status == "open" and reopened.resolved_at is None


async def test_a_reply_after_the_window_opens_a_new_ticket_naming_the_old(db):
    await seed(db)
    now = dt.datetime(2026, 12, 10, 12, 0, tzinfo=dt.UTC)
    async with db.begin() as session:
        row = await session.get(Ticket, 1)
        assert row is not None
        row.status, row.resolved_at = "closed", now - dt.timedelta(days=30)
    outcome = await deliver(
        db, mail_settings(reopen_days=14), corpus_message("reply_gmail.eml"), now=now
    )
    assert (outcome.decision, outcome.reason) == ("ticket", "reopen-window-passed")
    assert (await ticket(db, 1)).status == "closed"
    follow_up = await ticket(db, 2)
    assert follow_up.body.startswith("[Follow-up to TK-00001")
    assert follow_up.submitter_email == SUBMITTER


async def test_attachments_are_kept_and_refused_ones_named_in_a_public_comment(db):
    await seed(db)
    await deliver(db, mail_settings(), corpus_message("image_attachment.eml"))
    async with db.session() as session:
        [kept] = (await session.scalars(select(Attachment))).all()
    assert (kept.filename, kept.content_type, kept.ticket_id) == ("screen shot.png", "image/png", 2)
    assert kept.data.startswith(b"\x89PNG") and kept.size == len(kept.data)
    [note] = await comments_of(db, 2)
    assert not note.internal and note.author == "TinyDesk"
    assert note.body == (
        "We could not keep invoice.exe: that type is not accepted (images, PDF and text files are)."
    )


async def test_an_oversized_attachment_is_named_not_stored(db):
    await seed(db)
    await deliver(db, mail_settings(), corpus_message("oversized_attachment.eml"))
    assert await count(db, Attachment) == 0
    [note] = await comments_of(db, 2)
    assert note.body == "We could not keep log.pdf: it is larger than 5 MB."


async def test_the_base_address_with_several_products_is_refused_without_a_ticket(db):
    await seed(db, products=("my-saas-app", "other-app"))
    raw = b"Message-ID: <x1@example.org>\nFrom: bo@example.org\nTo: support@example.com\n"
    raw += b"Subject: Which product?\n\nHello\n"
    outcome = await deliver(db, mail_settings(), raw)
    assert (outcome.decision, outcome.reason) == ("refused", "no-product")
    assert await count(db, Ticket) == 1


async def test_the_base_address_with_one_product_files_it_there(db):
    seeded = await seed(db)
    raw = b"Message-ID: <x2@example.org>\nFrom: bo@example.org\nTo: support@example.com\n"
    raw += b"Subject: Hello\n\nHello\n"
    outcome = await deliver(db, mail_settings(), raw)
    assert (outcome.decision, outcome.reason) == ("ticket", "new")
    assert (await ticket(db, 2)).product_id == seeded.product.id


async def test_a_product_s_own_address_picks_it(db):
    await seed(db, products=("my-saas-app", "other-app"))
    async with db.begin() as session:
        from storage.repos.products import ProductRepo

        other = await ProductRepo(session).by_slug("other-app")
        assert other is not None
        other.mail_address = "help@other.example"
    raw = b"Message-ID: <x3@example.org>\nFrom: bo@example.org\nTo: Help <HELP@other.example>\n"
    raw += b"Subject: Hello\n\nHello\n"
    assert (await deliver(db, mail_settings(), raw)).decision == "ticket"
    assert (await ticket(db, 2)).product_id == other.id


async def test_a_long_body_is_cut_with_a_note_and_an_empty_subject_gets_one(db):
    await seed(db)
    raw = b"Message-ID: <x4@example.org>\nFrom: bo@example.org\nTo: support@example.com\n\n"
    raw += b"word " * 40_000
    await deliver(db, mail_settings(), raw)
    new = await ticket(db, 2)
    assert new.subject == "(no subject)"
    assert len(new.body.encode()) <= 64 * 1024
    assert new.body.endswith("was longer than 64 KB and was cut here.]")


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("Auto-Submitted: auto-generated", "auto-submitted"),
        ("Precedence: bulk", "precedence-bulk"),
        ("Precedence: junk", "precedence-junk"),
        ("X-Autorespond: yes", "autoreply-header"),
        ("List-Id: <dev.lists.example.org>", "mailing-list"),
        ("Return-Path: <>", "null-sender"),
    ],
)
async def test_automatic_replies_to_a_ticket_never_become_comments(db, header, reason):
    await seed(db)
    raw = corpus_message("reply_gmail.eml").replace(
        b"MIME-Version", header.encode() + b"\nMIME-Version", 1
    )
    outcome = await deliver(db, mail_settings(), raw)
    assert (outcome.decision, outcome.reason) == ("ignored", reason)
    assert await comments_of(db, 1) == []


async def test_mail_from_the_null_sender_or_postmaster_is_ignored(db):
    await seed(db)
    raw = corpus_message("new_thunderbird.eml")
    bounce = await deliver(db, mail_settings(), raw, sender="")
    assert bounce.reason == "null-sender"
    postmaster = raw.replace(b"From: Grace Hopper <grace@example.org>", b"From: postmaster@x.org")
    postmaster = postmaster.replace(b"<5b1d7c1e", b"<other")
    assert (await deliver(db, mail_settings(), postmaster)).reason == "daemon-sender"
    assert await count(db, Ticket) == 1


async def test_mail_from_tinydesk_itself_is_ignored(db):
    await seed(db)
    raw = b"Message-ID: <x5@example.org>\nFrom: Support <support@example.com>\n"
    raw += b"To: support+my-saas-app@example.com\nSubject: Loop?\n\nHello\n"
    assert (await deliver(db, mail_settings(), raw)).reason == "from-ourselves"


async def test_what_is_not_a_message_is_refused_as_unparsable(db):
    with pytest.raises(Unparsable):
        await deliver(db, mail_settings(), b"\x00\x01 garbage without headers")


async def test_the_submitter_s_answer_to_a_pending_ticket_opens_it_again(db):
    await seed(db)
    async with db.begin() as session:
        row = await session.get(Ticket, 1)
        assert row is not None
        row.status = "pending"  # waiting on the submitter
        row.sla_paused_since = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    now = dt.datetime(2026, 12, 2, tzinfo=dt.UTC)
    await deliver(db, mail_settings(), corpus_message("reply_gmail.eml"), now=now)
    answered = await ticket(db, 1)
    assert answered.status == "open" and answered.sla_paused_since is None
