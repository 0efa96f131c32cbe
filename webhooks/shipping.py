"""Shipping: which production deployment first contains a merged fix. The answer is stored on
the fix's links (``shipped_at``) and the tickets are re-derived.

Used when a deployment arrives (deployments: the merged fixes waiting for one) and when a
merge arrives after the deployment that shipped it (pull_requests: deployments are
remembered for that). Either order stores the same answer: the earliest deployment that
contains the merge.

Where several processes work the inbox (PostgreSQL), a merge and its deployment may be
worked at the same moment in two uncommitted batches, each blind to the other. Each then
also queues a ``ship_check`` job, which becomes visible only when its batch commits: the
job of whichever batch commits last sees both and ships (``catch_up``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from gidgethub import sansio
from sqlalchemy.ext.asyncio import AsyncSession

from bot.github.client import GitHubApp, GitHubNotFound
from bot.jobs.kinds import JobKind
from bot.rules.timestamps import shifted
from bot.tickets import transitions
from bot.tickets.transitions import Cause
from storage import dialect
from storage.database import Database
from storage.models import Job, Product
from storage.repos.deployments import COMPARISONS, DeploymentRepo
from storage.repos.github_links import PullRequestLinkRepo
from storage.repos.jobs import JobRepo
from storage.repos.products import ProductRepo
from storage.types import utcnow
from storage.unit import OwnTransactions
from webhooks.context import HandlerContext
from webhooks.payload import as_text, installation_id_of, parse_time

CONTAINS = {"ahead", "identical"}
# A deployment cannot contain a merge made after it; GitHub's clocks (and the deployment
# tools' statuses) may disagree by a little, so "after" allows this much.
CLOCK_SLACK = dt.timedelta(minutes=5)
# Without a merge time, how far back a deployment that contains the merge is looked for.
HORIZON = dt.timedelta(days=365)


@dataclasses.dataclass(frozen=True)
class Shipment:
    sha: str
    environment: str | None
    deployment_id: int | None
    occurred_at: dt.datetime


async def ship_if_already_deployed(
    ctx: HandlerContext, product: Product, event: sansio.Event, pr: dict[str, Any]
) -> None:
    """After a merge: the fix may already be live (its deployment was delivered first)."""
    merge_sha = as_text(pr.get("merge_commit_sha"), 64)
    if not product.deployment_tracking or merge_sha is None:
        return
    merged_at = parse_time(pr.get("merged_at"))
    first = await _first_deployment_of(ctx, product, event.data, merge_sha, merged_at)
    if first is not None:
        await _record(ctx, product, _deployment_cause(ctx, event, first), first, [merge_sha])


async def check_again_after_commit(
    session: AsyncSession, product: Product, delivery_id: str
) -> None:
    """Queue a ``ship_check`` for when this batch has committed, where another process's
    uncommitted batch may hold the other half (a merge, or its deployment). One job per
    delivery, never folded into a waiting one: a job already waiting may run before this
    batch commits. SQLite needs none: one writer, and what it read stays current."""
    if product.deployment_tracking and not dialect.reads_are_current(session):
        await JobRepo(session).enqueue(
            JobKind.SHIP_CHECK, {"product_id": product.id, "delivery_id": delivery_id}
        )


def ship_check_handler(db: Database, github: GitHubApp) -> Callable[[Job], Awaitable[None]]:
    """The outbox's handler for ``ship_check`` jobs."""

    async def ship_check(job: Job) -> None:
        async with db.session() as session:
            product = await ProductRepo(session).by_id(int(job.args["product_id"]))
        if product is not None:
            ctx = HandlerContext(
                unit=OwnTransactions(db), github=github, delivery_id=str(job.args["delivery_id"])
            )
            await catch_up(ctx, product)

    return ship_check


async def catch_up(ctx: HandlerContext, product: Product) -> None:
    """Ship every merged fix still waiting whose deployment is already known (the
    ``ship_check`` job): what both halves, once committed, would have found."""
    if not product.deployment_tracking:
        return
    async with ctx.unit.session() as session:
        waiting = await PullRequestLinkRepo(session).shippable(product.id, utcnow() + CLOCK_SLACK)
    merges = {link.merge_commit_sha: link.merged_at for link in waiting if link.merge_commit_sha}
    for sha, merged_at in sorted(merges.items()):
        first = await _first_deployment_of(ctx, product, {}, sha, merged_at)
        if first is not None:
            cause = Cause(
                "deployment_status.created",
                delivery_id=ctx.delivery_id,
                deployment_id=first.deployment_id,
                environment=first.environment,
                occurred_at=first.occurred_at,
            )
            await _record(ctx, product, cause, first, [sha])


async def _first_deployment_of(
    ctx: HandlerContext,
    product: Product,
    data: dict[str, Any],
    merge_sha: str,
    merged_at: dt.datetime | None,
) -> Shipment | None:
    """The earliest known deployment (from just before the merge on) that contains it."""
    async with ctx.unit.session() as session:
        # No merge time in the payload: the deployments up to now.
        deployments = await DeploymentRepo(session).around(
            product.id, merged_at or utcnow(), slack=CLOCK_SLACK if merged_at else HORIZON
        )
    shipments = [
        Shipment(d.sha, d.environment, d.deployment_id, d.occurred_at) for d in deployments
    ]
    return await _first_containing(ctx, product, data, merge_sha, shipments)


async def _first_containing(
    ctx: HandlerContext,
    product: Product,
    data: dict[str, Any],
    merge_sha: str,
    shipments: list[Shipment],
) -> Shipment | None:
    """The earliest of ``shipments`` (earliest first) that contains the merge. Deployments of
    one main line contain a merge from some point on, so this is a binary search: the newest
    is asked first (if it lacks the merge, none has it), then halves, a few calls at most."""
    if not shipments or not await _contained(ctx, product, data, [merge_sha], shipments[-1]):
        return None
    low, high = 0, len(shipments) - 1  # shipments[high] contains it
    while low < high:
        middle = (low + high) // 2
        if await _contained(ctx, product, data, [merge_sha], shipments[middle]):
            high = middle
        else:
            low = middle + 1
    return shipments[high]


async def ship(
    ctx: HandlerContext, product: Product, event: sansio.Event, shipment: Shipment
) -> None:
    """A production deployment arrived: the merged fixes waiting for one that it contains
    are shipped by it (unless an earlier deployment was found to contain them)."""
    async with ctx.unit.session() as session:
        waiting = await PullRequestLinkRepo(session).shippable(
            product.id, shifted(shipment.occurred_at, CLOCK_SLACK)
        )
    shas = sorted({link.merge_commit_sha for link in waiting if link.merge_commit_sha})
    if shas:
        contained = await _contained(ctx, product, event.data, shas, shipment)
        if contained:
            await _record(
                ctx, product, _deployment_cause(ctx, event, shipment), shipment, contained
            )


def _deployment_cause(ctx: HandlerContext, event: sansio.Event, shipment: Shipment) -> Cause:
    cause = ctx.cause(
        event,
        deployment_id=shipment.deployment_id,
        environment=shipment.environment,
        occurred_at=shipment.occurred_at,
    )
    if event.event != "deployment_status":
        # A merge delivered after its deployment: the deployment is the cause.
        cause = dataclasses.replace(cause, name="deployment_status.created", pr_number=None)
    return cause


async def _record(
    ctx: HandlerContext,
    product: Product,
    cause: Cause,
    shipment: Shipment,
    merge_shas: list[str],
) -> None:
    async with ctx.unit.begin() as session:
        links = PullRequestLinkRepo(session)
        issues: set[int] = set()
        for merge_sha in merge_shas:
            issues |= set(
                await links.mark_shipped(
                    product.id,
                    merge_sha,
                    at=shipment.occurred_at,
                    merged_by=shifted(shipment.occurred_at, CLOCK_SLACK),
                    deployment_id=shipment.deployment_id,
                    environment=shipment.environment,
                )
            )
        await transitions.refresh(session, product, issues, cause)


class _AskGitHub(Exception):
    """Only GitHub knows whether one commit contains the other."""


async def _contained(
    ctx: HandlerContext,
    product: Product,
    data: dict[str, Any],
    merge_shas: list[str],
    shipment: Shipment,
) -> list[str]:
    """The merge commits the shipment contains; GitHub is asked outside the unit of work
    (never while a transaction is held) when the answer is not known already."""

    async def check(ask: bool) -> list[str]:
        return [
            sha
            for sha in merge_shas
            if await _contains(ctx, product, data, sha, shipment.sha, ask=ask)
        ]

    try:
        return await check(ask=False)
    except _AskGitHub:
        return await ctx.unit.outside(lambda: check(ask=True))


async def _contains(
    ctx: HandlerContext,
    product: Product,
    data: dict[str, Any],
    merge_sha: str,
    deployed_sha: str,
    *,
    ask: bool,
) -> bool:
    if merge_sha == deployed_sha:
        return True
    known = COMPARISONS.known(product.repo_full_name, merge_sha, deployed_sha)
    if known is not None:
        return known
    if ctx.github is None:
        return False
    if not ask:
        raise _AskGitHub
    installation_id = installation_id_of(data) or product.installation_id
    if installation_id is None:
        installation_id = await ctx.github.find_installation(product.repo_owner, product.repo_name)
        if installation_id is None:
            return False
    gh = await ctx.github.installation(installation_id)
    try:
        comparison = await gh.getitem(
            "/repos/{owner}/{repo}/compare/{basehead}",
            {
                "owner": product.repo_owner,
                "repo": product.repo_name,
                "basehead": f"{merge_sha}...{deployed_sha}",
            },
        )
    except GitHubNotFound:  # a commit GitHub does not know (force-pushed away): not contained
        return False
    contained = str(comparison.get("status", "")).lower() in CONTAINS
    COMPARISONS.remember(product.repo_full_name, merge_sha, deployed_sha, contained)
    return contained
