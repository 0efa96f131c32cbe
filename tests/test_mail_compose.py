"""The composed mail read back by the ``email`` package: hostile text in a ticket's subject,
name or comment stays text (no injected header, no markup in the HTML part)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy

from bot.mail.outgoing.compose import REPLY_ABOVE, Draft, Envelope, Step, compose
from bot.rules import mail_steps

NOW = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)


def build(subject: str, name: str, comment: str, from_name: str = 'Example "Support"'):
    draft = Draft(
        public_id="TK-00042",
        subject=mail_steps.subject("TK-00042", subject, first=True, headline=None),
        greeting_name=name,
        ticket_subject=subject,
        steps=[Step("New reply from support", NOW, author="Dana <b>", body=comment)],
        tracking_url="https://desk.example.test/track/TK-00042?token=abc&x=<y>",
        marker="[TinyDesk ref:TK-00042.abcdefghijklmnop]",
    )
    envelope = Envelope(
        from_name=from_name,
        mail_from="support@example.com",
        to_address="ada@example.com",
        reply_to="support+TK-00042.abcdefghijklmnop@example.com",
        message_id="<td.TK-00042.aaaaaaaa.abcdefghijklmnop@example.com>",
        unsubscribe_url="https://desk.example.test/mail/unsubscribe/TK-00042.x",
    )
    raw = bytes(compose(draft, envelope, now=NOW))
    return email.message_from_bytes(raw, policy=email.policy.default)


def test_a_subject_with_line_breaks_cannot_add_a_header():
    message = build("Help\r\nBcc: everyone@example.com", "Ada", "Hello")
    assert message["Bcc"] is None
    assert message["Subject"] == "[TK-00042] Help Bcc: everyone@example.com"


def test_markup_in_names_and_comments_is_shown_as_text_in_the_html_part():
    message = build("<img src=x onerror=alert(1)>", "<script>Ada</script>", "<b>bold</b> & co")
    html = message.get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;Ada&lt;/script&gt;" in html
    assert "<img" not in html and "<b>bold" not in html and "&amp; co" in html
    assert 'href="https://desk.example.test/track/TK-00042?token=abc&amp;x=&lt;y&gt;"' in html
    text = message.get_body(("plain",)).get_content()
    assert text.startswith(REPLY_ABOVE) and "<b>bold</b> & co" in text


def test_a_quoted_display_name_and_non_ascii_text_survive():
    message = build("Größe falsch", "Zoë", "Ça marche pas")
    sender = message["From"].addresses[0]
    assert sender.display_name == 'Example "Support"' and sender.addr_spec == "support@example.com"
    assert message["Subject"] == "[TK-00042] Größe falsch"
    assert "Zoë" in message.get_body(("plain",)).get_content()
