"""DeploymentRepo: the production deployments seen, and what GitHub said about commits.

Deployments are remembered, so that a merge whose delivery arrives after the deployment
that shipped it still reaches DEPLOYED.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import cachetools
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ProductionDeployment

# How many of the deployments after a merge are checked for it (on a linear main, the first
# one contains it).
DEPLOYMENTS_AFTER_MERGE = 10


class DeploymentRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(
        self,
        product_id: int,
        sha: str,
        *,
        environment: str | None,
        deployment_id: int | None,
        occurred_at: dt.datetime,
    ) -> bool:
        """Remember a production deployment; False if it was seen already (a retry)."""
        seen = await self.session.scalar(
            select(ProductionDeployment.id)
            .where(
                ProductionDeployment.product_id == product_id,
                ProductionDeployment.sha == sha,
                ProductionDeployment.deployment_id == deployment_id,
            )
            .limit(1)
        )
        if seen is not None:
            return False
        self.session.add(
            ProductionDeployment(
                product_id=product_id,
                sha=sha,
                environment=environment,
                deployment_id=deployment_id,
                occurred_at=occurred_at,
            )
        )
        return True

    async def since(
        self, product_id: int, when: dt.datetime | None, *, limit: int = DEPLOYMENTS_AFTER_MERGE
    ) -> Sequence[ProductionDeployment]:
        """The product's deployments at or after ``when`` (all if None), earliest first: the
        first that contains a merge is the one that shipped it."""
        query = select(ProductionDeployment).where(ProductionDeployment.product_id == product_id)
        if when is not None:
            query = query.where(ProductionDeployment.occurred_at >= when)
        return (
            await self.session.scalars(
                query.order_by(
                    ProductionDeployment.occurred_at, ProductionDeployment.id
                ).limit(limit)
            )
        ).all()


class CommitComparisons:
    """Whether one commit contains another, as GitHub answered: that never changes, so the
    answers are remembered (one cache per process, bounded)."""

    def __init__(self, maxsize: int = 10_000) -> None:
        self._known: cachetools.LRUCache[tuple[str, str, str], bool] = cachetools.LRUCache(
            maxsize=maxsize
        )

    def known(self, repo_full_name: str, merge_sha: str, deployed_sha: str) -> bool | None:
        """What GitHub said of this pair, or None if it was never asked."""
        return self._known.get((repo_full_name.lower(), merge_sha, deployed_sha))

    def remember(
        self, repo_full_name: str, merge_sha: str, deployed_sha: str, contained: bool
    ) -> None:
        self._known[(repo_full_name.lower(), merge_sha, deployed_sha)] = contained

    def clear(self) -> None:
        self._known.clear()


# The process's answers, shared by every delivery.
COMPARISONS = CommitComparisons()
