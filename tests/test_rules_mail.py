"""The pure rules of mail in: automatic mail recognised per header, quoted history stripped
per client, HTML read as text safely, attachments judged, the threading order, the limits."""

from __future__ import annotations

import datetime as dt
import email
import email.policy

import pytest

from bot.rules import mail_tokens
from bot.rules.mail_attachments import (
    MAX_ATTACHMENT_BYTES,
    NOT_WHAT_IT_SAYS,
    TOO_LARGE,
    TOO_MANY,
    TYPE_REFUSED,
    judge,
    safe_filename,
)
from bot.rules.mail_html import html_to_text
from bot.rules.mail_limits import fit_body, fit_subject, reply_reopens
from bot.rules.mail_loops import loop_reason
from bot.rules.mail_quotes import REPLY_ABOVE, strip_quoted
from bot.rules.mail_threading import find_ticket, message_ids, subject_public_id

KEY = mail_tokens.derive_key("a-server-secret-for-the-rule-tests")
MAIL_FROM = "support@example.com"


def message(headers: str, content_type: str = "text/plain") -> email.message.Message:
    raw = f"From: a@b.example\n{headers}\nContent-Type: {content_type}\n\nbody\n"
    return email.message_from_string(raw, policy=email.policy.default)


# -- loops --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ("Auto-Submitted: auto-replied", "auto-submitted"),
        ("Auto-Submitted: auto-generated", "auto-submitted"),
        ("Auto-Submitted: auto-notified; owner-email=x@y", "auto-submitted"),
        ("Precedence: bulk", "precedence-bulk"),
        ("Precedence: JUNK", "precedence-junk"),
        ("Precedence: list", "precedence-list"),
        ("X-Autoreply: yes", "autoreply-header"),
        ("X-Autorespond: vacation", "autoreply-header"),
        ("List-Id: <dev.lists.example.org>", "mailing-list"),
        ("Return-Path: <>", "null-sender"),
    ],
)
def test_each_automatic_header_is_recognised(headers, reason):
    assert loop_reason(message(headers)) == reason


@pytest.mark.parametrize(
    "headers", ["Auto-Submitted: no", "Precedence: first-class", "Return-Path: <a@b.example>"]
)
def test_a_person_s_mail_is_not_automatic(headers):
    assert loop_reason(message(headers), sender="a@b.example") is None


def test_a_delivery_report_and_daemon_senders_are_automatic():
    report = message("Subject: x", "multipart/report; report-type=delivery-status")
    assert loop_reason(report) == "delivery-report"
    assert loop_reason(message("Subject: x"), sender="") == "null-sender"
    assert loop_reason(message("Subject: x"), from_address="MAILER-DAEMON@mx.example") == (
        "daemon-sender"
    )
    assert loop_reason(message("Subject: x"), sender="postmaster@mx.example") == "daemon-sender"


# -- quotes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        (f"Thanks!\n\n{REPLY_ABOVE}\nWe fixed it.", "Thanks!"),
        (f"Thanks!\n> {REPLY_ABOVE}\n> We fixed it.", "Thanks!"),
        ("Works.\n\nOn Tue, Dec 1, 2026 at 4:20 PM Support <s@x> wrote:\n> old", "Works."),
        ("Works.\n\nOn Tue, Dec 1, 2026 at 4:20 PM Support <s@x>\nwrote:\n> old", "Works."),
        ("Works.\n\nOn 1 Dec 2026, at 16:20, Support <s@x> wrote:\n\n> old", "Works."),
        ("Works.\n\nOn 01/12/2026 16:20, Support wrote:\n> old", "Works."),
        ("Works.\n\n-----Original Message-----\nFrom: Support\nSent: Tue\n\nold", "Works."),
        (
            "Works.\n\n________________________________\nFrom: Support <s@x>\nSent: 01 Dec\nold",
            "Works.",
        ),
        ("Works.\nFrom: Support <s@x>\nDate: Tue, 1 Dec 2026\nSubject: x\n\nold", "Works."),
        ("Works.\n\n-- \nAda\nCEO", "Works."),
        (
            "Le 1 déc. 2026 à 16:20, Support <s@x> a écrit :",
            "Le 1 déc. 2026 à 16:20, Support <s@x> a écrit :",
        ),
        ("First\n> quoted inline\nSecond", "First\nSecond"),
    ],
)
def test_quoted_history_is_stripped_per_client(text, kept):
    assert strip_quoted(text) == kept


def test_a_reply_that_is_all_quote_is_kept_whole():
    assert strip_quoted("> only a quote") == "> only a quote"


# -- HTML ---------------------------------------------------------------------------------


def test_html_becomes_text_without_script_or_style_and_links_kept():
    text = html_to_text(
        "<html><head><style>p{}</style><title>t</title></head><body>"
        "<p>Hi &amp; &eacute;t&eacute; &#x263A;</p><script>evil()</script>"
        '<p><a href="https://x.example/a">docs</a> and <a href="javascript:evil()">bad</a></p>'
        "<ul><li>one</li><li>two</li></ul>line<br>break</body></html>"
    )
    assert text == "Hi & été ☺\n\ndocs (https://x.example/a) and bad\n\n- one\n- two\n\nline\nbreak"


def test_html_blockquotes_become_quoted_lines_the_stripper_drops():
    text = html_to_text("<div>New text</div><blockquote><div>Old text</div></blockquote>")
    assert strip_quoted(text) == "New text"


# -- attachments --------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8


@pytest.mark.parametrize(
    ("filename", "declared", "size", "head", "position", "expected"),
    [
        ("a.png", "image/png", 10, PNG, 0, ("image/png", None)),
        ("a.png", "application/octet-stream", 10, PNG, 0, ("image/png", None)),
        ("a.jpg", "image/jpeg", 10, b"\xff\xd8\xff\xe0", 0, ("image/jpeg", None)),
        ("a.webp", "image/webp", 10, b"RIFF\x00\x00\x00\x00WEBPVP8 ", 0, ("image/webp", None)),
        ("a.pdf", "application/pdf", 10, b"%PDF-1.7", 0, ("application/pdf", None)),
        ("a.txt", "text/plain", 10, b"hello", 0, ("text/plain", None)),
        ("a.exe", "application/x-msdownload", 10, b"MZ", 0, (None, TYPE_REFUSED)),
        ("a.html", "text/html", 10, b"<html>", 0, (None, TYPE_REFUSED)),
        ("a.svg", "image/svg+xml", 10, b"<svg", 0, (None, TYPE_REFUSED)),
        ("a.png", "image/png", MAX_ATTACHMENT_BYTES + 1, PNG, 0, (None, TOO_LARGE)),
        ("a.png", "image/png", 10, b"<html><script>", 0, (None, NOT_WHAT_IT_SAYS)),
        ("a.png", "image/png", 10, PNG, 10, (None, TOO_MANY)),
    ],
)
def test_attachments_are_judged_by_type_size_content_and_count(
    filename, declared, size, head, position, expected
):
    verdict = judge(filename, declared, size, head, position=position)
    assert (verdict.content_type, verdict.refusal) == expected


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\ada\\shot.png", "shot.png"),
        ('evil"; filename=x.html', "evil_ filename_x.html"),
        ("résumé.pdf", "resume.pdf"),
        ("\x00\r\n", "attachment"),
        (None, "attachment"),
        ("a" * 300 + ".png", "a" * 116 + ".png"),
    ],
)
def test_file_names_are_made_safe(name, safe):
    assert safe_filename(name) == safe


# -- threading order ----------------------------------------------------------------------


def clues(**overrides):
    base = dict(
        mail_from=MAIL_FROM, in_reply_to=(), references=(), recipients=(), body="", subject=""
    )
    return find_ticket(KEY, **{**base, **overrides})


def test_in_reply_to_wins_over_references_then_address_then_marker():
    mid = {n: mail_tokens.message_id(KEY, f"TK-0000{n}", "example.com") for n in (1, 2, 3, 4)}
    found = clues(
        in_reply_to=(mid[1],),
        references=(mid[2],),
        recipients=(mail_tokens.reply_address(KEY, MAIL_FROM, "TK-00003"),),
        body=mail_tokens.body_marker(KEY, "TK-00004"),
    )
    assert (found.public_id, found.reason) == ("TK-00001", "in-reply-to")
    found = clues(references=(mid[2], mid[3], "<other@x>"))
    assert (found.public_id, found.reason) == ("TK-00003", "references")  # right-most of ours
    found = clues(
        recipients=("x@y.example", mail_tokens.reply_address(KEY, MAIL_FROM, "TK-00003")),
        body=mail_tokens.body_marker(KEY, "TK-00004"),
    )
    assert (found.public_id, found.reason) == ("TK-00003", "reply-address")
    found = clues(body="text " + mail_tokens.body_marker(KEY, "TK-00004"), subject="TK-00009")
    assert (found.public_id, found.reason) == ("TK-00004", "body-marker")


def test_the_subject_only_names_a_candidate_and_forgeries_are_reported():
    other_key = mail_tokens.derive_key("another-server")
    found = clues(
        in_reply_to=(mail_tokens.message_id(other_key, "TK-00001", "example.com"),),
        recipients=(mail_tokens.reply_address(other_key, MAIL_FROM, "TK-00001"),),
        body=mail_tokens.body_marker(other_key, "TK-00001"),
        subject="Re: [tk-00042] help",
    )
    assert found.public_id is None and found.subject_candidate == "TK-00042"
    assert found.forged == ("in-reply-to", "reply-address", "body-marker")


def test_message_id_lists_and_subject_numbers_are_read():
    assert message_ids("<a@x> <b@y>\n <c@z>") == ["<a@x>", "<b@y>", "<c@z>"]
    assert subject_public_id("Re: Fwd: TK-123456 broken") == "TK-123456"
    assert subject_public_id("TK-12 is not a publicId") is None


# -- limits -------------------------------------------------------------------------------


def test_bodies_are_cut_to_the_limit_on_a_character_boundary_with_a_note():
    body = fit_body("é" * 40_000, max_bytes=1024)
    assert len(body.encode()) <= 1024 and "cut here" in body and "\ufffd" not in body
    assert fit_body("  ") == "(no text)" and fit_subject(" \n ") == "(no subject)"


def test_a_reply_reopens_only_a_finished_ticket_within_the_window():
    now = dt.datetime(2026, 12, 10, tzinfo=dt.UTC)
    day = dt.timedelta(days=1)
    assert reply_reopens("open", now - 99 * day, now, 14) is None
    assert reply_reopens("pending", now - 99 * day, now, 14) is None
    assert reply_reopens("resolved", now - 14 * day, now, 14) is True
    assert reply_reopens("closed", now - 15 * day, now, 14) is False
