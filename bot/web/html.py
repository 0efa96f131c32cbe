"""Building HTML safely in Python, and the page layout every TinyDesk page shares.

Every value that reaches a page goes through ``escape``, the one escaping helper: templates
are plain ``str.format`` strings whose ``{name}`` fields are filled by ``fragment`` with
escaped values. Only ``Html`` (what these helpers return) passes through unescaped, so a
subject like ``<script>`` is shown as text, never run.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import re
from collections.abc import Iterable, Mapping, Sequence
from urllib.parse import quote, urlencode

from aiohttp import web

from bot import __version__
from bot.views.timefmt import iso_ms

STATIC_PREFIX = "/static"


class Html(str):
    """Markup that is already safe to send: made only by ``escape``, ``fragment`` and ``join``."""

    __slots__ = ()


# The characters html.escape replaces; most values on a page (titles, times, ids) have none.
_SPECIAL = re.compile(r"[&<>\"']")


def escape(value: object) -> Html:
    """The one escaping helper: text becomes HTML-escaped (quotes too); ``Html`` stays as is."""
    if isinstance(value, Html):
        return value
    return Html(_escaped(value))


def _escaped(value: object) -> str:
    """What ``escape`` makes of ``value``, as a plain string: filling a template needs no
    ``Html`` copy of each value, and plain text, the commonest value, is looked at first (a
    tracking page fills about 180 fields; bench/README.md, "Reads")."""
    if type(value) is str:
        text = value
    elif isinstance(value, Html):
        return value
    elif value is None:
        return ""
    else:
        text = str(value)
    return html.escape(text, quote=True) if _SPECIAL.search(text) else text


def fragment(template: str, /, **values: object) -> Html:
    """``template`` with each ``{name}`` replaced by the escaped ``values[name]``."""
    return Html(
        template.format_map(
            {name: v if type(v) is Html else _escaped(v) for name, v in values.items()}
        )
    )


def join(parts: Iterable[object], separator: str = "") -> Html:
    """Escaped parts joined into one piece of markup."""
    return Html(_escaped(separator).join([p if type(p) is Html else _escaped(p) for p in parts]))


# A segment of only these needs no percent-encoding (``quote`` would return it unchanged,
# at a cost that showed in the inbox's profile: a few links on each of 50 rows).
_PLAIN_SEGMENT = re.compile(r"[A-Za-z0-9_.~-]*")


def _segment(segment: str) -> str:
    return segment if _PLAIN_SEGMENT.fullmatch(segment) else quote(segment, safe="")


def path(*segments: str, query: Mapping[str, object] | None = None) -> str:
    """``/a/b?x=1`` from raw segments: each segment percent-encoded, empty query values dropped."""
    url = "/" + "/".join(_segment(segment) for segment in segments)
    params = {k: str(v) for k, v in (query or {}).items() if v not in (None, "")}
    return f"{url}?{urlencode(params)}" if params else url


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# What ``iso_ms`` writes (``2026-03-24T08:00:00.000Z``): read back by slicing, not parsing.
_ISO_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def readable_time(value: dt.datetime | str | None) -> str:
    """``24 Mar 2026, 08:00 UTC``; the same format track.js writes."""
    if value is None:
        return ""
    if isinstance(value, str):
        if _ISO_MS.fullmatch(value) and 1 <= int(value[5:7]) <= 12:
            # Already UTC: the fields are the digits (a view's times are all in this form).
            month = MONTHS[int(value[5:7]) - 1]
            return f"{int(value[8:10])} {month} {int(value[:4])}, {value[11:16]} UTC"
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    value = value.astimezone(dt.UTC)
    month = MONTHS[value.month - 1]
    return f"{value.day} {month} {value.year}, {value.hour:02d}:{value.minute:02d} UTC"


def time_element(value: dt.datetime | str | None, *, empty: str = "") -> Html:
    """A ``<time datetime="ISO">`` with the readable form as its text."""
    if value is None:
        return escape(empty)
    iso = value if isinstance(value, str) else iso_ms(value)
    return Html(f'<time datetime="{_escaped(iso)}">{_escaped(readable_time(value))}</time>')


def static_url(name: str) -> str:
    """A static file's URL; the version in the query makes browsers fetch it anew on upgrade."""
    return f"{STATIC_PREFIX}/{name}?v={__version__}"


LAYOUT = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{title} · TinyDesk</title>
<link rel="stylesheet" href="{stylesheet}">
{scripts}
</head>
<body>
<a class="skip-link" href="#main">Skip to content</a>
<header class="site-header">
<div class="wrap header-row">
<a class="brand" href="/">TinyDesk</a>
<nav aria-label="Site">
<ul class="nav-list">{nav}</ul>
</nav>
</div>
</header>
<main id="main" class="wrap" tabindex="-1"{main_attributes}>
{content}
</main>
<footer class="site-footer">
<div class="wrap"><p>TinyDesk {version} ·
<a href="/api/docs">API reference</a> · <a href="/healthz">Health</a></p></div>
</footer>
</body>
</html>
"""

PUBLIC_NAV = (("Home", "/"), ("Submit a ticket", "/submit"), ("Track a ticket", "/track"))


def nav_items(items: Iterable[tuple[str, str]], current_path: str) -> Html:
    """Nav links; the one for this page (the longest that contains it) has ``aria-current``."""
    items = tuple(items)
    containing = [
        href
        for _, href in items
        if current_path == href or current_path.startswith(href.rstrip("/") + "/")
    ]
    return _nav_html(items, max(containing, key=len, default=None))


@functools.lru_cache(maxsize=64)
def _nav_html(items: tuple[tuple[str, str], ...], current: str | None) -> Html:
    """The nav's markup, made once for each set of links and current link (a handful)."""
    return join(
        fragment(
            '<li><a href="{href}"{marker}>{label}</a></li>',
            href=href,
            marker=Html(' aria-current="page"') if href == current else Html(""),
            label=label,
        )
        for label, href in items
    )


@functools.lru_cache(maxsize=16)
def _script_tags(scripts: tuple[str, ...]) -> Html:
    """A page's script tags, made once for each of the few sets of scripts pages load."""
    return join(
        fragment('<script src="{src}" defer></script>', src=static_url(name)) for name in scripts
    )


def page(
    request: web.Request,
    title: str,
    content: Html,
    *,
    status: int = 200,
    scripts: Iterable[str] = (),
    nav: Iterable[tuple[str, str]] = PUBLIC_NAV,
    main_attributes: dict[str, str] | None = None,
    no_store: bool = False,
) -> web.Response:
    """A whole page in the shared layout. Security headers are added for every page by
    ``bot.web.security_headers``; ``no_store`` keeps pages with secrets out of caches."""
    attributes = "".join(
        [f' {escape(name)}="{escape(value)}"' for name, value in (main_attributes or {}).items()]
    )
    body = fragment(
        LAYOUT,
        title=title,
        stylesheet=static_url("site.css"),
        scripts=_script_tags(tuple(scripts)),
        nav=nav_items(nav, request.path),
        main_attributes=Html(attributes),
        content=content,
        version=__version__,
    )
    headers = {"Cache-Control": "no-store"} if no_store else {}
    return web.Response(
        text=body, status=status, content_type="text/html", charset="utf-8", headers=headers
    )


# -- tables and form fields (the admin pages) ----------------------------------------------


def table(headers: Sequence[str], rows: Sequence[Html], *, caption: str, empty: str) -> Html:
    """A data table in a horizontally scrollable wrapper, or ``empty`` when there are no rows."""
    if not rows:
        return fragment('<p class="empty">{empty}</p>', empty=empty)
    head = join(fragment('<th scope="col">{h}</th>', h=h) for h in headers)
    return fragment(
        '<div class="table-scroll" tabindex="0" role="region" aria-label="{caption}">'
        "<table><caption>{caption}</caption><thead><tr>{head}</tr></thead>"
        "<tbody>{rows}</tbody></table></div>",
        caption=caption,
        head=head,
        rows=join(rows),
    )


def cells(*values: object) -> Html:
    return fragment("<tr>{cells}</tr>", cells=join(fragment("<td>{v}</td>", v=v) for v in values))


def field_error(errors: dict[str, str], name: str) -> Html:
    if name not in errors:
        return Html("")
    return fragment(
        '<p class="field-error" id="{name}-error">{message}</p>', name=name, message=errors[name]
    )


def field_attributes(errors: dict[str, str], name: str) -> Html:
    described = f"{name}-hint {name}-error" if name in errors else f"{name}-hint"
    invalid = ' aria-invalid="true"' if name in errors else ""
    return fragment(' aria-describedby="{d}"{invalid}', d=described, invalid=Html(invalid))
