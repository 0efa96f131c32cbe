"""Shipping: whether a production deployment contains a merged fix, and moving its tickets to
DEPLOYED. Used when a deployment arrives (deployments) and when a merge arrives after the
deployment that shipped it (pull_requests): deployments are remembered for that."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from gidgethub import sansio

from bot.github.client import GitHubNotFound
from bot.rules import pipeline
from bot.rules.pipeline import Fact
from bot.tickets import transitions
from storage.models import Product
from storage.repos.deployments import COMPARISONS, DeploymentRepo
from storage.repos.github_links import PullRequestLinkRepo
from storage.repos.tickets import TicketRepo
from webhooks.context import HandlerContext
from webhooks.payload import installation_id_of

CONTAINS = {"ahead", "identical"}


@dataclasses.dataclass(frozen=True)
class Shipment:
    sha: str
    environment: str | None
    deployment_id: int | None
    occurred_at: dt.datetime | None



async def ship_if_already_deployed(
    ctx: HandlerContext, product: Product, event: sansio.Event
) -> None:
    """After a merge: the fix may already be live (its deployment was delivered first)."""
    if not product.deployment_tracking:
        return
    async with ctx.unit.session() as session:
        recent = await DeploymentRepo(session).recent(product.id)
    if recent:
        await ship(
            ctx,
            product,
            event,
            [Shipment(d.sha, d.environment, d.deployment_id, d.occurred_at) for d in recent],
        )


async def ship(
    ctx: HandlerContext, product: Product, event: sansio.Event, shipments: list[Shipment]
) -> None:
    """Move MERGED tickets whose merge commit one of ``shipments`` contains to DEPLOYED."""
    async with ctx.unit.session() as session:
        by_sha: dict[str, set[int]] = {}
        awaiting = await PullRequestLinkRepo(session).merged_awaiting_deployment(product.id)
        for merge_sha, issue_number in awaiting:
            by_sha.setdefault(merge_sha, set()).add(issue_number)
    if not by_sha:
        return
    try:
        shipped = await _shipped(ctx, product, event.data, by_sha, shipments, ask=False)
    except _AskGitHub:
        shipped = await ctx.unit.outside(
            lambda: _shipped(ctx, product, event.data, by_sha, shipments, ask=True)
        )
    for shipment, deployed in shipped:
        async with ctx.unit.begin() as session:
            tickets = await TicketRepo(session).linked_to_issues(
                product.id, sorted(deployed), lock=True
            )
            await transitions.apply(
                session,
                tickets,
                product,
                pipeline.Signal(Fact.DEPLOYED, occurred_at=shipment.occurred_at),
                ctx.cause(
                    event, deployment_id=shipment.deployment_id, environment=shipment.environment
                ),
            )


class _AskGitHub(Exception):
    """Only GitHub knows whether one commit contains the other."""


async def _shipped(
    ctx: HandlerContext,
    product: Product,
    data: dict[str, Any],
    by_sha: dict[str, set[int]],
    shipments: list[Shipment],
    *,
    ask: bool,
) -> list[tuple[Shipment, set[int]]]:
    """Which issues each shipment deploys, the earliest shipment first to claim an issue.
    Without ``ask``, only what is known without GitHub (else ``_AskGitHub``)."""
    waiting = {n for issues in by_sha.values() for n in issues}
    shipped = []
    for shipment in shipments:
        deployed: set[int] = set()
        for merge_sha, issues in by_sha.items():
            pending = issues & waiting
            if pending and await _contains(ctx, product, data, merge_sha, shipment.sha, ask=ask):
                deployed |= pending
        if deployed:
            waiting -= deployed
            shipped.append((shipment, deployed))
    return shipped


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
