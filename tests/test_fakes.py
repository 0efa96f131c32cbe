"""The fake GitHub behaves like GitHub where the bot can tell: auth, shapes, errors, paging."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.fakes import (
    APP_ID,
    SECONDARY_RATE_LIMIT_MESSAGE,
    FakeGitHub,
    checked_fake,
    fake_github,  # noqa: F401  (the fixture under test)
    generate_app_key,
    make_app_jwt,
)

INSTALLATION_ID = 7
REPO = "octo-org/my-saas-app"
ISSUES = "POST /repos/{owner}/{repo}/issues"


@pytest.fixture
async def fake() -> AsyncIterator[FakeGitHub]:
    """A fake with one installation on REPO; tests that expect dirt inspect it themselves."""
    async with checked_fake() as started:
        started.add_installation(INSTALLATION_ID, "octo-org", {REPO, "octo-org/other"})
        started.add_repo("someone/elsewhere")
        yield started


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def app_headers(token: str | None = None) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {token or make_app_jwt()}",
        "Accept": "application/vnd.github+json",
    }


async def installation_token(
    http: aiohttp.ClientSession, fake: FakeGitHub, installation_id: int = INSTALLATION_ID
) -> str:
    url = f"{fake.base_url}/app/installations/{installation_id}/access_tokens"
    async with http.post(url, headers=app_headers()) as response:
        assert response.status == 201
        return (await response.json())["token"]


async def call(
    http: aiohttp.ClientSession,
    fake: FakeGitHub,
    method: str,
    path: str,
    token: str,
    body: object = None,
    **kwargs: object,
) -> tuple[int, object, aiohttp.typedefs.LooseHeaders]:
    async with http.request(
        method,
        fake.base_url + path,
        json=body,
        headers={"Authorization": f"token {token}"},
        **kwargs,
    ) as response:
        payload = await response.json() if response.status != 204 else None
        return response.status, payload, response.headers


# ------------------------------------------------------------------ auth


async def test_jwt_gets_app_and_installation_token(
    fake: FakeGitHub, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{fake.base_url}/app", headers=app_headers()) as response:
        assert response.status == 200
        assert (await response.json())["id"] == APP_ID
    url = f"{fake.base_url}/app/installations/{INSTALLATION_ID}/access_tokens"
    async with http.post(url, headers=app_headers()) as response:
        assert response.status == 201
        token = await response.json()
    expires = time.mktime(time.strptime(token["expires_at"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    assert 3500 < expires - time.time() <= 3600
    fake.assert_clean()


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"iss": "999"}, "Issuer"),
        ({"lifetime": 660}, "too far in the future"),
        ({"iat_from_now": 300}, "Issued at"),
        ({"iat_from_now": -700}, "Expiration time"),
    ],
)
async def test_bad_jwt_is_401_and_a_violation(
    fake: FakeGitHub, http: aiohttp.ClientSession, claims: dict[str, int], message: str
) -> None:
    # Relative to now, when the test runs (not when it was collected, minutes earlier).
    iat = int(time.time()) + claims["iat_from_now"] if "iat_from_now" in claims else None
    token = make_app_jwt(
        app_id=APP_ID,
        iat=iat,
        lifetime=claims.get("lifetime", 540),
        issuer=claims.get("iss"),
    )
    async with http.get(f"{fake.base_url}/app", headers=app_headers(token)) as response:
        assert response.status == 401
        assert message in (await response.json())["message"]
    assert len(fake.violations) == 1
    with pytest.raises(AssertionError, match="bad JWT"):
        fake.assert_clean()


async def test_jwt_signed_by_another_key_is_401(
    fake: FakeGitHub, http: aiohttp.ClientSession
) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    token = make_app_jwt(other)
    async with http.get(f"{fake.base_url}/app", headers=app_headers(token)) as response:
        assert response.status == 401
    assert fake.violations


async def test_integer_iss_is_accepted(fake: FakeGitHub, http: aiohttp.ClientSession) -> None:
    async with http.get(
        f"{fake.base_url}/app", headers=app_headers(make_app_jwt(issuer=APP_ID))
    ) as response:
        assert response.status == 200
    fake.assert_clean()


async def test_jwt_on_repo_endpoint_is_401_and_a_misuse(
    fake: FakeGitHub, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{fake.base_url}/repos/{REPO}/issues", headers=app_headers()) as response:
        assert response.status == 401
    assert fake.calls[-1].auth == "jwt"
    assert any("App JWT" in v for v in fake.violations)


async def test_installation_token_on_app_endpoint_is_401(
    fake: FakeGitHub, http: aiohttp.ClientSession
) -> None:
    token = await installation_token(http, fake)
    async with http.get(
        f"{fake.base_url}/app", headers={"Authorization": f"token {token}"}
    ) as response:
        assert response.status == 401
    assert fake.violations


async def test_repo_installation_needs_the_jwt(
    fake: FakeGitHub, http: aiohttp.ClientSession
) -> None:
    async with http.get(
        f"{fake.base_url}/repos/Octo-Org/My-SaaS-App/installation", headers=app_headers()
    ) as response:
        assert response.status == 200
        assert (await response.json())["id"] == INSTALLATION_ID
    async with http.get(
        f"{fake.base_url}/repos/someone/elsewhere/installation", headers=app_headers()
    ) as response:
        assert response.status == 404
    fake.assert_clean()


async def test_token_rules_on_repo_endpoints(fake: FakeGitHub, http: aiohttp.ClientSession) -> None:
    token = await installation_token(http, fake)
    path = f"/repos/{REPO}/issues"
    assert (await call(http, fake, "GET", path, token))[0] == 200
    assert (
        await call(
            http,
            fake,
            "GET",
            path.upper().replace("/REPOS", "/repos").replace("/ISSUES", "/issues"),
            token,
        )
    )[0] == 200  # owner/name are case-insensitive
    async with http.get(fake.base_url + path, headers={"Authorization": f"Bearer {token}"}) as r:
        assert r.status == 200
    assert (await call(http, fake, "GET", "/repos/someone/elsewhere/issues", token))[0] == 404
    assert (await call(http, fake, "GET", "/repos/nobody/nothing/issues", token))[0] == 404
    fake.assert_clean()
    fake.expire_tokens()
    assert (await call(http, fake, "GET", path, token))[0] == 401
    fake.assert_clean()  # an expired token is GitHub's normal life, not a misuse
    assert (await call(http, fake, "GET", path, "ghs_never_issued"))[0] == 401
    assert any("never issued" in v for v in fake.violations)


async def test_token_for_unknown_installation_is_404(
    fake: FakeGitHub, http: aiohttp.ClientSession
) -> None:
    url = f"{fake.base_url}/app/installations/999/access_tokens"
    async with http.post(url, headers=app_headers()) as response:
        assert response.status == 404
    fake.assert_clean()


async def test_rate_limit_headers_count_down(fake: FakeGitHub, http: aiohttp.ClientSession) -> None:
    token = await installation_token(http, fake)
    _, _, first = await call(http, fake, "GET", f"/repos/{REPO}/labels", token)
    _, _, second = await call(http, fake, "GET", f"/repos/{REPO}/labels", token)
    assert first["x-ratelimit-limit"] == "5000"
    assert int(second["x-ratelimit-remaining"]) == int(first["x-ratelimit-remaining"]) - 1
    assert int(first["x-ratelimit-reset"]) > time.time()


# ------------------------------------------------------------------ validation and routing


async def test_invalid_body_is_422_and_a_violation(
    fake: FakeGitHub, http: aiohttp.ClientSession
) -> None:
    token = await installation_token(http, fake)
    status, body, _ = await call(
        http, fake, "POST", f"/repos/{REPO}/issues", token, {"body": "no title", "labels": "bug"}
    )
    assert status == 422
    assert "title" in body["message"]
    assert fake.issues("octo-org", "my-saas-app") == []
    assert any("body invalid" in v for v in fake.violations)
    with pytest.raises(AssertionError, match="body invalid"):
        fake.assert_clean()


async def test_bad_query_value_is_422(fake: FakeGitHub, http: aiohttp.ClientSession) -> None:
    token = await installation_token(http, fake)
    status, _, _ = await call(
        http, fake, "GET", f"/repos/{REPO}/issues", token, params={"state": "opened"}
    )
    assert status == 422
    assert fake.violations


async def test_unlisted_endpoint_is_unexpected(
    fake: FakeGitHub, http: aiohttp.ClientSession
) -> None:
    token = await installation_token(http, fake)
    status, _, _ = await call(http, fake, "GET", f"/repos/{REPO}/deployments", token)
    assert status == 404
    assert [c.path for c in fake.unexpected] == [f"/repos/{REPO}/deployments"]
    with pytest.raises(AssertionError, match="unexpected call"):
        fake.assert_clean()


# ------------------------------------------------------------------ issues, comments, labels


async def test_issue_lifecycle_matches_github(
    fake: FakeGitHub, http: aiohttp.ClientSession
) -> None:
    token = await installation_token(http, fake)
    fake.add_issue("octo-org", "my-saas-app", "Opened by a person")
    status, issue, _ = await call(
        http,
        fake,
        "POST",
        f"/repos/{REPO}/issues",
        token,
        {
            "title": "Login fails",
            "body": "Steps…",
            "labels": ["tinydesk", {"name": "bug"}],
            "assignees": ["dev"],
        },
    )
    assert status == 201
    assert issue["number"] == 2
    assert issue["user"]["login"] == "tinydesk[bot]" and issue["user"]["type"] == "Bot"
    assert [label["name"] for label in issue["labels"]] == ["tinydesk", "bug"]
    assert issue["html_url"] == "https://github.com/octo-org/my-saas-app/issues/2"
    assert set(fake.labels("octo-org", "my-saas-app")) == {"tinydesk", "bug"}

    status, updated, _ = await call(
        http,
        fake,
        "PATCH",
        f"/repos/{REPO}/issues/2",
        token,
        {"state": "closed", "state_reason": "not_planned"},
    )
    assert (status, updated["state"], updated["state_reason"]) == (200, "closed", "not_planned")
    assert updated["closed_at"]
    fake.reopen_issue("octo-org", "my-saas-app", 2)
    status, fetched, _ = await call(http, fake, "GET", f"/repos/{REPO}/issues/2", token)
    assert (fetched["state"], fetched["state_reason"]) == ("open", "reopened")
    assert (await call(http, fake, "GET", f"/repos/{REPO}/issues/99", token))[0] == 404

    status, comment, _ = await call(
        http, fake, "POST", f"/repos/{REPO}/issues/2/comments", token, {"body": "Status: triaged"}
    )
    assert status == 201
    assert comment["user"]["login"] == "tinydesk[bot]"
    assert comment["html_url"].endswith(f"/issues/2#issuecomment-{comment['id']}")
    status, edited, _ = await call(
        http,
        fake,
        "PATCH",
        f"/repos/{REPO}/issues/comments/{comment['id']}",
        token,
        {"body": "Status: fixed"},
    )
    assert (status, edited["body"]) == (200, "Status: fixed")
    assert [c["body"] for c in fake.comments_on("octo-org", "my-saas-app", 2)] == ["Status: fixed"]

    status, labels, _ = await call(
        http, fake, "POST", f"/repos/{REPO}/issues/2/labels", token, {"labels": ["in-progress"]}
    )
    assert [label["name"] for label in labels] == ["tinydesk", "bug", "in-progress"]
    status, labels, _ = await call(
        http, fake, "DELETE", f"/repos/{REPO}/issues/2/labels/in-progress", token
    )
    assert (status, [label["name"] for label in labels]) == (200, ["tinydesk", "bug"])
    assert (await call(http, fake, "DELETE", f"/repos/{REPO}/issues/2/labels/nope", token))[
        0
    ] == 404
    assert fake.count(ISSUES) == 1
    fake.delete_issue("octo-org", "my-saas-app", 2)
    status, gone, _ = await call(http, fake, "GET", f"/repos/{REPO}/issues/2", token)
    assert (status, gone["message"]) == (410, "This issue was deleted")
    fake.assert_clean()


async def test_creating_an_existing_label_is_422_already_exists(
    fake: FakeGitHub, http: aiohttp.ClientSession
) -> None:
    token = await installation_token(http, fake)
    status, label, _ = await call(
        http, fake, "POST", f"/repos/{REPO}/labels", token, {"name": "tinydesk", "color": "0e8a16"}
    )
    assert (status, label["color"]) == (201, "0e8a16")
    status, error, _ = await call(
        http, fake, "POST", f"/repos/{REPO}/labels", token, {"name": "TinyDesk"}
    )
    assert status == 422
    assert error["errors"][0]["code"] == "already_exists"
    status, labels, _ = await call(http, fake, "GET", f"/repos/{REPO}/labels", token)
    assert [label["name"] for label in labels] == ["tinydesk"]
    fake.assert_clean()  # a 422 GitHub gives for a valid request is not a violation


async def test_issue_list_filters_sorts_and_pages(
    fake: FakeGitHub, http: aiohttp.ClientSession
) -> None:
    token = await installation_token(http, fake)
    for n in range(1, 8):
        fake.add_issue(
            "octo-org",
            "my-saas-app",
            f"Issue {n}",
            labels=["tinydesk"] if n % 2 else [],
            user="alice" if n < 4 else "bob",
        )
    fake.close_issue("octo-org", "my-saas-app", 7)
    path = f"/repos/{REPO}/issues"
    _, page1, headers = await call(
        http,
        fake,
        "GET",
        path,
        token,
        params={"labels": "TinyDesk", "per_page": "2", "direction": "asc", "sort": "created"},
    )
    assert [i["number"] for i in page1] == [1, 3]
    assert 'rel="next"' in headers["Link"] and 'rel="last"' in headers["Link"]
    next_url = headers["Link"].split(";")[0].strip("<>")
    async with http.get(next_url, headers={"Authorization": f"token {token}"}) as response:
        page2 = await response.json()
        assert 'rel="prev"' in response.headers["Link"]
        assert 'rel="next"' not in response.headers["Link"]
    assert [i["number"] for i in page2] == [5]
    _, all_states, _ = await call(
        http, fake, "GET", path, token, params={"labels": "tinydesk", "state": "all"}
    )
    assert [i["number"] for i in all_states] == [7, 5, 3, 1]
    _, by_bob, headers = await call(http, fake, "GET", path, token, params={"creator": "bob"})
    assert [i["number"] for i in by_bob] == [6, 5, 4]
    assert "Link" not in headers
    fake.assert_clean()


async def test_comment_list_pages(fake: FakeGitHub, http: aiohttp.ClientSession) -> None:
    token = await installation_token(http, fake)
    number = fake.add_issue("octo-org", "my-saas-app", "Chatty")
    for n in range(5):
        fake.add_comment("octo-org", "my-saas-app", number, f"comment {n}")
    _, comments, headers = await call(
        http,
        fake,
        "GET",
        f"/repos/{REPO}/issues/{number}/comments",
        token,
        params={"per_page": "2", "page": "3"},
    )
    assert [c["body"] for c in comments] == ["comment 4"]
    assert 'rel="first"' in headers["Link"]
    fake.assert_clean()


# ------------------------------------------------------------------ pulls and commits


async def test_pull_shares_the_issue_counter_and_lists_commits(
    fake: FakeGitHub, http: aiohttp.ClientSession
) -> None:
    token = await installation_token(http, fake)
    fake.add_commits("octo-org", "my-saas-app", ["a" * 40, "b" * 40])
    fake.add_issue("octo-org", "my-saas-app", "Bug")
    number = fake.add_pull(
        "octo-org",
        "my-saas-app",
        body="Fixes #1",
        title="Fix the bug",
        commits=["c" * 40, "d" * 40],
        merged=True,
        merge_commit_sha="e" * 40,
    )
    assert number == 2
    status, pull, _ = await call(http, fake, "GET", f"/repos/{REPO}/pulls/2", token)
    assert status == 200
    assert (pull["merged"], pull["merge_commit_sha"], pull["head"]["sha"]) == (
        True,
        "e" * 40,
        "d" * 40,
    )
    assert pull["body"] == "Fixes #1" and pull["state"] == "closed"
    _, commits, _ = await call(http, fake, "GET", f"/repos/{REPO}/pulls/2/commits", token)
    assert [c["sha"] for c in commits] == ["c" * 40, "d" * 40]
    assert (await call(http, fake, "GET", f"/repos/{REPO}/pulls/1", token))[0] == 404
    _, as_issue, _ = await call(http, fake, "GET", f"/repos/{REPO}/issues/2", token)
    assert "pull_request" in as_issue
    _, commit, _ = await call(http, fake, "GET", f"/repos/{REPO}/commits/{'b' * 40}", token)
    assert commit["parents"][0]["sha"] == "a" * 40
    assert (await call(http, fake, "GET", f"/repos/{REPO}/commits/main", token))[1][
        "sha"
    ] == "b" * 40
    assert (await call(http, fake, "GET", f"/repos/{REPO}/commits/{'f' * 40}", token))[0] == 422
    fake.assert_clean()


async def test_compare_answers_like_github(fake: FakeGitHub, http: aiohttp.ClientSession) -> None:
    token = await installation_token(http, fake)
    fake.add_commits("octo-org", "my-saas-app", ["a1", "a2", "a3", "a4"])
    fake.add_commits("octo-org", "my-saas-app", ["b1", "b2"], parent="a2", branch="topic")

    async def compare(base: str, head: str) -> tuple[int, dict]:
        status, body, _ = await call(
            http, fake, "GET", f"/repos/{REPO}/compare/{base}...{head}", token
        )
        return status, body

    _, ahead = await compare("a1", "a4")
    assert (ahead["status"], ahead["ahead_by"], ahead["behind_by"], ahead["total_commits"]) == (
        "ahead",
        3,
        0,
        3,
    )
    assert [c["sha"] for c in ahead["commits"]] == ["a2", "a3", "a4"]
    assert ahead["merge_base_commit"]["sha"] == "a1"
    _, behind = await compare("a4", "a2")
    assert (behind["status"], behind["ahead_by"], behind["behind_by"]) == ("behind", 0, 2)
    _, same = await compare("a3", "a3")
    assert (same["status"], same["total_commits"], same["commits"]) == ("identical", 0, [])
    _, diverged = await compare("main", "topic")
    assert (diverged["status"], diverged["ahead_by"], diverged["behind_by"]) == ("diverged", 2, 2)
    assert diverged["merge_base_commit"]["sha"] == "a2"
    assert (await compare("a1", "zz99"))[0] == 404
    fake.assert_clean()


# ------------------------------------------------------------------ failure injection


async def test_fail_next_fails_then_recovers(fake: FakeGitHub, http: aiohttp.ClientSession) -> None:
    token = await installation_token(http, fake)
    fake.fail_next(ISSUES, 502, times=2)
    for _ in range(2):
        status, _, _ = await call(
            http, fake, "POST", f"/repos/{REPO}/issues", token, {"title": "x"}
        )
        assert status == 502
    assert fake.issues("octo-org", "my-saas-app") == []
    status, _, _ = await call(http, fake, "POST", f"/repos/{REPO}/issues", token, {"title": "x"})
    assert status == 201
    assert [c.status for c in fake.calls_to(ISSUES)] == [502, 502, 201]
    fake.assert_clean()


async def test_apply_then_fail_makes_the_issue_but_loses_the_reply(
    fake: FakeGitHub, http: aiohttp.ClientSession
) -> None:
    token = await installation_token(http, fake)
    fake.fail_next(ISSUES, 502, apply_then_fail=True)
    status, _, _ = await call(
        http,
        fake,
        "POST",
        f"/repos/{REPO}/issues",
        token,
        {"title": "Lost reply", "labels": ["tinydesk"]},
    )
    assert status == 502
    assert [i["title"] for i in fake.issues("octo-org", "my-saas-app")] == ["Lost reply"]
    _, found, _ = await call(
        http, fake, "GET", f"/repos/{REPO}/issues", token, params={"labels": "tinydesk"}
    )
    assert [i["title"] for i in found] == ["Lost reply"]
    fake.assert_clean()


async def test_secondary_rate_limit_has_retry_after(
    fake: FakeGitHub, http: aiohttp.ClientSession
) -> None:
    token = await installation_token(http, fake)
    fake.fail_next(None, 403, retry_after=30)
    status, body, headers = await call(http, fake, "GET", f"/repos/{REPO}/labels", token)
    assert (status, body["message"], headers["Retry-After"]) == (
        403,
        SECONDARY_RATE_LIMIT_MESSAGE,
        "30",
    )
    fake.fail_next("GET /repos/{owner}/{repo}/labels", 429)
    assert (await call(http, fake, "GET", f"/repos/{REPO}/labels", token))[0] == 429
    fake.assert_clean()


async def test_primary_rate_limit_exhaustion(fake: FakeGitHub, http: aiohttp.ClientSession) -> None:
    token = await installation_token(http, fake)
    reset = int(time.time()) + 120
    fake.fail_next(None, 403, rate_limit_reset=reset)
    status, _, headers = await call(http, fake, "GET", f"/repos/{REPO}/labels", token)
    assert (status, headers["x-ratelimit-remaining"], headers["x-ratelimit-reset"]) == (
        403,
        "0",
        str(reset),
    )
    fake.set_rate_limit(0, reset_at=reset)
    status, body, headers = await call(http, fake, "GET", f"/repos/{REPO}/labels", token)
    assert status == 403 and "rate limit" in body["message"]
    assert headers["x-ratelimit-remaining"] == "0"
    fake.set_rate_limit(0, reset_at=int(time.time()) - 1)
    assert (await call(http, fake, "GET", f"/repos/{REPO}/labels", token))[0] == 200
    fake.assert_clean()


async def test_delay_longer_than_client_timeout_is_a_timeout(
    fake: FakeGitHub, http: aiohttp.ClientSession
) -> None:
    token = await installation_token(http, fake)
    fake.fail_next(ISSUES, None, delay=0.5)
    with pytest.raises(asyncio.TimeoutError):
        await call(
            http,
            fake,
            "POST",
            f"/repos/{REPO}/issues",
            token,
            {"title": "Slow"},
            timeout=aiohttp.ClientTimeout(total=0.1),
        )
    await asyncio.sleep(0.6)
    # The request still landed, as a slow GitHub would do it.
    assert [i["title"] for i in fake.issues("octo-org", "my-saas-app")] == ["Slow"]
    fake.assert_clean()


async def test_unused_injection_fails_assert_clean(fake: FakeGitHub) -> None:
    fake.fail_next(ISSUES, 500)
    with pytest.raises(AssertionError, match="unused failure injection"):
        fake.assert_clean()


async def test_failure_rate_is_deterministic(fake: FakeGitHub, http: aiohttp.ClientSession) -> None:
    token = await installation_token(http, fake)

    async def statuses() -> list[int]:
        fake.set_failure_rate(0.5, seed=42, statuses=(500, 502))
        found = [
            (await call(http, fake, "GET", f"/repos/{REPO}/labels", token))[0] for _ in range(20)
        ]
        fake.set_failure_rate(0)
        return found

    first, second = await statuses(), await statuses()
    assert first == second
    assert set(first) <= {200, 500, 502}
    assert 3 <= first.count(200) <= 17
    fake.assert_clean()


# ------------------------------------------------------------------ the fixture


async def test_fixture_gives_a_started_clean_fake(
    fake_github: FakeGitHub,  # noqa: F811
    http: aiohttp.ClientSession,
) -> None:
    fake_github.add_installation(1, "octo-org", {REPO})
    async with http.get(f"{fake_github.base_url}/app", headers=app_headers()) as response:
        assert response.status == 200
    assert fake_github.count("GET /app") == 1


def test_response_checks_have_teeth() -> None:
    """The fake's own answers are checked against GitHub's response schemas (in assert_clean)."""
    from tests.fakes import _schema_errors, _validator

    for operation in (
        "GET /repos/{owner}/{repo}/pulls/{pull_number}",
        "GET /repos/{owner}/{repo}/compare/{basehead}",
    ):
        assert _schema_errors(_validator(operation, "200"), {"number": "seven"})


async def test_gidgethub_client_works_against_the_fake(
    fake: FakeGitHub, http: aiohttp.ClientSession
) -> None:
    """The client the bot uses: App token exchange, url_vars, and getiter over Link pages."""
    from gidgethub import apps
    from gidgethub.aiohttp import GitHubAPI

    app_gh = GitHubAPI(http, "tinydesk-tests", base_url=fake.base_url)
    token = await apps.get_installation_access_token(
        app_gh,
        installation_id=str(INSTALLATION_ID),
        app_id=str(APP_ID),
        private_key=generate_app_key()[0],
    )
    gh = GitHubAPI(http, "tinydesk-tests", oauth_token=token["token"], base_url=fake.base_url)
    for n in range(5):
        await gh.post(
            "/repos/{owner}/{repo}/issues",
            url_vars={"owner": "octo-org", "repo": "my-saas-app"},
            data={"title": f"Ticket {n}", "labels": ["tinydesk"]},
        )
    titles = [
        issue["title"]
        async for issue in gh.getiter(
            "/repos/octo-org/my-saas-app/issues?labels=tinydesk&per_page=2"
        )
    ]
    assert sorted(titles) == [f"Ticket {n}" for n in range(5)]
    assert fake.count("GET /repos/{owner}/{repo}/issues") == 3
    assert gh.rate_limit is not None and gh.rate_limit.limit == 5000
    fake.assert_clean()


async def test_a_repository_answers_its_visibility_like_github(
    fake: FakeGitHub, http: aiohttp.ClientSession
) -> None:
    token = await installation_token(http, fake)
    status, repo, _ = await call(http, fake, "GET", f"/repos/{REPO}", token)
    assert status == 200
    assert repo["full_name"] == REPO and repo["private"] is False  # type: ignore[index]
    assert repo["visibility"] == "public"  # type: ignore[index]
    fake.set_private("octo-org/other")
    status, other, _ = await call(http, fake, "GET", "/repos/octo-org/other", token)
    assert status == 200
    assert other["private"] is True and other["visibility"] == "private"  # type: ignore[index]
    # Not one of the installation's repositories: 404, as GitHub hides it.
    status, _, _ = await call(http, fake, "GET", "/repos/someone/elsewhere", token)
    assert status == 404
    # Checked against GitHub's repository schema (tests/fakes.py STAND_INS).
    assert fake.response_errors == []
