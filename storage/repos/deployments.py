"""DeploymentRepo: the production deployments seen, and what GitHub said about commits.

Deployments are remembered, so that a merge whose delivery arrives after the deployment
that shipped it still reaches DEPLOYED.
"""

from __future__ import annotations

import datetime as dt

import cachetools
from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ProductionDeployment

# How many of the deployments after a merge (and in the slack before it) are checked for it
# (on a linear main, the first one after it contains it).
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
            _SEEN, {"product_id": product_id, "sha": sha, "deployment_id": deployment_id}
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

    async def around(
        self,
        product_id: int,
        when: dt.datetime,
        *,
        slack: dt.timedelta,
        limit: int = DEPLOYMENTS_AFTER_MERGE,
    ) -> list[ProductionDeployment]:
        """The deployments that may first contain a merge made at ``when``, earliest first:
        the ``limit`` first ones from ``when`` on, and the ``limit`` last ones in the
        ``slack`` before it (clocks disagree a little). On a busy product many deployments
        fall in the slack; taking the earliest since ``when - slack`` would miss the merge."""
        after_query, before_query = _AROUND if limit == DEPLOYMENTS_AFTER_MERGE else _around(limit)
        after = await self.session.scalars(after_query, {"product_id": product_id, "when": when})
        try:
            earliest = when - slack
        except OverflowError:  # a merge "in year 1": every earlier deployment
            earliest = dt.datetime.min.replace(tzinfo=dt.UTC)
        before = await self.session.scalars(
            before_query, {"product_id": product_id, "when": when, "earliest": earliest}
        )
        return [*reversed(before.all()), *after.all()]


def _around(limit: int) -> tuple[Select[ProductionDeployment], Select[ProductionDeployment]]:
    """``around``'s two reads: from the merge on, and in the slack before it."""
    base = select(ProductionDeployment).where(
        ProductionDeployment.product_id == bindparam("product_id")
    )
    order = (ProductionDeployment.occurred_at, ProductionDeployment.id)
    after = base.where(ProductionDeployment.occurred_at >= bindparam("when"))
    before = base.where(
        ProductionDeployment.occurred_at < bindparam("when"),
        ProductionDeployment.occurred_at >= bindparam("earliest"),
    )
    return (
        after.order_by(*order).limit(limit),
        before.order_by(*(column.desc() for column in order)).limit(limit),
    )


# Built once: a statement's construction and cache key cost more than the read itself.
_AROUND = _around(DEPLOYMENTS_AFTER_MERGE)
_SEEN = (
    select(ProductionDeployment.id)
    .where(
        ProductionDeployment.product_id == bindparam("product_id"),
        ProductionDeployment.sha == bindparam("sha"),
        ProductionDeployment.deployment_id == bindparam("deployment_id"),
    )
    .limit(1)
)


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
