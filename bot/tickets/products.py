"""Registering products: validation and the rules shared by the CLI and the admin API."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import ApiError
from bot.rules.safetext import ISSUE_TEXT_VALUES
from bot.rules.tenants import DEFAULT_TENANT, tenant_field
from bot.rules.validation import MAX_EMAIL, FieldErrors, is_email
from bot.tickets import sla_webhook
from bot.tickets.sla_policies import policy_for_field
from storage.models import Product
from storage.repos.mail import MailRepo
from storage.repos.products import ProductRepo

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_SLUG = 64
# GitHub's own rules: owners are 1-39 letters, digits and single dashes; names add . and _.
REPO = re.compile(r"^(?P<owner>[A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))/(?P<name>[A-Za-z0-9._-]{1,100})$")
DEFAULT_ENVIRONMENTS = ("production",)
ISSUE_TEXT_MESSAGE = (
    f"issueText must be one of {', '.join(ISSUE_TEXT_VALUES)}, or null for the default "
    "(scrubbed on a public repository, full on a private one)"
)
MAIL_ADDRESS_MESSAGE = (
    "mailAddress must be an email address (mail to it opens tickets of this product), "
    "or null for none"
)
# What PATCH /api/admin/products/{slug} may change (the slug and repository stay).
UPDATABLE = (
    "name",
    "deploymentTracking",
    "productionEnvironments",
    "issueText",
    "slaPolicy",
    "mailAddress",
    *sla_webhook.FIELDS,
)
# The key of a policy name in the changes: resolved to ``sla_policy_id`` by update_product.
SLA_POLICY = "sla_policy"


def parse_repo(value: str) -> tuple[str, str] | None:
    match = REPO.match(value.strip())
    if not match or match.group("name") in {".", ".."}:
        return None
    return match.group("owner"), match.group("name")


def validate_product(data: dict[str, Any]) -> dict[str, Any]:
    errors = FieldErrors()
    slug = errors.required_text(data, "slug", max_chars=MAX_SLUG)
    if slug is not None and not SLUG.match(slug):
        errors.add(
            "slug", "slug may hold only lowercase letters, digits and single dashes (my-saas-app)"
        )
    repo_text = errors.required_text(data, "repo", max_chars=140)
    repo = parse_repo(repo_text) if repo_text is not None else None
    if repo_text is not None and repo is None:
        errors.add("repo", "repo must be OWNER/NAME, as in octo-org/my-saas-app")
    name = errors.optional_text(data, "name", max_chars=200)
    settings = _settings(errors, {"deploymentTracking": True, **data})
    tenant = tenant_field(errors, data, "tenant") or DEFAULT_TENANT
    errors.raise_if_any("Fix the fields listed in `fields`; required: slug and repo (OWNER/NAME).")
    assert slug and repo
    return {
        "tenant_id": tenant,
        "slug": slug,
        "name": name or slug,
        "repo_owner": repo[0],
        "repo_name": repo[1],
        "production_environments": list(DEFAULT_ENVIRONMENTS),
        **settings,
    }


def validate_product_update(data: dict[str, Any]) -> dict[str, Any]:
    """Check a PATCH /api/admin/products/{slug} body: the settings it names, nothing else."""
    errors = FieldErrors()
    for field in data:
        if field not in UPDATABLE:
            errors.add(field, f"{field} cannot be changed; changeable: {', '.join(UPDATABLE)}")
    changes = _settings(errors, data)
    changes.update(sla_webhook.validate(errors, data))  # carried out by sla_webhook.apply
    if "name" in data:
        name = errors.required_text(data, "name", max_chars=200)
        if name is not None:
            changes["name"] = name
    if not data:
        errors.add("body", f"send at least one of {', '.join(UPDATABLE)}")
    errors.raise_if_any(f"Fix the fields listed in `fields`; changeable: {', '.join(UPDATABLE)}.")
    return changes


def _settings(errors: FieldErrors, data: dict[str, Any]) -> dict[str, Any]:
    """The product settings present in ``data``, as model attributes."""
    settings: dict[str, Any] = {}
    if "deploymentTracking" in data:
        tracking = data["deploymentTracking"]
        if not isinstance(tracking, bool):
            errors.add("deploymentTracking", "deploymentTracking must be true or false")
        settings["deployment_tracking"] = tracking
    if "productionEnvironments" in data:
        environments = data["productionEnvironments"]
        if (
            not isinstance(environments, list)
            or not environments
            or not all(
                isinstance(e, str) and e.strip() and len(e) <= 255 and "\x00" not in e
                for e in environments
            )
        ):
            errors.add(
                "productionEnvironments",
                "productionEnvironments must be a non-empty array of environment names",
            )
        else:
            settings["production_environments"] = [e.strip() for e in environments]
    if "issueText" in data:
        issue_text = data["issueText"]
        if issue_text is not None and issue_text not in ISSUE_TEXT_VALUES:
            errors.add("issueText", ISSUE_TEXT_MESSAGE)
        settings["issue_text"] = issue_text
    if "mailAddress" in data:
        # Mail to it opens tickets of this product (bot.mail.incoming); null: none of its own.
        address = data["mailAddress"]
        if address is not None and (
            not isinstance(address, str)
            or len(address.strip()) > MAX_EMAIL
            or not is_email(address.strip())
        ):
            errors.add("mailAddress", MAIL_ADDRESS_MESSAGE)
        else:
            settings["mail_address"] = address.strip().lower() if address else None
    if "slaPolicy" in data:
        # A name, or null for the default policy. Only tickets opened from then on follow it:
        # each ticket keeps the policy it was opened under (bot.tickets.sla_policies).
        policy = data["slaPolicy"]
        if policy is not None and (not isinstance(policy, str) or not policy.strip()):
            errors.add(
                "slaPolicy", "slaPolicy is the name of an SLA policy, or null for the default"
            )
        settings[SLA_POLICY] = policy.strip() if isinstance(policy, str) else None
    return settings


async def register_product(session: AsyncSession, fields: dict[str, Any]) -> Product:
    repo = ProductRepo(session)
    if await repo.by_slug(fields["slug"]) is not None:
        raise _duplicate(fields["slug"])
    await _refuse_taken_address(session, fields.get("mail_address"), None)
    try:
        async with session.begin_nested():
            return await repo.add(Product(**fields))
    except IntegrityError:
        # Two registrations of the same slug raced; the database kept one.
        raise _duplicate(fields["slug"]) from None


async def update_product(session: AsyncSession, slug: str, changes: dict[str, Any]) -> Product:
    product = await ProductRepo(session).by_slug(slug)
    if product is None:
        raise ApiError(404, "Product not found", f"No product has the slug {slug!r}.")
    changes = dict(changes)
    await _refuse_taken_address(session, changes.get("mail_address"), product)
    if SLA_POLICY in changes:
        name = changes.pop(SLA_POLICY)
        policy = await policy_for_field(session, name, "slaPolicy") if name is not None else None
        product.sla_policy_id = policy.id if policy is not None else None
    for attribute, value in changes.items():
        setattr(product, attribute, value)
    await session.flush()
    return product


async def _refuse_taken_address(
    session: AsyncSession, address: str | None, product: Product | None
) -> None:
    if address is None:
        return
    owner = await MailRepo(session).product_by_address(address)
    if owner is not None and owner is not product:
        raise ApiError(
            409,
            "Mail address already in use",
            f"The product {owner.slug!r} receives mail at that address; choose another.",
        )


def _duplicate(slug: str) -> ApiError:
    return ApiError(
        409,
        "Product already exists",
        f"The slug {slug!r} is taken; choose another or remove the old product first.",
    )
