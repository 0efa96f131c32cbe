"""The rules of ticket callbacks (bot.tickets.callbacks): which URLs are taken, which addresses
may be called (no SSRF), and when a failed delivery is tried again or parked.

Addresses: a callback goes to a public (globally routable, unicast) address only; loopback,
private (RFC 1918, unique local), shared (100.64/10), link-local (169.254/16, where cloud
metadata lives), multicast, reserved and unspecified addresses are refused, IPv4 written as
IPv6 (``::ffff:127.0.0.1``) included, unless a network of ``TINYDESK_CALLBACK_ALLOW``
holds the address. The rule is applied to the address connected to, after DNS resolution
(bot.tickets.callbacks' resolver), so a public name resolving to 10.0.0.1 is refused too.
"""

from __future__ import annotations

import ipaddress
import re
import urllib.parse
from collections.abc import Iterable, Sequence
from typing import Any

from bot.rules.validation import FieldErrors

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

FIELD = "callbackUrl"
SECRET_FIELD = "callbackSecret"
MAX_URL = 2000  # ticket_callbacks.url
URL_MESSAGE = (
    f"{FIELD} must be an http(s) URL of at most {MAX_URL} characters, to a host name or a "
    "public address, without a user or password"
)
# A port, 1 to 65535 (also the SLA webhooks' rule: bot.tickets.sla_webhook).
PORT_PATTERN = (
    r"(?::(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}"
    r"|[1-9][0-9]{0,3}))?"
)
# What the OpenAPI document promises is taken: http(s) to a host name (its last label starts
# with a letter, so no address), a port, then printable ASCII. The server takes more: a
# public address, or an allowlisted one (url_problem).
URL_PATTERN = (
    rf"^https?://(?:[A-Za-z0-9-]+\.)*[A-Za-z][A-Za-z0-9-]*{PORT_PATTERN}(?:[/?#][!-~]*)?$"
)

_URL = re.compile(URL_PATTERN)

URL_HINT = (
    f"Send {FIELD} as the https:// URL your receiver answers at, on a public address "
    "(redirects are not followed), or leave it out."
)

# Waits between attempts: 10 s, 1 min, 5 min, 30 min, 2 h, 6 h, 15 h: eight attempts over
# about a day, then the delivery is parked (the outbox's eight attempts, bot.jobs.worker).
RETRY_DELAYS: tuple[float, ...] = (10, 60, 300, 1800, 7200, 21600, 54000)
# Answers worth trying again; any other non-2xx answer is final (410 Gone turns the
# callback off).
RETRIED_STATUSES = frozenset({408, 425, 429})

PENDING, DELIVERED, PARKED, STOPPED = "pending", "delivered", "parked", "stopped"


def address_problem(address: Address, allow: Sequence[Network] = ()) -> str | None:
    """Why a callback may not connect to ``address`` (None: it may)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if any(address.version == net.version and address in net for net in allow):
        return None
    if address.is_global and not address.is_multicast:
        return None
    return (
        f"{address} is a {_kind(address)} address; callbacks go to public addresses only "
        "(TINYDESK_CALLBACK_ALLOW lists the networks excepted)"
    )


def _kind(address: Address) -> str:
    for kind, test in (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("unspecified", address.is_unspecified),
        ("private", address.is_private),
    ):
        if test:
            return kind
    return "reserved"


def literal_address(host: str) -> Address | None:
    """The address a URL's host names literally (``[::1]`` included), else None."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def url_problem(value: object, allow: Sequence[Network] = ()) -> str | None:
    """Why ``value`` is not a callback URL TinyDesk will call (None: it is)."""
    if not isinstance(value, str) or not value or len(value) > MAX_URL:
        return URL_MESSAGE
    if any(not "!" <= c <= "~" for c in value):  # no white space, control or non-ASCII
        return URL_MESSAGE
    if not value.startswith(("http://", "https://")):  # as written, in lower case
        return URL_MESSAGE
    try:
        parts = urllib.parse.urlsplit(value)
        parts.port  # noqa: B018 - raises for a port out of range
    except ValueError:
        return URL_MESSAGE
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return URL_MESSAGE
    if parts.username is not None or parts.password is not None:
        return URL_MESSAGE
    address = literal_address(parts.hostname)
    if address is None:
        # A host name: exactly the OpenAPI document's pattern.
        return None if _URL.match(value) else URL_MESSAGE
    if problem := address_problem(address, allow):
        return f"{FIELD}: {problem}"
    return None


def validate_field(
    data: dict[str, Any], errors: FieldErrors, allow: Sequence[Network] = ()
) -> str | None:
    """``callbackUrl`` of a create (optional; null is none), public or desk."""
    value = data.get(FIELD)
    if value is None:
        return None
    if problem := url_problem(value, allow):
        errors.add(FIELD, problem)
        return None
    return str(value)


def parse_allow(text: str) -> tuple[tuple[Network, ...], list[str]]:
    """TINYDESK_CALLBACK_ALLOW: networks (``10.0.0.0/8``) or addresses, comma-separated;
    returns them and what could not be read."""
    networks: list[Network] = []
    problems: list[str] = []
    for item in _items(text):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            problems.append(
                f"TINYDESK_CALLBACK_ALLOW: {item!r} is not a network (e.g. 10.0.0.0/8) or address"
            )
    return tuple(networks), problems


def _items(text: str) -> Iterable[str]:
    return (item.strip() for item in text.split(",") if item.strip())


def retry_delay(attempts: int) -> float | None:
    """The wait after the ``attempts``-th failed attempt; None once the day is used up."""
    if 1 <= attempts <= len(RETRY_DELAYS):
        return RETRY_DELAYS[attempts - 1]
    return None


def outcome_of(status: int) -> str:
    """What an HTTP answer means for a delivery: delivered, retry, stop (410) or park."""
    if 200 <= status < 300:
        return DELIVERED
    if status == 410:
        return STOPPED
    if status >= 500 or status in RETRIED_STATUSES:
        return "retry"
    return PARKED
