"""The admin overview page: tickets by stage, products, failed deliveries and jobs."""

from __future__ import annotations

from aiohttp import web

from bot.appkeys import DB
from bot.rules.pipeline import STAGE_TITLES, STAGES
from bot.web.admin_auth import admin_only, admin_page
from bot.web.html import cells, fragment, path, table
from bot.web.sessions import AdminSession
from storage.reads import admin_jobs
from storage.reads.admin_queries import AdminQueries
from storage.repos.products import ProductRepo


@admin_only
async def overview(request: web.Request, admin_session: AdminSession) -> web.StreamResponse:
    async with request.app[DB].session() as session:
        queries = AdminQueries(session)
        by_stage = await queries.tickets_by_stage()
        failed = await queries.count_failed_deliveries()
        failed_jobs = await admin_jobs.count_failed_jobs(session)
        products = await ProductRepo(session).all()
    rows = [
        cells(
            fragment(
                '<a href="{href}">{title}</a>',
                href=path("admin", "tickets", query={"stage": s.value}),
                title=STAGE_TITLES[s],
            ),
            by_stage.get(s.value, 0),
        )
        for s in STAGES
    ]
    content = fragment(
        "<h1>Overview</h1>"
        '<ul class="stats">'
        '<li><a href="/admin/products"><strong>{products}</strong> products</a></li>'
        '<li><a href="/admin/tickets"><strong>{tickets}</strong> tickets</a></li>'
        '<li><a href="/admin/deliveries"><strong>{failed}</strong> failed deliveries</a></li>'
        '<li><a href="/admin/jobs"><strong>{failed_jobs}</strong> failed jobs</a></li>'
        "</ul>{table}",
        products=len(products),
        tickets=sum(by_stage.values()),
        failed=failed,
        failed_jobs=failed_jobs,
        table=table(
            ["Stage", "Tickets"], rows, caption="Tickets by stage", empty="No tickets yet."
        ),
    )
    return admin_page(request, "overview", content, admin_session=admin_session)
