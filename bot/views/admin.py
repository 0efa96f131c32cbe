"""How the admin API and the CLI show products, desk API keys, webhook deliveries and jobs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.views.timefmt import iso_ms
from storage.models import ApiKey, Delivery, Job, Product
from storage.repos.products import ProductRepo


def product_view(product: Product, policy_names: Mapping[int, str]) -> dict[str, Any]:
    """``policy_names``: the SLA policies' names by id (``slaPolicy`` null: the default's)."""
    policy = product.sla_policy_id
    return {
        "slug": product.slug,
        "name": product.name,
        "repo": product.repo_full_name,
        "installationId": product.installation_id,
        "appInstalled": product.installation_id is not None,
        "deploymentTracking": product.deployment_tracking,
        "productionEnvironments": list(product.production_environments),
        "issueText": product.issue_text,
        "slaPolicy": policy_names.get(policy) if policy is not None else None,
        "createdAt": iso_ms(product.created_at),
        # Where SLA warnings and breaches go (bot.tickets.sla_webhook); never the secret.
        "slaWebhookUrl": product.sla_webhook_url,
        # Mail to it opens tickets of this product, besides support+<slug>@... (bot.mail).
        "mailAddress": product.mail_address,
        "tenant": product.tenant_id,
    }


def key_view(api_key: ApiKey, slugs_by_id: dict[int, str]) -> dict[str, Any]:
    """How a key is listed: never the key itself, only its first characters."""
    return {
        "id": api_key.public_id,
        "name": api_key.name,
        "publicName": api_key.public_name,
        "prefix": api_key.display_prefix,
        "mode": "test" if api_key.is_test else "live",
        # A removed product's id stays in the scope (so the key does not widen to all).
        "products": [
            slugs_by_id.get(pid, f"(removed product {pid})") for pid in api_key.product_ids
        ],
        "createdAt": iso_ms(api_key.created_at),
        "lastUsedAt": iso_ms(api_key.last_used_at),
        "revokedAt": iso_ms(api_key.revoked_at),
        "tenant": api_key.tenant_id,
        "app": api_key.app_id,
    }


async def key_views(session: AsyncSession, keys: Sequence[ApiKey]) -> list[dict[str, Any]]:
    slugs = {p.id: p.slug for p in await ProductRepo(session).all()}
    return [key_view(k, slugs) for k in keys]


def delivery_view(row: Delivery) -> dict[str, Any]:
    return {
        "id": row.id,
        "deliveryId": row.delivery_id,
        "event": row.event,
        "action": row.action,
        "state": row.state,
        "attempts": row.attempts,
        "lastError": row.last_error,
        "receivedAt": iso_ms(row.received_at),
        "processedAt": iso_ms(row.processed_at),
        "nextAttemptAt": iso_ms(row.next_attempt_at) if row.state == "pending" else None,
    }


def job_view(row: Job) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "args": row.args,
        "state": row.state,
        "attempts": row.attempts,
        "lastError": row.last_error,
        "createdAt": iso_ms(row.created_at),
        "doneAt": iso_ms(row.done_at),
        "nextAttemptAt": iso_ms(row.next_attempt_at) if row.state == "pending" else None,
    }
