"""The admin pages of GitHub jobs (the outbox): the failed ones with their error and a Replay
button, those waiting to be tried again, and one job in full.

Replaying is ``storage.repos.queue.requeue``, the same rule as ``POST
/api/admin/jobs/{id}/replay``: only a failed job goes round again, its attempts from zero.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from aiohttp import web

from bot.appkeys import DB, SETTINGS
from bot.github.web_url import github_web_url, issue_url, pull_url
from bot.jobs.kinds import JobKind
from bot.rules import ids
from bot.rules.numbers import whole_number
from bot.web.admin.deliveries import replay_and_return
from bot.web.admin_auth import admin_only, admin_page, csrf_input, notice_from_query
from bot.web.html import Html, cells, fragment, join, path, table, time_element
from bot.web.sessions import AdminSession
from storage.models import Job, Product, QueueState
from storage.reads import admin_jobs
from storage.repos.products import ProductRepo

# The list shows the start of an error; the job's own page shows all of it.
ERROR_PREVIEW_CHARS = 300

KIND_TITLES: dict[str, str] = {
    JobKind.CREATE_ISSUE: "Open the GitHub issue",
    JobKind.REFRESH_STATUS_COMMENT: "Update the status comment",
    JobKind.COMMENT_ON_PR: "Note on the pull request",
    JobKind.REMOVE_LABEL: "Remove a stage label",
    JobKind.CONFIRM_CLOSE: "Confirm the issue's close",
    JobKind.SHIP_CHECK: "Look for the deployment that shipped a merge",
    JobKind.SLA_NOTIFY: "Tell the product's SLA webhook of a warning or breach",
    JobKind.BANK_NOTIFY: "Tell the client's billing webhook of an hour-bank warning",
    JobKind.SEND_MAIL: "Mail the submitter what happened to their ticket since the last mail",
    JobKind.MAIL_DIGEST: "Mail the staff the daily digest of open tickets",
}


def _int_arg(args: Mapping[str, object], name: str) -> int | None:
    value = args.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def job_purpose(job: Job, products: Mapping[int, Product], web_url: str) -> Html:
    """What the job is for, linked: its ticket, or its product's issue or pull request."""
    args = job.args if isinstance(job.args, dict) else {}
    parts: list[Html] = []
    ticket_id = _int_arg(args, "ticket_id")
    if ticket_id is not None:
        public_id = ids.public_id(ticket_id)
        parts.append(
            fragment(
                'ticket <a href="{href}">{id}</a>',
                href=path("admin", "tickets", public_id),
                id=public_id,
            )
        )
    product_id = _int_arg(args, "product_id")
    product = products.get(product_id) if product_id is not None else None
    for name, noun, url in (("issue_number", "issue", issue_url), ("pr_number", "PR", pull_url)):
        number = _int_arg(args, name)
        if number is None:
            continue
        if product is None:
            parts.append(fragment("{noun} #{n} (product removed)", noun=noun, n=number))
            continue
        parts.append(
            fragment(
                '{noun} <a href="{href}" rel="noopener noreferrer">{repo}#{n}</a>',
                noun=noun,
                href=url(web_url, product.repo_full_name, number),
                repo=product.repo_full_name,
                n=number,
            )
        )
    return join(parts, ", ") if parts else Html("—")


def kind_cell(job: Job) -> Html:
    title = KIND_TITLES.get(job.kind)
    return fragment(
        '<a href="{href}">{title}</a><br><code class="small">{kind}</code>',
        href=path("admin", "jobs", str(job.id)),
        title=title or job.kind,
        kind=job.kind,
    )


def error_preview(job: Job) -> Html:
    error = job.last_error or "—"
    if len(error) <= ERROR_PREVIEW_CHARS:
        return fragment('<pre class="error-text">{e}</pre>', e=error)
    return fragment(
        '<pre class="error-text">{e}…</pre><a href="{href}">Full error of job {id}</a>',
        e=error[:ERROR_PREVIEW_CHARS],
        href=path("admin", "jobs", str(job.id)),
        id=job.id,
    )


def replay_form(job: Job, admin_session: AdminSession) -> Html:
    return fragment(
        '<form method="post" action="{action}">{csrf}'
        '<button type="submit">Replay<span class="visually-hidden"> job '
        "{id}</span></button></form>",
        action=path("admin", "jobs", str(job.id), "replay"),
        csrf=csrf_input(admin_session),
        id=job.id,
    )


async def _products(request: web.Request) -> dict[int, Product]:
    async with request.app[DB].session() as session:
        return {p.id: p for p in await ProductRepo(session).all()}


@admin_only
async def list_jobs(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    async with request.app[DB].session() as session:
        failed = await admin_jobs.failed_jobs(session)
        retrying = await admin_jobs.retrying_jobs(session)
        products = {p.id: p for p in await ProductRepo(session).all()}
    web_url = github_web_url(request.app[SETTINGS].github_api_url)
    failed_rows = [
        cells(
            kind_cell(job),
            job_purpose(job, products, web_url),
            time_element(job.created_at),
            job.attempts,
            error_preview(job),
            replay_form(job, admin_session),
        )
        for job in failed
    ]
    retrying_rows = [
        cells(
            kind_cell(job),
            job_purpose(job, products, web_url),
            job.attempts,
            time_element(job.next_attempt_at),
            error_preview(job),
        )
        for job in retrying
    ]
    content = fragment(
        "<h1>Failed jobs</h1>{notice}"
        "<p>Work for GitHub (issues, status comments, notes on pull requests) that the outbox "
        "gave up on. Replay one after fixing its cause: it is tried again from the start.</p>"
        "{failed}"
        '<h2 id="retrying">Retrying</h2>'
        "<p>Jobs that failed and wait for their next attempt; they need nothing from you "
        "unless they keep failing.</p>{retrying}",
        notice=notice_from_query(request),
        failed=table(
            ["Job", "For", "Created", "Attempts", "Last error", "Replay"],
            failed_rows,
            caption="Failed jobs, newest first",
            empty="No failed jobs.",
        ),
        retrying=table(
            ["Job", "For", "Attempts", "Next attempt", "Last error"],
            retrying_rows,
            caption="Jobs waiting to be retried, next first",
            empty="No jobs waiting for a retry.",
        ),
    )
    return admin_page(request, "failed jobs", content, admin_session=admin_session)


@admin_only
async def show_job(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    row_id = whole_number(request.match_info["id"])
    job = None
    if row_id is not None:
        async with request.app[DB].session() as session:
            job = await session.get(Job, row_id)
    if job is None:
        content = fragment(
            '<h1>No job {id}</h1><p><a href="/admin/jobs">Failed jobs</a></p>',
            id=request.match_info["id"],
        )
        return admin_page(request, "not found", content, admin_session=admin_session, status=404)
    products = await _products(request)
    web_url = github_web_url(request.app[SETTINGS].github_api_url)
    next_attempt = job.next_attempt_at if job.state == QueueState.PENDING else None
    facts: Sequence[tuple[str, object]] = [
        (
            "Kind",
            fragment("{t} (<code>{k}</code>)", t=KIND_TITLES.get(job.kind, job.kind), k=job.kind),
        ),
        ("For", job_purpose(job, products, web_url)),
        ("State", job.state),
        ("Attempts", job.attempts),
        ("Created", time_element(job.created_at)),
        ("Next attempt", time_element(next_attempt, empty="—")),
        ("Done", time_element(job.done_at, empty="—")),
    ]
    content = fragment(
        "<h1>Job {id}</h1>"
        '<dl class="facts">{facts}</dl>{replay}'
        '<section class="card" aria-labelledby="error-heading"><h2 id="error-heading">Last '
        'error</h2><pre class="error-full">{error}</pre></section>'
        '<section class="card" aria-labelledby="args-heading"><h2 id="args-heading">'
        "Arguments</h2><pre>{args}</pre></section>"
        '<p><a href="/admin/jobs">All failed jobs</a></p>',
        id=job.id,
        facts=join(fragment("<div><dt>{k}</dt><dd>{v}</dd></div>", k=k, v=v) for k, v in facts),
        replay=replay_form(job, admin_session) if job.state == QueueState.FAILED else Html(""),
        error=job.last_error or "No error recorded.",
        args=json.dumps(job.args, indent=2, sort_keys=True, ensure_ascii=False),
    )
    return admin_page(request, f"job {job.id}", content, admin_session=admin_session)


@admin_only
async def replay_job(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    return await replay_and_return(request, Job, "jobs", notice="job-")
