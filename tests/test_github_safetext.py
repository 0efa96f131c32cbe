"""What TinyDesk writes to GitHub from a stranger's text, end to end on the fake GitHub's
stored issue: mentions and references neutralised always, personal data and secrets scrubbed
on a public repository (or when GitHub cannot say whether it is public), the product's
``issueText`` setting obeyed, and the full text kept in TinyDesk for staff."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot.appkeys import DB
from bot.rules.safetext import ZWJ
from storage.models import Ticket
from tests.conftest import ADMIN_HEADERS
from tests.world import FULL_NAME, OWNER, REPO

REPO_VISIBILITY = "GET /repos/{owner}/{repo}"
HOSTILE_SUBJECT = "Export broken — cc @octocat @octo-org/everyone"
HOSTILE_BODY = (
    "Hi @octocat and @octo-org/core-team, this is like #1, GH-2, other-org/other-repo#3 and "
    "https://github.com/other-org/other-repo/issues/4.\n"
    "Reach me at jane.doe@customer.example or +44 20 7946 0958; our proxy is 203.0.113.9.\n"
    "My key: ghp_aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5\n\n"
    "```\n@decorator  # from the stack trace, line 42, app v2.4.1\n```\n"
)
# GitHub's patterns for a mention and for references, applied to text outside code.
MENTION = re.compile(r"(?<![A-Za-z0-9])@[A-Za-z0-9]")
REFERENCE = re.compile(
    r"(?<![\w/])#\d|\bGH-\d|[\w.-]+/[\w.-]+#\d|https?://github\.com/\S+/issues/\d"
)


def prose(markdown: str) -> str:
    return re.sub(r"```.*?```", "", markdown, flags=re.DOTALL)


async def submit_and_open(world, **extra) -> dict:
    await world.submit(subject=HOSTILE_SUBJECT, body=HOSTILE_BODY, **extra)
    await world.settle()
    [issue] = world.fake.issues(OWNER, REPO)
    return issue


async def test_a_public_repository_gets_neutralised_scrubbed_text(world):
    issue = await submit_and_open(world)
    body, title = issue["body"], issue["title"]
    for text in (prose(body), title):
        assert not MENTION.findall(text), text
        assert not REFERENCE.findall(text), text
    assert f"@{ZWJ}octocat" in body and f"@{ZWJ}octo-org/core-team" in body
    assert title == f"Export broken — cc @{ZWJ}octocat @{ZWJ}octo-org/everyone"
    assert "jane.doe" not in body and "7946" not in body and "203.0.113.9" not in body
    assert "ghp_" not in body
    assert "[redacted email]" in body and "[redacted phone]" in body
    assert "[redacted IP address]" in body and "[redacted secret]" in body
    assert "4 item(s) were redacted" in body
    # Code stays as it was; what developers need survives.
    assert "```\n@decorator  # from the stack trace, line 42, app v2.4.1\n```" in body
    assert world.fake.count(REPO_VISIBILITY) == 1
    # TinyDesk keeps the full text for staff.
    async with world.client.app[DB].session() as session:
        ticket = await session.scalar(select(Ticket))
    assert ticket.body == HOSTILE_BODY and ticket.subject == HOSTILE_SUBJECT


async def test_a_private_repository_gets_the_full_text_but_still_notifies_nobody(world):
    world.fake.set_private(FULL_NAME)
    issue = await submit_and_open(world)
    body = issue["body"]
    assert not MENTION.findall(prose(body)) and not REFERENCE.findall(prose(body))
    assert f"jane.doe@{ZWJ}customer.example" in body  # kept, but no longer a mention
    assert "+44 20 7946 0958" in body and "ghp_aB3dE5" in body
    assert "[redacted" not in body and "redacted from this issue" not in body


async def test_unknown_visibility_fails_safe_as_public(world):
    world.fake.set_private(FULL_NAME)
    world.fake.fail_next(REPO_VISIBILITY, 502)
    issue = await submit_and_open(world)
    assert "jane.doe" not in issue["body"] and "[redacted email]" in issue["body"]


async def test_subject_only_writes_the_scrubbed_subject_and_a_pointer(world):
    resp = await world.client.patch(
        "/api/admin/products/my-saas-app",
        json={"issueText": "subject-only"},
        headers=ADMIN_HEADERS,
    )
    assert resp.status == 200
    issue = await submit_and_open(world, screenshots=["https://img.example/a.png"])
    body = issue["body"]
    assert "Kept in TinyDesk" in body and "subject-only" in body
    assert "Reach me" not in body and "jane.doe" not in body and "img.example" not in body
    assert issue["title"] == f"Export broken — cc @{ZWJ}octocat @{ZWJ}octo-org/everyone"
    assert "/track/TK-00001" in body and "<!-- tinydesk:ticket=TK-00001 -->" in body
    assert world.fake.count(REPO_VISIBILITY) == 0  # an explicit setting asks GitHub nothing


async def test_full_on_a_public_repository_is_the_admin_s_choice(world):
    await world.client.patch(
        "/api/admin/products/my-saas-app", json={"issueText": "full"}, headers=ADMIN_HEADERS
    )
    issue = await submit_and_open(world)
    assert "+44 20 7946 0958" in issue["body"] and not MENTION.findall(prose(issue["body"]))


async def test_a_screenshot_url_cannot_break_out_of_its_image(world):
    world.fake.set_private(FULL_NAME)
    sneaky = "https://img.example/a.png)@octocat(x"
    await world.submit(body="see screenshot", screenshots=[sneaky])
    await world.settle()
    [issue] = world.fake.issues(OWNER, REPO)
    assert "![screenshot 1](https://img.example/a.png%29@octocat%28x)" in issue["body"]


async def test_a_screenshot_url_with_credentials_is_withheld_on_a_public_repository(world):
    await world.submit(
        body="see screenshots",
        screenshots=["https://img.example/ok.png", "https://user:hunter2@img.example/b.png"],
    )
    await world.settle()
    [issue] = world.fake.issues(OWNER, REPO)
    assert "![screenshot 1](https://img.example/ok.png)" in issue["body"]
    assert "hunter2" not in issue["body"] and "1 screenshot link(s) withheld" in issue["body"]
