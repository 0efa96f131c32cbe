"""Settings, read once from the environment by the CLI; nothing reads it at import time."""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Mapping
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from bot.rules import callbacks
from storage.database import DEFAULT_URL

DEFAULT_GITHUB_API_URL = "https://api.github.com"
DEFAULT_PORT = 8000
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
EVENT_LOOPS = ("auto", "uvloop", "asyncio")
# The admin token opens every ticket and key: at least this long, and never a documented example.
ADMIN_TOKEN_MIN_LENGTH = 32
EXAMPLE_ADMIN_TOKENS = frozenset({"change-me"})
MAKE_ADMIN_TOKEN = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
# A webhook secret anyone could guess lets them forge deliveries. GitHub's generated secrets
# (40 hex digits) and README's token_hex(32) (64) pass; "secret" or "test" do not.
WEBHOOK_SECRET_MIN_LENGTH = 16
MAKE_WEBHOOK_SECRET = "python3 -c 'import secrets; print(secrets.token_hex(32))'"
# Loggers of TinyDesk's own packages: TINYDESK_LOG_LEVEL sets theirs; dependencies stay at
# WARNING unless named in TINYDESK_DEBUG_LOGGERS.
OWN_LOGGERS = ("tinydesk", "bot", "webhooks", "storage")


class StartupError(Exception):
    """A mistake in how TinyDesk was started (settings, port, database): one line each,
    printed as ``tinydesk: <line>`` on stderr, exit code 2, no traceback (unless --debug)."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        super().__init__("\n".join(lines))


class ConfigError(StartupError):
    """Every problem with the settings at once, each with a hint."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(problems)


@dataclasses.dataclass(frozen=True)
class RateLimits:
    """Requests allowed per window; 0 turns a limit off."""

    desk_requests_per_minute: int = 100
    desk_creates_per_minute: int = 50
    public_creates_per_minute: int = 10
    public_reads_per_minute: int = 120


@dataclasses.dataclass(frozen=True)
class Seller:
    """Who invoices are from (README, "Invoices"): printed on each invoice, and copied onto
    it when it is made, so a later change never alters an invoice already written."""

    name: str = "TinyDesk user"
    address: str | None = None
    tax_id: str | None = None
    email: str | None = None
    # The currency of a new client that names none (ISO 4217).
    currency: str = "EUR"

    def details(self) -> dict[str, str | None]:
        return {
            "name": self.name,
            "address": self.address,
            "taxId": self.tax_id,
            "email": self.email,
        }


@dataclasses.dataclass(frozen=True)
class MailSettings:
    """Mail in and out (README, "Email"). Off until TINYDESK_MAIL_FROM is set."""

    # TinyDesk's own address, e.g. support@example.com; plus-addressing on its local part
    # picks a product (support+my-saas-app@...) or a ticket (support+TK-00042.<token>@...).
    mail_from: str | None = None
    # The display name on TinyDesk's mail ("Example Support" <support@example.com>).
    from_name: str = "Support"
    # The relay mail goes out through: smtp://host:port (STARTTLS when offered) or
    # smtps://user:pass@host:465. Unset: nothing is sent (and nothing queued).
    smtp_url: str | None = dataclasses.field(default=None, repr=False)
    # The listener `tinydesk serve` starts for mail in; None: no listener (`tinydesk mail-in`
    # still reads a message on stdin from an MTA).
    listen_port: int | None = None
    listen_host: str = "127.0.0.1"
    # Speak LMTP instead of SMTP (a mail server in front hands messages on).
    lmtp: bool = False
    # A reply to a ticket closed at most this many days ago reopens it; older, a new ticket.
    reopen_days: int = 14
    # At most this many mails to one address an hour (a loop breaker); 0: no limit.
    sends_per_address_per_hour: int = 20
    # The largest message taken in, attachments included.
    max_message_bytes: int = 10 * 1024 * 1024
    # Staff addresses that get the daily digest of open tickets (none: no digest).
    digest_to: tuple[str, ...] = ()
    # Steps within this long of the first are told in one mail. Not an environment setting:
    # tests shorten it.
    coalesce_seconds: float = 60.0

    @property
    def receiving(self) -> bool:
        return self.mail_from is not None

    @property
    def sending(self) -> bool:
        return self.mail_from is not None and self.smtp_url is not None


@dataclasses.dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_URL
    host: str = "0.0.0.0"
    port: int = DEFAULT_PORT
    public_url: str | None = None
    admin_token: str | None = dataclasses.field(default=None, repr=False)
    # Encrypts the GitHub App credentials stored by the manifest flow (bot.github.stored_app);
    # unset, the admin token does.
    secret_key: str | None = dataclasses.field(default=None, repr=False)
    github_app_id: str | None = None
    github_private_key: str | None = dataclasses.field(default=None, repr=False)
    github_webhook_secret: str | None = dataclasses.field(default=None, repr=False)
    github_api_url: str = DEFAULT_GITHUB_API_URL
    # The App's OAuth client, for staff sign-in with GitHub (GITHUB_CLIENT_ID/_SECRET, else
    # what the manifest flow stored).
    github_client_id: str | None = None
    github_client_secret: str | None = dataclasses.field(default=None, repr=False)
    rate_limits: RateLimits = RateLimits()
    trust_forwarded_for: bool = False
    # Rate-limit counters and admin sessions in Redis instead of the database (storage.limits).
    redis_url: str | None = dataclasses.field(default=None, repr=False)
    # Background workers (webhook inbox, GitHub outbox) run in this process.
    run_workers: bool = True
    # The event loop `tinydesk serve` and `tinydesk worker` run on: uvloop where it is
    # installed ("auto"), or asyncio's own (bench/README.md, "Event loop").
    event_loop: str = "auto"
    # How long a completed issue close waits for the merge that may have caused it (GitHub
    # delivers the close and the merge in either order). Not an environment setting: tests
    # shorten it.
    close_grace_seconds: float = 60.0
    # The tracking page's first wait between polls (bot.rules.poll_schedule). Not an
    # environment setting: tests shorten it.
    tracking_poll_seconds: float = 5.0
    # How often the SLA warnings and breaches due are looked for (bot.tickets.sla_alerts).
    sla_sweep_seconds: float = 30.0
    seller: Seller = Seller()
    mail: MailSettings = MailSettings()
    # Networks ticket callbacks may reach although private or local (TINYDESK_CALLBACK_ALLOW;
    # bot.rules.callbacks).
    callback_allow: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    # Alerts to tickets (bot.rules.alerts): a group firing again this long after its ticket
    # was finished reopens it (later: a new ticket); the label that sets the priority.
    alert_reopen_minutes: int = 1440
    alert_priority_label: str = "severity"
    # Serve the MCP endpoint at /mcp (streamable HTTP) beside the API (TINYDESK_MCP; bot.mcp).
    mcp_endpoint: bool = False
    # `tinydesk mcp` (an MCP client's local server): the TinyDesk it talks to (TINYDESK_URL)
    # and the desk key its desk tools send (TINYDESK_API_KEY).
    tinydesk_url: str | None = None
    desk_api_key: str | None = dataclasses.field(default=None, repr=False)
    log_level: str = "INFO"
    # Dependencies' loggers shown at DEBUG (``aiosqlite``, ``sqlalchemy.engine``, ...).
    debug_loggers: tuple[str, ...] = ()

    @property
    def github_app_configured(self) -> bool:
        return bool(self.github_app_id and self.github_private_key)

    @property
    def missing_github_settings(self) -> list[str]:
        missing = []
        if not self.github_app_id:
            missing.append("GITHUB_APP_ID")
        if not self.github_private_key:
            missing.append("GITHUB_PRIVATE_KEY or GITHUB_PRIVATE_KEY_PATH")
        if not self.github_webhook_secret:
            missing.append("GITHUB_WEBHOOK_SECRET")
        return missing

    def base_url(self, request_origin: str | None = None) -> str:
        """The URL links point at: TINYDESK_PUBLIC_URL, else where the request came in."""
        if self.public_url:
            return self.public_url.rstrip("/")
        if request_origin:
            return request_origin.rstrip("/")
        return f"http://localhost:{self.port}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        problems: list[str] = []

        def integer(name: str, default: int, *, minimum: int = 0) -> int:
            raw = environ.get(name, "").strip()
            if not raw:
                return default
            try:
                value = int(raw)
            except ValueError:
                problems.append(f"{name}={raw!r} is not a whole number")
                return default
            if value < minimum:
                problems.append(f"{name} must be at least {minimum}, got {value}")
            return value

        def flag(name: str, default: bool) -> bool:
            raw = environ.get(name, "").strip().lower()
            if not raw:
                return default
            if raw in {"1", "true", "yes", "on"}:
                return True
            if raw in {"0", "false", "no", "off"}:
                return False
            problems.append(f"{name}={raw!r} is not a boolean (use true or false)")
            return default

        database_url = environ.get("DATABASE_URL", "").strip() or DEFAULT_URL
        database_url = _normalise_database_url(database_url)
        if not database_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            problems.append(
                "DATABASE_URL must start with sqlite+aiosqlite:// or postgresql+asyncpg:// "
                "(plain postgres:// and postgresql:// are accepted and converted)"
            )

        port = integer("PORT", DEFAULT_PORT, minimum=0)
        if port > 65535:
            problems.append(f"PORT must be at most 65535, got {port}")

        private_key = environ.get("GITHUB_PRIVATE_KEY", "").strip() or None
        key_path = environ.get("GITHUB_PRIVATE_KEY_PATH", "").strip()
        key_source = "GITHUB_PRIVATE_KEY"
        if private_key and key_path:
            problems.append("set GITHUB_PRIVATE_KEY or GITHUB_PRIVATE_KEY_PATH, not both")
        elif key_path:
            key_source = f"GITHUB_PRIVATE_KEY_PATH ({Path(key_path).absolute()})"
            try:
                private_key = Path(key_path).read_text()
            except OSError as exc:
                problems.append(f"{key_source}: cannot read the file: {exc.strerror}")
            except UnicodeDecodeError:
                problems.append(
                    f"{key_source} is not a text (PEM) file; TinyDesk reads the .pem file "
                    "GitHub generates"
                )
        if private_key:
            # Platforms that keep env vars on one line store the PEM with literal "\n".
            private_key = private_key.replace("\\n", "\n")
            problem = private_key_problem(private_key, key_source)
            if problem:
                problems.append(problem)

        app_id = environ.get("GITHUB_APP_ID", "").strip() or None
        if app_id and not app_id.isdigit():
            problems.append(
                f'GITHUB_APP_ID must be the App\'s numeric id ("App ID" on its settings page), '
                f"got {app_id!r}"
            )

        webhook_secret = environ.get("GITHUB_WEBHOOK_SECRET", "") or None
        if webhook_secret is not None and len(webhook_secret) < WEBHOOK_SECRET_MIN_LENGTH:
            problems.append(
                f"GITHUB_WEBHOOK_SECRET is {len(webhook_secret)} characters long, shorter than "
                f"{WEBHOOK_SECRET_MIN_LENGTH}; make one with: {MAKE_WEBHOOK_SECRET} (and set it "
                "on the App's settings page too)"
            )

        api_url = environ.get("GITHUB_API_URL", "").strip() or DEFAULT_GITHUB_API_URL
        if not api_url.startswith(("http://", "https://")):
            problems.append(f"GITHUB_API_URL must be an http(s) URL, got {api_url!r}")

        public_url = environ.get("TINYDESK_PUBLIC_URL", "").strip() or None
        if public_url and not public_url.startswith(("http://", "https://")):
            problems.append(f"TINYDESK_PUBLIC_URL must be an http(s) URL, got {public_url!r}")
        tinydesk_url = environ.get("TINYDESK_URL", "").strip() or None
        if tinydesk_url and not tinydesk_url.startswith(("http://", "https://")):
            problems.append(f"TINYDESK_URL must be an http(s) URL, got {tinydesk_url!r}")

        limits = RateLimits(
            desk_requests_per_minute=integer("TINYDESK_DESK_RATE_LIMIT", 100),
            desk_creates_per_minute=integer("TINYDESK_DESK_CREATE_RATE_LIMIT", 50),
            public_creates_per_minute=integer("TINYDESK_PUBLIC_CREATE_RATE_LIMIT", 10),
            public_reads_per_minute=integer("TINYDESK_PUBLIC_READ_RATE_LIMIT", 120),
        )

        admin_token = environ.get("TINYDESK_ADMIN_TOKEN", "").strip() or None
        if admin_token is not None:
            problems.extend(admin_token_problems(admin_token))

        secret_key = environ.get("TINYDESK_SECRET_KEY", "").strip() or None
        if secret_key is not None and len(secret_key) < ADMIN_TOKEN_MIN_LENGTH:
            problems.append(
                f"TINYDESK_SECRET_KEY is {len(secret_key)} characters long, shorter than "
                f"{ADMIN_TOKEN_MIN_LENGTH}; make a strong one with: {MAKE_ADMIN_TOKEN}"
            )

        redis_url = environ.get("REDIS_URL", "").strip() or None
        if redis_url and not redis_url.startswith(("redis://", "rediss://", "unix://")):
            problems.append("REDIS_URL must start with redis://, rediss:// or unix://")

        log_level = environ.get("TINYDESK_LOG_LEVEL", "").strip().upper() or "INFO"
        if log_level not in LOG_LEVELS:
            problems.append(
                f"TINYDESK_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {log_level!r}"
            )
        debug_loggers = tuple(
            name.strip() for name in environ.get("TINYDESK_DEBUG_LOGGERS", "").split(",")
        )
        debug_loggers = tuple(name for name in debug_loggers if name)
        if any(" " in name for name in debug_loggers):
            problems.append(
                "TINYDESK_DEBUG_LOGGERS is a comma-separated list of logger names, "
                "e.g. aiosqlite,sqlalchemy.engine"
            )

        event_loop = environ.get("TINYDESK_EVENT_LOOP", "").strip().lower() or "auto"
        if event_loop not in EVENT_LOOPS:
            problems.append(
                f"TINYDESK_EVENT_LOOP must be one of {', '.join(EVENT_LOOPS)}, got {event_loop!r}"
            )

        seller = _seller(environ, problems)
        mail = _mail(environ, problems, has_secret=bool(secret_key or admin_token))
        callback_allow, allow_problems = callbacks.parse_allow(
            environ.get("TINYDESK_CALLBACK_ALLOW", "")
        )
        problems.extend(allow_problems)
        settings = cls(
            database_url=database_url,
            port=port,
            public_url=public_url.rstrip("/") if public_url else None,
            admin_token=admin_token,
            secret_key=secret_key,
            github_app_id=app_id,
            github_private_key=private_key,
            github_webhook_secret=webhook_secret,
            github_api_url=api_url.rstrip("/"),
            github_client_id=environ.get("GITHUB_CLIENT_ID", "").strip() or None,
            github_client_secret=environ.get("GITHUB_CLIENT_SECRET", "").strip() or None,
            rate_limits=limits,
            trust_forwarded_for=flag("TINYDESK_TRUST_PROXY", False),
            redis_url=redis_url,
            run_workers=flag("TINYDESK_WORKERS", True),
            event_loop=event_loop,
            sla_sweep_seconds=integer("TINYDESK_SLA_SWEEP_SECONDS", 30, minimum=1),
            seller=seller,
            mail=mail,
            callback_allow=callback_allow,
            alert_reopen_minutes=integer("TINYDESK_ALERT_REOPEN_MINUTES", 1440, minimum=0),
            alert_priority_label=environ.get("TINYDESK_ALERT_PRIORITY_LABEL", "").strip()
            or "severity",
            mcp_endpoint=flag("TINYDESK_MCP", False),
            tinydesk_url=tinydesk_url.rstrip("/") if tinydesk_url else None,
            desk_api_key=environ.get("TINYDESK_API_KEY", "").strip() or None,
            log_level=log_level,
            debug_loggers=debug_loggers,
        )
        if problems:
            raise ConfigError(problems)
        return settings


def _seller(environ: Mapping[str, str], problems: list[str]) -> Seller:
    """TINYDESK_SELLER_NAME, _ADDRESS (lines separated by ``\\n`` or real newlines),
    _TAX_ID, _EMAIL and TINYDESK_BILLING_CURRENCY."""
    from bot.rules.money import is_currency

    def text(name: str, limit: int) -> str | None:
        value = environ.get(name, "").strip().replace("\\n", "\n")
        if len(value) > limit:
            problems.append(f"{name} must be at most {limit} characters")
            return None
        return value or None

    currency = environ.get("TINYDESK_BILLING_CURRENCY", "").strip().upper() or "EUR"
    if not is_currency(currency):
        problems.append(
            f"TINYDESK_BILLING_CURRENCY={currency!r} is not an ISO 4217 code (e.g. EUR, USD)"
        )
        currency = "EUR"
    return Seller(
        name=text("TINYDESK_SELLER_NAME", 200) or Seller.name,
        address=text("TINYDESK_SELLER_ADDRESS", 1000),
        tax_id=text("TINYDESK_SELLER_TAX_ID", 64),
        email=text("TINYDESK_SELLER_EMAIL", 320),
        currency=currency,
    )


def _mail(environ: Mapping[str, str], problems: list[str], *, has_secret: bool) -> MailSettings:
    """TINYDESK_MAIL_FROM and the rest of README's "Email" settings."""
    from email.utils import parseaddr

    def integer(name: str, default: int, *, minimum: int, maximum: int) -> int:
        raw = environ.get(name, "").strip()
        if not raw:
            return default
        if not raw.isdigit() or not minimum <= int(raw) <= maximum:
            problems.append(f"{name} must be a whole number from {minimum} to {maximum}")
            return default
        return int(raw)

    raw_from = environ.get("TINYDESK_MAIL_FROM", "").strip()
    mail_from: str | None = None
    from_name = MailSettings.from_name
    if raw_from:
        name, address = parseaddr(raw_from)
        local, at, domain = address.rpartition("@")
        if not at or not local or "." not in domain or "+" in local or " " in address:
            problems.append(
                f"TINYDESK_MAIL_FROM={raw_from!r} is not a plain address such as "
                "support@example.com (TinyDesk adds +product and +ticket tags itself)"
            )
        else:
            mail_from = f"{local}@{domain.lower()}"
            from_name = name.strip() or from_name
        if not has_secret:
            problems.append(
                "TINYDESK_MAIL_FROM needs TINYDESK_SECRET_KEY (or TINYDESK_ADMIN_TOKEN): it "
                f"signs the threading tokens in TinyDesk's mail; make one with: {MAKE_ADMIN_TOKEN}"
            )
    smtp_url = environ.get("TINYDESK_SMTP_URL", "").strip() or None
    if smtp_url:
        from yarl import URL

        try:
            url = URL(smtp_url)
        except ValueError:
            url = None
        if url is None or url.scheme not in {"smtp", "smtps"} or not url.host:
            problems.append(
                "TINYDESK_SMTP_URL must look like smtp://host:port or smtps://user:pass@host:465"
            )
            smtp_url = None
        elif not raw_from:
            problems.append("TINYDESK_SMTP_URL is set but TINYDESK_MAIL_FROM is not: set both")
    port_raw = environ.get("TINYDESK_SMTP_PORT", "").strip()
    listen_port = integer("TINYDESK_SMTP_PORT", 0, minimum=0, maximum=65535) if port_raw else None
    if listen_port is not None and not raw_from:
        problems.append("TINYDESK_SMTP_PORT is set but TINYDESK_MAIL_FROM is not: set both")
    lmtp_raw = environ.get("TINYDESK_SMTP_LMTP", "").strip().lower()
    if lmtp_raw and lmtp_raw not in {"1", "true", "yes", "on", "0", "false", "no", "off"}:
        problems.append(f"TINYDESK_SMTP_LMTP={lmtp_raw!r} is not a boolean (use true or false)")
    digest_to = tuple(
        part.strip() for part in environ.get("TINYDESK_MAIL_DIGEST_TO", "").split(",")
    )
    digest_to = tuple(part for part in digest_to if part)
    for address in digest_to:
        if "@" not in address or " " in address:
            problems.append(f"TINYDESK_MAIL_DIGEST_TO: {address!r} is not an address")
    return MailSettings(
        mail_from=mail_from,
        from_name=from_name,
        smtp_url=smtp_url,
        listen_port=listen_port,
        listen_host=environ.get("TINYDESK_SMTP_HOST", "").strip() or "127.0.0.1",
        lmtp=lmtp_raw in {"1", "true", "yes", "on"},
        reopen_days=integer("TINYDESK_MAIL_REOPEN_DAYS", 14, minimum=0, maximum=3650),
        sends_per_address_per_hour=integer(
            "TINYDESK_MAIL_RATE_LIMIT", 20, minimum=0, maximum=100_000
        ),
        max_message_bytes=integer(
            "TINYDESK_MAIL_MAX_BYTES", 10 * 1024 * 1024, minimum=1024, maximum=50 * 1024 * 1024
        ),
        digest_to=digest_to,
    )


def mail_key(settings: Settings) -> bytes | None:
    """The key of the threading tokens (bot.rules.mail_tokens), or None without a secret."""
    from bot.rules.mail_tokens import derive_key

    secret = settings.secret_key or settings.admin_token
    return derive_key(secret) if secret else None


def admin_token_problems(token: str) -> list[str]:
    """What is wrong with an admin token (one line, with how to make a good one); [] if fine.
    The token itself is never repeated: error output may end up in a shared log."""
    if token.lower() in EXAMPLE_ADMIN_TOKENS:
        weakness = "is the README's example value"
    elif len(token) < ADMIN_TOKEN_MIN_LENGTH:
        weakness = f"is {len(token)} characters long, shorter than {ADMIN_TOKEN_MIN_LENGTH}"
    else:
        return []
    return [f"TINYDESK_ADMIN_TOKEN {weakness}; make a strong one with: {MAKE_ADMIN_TOKEN}"]


def private_key_problem(pem: str, source: str) -> str | None:
    """What is wrong with the App's private key, naming where it came from (``source``);
    None if it is an RSA private key GitHub's JWTs can be signed with. The key itself is
    never repeated: error output may end up in a shared log."""
    download = "download a new one from the App's settings page (Private keys)"
    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except TypeError:
        return (
            f"{source} holds a password-protected key; TinyDesk needs the key as GitHub "
            f"generates it (unencrypted): {download}"
        )
    except (ValueError, UnsupportedAlgorithm):
        if "PUBLIC KEY-----" in pem:
            return f"{source} holds a public key, not the App's private key: {download}"
        return (
            f"{source} is not a private key that can be read (expected the .pem file GitHub "
            f"generates, -----BEGIN RSA PRIVATE KEY-----); {download}"
        )
    if not isinstance(key, rsa.RSAPrivateKey):
        return f"{source} is not an RSA key (GitHub signs App tokens with RS256): {download}"
    return None


def _normalise_database_url(url: str) -> str:
    """Accept the URLs hosting platforms hand out (postgres://, postgresql://)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
    return url
