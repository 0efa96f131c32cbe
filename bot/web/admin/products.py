"""The admin products pages: the list, registering a product, its issue text, removing one."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.appkeys import DB
from bot.errors import ApiError
from bot.http.bodies import read_form
from bot.rules.safetext import ISSUE_TEXT_VALUES
from bot.tickets.products import (
    register_product,
    update_product,
    validate_product,
    validate_product_update,
)
from bot.web.admin_auth import (
    admin_only,
    admin_page,
    change_refused_page,
    csrf_input,
    form_errors,
    notice_from_query,
    redirect,
)
from bot.web.html import (
    Html,
    cells,
    field_attributes,
    field_error,
    fragment,
    join,
    path,
    table,
    time_element,
)
from bot.web.sessions import AdminSession
from storage.models import Product
from storage.repos.products import ProductRepo

ISSUE_TEXT_DEFAULT = "By repository visibility (public: scrubbed)"
ISSUE_TEXT_CHOICES = {
    "": ISSUE_TEXT_DEFAULT,
    "full": "Full text",
    "scrubbed": "Scrubbed of personal data and secrets",
    "subject-only": "Subject only",
}
assert set(ISSUE_TEXT_CHOICES) - {""} == set(ISSUE_TEXT_VALUES)


def issue_text_options(selected: str) -> Html:
    return join(
        fragment(
            '<option value="{v}"{sel}>{t}</option>',
            v=value,
            t=title,
            sel=Html(" selected") if selected == value else Html(""),
        )
        for value, title in ISSUE_TEXT_CHOICES.items()
    )


def issue_text_form(product: Product, admin_session: AdminSession) -> Html:
    """The product's issue text, changeable in place."""
    return fragment(
        '<form class="inline" method="post" action="{action}">{csrf}'
        '<label class="visually-hidden" for="issueText-{slug}">Issue text of {slug}</label>'
        '<select id="issueText-{slug}" name="issueText">{options}</select> '
        '<button type="submit">Set</button></form>',
        action=path("admin", "products", product.slug, "issue-text"),
        csrf=csrf_input(admin_session),
        slug=product.slug,
        options=issue_text_options(product.issue_text or ""),
    )


def product_row(product: Product, admin_session: AdminSession) -> Html:
    installed = (
        Html('<span class="badge ok">Installed</span>')
        if product.installation_id is not None
        else Html('<span class="badge warn">Not installed</span>')
    )
    remove = fragment(
        '<a href="{href}">Remove<span class="visually-hidden"> {slug}</span>…</a>',
        href=path("admin", "products", product.slug, "remove"),
        slug=product.slug,
    )
    return cells(
        fragment("<code>{slug}</code>", slug=product.slug),
        product.name,
        product.repo_full_name,
        installed,
        "On" if product.deployment_tracking else "Off",
        ", ".join(product.production_environments),
        issue_text_form(product, admin_session),
        time_element(product.created_at),
        remove,
    )


def register_form(
    admin_session: AdminSession, values: dict[str, Any], errors: dict[str, str]
) -> Html:
    def text_field(name: str, label: str, hint: str, *, required: bool = False) -> Html:
        return fragment(
            '<div class="field"><label for="{name}">{label}</label>'
            '<p class="hint" id="{name}-hint">{hint}</p>{error}'
            '<input id="{name}" name="{name}" type="text" value="{value}"{required}{attrs}></div>',
            name=name,
            label=label,
            hint=hint,
            error=field_error(errors, name),
            value=values.get(name, ""),
            required=Html(" required") if required else Html(""),
            attrs=field_attributes(errors, name),
        )

    tracking_checked = Html(" checked") if values.get("deploymentTracking", True) else Html("")
    general = (
        fragment('<p class="field-error">{e}</p>', e=errors["_form"])
        if "_form" in errors
        else Html("")
    )
    return fragment(
        '<section class="card" aria-labelledby="register-heading"><h2 '
        'id="register-heading">Register a product</h2>'
        '<form class="stacked" method="post" action="/admin/products" novalidate>{csrf}{general}'
        "{slug}{repo}{name}"
        '<div class="field checkbox"><input id="deploymentTracking" name="deploymentTracking" '
        'type="checkbox" value="on"'
        '{tracking} aria-describedby="deploymentTracking-hint">'
        '<label for="deploymentTracking">Deployment tracking</label>'
        '<p class="hint" id="deploymentTracking-hint">Wait for a production deployment before '
        "CLOSED. "
        "Untick for products that are not deployed: they go MERGED → CLOSED.</p></div>"
        "{environments}"
        '<div class="field"><label for="issueText">Issue text on GitHub</label>'
        '<p class="hint" id="issueText-hint">How much of the submitter\'s text its GitHub issues '
        "carry. Mentions never notify anyone; scrubbed removes emails, phone numbers, IP "
        "addresses and secrets. The full text always stays in TinyDesk.</p>{issue_text_error}"
        '<select id="issueText" name="issueText" aria-describedby="issueText-hint">'
        "{issue_text}</select></div>"
        '<button type="submit">Register product</button></form></section>',
        csrf=csrf_input(admin_session),
        general=general,
        slug=text_field(
            "slug",
            "Product slug",
            "Lowercase letters, digits and dashes, e.g. my-saas-app.",
            required=True,
        ),
        repo=text_field(
            "repo", "GitHub repository", "OWNER/NAME, e.g. octo-org/my-saas-app.", required=True
        ),
        name=text_field("name", "Display name (optional)", "Defaults to the slug."),
        tracking=tracking_checked,
        issue_text_error=field_error(errors, "issueText"),
        issue_text=issue_text_options(values.get("issueText", "")),
        environments=text_field(
            "productionEnvironments",
            "Production environments",
            "Comma-separated deployment environment names, e.g. production.",
        ),
    )


async def products_page(
    request: web.Request,
    admin_session: AdminSession,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    async with request.app[DB].session() as session:
        products = await ProductRepo(session).all()
    headers = [
        "Slug",
        "Name",
        "Repository",
        "GitHub App",
        "Deploy tracking",
        "Environments",
        "Issue text",
        "Registered",
        "Actions",
    ]
    content = fragment(
        "<h1>Products</h1>{notice}{table}{form}",
        notice=notice_from_query(request),
        table=table(
            headers,
            [product_row(p, admin_session) for p in products],
            caption="Registered products",
            empty="No products yet.",
        ),
        form=register_form(
            admin_session, values or {"productionEnvironments": "production"}, errors or {}
        ),
    )
    return admin_page(request, "products", content, admin_session=admin_session, status=status)


@admin_only
async def list_products(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    return await products_page(request, admin_session)


@admin_only
async def add_product(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    form = await read_form(request)
    values: dict[str, Any] = {
        key: str(form.get(key, ""))
        for key in ("slug", "repo", "name", "productionEnvironments", "issueText")
    }
    values["deploymentTracking"] = form.get("deploymentTracking") == "on"
    data = {
        "slug": values["slug"],
        "repo": values["repo"],
        "name": values["name"],
        "deploymentTracking": values["deploymentTracking"],
        "productionEnvironments": [
            e.strip() for e in values["productionEnvironments"].split(",") if e.strip()
        ],
        "issueText": values["issueText"] or None,
    }
    try:
        fields = validate_product(data)
        async with request.app[DB].begin() as session:
            await register_product(session, fields)
    except ApiError as exc:
        errors = form_errors(exc)
        return await products_page(
            request, admin_session, values=values, errors=errors, status=exc.status
        )
    return redirect(
        path("admin", "products", query={"notice": "product-added", "slug": fields["slug"]})
    )


@admin_only
async def confirm_remove_product(
    request: web.Request, admin_session: AdminSession
) -> web.StreamResponse:
    slug = request.match_info["slug"]
    async with request.app[DB].session() as session:
        product = await ProductRepo(session).by_slug(slug)
    if product is None:
        return admin_page(
            request,
            "not found",
            fragment("<h1>No product {slug}</h1>", slug=slug),
            admin_session=admin_session,
            status=404,
        )
    content = fragment(
        "<h1>Remove product <code>{slug}</code>?</h1>"
        "<p>{name} ({repo}) will no longer accept tickets. Its tickets are kept, but are no longer "
        "linked to a product, and GitHub events from {repo} are ignored.</p>"
        '<form class="actions" method="post" action="{action}">{csrf}'
        '<button type="submit" class="danger">Remove {slug}</button> '
        '<a href="/admin/products">Cancel</a></form>',
        slug=product.slug,
        name=product.name,
        repo=product.repo_full_name,
        action=path("admin", "products", product.slug, "remove"),
        csrf=csrf_input(admin_session),
    )
    return admin_page(request, f"remove {product.slug}", content, admin_session=admin_session)


@admin_only
async def remove_product(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    slug = request.match_info["slug"]
    async with request.app[DB].begin() as session:
        removed = await ProductRepo(session).remove(slug)
    if not removed:
        return admin_page(
            request,
            "not found",
            fragment("<h1>No product {slug}</h1>", slug=slug),
            admin_session=admin_session,
            status=404,
        )
    return redirect(path("admin", "products", query={"notice": "product-removed", "slug": slug}))


@admin_only
async def set_issue_text(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    """How much submitter text the product's future GitHub issues carry (blank: the default)."""
    slug = request.match_info["slug"]
    form = await read_form(request)
    try:
        changes = validate_product_update({"issueText": str(form.get("issueText", "")) or None})
        async with request.app[DB].begin() as session:
            await update_product(session, slug, changes)
    except ApiError as exc:
        return change_refused_page(
            request,
            admin_session,
            exc,
            field="issueText",
            heading="Issue text not changed",
            back=("Back to the products", "/admin/products"),
        )
    return redirect(path("admin", "products", query={"notice": "product-issue-text", "slug": slug}))
