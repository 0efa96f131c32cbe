"""The landing page ``/``: what TinyDesk does (seed 000), the pipeline, and how an agent
integrates, with curl examples aimed at this very server and a product registered on it."""

from __future__ import annotations

import json

from aiohttp import web

from bot.appkeys import DB, SETTINGS
from bot.http.urls import request_origin
from bot.rules.pipeline import STAGE_DESCRIPTIONS, STAGE_TITLES, STAGES
from bot.views.public import TOKEN_HEADER
from bot.web.html import Html, fragment, join, page
from bot.web.tracking import render_lookup_form
from storage.repos.products import ProductRepo

routes = web.RouteTableDef()

EXAMPLE_SLUG = "my-saas-app"
EXAMPLE_PUBLIC_ID = "TK-00042"

# The seed's four groups of the eight stages.
STAGE_GROUPS = (
    ("1", "Received", "Ticket submitted via form or API"),
    ("2", "Issue Created", "Linked to a GitHub issue"),
    ("3-6", "Fix & Review", "In progress, PR open, reviewed, merged"),
    ("7-8", "Deployed & Closed", "Live in production, ticket resolved"),
)


def example_submission(slug: str) -> dict[str, object]:
    return {
        "productSlug": slug,
        "submitterEmail": "agent@example.com",
        "submitterName": "AI Agent v2",
        "subject": "Login button unresponsive on Safari",
        "body": "Reproducible steps:\n1. Open Safari 17\n2. Navigate to /login\n"
        "3. Click Sign In\n\n"
        "Expected: form submits\nActual: nothing happens",
        "screenshots": ["https://cdn.example.com/bug-01.png"],
    }


def example_response(base: str) -> dict[str, object]:
    return {
        "publicId": EXAMPLE_PUBLIC_ID,
        "status": "RECEIVED",
        "createdAt": "2026-03-24T08:00:00.000Z",
        "trackingToken": "<secret token>",
        "trackingUrl": f"{base}/track/{EXAMPLE_PUBLIC_ID}?token=<secret token>",
    }


def submit_command(base: str, slug: str) -> str:
    body = json.dumps(example_submission(slug), indent=2)
    return (
        f"curl -X POST {base}/api/tickets \\\n"
        "  -H 'Content-Type: application/json' \\\n"
        f"  -d '{body}'"
    )


def track_commands(base: str) -> str:
    url = f"{base}/api/tickets/{EXAMPLE_PUBLIC_ID}"
    return (
        "# the stage, the pipeline and the history: no auth required\n"
        f"curl {url}\n\n"
        "# with the trackingToken: also the subject and public comments\n"
        f"curl -H '{TOKEN_HEADER}: <trackingToken>' {url}"
    )


def render_pipeline() -> Html:
    groups = join(
        fragment(
            '<li class="group"><span class="group-number" aria-hidden="true">{number}</span>'
            '<h3><span class="visually-hidden">Stage {number}: '
            "</span>{title}</h3><p>{text}</p></li>",
            number=number,
            title=title,
            text=text,
        )
        for number, title, text in STAGE_GROUPS
    )
    stages = join(
        fragment(
            "<li><code>{value}</code> <span>{title}: {description}</span></li>",
            value=stage.value,
            title=STAGE_TITLES[stage],
            description=STAGE_DESCRIPTIONS[stage],
        )
        for stage in STAGES
    )
    return fragment(
        '<section aria-labelledby="pipeline-heading">'
        '<h2 id="pipeline-heading">The 8-stage pipeline</h2>'
        '<ol class="groups">{groups}</ol>'
        '<h3 id="status-values">Ticket status values</h3>'
        '<ol class="stage-list" aria-labelledby="status-values">{stages}</ol></section>',
        groups=groups,
        stages=stages,
    )


def render_integration(base: str, slug: str) -> Html:
    return fragment(
        '<section id="agents" aria-labelledby="agents-heading">'
        '<h2 id="agents-heading">Agent Integration</h2>'
        '<p class="eyebrow">Integrate your product with TinyDesk</p>'
        "<p>AI agents and automated systems can submit and track support tickets programmatically. "
        "Follow these three steps to get your product connected.</p>"
        '<ol class="steps">'
        '<li class="card"><p class="eyebrow">Step 1</p><h3>Register your product</h3>'
        "<p>A TinyDesk admin registers your product via the dashboard and provides you with a "
        "unique "
        "<code>productSlug</code>. This slug identifies your product in every API call.</p>"
        '<pre tabindex="0"><code># Example product slug\n"productSlug": "{slug}"</code></pre></li>'
        '<li class="card"><p class="eyebrow">Step 2</p><h3>Submit a ticket</h3>'
        "<p>POST to the tickets endpoint with your product slug, submitter details, and issue "
        "description. The response includes a <code>publicId</code> for tracking.</p>"
        '<pre tabindex="0"><code>{submit}</code></pre>'
        "<p><strong>Required:</strong> productSlug, submitterEmail, subject, body. "
        "<strong>Optional:</strong> submitterName, screenshots (max 3 URLs).</p>"
        '<p>Response <code>201 Created</code>:</p><pre tabindex="0"><code>{response}</code></pre>'
        "<ul><li><code>publicId</code>: use this to track progress</li>"
        "<li><code>status</code>: initial status is always RECEIVED</li>"
        "<li><code>trackingToken</code>: keep it; with it you also see the subject and public "
        "comments</li>"
        "<li>Returns 404 if productSlug is not registered</li>"
        "<li>Returns 400 with field errors on validation failure</li></ul></li>"
        '<li class="card"><p class="eyebrow">Step 3</p><h3>Track the ticket</h3>'
        "<p>Use the returned publicId to poll ticket status and view the full 8-stage pipeline "
        "progress at any time, or open the <code>trackingUrl</code> in a browser.</p>"
        '<pre tabindex="0"><code>{track}</code></pre></li>'
        "</ol>"
        '<p>Every endpoint, its parameters and answers: the <a href="/api/docs">API '
        'reference</a> (also as OpenAPI 3.1: <a href="/api/openapi.json">/api/openapi.json</a>).'
        "</p></section>",
        slug=slug,
        submit=submit_command(base, slug),
        response=json.dumps(example_response(base), indent=2),
        track=track_commands(base),
    )


@routes.get("/")
async def landing_page(request: web.Request) -> web.Response:
    base = request.app[SETTINGS].base_url(request_origin(request))
    async with request.app[DB].session() as session:
        products = await ProductRepo(session).all()
    slug = products[0].slug if products else EXAMPLE_SLUG
    content = fragment(
        '<section class="hero" aria-labelledby="hero-heading"><div>'
        '<p class="eyebrow">Transparent support tracking</p>'
        '<h1 id="hero-heading">See exactly where your ticket is. Every step.</h1>'
        '<p class="lead">TinyDesk shows you the full journey of your support ticket — from '
        "submission to code fix to deployment. No more “we&rsquo;ll get back to you.”</p>"
        '<p><a class="button" href="/submit">Submit a ticket</a></p></div>'
        '<div class="card lookup-card"><h2>Track your ticket</h2>{lookup}</div>'
        "</section>{pipeline}{integration}",
        lookup=render_lookup_form(),
        pipeline=render_pipeline(),
        integration=render_integration(base, slug),
    )
    return page(request, "See exactly where your ticket is", content)
