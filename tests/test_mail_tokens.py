"""Threading tokens: what TinyDesk signs it recognises; what anyone else makes up, it does not."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, Settings
from bot.rules import mail_tokens as tokens

KEY = tokens.derive_key("s" * 40)
OTHER_KEY = tokens.derive_key("t" * 40)


def test_a_message_id_of_ours_names_its_ticket() -> None:
    mid = tokens.message_id(KEY, "TK-00042", "example.com")
    assert tokens.ticket_of_message_id(KEY, mid) == "TK-00042"
    assert tokens.ticket_of_message_id(KEY, mid.upper()) == "TK-00042"  # case folded


def test_a_forged_or_altered_message_id_names_nothing() -> None:
    mid = tokens.message_id(KEY, "TK-00042", "example.com")
    assert tokens.ticket_of_message_id(KEY, mid.replace("TK-00042", "TK-00043")) is None
    assert tokens.ticket_of_message_id(OTHER_KEY, mid) is None
    assert tokens.ticket_of_message_id(KEY, "<td.TK-00042.abcdefgh.aaaaaaaaaaaaaaaa@x>") is None
    assert tokens.ticket_of_message_id(KEY, "<CAF=abc@mail.gmail.com>") is None


def test_every_message_id_is_new() -> None:
    assert tokens.message_id(KEY, "TK-00001", "x.org") != tokens.message_id(
        KEY, "TK-00001", "x.org"
    )


def test_reply_addresses_thread_only_when_signed() -> None:
    address = tokens.reply_address(KEY, "support@example.com", "TK-00042")
    assert address.startswith("support+TK-00042.")
    assert tokens.read_recipient(KEY, "support@example.com", address) == tokens.Recipient(
        "ticket", public_id="TK-00042"
    )
    assert tokens.read_recipient(KEY, "support@example.com", address.lower()).public_id == (
        "TK-00042"
    )
    forged = address.replace("TK-00042", "TK-00041")
    assert tokens.read_recipient(KEY, "support@example.com", forged).kind == "forged"


@pytest.mark.parametrize(
    ("address", "kind", "slug"),
    [
        ("support@example.com", "base", None),
        ("Support@EXAMPLE.com", "base", None),
        ("support+my-saas-app@example.com", "product", "my-saas-app"),
        ("sales@example.com", "foreign", None),
        ("support@example.org", "foreign", None),
        ("support+a b@example.com", "foreign", None),
        ("not an address", "foreign", None),
    ],
)
def test_recipients(address: str, kind: str, slug: str | None) -> None:
    recipient = tokens.read_recipient(KEY, "support@example.com", address)
    assert (recipient.kind, recipient.product_slug) == (kind, slug)


def test_body_markers_are_checked() -> None:
    marker = tokens.body_marker(KEY, "TK-00042")
    assert tokens.ticket_of_body(KEY, f"Thanks!\n\n> {marker}\n") == "TK-00042"
    assert tokens.ticket_of_body(KEY, marker.replace("TK-00042", "TK-00007")) is None
    assert tokens.ticket_of_body(KEY, "[TinyDesk ref:TK-00042]") is None


def test_mail_settings_need_a_secret_and_a_plain_address() -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"TINYDESK_MAIL_FROM": "support@example.com"})
    assert "TINYDESK_SECRET_KEY" in str(raised.value)
    with pytest.raises(ConfigError):
        Settings.from_env(
            {"TINYDESK_MAIL_FROM": "support+x@example.com", "TINYDESK_SECRET_KEY": "k" * 40}
        )
    with pytest.raises(ConfigError):
        Settings.from_env({"TINYDESK_SMTP_URL": "http://relay"})
    settings = Settings.from_env(
        {
            "TINYDESK_MAIL_FROM": "Example Support <Support@Example.COM>",
            "TINYDESK_SECRET_KEY": "k" * 40,
            "TINYDESK_SMTP_URL": "smtps://user:pass@mail.example.com:465",
        }
    )
    assert settings.mail.mail_from == "Support@example.com"
    assert settings.mail.from_name == "Example Support"
    assert settings.mail.sending and settings.mail.receiving
    assert "pass" not in repr(settings)
