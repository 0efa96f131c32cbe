"""The pure rules of mail out: which steps are mailed and in what words, the per-address
rate limit, and the signed unsubscribe token."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from bot.rules import mail_steps
from bot.rules.mail_unsubscribe import ticket_of_token, unsubscribe_token
from bot.rules.pipeline import ClosedReason, Stage

KEY = b"k" * 32
NOW = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)
CARED_ABOUT = {
    Stage.ISSUE_CREATED,
    Stage.FIX_IN_PROGRESS,
    Stage.MERGED,
    Stage.DEPLOYED,
    Stage.CLOSED,
}


@pytest.mark.parametrize(("before", "after"), list(itertools.product(Stage, Stage)))
def test_each_stage_step_is_mailed_exactly_when_the_submitter_cares(before, after):
    mailed = mail_steps.step_is_mailed(before, after)
    reopened = before is Stage.CLOSED and after is not Stage.CLOSED
    assert mailed == (reopened or (after in CARED_ABOUT and after is not before))
    line = mail_steps.step_line(before, after, None)
    assert line and line.endswith(".")


def test_intake_is_not_a_stage_mail_and_review_steps_are_not_mailed():
    assert not mail_steps.step_is_mailed(None, Stage.RECEIVED)
    assert not mail_steps.step_is_mailed(Stage.FIX_IN_PROGRESS, Stage.PR_OPEN)
    assert not mail_steps.step_is_mailed(Stage.PR_OPEN, Stage.CHANGES_REQUESTED)


@pytest.mark.parametrize("reason", list(ClosedReason))
def test_a_close_says_its_reason_in_words(reason):
    line = mail_steps.step_line(Stage.DEPLOYED, Stage.CLOSED, reason.value)
    assert line.startswith("Closed") and line != mail_steps.CLOSED_LINE
    assert mail_steps.step_line(Stage.DEPLOYED, Stage.CLOSED, "bogus") == mail_steps.CLOSED_LINE


def test_fix_live_and_reopened_read_plainly():
    assert mail_steps.step_line(Stage.MERGED, Stage.DEPLOYED, None) == "Your fix is live."
    assert "reopened" in mail_steps.step_line(Stage.CLOSED, Stage.ISSUE_CREATED, None)


def test_rate_limit_lets_mail_go_under_the_limit_and_waits_for_the_oldest_to_age_out():
    limit = 3
    sent = [NOW - dt.timedelta(minutes=m) for m in (50, 30, 10)]
    wait = mail_steps.rate_limit_wait(sent, NOW, limit)
    assert wait == dt.timedelta(minutes=10)  # the one of 50 minutes ago leaves the hour
    assert mail_steps.rate_limit_wait(sent[1:], NOW, limit) is None
    old = [NOW - dt.timedelta(hours=2)] * 10
    assert mail_steps.rate_limit_wait(old, NOW, limit) is None
    assert mail_steps.rate_limit_wait(sent * 5, NOW, 0) is None  # 0: no limit


def test_subjects_name_the_ticket_and_later_ones_say_what_happened():
    assert mail_steps.subject("TK-00042", "Login  fails", first=True, headline="x") == (
        "[TK-00042] Login fails"
    )
    later = mail_steps.subject("TK-00042", "Login fails", first=False, headline="Your fix is live")
    assert later == "[TK-00042] Your fix is live (Login fails)"


def test_unsubscribe_token_names_its_ticket_and_cannot_be_forged():
    token = unsubscribe_token(KEY, "TK-00042")
    assert ticket_of_token(KEY, token) == 42
    assert ticket_of_token(KEY, token.upper()) == 42  # case folded by some clients
    _, _, signature = token.partition(".")
    assert ticket_of_token(KEY, f"TK-00043.{signature}") is None
    assert ticket_of_token(b"x" * 32, token) is None
    assert ticket_of_token(KEY, "TK-00042") is None
    assert ticket_of_token(KEY, "garbage") is None
