"""The fake's REST handlers: one per operation of ``routes.py``, GitHub's semantics (filters,
sorting, paging with Link headers, 404/422 where GitHub answers them).

Past 400 lines on purpose: nineteen small handlers and the table that maps the operations
to them read best side by side; split by resource, each reader would hop between files.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from bot.sim.fakegithub.contract import RequestRejected
from bot.sim.fakegithub.render import Renderer
from bot.sim.fakegithub.state import (
    DEFAULT_LABEL_COLOR,
    MAX_PER_PAGE,
    WEB_URL,
    Reply,
    Token,
    iso,
    node_id,
)


class Handlers(Renderer):
    """Answers a served operation from the state; the contract checks requests and answers."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.violations: list[str] = []
        self.response_errors: list[str] = []

    # ----------------------------------------------------------------- the contract

    def _validate_request(
        self, operation: str, query: dict[str, str], body: Any, raw_body: bytes
    ) -> None:
        if self.openapi is None:
            return
        try:
            self.openapi.check_request(operation, query, body, raw_body)
        except RequestRejected as rejected:
            self.violations.append(f"{operation}: {rejected.violation}")
            raise Reply(rejected.status, rejected.message, **rejected.extra) from None

    def _check_response(self, operation: str, status: int, payload: Any) -> None:
        if not self.validate_responses or status >= 300 or self.openapi is None:
            return
        errors = self.openapi.response_problems(operation, status, payload)
        if errors:
            self.response_errors.append(f"{operation} {status}: {'; '.join(errors)}")

    # ----------------------------------------------------------------- handlers

    async def _handle(
        self,
        operation: str,
        params: dict[str, str],
        query: dict[str, str],
        body: Any,
        auth: str,
        headers: dict[str, str],
        request: web.Request,
    ) -> tuple[int, Any]:
        handler: Callable[..., Awaitable[tuple[int, Any]]] = self._handlers[operation]
        return await handler(
            self, params=params, query=query, body=body or {}, headers=headers, request=request
        )

    async def _app(self, **_: Any) -> tuple[int, Any]:
        return 200, self._complete(
            "GET /app",
            200,
            {
                "id": self.app_id,
                "slug": self.app_slug,
                "node_id": node_id("A", self.app_id),
                "client_id": f"Iv1.{self.app_id:016x}",
                "name": "TinyDesk",
                "owner": self._render_user("octo-org", "Organization"),
                "description": "Support tickets that follow their fix through GitHub.",
                "external_url": "https://tinydesk.example",
                "html_url": f"{WEB_URL}/apps/{self.app_slug}",
                "created_at": "2024-01-01T00:00:00Z",
                "updated_at": "2024-01-01T00:00:00Z",
                "permissions": {
                    "issues": "write",
                    "pull_requests": "read",
                    "metadata": "read",
                    "deployments": "read",
                    "contents": "read",
                },
                "events": [
                    "deployment_status",
                    "installation",
                    "installation_repositories",
                    "issues",
                    "pull_request",
                    "pull_request_review",
                ],
                "installations_count": len(self.installations),
            },
        )

    async def _access_token(
        self, *, params: dict[str, str], body: dict[str, Any], **_: Any
    ) -> tuple[int, Any]:
        installation_id = int(params["installation_id"])
        installation = self.installations.get(installation_id)
        if installation is None:
            raise Reply(404, "Not Found")
        repos: set[str] | None = None
        if body.get("repositories"):
            account = installation["account"]
            repos = {f"{account}/{name}".lower() for name in body["repositories"]}
        token = "ghs_" + secrets.token_urlsafe(27).replace("-", "a").replace("_", "b")[:36]
        expires = time.time() + 3600
        self._tokens[token] = Token(installation_id, expires, repos)
        return 201, {
            "token": token,
            "expires_at": iso(expires),
            "permissions": {"issues": "write", "metadata": "read", "pull_requests": "read"},
            "repository_selection": "selected",
        }

    async def _repo_installation(self, *, params: dict[str, str], **_: Any) -> tuple[int, Any]:
        key = f"{params['owner']}/{params['repo']}".lower()
        for installation_id, installation in self.installations.items():
            if key in {name.lower() for name in installation["repos"]}:
                return 200, self._render_installation(installation_id, installation)
        raise Reply(404, "Not Found")

    async def _get_repo(self, *, params: dict[str, str], **_: Any) -> tuple[int, Any]:
        return 200, self._render_repo(self._repo(params["owner"], params["repo"], reply=True))

    async def _list_issues(
        self,
        *,
        params: dict[str, str],
        query: dict[str, str],
        headers: dict[str, str],
        request: web.Request,
        **_: Any,
    ) -> tuple[int, Any]:
        r = self._repo(params["owner"], params["repo"], reply=True)
        state = query.get("state", "open")
        wanted_labels = {n.strip().lower() for n in query.get("labels", "").split(",") if n.strip()}
        creator = query.get("creator", "").lower()
        assignee = query.get("assignee")
        issues = [
            issue
            for issue in r.issues.values()
            if (state == "all" or issue["state"] == state)
            and wanted_labels <= {name.lower() for name in issue["labels"]}
            and (not creator or issue["user"]["login"].lower() == creator)
            and (assignee is None or self._assignee_matches(issue, assignee))
        ]
        sort_key = {"created": "created_at", "updated": "updated_at"}.get(
            query.get("sort", "created"), "created_at"
        )
        if query.get("sort") == "comments":
            issues.sort(key=lambda i: (self._comment_count(r, i["number"]), i["number"]))
        else:
            issues.sort(key=lambda i: (i[sort_key], i["number"]))
        if query.get("direction", "desc") == "desc":
            issues.reverse()
        page = self._paginate(issues, query, headers, request)
        return 200, [self._render_issue(r, issue) for issue in page]

    async def _create_issue(
        self, *, params: dict[str, str], body: dict[str, Any], **_: Any
    ) -> tuple[int, Any]:
        r = self._repo(params["owner"], params["repo"], reply=True)
        labels = [
            item if isinstance(item, str) else item.get("name", "")
            for item in body.get("labels") or []
        ]
        assignees = list(body.get("assignees") or [])
        if body.get("assignee"):
            assignees.append(body["assignee"])
        issue = self._new_issue(
            r, str(body["title"]), body.get("body"), self._bot_user(), labels, assignees
        )
        return 201, self._render_issue(r, issue)

    async def _get_issue(self, *, params: dict[str, str], **_: Any) -> tuple[int, Any]:
        r = self._repo(params["owner"], params["repo"], reply=True)
        return 200, self._render_issue(r, self._issue(r, int(params["issue_number"]), reply=True))

    async def _update_issue(
        self, *, params: dict[str, str], body: dict[str, Any], **_: Any
    ) -> tuple[int, Any]:
        r = self._repo(params["owner"], params["repo"], reply=True)
        issue = self._issue(r, int(params["issue_number"]), reply=True)
        if "title" in body and body["title"] is not None:
            issue["title"] = str(body["title"])
        if "body" in body:
            issue["body"] = body["body"]
        if "labels" in body:
            issue["labels"] = []
            self._add_labels(
                r,
                issue,
                [
                    item if isinstance(item, str) else item.get("name", "")
                    for item in body["labels"] or []
                ],
            )
        if "assignees" in body:
            issue["assignees"] = list(dict.fromkeys(body["assignees"] or []))
        if body.get("state") and body["state"] != issue["state"]:
            default_reason = "completed" if body["state"] == "closed" else "reopened"
            self._set_state(issue, body["state"], body.get("state_reason") or default_reason)
        elif body.get("state_reason") and issue["state"] == "closed":
            issue["state_reason"] = body["state_reason"]
        issue["updated_at"] = iso()
        return 200, self._render_issue(r, issue)

    async def _list_comments(
        self,
        *,
        params: dict[str, str],
        query: dict[str, str],
        headers: dict[str, str],
        request: web.Request,
        **_: Any,
    ) -> tuple[int, Any]:
        r = self._repo(params["owner"], params["repo"], reply=True)
        number = int(params["issue_number"])
        self._issue(r, number, reply=True)
        comments = [c for c in r.comments.values() if c["number"] == number]
        page = self._paginate(comments, query, headers, request)
        return 200, [self._render_comment(r, c) for c in page]

    async def _create_comment(
        self, *, params: dict[str, str], body: dict[str, Any], **_: Any
    ) -> tuple[int, Any]:
        r = self._repo(params["owner"], params["repo"], reply=True)
        issue = self._issue(r, int(params["issue_number"]), reply=True)
        comment = self._new_comment(r, issue, body["body"], self._bot_user())
        return 201, self._render_comment(r, comment)

    async def _update_comment(
        self, *, params: dict[str, str], body: dict[str, Any], **_: Any
    ) -> tuple[int, Any]:
        r = self._repo(params["owner"], params["repo"], reply=True)
        comment = r.comments.get(int(params["comment_id"]))
        if comment is None:
            raise Reply(404, "Not Found")
        comment["body"] = body["body"]
        comment["updated_at"] = iso()
        return 200, self._render_comment(r, comment)

    async def _add_issue_labels(
        self, *, params: dict[str, str], body: Any, **_: Any
    ) -> tuple[int, Any]:
        r = self._repo(params["owner"], params["repo"], reply=True)
        issue = self._issue(r, int(params["issue_number"]), reply=True)
        items = body.get("labels", []) if isinstance(body, dict) else body
        names = [item if isinstance(item, str) else item.get("name", "") for item in items]
        self._add_labels(r, issue, names)
        issue["updated_at"] = iso()
        return 200, [self._render_label(r, r.labels[n.lower()]) for n in issue["labels"]]

    async def _remove_issue_label(self, *, params: dict[str, str], **_: Any) -> tuple[int, Any]:
        r = self._repo(params["owner"], params["repo"], reply=True)
        issue = self._issue(r, int(params["issue_number"]), reply=True)
        name = params["name"].lower()
        kept = [n for n in issue["labels"] if n.lower() != name]
        if len(kept) == len(issue["labels"]):
            raise Reply(404, "Label does not exist")
        issue["labels"] = kept
        issue["updated_at"] = iso()
        return 200, [self._render_label(r, r.labels[n.lower()]) for n in kept]

    async def _list_labels(
        self,
        *,
        params: dict[str, str],
        query: dict[str, str],
        headers: dict[str, str],
        request: web.Request,
        **_: Any,
    ) -> tuple[int, Any]:
        r = self._repo(params["owner"], params["repo"], reply=True)
        page = self._paginate(list(r.labels.values()), query, headers, request)
        return 200, [self._render_label(r, label) for label in page]

    async def _create_label(
        self, *, params: dict[str, str], body: dict[str, Any], **_: Any
    ) -> tuple[int, Any]:
        r = self._repo(params["owner"], params["repo"], reply=True)
        if body["name"].lower() in r.labels:
            raise Reply(
                422,
                "Validation Failed",
                errors=[{"resource": "Label", "code": "already_exists", "field": "name"}],
            )
        label = self._ensure_label(
            r,
            body["name"],
            body.get("color", DEFAULT_LABEL_COLOR).lstrip("#"),
            body.get("description"),
        )
        return 201, self._render_label(r, label)

    async def _get_pull(self, *, params: dict[str, str], **_: Any) -> tuple[int, Any]:
        r = self._repo(params["owner"], params["repo"], reply=True)
        number = int(params["pull_number"])
        if number not in r.pulls:
            raise Reply(404, "Not Found")
        return 200, self._render_pull(r, number)

    async def _pull_commits(
        self,
        *,
        params: dict[str, str],
        query: dict[str, str],
        headers: dict[str, str],
        request: web.Request,
        **_: Any,
    ) -> tuple[int, Any]:
        r = self._repo(params["owner"], params["repo"], reply=True)
        number = int(params["pull_number"])
        if number not in r.pulls:
            raise Reply(404, "Not Found")
        page = self._paginate(r.pulls[number]["commits"], query, headers, request)
        return 200, [self._render_commit(r, sha) for sha in page]

    async def _compare(self, *, params: dict[str, str], **_: Any) -> tuple[int, Any]:
        r = self._repo(params["owner"], params["repo"], reply=True)
        base_ref, sep, head_ref = params["basehead"].partition("...")
        if not sep:
            raise Reply(404, "Not Found")
        base, head = self._resolve(r, base_ref), self._resolve(r, head_ref)
        if base is None or head is None:
            raise Reply(404, "Not Found")
        head_line, base_line = self._ancestry(r, head), self._ancestry(r, base)
        base_set, head_set = set(base_line), set(head_line)
        merge_base = next((sha for sha in head_line if sha in base_set), None)
        ahead = [sha for sha in head_line if sha not in base_set]
        behind = [sha for sha in base_line if sha not in head_set]
        if merge_base is None:
            raise Reply(404, f"No common ancestor between {base_ref} and {head_ref}.")
        status = (
            "identical"
            if not ahead and not behind
            else "ahead"
            if not behind
            else "behind"
            if not ahead
            else "diverged"
        )
        api, web = self._repo_api(r), f"{WEB_URL}/{r.full_name}"
        return 200, self._complete(
            "GET /repos/{owner}/{repo}/compare/{basehead}",
            200,
            {
                "url": f"{api}/compare/{base_ref}...{head_ref}",
                "html_url": f"{WEB_URL}/{r.full_name}/compare/{base_ref}...{head_ref}",
                "permalink_url": f"{web}/compare/{r.owner}:{base}...{r.owner}:{head}",
                "diff_url": f"{WEB_URL}/{r.full_name}/compare/{base_ref}...{head_ref}.diff",
                "patch_url": f"{WEB_URL}/{r.full_name}/compare/{base_ref}...{head_ref}.patch",
                "base_commit": self._render_commit(r, base),
                "merge_base_commit": self._render_commit(r, merge_base),
                "status": status,
                "ahead_by": len(ahead),
                "behind_by": len(behind),
                "total_commits": len(ahead),
                "commits": [self._render_commit(r, sha) for sha in reversed(ahead)][:250],
                "files": [],
            },
        )

    async def _get_commit(self, *, params: dict[str, str], **_: Any) -> tuple[int, Any]:
        r = self._repo(params["owner"], params["repo"], reply=True)
        sha = self._resolve(r, params["ref"])
        if sha is None:
            raise Reply(422, f"No commit found for SHA: {params['ref']}")
        rendered = self._render_commit(r, sha)
        rendered.update(stats={"total": 0, "additions": 0, "deletions": 0}, files=[])
        return 200, rendered

    _handlers: dict[str, Callable[..., Awaitable[tuple[int, Any]]]] = {
        "GET /app": _app,
        "POST /app/installations/{installation_id}/access_tokens": _access_token,
        "GET /repos/{owner}/{repo}/installation": _repo_installation,
        "GET /repos/{owner}/{repo}": _get_repo,
        "GET /repos/{owner}/{repo}/issues": _list_issues,
        "POST /repos/{owner}/{repo}/issues": _create_issue,
        "GET /repos/{owner}/{repo}/issues/{issue_number}": _get_issue,
        "PATCH /repos/{owner}/{repo}/issues/{issue_number}": _update_issue,
        "GET /repos/{owner}/{repo}/issues/{issue_number}/comments": _list_comments,
        "POST /repos/{owner}/{repo}/issues/{issue_number}/comments": _create_comment,
        "PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}": _update_comment,
        "POST /repos/{owner}/{repo}/issues/{issue_number}/labels": _add_issue_labels,
        "DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}": _remove_issue_label,
        "GET /repos/{owner}/{repo}/labels": _list_labels,
        "POST /repos/{owner}/{repo}/labels": _create_label,
        "GET /repos/{owner}/{repo}/pulls/{pull_number}": _get_pull,
        "GET /repos/{owner}/{repo}/pulls/{pull_number}/commits": _pull_commits,
        "GET /repos/{owner}/{repo}/compare/{basehead}": _compare,
        "GET /repos/{owner}/{repo}/commits/{ref}": _get_commit,
    }

    def _paginate(
        self, items: list[Any], query: dict[str, str], headers: dict[str, str], request: web.Request
    ) -> list[Any]:
        per_page = min(max(int(query.get("per_page", 30)), 1), MAX_PER_PAGE)
        page = max(int(query.get("page", 1)), 1)
        last = max((len(items) + per_page - 1) // per_page, 1)
        links = []

        def url(number: int) -> str:
            return f"{self.base_url}{request.path}?{urlencode({**query, 'page': number})}"

        if page < last:
            links += [f'<{url(page + 1)}>; rel="next"', f'<{url(last)}>; rel="last"']
        if page > 1:
            links = [f'<{url(page - 1)}>; rel="prev"', f'<{url(1)}>; rel="first"', *links]
        if links:
            headers["Link"] = ", ".join(links)
        return items[(page - 1) * per_page : page * per_page]
