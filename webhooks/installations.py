"""Installation events: which repositories the App can work in, kept current."""

from __future__ import annotations

from gidgethub import routing, sansio
from sqlalchemy.ext.asyncio import AsyncSession

from bot.jobs.kinds import JobKind
from storage.repos.jobs import JobRepo
from storage.repos.products import ProductRepo
from webhooks.context import HandlerContext
from webhooks.payload import as_text, installation_id_of

router = routing.Router()


def _repos(items: object) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if not isinstance(items, list):
        return found
    for item in items:
        full_name = as_text(item.get("full_name"), 201) if isinstance(item, dict) else None
        if full_name is not None and full_name.count("/") == 1:
            owner, name = full_name.split("/")
            if as_text(owner, 100) and as_text(name, 100):
                found.append((owner, name))
    return found


async def _resume_waiting_work(session: AsyncSession) -> None:
    """Work that waited for the App to be installed is due now, including parked issues."""
    await JobRepo(session).resume_waiting(
        revive_failed_kind=JobKind.CREATE_ISSUE, keep_deadlines=JobKind.CONFIRM_CLOSE
    )


@router.register("installation", action="created")
@router.register("installation", action="new_permissions_accepted")
@router.register("installation", action="unsuspend")
async def remember_installed_repositories(event: sansio.Event, *, ctx: HandlerContext) -> None:
    installation_id = installation_id_of(event.data)
    if installation_id is None:
        return
    async with ctx.unit.begin() as session:
        products = ProductRepo(session)
        for owner, name in _repos(event.data.get("repositories")):
            await products.set_installation(owner, name, installation_id)
        await _resume_waiting_work(session)


@router.register("installation", action="deleted")
@router.register("installation", action="suspend")
async def forget_removed_installation(event: sansio.Event, *, ctx: HandlerContext) -> None:
    installation_id = installation_id_of(event.data)
    if installation_id is None:
        return
    async with ctx.unit.begin() as session:
        await ProductRepo(session).forget_installation(installation_id)
    if ctx.github is not None:
        ctx.github.forget_token(installation_id)


@router.register("installation_repositories", action="added")
@router.register("installation_repositories", action="removed")
async def follow_repository_selection(event: sansio.Event, *, ctx: HandlerContext) -> None:
    installation_id = installation_id_of(event.data)
    if installation_id is None:
        return
    async with ctx.unit.begin() as session:
        products = ProductRepo(session)
        for owner, name in _repos(event.data.get("repositories_added")):
            await products.set_installation(owner, name, installation_id)
        for owner, name in _repos(event.data.get("repositories_removed")):
            await products.set_installation(owner, name, None)
        if event.data.get("repositories_added"):
            await _resume_waiting_work(session)
