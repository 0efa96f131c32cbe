"""What TinyDesk knows of GitHub: PRs linked to issues, and each issue's status comment."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from sqlalchemy import Select, bindparam, delete, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from storage import dialect
from storage.models import IssueStatusComment, PullRequestLink, Ticket

# How many merged fixes not yet known to be live a deployment is checked against.
SHIPPABLE_LIMIT = 200


class PullRequestLinkRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def for_pr(self, product_id: int, pr_number: int) -> Sequence[PullRequestLink]:
        params = {"product_id": product_id, "pr_number": pr_number}
        return (await self.session.scalars(_OF_PR, params)).all()

    async def for_issue(self, product_id: int, issue_number: int) -> Sequence[PullRequestLink]:
        query = select(PullRequestLink).where(
            PullRequestLink.product_id == product_id, PullRequestLink.issue_number == issue_number
        )
        return (await self.session.scalars(query)).all()

    async def for_issues(
        self, product_id: int, issue_numbers: Sequence[int]
    ) -> Sequence[PullRequestLink]:
        if not issue_numbers:
            return []
        params = {"product_id": product_id, "issue_numbers": list(issue_numbers)}
        return (await self.session.scalars(_OF_ISSUES, params)).all()

    async def shippable(
        self, product_id: int, deployed_at: dt.datetime, *, limit: int = SHIPPABLE_LIMIT
    ) -> Sequence[PullRequestLink]:
        """Merged links a production deployment may ship: merged by ``deployed_at``,
        in no deployment known yet, of an issue with a ticket at MERGED (the few tickets a
        deployment can move, found by the index on product and stage)."""
        if limit == SHIPPABLE_LIMIT:
            query = _SHIPPABLE.get(self.session)
        else:
            query = dialect.Queries(lambda name: _shippable(name, limit)).get(self.session)
        params = {"product_id": product_id, "deployed_at": deployed_at}
        return (await self.session.scalars(query, params)).all()

    async def mark_shipped(
        self,
        product_id: int,
        merge_sha: str,
        *,
        at: dt.datetime,
        merged_by: dt.datetime,
        deployment_id: int | None,
        environment: str | None,
    ) -> list[int]:
        """The deployment at ``at`` contains ``merge_sha``: its links merged by ``merged_by``
        are shipped then (the earliest such deployment wins). Returns the issues whose links
        changed."""
        query = _MERGED_AS.get(self.session, lock=True)
        changed = []
        params = {"product_id": product_id, "merge_sha": merge_sha}
        for link in await self.session.scalars(query, params):
            if link.merged_at is not None and link.merged_at > merged_by:
                continue  # merged after this deployment: a later one shipped it
            if link.shipped_at is None or at < link.shipped_at:
                link.shipped_at = at
                link.shipped_deployment_id = deployment_id
                link.shipped_environment = environment
                changed.append(link.issue_number)
        return changed

    async def upsert(
        self,
        product_id: int,
        pr_number: int,
        issue_number: int,
        *,
        state: str,
        draft: bool,
        merge_commit_sha: str | None,
        seen_at: dt.datetime,
        merged_at: dt.datetime | None = None,
        pushed_at: dt.datetime | None = None,
        known: PullRequestLink | None = None,
    ) -> tuple[bool, bool]:
        """Create or update one link as of an event seen at ``seen_at``. Returns (created,
        current): whether the link is new, and whether this event is the newest seen for
        it. Concurrent deliveries of one PR may both create it: the database keeps one, and
        the other waits for it (PostgreSQL) before deciding. ``known``: the link as read in
        this transaction already (on SQLite, whose writer holds the database, it is current)."""
        if known is not None and dialect.reads_are_current(self.session):
            return False, self._update(
                known, state, draft, merge_commit_sha, seen_at, merged_at, pushed_at
            )
        key = {"product_id": product_id, "pr_number": pr_number, "issue_number": issue_number}
        values = {
            "state": state,
            "draft": draft,
            "updated_at": seen_at,
            "merge_commit_sha": merge_commit_sha if state == "merged" else None,
            "merged_at": merged_at if state == "merged" else None,
            "pushed_at": pushed_at,
        }
        created = (
            await self.session.execute(_ADD_LINK.in_session(self.session), {**key, **values})
        ).scalar_one_or_none() is not None
        if created:
            return True, True
        query = dialect.held(self.session, _LINK, _LINK_HELD)
        link = (await self.session.scalars(query, key)).one()
        current = self._update(link, state, draft, merge_commit_sha, seen_at, merged_at, pushed_at)
        await self.session.flush()
        return False, current

    @staticmethod
    def _update(
        link: PullRequestLink,
        state: str,
        draft: bool,
        merge_commit_sha: str | None,
        seen_at: dt.datetime,
        merged_at: dt.datetime | None = None,
        pushed_at: dt.datetime | None = None,
    ) -> bool:
        """Apply an event seen at ``seen_at`` to a link; whether it is the newest seen."""
        current = seen_at >= link.updated_at
        if pushed_at is not None and (link.pushed_at is None or pushed_at > link.pushed_at):
            link.pushed_at = pushed_at
        if state == "merged":  # final, whenever it is delivered
            link.state = "merged"
            link.merge_commit_sha = merge_commit_sha or link.merge_commit_sha
            link.merged_at = link.merged_at or merged_at
        elif current and link.state != "merged":
            link.state = state
            link.draft = draft
        link.updated_at = max(link.updated_at, seen_at)
        return current

    async def unlink(
        self,
        product_id: int,
        pr_number: int,
        keep: Iterable[int],
        known: dict[int, PullRequestLink] | None = None,
    ) -> list[int]:
        """Drop links of a PR to issues it no longer references (unless merged); returns them.
        ``known``: the PR's links as read in this transaction already, by issue number."""
        keep = set(keep)
        links = known.values() if known is not None else await self.for_pr(product_id, pr_number)
        dropped = [
            link.issue_number
            for link in links
            if link.issue_number not in keep and link.state != "merged"
        ]
        if dropped:
            await self.session.execute(
                delete(PullRequestLink).where(
                    PullRequestLink.product_id == product_id,
                    PullRequestLink.pr_number == pr_number,
                    PullRequestLink.issue_number.in_(dropped),
                )
            )
        return dropped


def _shippable(name: str, limit: int) -> Select[PullRequestLink]:
    # The issues with a ticket at MERGED as a subquery, not a join, and the order by
    # ``+pr_number`` on SQLite: its planner read every link of the product through the
    # primary key (which yields the order) instead of the few merged and unshipped ones
    # through ix_pr_links_unshipped.
    merged = select(Ticket.product_id, Ticket.issue_number).where(
        Ticket.product_id == bindparam("product_id"), Ticket.stage == "MERGED"
    )
    return (
        select(PullRequestLink)
        .where(
            tuple_(PullRequestLink.product_id, PullRequestLink.issue_number).in_(merged),
            PullRequestLink.product_id == bindparam("product_id"),
            PullRequestLink.state == "merged",
            PullRequestLink.shipped_at.is_(None),
            PullRequestLink.merge_commit_sha.is_not(None),
            or_(
                PullRequestLink.merged_at.is_(None),
                PullRequestLink.merged_at <= bindparam("deployed_at"),
            ),
        )
        .distinct()
        .order_by(
            dialect.unindexed(name, PullRequestLink.__table__.c.pr_number).desc(),
            PullRequestLink.issue_number,
        )
        .limit(limit)
    )


# Built once (the inbox runs them for nearly every delivery): a statement's construction
# and cache key cost more than the read itself.
_SHIPPABLE = dialect.Queries(lambda name: _shippable(name, SHIPPABLE_LIMIT))
_OF_PR = select(PullRequestLink).where(
    PullRequestLink.product_id == bindparam("product_id"),
    PullRequestLink.pr_number == bindparam("pr_number"),
)
_OF_ISSUES = (
    select(PullRequestLink)
    .where(
        PullRequestLink.product_id == bindparam("product_id"),
        PullRequestLink.issue_number.in_(bindparam("issue_numbers", expanding=True)),
    )
    .execution_options(populate_existing=True)
)
# Found by the merge commit's index: SQLite's planner would read every merged link of the
# product through (product_id, state) instead.
_MERGED_AS = dialect.Queries(
    lambda name: (
        select(PullRequestLink)
        .where(
            dialect.unindexed(name, PullRequestLink.__table__.c.product_id)
            == bindparam("product_id"),
            PullRequestLink.merge_commit_sha == bindparam("merge_sha"),
            dialect.unindexed(name, PullRequestLink.__table__.c.state) == "merged",
        )
        .execution_options(populate_existing=True)
    )
)
_LINK = (
    select(PullRequestLink)
    .where(
        PullRequestLink.product_id == bindparam("product_id"),
        PullRequestLink.pr_number == bindparam("pr_number"),
        PullRequestLink.issue_number == bindparam("issue_number"),
    )
    .execution_options(populate_existing=True)
)
_LINK_HELD = _LINK.with_for_update()
_ADD_LINK = dialect.PerDialect(
    lambda insert: (
        insert(PullRequestLink)
        .values(
            product_id=bindparam("product_id"),
            pr_number=bindparam("pr_number"),
            issue_number=bindparam("issue_number"),
            state=bindparam("state"),
            draft=bindparam("draft"),
            linked_comment_posted=False,
            updated_at=bindparam("updated_at"),
            merge_commit_sha=bindparam("merge_commit_sha"),
            merged_at=bindparam("merged_at"),
            pushed_at=bindparam("pushed_at"),
        )
        .on_conflict_do_nothing(index_elements=["product_id", "pr_number", "issue_number"])
        .returning(PullRequestLink.pr_number)
    )
)


class StatusCommentRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(
        self, product_id: int, issue_number: int, *, lock: bool = False
    ) -> IssueStatusComment | None:
        query = select(IssueStatusComment).where(
            IssueStatusComment.product_id == product_id,
            IssueStatusComment.issue_number == issue_number,
        )
        if lock:
            query = dialect.lock_rows(self.session, query)
        return await self.session.scalar(query)

    async def ensure(
        self, product_id: int, issue_number: int, *, lock: bool = False
    ) -> IssueStatusComment:
        """The issue's row, created if missing (racing creators both succeed)."""
        await self.session.execute(
            dialect.insert(self.session, IssueStatusComment)
            .values(product_id=product_id, issue_number=issue_number)
            .on_conflict_do_nothing(index_elements=["product_id", "issue_number"])
        )
        row = await self.get(product_id, issue_number, lock=lock)
        assert row is not None
        return row

    async def save(
        self, product_id: int, issue_number: int, comment_id: int, rendered_hash: str
    ) -> None:
        """Record the issue's comment and what it shows, in one statement."""
        values = {"comment_id": comment_id, "rendered_hash": rendered_hash}
        await self.session.execute(
            dialect.insert(self.session, IssueStatusComment)
            .values(product_id=product_id, issue_number=issue_number, **values)
            .on_conflict_do_update(index_elements=["product_id", "issue_number"], set_=values)
        )
