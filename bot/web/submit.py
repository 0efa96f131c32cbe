"""The submission form: ``/submit`` (pick a product) and ``/submit/{productSlug}`` (seed 000's
fields), for people without an API client.

A POST goes through exactly what ``POST /api/tickets`` does: the per-address create limit
(``limit_public_creates``), ``validate_submission`` (so each field's message is the API's own)
and ``open_submission``. The page needs no JavaScript. CSRF: the browser holds a random value in
an HttpOnly, SameSite=Strict cookie scoped to ``/submit``; the form carries a token signed
with the server's key (``TINYDESK_SECRET_KEY``, else the admin token) over that value, the
product and the time it was issued, and a POST without a matching, unexpired token changes
nothing. A hidden honeypot field that comes back filled gets a page like a success, is logged,
and stores nothing. Screenshots are links (as in the API) or image files uploaded with the
form (PNG, JPEG, GIF or WebP, at most 3 of 5 MB each, checked by their first bytes), kept with
the ticket for staff (``bot.tickets.attachments``); a file that fails is named and the form
shown again, nothing stored.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Mapping

from aiohttp import web
from multidict import MultiDictProxy

from bot.appkeys import DB, SETTINGS
from bot.errors import ApiError
from bot.http.bodies import Upload, read_form_with_files, shown, unstorable
from bot.http.ratelimit import limit_public_creates
from bot.http.urls import tracking_url
from bot.jobs.worker import notify_workers
from bot.rules import ids, mail_attachments
from bot.rules.validation import MAX_BODY_BYTES, MAX_SCREENSHOTS, MAX_SUBJECT
from bot.tickets.attachments import attachment_row
from bot.tickets.intake import open_submission, validate_submission
from bot.web.html import Html, field_attributes, field_error, fragment, join, page, path
from bot.web.sessions import CSRF_FIELD, set_cookie
from storage.models import Product
from storage.repos.products import ProductRepo

log = logging.getLogger(__name__)

routes = web.RouteTableDef()

FORM_COOKIE = "tinydesk_submit"
COOKIE_PATH = "/submit"
# How long a form may stay open before it is sent; a stale one is shown again with a new token.
FORM_TOKEN_LIFETIME = 6 * 3600
# A token issued this far in the future (another process's clock) is still taken.
CLOCK_SKEW = 60
HONEYPOT_FIELD = "website"
# Room for a description of MAX_BODY_BYTES even when the browser percent-encodes every byte.
FORM_LIMIT = 3 * MAX_BODY_BYTES + 16 * 1024
# Screenshot files uploaded with the form: images only, each as large as a mail's attachment.
UPLOAD_FIELD = "screenshotFile"
MAX_UPLOADS = MAX_SCREENSHOTS
UPLOAD_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
UPLOAD_LIMIT = FORM_LIMIT + MAX_UPLOADS * (mail_attachments.MAX_ATTACHMENT_BYTES + 4096)
UPLOAD_REFUSED = "only PNG, JPEG, GIF or WebP images are taken"

# The API's field names (validate_submission's messages use them) and the form's.
FORM_FIELDS = {
    "submitterEmail": "email",
    "submitterName": "name",
    "subject": "subject",
    "body": "body",
    "screenshots": "screenshots",
    UPLOAD_FIELD: "files",
}
FORM_ERROR = "_form"

EXPIRED_MESSAGE = (
    "This form had expired or its security token did not match, so nothing was sent. "
    "Check your details and send it again."
)

SIGNING_KEY = web.AppKey("submit_form_key", bytes)


def new_signing_key() -> bytes:
    """The key used when neither TINYDESK_SECRET_KEY nor the admin token is set: this process's
    own, so a form must then come back to the process that served it."""
    return secrets.token_bytes(32)


def _key(request: web.Request) -> bytes:
    settings = request.app[SETTINGS]
    secret = settings.secret_key or settings.admin_token
    return secret.encode() if secret else request.app[SIGNING_KEY]


def _signature(request: web.Request, cookie: str, slug: str, issued: int) -> str:
    message = f"submit-form\x00{slug}\x00{cookie}\x00{issued}".encode()
    return hmac.new(_key(request), message, hashlib.sha256).hexdigest()


def brought_cookie(request: web.Request) -> str | None:
    """The form cookie the browser sent, if it is one we could have set (a cookie that is not
    UTF-8 reaches us with lone surrogates, which no HMAC takes)."""
    value = request.cookies.get(FORM_COOKIE, "")
    return value if 32 <= len(value) <= 100 and value.isascii() else None


def form_cookie(request: web.Request) -> str:
    """The browser's form cookie value, or a new one."""
    return brought_cookie(request) or secrets.token_urlsafe(32)


def form_token(request: web.Request, cookie: str, slug: str) -> str:
    issued = int(time.time())
    return f"{issued}.{_signature(request, cookie, slug, issued)}"


def form_token_ok(request: web.Request, slug: str, submitted: object) -> bool:
    """Whether the POST carries a token this server signed for this browser's cookie and this
    product, not older than FORM_TOKEN_LIFETIME (constant-time compare)."""
    cookie = brought_cookie(request)
    if cookie is None or not isinstance(submitted, str) or len(submitted) > 200:
        return False
    issued_text, _, signature = submitted.partition(".")
    if not issued_text.isascii() or not issued_text.isdigit():
        return False
    issued = int(issued_text)
    age = time.time() - issued
    if not -CLOCK_SKEW <= age <= FORM_TOKEN_LIFETIME:
        return False
    expected = _signature(request, cookie, slug, issued)
    return secrets.compare_digest(signature.encode(), expected.encode())


# -- rendering -----------------------------------------------------------------------------


def text_field(
    errors: dict[str, str],
    values: Mapping[str, str],
    name: str,
    *,
    label: str,
    hint: str,
    input_type: str = "text",
    autocomplete: str = "off",
    required: bool = True,
) -> Html:
    return fragment(
        '<div class="field"><label for="submit-{name}">{label}{marker}</label>'
        '<p class="hint" id="{name}-hint">{hint}</p>{error}'
        '<input id="submit-{name}" name="{name}" type="{input_type}" value="{value}" '
        'autocomplete="{autocomplete}"{required}{described}></div>',
        name=name,
        label=label,
        marker=Html(' <span class="required">(required)</span>') if required else Html(""),
        hint=hint,
        error=field_error(errors, name),
        input_type=input_type,
        value=values.get(name, ""),
        autocomplete=autocomplete,
        required=Html(' aria-required="true"') if required else Html(""),
        described=field_attributes(errors, name),
    )


def target(name: str) -> str:
    """The element a problem with ``name`` is about: its input, the first screenshot link's."""
    if name == "screenshots":
        return "submit-screenshot-1"
    return "submit-files" if name == "files" else f"submit-{name}"


def render_form(
    product: Product,
    token: str,
    *,
    values: Mapping[str, str] | None = None,
    screenshots: tuple[str, ...] = (),
    errors: dict[str, str] | None = None,
) -> Html:
    values = values or {}
    errors = errors or {}
    summary = Html("")
    field_problems = [name for name in FORM_FIELDS.values() if name in errors]
    if errors:
        links = join(
            fragment(
                '<li><a href="#{target}">{message}</a></li>', target=target(n), message=errors[n]
            )
            for n in field_problems
        )
        summary = fragment(
            '<div class="error-summary" role="alert" aria-labelledby="error-summary-heading">'
            '<h2 id="error-summary-heading">{heading}</h2>{form_error}<ul>{links}</ul></div>',
            heading="Nothing was sent yet"
            if FORM_ERROR in errors
            else "Please fix the problems below",
            form_error=fragment("<p>{m}</p>", m=errors[FORM_ERROR])
            if FORM_ERROR in errors
            else Html(""),
            links=links,
        )
    shots = list(screenshots) + [""] * (MAX_SCREENSHOTS - len(screenshots))
    screenshot_inputs = join(
        fragment(
            '<label for="submit-screenshot-{n}">Screenshot link {n}</label>'
            '<input id="submit-screenshot-{n}" name="screenshot" type="url" value="{value}" '
            'inputmode="url" autocomplete="off"{described}>',
            n=index + 1,
            value=url,
            # an empty link is not what is wrong
            described=field_attributes(errors if url else {}, "screenshots"),
        )
        for index, url in enumerate(shots[:MAX_SCREENSHOTS])
    )
    return fragment(
        "{summary}"
        '<form class="stacked submit-form" method="post" action="{action}" '
        'enctype="multipart/form-data" novalidate>'
        '<input type="hidden" name="{csrf_name}" value="{token}">'
        '<fieldset class="card"><legend>About you</legend>{email}{name}</fieldset>'
        '<fieldset class="card"><legend>Your problem</legend>{subject}'
        '<div class="field"><label for="submit-body">Description '
        '<span class="required">(required)</span></label>'
        '<p class="hint" id="body-hint">What you did, what you expected and what happened '
        "instead.</p>{body_error}"
        '<textarea id="submit-body" name="body" rows="8" aria-required="true"{body_described}>'
        "{body}</textarea></div></fieldset>"
        '<fieldset class="card" aria-describedby="screenshots-hint"><legend>Screenshots '
        "(optional)</legend>"
        '<p class="hint" id="screenshots-hint">Up to {max} links (http or https) to images you '
        "have put online, or up to {max} image files.</p>{shots_error}"
        "{screenshot_inputs}"
        '<label for="submit-files">Screenshot files</label>'
        '<p class="hint" id="files-hint">PNG, JPEG, GIF or WebP, up to {mb} MB each. Only '
        "support staff see them. If the form comes back with a problem, choose them again."
        "</p>{files_error}"
        '<input id="submit-files" name="{upload_field}" type="file" multiple '
        'accept="{accept}"{files_described}></fieldset>'
        '<div class="hp" aria-hidden="true"><label for="submit-{hp}">Leave this field empty'
        '</label><input id="submit-{hp}" name="{hp}" type="text" value="" tabindex="-1" '
        'autocomplete="off"></div>'
        '<button type="submit">Send ticket</button></form>',
        summary=summary,
        action=path("submit", product.slug),
        csrf_name=CSRF_FIELD,
        token=token,
        email=text_field(
            errors,
            values,
            "email",
            label="Email",
            hint="Only support staff see it; it is never shown publicly or written to GitHub.",
            input_type="email",
            autocomplete="email",
        ),
        name=text_field(
            errors,
            values,
            "name",
            label="Name",
            hint="Optional: how support should address you.",
            autocomplete="name",
            required=False,
        ),
        subject=text_field(
            errors,
            values,
            "subject",
            label="Subject",
            hint=f"One line, up to {MAX_SUBJECT} characters.",
        ),
        body_error=field_error(errors, "body"),
        body_described=field_attributes(errors, "body"),
        body=values.get("body", ""),
        max=MAX_SCREENSHOTS,
        shots_error=field_error(errors, "screenshots"),
        screenshot_inputs=screenshot_inputs,
        mb=mail_attachments.MAX_ATTACHMENT_BYTES // (1024 * 1024),
        files_error=field_error(errors, "files"),
        upload_field=UPLOAD_FIELD,
        accept=",".join(UPLOAD_TYPES),
        files_described=field_attributes(errors, "files"),
        hp=HONEYPOT_FIELD,
    )


def form_page(
    request: web.Request,
    product: Product,
    *,
    values: Mapping[str, str] | None = None,
    screenshots: tuple[str, ...] = (),
    errors: dict[str, str] | None = None,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    """The form with a fresh token, and the cookie it is signed over."""
    cookie = form_cookie(request)
    content = fragment(
        '<h1>Submit a ticket <span class="product-name">to {name}</span></h1>'
        "<p>Tell us what went wrong. You get a ticket ID and a tracking link that shows every "
        "step of the fix, from the GitHub issue to the deployment.</p>{form}",
        name=product.name,
        form=render_form(
            product,
            form_token(request, cookie, product.slug),
            values=values,
            screenshots=screenshots,
            errors=errors,
        ),
    )
    title = f"Submit a ticket to {product.name}"
    response = page(
        request, f"Error: {title}" if errors else title, content, status=status, no_store=True
    )
    response.headers.update(headers or {})
    set_cookie(
        request, response, FORM_COOKIE, cookie, max_age=FORM_TOKEN_LIFETIME, path=COOKIE_PATH
    )
    return response


# Mail out sends the intake mail, with this link (bot.mail.outgoing).
EMAILED = Html(
    '<p id="emailed-note">We&rsquo;ve emailed you this link too, and we&rsquo;ll email you '
    "at each step.</p>"
)


def received_page(request: web.Request, public_id: str | None, link: str | None) -> web.Response:
    """After a submission: the publicId and the tracking link to keep. Without them (the
    honeypot) the page reads the same, minus what was never made."""
    details = Html("")
    if public_id is not None and link is not None:
        details = fragment(
            '<dl class="facts"><div><dt>Ticket ID</dt><dd class="public-id" id="public-id">'
            "{public_id}</dd></div></dl>"
            '<p><a class="button" id="tracking-link" href="{link}">Track your ticket</a></p>'
            '<p><label for="tracking-url">Your tracking link</label></p>'
            '<input id="tracking-url" class="secret" type="text" readonly value="{link}" '
            'aria-describedby="keep-note">'
            '<p class="notice" id="keep-note" role="note"><strong>Keep this link.</strong> It is '
            "the only way to see your ticket&rsquo;s subject and the messages from support; "
            "anyone with it can read them. We cannot show it to you again.</p>{emailed}",
            public_id=public_id,
            link=link,
            emailed=EMAILED if request.app[SETTINGS].mail.sending else Html(""),
        )
    content = fragment(
        '<h1>Ticket received</h1><p role="status">Thank you: your ticket is in. It will be '
        "turned into a GitHub issue for the developers shortly.</p>{details}",
        details=details,
    )
    return page(request, "Ticket received", content, no_store=True)


def not_found_page(request: web.Request, slug: str) -> web.Response:
    content = fragment(
        "<h1>We couldn&rsquo;t find that product</h1>"
        "<p>No product is registered as <code>{slug}</code>, so there is no form for it. "
        '<a href="/submit">Choose your product</a> from the list instead.</p>',
        slug=shown(slug[:100]),
    )
    return page(request, "Product not found", content, status=404)


def refused_page(request: web.Request, exc: ApiError) -> web.Response:
    """A POST whose body could not be read at all (wrong type, too big, not UTF-8, NUL)."""
    content = fragment(
        "<h1>Your ticket was not sent</h1>"
        '<p class="field-error" role="alert">{error}</p><p>{hint}</p>'
        "<p>Go back, check what you typed and send it again.</p>",
        error=exc.error,
        hint=exc.hint or "",
    )
    return page(request, "Ticket not sent", content, status=exc.status, no_store=True)


# -- handlers ------------------------------------------------------------------------------


async def find_product(request: web.Request, slug: str) -> Product | None:
    if len(slug) > 64 or unstorable(slug):
        return None
    async with request.app[DB].session() as session:
        return await ProductRepo(session).by_slug(slug)


@routes.get("/submit")
async def product_picker(request: web.Request) -> web.Response:
    """Every registered product by name, each linking to its form."""
    async with request.app[DB].session() as session:
        products = sorted(await ProductRepo(session).all(), key=lambda p: p.name.casefold())
    if products:
        items = join(
            fragment(
                '<li><a href="{href}">{name}</a></li>',
                href=path("submit", product.slug),
                name=product.name,
            )
            for product in products
        )
        listing = fragment('<ul class="product-list">{items}</ul>', items=items)
    else:
        listing = Html('<p class="empty">No products are registered yet.</p>')
    content = fragment(
        "<h1>Submit a ticket</h1><p>Which product is your ticket about?</p>"
        '<nav aria-label="Products">{listing}</nav>',
        listing=listing,
    )
    return page(request, "Submit a ticket", content)


@routes.get("/submit/{slug}")
async def show_form(request: web.Request) -> web.Response:
    slug = request.match_info["slug"]
    product = await find_product(request, slug)
    if product is None:
        return not_found_page(request, slug)
    return form_page(request, product)


def upload_type(upload: Upload) -> str | None:
    """The image type an uploaded file is stored as, or None when it is not one we take
    (checked by its first bytes, as mail's attachments are)."""
    filename = mail_attachments.safe_filename(upload.filename, "screenshot")
    verdict = mail_attachments.judge(
        filename, upload.content_type, len(upload.data), upload.data[:16], position=0
    )
    if verdict.content_type not in UPLOAD_TYPES:
        return None
    return verdict.content_type


def upload_problem(uploads: list[Upload]) -> str | None:
    """What is wrong with the uploaded files, naming each that is refused; None if fine."""
    refused = [
        mail_attachments.safe_filename(upload.filename, "screenshot")
        for upload in uploads
        if upload_type(upload) is None
    ]
    if not refused:
        return None
    return f"{', '.join(refused)}: {UPLOAD_REFUSED}, each at most " + (
        f"{mail_attachments.MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB."
    )


def form_values(form: MultiDictProxy[str]) -> tuple[dict[str, str], tuple[str, ...]]:
    values = {name: form.get(name, "") for name in ("email", "name", "subject", "body")}
    screenshots = tuple(url for url in form.getall("screenshot", []) if url.strip())
    return values, screenshots


@routes.post("/submit/{slug}")
async def submit_form(request: web.Request) -> web.Response:
    """Check the form's token, count the post against the create limit, answer a filled
    honeypot, then validate and open the ticket as POST /api/tickets does; every refusal shows
    the form again, values kept."""
    slug = request.match_info["slug"]
    product = await find_product(request, slug)
    if product is None:
        return not_found_page(request, slug)
    try:
        form, uploads = await read_form_with_files(
            request,
            limit=UPLOAD_LIMIT,
            file_limit=mail_attachments.MAX_ATTACHMENT_BYTES,
            max_files=MAX_UPLOADS,
        )
    except ApiError as exc:
        return refused_page(request, exc)
    values, screenshots = form_values(form)
    if not form_token_ok(request, product.slug, form.get(CSRF_FIELD)):
        errors = {FORM_ERROR: EXPIRED_MESSAGE}
        return form_page(
            request, product, values=values, screenshots=screenshots, errors=errors, status=403
        )
    try:
        await limit_public_creates(request)
    except ApiError as exc:
        errors = {FORM_ERROR: f"{exc.error}: {exc.hint}"}
        return form_page(
            request,
            product,
            values=values,
            screenshots=screenshots,
            errors=errors,
            status=exc.status,
            headers=exc.headers,
        )
    if form.get(HONEYPOT_FIELD, "").strip():
        log.info("submission form: honeypot filled, nothing stored", extra={"product": slug})
        return received_page(request, None, None)
    try:
        submission = validate_submission(
            {
                "productSlug": product.slug,
                "submitterEmail": values["email"],
                "submitterName": values["name"],
                "subject": values["subject"],
                "body": values["body"],
                "screenshots": list(screenshots),
            }
        )
    except ApiError as exc:
        fields = exc.extra.get("fields", {})
        errors = {FORM_FIELDS.get(name, FORM_ERROR): message for name, message in fields.items()}
        if problem := upload_problem(uploads):
            errors["files"] = problem
        return form_page(
            request,
            product,
            values=values,
            screenshots=screenshots,
            errors=errors or {FORM_ERROR: exc.hint or exc.error},
            status=exc.status,
        )
    if problem := upload_problem(uploads):
        return form_page(
            request,
            product,
            values=values,
            screenshots=screenshots,
            errors={"files": problem},
            status=400,
        )
    async with request.app[DB].begin() as session:
        current = await ProductRepo(session).by_slug(product.slug)
        if current is None:  # removed since the page was loaded
            return not_found_page(request, slug)
        # seed 001's vocabulary has no "form": a web page is the frontend.
        opened = await open_submission(session, current, submission, source_type="frontend")
        for upload in uploads:
            session.add(
                attachment_row(
                    opened.ticket.id,
                    mail_attachments.safe_filename(upload.filename, "screenshot"),
                    upload_type(upload) or "application/octet-stream",
                    upload.data,
                    now=opened.ticket.created_at,
                )
            )
    notify_workers(request.config_dict)
    public_id = ids.public_id(opened.ticket.id)
    log.info("submission form: ticket opened", extra={"product": slug, "public_id": public_id})
    return received_page(
        request, public_id, tracking_url(request, public_id, opened.tracking_token)
    )
