"""Ticket templates (seed 003): creating, changing and removing them, finding the one a
request names, and filling a new desk ticket from it. The desk API, the admin API, the admin
pages and the CLI all come here; what a template may hold is ``bot.rules.templates``.

Who may do what: an admin (and the CLI) every template; a desk key sees the templates of its
products and those of no product (shared), but a key limited to products changes only its
products' templates, and never makes or changes a shared one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import ApiError
from bot.rules import ids
from bot.rules.templates import (
    FILLED,
    HINTS,
    ID_PREFIX,
    TEMPLATE_ID,
    TemplateFields,
    fill_new_ticket,
    template_ref,
    unknown_template,
)
from bot.tickets.apikeys import KeyScope
from storage.models import Product, TicketTemplate
from storage.repos.products import ProductRepo
from storage.repos.templates import TemplateRepo
from storage.types import utcnow

TEMPLATE_NOT_FOUND = "Template not found"
SHARED = "a key limited to products cannot make or change a template of no product (shared)"


@dataclasses.dataclass(frozen=True)
class TemplateScope:
    """Which templates a caller sees and changes (``product_ids`` None: all) and who it is
    (``actor``, stored as created_by / updated_by)."""

    product_ids: tuple[int, ...] | None
    actor: str

    @classmethod
    def of_key(cls, scope: KeyScope) -> TemplateScope:
        return cls(scope.product_ids, scope.public_id)


ADMIN = TemplateScope(None, "admin")
CLI = TemplateScope(None, "cli")


def request_fields(template: TicketTemplate) -> dict[str, Any]:
    """The template as the fields of a new desk ticket (``bot.rules.templates.FILLED``)."""
    return {
        "subject": template.subject,
        "body": template.body,
        "priority": template.priority,
        "type": template.type,
        "category": template.category,
        "tags": list(template.tags) or None,
        "productSlug": template.product.slug if template.product else None,
    }


async def lookup(session: AsyncSession, scope: TemplateScope, ref: str) -> TicketTemplate | None:
    """A visible template by id (``tpl_…``) or exact name."""
    repo = TemplateRepo(session)
    if TEMPLATE_ID.match(ref):
        return await repo.by_desk_id(ref, scope.product_ids)
    return await repo.by_name(ref, scope.product_ids)


async def find_template(session: AsyncSession, scope: TemplateScope, ref: str) -> TicketTemplate:
    template = await lookup(session, scope, ref)
    if template is None:
        raise ApiError(
            404,
            TEMPLATE_NOT_FOUND,
            "Use the template's id (tpl_…) or its exact name; a key limited to products sees "
            "only their templates and those of no product.",
        )
    return template


async def _product(
    session: AsyncSession, scope: TemplateScope, slug: str | None, *, creating: bool
) -> Product | None:
    """The product a template is for: the named one (it must exist and be in scope); none
    for an unscoped caller; a scoped key's only product when it names none on creation."""
    if slug is not None:
        product = await ProductRepo(session).by_slug(slug)
        if product is None or (
            scope.product_ids is not None and product.id not in scope.product_ids
        ):
            problem = (
                f"no product has the slug {slug!r}"
                if scope.product_ids is None
                else f"no product {slug!r} is open to this key"
            )
            raise ApiError(
                400, "Unknown product", HINTS["productSlug"], fields={"productSlug": problem}
            )
        return product
    if scope.product_ids is None:
        return None
    if creating and len(scope.product_ids) == 1:
        only = await ProductRepo(session).by_id(scope.product_ids[0])
        if only is not None:  # else removed: the key has no product to default to
            return only
    raise ApiError(
        400,
        "productSlug is required",
        "Name one of this key's products in productSlug.",
        fields={"productSlug": SHARED},
    )


def _may_change(scope: TemplateScope, template: TicketTemplate) -> None:
    if scope.product_ids is not None and template.product_id is None:
        raise ApiError(
            403,
            "Template is shared",
            "A template of no product is changed by an admin or a key for all products.",
        )


def _duplicate(name: str) -> ApiError:
    return ApiError(
        409,
        "Template already exists",
        f"The name {name!r} is taken; choose another or change the existing template.",
    )


async def _name_is_free(session: AsyncSession, name: str, template_id: int | None) -> None:
    taken = await TemplateRepo(session).by_name(name)
    if taken is not None and taken.id != template_id:
        raise _duplicate(name)


async def create_template(
    session: AsyncSession, scope: TemplateScope, fields: TemplateFields
) -> TicketTemplate:
    product = await _product(session, scope, fields.product_slug, creating=True)
    await _name_is_free(session, fields.name, None)
    now = utcnow()
    template = TicketTemplate(
        desk_id=ids.new_desk_id(ID_PREFIX),
        name=fields.name,
        subject=fields.subject,
        body=fields.body,
        priority=fields.priority,
        type=fields.type,
        category=fields.category,
        tags=list(fields.tags),
        product_id=product.id if product else None,
        product=product,
        created_at=now,
        updated_at=now,
        created_by=scope.actor,
        updated_by=scope.actor,
    )
    try:
        async with session.begin_nested():
            return await TemplateRepo(session).add(template)
    except IntegrityError:
        # Two templates of the same name raced; the database kept one.
        raise _duplicate(fields.name) from None


# The template's own columns, named as the request fields they hold.
_TEXT_FIELDS = ("subject", "body", "priority", "type", "category")


async def update_template(
    session: AsyncSession, scope: TemplateScope, ref: str, changes: Mapping[str, Any]
) -> TicketTemplate:
    """Apply validated changes (``bot.rules.templates.validate_template_changes``)."""
    template = await find_template(session, scope, ref)
    _may_change(scope, template)
    if "productSlug" in changes:
        product = await _product(session, scope, changes["productSlug"], creating=False)
        template.product_id = product.id if product else None
        template.product = product
    if "name" in changes and changes["name"] != template.name:
        await _name_is_free(session, changes["name"], template.id)
        template.name = changes["name"]
    for field in _TEXT_FIELDS:
        if field in changes:
            setattr(template, field, changes[field])
    if "tags" in changes:
        template.tags = list(changes["tags"])
    template.updated_at = utcnow()
    template.updated_by = scope.actor
    try:
        await session.flush()
    except IntegrityError:
        # A rename raced another template to the name; the request's transaction is undone.
        raise _duplicate(template.name) from None
    return template


async def remove_template(session: AsyncSession, scope: TemplateScope, ref: str) -> None:
    template = await find_template(session, scope, ref)
    _may_change(scope, template)
    await TemplateRepo(session).remove(template)


async def fill_from_template(
    session: AsyncSession, scope: KeyScope, data: dict[str, Any]
) -> dict[str, Any]:
    """A new desk ticket's request with what it leaves out taken from the template it names
    (if any): an unknown template, or one this key may not see, is a 400 naming ``template``.
    The product the template names then goes through the same check as a ``productSlug``."""
    ref = template_ref(data)
    if ref is None:
        return {k: v for k, v in data.items() if k != "template"}
    template = await lookup(session, TemplateScope.of_key(scope), ref)
    if template is None:
        raise unknown_template(ref)
    return fill_new_ticket(data, request_fields(template))


assert {*_TEXT_FIELDS, "tags", "productSlug"} == set(FILLED)
