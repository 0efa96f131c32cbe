"""Deployment status events: a successful deployment to production is remembered and shipped
(webhooks/shipping.py moves the tickets whose merged fix it contains to DEPLOYED)."""

from __future__ import annotations

from typing import Any

from gidgethub import routing, sansio

from storage.models import Product
from storage.repos.deployments import DeploymentRepo
from storage.types import utcnow
from webhooks.context import HandlerContext, products_for_event
from webhooks.payload import as_int, as_text, parse_time
from webhooks.shipping import Shipment, check_again_after_commit, ship

router = routing.Router()

def is_production(product: Product, environment: str | None, deployment: dict[str, Any]) -> bool:
    if deployment.get("production_environment") is True:
        return True
    if not environment:
        return False
    return environment.lower() in {e.lower() for e in product.production_environments}


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
    sha = as_text(deployment.get("sha"), 64)
    if sha is None:
        return
    environment = status.get("environment") or deployment.get("environment")
    shipment = Shipment(
        sha=sha,
        environment=as_text(environment, 255),
        deployment_id=as_int(deployment.get("id")),
        occurred_at=parse_time(status.get("updated_at"))
        or parse_time(status.get("created_at"))
        or utcnow(),
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
                occurred_at=shipment.occurred_at,
            )
            await check_again_after_commit(session, product, ctx.delivery_id)
    for product in products:
        await ship(ctx, product, event, shipment)
