"""bot.rules.safetext: what submitter text may say on GitHub.

Mentions and references are neutralised (rendered the same, notifying and linking nobody)
except in code GitHub surely renders as code; scrubbing takes personal data and secrets out of
a corpus of realistic descriptions and leaves what developers need (versions, traces, ids)."""

from __future__ import annotations

import html
import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.rules import safetext
from bot.rules.safetext import (
    CREDENTIALS,
    EMAIL,
    IP_ADDRESS,
    PHONE,
    SECRET,
    ZWJ,
    IssueText,
    choose_issue_text,
    issue_content,
    neutralise,
    scrub,
    split_code,
)
from bot.tickets.apikeys import generate_key

# GitHub's own patterns (html-pipeline's MentionFilter and issue references), as GitHub
# applies them to text: what must not match after neutralising.
GITHUB_MENTION = re.compile(r"@[A-Za-z0-9]")
GITHUB_REFERENCE = re.compile(r"#[0-9]|\bGH-[0-9]", re.I)
# An autolinked issue URL (GFM autolinks after a scheme or www.; a bare domain is text).
GITHUB_ISSUE_URL = re.compile(r"(?:https?://|www\.)github\.com/\S+/(?:issues|pull)/\d+", re.I)


CHARACTER_REFERENCE = re.compile(
    r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});"
)


OTHER_SITE_AUTOLINK = re.compile(
    r"(?<![^\s*_~(])https?://(?!github\.com)[a-z0-9-]+\.[a-z0-9.-]*[a-z0-9][^\s<>()\[\]*_~`&]*"
)


def rendered(text: str) -> str:
    """The character references GitHub decodes before looking for mentions (CommonMark's:
    with their semicolon)."""
    return CHARACTER_REFERENCE.sub(lambda m: html.unescape(m.group()), text)


def prose_mentions(text: str, *, links_to_other_sites: bool = False) -> list[str]:
    """Mentions and references left in the prose (code is where GitHub looks for none), and
    optionally outside autolinks to other sites (links are where GitHub looks for none)."""
    found = []
    for piece, is_code in split_code(text):
        if not is_code:
            if links_to_other_sites:
                piece = OTHER_SITE_AUTOLINK.sub(" ", piece)
            piece = rendered(piece)
            found += GITHUB_MENTION.findall(piece) + GITHUB_REFERENCE.findall(piece)
            found += GITHUB_ISSUE_URL.findall(piece)
    return found


# -- mentions and references ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "ping @octocat please",
        "@octocat at the start",
        "the whole team: @octo-org/core-team",
        "end of sentence @someone.",
        "(@someone)",
        "**a**@bob and _@carol_ and `x`@dave",  # markdown leaves @bob at a text node's start
        "\\@escaped renders as @escaped",
        "entities: &#64;alice &#x40;bob &#X40;carol &commat;dan &#0064;erin &#64;&#102;oo",
        "as in #12, and #1 #2 #3",
        "GH-12 and gh-7",
        "other repos: octo-org/other#5 and someone/else#99",
        "entity refs: &#35;12 &num;7 G&#72;-3 &#71;H&#45;4",
        "URL: https://github.com/other/repo/issues/7 and http://github.com/o/r/pull/2",
        "www.github.com/a/b/pull/2, [link](https://github.com/a/b/issues/3)",
        "spelled: https&#58;//github.com/o/r/issues/1 and https://github.com/o/r/issues/&#49;",
        "dépêche@someone",
        "[a link](https://example.com/x)@someone and (https://example.com/y)#12",
        "https://example.com/a*@someone* and https://example.com/b_@someone_",
        "https://example.com/`@someone`x",
        # Found by the property test below:
        "&#64&#1G (no semicolon: text, and #64 a reference)",
        "@xhttps://github.com/o/r/issues/5 (not an autolink, still a reference)",
        "https://github.com/o/r/issues/5@someone (once the URL is broken, prose)",
        "```@x```https://example.com/@someone (no autolink right after a backtick)",
    ],
)
def test_mentions_and_references_are_neutralised(text):
    out = neutralise(text)
    assert prose_mentions(out) == [], repr(out)
    # Rendered the same: only zero-width joiners were added.
    assert out.replace(ZWJ, "") == text
    assert neutralise(out) == out  # idempotent


def test_what_a_mention_looks_like_after_neutralising():
    assert neutralise("hi @octocat, see #12") == f"hi @{ZWJ}octocat, see #{ZWJ}12"
    assert neutralise("GH-3") == f"GH-{ZWJ}3"
    assert neutralise("https://github.com/o/r/issues/1") == f"https{ZWJ}://github.com/o/r/issues/1"


def test_text_that_mentions_nobody_is_left_as_it_is():
    for text in (
        "version 1.2.3 on Windows 10",
        "issue # 12 and C# and F#",
        "https://example.com/faq#3 and https://example.com/@user/post",  # inside links
        "email me at first.last",  # no @
        "a # heading",
        "",
    ):
        assert neutralise(text) == text


def test_own_and_enterprise_hosts():
    enterprise = "https://ghe.example.com/o/r/issues/4"
    assert neutralise(enterprise) == enterprise  # not GitHub.com's: a link to another site
    out = neutralise(enterprise, hosts=["ghe.example.com"])
    assert out == f"https{ZWJ}://ghe.example.com/o/r/issues/4"


# -- code is left alone where GitHub surely sees code ---------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "```\n@decorator\ndef f(): pass  # see #12\n```\n",
        "~~~python\n@app.route('/')\n~~~",
        "````\n```\n@inner\n````",
        "run `npm i @babel/core` then `git log #1`",
        "``code with ` and @x``",
        "```\nnever closed: the rest is code @x",
    ],
)
def test_code_is_left_alone(text):
    assert neutralise(text) == text


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("<div>\n```\n@evil\n```\n</div>", "a raw HTML block: no fence inside it"),
        ('<a title="`">@evil`</a>', "raw HTML wins over a code span"),
        ("| `x | @evil` |", "a table splits cells before it finds code"),
        ("`start\nend` @evil `x`", "a span may run on from the line before"),
        ("`a|b` @evil `c`", "after a span with a pipe nothing is sure"),
        ("- item\n  ```\n@evil\n  ```", "an indented fence may belong to a list item"),
        ("> ```\n> @evil\n> ```", "a fence in a quote is not recognised: prose"),
        ("\\`@evil`", "an escaped backtick opens nothing"),
        ("```inline`code\n@evil", "a backtick fence's info may not hold a backtick"),
    ],
)
def test_where_code_is_uncertain_the_text_is_neutralised(text, why):
    out = neutralise(text)
    assert f"@{ZWJ}evil" in out, why


def test_split_code_pieces_join_back_to_the_text():
    text = "a `b` c\r\n```\nd\n```\r\ne ``f`` g\rh"
    pieces = split_code(text)
    assert "".join(p for p, _ in pieces) == text
    assert [p for p, code in pieces if code] == ["`b`", "```\nd\n```\r\n", "``f``"]


def test_a_blank_line_ends_the_uncertainty():
    out = neutralise("`open\n\n`@fine` and @evil")
    assert "`@fine`" in out and f"@{ZWJ}evil" in out


# -- scrubbing: a corpus of realistic descriptions ------------------------------------------

SECRETS = {
    "GitHub personal token": "ghp_" + "aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5",
    "GitHub OAuth token": "gho_16C7e42F292c6912E7710c838347Ae178B4a",
    "GitHub user-to-server token": "ghu_16C7e42F292c6912E7710c838347Ae178B4a",
    "GitHub server-to-server token": "ghs_16C7e42F292c6912E7710c838347Ae178B4a",
    "GitHub refresh token": "ghr_1B4a2e77838347a7E420ce178F2E7c6912E169246c34E1ccbF66C4681",
    "GitHub fine-grained token": "github_pat_11ABCDEFG0123456789abc_" + "x" * 59,
    "TinyDesk live key": generate_key(test=False),
    "TinyDesk test key": generate_key(test=True),
    "AWS access key id": "AKIAIOSFODNN7EXAMPLE",
    "AWS temporary key id": "ASIAY34FZKBOKMUTVV7A",
    "JWT": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
    "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "Slack bot token": "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    "Slack user token": "xoxp-123456789012-123456789012-123456789012-0123456789abcdef",
    "Slack webhook": "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
    "Stripe secret key": "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    "Stripe restricted key": "rk_live_51H8Zl2CjH0vNaB2xYzQwErTy",
    "Google API key": "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY",
    "random high-entropy token": "Xk9fLq2ZpR7vNw3TbY8mJc4HdS6gA1eUoI5",
    "base64 secret": "q8Ls2Vb+Nw9Rk3Ty7Jp/Ux5Zm1Qa4Hd6Gc0Fe==",
}


@pytest.mark.parametrize("kind", sorted(SECRETS))
def test_every_listed_secret_format_is_redacted(kind):
    secret = SECRETS[kind]
    for text in (secret, f"my key is {secret} thanks", f'{{"token": "{secret}"}}', f"`{secret}`"):
        result = scrub(text)
        assert secret not in result.text, (kind, result.text)
        assert SECRET in result.text and result.redacted[SECRET] >= 1


def test_secrets_given_to_names_that_say_so():
    cases = {
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY": "wJalrXUtnFEMI",
        "AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'": "wJalrXUtnFEMI",
        "password=hunter2hunter2": "hunter2",
        '"api_key": "abcdef123456"': "abcdef123456",
        "client_secret: 0123abcdefXYZ": "0123abcdefXYZ",
        "curl -H 'Authorization: Bearer abc.def-1234567890123456'": "abc.def-1234567890123456",
        "Authorization: token ghx_notatoken_butsecretanyway": "ghx_notatoken",
    }
    for text, secret in cases.items():
        out = scrub(text).text
        assert secret not in out and SECRET in out, out


def test_a_private_key_block_is_redacted_whole():
    body = (
        "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n"
        "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n"
    )
    for kind in ("RSA ", "", "OPENSSH ", "EC ", "ENCRYPTED "):
        pem = f"-----BEGIN {kind}PRIVATE KEY-----\n{body}-----END {kind}PRIVATE KEY-----"
        assert scrub(f"config:\n{pem}\nthanks").text == f"config:\n{SECRET}\nthanks"
    # Cut off before its end: redacted as far as it goes.
    cut = scrub(f"config:\n-----BEGIN PRIVATE KEY-----\n{body}").text
    assert "MIIE" not in cut and "VTLw" not in cut and SECRET in cut


def test_credentials_in_urls_are_redacted_and_the_rest_of_the_url_kept():
    text = "DB postgres://admin:s3cr3t@db.internal:5432/app and https://user:pass@host.example/x"
    out = scrub(text)
    assert out.text == (
        f"DB postgres://{CREDENTIALS}@db.internal:5432/app and https://{CREDENTIALS}@host.example/x"
    )
    assert out.redacted[CREDENTIALS] == 2


EMAILS = ["jane.doe@example.co.uk", "o'neil+support@mail.example.com", "X_Y-Z@sub.domain.io"]
PHONES = [
    "+1 (415) 555-0132",  # US, international
    "(415) 555-0132",
    "415-555-0199",
    "415.555.0199",
    "+44 20 7946 0958",  # UK
    "020 7946 0958",
    "+49 30 12345678",  # Germany
    "030 1234567",
    "0176 12345678",
    "030/1234567",
    "+33 1 23 45 67 89",  # France
    "01 23 45 67 89",
    "+81 3-1234-5678",  # Japan
    "+91 98765 43210",  # India
    "+31 6 12345678",  # Netherlands
    "06-12345678",
    "+61 2 9876 5432",  # Australia
    "+5511987654321",  # Brazil, no spaces
]
IPS = [
    "10.0.0.12",
    "192.168.1.254",
    "8.8.8.8",
    "2001:db8::8a2e:370:7334",
    "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
    "fe80::1%eth0",
    "::ffff:192.168.1.1",
]


@pytest.mark.parametrize("email", EMAILS)
def test_emails_are_redacted(email):
    out = scrub(f"Reach me at {email}, or reply here.")
    assert out.text == f"Reach me at {EMAIL}, or reply here."


@pytest.mark.parametrize("phone", PHONES)
def test_phone_numbers_in_several_national_formats_are_redacted(phone):
    out = scrub(f"Call me on {phone} after 5pm.")
    assert out.text == f"Call me on {PHONE} after 5pm.", phone


def test_a_labelled_phone_number_without_grouping_is_redacted():
    assert scrub("Phone: 4155550132").text == f"Phone: {PHONE}"
    assert scrub("mobile 07946095812 (evenings)").text == f"mobile {PHONE} (evenings)"


@pytest.mark.parametrize("ip", IPS)
def test_ip_addresses_v4_and_v6_are_redacted(ip):
    out = scrub(f"The server at {ip} times out.")
    assert out.text == f"The server at {IP_ADDRESS} times out.", ip


def test_an_ip_in_a_url_is_redacted_and_the_url_kept():
    assert scrub("http://10.0.0.5:8080/health").text == f"http://{IP_ADDRESS}:8080/health"


SURVIVES = [
    "Version 1.2.3, v10.0.19041, 2.0.0-beta.1, build 4.18.2.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0.0.0 Safari/537.36",
    "2026-11-25T10:00:00Z, 2026-11-25 10:30:00.123, 25/11/2026, 01/02/2026 10:30, 11:45 PM",
    'Traceback (most recent call last):\n  File "/usr/lib/python3.11/site-packages/aiohttp/web'
    '.py", line 1234, in <module>\n    raise ValueError(x)\nValueError: bad',
    "at com.example.billing.InvoiceService.render(InvoiceService.java:118)",
    "Segfault at 0x7ffde4a3b2c0 in libfoo.so+0x1a2b",
    "panic: runtime error at main.go:42 goroutine 17 [running]",
    "UUID 550e8400-e29b-41d4-a716-446655440000 and 550E8400-E29B-41D4-A716-446655440000",
    "commit 9fceb02d0ae598e95dc970b74767f19372d61af8 (sha256 "
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855)",
    "Order #123456789, order 98765432101, invoice INV-2026-004211, ticket TK-00042",
    "https://example.com/orders/123456?page=2#details and www.example.org/path",
    "ssh://git@ is not a URL with a password; ports :8080 and :5432",
    "10:30:00 and MAC 00:1a:2b:3c:4d:5e and std::vector<int> and Foo::Bar and a[1::2]",
    "took 1500 ms, 3.5 GB, 99.9% uptime, 1,234,567 rows, HTTP 503",
    "node_modules/@babel/core/lib/transformation/normalize-opts.js:12",
    "AbstractSingletonProxyFactoryBeanImplementationHelperFactory",
    "Steps:\n1. Open Safari 17.1\n2. Click Sign In\nExpected: form submits",
]


@pytest.mark.parametrize("text", SURVIVES)
def test_what_developers_need_survives_untouched(text):
    out = scrub(text)
    assert out.text == text and not out.changed, out.redacted


def test_a_realistic_description_keeps_its_shape():
    description = (
        "Hi, I'm Jane (jane@acme.example, +1 415-555-0132). Since v2.4.1 login fails:\n\n"
        "```\nPOST https://api.acme.example/login 500\nX-Api-Key: td_live_"
        + generate_key(test=False)[8:]
        + "\n  at handler (server.js:88)\n```\n\n"
        "Our server 203.0.113.7 shows request id 550e8400-e29b-41d4-a716-446655440000. "
        "@support can you look? Same as #12."
    )
    content = issue_content("Login fails for @admins", description, [], IssueText.SCRUBBED)
    text = content.description
    assert text is not None
    assert "jane@" not in text and "415" not in text and "203.0.113.7" not in text
    assert "td_live_" not in text
    assert "v2.4.1" in text and "server.js:88" in text and "550e8400-e29b" in text
    assert f"@{ZWJ}support" in text and f"#{ZWJ}12" in text
    assert content.title == f"Login fails for @{ZWJ}admins"
    assert content.redacted == {EMAIL: 1, PHONE: 1, IP_ADDRESS: 1, SECRET: 1}


# -- the policy ------------------------------------------------------------------------------


def test_the_default_follows_the_repository_and_fails_safe():
    assert choose_issue_text(None, private=True) is IssueText.FULL
    assert choose_issue_text(None, private=False) is IssueText.SCRUBBED
    assert choose_issue_text(None, private=None) is IssueText.SCRUBBED  # unknown: public
    for value in IssueText:
        for private in (True, False, None):
            assert choose_issue_text(value.value, private=private) is value
    assert safetext.needs_visibility(None) and not safetext.needs_visibility("full")


def test_full_neutralises_but_keeps_everything_else():
    content = issue_content(
        "Ping @a", "mail jane@example.com #3", ["https://x.example/a.png"], IssueText.FULL
    )
    assert content.title == f"Ping @{ZWJ}a"
    assert content.description == f"mail jane@{ZWJ}example.com #{ZWJ}3"
    assert content.screenshots == ("https://x.example/a.png",) and not content.redacted


def test_subject_only_carries_the_scrubbed_subject_and_nothing_else():
    content = issue_content(
        "Crash for jane@example.com @team",
        "secret stuff",
        ["https://x.example/a.png"],
        IssueText.SUBJECT_ONLY,
    )
    assert content.title == f"Crash for {EMAIL} @{ZWJ}team"
    assert content.description is None and content.screenshots == ()


def test_scrubbed_withholds_screenshot_urls_that_carry_secrets():
    urls = [
        "https://img.example/a.png",
        "https://u:p@img.example/b.png",
        "https://img.example/c.png?token=ghp_aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5",
    ]
    content = issue_content("s", "b", urls, IssueText.SCRUBBED)
    assert content.screenshots == ("https://img.example/a.png",)
    assert content.withheld_screenshots == 2


@pytest.mark.parametrize(
    "text",
    [
        "x" * 65_000,
        "1" * 65_000,
        "@" * 65_000,
        "#1" * 32_000,
        "&#" * 32_000,
        "`" * 65_000,
        "`x" * 32_000,
        "\\`" * 32_000,
        "```\n" * 16_000,
        "+1 " * 21_000,
        "1:" * 32_000,
        "1." * 32_000,
        "Ab1+" * 16_000,
        "a@" * 32_000,
        "https://a.b/" * 5_000,
        "a-" * 32_000,
        "-----BEGIN PRIVATE KEY-----" + "A" * 65_000,
        "a:" * 32_000,
        "(0" * 32_000,
        "call me at " + "1 " * 30_000,
        "eyJ" + "a" * 65_000 + ".",
        "`|" * 32_000,
        "https://" + "a." * 32_000,
        "https://github.com/" * 3_400,
        "https://github.com/o/r/issues/1" * 2_000,
        "&#64;" * 13_000,
        "password=" * 7_000,
        "\u2028```\n@a",
    ],
    ids=lambda text: repr(text[:12]),
)
def test_the_largest_hostile_body_costs_linear_time(text):
    """A submitted body is at most 64 KiB; no pattern may backtrack on it.

    Backtracking shows as work growing with the square of the length, so the
    test compares the whole body with its first quarter in the same run: linear
    work is about 4 times as much, quadratic 16 times. The cost is CPU time, the
    best of three, so a machine busy with other work does not fail the test (a
    wall-clock budget did, on a loaded CI machine, for a body that takes 70 ms).
    """
    quarter = text[: len(text) // 4]
    whole, part = _cpu_seconds(text), _cpu_seconds(quarter)
    assert whole < max(8 * part, 0.05), f"{whole:.3f} s for all, {part:.3f} s for a quarter"


def _cpu_seconds(text: str) -> float:
    """The least CPU time of three passes of both filters over the text."""
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        neutralise(text)
        scrub(text)
        best = min(best, time.process_time() - started)
    return best


# -- properties over random markdown-ish text -------------------------------------------------

MARKDOWN_ALPHABET = "@#`~<>|()[]*_\\-GHgh0123456789acdfmostwx \n\t&;/.:!"


FRAGMENTS = [
    "@x",
    "@o/t",
    "#1",
    "GH-2",
    "o/r#3",
    "&#64;",
    "&commat;",
    "&#35;4",
    "https://github.com/o/r/issues/5",
    "www.github.com/o/r/pull/6",
    "https://example.com/",
    "```",
    "~~~",
    "`",
    "``",
    "\n",
    "\n\n",
    " ",
    "<div>",
    "<",
    "|",
    "- ",
    "> ",
    "    ",
    "[a](",
    ")",
    "*",
    "_",
    "\\",
    "a",
    "1",
    "&",
    ";",
]
MARKDOWNISH = st.one_of(
    st.text(alphabet=MARKDOWN_ALPHABET, max_size=80),
    st.lists(st.sampled_from(FRAGMENTS), max_size=30).map("".join),
)


@settings(max_examples=400, deadline=None)
@given(MARKDOWNISH)
def test_neutralising_only_adds_joiners_is_idempotent_and_leaves_no_prose_mention(text):
    out = neutralise(text)
    assert out.replace(ZWJ, "") == text
    assert neutralise(out) == out
    # What GFM autolinks to another site (after a space or a start, a dotted domain) is a
    # link, and GitHub finds no mention inside a link: left out of the check.
    assert prose_mentions(out, links_to_other_sites=True) == []
    # The pieces called code are code in the original text too (nothing was moved).
    assert "".join(piece for piece, _ in split_code(text)) == text


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=120))
def test_scrubbing_any_text_answers_text(text):
    result = scrub(text)
    assert isinstance(result.text, str)
    assert scrub(result.text).text == result.text  # what is redacted stays redacted, once
