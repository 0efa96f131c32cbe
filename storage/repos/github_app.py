"""The GitHub App registered through the manifest flow, and the registrations under way.

Storage keeps what it is given: the App's secrets arrive encrypted (``bot.github.stored_app``)
and a registration's ``state`` as its SHA-256, so neither table can be replayed as is.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AppSetupState, StoredGitHubApp
from storage.types import rows_affected

THE_APP = 1


class GitHubAppRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self) -> StoredGitHubApp | None:
        return await self.session.get(StoredGitHubApp, THE_APP)

    async def replace(self, app: StoredGitHubApp) -> StoredGitHubApp:
        """Store ``app`` as the App, in place of any registered before."""
        await self.session.execute(delete(StoredGitHubApp))
        app.id = THE_APP
        self.session.add(app)
        await self.session.flush()
        return app

    async def add_state(self, state: AppSetupState, *, now: float) -> None:
        """Remember a registration under way; those expired are forgotten on the way."""
        await self.session.execute(delete(AppSetupState).where(AppSetupState.expires_at <= now))
        self.session.add(state)
        await self.session.flush()

    async def take_state(self, state_hash: str, *, now: float) -> AppSetupState | None:
        """The registration under way with this hash, removed (a state is good once); None
        when unknown, already taken or expired."""
        found = await self.session.scalar(
            select(AppSetupState).where(AppSetupState.id == state_hash).with_for_update()
        )
        if found is None:
            return None
        taken = await self.session.execute(
            delete(AppSetupState).where(AppSetupState.id == state_hash)
        )
        if rows_affected(taken) != 1 or found.expires_at <= now:
            return None
        return found
