"""Commits and pull requests of the fake GitHub: linear chains, branches, compare's ancestry."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from bot.sim.fakegithub.state import WEB_URL, Repo, State, iso


class History(State):
    """Git history and pull requests on top of the issues of ``State``."""

    def add_commits(
        self,
        owner: str,
        repo: str,
        shas_in_order: Iterable[str | tuple[str, str]],
        *,
        parent: str | None = None,
        branch: str | None = "main",
    ) -> None:
        """Append commits (oldest first; items are shas or ``(sha, message)``) to a linear chain.

        The chain continues from ``parent`` when given, else from the tip of the previous
        ``add_commits``; start a second chain from an older ``parent`` to make histories diverge.
        ``branch`` (if any) then points at the last commit.
        """
        r = self._repo(owner, repo)
        previous = parent if parent is not None else r.tip
        if parent is not None and parent not in r.parents:
            raise ValueError(f"unknown parent commit {parent}")
        previous = self._chain(r, shas_in_order, previous)
        r.tip = previous
        if branch and previous:
            r.branches[branch] = previous

    def add_pull(
        self,
        owner: str,
        repo: str,
        number: int | None = None,
        head_sha: str | None = None,
        *,
        merge_commit_sha: str | None = None,
        merged: bool = False,
        draft: bool = False,
        body: str | None = "",
        title: str = "A change",
        commits: Iterable[str] = (),
        state: str | None = None,
        user: str = "octocat",
        head_ref: str = "feature",
        base_ref: str = "main",
        labels: Iterable[str] = (),
    ) -> int:
        """Create a pull request (sharing the issue number counter); returns its number.

        ``commits`` (oldest first) are what ``pulls/{n}/commits`` lists; unknown ones are added
        as their own chain (without moving the main tip). ``head_sha`` defaults to the last.
        """
        r = self._repo(owner, repo)
        shas = list(commits)
        unknown = [sha for sha in shas if sha not in r.parents]
        if unknown:
            start = r.parents.get(shas[0]) if shas[0] in r.parents else None
            self._chain(r, unknown, start)
        head = head_sha or (shas[-1] if shas else secrets.token_hex(20))
        if head not in r.parents:
            self._chain(r, [head], None)
        if number is not None and number in r.issues:
            raise ValueError(f"#{number} already exists in {r.full_name}")
        author = self._user(user)
        issue = self._new_issue(r, title, body, author, labels, (), number=number)
        issue["pull_request"] = {
            "url": f"{self._repo_api(r)}/pulls/{issue['number']}",
            "html_url": f"{WEB_URL}/{r.full_name}/pull/{issue['number']}",
            "diff_url": f"{WEB_URL}/{r.full_name}/pull/{issue['number']}.diff",
            "patch_url": f"{WEB_URL}/{r.full_name}/pull/{issue['number']}.patch",
            "merged_at": None,
        }
        issue["html_url"] = issue["pull_request"]["html_url"]
        r.pulls[issue["number"]] = {
            "number": issue["number"],
            "head_sha": head,
            "head_ref": head_ref,
            "base_ref": base_ref,
            "draft": draft,
            "merged": False,
            "merged_at": None,
            "merged_by": None,
            "merge_commit_sha": merge_commit_sha,
            "commits": shas,
        }
        if merged:
            self.merge_pull(owner, repo, issue["number"], merge_commit_sha=merge_commit_sha)
        elif state == "closed":
            self._set_state(issue, "closed", None)
        return issue["number"]

    def merge_pull(
        self,
        owner: str,
        repo: str,
        number: int,
        *,
        merge_commit_sha: str | None = None,
        merged_by: str = "octocat",
    ) -> None:
        """Mark a pull request merged (and closed) as GitHub would after a merge."""
        r = self._repo(owner, repo)
        pull = r.pulls[number]
        pull.update(merged=True, merged_at=iso(), merged_by=merged_by)
        if merge_commit_sha:
            pull["merge_commit_sha"] = merge_commit_sha
        issue = r.issues[number]
        self._set_state(issue, "closed", None)
        issue["pull_request"]["merged_at"] = pull["merged_at"]

    def update_pull(self, owner: str, repo: str, number: int, **fields: Any) -> None:
        """Change a PR: ``title``, ``body``, ``draft``, ``head_sha``, ``merge_commit_sha``..."""
        r = self._repo(owner, repo)
        for name in ("title", "body"):
            if name in fields:
                r.issues[number][name] = fields.pop(name)
        r.pulls[number].update(fields)

    def _chain(
        self, r: Repo, items: Iterable[str | tuple[str, str]], parent: str | None
    ) -> str | None:
        for item in items:
            sha, message = (item, f"Commit {item[:7]}") if isinstance(item, str) else item
            if sha in r.parents:
                raise ValueError(f"commit {sha} already exists in {r.full_name}")
            r.parents[sha] = parent
            r.messages[sha] = message
            r.order.append(sha)
            parent = sha
        return parent

    def _resolve(self, r: Repo, ref: str) -> str | None:
        if ref in r.parents:
            return ref
        if ref in r.branches:
            return r.branches[ref]
        if len(ref) >= 4:
            matches = [sha for sha in r.parents if sha.startswith(ref)]
            if len(matches) == 1:
                return matches[0]
        return None

    def _ancestry(self, r: Repo, sha: str) -> list[str]:
        line: list[str] = []
        current: str | None = sha
        while current is not None:
            line.append(current)
            current = r.parents[current]
        return line
