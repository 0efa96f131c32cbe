"""Settings come only from the documented environment variables, all problems at once."""

from __future__ import annotations

import pytest

from bot.config import (
    DEFAULT_GITHUB_API_URL,
    MAKE_ADMIN_TOKEN,
    MAKE_WEBHOOK_SECRET,
    WEBHOOK_SECRET_MIN_LENGTH,
    ConfigError,
    Settings,
)
from bot.sim.fakegithub.keys import generate_app_key

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
    key.write_text(generate_app_key()[0])
    settings = Settings.from_env(
        {
            "DATABASE_URL": "postgres://u:p@db:5432/desk",
            "PORT": "5001",
            "GITHUB_APP_ID": "12345",
            "GITHUB_PRIVATE_KEY_PATH": str(key),
            "GITHUB_WEBHOOK_SECRET": "s3cret-of-20-chars!!",
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
    assert settings.github_webhook_secret == "s3cret-of-20-chars!!"
    assert settings.github_api_url == "https://ghe.example.com/api/v3"
    assert settings.admin_token == STRONG_TOKEN
    assert settings.public_url == "https://desk.example.com"
    assert settings.github_app_configured


def test_private_key_with_escaped_newlines_is_unescaped():
    settings = Settings.from_env({"GITHUB_PRIVATE_KEY": generate_app_key()[0].replace("\n", "\\n")})
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
        {
            "GITHUB_WEBHOOK_SECRET": "topsecret-topsecret",
            "GITHUB_PRIVATE_KEY": generate_app_key()[0],
        }
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


def _pem(key, encryption=None) -> str:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        encryption or serialization.NoEncryption(),
    ).decode()


def _key_problems(pem: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        Settings.from_env({"GITHUB_APP_ID": "1", "GITHUB_PRIVATE_KEY": pem})
    return info.value.problems


def test_a_private_key_that_does_not_parse_stops_the_start_naming_the_variable():
    """A truncated or mangled key used to be accepted (healthz said "configured") and then
    failed every job; now it is one problem at start, naming GITHUB_PRIVATE_KEY and never
    repeating the key's text."""
    good = generate_app_key()[0]
    mangled = good[:200] + "@@@" + good[203:]
    [problem] = _key_problems(mangled)
    assert problem.startswith("GITHUB_PRIVATE_KEY is not a private key that can be read")
    assert "\n" not in problem and good.splitlines()[1][:20] not in problem
    [problem] = _key_problems("not a key at all")
    assert "GITHUB_PRIVATE_KEY" in problem


def test_a_private_key_file_that_does_not_parse_names_its_absolute_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app.pem").write_text("-----BEGIN RSA PRIVATE KEY-----\nabc\n")
    (tmp_path / "app.der").write_bytes(b"\x30\x82\xff\xfe")
    for name in ("app.pem", "app.der", "missing.pem"):
        with pytest.raises(ConfigError) as info:
            Settings.from_env({"GITHUB_PRIVATE_KEY_PATH": name})
        [problem] = info.value.problems
        assert problem.startswith(f"GITHUB_PRIVATE_KEY_PATH ({tmp_path / name})"), problem


def test_a_public_an_encrypted_or_a_non_rsa_key_is_refused_with_what_it_is():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    public = generate_app_key()[1]
    assert "holds a public key" in _key_problems(public)[0]
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    locked = _pem(rsa_key, serialization.BestAvailableEncryption(b"pass"))
    assert "password-protected" in _key_problems(locked)[0]
    elliptic = _pem(ec.generate_private_key(ec.SECP256R1()))
    assert "not an RSA key" in _key_problems(elliptic)[0]
    # The same key unencrypted, in PKCS#8 ("BEGIN PRIVATE KEY"), is fine.
    assert Settings.from_env({"GITHUB_PRIVATE_KEY": _pem(rsa_key)}).github_private_key


@pytest.mark.parametrize("length", [1, 6, WEBHOOK_SECRET_MIN_LENGTH - 1])
def test_a_short_webhook_secret_stops_the_start_without_repeating_it(length):
    """A guessable secret lets anyone forge deliveries; the problem says how to make one."""
    secret = "q" * length
    with pytest.raises(ConfigError) as info:
        Settings.from_env({"GITHUB_WEBHOOK_SECRET": secret})
    [problem] = info.value.problems
    assert problem.startswith(f"GITHUB_WEBHOOK_SECRET is {length} characters long")
    assert MAKE_WEBHOOK_SECRET in problem and secret not in problem.split(":", 1)[1]


def test_webhook_secrets_as_github_and_readme_make_them_are_accepted():
    import secrets
    import subprocess
    import sys

    command = MAKE_WEBHOOK_SECRET.removeprefix("python3 -c ").strip("'")
    made = subprocess.run(
        [sys.executable, "-c", command], capture_output=True, text=True, check=True
    ).stdout.strip()
    for secret in (made, secrets.token_hex(20), "x" * WEBHOOK_SECRET_MIN_LENGTH):
        assert Settings.from_env({"GITHUB_WEBHOOK_SECRET": secret}).github_webhook_secret == secret


def test_an_app_id_that_is_not_a_number_is_one_problem_among_the_others():
    with pytest.raises(ConfigError) as info:
        Settings.from_env(
            {"GITHUB_APP_ID": "my-app", "GITHUB_PRIVATE_KEY": "x", "GITHUB_WEBHOOK_SECRET": "s"}
        )
    problems = info.value.problems
    assert [p.split(" ", 1)[0] for p in problems] == [
        "GITHUB_PRIVATE_KEY",
        "GITHUB_APP_ID",
        "GITHUB_WEBHOOK_SECRET",
    ]


def test_debug_loggers_are_a_comma_separated_list():
    settings = Settings.from_env({"TINYDESK_DEBUG_LOGGERS": " aiosqlite, sqlalchemy.engine ,"})
    assert settings.debug_loggers == ("aiosqlite", "sqlalchemy.engine")
    assert Settings.from_env({}).debug_loggers == ()
    with pytest.raises(ConfigError):
        Settings.from_env({"TINYDESK_DEBUG_LOGGERS": "aiosqlite sqlalchemy"})
