"""GitHub's JSON shapes for the fake's records: users, labels, issues, comments, repos,
pull requests, commits, installations.

When an OpenAPI contract is injected (tests/fakes.py), the required fields the fake does
not model are filled in from GitHub's response schemas, so that answers are schema-valid.
"""

from __future__ import annotations

import copy
import hashlib
from typing import Any

from bot.sim.fakegithub.history import History
from bot.sim.fakegithub.state import WEB_URL, Repo, node_id


def skeleton(schema: dict[str, Any]) -> Any:
    """A minimal value valid for an OpenAPI schema (for required fields the fake does not model)."""
    if schema.get("nullable"):
        return None
    for combinator in ("oneOf", "anyOf"):
        if combinator in schema:
            return skeleton(schema[combinator][0])
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        return {name: skeleton(props.get(name, {})) for name in schema.get("required", [])}
    if kind == "array":
        return []
    if kind in ("integer", "number"):
        return 0
    if kind == "boolean":
        return False
    if kind == "string":
        return "1970-01-01T00:00:00Z" if schema.get("format") == "date-time" else ""
    return None


def complete(schema: dict[str, Any], value: Any) -> Any:
    """Fill in, recursively, the required fields that ``value`` lacks (mutates and returns it)."""
    branches = schema.get("oneOf") or schema.get("anyOf")
    if branches and isinstance(value, dict):
        objects = [b for b in branches if b.get("type") == "object"]
        if objects:
            schema = max(objects, key=lambda b: len(set(b.get("properties", {})) & set(value)))
    if isinstance(value, dict) and schema.get("type") == "object":
        props = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                value[name] = skeleton(props.get(name, {}))
        for name, item in value.items():
            if name in props and item is not None:
                complete(props[name], item)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for item in value:
            if item is not None:
                complete(schema["items"], item)
    return value


class Renderer(History):
    """Renders the state as GitHub's REST API answers it."""

    def _response_schema(self, operation: str, status: int) -> dict[str, Any] | None:
        """GitHub's schema for an answer (from the injected contract), if there is one."""
        return None if self.openapi is None else self.openapi.response_schema(operation, status)

    def _complete(self, operation: str, status: int, value: Any) -> Any:
        schema = self._response_schema(operation, status)
        return complete(schema, value) if schema else value

    def _user_id(self, login: str) -> int:
        if login not in self._users:
            digest = hashlib.sha256(login.encode()).digest()
            self._users[login] = int.from_bytes(digest[:3]) + 1000
        return self._users[login]

    def _render_user(self, login: str, user_type: str = "User") -> dict[str, Any]:
        api = f"{self.base_url}/users/{login}"
        user_id = self._user_id(login)
        return {
            "login": login,
            "id": user_id,
            "node_id": node_id("U", user_id),
            "avatar_url": f"https://avatars.githubusercontent.com/u/{user_id}?v=4",
            "gravatar_id": "",
            "url": api,
            "html_url": f"{WEB_URL}/{login}",
            "followers_url": f"{api}/followers",
            "following_url": f"{api}/following{{/other_user}}",
            "gists_url": f"{api}/gists{{/gist_id}}",
            "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{api}/subscriptions",
            "organizations_url": f"{api}/orgs",
            "repos_url": f"{api}/repos",
            "events_url": f"{api}/events{{/privacy}}",
            "received_events_url": f"{api}/received_events",
            "type": user_type,
            "user_view_type": "public",
            "site_admin": False,
        }

    def _render_label(self, r: Repo, label: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": label["id"],
            "node_id": node_id("LA", label["id"]),
            "url": f"{self._repo_api(r)}/labels/{label['name']}",
            "name": label["name"],
            "description": label["description"],
            "color": label["color"],
            "default": False,
        }

    def _render_issue(self, r: Repo, issue: dict[str, Any]) -> dict[str, Any]:
        api = f"{self._repo_api(r)}/issues/{issue['number']}"
        assignees = [self._render_user(login) for login in issue["assignees"]]
        rendered = {
            "id": issue["id"],
            "node_id": node_id("I", issue["id"]),
            "url": api,
            "repository_url": self._repo_api(r),
            "labels_url": f"{api}/labels{{/name}}",
            "comments_url": f"{api}/comments",
            "events_url": f"{api}/events",
            "html_url": issue["html_url"],
            "number": issue["number"],
            "state": issue["state"],
            "state_reason": issue["state_reason"],
            "title": issue["title"],
            "body": issue["body"],
            "user": self._render_user(issue["user"]["login"], issue["user"]["type"]),
            "labels": [self._render_label(r, r.labels[name.lower()]) for name in issue["labels"]],
            "assignee": assignees[0] if assignees else None,
            "assignees": assignees,
            "milestone": None,
            "locked": issue["locked"],
            "active_lock_reason": None,
            "comments": self._comment_count(r, issue["number"]),
            "closed_at": issue["closed_at"],
            "created_at": issue["created_at"],
            "updated_at": issue["updated_at"],
            "closed_by": None,
            "author_association": "NONE" if issue["user"]["type"] == "Bot" else "MEMBER",
        }
        if "pull_request" in issue:
            rendered["pull_request"] = dict(issue["pull_request"])
        return copy.deepcopy(rendered)

    def _render_comment(self, r: Repo, comment: dict[str, Any]) -> dict[str, Any]:
        number = comment["number"]
        return {
            "id": comment["id"],
            "node_id": node_id("IC", comment["id"]),
            "url": f"{self._repo_api(r)}/issues/comments/{comment['id']}",
            "html_url": f"{r.issues[number]['html_url']}#issuecomment-{comment['id']}",
            "issue_url": f"{self._repo_api(r)}/issues/{number}",
            "body": comment["body"],
            "user": self._render_user(comment["user"]["login"], comment["user"]["type"]),
            "created_at": comment["created_at"],
            "updated_at": comment["updated_at"],
            "author_association": "NONE" if comment["user"]["type"] == "Bot" else "MEMBER",
        }

    def _render_repo(self, r: Repo) -> dict[str, Any]:
        api = self._repo_api(r)
        rendered: dict[str, Any] = {
            "id": r.id,
            "node_id": node_id("R", r.id),
            "name": r.name,
            "full_name": r.full_name,
            "owner": self._render_user(r.owner, "Organization"),
            "private": r.private,
            "html_url": f"{WEB_URL}/{r.full_name}",
            "url": api,
            "fork": False,
            "default_branch": "main",
            "description": None,
            "visibility": "private" if r.private else "public",
            "clone_url": f"{WEB_URL}/{r.full_name}.git",
            "git_url": f"git://github.com/{r.full_name}.git",
            "ssh_url": f"git@github.com:{r.full_name}.git",
            "svn_url": f"{WEB_URL}/{r.full_name}",
            "created_at": "2024-01-01T00:00:00Z",
            "updated_at": "2024-01-01T00:00:00Z",
            "pushed_at": "2024-01-01T00:00:00Z",
            "has_issues": True,
        }
        for suffix in (
            "issues{/number}",
            "pulls{/number}",
            "labels{/name}",
            "commits{/sha}",
            "compare/{base}...{head}",
            "deployments",
        ):
            key = suffix.split("{")[0].split("/")[0] + "_url"
            rendered[key] = f"{api}/{suffix}"
        return self._complete_schema_at(rendered, ("head", "repo"))

    def _complete_schema_at(self, value: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
        schema = self._response_schema("GET /repos/{owner}/{repo}/pulls/{pull_number}", 200)
        if schema is None:  # no contract: the answer carries what the fake models
            return value
        for name in path:
            schema = schema["properties"][name]
        return complete(schema, value)

    def _render_pull(self, r: Repo, number: int) -> dict[str, Any]:
        issue, pull = r.issues[number], r.pulls[number]
        api = f"{self._repo_api(r)}/pulls/{number}"
        repo = self._render_repo(r)
        owner = self._render_user(r.owner, "Organization")
        rendered = {
            "url": api,
            "id": issue["id"],
            "node_id": node_id("PR", issue["id"]),
            "html_url": issue["html_url"],
            "diff_url": f"{issue['html_url']}.diff",
            "patch_url": f"{issue['html_url']}.patch",
            "issue_url": f"{self._repo_api(r)}/issues/{number}",
            "number": number,
            "commits_url": f"{api}/commits",
            "review_comments_url": f"{api}/comments",
            "review_comment_url": f"{self._repo_api(r)}/pulls/comments{{/number}}",
            "comments_url": f"{self._repo_api(r)}/issues/{number}/comments",
            "statuses_url": f"{self._repo_api(r)}/statuses/{pull['head_sha']}",
            "state": issue["state"],
            "locked": False,
            "title": issue["title"],
            "body": issue["body"],
            "user": self._render_user(issue["user"]["login"], issue["user"]["type"]),
            "labels": [self._render_label(r, r.labels[n.lower()]) for n in issue["labels"]],
            "milestone": None,
            "assignee": None,
            "assignees": [],
            "requested_reviewers": [],
            "created_at": issue["created_at"],
            "updated_at": issue["updated_at"],
            "closed_at": issue["closed_at"],
            "merged_at": pull["merged_at"],
            "merge_commit_sha": pull["merge_commit_sha"],
            "draft": pull["draft"],
            "head": {
                "label": f"{r.owner}:{pull['head_ref']}",
                "ref": pull["head_ref"],
                "sha": pull["head_sha"],
                "user": owner,
                "repo": repo,
            },
            "base": {
                "label": f"{r.owner}:{pull['base_ref']}",
                "ref": pull["base_ref"],
                "sha": r.branches.get(pull["base_ref"], pull["head_sha"]),
                "user": owner,
                "repo": repo,
            },
            "_links": {
                name: {"href": href}
                for name, href in {
                    "self": api,
                    "html": issue["html_url"],
                    "issue": f"{self._repo_api(r)}/issues/{number}",
                    "comments": f"{self._repo_api(r)}/issues/{number}/comments",
                    "review_comments": f"{api}/comments",
                    "review_comment": f"{self._repo_api(r)}/pulls/comments{{/number}}",
                    "commits": f"{api}/commits",
                    "statuses": f"{self._repo_api(r)}/statuses/{pull['head_sha']}",
                }.items()
            },
            "author_association": "MEMBER",
            "auto_merge": None,
            "active_lock_reason": None,
            "merged": pull["merged"],
            "mergeable": None if pull["merged"] else True,
            "mergeable_state": "unknown" if pull["merged"] else "clean",
            "merged_by": self._render_user(pull["merged_by"]) if pull["merged_by"] else None,
            "comments": self._comment_count(r, number),
            "review_comments": 0,
            "maintainer_can_modify": False,
            "commits": len(pull["commits"]),
            "additions": 0,
            "deletions": 0,
            "changed_files": 0,
        }
        return self._complete("GET /repos/{owner}/{repo}/pulls/{pull_number}", 200, rendered)

    def _render_commit(self, r: Repo, sha: str) -> dict[str, Any]:
        api = f"{self._repo_api(r)}/commits/{sha}"
        git_user = {
            "name": "Octo Cat",
            "email": "octocat@users.noreply.github.com",
            "date": "2024-01-01T00:00:00Z",
        }
        parent = r.parents.get(sha)
        return {
            "sha": sha,
            "node_id": node_id("C", r.order.index(sha) if sha in r.order else 0),
            "url": api,
            "html_url": f"{WEB_URL}/{r.full_name}/commit/{sha}",
            "comments_url": f"{api}/comments",
            "commit": {
                "url": f"{self._repo_api(r)}/git/commits/{sha}",
                "author": git_user,
                "committer": git_user,
                "message": r.messages.get(sha, ""),
                "comment_count": 0,
                "tree": {
                    "sha": hashlib.sha1(sha.encode()).hexdigest(),
                    "url": f"{self._repo_api(r)}/git/trees/{sha}",
                },
            },
            "author": self._render_user("octocat"),
            "committer": self._render_user("web-flow"),
            "parents": []
            if parent is None
            else [
                {
                    "sha": parent,
                    "url": f"{self._repo_api(r)}/commits/{parent}",
                    "html_url": f"{WEB_URL}/{r.full_name}/commit/{parent}",
                }
            ],
        }

    def _render_installation(
        self, installation_id: int, installation: dict[str, Any]
    ) -> dict[str, Any]:
        return self._complete(
            "GET /repos/{owner}/{repo}/installation",
            200,
            {
                "id": installation_id,
                "app_id": self.app_id,
                "app_slug": self.app_slug,
                "account": self._render_user(installation["account"], "Organization"),
                "target_id": self._user_id(installation["account"]),
                "target_type": "Organization",
                "repository_selection": "selected",
                "single_file_name": None,
                "access_tokens_url": f"{self.base_url}/app/installations/{installation_id}"
                "/access_tokens",
                "repositories_url": f"{self.base_url}/installation/repositories",
                "html_url": f"{WEB_URL}/organizations/{installation['account']}/settings/"
                f"installations/{installation_id}",
                "events": ["issues", "pull_request"],
                "permissions": {"issues": "write"},
                "created_at": "2024-01-01T00:00:00Z",
                "updated_at": "2024-01-01T00:00:00Z",
                "suspended_by": None,
                "suspended_at": None,
            },
        )
