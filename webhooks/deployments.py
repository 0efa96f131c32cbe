"""Deployment status events: a successful production deployment that contains the merge commit.

Deployments are remembered, so that a merge whose delivery arrives after the deployment
that shipped it still reaches DEPLOYED (see ``ship_if_already_deployed``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from typing import Any

from gidgethub import routing, sansio

from bot.github.client import GitHubRetry
from bot.rules import pipeline
from bot.rules.pipeline import Fact
from bot.tickets import transitions
from storage.models import Product
from storage.repos.deployments import COMPARISONS, DeploymentRepo
from storage.repos.github_links import PullRequestLinkRepo
from storage.repos.tickets import TicketRepo
from storage.types import utcnow
from webhooks.context import (
    HandlerContext,
    as_int,
    installation_id_of,
    parse_time,
    products_for_event,
)

log = logging.getLogger(__name__)
router = routing.Router()

CONTAINS = {"ahead", "identical"}


@dataclasses.dataclass(frozen=True)
class Shipment:
    sha: str
    environment: str | None
    deployment_id: int | None
    occurred_at: dt.datetime | None


def is_production(product: Product, environment: str | None, deployment: dict) -> bool:
    if deployment.get("production_environment") is True:
        return True
    wanted = {e.lower() for e in product.production_environments}
    return bool(environment) and environment.lower() in wanted


@router.register("deployment_status")  # any action: deliveries from before 2020 carry none
async def mark_deployed_when_fix_reaches_production(
    event: sansio.Event, *, ctx: HandlerContext
) -> None:
    if event.data.get("action") not in (None, "created"):
        return
    status, deployment = event.data.get("deployment_status"), event.data.get("deployment")
    if not isinstance(status, dict) or not isinstance(deployment, dict):
        return
    if str(status.get("state") or "").lower() != "success":
        return
    sha = deployment.get("sha")
    if not isinstance(sha, str) or not sha:
        return
    shipment = Shipment(
        sha=sha,
        environment=status.get("environment") or deployment.get("environment"),
        deployment_id=as_int(deployment.get("id")),
        occurred_at=parse_time(status.get("updated_at")) or parse_time(status.get("created_at")),
    )
    async with ctx.unit.begin() as session:
        products = [
            p
            for p in await products_for_event(session, event.data)
            if p.deployment_tracking and is_production(p, shipment.environment, deployment)
        ]
        for product in products:
            await DeploymentRepo(session).record(  # False for a retry of this delivery
                product.id,
                shipment.sha,
                environment=shipment.environment,
                deployment_id=shipment.deployment_id,
                occurred_at=shipment.occurred_at or utcnow(),
            )
    for product in products:
        await ship(ctx, product, event, [shipment])


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
                pipeline.Event(Fact.DEPLOYED, occurred_at=shipment.occurred_at),
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
    except GitHubRetry as exc:
        if exc.status == 404:  # a commit GitHub does not know (force-pushed away): not contained
            return False
        raise
    contained = str(comparison.get("status", "")).lower() in CONTAINS
    COMPARISONS.remember(product.repo_full_name, merge_sha, deployed_sha, contained)
    return contained
