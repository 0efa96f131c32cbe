"""Email out along the whole GitHub journey (the fake GitHub, real webhooks, a real SMTP
sink): the submitter is told of each step they care about, through the webhook worker's own
transactions, and never of the pull-request review steps."""

from __future__ import annotations

import datetime as dt

from bot.config import MailSettings
from tests.mail_sink import MailSink
from tests.world import OWNER, REPO, make_world


async def test_every_step_the_submitter_cares_about_is_mailed_in_one_thread(
    make_client, fake_github
):
    async with MailSink() as sink:
        mail = MailSettings(
            mail_from="support@example.com", smtp_url=sink.url, coalesce_seconds=0.0
        )
        world = await make_world(make_client, fake_github, mail=mail)
        ticket = await world.submit()
        await world.settle()
        [issue] = fake_github.issues(OWNER, REPO)
        n = issue["number"]
        pr = world.add_fix(n)
        now = dt.datetime.now(dt.UTC)
        await world.deliver("issues.assigned", at=now, issue_number=n)
        await world.settle()
        await world.deliver(
            "pull_request.opened", at=now, pr_number=pr, pr_body=f"Fixes #{n}", draft=False
        )
        await world.settle()
        await world.merge(n, pr, "a" * 40, at=now)
        await world.settle()
        fake_github.add_commits(OWNER, REPO, ["a" * 40])
        await world.deploy("a" * 40)
        await world.settle()

        texts = [m.get_body(("plain",)).get_content() for m in sink.messages]
        everything = "\n".join(texts)
        for line in (
            "We've received your ticket.",
            "We've logged it with the developers.",
            "A developer is working on a fix.",
            "The fix has been merged",
            "Your fix is live.",
        ):
            assert everything.count(line) == 1, line
        assert "review" not in everything.lower()
        assert all(m["To"] == "agent@example.com" for m in sink.messages)
        assert all(ticket["trackingToken"] in text for text in texts)
        for earlier, later in zip(sink.messages, sink.messages[1:], strict=False):
            assert later["In-Reply-To"] == earlier["Message-ID"]
