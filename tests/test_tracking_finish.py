"""A tracking page that stops when there is nothing left to wait for (issue 17, item 7): the
poll schedule (a pure rule, mirrored by track.js), a CLOSED ticket's page that carries no poll
URL at all, and a finished ticket that says so plainly, with support's last words."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.rules import poll_schedule
from tests.web_helpers import add_comment, move_ticket, open_test_ticket

TRACK_JS = Path(__file__).parent.parent / "bot" / "web" / "static" / "track.js"


# -- the schedule ------------------------------------------------------------------------


def test_the_wait_doubles_while_nothing_changes_up_to_five_minutes() -> None:
    assert [poll_schedule.next_delay(n) for n in range(8)] == [5, 10, 20, 40, 80, 160, 300, 300]
    assert poll_schedule.next_delay(10_000) == 300  # no overflow however long it stays quiet


def test_an_hour_without_news_is_16_polls_instead_of_720() -> None:
    assert len(poll_schedule.poll_times(3600)) == 16
    fixed = int(3600 // poll_schedule.BASE_SECONDS)
    assert fixed == 720


def test_news_brings_the_pace_back() -> None:
    quiet = poll_schedule.poll_times(3600)
    busy = poll_schedule.poll_times(3600, changes_at=[1000, 2000])
    assert len(busy) > len(quiet)
    after = [t for t in busy if t > 1000]
    # The first poll after the change sees it; the next comes at the first pace again.
    assert after[1] - after[0] == poll_schedule.BASE_SECONDS


def test_only_closed_stops_the_polling() -> None:
    assert not poll_schedule.keeps_polling("CLOSED")
    for stage in ("RECEIVED", "PR_OPEN", "MERGED", "DEPLOYED"):
        assert poll_schedule.keeps_polling(stage)


def test_track_js_uses_the_same_numbers_as_the_rule() -> None:
    source = TRACK_JS.read_text()

    def constant(name: str) -> str:
        match = re.search(rf"var {name} = ([^;]+);", source)
        assert match, name
        return match.group(1).strip()

    assert float(constant("BASE_SECONDS")) == poll_schedule.BASE_SECONDS
    assert float(constant("MAX_SECONDS")) == poll_schedule.MAX_SECONDS
    assert float(constant("FACTOR")) == poll_schedule.FACTOR
    assert set(re.findall(r'"([A-Z_]+)"', constant("FINAL_STAGES"))) == set(
        poll_schedule.FINAL_STAGES
    )


# -- the page ----------------------------------------------------------------------------


async def test_an_open_ticket_polls_and_a_closed_one_does_not(client, product, db):
    public_id, token = await open_test_ticket(db)
    page = await (await client.get(f"/track/{public_id}?token={token}")).text()
    assert 'data-poll-url="/api/tickets/TK-00001"' in page
    assert 'data-poll-seconds="5"' in page and 'data-poll-max-seconds="300"' in page
    await move_ticket(db, public_id, "ISSUE_CREATED", "CLOSED", reason="not_planned")
    page = await (await client.get(f"/track/{public_id}?token={token}")).text()
    assert "data-poll-url" not in page
    assert 'data-stage="CLOSED"' in page
    assert "nothing more is on its way" in page


@pytest.mark.parametrize(
    ("stages", "reason", "words"),
    [
        (("ISSUE_CREATED", "FIX_IN_PROGRESS", "PR_OPEN", "MERGED"), None, "Your fix is merged"),
        (
            ("ISSUE_CREATED", "FIX_IN_PROGRESS", "PR_OPEN", "MERGED", "DEPLOYED"),
            None,
            "Your fix is live.",
        ),
        (("ISSUE_CREATED", "CLOSED"), "not_planned", "Closed: not planned."),
        (("ISSUE_CREATED", "CLOSED"), "duplicate", "Closed: a duplicate."),
        (("ISSUE_CREATED", "CLOSED"), "support", "Closed by support."),
    ],
)
async def test_a_finished_ticket_says_so_plainly(client, product, db, stages, reason, words):
    public_id, _ = await open_test_ticket(db)
    await move_ticket(db, public_id, *stages, reason=reason)
    page = await (await client.get(f"/track/{public_id}")).text()
    finished = re.search(r'<section class="finished card".*?</section>', page)
    assert finished and words in finished.group(0)


async def test_a_ticket_still_in_progress_has_no_ending(client, product, db):
    public_id, _ = await open_test_ticket(db)
    await move_ticket(db, public_id, "ISSUE_CREATED", "FIX_IN_PROGRESS")
    page = await (await client.get(f"/track/{public_id}")).text()
    assert 'id="finished"' not in page


async def test_a_closed_ticket_quotes_supports_last_words_never_a_note_or_the_submitter(
    client, product, db
):
    public_id, token = await open_test_ticket(db, email="ada@example.com")
    await add_comment(db, public_id, "We will not change this: it is how Safari works.")
    await add_comment(db, public_id, "Internal: customer is grumpy", internal=True)
    await add_comment(db, public_id, "Fine, thanks.", author="ada@example.com", public_author="Ada")
    await move_ticket(db, public_id, "ISSUE_CREATED", "CLOSED", reason="not_planned")
    page = await (await client.get(f"/track/{public_id}?token={token}")).text()
    finished = re.search(r'<section class="finished card".*?</section>', page, re.S)
    assert finished
    assert "Here is what support said" in finished.group(0)
    assert "it is how Safari works" in finished.group(0)
    assert "grumpy" not in page and "Fine, thanks." not in finished.group(0)
    assert "Ada (you)" in page  # the submitter's own reply is marked as theirs
    # Without the token the page says how it ended, never what was said.
    public = await (await client.get(f"/track/{public_id}")).text()
    assert "Closed: not planned." in public and "Safari works" not in public


async def test_the_api_marks_the_submitters_own_messages(client, product, db):
    public_id, token = await open_test_ticket(db, email="ada@example.com")
    await add_comment(db, public_id, "Support here.")
    await add_comment(db, public_id, "Me again.", author="ADA@example.com", public_author="Ada")
    resp = await client.get(f"/api/tickets/{public_id}", headers={"X-Tracking-Token": token})
    comments = (await resp.json())["comments"]
    assert [(c["body"], c["fromSubmitter"]) for c in comments] == [
        ("Support here.", False),
        ("Me again.", True),
    ]
