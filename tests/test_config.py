"""Settings come only from the documented environment variables, all problems at once."""

from __future__ import annotations

import pytest

from bot.config import DEFAULT_GITHUB_API_URL, MAKE_ADMIN_TOKEN, ConfigError, Settings

STRONG_TOKEN = "Yp3QeV9z-1kPq0w8RrT2u5XsAa7bCdEfGhJ"  # 35 characters


def test_no_settings_at_all_is_a_working_sqlite_setup():
    settings = Settings.from_env({})
    assert settings.database_url == "sqlite+aiosqlite:///tinydesk.db"
    assert settings.port == 8000
    assert settings.github_api_url == DEFAULT_GITHUB_API_URL
    assert settings.admin_token is None
    assert not settings.github_app_configured
    assert settings.missing_github_settings == [
        "GITHUB_APP_ID",
        "GITHUB_PRIVATE_KEY or GITHUB_PRIVATE_KEY_PATH",
        "GITHUB_WEBHOOK_SECRET",
    ]


def test_every_documented_variable_is_read(tmp_path):
    key = tmp_path / "app.pem"
    key.write_text("-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----\n")
    settings = Settings.from_env(
        {
            "DATABASE_URL": "postgres://u:p@db:5432/desk",
            "PORT": "5001",
            "GITHUB_APP_ID": "12345",
            "GITHUB_PRIVATE_KEY_PATH": str(key),
            "GITHUB_WEBHOOK_SECRET": "s3cret",
            "GITHUB_API_URL": "https://ghe.example.com/api/v3/",
            "TINYDESK_ADMIN_TOKEN": STRONG_TOKEN,
            "TINYDESK_PUBLIC_URL": "https://desk.example.com/",
            "TINYDESK_LOG_LEVEL": "debug",
        }
    )
    assert settings.log_level == "DEBUG"
    assert settings.database_url == "postgresql+asyncpg://u:p@db:5432/desk"
    assert settings.port == 5001
    assert settings.github_app_id == "12345"
    assert settings.github_private_key.startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert settings.github_webhook_secret == "s3cret"
    assert settings.github_api_url == "https://ghe.example.com/api/v3"
    assert settings.admin_token == STRONG_TOKEN
    assert settings.public_url == "https://desk.example.com"
    assert settings.github_app_configured


def test_private_key_with_escaped_newlines_is_unescaped():
    settings = Settings.from_env(
        {
            "GITHUB_PRIVATE_KEY": (
                "-----BEGIN RSA PRIVATE KEY-----\\nabc\\n-----END RSA PRIVATE KEY-----"
            )
        }
    )
    assert "\n" in settings.github_private_key and "\\n" not in settings.github_private_key


def test_all_problems_are_listed_together(tmp_path):
    with pytest.raises(ConfigError) as info:
        Settings.from_env(
            {
                "DATABASE_URL": "mysql://x",
                "PORT": "eighty",
                "GITHUB_APP_ID": "my-app",
                "GITHUB_PRIVATE_KEY_PATH": str(tmp_path / "missing.pem"),
                "GITHUB_API_URL": "ftp://x",
                "TINYDESK_PUBLIC_URL": "desk.example.com",
                "TINYDESK_LOG_LEVEL": "chatty",
            }
        )
    problems = "\n".join(info.value.problems)
    for name in (
        "TINYDESK_LOG_LEVEL",
        "DATABASE_URL",
        "PORT",
        "GITHUB_APP_ID",
        "GITHUB_PRIVATE_KEY_PATH",
        "GITHUB_API_URL",
        "TINYDESK_PUBLIC_URL",
    ):
        assert name in problems
    assert len(info.value.problems) == 7


def test_secrets_are_not_in_the_repr():
    settings = Settings.from_env(
        {"GITHUB_WEBHOOK_SECRET": "topsecret", "GITHUB_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----x"}
    )
    assert "topsecret" not in repr(settings)
    assert "BEGIN" not in repr(settings)


@pytest.mark.parametrize(
    "token",
    ["change-me", "CHANGE-ME", "  change-me  ", "x" * 31, "adm"],
)
def test_a_weak_admin_token_stops_the_start_with_one_line_saying_how_to_make_one(token):
    """Protects the admin area (every ticket, every key) from a guessable token: the README's
    example or anything shorter than 32 characters is refused, alongside the other problems."""
    with pytest.raises(ConfigError) as info:
        Settings.from_env({"TINYDESK_ADMIN_TOKEN": token, "PORT": "eighty"})
    problems = info.value.problems
    assert len(problems) == 2 and any("PORT" in p for p in problems)
    [problem] = [p for p in problems if "TINYDESK_ADMIN_TOKEN" in p]
    assert "\n" not in problem and MAKE_ADMIN_TOKEN in problem
    if token.strip() not in ("change-me", "CHANGE-ME"):
        assert token.strip() not in problem  # the value itself never reaches the error output


def test_the_readme_example_makes_an_admin_token_that_is_accepted():
    """The command the error and the README recommend makes a token the check accepts."""
    import subprocess
    import sys

    command = MAKE_ADMIN_TOKEN.removeprefix("python3 -c ").strip("'")
    token = subprocess.run(
        [sys.executable, "-c", command], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert Settings.from_env({"TINYDESK_ADMIN_TOKEN": token}).admin_token == token


def test_an_admin_token_of_32_characters_is_accepted():
    token = "k" * 16 + "Q" * 16
    assert Settings.from_env({"TINYDESK_ADMIN_TOKEN": token}).admin_token == token
