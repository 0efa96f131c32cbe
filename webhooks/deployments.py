"""Deployment status events: a successful production deployment that contains the merge commit."""

from __future__ import annotations

import logging

import cachetools
from gidgethub import routing, sansio

from bot import pipeline, transitions
from bot.github import GitHubRetry
from bot.pipeline import Fact, Stage
from storage.github_links import PullRequestLinkRepo
from storage.models import Product
from storage.tickets import TicketRepo
from webhooks.context import HandlerContext, as_int, installation_id_of, parse_time, products_for_event

log = logging.getLogger(__name__)
router = routing.Router()

CONTAINS = {"ahead", "identical"}
# Whether one commit contains another never changes: remember answers (per process).
_compare_cache: cachetools.LRUCache = cachetools.LRUCache(maxsize=10_000)


def is_production(product: Product, environment: str | None, deployment: dict) -> bool:
    if deployment.get("production_environment") is True:
        return True
    wanted = {e.lower() for e in product.production_environments}
    return bool(environment) and environment.lower() in wanted


@router.register("deployment_status")  # any action: deliveries from before 2020 carry none
async def mark_deployed_when_fix_reaches_production(event: sansio.Event, *, ctx: HandlerContext) -> None:
    if event.data.get("action") not in (None, "created"):
        return
    status = event.data.get("deployment_status")
    deployment = event.data.get("deployment")
    if not isinstance(status, dict) or not isinstance(deployment, dict):
        return
    if str(status.get("state") or "").lower() != "success":
        return
    deployed_sha = deployment.get("sha")
    environment = status.get("environment") or deployment.get("environment")
    if not isinstance(deployed_sha, str) or not deployed_sha:
        return
    occurred_at = parse_time(status.get("updated_at")) or parse_time(status.get("created_at"))

    async with ctx.db.session() as session:
        products = [
            p for p in await products_for_event(session, event.data)
            if p.deployment_tracking and is_production(p, environment, deployment)
        ]
        candidates: dict[int, dict[str, set[int]]] = {}
        for product in products:
            by_sha: dict[str, set[int]] = {}
            for link in await PullRequestLinkRepo(session).merged_for_product(product.id):
                by_sha.setdefault(link.merge_commit_sha, set()).add(link.issue_number)
            waiting = {
                t.issue_number for t in await TicketRepo(session).linked_to_issues(
                    product.id, sorted({n for issues in by_sha.values() for n in issues}))
                if t.stage == Stage.MERGED.value
            }
            candidates[product.id] = {sha: issues & waiting for sha, issues in by_sha.items() if issues & waiting}
    for product in products:
        deployed_issues: set[int] = set()
        for merge_sha, issues in candidates.get(product.id, {}).items():
            if await _contains(ctx, product, event, merge_sha, deployed_sha):
                deployed_issues |= issues
        if not deployed_issues:
            continue
        async with ctx.db.begin() as session:
            tickets = await TicketRepo(session).linked_to_issues(product.id, sorted(deployed_issues), lock=True)
            await transitions.apply(
                session, tickets, product,
                pipeline.Event(Fact.DEPLOYED, occurred_at=occurred_at),
                ctx.cause(event, deployment_id=as_int(deployment.get("id")), environment=environment),
            )


async def _contains(
    ctx: HandlerContext, product: Product, event: sansio.Event, merge_sha: str, deployed_sha: str
) -> bool:
    if merge_sha == deployed_sha:
        return True
    key = (product.repo_full_name.lower(), merge_sha, deployed_sha)
    if key in _compare_cache:
        return _compare_cache[key]
    if ctx.github is None:
        return False
    installation_id = installation_id_of(event.data) or product.installation_id
    if installation_id is None:
        installation_id = await ctx.github.find_installation(product.repo_owner, product.repo_name)
        if installation_id is None:
            return False
    gh = await ctx.github.installation(installation_id)
    try:
        comparison = await gh.getitem(
            "/repos/{owner}/{repo}/compare/{basehead}",
            {"owner": product.repo_owner, "repo": product.repo_name, "basehead": f"{merge_sha}...{deployed_sha}"},
        )
    except GitHubRetry as exc:
        if exc.status == 404:  # a commit GitHub does not know (force-pushed away): not contained
            return False
        raise
    contained = str(comparison.get("status", "")).lower() in CONTAINS
    _compare_cache[key] = contained
    return contained
