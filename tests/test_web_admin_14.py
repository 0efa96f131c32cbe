"""Issue 14's admin pages, over HTTP: failed jobs and their Replay (CSRF, the API's rule),
the ticket search (every kind of match, paging, hostile input, indexed lookups), a ticket's
links to its GitHub issue and pull requests, and the API reference at /api/docs."""

from __future__ import annotations

import datetime as dt
import html
import re
from urllib.parse import quote

import pytest
from sqlalchemy import select, text, update

from bot.config import Settings
from bot.errors import ApiError
from bot.github.web_url import github_web_url
from bot.tickets.search import MAX_QUERY_CHARS, ticket_match
from bot.web.api_docs import operation_anchor
from storage.models import Job, PullRequestLink, Ticket
from storage.reads.ticket_search import match_conditions
from storage.types import utcnow
from tests.conftest import ADMIN_HEADERS, ADMIN_TOKEN
from tests.test_web_admin import sign_in
from tests.web_helpers import move_ticket, open_test_ticket

TICKET_LINK = re.compile(r'<a href="/admin/tickets/TK-\d+">(TK-\d+)</a>')


def listed(page: str) -> list[str]:
    return TICKET_LINK.findall(page)


async def add_job(db, **fields) -> int:
    values = {"kind": "create_issue", "args": {}, "state": "failed", "attempts": 8, **fields}
    async with db.begin() as session:
        job = Job(**values)
        session.add(job)
        await session.flush()
        return job.id


async def product_id(db, slug: str = "my-saas-app") -> int:
    from storage.repos.products import ProductRepo

    async with db.session() as session:
        found = await ProductRepo(session).by_slug(slug)
        assert found is not None
        return found.id


# -- failed jobs ------------------------------------------------------------------------------


async def test_failed_and_retrying_jobs_are_listed_with_what_they_are_for(client, product, db):
    """Failed jobs link their ticket or their issue / PR on GitHub; retrying jobs show their
    next attempt; done jobs and jobs never tried are not there."""
    public_id, _ = await open_test_ticket(db)
    pid = await product_id(db)
    soon = utcnow() + dt.timedelta(minutes=5)
    await add_job(db, args={"ticket_id": 1}, last_error="GitHub said 502")
    await add_job(
        db,
        kind="refresh_status_comment",
        args={"product_id": pid, "issue_number": 42},
        last_error="403 forbidden",
    )
    await add_job(
        db,
        kind="comment_on_pr",
        args={"product_id": pid, "pr_number": 7},
        state="pending",
        attempts=3,
        next_attempt_at=soon,
        last_error="secondary rate limit",
    )
    await add_job(db, kind="remove_label", state="done", last_error=None, args={"x": "done-job"})
    await add_job(db, kind="confirm_close", state="pending", attempts=0, last_error=None)
    await sign_in(client)
    page = await (await client.get("/admin/jobs")).text()
    failed, _, retrying = page.partition('id="retrying"')
    assert f'ticket <a href="/admin/tickets/{public_id}">{public_id}</a>' in failed
    assert "https://github.com/octo-org/my-saas-app/issues/42" in failed
    assert "GitHub said 502" in failed and "403 forbidden" in failed
    assert failed.count('type="submit">Replay') == 2
    assert "https://github.com/octo-org/my-saas-app/pull/7" in retrying
    assert "secondary rate limit" in retrying
    assert f'datetime="{soon.isoformat(timespec="milliseconds").replace("+00:00", "Z")}"' in (
        retrying
    )
    assert "Replay" not in retrying  # only failed jobs are replayed, as in the API
    assert "done-job" not in page and "confirm_close" not in page


async def test_the_admin_nav_lists_failed_jobs_next_to_failed_deliveries(client):
    await sign_in(client)
    page = await (await client.get("/admin/jobs")).text()
    nav = re.findall(r'<li><a href="(/admin[^"]*)"', page)
    assert nav[nav.index("/admin/deliveries") + 1] == "/admin/jobs"
    assert 'href="/admin/jobs" aria-current="page"' in page
    overview = await (await client.get("/admin")).text()
    assert "failed jobs" in overview


async def test_a_job_error_is_escaped_and_shown_in_full_only_on_the_job_s_page(client, db):
    """An error is text from GitHub or an exception: it never becomes markup, and the list
    shows its start with a link to the whole of it."""
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    long_error = attack + " " + "detail " * 200 + "THE-END"
    job_id = await add_job(db, last_error=long_error, args={"note": "<b>args</b>"})
    await sign_in(client)
    page = await (await client.get("/admin/jobs")).text()
    assert "<script>alert" not in page and "<img src=x" not in page
    assert html.escape(attack, quote=True) in page
    assert "THE-END" not in page
    assert f'<a href="/admin/jobs/{job_id}">Full error of job {job_id}</a>' in page
    one = await client.get(f"/admin/jobs/{job_id}")
    assert one.status == 200
    body = await one.text()
    assert "THE-END" in body and "<script>alert" not in body
    assert "&lt;b&gt;args&lt;/b&gt;" in body
    assert (await client.get("/admin/jobs/999999")).status == 404
    assert (await client.get("/admin/jobs/not-a-number")).status == 404
    assert (await client.get("/admin/jobs/99999999999999999999999")).status == 404


async def test_replaying_a_failed_job_needs_the_csrf_token_and_follows_the_api_s_rule(client, db):
    job_id = await add_job(db, last_error="boom")
    retrying_id = await add_job(db, state="pending", attempts=2, last_error="later")
    csrf = await sign_in(client)

    for data in ({}, {"csrf_token": "wrong"}):
        refused = await client.post(f"/admin/jobs/{job_id}/replay", data=data)
        assert refused.status == 403
        assert "That form has expired" in await refused.text()
    async with db.session() as session:
        assert (await session.get(Job, job_id)).state == "failed"

    resp = await client.post(
        f"/admin/jobs/{job_id}/replay", data={"csrf_token": csrf}, allow_redirects=False
    )
    assert resp.status == 303
    assert resp.headers["Location"] == f"/admin/jobs?notice=job-replayed&id={job_id}"
    after = await (await client.get(resp.headers["Location"])).text()
    assert f"Job {job_id} queued again" in after
    assert "No failed jobs." in after
    async with db.session() as session:
        stored = await session.get(Job, job_id)
        assert (stored.state, stored.attempts) == ("pending", 0)

    # Not failed (any more), unknown, or not an id: nothing is queued, the page says so;
    # the admin API refuses the same jobs.
    for target in (job_id, retrying_id, 999999, "abc", "9" * 30):
        again = await client.post(
            f"/admin/jobs/{target}/replay", data={"csrf_token": csrf}, allow_redirects=False
        )
        assert again.status == 303
        notice = await (await client.get(again.headers["Location"])).text()
        assert "is not a failed job" in notice
    api = await client.post(f"/api/admin/jobs/{retrying_id}/replay", headers=ADMIN_HEADERS)
    assert api.status == 409
    async with db.session() as session:
        assert (await session.get(Job, retrying_id)).attempts == 2


async def test_job_pages_need_a_session(client, db):
    job_id = await add_job(db, last_error="boom")
    resp = await client.get("/admin/jobs", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"].startswith("/admin/sign-in")
    post = await client.post(f"/admin/jobs/{job_id}/replay", data={})
    assert post.status == 403
    async with db.session() as session:
        assert (await session.get(Job, job_id)).state == "failed"


# -- search -------------------------------------------------------------------------------


async def search(client, q: str, **params) -> tuple[int, str]:
    query = "&".join([f"q={quote(q, safe='')}", *(f"{k}={v}" for k, v in params.items())])
    resp = await client.get(f"/admin/tickets?{query}")
    return resp.status, await resp.text()


async def test_search_finds_a_ticket_by_its_public_id_with_or_without_the_prefix(
    client, product, db
):
    for n in range(12):
        await open_test_ticket(db, subject=f"Subject {n + 1}")
    await sign_in(client)
    for q in ("TK-00012", "tk-00012", "  TK-00012 ", "TK-12", "12", "00012"):
        status, page = await search(client, q)
        assert status == 200, q
        assert listed(page) == ["TK-00012"], q
    status, page = await search(client, "TK-99999999999999999999999")
    assert status == 200 and listed(page) == [] and "No tickets match." in page


async def test_search_finds_a_ticket_by_desk_id_and_a_requester_by_email(client, product, db):
    await open_test_ticket(db, email="dana@example.com", subject="One")
    await open_test_ticket(db, email="sam@example.com", subject="Two")
    await open_test_ticket(db, email="dana@example.com", subject="Three")
    async with db.session() as session:
        desk_id = (await session.scalars(select(Ticket.desk_id).where(Ticket.id == 2))).one()
    await sign_in(client)
    _, page = await search(client, desk_id)
    assert listed(page) == ["TK-00002"]
    for q in ("dana@example.com", "Dana@Example.COM"):
        _, page = await search(client, q)
        assert listed(page) == ["TK-00003", "TK-00001"], q
        assert "Tickets from" in page
    _, page = await search(client, "nobody@example.com")
    assert listed(page) == []


async def test_search_matches_every_subject_word_in_any_case_and_wildcards_literally(
    client, product, db
):
    subjects = [
        "Login button broken on Safari",
        "Safari crashes at login",
        "Export is 100% slow",
        "Export is 1000 slow",
        "snake_case field ignored",
        "snakeXcase field ignored",
        "Ünïcode naïve café 🎉 issue",
        "Backslash \\ in path",
    ]
    for subject in subjects:
        await open_test_ticket(db, subject=subject)
    await sign_in(client)
    expectations = {
        "safari LOGIN": ["TK-00002", "TK-00001"],
        "login safari login": ["TK-00002", "TK-00001"],
        "100%": ["TK-00003"],
        "%": ["TK-00003"],
        "snake_case": ["TK-00005"],
        "_": ["TK-00005"],
        "naïve 🎉": ["TK-00007"],
        "\\": ["TK-00008"],
        "nothing-like-this": [],
    }
    for q, expected in expectations.items():
        status, page = await search(client, q)
        assert status == 200, q
        assert listed(page) == expected, q


async def test_search_pages_like_the_list_and_combines_with_the_filters(client, product, db):
    for n in range(7):
        await open_test_ticket(db, subject=f"Printer jam {n + 1}")
    await open_test_ticket(db, subject="Something else")
    await move_ticket(db, "TK-00002", "ISSUE_CREATED")
    await sign_in(client)
    _, first = await search(client, "printer", limit=3)
    assert listed(first) == ["TK-00007", "TK-00006", "TK-00005"]
    older = html.unescape(re.search(r'<a href="([^"]+)" rel="next">', first).group(1))
    assert "q=printer" in older and "before=5" in older
    second = await (await client.get(older)).text()
    assert listed(second) == ["TK-00004", "TK-00003", "TK-00002"]
    newest = html.unescape(re.search(r'<a href="([^"]+)">Newest tickets</a>', second).group(1))
    assert "q=printer" in newest
    third = await (
        await client.get(html.unescape(re.search(r'<a href="([^"]+)" rel="next">', second)[1]))
    ).text()
    assert listed(third) == ["TK-00001"] and 'rel="next"' not in third
    _, staged = await search(client, "printer", stage="ISSUE_CREATED")
    assert listed(staged) == ["TK-00002"]
    assert 'value="printer"' in staged


@pytest.mark.parametrize(
    ("q", "message"),
    [
        ("x" * (MAX_QUERY_CHARS + 1), f"longer than {MAX_QUERY_CHARS} characters"),
        # Near aiohttp's limit for a whole request line (8190 bytes).
        ("a" * 8000, f"longer than {MAX_QUERY_CHARS} characters"),
        ("login\x00", "must not contain NUL characters"),
        ("\x00", "must not contain NUL characters"),
    ],
)
async def test_hostile_searches_get_a_clear_answer(client, product, db, q, message):
    await open_test_ticket(db)
    await sign_in(client)
    status, page = await search(client, q)
    assert status == 400
    assert message in page
    assert "TK-00012 or 12" in page  # the hint says what can be searched


async def test_undecodable_and_markup_searches_are_answered_safely(client, product, db):
    await open_test_ticket(db)
    await sign_in(client)
    # %ED%A0%80 would be a lone surrogate: the URL decoder makes it U+FFFD, a search like
    # any other.
    resp = await client.get("/admin/tickets?q=%ED%A0%80")
    assert resp.status == 200
    assert listed(await resp.text()) == []
    status, page = await search(client, '"><script>alert(1)</script>')
    assert status == 200
    assert "<script>alert(1)" not in page
    assert 'value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in page


def _plan_sql(db, match) -> str:
    from storage.reads.admin_queries import AdminQueries  # noqa: F401 (the query it builds)

    query = select(Ticket.id).where(*match_conditions(match)).order_by(Ticket.id.desc())
    return str(query.compile(db.engine, compile_kwargs={"literal_binds": True}))


@pytest.mark.parametrize("q", ["TK-00002", "2", "tkt_abcdefghijklmnop", "dana@example.com"])
async def test_exact_searches_use_an_index_not_a_scan_of_every_ticket(db, q):
    """The query plan of each exact lookup reads an index (SQLite: SEARCH, not SCAN;
    PostgreSQL with sequential scans made unattractive: no Seq Scan)."""
    match = ticket_match(q)
    sql = _plan_sql(db, match)
    async with db.session() as session:
        if db.engine.dialect.name == "sqlite":
            plan = " ".join(
                str(row[-1]) for row in await session.execute(text(f"EXPLAIN QUERY PLAN {sql}"))
            )
            assert "SEARCH tickets" in plan and "SCAN tickets" not in plan, plan
        else:
            await session.execute(text("SET LOCAL enable_seqscan = off"))
            plan = " ".join(str(row[0]) for row in await session.execute(text(f"EXPLAIN {sql}")))
            assert "Seq Scan" not in plan and "Index" in plan, plan


def test_what_the_search_box_looks_for():
    assert ticket_match("") is None and ticket_match("   ") is None
    assert ticket_match("tk-7").number == 7
    assert ticket_match("TK-00042").number == 42
    assert ticket_match("TK-").words == ("TK-",)
    assert ticket_match("12 monkeys").words == ("12", "monkeys")
    assert ticket_match("a@b.example").email == "a@b.example"
    assert ticket_match("mail a@b.example").words == ("mail", "a@b.example")
    assert ticket_match("9" * 25).nothing
    # The length counts as sent, as the OpenAPI document's maxLength does.
    with pytest.raises(ApiError):
        ticket_match(" " * (MAX_QUERY_CHARS + 1))


# -- a ticket's GitHub links ------------------------------------------------------------------


async def _ticket_with_issue_and_prs(db) -> str:
    public_id, _ = await open_test_ticket(db)
    pid = await product_id(db)
    async with db.begin() as session:
        await session.execute(update(Ticket).where(Ticket.id == 1).values(issue_number=42))
        session.add(PullRequestLink(product_id=pid, pr_number=51, issue_number=42, state="merged"))
        session.add(
            PullRequestLink(product_id=pid, pr_number=50, issue_number=42, state="open", draft=True)
        )
        session.add(PullRequestLink(product_id=pid, pr_number=60, issue_number=43, state="open"))
    return public_id


async def test_a_ticket_links_its_github_issue_and_its_pull_requests(client, product, db):
    public_id = await _ticket_with_issue_and_prs(db)
    await sign_in(client)
    page = await (await client.get(f"/admin/tickets/{public_id}")).text()
    base = "https://github.com/octo-org/my-saas-app"
    assert f'<a href="{base}/issues/42" rel="noopener noreferrer">octo-org/my-saas-app#42</a>' in (
        page
    )
    assert f'<a href="{base}/pull/50" rel="noopener noreferrer">#50</a> (draft)' in page
    assert f'<a href="{base}/pull/51" rel="noopener noreferrer">#51</a> (merged)' in page
    assert "/pull/60" not in page  # another issue's pull request


async def test_a_ticket_without_an_issue_says_so(client, product, db):
    public_id, _ = await open_test_ticket(db)
    await sign_in(client)
    page = await (await client.get(f"/admin/tickets/{public_id}")).text()
    assert "not created yet" in page and "none linked" in page


async def test_links_go_to_the_web_address_of_a_github_enterprise_server(make_client, db):
    client = await make_client(
        Settings(
            admin_token=ADMIN_TOKEN,
            run_workers=False,
            github_api_url="https://ghe.example.com/api/v3",
        )
    )
    resp = await client.post(
        "/api/admin/products",
        json={"slug": "my-saas-app", "repo": "octo-org/my-saas-app"},
        headers=ADMIN_HEADERS,
    )
    assert resp.status == 201
    public_id = await _ticket_with_issue_and_prs(db)
    await sign_in(client)
    page = await (await client.get(f"/admin/tickets/{public_id}")).text()
    assert 'href="https://ghe.example.com/octo-org/my-saas-app/issues/42"' in page
    assert 'href="https://ghe.example.com/octo-org/my-saas-app/pull/51"' in page


@pytest.mark.parametrize(
    ("api_url", "web_url"),
    [
        ("https://api.github.com", "https://github.com"),
        ("https://API.GitHub.com/", "https://github.com"),
        ("https://ghe.example.com/api/v3", "https://ghe.example.com"),
        ("https://ghe.example.com:8443/api/v3/", "https://ghe.example.com:8443"),
        ("http://127.0.0.1:5001", "http://127.0.0.1:5001"),
    ],
)
def test_the_github_web_address_is_derived_from_the_api_url(api_url, web_url):
    assert github_web_url(api_url) == web_url


# -- /api/docs --------------------------------------------------------------------------------

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


async def test_the_api_reference_shows_every_operation_of_the_served_document(client):
    """Derived from /api/openapi.json itself: each operation has its section (by its anchor)
    with its summary, parameters, request body and every response code, and is in the
    table of contents."""
    document = await (await client.get("/api/openapi.json")).json()
    resp = await client.get("/api/docs")
    assert resp.status == 200
    assert resp.content_type == "text/html"
    page = await resp.text()
    sections = dict(
        re.findall(r'<section class="card operation" id="([^"]+)"(.*?)</section>', page, re.S)
    )
    operations = [
        (method, path, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]
    assert len(operations) > 20
    assert len(sections) == len(operations)
    for method, path, op in operations:
        anchor = operation_anchor(method, path)
        section = sections[anchor]
        assert f'<a href="#{anchor}">' in page, anchor  # in the contents
        assert f'<span class="method">{method.upper()}</span> <code>{html.escape(path)}</code>' in (
            section
        )
        summary = html.escape(op["summary"])
        assert re.sub(r"`([^`]+)`", r"<code>\1</code>", summary) in section
        names = [
            p["name"]
            for p in [*document["paths"][path].get("parameters", []), *op.get("parameters", [])]
        ]
        for name in names:
            assert f"<code>{name}</code>" in section, (anchor, name)
        for status in op["responses"]:
            assert f'<strong class="status">{status}</strong>' in section, (anchor, status)
        if "requestBody" in op:
            assert "<h4>Request body" in section, anchor
        needs = [name for requirement in op.get("security") or [] for name in requirement]
        for name in needs:
            assert f"(<code>{name}</code>)" in section, anchor
        if not needs:
            assert "None: anyone may call it." in section, anchor
    for name in document["components"]["schemas"]:
        assert f'id="schema-{name}"' in page, name


async def test_the_api_reference_is_a_plain_page_with_the_pages_security_headers(client):
    resp = await client.get("/api/docs")
    page = await resp.text()
    assert resp.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["Referrer-Policy"] == "no-referrer"
    # Nothing from elsewhere: no script at all, and every asset from this server.
    assert "<script" not in page
    assert re.findall(r'(?:src|href)="(?:https?:)?//', page) == []
    assert "/static/site.css" in page
    landing = await (await client.get("/")).text()
    assert 'href="/api/docs"' in landing


# -- the same search in the desk API (q=) ----------------------------------------------------


async def test_both_renderings_of_a_search_select_the_same_tickets(db):
    """The admin pages' ORM clause and the desk's plain SQL are one rule written twice."""
    from storage.reads.ticket_search import match_sql
    from storage.visibility import Params

    subjects = ["Login broken", "login SLOW", "100% cpu", "snake_case", "Ünïcode", "a\\b"]
    async with db.begin() as session:
        for n, subject in enumerate(subjects, start=1):
            session.add(
                Ticket(
                    id=n,
                    desk_id=f"tkt_search{n}",
                    subject=subject,
                    body="b",
                    submitter_email="Mixed@Example.com" if n == 3 else f"u{n % 2}@example.com",
                    tracking_token_hash="h" * 64,
                )
            )
    searches = [
        "TK-00002", "3", "99", "tkt_search4", "u1@example.com", "U1@EXAMPLE.COM",
        "Mixed@Example.com", "mixed@example.com", "login", "LOGIN broken", "%", "_", "\\",
        "ünïcode", "Ünïcode", "nothing", "9" * 30,
    ]  # fmt: skip
    found = {}
    for q in searches:
        match = ticket_match(q)
        async with db.session() as session:
            orm = (
                await session.scalars(
                    select(Ticket.id).where(*match_conditions(match)).order_by(Ticket.id)
                )
            ).all()
        params = Params()
        where = " AND ".join(match_sql(match, params))
        rows = await db.reader.fetch(
            f"SELECT t.id FROM tickets t WHERE {where} ORDER BY t.id", *params.values
        )
        assert [row[0] for row in rows] == list(orm), q
        found[q] = list(orm)
    # And what they select is right (not only "the same nothing" twice).
    assert found["TK-00002"] == [2] and found["3"] == [3] and found["99"] == []
    assert found["tkt_search4"] == [4] and found["U1@EXAMPLE.COM"] == [1, 5]
    assert found["mixed@example.com"] == [] and found["Mixed@Example.com"] == [3]
    assert found["LOGIN broken"] == [1] and found["login"] == [1, 2]
    assert found["%"] == [3] and found["_"] == [4] and found["\\"] == [6]


async def test_the_desk_api_searches_with_q_within_the_key_s_scope(client, db):
    from tests.deskkit import add_product, bearer, create_ticket, make_key

    await add_product(client, "alpha")
    await add_product(client, "beta")
    alpha = await make_key(client, products=["alpha"])
    beta = await make_key(client, products=["beta"])
    mine = [
        await create_ticket(client, alpha, subject=f"Printer jam {n}", email="dana@example.com")
        for n in range(3)
    ]
    other = await create_ticket(client, beta, subject="Printer jam elsewhere")

    async def ids(q: str, key=alpha, **params) -> list[str]:
        resp = await client.get(
            "/api/v1/desk/tickets", params={"q": q, **params}, headers=bearer(key)
        )
        assert resp.status == 200, await resp.text()
        return [t["id"] for t in (await resp.json())["tickets"]]

    assert await ids("printer JAM") == [t["id"] for t in reversed(mine)]
    assert await ids("Dana@example.com") == [t["id"] for t in reversed(mine)]
    assert await ids(mine[1]["publicId"].lower()) == [mine[1]["id"]]
    assert await ids(mine[1]["id"]) == [mine[1]["id"]]
    assert await ids(other["publicId"]) == []  # another product's ticket stays invisible
    assert await ids(other["publicId"], key=beta) == [other["id"]]
    assert await ids("  ") == [t["id"] for t in reversed(mine)]  # blank: no search
    # Paging carries on within the search.
    first = await (
        await client.get(
            "/api/v1/desk/tickets", params={"q": "printer", "limit": "2"}, headers=bearer(alpha)
        )
    ).json()
    assert first["hasMore"] is True
    rest = await ids("printer", cursor=first["nextCursor"])
    assert [t["id"] for t in first["tickets"]] + rest == [t["id"] for t in reversed(mine)]

    for q, error in (("x" * (MAX_QUERY_CHARS + 1), "longer than"), ("a\x00", "NUL")):
        resp = await client.get("/api/v1/desk/tickets", params={"q": q}, headers=bearer(alpha))
        assert resp.status == 400
        body = await resp.json()
        assert error in body["error"] and "TK-00012" in body["hint"]
