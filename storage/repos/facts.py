"""GitHub's facts about ticketed issues and their pull requests' reviews, each kept with
GitHub's own time: a later fact wins, whatever order the deliveries come in.

Writers hold the fact's row (PostgreSQL) while they compare times, so two deliveries about one
issue apply one after the other. The stage is derived from these rows by the caller.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import dialect
from storage.models import IssueFact, PullRequestReview

# session.info key: the issue_facts rows this transaction holds (IssueFactRepo.hold).
HELD_ISSUE_FACTS = "tinydesk.held_issue_facts"


def _newer(when: dt.datetime | None, than: dt.datetime | None) -> bool:
    """Whether a fact seen at ``when`` replaces one seen at ``than`` (ties: the later delivery,
    so a redelivery changes nothing; an unknown time never replaces a known one)."""
    if than is None:
        return True
    return when is not None and when >= than


class IssueFactRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, product_id: int, issue_number: int) -> IssueFact | None:
        query = select(IssueFact).where(
            IssueFact.product_id == product_id, IssueFact.issue_number == issue_number
        )
        return await self.session.scalar(query.execution_options(populate_existing=True))

    async def for_issues(
        self, product_id: int, issue_numbers: Sequence[int]
    ) -> dict[int, IssueFact]:
        if not issue_numbers:
            return {}
        params = {"product_id": product_id, "issue_numbers": list(issue_numbers)}
        rows = await self.session.scalars(_FACTS_OF_ISSUES, params)
        return {row.issue_number: row for row in rows}

    async def hold(self, product_id: int, issue_number: int) -> IssueFact:
        """The issue's row, created if missing, held until commit (PostgreSQL)."""
        if dialect.reads_are_current(self.session):
            # SQLite's writer holds the database: the row in this session is current, and
            # ``session.get`` answers from it without a query once it was read.
            row = await self.session.get(IssueFact, (product_id, issue_number))
            if row is not None:
                return row
        # Held once per transaction: the lock lasts until commit. ``session.info`` is
        # emptied whenever a savepoint rolls back (which releases the locks taken in it) or
        # the batch commits mid-way (storage.unit.BatchTransaction), so a row remembered
        # here is still locked.
        held: dict[tuple[int, int], IssueFact] = self.session.info.setdefault(HELD_ISSUE_FACTS, {})
        if (product_id, issue_number) in held:
            return held[product_id, issue_number]
        key = {"product_id": product_id, "issue_number": issue_number}
        await self.session.execute(_ADD_FACT.in_session(self.session), key)
        query = dialect.held(self.session, _FACT, _FACT_HELD)
        row = (await self.session.scalars(query, key)).one()
        held[product_id, issue_number] = row
        return row

    async def record_created(
        self, product_id: int, issue_number: int, created_at: dt.datetime | None
    ) -> None:
        row = await self.hold(product_id, issue_number)
        if created_at is not None and row.created_at is None:
            row.created_at = created_at

    async def record_state(
        self,
        product_id: int,
        issue_number: int,
        *,
        state: str,
        reason: str | None,
        at: dt.datetime | None,
        grace_until: dt.datetime | None = None,
    ) -> bool:
        """The issue was opened, closed or reopened at ``at``; whether that is news (newer
        than the state known). A close that is news starts its own grace period (a
        redelivery of the same close keeps the deadline it had)."""
        row = await self.hold(product_id, issue_number)
        if state == "open" and reason == "reopened" and at is not None:
            if row.reopened_at is None or at > row.reopened_at:
                row.reopened_at = at
        if not _newer(at, row.state_at) or (
            at is not None and at == row.state_at and row.state == state
        ):
            return False
        row.state, row.state_reason, row.state_at = state, reason, at
        row.close_grace_until = grace_until if state == "closed" else None
        return True

    async def record_assignment(
        self, product_id: int, issue_number: int, *, assigned: bool, at: dt.datetime | None
    ) -> None:
        row = await self.hold(product_id, issue_number)
        if _newer(at, row.assigned_at):
            row.assigned, row.assigned_at = assigned, at

    async def record_label(
        self, product_id: int, issue_number: int, *, stage: str, at: dt.datetime | None
    ) -> None:
        row = await self.hold(product_id, issue_number)
        if _newer(at, row.label_at):
            row.label_stage, row.label_at = stage, at


class ReviewRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(
        self,
        product_id: int,
        pr_number: int,
        reviewer: str,
        *,
        review_id: int,
        verdict: str,
        submitted_at: dt.datetime | None,
    ) -> None:
        """A reviewer's review: it replaces theirs if it is later (by GitHub's time, then by
        review id). A dismissal of a review is final for that review."""
        key = {"product_id": product_id, "pr_number": pr_number, "reviewer": reviewer}
        await self.session.execute(
            _ADD_REVIEW.in_session(self.session),
            {**key, "review_id": review_id, "verdict": verdict, "submitted_at": submitted_at},
        )
        query = dialect.held(self.session, _REVIEW, _REVIEW_HELD)
        row = (await self.session.scalars(query, key)).one()
        if row.review_id == review_id and row.submitted_at == submitted_at:
            if verdict == "dismissed":  # a dismissal is final for its review
                row.verdict = verdict
            return
        mine = (submitted_at, review_id)
        theirs = (row.submitted_at, row.review_id)
        if _later(mine, theirs):
            row.review_id, row.verdict, row.submitted_at = review_id, verdict, submitted_at

    async def for_prs(
        self, product_id: int, pr_numbers: Sequence[int]
    ) -> dict[int, list[PullRequestReview]]:
        if not pr_numbers:
            return {}
        params = {"product_id": product_id, "pr_numbers": list(pr_numbers)}
        found: dict[int, list[PullRequestReview]] = {}
        for row in await self.session.scalars(_REVIEWS_OF_PRS, params):
            found.setdefault(row.pr_number, []).append(row)
        return found


def _later(mine: tuple[dt.datetime | None, int], theirs: tuple[dt.datetime | None, int]) -> bool:
    if mine[0] is not None and theirs[0] is not None and mine[0] != theirs[0]:
        return mine[0] > theirs[0]
    if mine[0] is None and theirs[0] is not None:
        return False
    return mine[1] > theirs[1]


# Built once (the inbox runs them for nearly every delivery): a statement's construction
# and cache key cost more than the read itself.
_FACTS_OF_ISSUES = (
    select(IssueFact)
    .where(
        IssueFact.product_id == bindparam("product_id"),
        IssueFact.issue_number.in_(bindparam("issue_numbers", expanding=True)),
    )
    .execution_options(populate_existing=True)
)
_FACT = (
    select(IssueFact)
    .where(
        IssueFact.product_id == bindparam("product_id"),
        IssueFact.issue_number == bindparam("issue_number"),
    )
    .execution_options(populate_existing=True)
)
_FACT_HELD = _FACT.with_for_update()
_ADD_FACT = dialect.PerDialect(
    lambda insert: (
        insert(IssueFact)
        .values(
            product_id=bindparam("product_id"),
            issue_number=bindparam("issue_number"),
            state="open",
            assigned=False,
        )
        .on_conflict_do_nothing(index_elements=["product_id", "issue_number"])
    )
)
_REVIEW = (
    select(PullRequestReview)
    .where(
        PullRequestReview.product_id == bindparam("product_id"),
        PullRequestReview.pr_number == bindparam("pr_number"),
        PullRequestReview.reviewer == bindparam("reviewer"),
    )
    .execution_options(populate_existing=True)
)
_REVIEW_HELD = _REVIEW.with_for_update()
_ADD_REVIEW = dialect.PerDialect(
    lambda insert: (
        insert(PullRequestReview)
        .values(
            product_id=bindparam("product_id"),
            pr_number=bindparam("pr_number"),
            reviewer=bindparam("reviewer"),
            review_id=bindparam("review_id"),
            verdict=bindparam("verdict"),
            submitted_at=bindparam("submitted_at"),
        )
        .on_conflict_do_nothing(index_elements=["product_id", "pr_number", "reviewer"])
    )
)
_REVIEWS_OF_PRS = (
    select(PullRequestReview)
    .where(
        PullRequestReview.product_id == bindparam("product_id"),
        PullRequestReview.pr_number.in_(bindparam("pr_numbers", expanding=True)),
    )
    .execution_options(populate_existing=True)
)
