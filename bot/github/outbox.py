"""The GitHub outbox: jobs stored beside their cause and carried out here, idempotently.

- ``create_issue``: the issue for a new ticket (found again by its hidden marker if an
  earlier attempt's answer was lost), then the ticket moves to ISSUE_CREATED.
- ``refresh_status_comment``: create once, then edit in place, the issue's status comment.
- ``comment_on_pr``: the one note on a pull request when it is first linked.
- ``remove_label``: take a maintainer's stage label off once it has been applied.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from bot.config import Settings
from bot.github import comments
from bot.github.client import GitHubApp, GitHubNotFound, GitHubUnprocessable, InstallationClient
from bot.jobs.kinds import JobKind
from bot.jobs.outcomes import GiveUp, RetryLater
from bot.rules import desk_status, ids, safetext
from bot.rules.timestamps import parse_time
from bot.tickets import transitions
from bot.tickets.github_issue import open_issue_facts
from storage.database import Database
from storage.models import Comment, Job, Product, Ticket
from storage.repos.desk import DeskRepo
from storage.repos.facts import IssueFactRepo
from storage.repos.github_links import PullRequestLinkRepo, StatusCommentRepo
from storage.repos.products import ProductRepo
from storage.repos.tickets import TicketRepo
from storage.types import utcnow

log = logging.getLogger(__name__)

NOT_INSTALLED_WAIT = 300.0
RECONCILE_SCAN_LIMIT = 500
NOTE_AUTHOR = "TinyDesk"  # the author of the internal notes TinyDesk itself leaves


class GitHubOutbox:
    def __init__(
        self,
        db: Database,
        github: GitHubApp,
        settings: Settings,
        *,
        more: dict[str, Callable[[Job], Awaitable[None]]] | None = None,
    ) -> None:
        """``more``: handlers for job kinds defined beside the code that queues them
        (``ship_check``: webhooks/shipping.py)."""
        self.db = db
        self.github = github
        self.settings = settings
        self._labelled_repos: set[str] = set()
        self._issue_locks: dict[tuple[int, int], asyncio.Lock] = {}
        self.handlers: dict[str, Callable[[Job], Awaitable[None]]] = {
            JobKind.CREATE_ISSUE: self.create_issue,
            JobKind.REFRESH_STATUS_COMMENT: self.refresh_status_comment,
            JobKind.COMMENT_ON_PR: self.comment_on_pr,
            JobKind.REMOVE_LABEL: self.remove_label,
            JobKind.CONFIRM_CLOSE: self.confirm_close,
            **(more or {}),
        }

    async def handle(self, job: Job) -> None:
        handler = self.handlers.get(job.kind)
        if handler is None:
            raise GiveUp(f"unknown job kind {job.kind!r}")
        await handler(job)

    def tracking_url(self, public_id: str) -> str:
        return f"{self.settings.base_url()}/track/{public_id}"

    async def client_for(self, product: Product) -> InstallationClient:
        """An API client for the product's repository, finding the installation if needed."""
        installation_id = product.installation_id
        if installation_id is None:
            installation_id = await self.github.find_installation(
                product.repo_owner, product.repo_name
            )
            if installation_id is None:
                raise RetryLater(
                    f"the GitHub App is not installed on {product.repo_full_name}",
                    after=NOT_INSTALLED_WAIT,
                )
            async with self.db.begin() as session:
                await ProductRepo(session).set_installation(
                    product.repo_owner, product.repo_name, installation_id
                )
        return await self.github.installation(installation_id)

    # -- create_issue ------------------------------------------------------------------

    async def create_issue(self, job: Job) -> None:
        ticket_id = int(job.args["ticket_id"])
        async with self.db.session() as session:
            ticket = await TicketRepo(session).by_number(ticket_id)
            product = (
                await ProductRepo(session).by_id(ticket.product_id)
                if ticket and ticket.product_id
                else None
            )
        if ticket is None or product is None or ticket.issue_number is not None or ticket.is_test:
            return
        if await self._dropped_as_unwanted(ticket_id):
            return
        gh = await self.client_for(product)
        repo = {"owner": product.repo_owner, "repo": product.repo_name}
        await self._ensure_label(gh, product)
        issue = None
        if job.attempts > 1:
            issue = await self._find_issue_for(gh, repo, ticket.id)
        if issue is None:
            content = await self._issue_content(gh, product, ticket)
            # Staff may have closed or deleted the ticket while this job waited or ran.
            if await self._dropped_as_unwanted(ticket_id):
                return
            issue = await gh.post(
                "/repos/{owner}/{repo}/issues",
                repo,
                data={
                    "title": comments.issue_title(content, ticket.id),
                    "body": comments.issue_body(
                        ticket, self.tracking_url(ids.public_id(ticket.id)), content
                    ),
                    "labels": [comments.ISSUE_LABEL],
                },
            )
        await self._link_issue(ticket.id, product, issue)

    async def _dropped_as_unwanted(self, ticket_id: int) -> bool:
        """A ticket staff closed or deleted wants no issue any more: drop the job, leaving
        an internal note (staff see it; the public history is for stage changes)."""
        async with self.db.session() as session:
            ticket = await TicketRepo(session).by_number(ticket_id)
            if ticket is None or ticket.issue_number is not None:
                return True  # gone, or linked meanwhile: nothing left to create
            why = desk_status.unwanted_issue_reason(
                stage=ticket.stage, deleted=ticket.deleted_at is not None
            )
        if why is None:
            return False
        async with self.db.begin() as session:
            await DeskRepo(session).add_comment(
                Comment(
                    desk_id=ids.new_desk_id("cmt"),
                    ticket_id=ticket_id,
                    body=f"No GitHub issue was opened: {why} before TinyDesk opened it.",
                    internal=True,
                    author=NOTE_AUTHOR,
                )
            )
        log.info("dropped create_issue", extra={"ticket": ids.public_id(ticket_id), "why": why})
        return True

    async def _issue_content(
        self, gh: InstallationClient, product: Product, ticket: Ticket
    ) -> safetext.IssueContent:
        """The submitter's text as the product's ``issue_text`` lets it onto GitHub."""
        private = None
        if safetext.needs_visibility(product.issue_text):
            private = await self._repo_is_private(gh, product)
        policy = safetext.choose_issue_text(product.issue_text, private=private)
        log.info(
            "issue text policy",
            extra={"ticket": ids.public_id(ticket.id), "policy": policy.value, "private": private},
        )
        return safetext.issue_content(
            ticket.subject,
            ticket.body,
            ticket.screenshots or [],
            policy,
            hosts=comments.web_hosts(self.settings.github_api_url),
        )

    async def _repo_is_private(self, gh: InstallationClient, product: Product) -> bool | None:
        """Whether the product's repository is private (GET /repos/{owner}/{repo}); None when
        GitHub does not say, which the policy treats as public. An ``internal`` repository is
        seen by a whole enterprise, so it counts as public."""
        try:
            answer = await gh.getitem(
                "/repos/{owner}/{repo}", {"owner": product.repo_owner, "repo": product.repo_name}
            )
        except (RetryLater, GiveUp) as exc:
            log.warning(
                "repository visibility unknown; treating it as public",
                extra={"repo": product.repo_full_name, "error": type(exc).__name__},
            )
            return None
        visibility = answer.get("visibility") if isinstance(answer, dict) else None
        if visibility in ("public", "internal"):
            return False
        if visibility == "private":
            return True
        private = answer.get("private") if isinstance(answer, dict) else None
        return private if isinstance(private, bool) else None

    async def _ensure_label(self, gh: InstallationClient, product: Product) -> None:
        key = product.repo_full_name.lower()
        if key in self._labelled_repos:
            return
        try:
            await gh.post(
                "/repos/{owner}/{repo}/labels",
                {"owner": product.repo_owner, "repo": product.repo_name},
                data={
                    "name": comments.ISSUE_LABEL,
                    "color": comments.ISSUE_LABEL_COLOR,
                    "description": comments.ISSUE_LABEL_DESCRIPTION,
                },
            )
        except GitHubUnprocessable:
            pass  # the label exists already
        self._labelled_repos.add(key)

    async def _find_issue_for(
        self, gh: InstallationClient, repo: dict, ticket_id: int
    ) -> dict | None:
        """An issue an earlier attempt created for this ticket, found by its hidden marker."""
        issues = await gh.getitem(
            "/repos/{owner}/{repo}/issues{?labels,state,sort,direction,per_page}",
            {
                **repo,
                "labels": comments.ISSUE_LABEL,
                "state": "all",
                "sort": "created",
                "direction": "desc",
                "per_page": 100,
            },
        )
        for issue in issues or []:
            if (
                "pull_request" not in issue
                and comments.marked_ticket(issue.get("body")) == ticket_id
            ):
                return issue
        return None

    async def _link_issue(self, ticket_id: int, product: Product, issue: dict) -> None:
        number = int(issue["number"])
        async with self.db.begin() as session:
            repo = TicketRepo(session)
            ticket = await repo.by_number(ticket_id)
            if ticket is None or ticket.issue_number is not None:
                return
            # GitHub's answer says when the issue was created (not this server's clock).
            await open_issue_facts(session, product, number, issue)
            ticket.issue_number = number
            moved = await transitions.refresh_tickets(
                session,
                [ticket],
                product,
                transitions.Cause("issue.created", occurred_at=parse_time(issue.get("created_at"))),
            )
            if not moved:
                await transitions.request_status_refresh(session, product.id, number)
        log.info(
            "opened issue for ticket",
            extra={
                "ticket": ids.public_id(ticket_id),
                "issue": number,
                "repo": product.repo_full_name,
            },
        )

    # -- refresh_status_comment ----------------------------------------------------------

    async def refresh_status_comment(self, job: Job) -> None:
        product_id, issue_number = int(job.args["product_id"]), int(job.args["issue_number"])
        lock = self._issue_locks.setdefault((product_id, issue_number), asyncio.Lock())
        async with lock, self._status_row_guard(product_id, issue_number) as save:
            async with self.db.session() as session:
                product = await ProductRepo(session).by_id(product_id)
                tickets = [
                    t
                    for t in await TicketRepo(session).linked_to_issue(product_id, issue_number)
                    if not t.is_test
                ]
                histories = await TicketRepo(session).histories([t.id for t in tickets])
                row = await StatusCommentRepo(session).get(product_id, issue_number)
                comment_id = row.comment_id if row else None
                rendered_hash = row.rendered_hash if row else None
            if product is None or not tickets:
                return
            body = comments.status_comment(tickets, self.tracking_url, histories)
            digest = comments.content_hash(body)
            if comment_id is not None and digest == rendered_hash:
                return
            gh = await self.client_for(product)
            repo = {"owner": product.repo_owner, "repo": product.repo_name}
            if comment_id is None and job.attempts > 1:
                comment_id = await self._find_comment(
                    gh, repo, issue_number, comments.STATUS_MARKER
                )
            if comment_id is not None:
                try:
                    await gh.patch(
                        "/repos/{owner}/{repo}/issues/comments/{comment_id}",
                        {**repo, "comment_id": comment_id},
                        data={"body": body},
                    )
                except GitHubNotFound:
                    comment_id = None  # someone deleted it: write a new one
            if comment_id is None:
                created = await gh.post(
                    "/repos/{owner}/{repo}/issues/{issue_number}/comments",
                    {**repo, "issue_number": issue_number},
                    data={"body": body},
                )
                comment_id = int(created["id"])
            await save(comment_id, digest)

    @contextlib.asynccontextmanager
    async def _status_row_guard(
        self, product_id: int, issue_number: int
    ) -> AsyncIterator[Callable[[int, str], Awaitable[None]]]:
        """Across processes (PostgreSQL), hold the issue's status row while its comment is
        written; yields the function that records the comment id in that same row."""
        if self.db.single_process:  # one process works the queue: the in-process lock suffices

            async def save_now(comment_id: int, digest: str) -> None:
                async with self.db.begin() as session:
                    await StatusCommentRepo(session).save(
                        product_id, issue_number, comment_id, digest
                    )

            yield save_now
            return
        async with self.db.begin() as session:
            row = await StatusCommentRepo(session).ensure(product_id, issue_number, lock=True)

            async def save_locked(comment_id: int, digest: str) -> None:
                row.comment_id, row.rendered_hash = comment_id, digest
                await session.flush()

            yield save_locked

    async def _find_comment(
        self, gh: InstallationClient, repo: dict, number: int, marker: str
    ) -> int | None:
        found = await gh.getiter_list(
            "/repos/{owner}/{repo}/issues/{issue_number}/comments{?per_page}",
            {**repo, "issue_number": number, "per_page": 100},
            limit=RECONCILE_SCAN_LIMIT,
        )
        for comment in found:
            if marker in (comment.get("body") or ""):
                return int(comment["id"])
        return None

    # -- comment_on_pr -------------------------------------------------------------------

    async def comment_on_pr(self, job: Job) -> None:
        product_id, pr_number = int(job.args["product_id"]), int(job.args["pr_number"])
        async with self.db.session() as session:
            product = await ProductRepo(session).by_id(product_id)
            links = await PullRequestLinkRepo(session).for_pr(product_id, pr_number)
            if product is None or not links or any(link.linked_comment_posted for link in links):
                return
            issues = [link.issue_number for link in links]
            tickets = await TicketRepo(session).linked_to_issues(product_id, issues)
        public_ids = [ids.public_id(t.id) for t in tickets if not t.is_test]
        if not public_ids:
            return
        gh = await self.client_for(product)
        repo = {"owner": product.repo_owner, "repo": product.repo_name}
        existing = None
        if job.attempts > 1:
            existing = await self._find_comment(gh, repo, pr_number, comments.PR_MARKER)
        if existing is None:
            issue_numbers = sorted({t.issue_number for t in tickets if t.issue_number is not None})
            await gh.post(
                "/repos/{owner}/{repo}/issues/{issue_number}/comments",
                {**repo, "issue_number": pr_number},
                data={"body": comments.pr_link_comment(public_ids, issue_numbers)},
            )
        async with self.db.begin() as session:
            for link in await PullRequestLinkRepo(session).for_pr(product_id, pr_number):
                link.linked_comment_posted = True

    # -- confirm_close -------------------------------------------------------------------

    async def confirm_close(self, job: Job) -> None:
        """A completed close's grace period is over: re-derive its tickets (closed unless a
        fix turned up). Run early, it waits for the stored deadline."""
        product_id, issue_number = int(job.args["product_id"]), int(job.args["issue_number"])
        async with self.db.begin() as session:
            facts = await IssueFactRepo(session).get(product_id, issue_number)
            deadline = facts.close_grace_until if facts else None
            if deadline is not None and deadline > utcnow():
                raise RetryLater(
                    "the close grace period is not over",
                    after=(deadline - utcnow()).total_seconds(),
                )
            product = await ProductRepo(session).by_id(product_id)
            if product is None:
                return
            await transitions.refresh(
                session,
                product,
                [issue_number],
                transitions.Cause("close.confirmed", delivery_id=job.args.get("delivery_id")),
            )

    # -- remove_label --------------------------------------------------------------------

    async def remove_label(self, job: Job) -> None:
        async with self.db.session() as session:
            product = await ProductRepo(session).by_id(int(job.args["product_id"]))
        if product is None:
            return
        gh = await self.client_for(product)
        try:
            await gh.delete(
                "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}",
                {
                    "owner": product.repo_owner,
                    "repo": product.repo_name,
                    "issue_number": job.args["issue_number"],
                    "name": job.args["name"],
                },
            )
        except GitHubNotFound:
            pass  # already gone
