"""What submitter text may say on GitHub: mentions and references neutralised, personal data
and secrets scrubbed, and which of the two a product's issue gets (its ``issue_text``).

Submitter text comes from strangers, and TinyDesk writes it to GitHub as the App. Left as it
is, ``@someone`` or ``@org/team`` makes the App notify those people, ``#12``, ``GH-12``,
``owner/repo#12`` or an issue URL puts a "mentioned this" event on that issue (ours or another
repository's), and an email address, phone number or pasted API key is published with the issue.

**Neutralising** inserts U+200D ZERO WIDTH JOINER (``ZWJ``) where GitHub's patterns need a
letter or digit: after ``@`` (mentions need ``@`` directly followed by a letter or digit),
after ``#`` and after ``GH-`` (references need the digits right there), and after the scheme
of a GitHub issue, pull request or discussion URL (so it is not autolinked and not a
reference). The text renders exactly as before and notifies nobody. Why a zero-width joiner
rather than code formatting: it is invisible, it works in every place markdown puts text
(link texts, headings, tables, emphasis), it never changes how the rest of the line parses,
and unlike U+200B ZERO WIDTH SPACE it is not a line-break opportunity. The cost: a reader
who copies ``@name`` gets the invisible joiner too, and emails are no longer autolinked.

It is done everywhere but in code, robustly rather than cleverly: GitHub's own patterns look
at text *after* markdown is rendered, where ``**a**@b`` or ``_@b_`` leave ``@b`` at the start
of a text node, so the character before ``@``/``#`` is not looked at. Entity spellings
(``&#64;``, ``&commat;``, ``&#35;`` …) render as the character itself and are treated alike.
Our own repository's ``#12`` is neutralised too: a stranger's text must not put events on
our issues either, and a customer's "#12" means their order or step 12, not issue 12.

Code is left alone where it is cheap to be sure GitHub sees code (it links and notifies
nothing in code): fenced blocks opened at the start of a line, and code spans within one
line. Wherever the parse could differ from GitHub's (raw HTML, a table cell, a span that may
continue from an earlier line) the text is treated as prose and neutralised: the joiner is
invisible, so neutralising too much costs nothing a reader sees. Autolinked URLs of other
sites are left alone too (a ``#3`` fragment in them is inside a link, so no reference).

**Scrubbing** (public repositories, by default) replaces emails, phone numbers, IP addresses,
credentials in URLs and things that look like secrets with ``[redacted …]``. What must
survive: versions (1.2.3, v10.0.19041, Chrome/120.0.0.0), dates and times, stack traces
(paths, line numbers, ``0x7ffde…``), UUIDs (identifiers, not secrets), git SHAs (40 hex: not
secret), URLs without credentials, order numbers (a digit run with no ``+`` and no phone
grouping is kept: an order number and a bare phone number cannot be told apart, and losing
an order number would make the ticket useless to the developers).
"""

from __future__ import annotations

import enum
import functools
import ipaddress
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

ZWJ = "\u200d"


class IssueText(enum.StrEnum):
    """How much of the submitter's text a product's GitHub issue carries."""

    FULL = "full"  # subject and description, neutralised
    SCRUBBED = "scrubbed"  # both neutralised and scrubbed of personal data and secrets
    SUBJECT_ONLY = "subject-only"  # the scrubbed subject and a pointer to TinyDesk


ISSUE_TEXT_VALUES = tuple(v.value for v in IssueText)


def choose_issue_text(setting: str | None, *, private: bool | None) -> IssueText:
    """The product's setting, else by the repository's visibility: ``full`` for a private
    repository, ``scrubbed`` for a public one, and ``scrubbed`` when visibility is unknown
    (``None``: GitHub could not be asked), since guessing private would publish everything."""
    if setting:
        return IssueText(setting)
    return IssueText.FULL if private is True else IssueText.SCRUBBED


def needs_visibility(setting: str | None) -> bool:
    """Only the default depends on the repository; an explicit setting asks GitHub nothing."""
    return not setting


# -- telling code from prose -------------------------------------------------------------------

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
# Only a fence at the very start of a line is sure to be a top-level fence: indented ones may
# belong to a list item, which a later unindented line would end (and the fence with it).
_FENCE_OPEN = re.compile(r"(`{3,}|~{3,})(.*)")
_FENCE_CLOSE = re.compile(r" {0,3}(`{3,}|~{3,})[ \t]*")
_HTML_LINE = re.compile(r" {0,3}<")
_BACKTICKS = re.compile(r"`+")


def split_code(text: str) -> list[tuple[str, bool]]:
    """``text`` as consecutive ``(piece, is_code)``; the pieces join back to ``text``.

    Errs towards prose: a piece is code only where GitHub certainly renders code."""
    pieces: list[tuple[str, bool]] = []
    fence: tuple[str, int] | None = None
    in_html = False  # inside what may be a raw HTML block: markdown is not parsed there
    unsure = False  # an earlier line of this paragraph may have left a code span open
    for line in _LINE.findall(text):
        content = line.rstrip("\r\n")
        if fence is not None:
            pieces.append((line, True))
            closing = _FENCE_CLOSE.fullmatch(content)
            if closing and closing.group(1)[0] == fence[0] and len(closing.group(1)) >= fence[1]:
                fence = None
            continue
        if content.strip(" \t") == "":
            in_html = unsure = False
            pieces.append((line, False))
            continue
        if _HTML_LINE.match(content):
            in_html = True
        opening = _FENCE_OPEN.fullmatch(content)
        if opening and not in_html and not (opening.group(1)[0] == "`" and "`" in opening.group(2)):
            fence = (opening.group(1)[0], len(opening.group(1)))
            unsure = False
            pieces.append((line, True))
            continue
        if in_html or unsure or "<" in line:
            # Raw HTML and autolinks take precedence over code spans: do not guess.
            pieces.append((line, False))
            unsure = unsure or "`" in line
            continue
        spans, certain = _code_spans(line)
        unsure = not certain
        pieces.extend(spans)
    return _merge(pieces)


def _code_spans(line: str) -> tuple[list[tuple[str, bool]], bool]:
    """A line's code spans, paired as CommonMark pairs backtick strings; ``certain`` is False
    when a backtick string was left open (it may close on a later line) or a span held a
    ``|`` (a table splits cells before it looks for code), after which nothing is code."""
    runs = [(m.start(), m.end()) for m in _BACKTICKS.finditer(line)]
    pieces: list[tuple[str, bool]] = []
    done = 0
    k = 0
    certain = True
    while k < len(runs):
        start, end = runs[k]
        backslashes = 0
        while start - backslashes > 0 and line[start - backslashes - 1] == "\\":
            backslashes += 1
        if backslashes % 2:
            start += 1  # an escaped backtick is a literal one
            if start == end:
                k += 1
                continue
        length = end - start
        closer = next(
            (j for j in range(k + 1, len(runs)) if runs[j][1] - runs[j][0] == length), None
        )
        if closer is None:
            certain = False
            k += 1
            continue
        if "|" in line[end : runs[closer][0]]:
            certain = False
            break
        if start > done:
            pieces.append((line[done:start], False))
        pieces.append((line[start : runs[closer][1]], True))
        done = runs[closer][1]
        k = closer + 1
    if done < len(line):
        pieces.append((line[done:], False))
    return pieces, certain


def _merge(pieces: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    merged: list[tuple[str, bool]] = []
    for piece, is_code in pieces:
        if merged and merged[-1][1] == is_code:
            merged[-1] = (merged[-1][0] + piece, is_code)
        elif piece:
            merged.append((piece, is_code))
    return merged


# -- neutralising mentions and references ----------------------------------------------------


def _spelled(char: str, *names: str) -> str:
    """A regex for ``char`` or any HTML character reference that renders as it."""
    code = ord(char)
    forms = [re.escape(char), f"&#0*{code};", f"&#[xX]0*{code:x};", f"&#[xX]0*{code:X};"]
    forms += [f"&{name};" for name in names]
    return "(?:" + "|".join(forms) + ")"


_NEXT_ALNUM = r"(?=[A-Za-z0-9]|&#?[A-Za-z0-9]+;)"
_NEXT_DIGIT = r"(?=[0-9]|&#)"
_MENTION = re.compile(_spelled("@", "commat") + _NEXT_ALNUM)
# A "#" that begins a character reference (&#64;) is not an issue reference; without its
# semicolon (&#64) it is text, and "#64" in it would be one.
_LITERAL_HASH = r"(?:(?<!&)|(?!#(?:[0-9]{1,7}|[xX][0-9a-fA-F]{1,6});))#"
_ISSUE_REF = re.compile(f"(?:{_LITERAL_HASH}|&#0*35;|&#[xX]0*23;|&num;){_NEXT_DIGIT}")
_G, _H = (f"(?:{_spelled(c.upper())}|{_spelled(c)})" for c in "gh")
_GH_REF = re.compile(_G + _H + _spelled("-") + _NEXT_DIGIT)
# Autolinked URLs (GFM: after a start, a space or one of *_~( ; the domain has a dot). The
# URL is cut at any character where inline markdown (a link's closing parenthesis, emphasis,
# a code span) could end it before GitHub's autolink would: what follows is prose.
_URL = re.compile(r"(?<![^\s*_~(])(?:https?://|www\.)[^\s<>()\[\]*_~`]+", re.IGNORECASE)
_URL_HOST = re.compile(r"(?:https?://)?([^/?#:\s]+)", re.IGNORECASE)
_ENTITY_PATH = re.compile(
    r"((?:issues|pull|pulls|discussions)" + _spelled("/", "sol") + r")(?=[0-9]|&)", re.IGNORECASE
)
_WORD = re.compile(r"\S+")

DEFAULT_HOSTS = ("github.com",)


def neutralise(text: str, *, hosts: Sequence[str] = DEFAULT_HOSTS) -> str:
    """``text`` as GitHub renders it, but notifying and cross-referencing nobody.

    ``hosts`` are the GitHub web hosts whose issue URLs are references (``github.com``, or a
    GitHub Enterprise Server's host). Idempotent: neutralising twice changes nothing more."""
    wanted = frozenset(h.lower().removeprefix("www.") for h in hosts)
    out: list[str] = []
    for piece, is_code in split_code(text):
        after_code = bool(out)  # a prose piece after a code piece follows its backtick
        out.append(piece if is_code else _neutralise_prose(piece, wanted, after_code=after_code))
    return "".join(out)


def _neutralise_prose(text: str, hosts: frozenset[str], *, after_code: bool = False) -> str:
    out: list[str] = []
    done = 0
    for match in _URL.finditer(text):
        if after_code and match.start() == 0:
            continue  # right after a backtick: GFM does not autolink it
        url = match.group()
        host_match = _URL_HOST.match(url)
        host = host_match.group(1).lower().removeprefix("www.") if host_match else ""
        if "&" in url or not _valid_domain(host) or host in hosts:
            # Not surely autolinked as GitHub would, or GitHub's own (an issue URL there is a
            # reference): neutralised as prose.
            continue
        out.append(_neutralise_plain(text[done : match.start()], hosts))
        out.append(url)  # an autolink to another site: what is inside a link mentions nobody
        done = match.end()
    out.append(_neutralise_plain(text[done:], hosts))
    return "".join(out)


_DOMAIN_LABEL = re.compile(r"[A-Za-z0-9_-]+")


def _valid_domain(host: str) -> bool:
    """GFM's valid domain: labels of letters, digits, _ and -, at least one dot, no _ in the
    last two labels."""
    labels = host.removesuffix(".").split(".")
    return (
        len(labels) >= 2
        and all(_DOMAIN_LABEL.fullmatch(label) for label in labels)
        and "_" not in "".join(labels[-2:])
    )


@functools.cache
def _issue_urls(hosts: frozenset[str]) -> re.Pattern[str]:
    """An issue URL of these hosts wherever it stands (an autolink or not, GitHub may still
    read it as a reference): the joiner goes after its scheme or its www."""
    names = "|".join(re.escape(h) for h in sorted(hosts))
    path = r"/[^/\s]+/[^/\s]+/(?:issues|pull|pulls|discussions)/\d"
    return re.compile(
        rf"https?(?=://(?:www\.)?(?:{names}){path})|www(?=\.(?:{names}){path})", re.IGNORECASE
    )


def _neutralise_plain(text: str, hosts: frozenset[str]) -> str:
    text = _issue_urls(hosts).sub(lambda m: m.group() + ZWJ, text)
    text = _MENTION.sub(lambda m: m.group() + ZWJ, text)
    text = _ISSUE_REF.sub(lambda m: m.group() + ZWJ, text)
    text = _GH_REF.sub(lambda m: m.group() + ZWJ, text)
    # An issue URL spelled with character references (autolinked once they are decoded).
    if "&" not in text:
        return text
    return _WORD.sub(
        lambda word: (
            _ENTITY_PATH.sub(lambda m: m.group(1) + ZWJ, word.group())
            if "&" in word.group()
            else word.group()
        ),
        text,
    )


# -- scrubbing personal data and secrets -----------------------------------------------------

EMAIL = "[redacted email]"
PHONE = "[redacted phone]"
IP_ADDRESS = "[redacted IP address]"
CREDENTIALS = "[redacted credentials]"
SECRET = "[redacted secret]"


@dataclass
class Scrubbed:
    """Scrubbed text and how many of each kind were redacted (``{"[redacted email]": 2}``)."""

    text: str
    redacted: Counter[str] = field(default_factory=Counter)

    @property
    def changed(self) -> bool:
        return bool(self.redacted)


_PEM = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
    r"(?:.*?-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|[A-Za-z0-9+/=\s:,-]*)",
    re.DOTALL,
)
_URL_CREDENTIALS = re.compile(
    r"\b[A-Za-z][A-Za-z0-9+.-]{0,30}://(?P<secret>[^\s/?#@:]*:[^\s/?#@]*)@(?=[^\s/?#@])"
)
# Each: a pattern whose ``secret`` group (or the whole match) is a secret.
_SECRETS = [
    # GitHub: personal, OAuth, user-to-server, server-to-server and refresh tokens; fine-grained.
    re.compile(
        r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{22,255})"
    ),
    # TinyDesk's own desk keys (bot.tickets.apikeys): 32 random + 6 checksum base62; shorter
    # ones are mistyped keys, secret all the same.
    re.compile(r"(?<![A-Za-z0-9_])td_(?:live|test)_[0-9A-Za-z]{16,}"),
    # AWS access key ids (long-term AKIA, temporary ASIA, and the rarer kinds).
    re.compile(
        r"(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA|AIPA)[A-Z0-9]{16}(?![A-Za-z0-9])"
    ),
    # An AWS secret access key: 40 base64 characters after its name.
    re.compile(
        r"(?i:aws_?secret(?:_access)?(?:_key)?)[\"']?\s*[:=]\s*[\"']?"
        r"(?P<secret>[A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])"
    ),
    # JSON Web Tokens: header.payload.signature, base64url, the header a JSON object.
    re.compile(r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    # Slack tokens and incoming-webhook URLs.
    re.compile(r"(?<![A-Za-z0-9])xox[abposr]-[A-Za-z0-9-]{10,}"),
    re.compile(r"(?<![A-Za-z0-9])xapp-[0-9]-[A-Za-z0-9-]{10,}"),
    re.compile(r"https://hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9/_-]+"),
    # Stripe secret and restricted keys (publishable pk_ keys are public by design).
    re.compile(r"(?<![A-Za-z0-9])(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,}"),
    # Google API keys, npm and PyPI tokens, OpenAI-style keys.
    re.compile(r"(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}"),
    re.compile(r"(?<![A-Za-z0-9])npm_[A-Za-z0-9]{36}"),
    re.compile(r"(?<![A-Za-z0-9])pypi-[A-Za-z0-9_-]{50,}"),
    re.compile(r"(?<![A-Za-z0-9])sk-(?:proj-)?[A-Za-z0-9_-]{32,}"),
    # A bearer or basic credential in a pasted header or curl command.
    re.compile(
        r"(?i:\bauthorization:\s*(?:bearer|basic|token)\s+|\bbearer\s+)"
        r"(?!\[redacted)(?P<secret>[A-Za-z0-9._~+/-]{16,}=*)"
    ),
    # A value given to a name that says it is secret: password=…, "api_key": "…".
    re.compile(
        r"(?i:\b(?:password|passwd|pwd|secret|client_secret|api[_-]?key|apikey|"
        r"access[_-]?token|auth[_-]?token|private[_-]?key))[\"']?\s*[:=]\s*[\"']?"
        r"(?!\[redacted)(?P<secret>[^\s\"',;]{6,})"
    ),
]
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+'-])[A-Za-z0-9._%+'-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"[A-Za-z]{2,24}(?![A-Za-z0-9-])"
)
_IPV4 = re.compile(
    r"(?<![A-Za-z0-9_.])(?<!\d/)(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}"
    r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![0-9]|\.[0-9])"
)
# Word/1.2.3.4 is a product and its version (a user agent); "version 1.2.3.4" too.
_VERSION_BEFORE = re.compile(
    r"(?:[A-Za-z0-9_]/|\b(?:v|ver|version|build|release)\.?\s*)$", re.IGNORECASE
)
_IPV6_CANDIDATE = re.compile(
    r"(?<![A-Za-z0-9:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4})?"
    r"(?:%[A-Za-z0-9]+)?(?![A-Za-z0-9:])"
)
_PHONE_INTERNATIONAL = re.compile(
    r"(?<![A-Za-z0-9_+#])\+\d{1,3}(?:[ .-]?\(?\d{1,5}\)?){1,6}(?![0-9])"
)
_PHONE_NANP = re.compile(
    r"(?<![A-Za-z0-9_#.:/-])(?:\(\d{3}\)\s?|\d{3}[-. ])\d{3}[-. ]\d{4}(?![0-9]|[-.:/][0-9])"
)
_PHONE_TRUNK = re.compile(
    r"(?<![A-Za-z0-9_#.:/-])(?:\(0\d{1,4}\)|0\d{1,4})(?:[ /-]\d{2,8}){1,4}(?![0-9]|[-.:/][0-9])"
)
_PHONE_LABELLED = re.compile(
    r"(?i:\b(?:phone|tel|telephone|mobile|cell|whatsapp|call me(?: at| on)?)\b"
    r"\.?\s*(?:no\.?|number)?\s*[:#]?\s*)"
    r"(?P<secret>\+?\(?\d[\d ().-]{5,}\d)"
)
_TOKEN = re.compile(r"(?<![A-Za-z0-9+/_=-])[A-Za-z0-9+/_=-]{32,}(?![A-Za-z0-9+/_=-])")
_HEX = re.compile(r"[0-9a-fA-F-]+")
MIN_ENTROPY_BITS = 4.0


def scrub(text: str) -> Scrubbed:
    """``text`` with personal data and secrets replaced by ``[redacted …]``."""
    result = Scrubbed(text)

    def sub(
        pattern: re.Pattern[str],
        label: str,
        keep: Callable[[re.Match[str]], bool] | None = None,
    ) -> None:
        def replace(match: re.Match[str]) -> str:
            if keep is not None and keep(match):
                return match.group()
            result.redacted[label] += 1
            if "secret" in match.re.groupindex and match.group("secret") is not None:
                whole, start = match.group(), match.start("secret") - match.start()
                return whole[:start] + label + whole[match.end("secret") - match.start() :]
            return label

        result.text = pattern.sub(replace, result.text)

    sub(_PEM, SECRET)
    sub(_URL_CREDENTIALS, CREDENTIALS)
    for pattern in _SECRETS:
        sub(pattern, SECRET)
    sub(_EMAIL, EMAIL)
    sub(_PHONE_LABELLED, PHONE)
    sub(_PHONE_INTERNATIONAL, PHONE, keep=lambda m: not 8 <= _digits(m.group()) <= 15)
    sub(_IPV6_CANDIDATE, IP_ADDRESS, keep=lambda m: not _is_ipv6(m.group()))
    sub(_IPV4, IP_ADDRESS, keep=_looks_like_version)
    sub(_PHONE_NANP, PHONE)
    sub(_PHONE_TRUNK, PHONE, keep=_not_a_trunk_phone)
    sub(_TOKEN, SECRET, keep=lambda m: not _looks_random(m.group()))
    return result


def _digits(text: str) -> int:
    return sum(c.isdigit() for c in text)


_DATE = re.compile(r"\d{1,2}[/-]\d{1,2}[/-]\d{2,4}")


def _not_a_trunk_phone(match: re.Match[str]) -> bool:
    return not 9 <= _digits(match.group()) <= 13 or bool(_DATE.match(match.group()))


def _looks_like_version(match: re.Match[str]) -> bool:
    return bool(_VERSION_BEFORE.search(match.string[max(0, match.start() - 12) : match.start()]))


def _is_ipv6(candidate: str) -> bool:
    address = candidate.split("%")[0]
    groups = [g for g in re.split(r"[:.]", address) if g]
    if len(groups) < 2 or max(len(g) for g in groups) < 3 or not any(c.isdigit() for c in address):
        return False  # "Foo::Bar", "a[1::2]", "::1": names, slices, the loopback
    if "::" not in address and address.count(":") < 7 and "." not in address:
        return False  # 10:30:00, a MAC address
    try:
        ipaddress.IPv6Address(address)
    except ValueError:
        return False
    return True


def _looks_random(token: str) -> bool:
    """A long token of mixed letters and digits whose characters are spread like a random
    key's. Hex strings (SHAs, hashes, UUIDs without dashes) and words are kept."""
    if _HEX.fullmatch(token):
        return False
    if token.startswith(("/", "./", "../", "~/")) or "//" in token:
        return False  # a path or a URL's tail
    letters_upper = sum(c.isupper() for c in token)
    letters_lower = sum(c.islower() for c in token)
    digits = _digits(token)
    if min(letters_upper, letters_lower) < 2 or digits < 2:
        return False
    counts = Counter(token)
    entropy = -sum(n / len(token) * math.log2(n / len(token)) for n in counts.values())
    return entropy >= MIN_ENTROPY_BITS


_URL_UNSAFE = re.compile(r"[\s()<>\\`\"'\[\]]")


def markdown_url(url: str) -> str:
    """``url`` safe as a markdown link destination: percent-encoding the characters that
    could end it early (``)``) and let the rest of a submitter's URL be read as markdown."""
    return _URL_UNSAFE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), url)


# -- what an issue carries ---------------------------------------------------------------------


@dataclass(frozen=True)
class IssueContent:
    """The title and description TinyDesk writes for a ticket under a product's policy.

    ``description`` is None under ``subject-only``; ``screenshots`` are the URLs that may be
    shown; ``redacted`` says how many things scrubbing took out of title and description."""

    title: str
    description: str | None
    screenshots: tuple[str, ...]
    withheld_screenshots: int
    redacted: Counter[str]


def issue_content(
    subject: str,
    body: str,
    screenshots: Sequence[str],
    policy: IssueText,
    *,
    hosts: Sequence[str] = DEFAULT_HOSTS,
) -> IssueContent:
    """What of a ticket goes on GitHub: always neutralised, scrubbed unless ``full``."""
    redacted: Counter[str] = Counter()
    scrubbing = policy is not IssueText.FULL

    def safe(text: str) -> str:
        if scrubbing:
            scrubbed = scrub(text)
            redacted.update(scrubbed.redacted)
            text = scrubbed.text
        return neutralise(text, hosts=hosts)

    title = safe(subject)
    if policy is IssueText.SUBJECT_ONLY:
        return IssueContent(title, None, (), 0, redacted)
    kept = tuple(url for url in screenshots if not scrubbing or not scrub(url).changed)
    return IssueContent(title, safe(body), kept, len(screenshots) - len(kept), redacted)
