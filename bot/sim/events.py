"""The demo's deliveries: one repository's webhook events, built by the payload builder from
GitHub's real examples, each stamped a little after the one before."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from typing import Any

from bot.sim.payloads import PayloadBuilder, rename_user, stamp

PR_TITLE = "Fix the sign-in button on Safari"
HEAD_REF = "fix-safari-sign-in"


class Clock:
    """GitHub-style timestamps, strictly increasing by at least a second, as on GitHub where
    each event happens after the one before (the demo may play them within one second)."""

    def __init__(self) -> None:
        self.last: dt.datetime | None = None

    def tick(self) -> str:
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        if self.last is not None and now <= self.last:
            now = self.last + dt.timedelta(seconds=1)
        self.last = now
        return now.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclasses.dataclass
class Payloads:
    """Real-shaped webhook bodies for one repository of one installation; each method
    returns ``(event_name, payload)`` as ``PayloadBuilder.make_event`` does."""

    owner: str
    repo: str
    installation_id: int
    clock: Clock = dataclasses.field(default_factory=Clock)
    builder: PayloadBuilder = dataclasses.field(default_factory=PayloadBuilder)

    def _event(self, name: str, **options: Any) -> tuple[str, dict[str, Any]]:
        event, payload = self.builder.make_event(
            name,
            repo=f"{self.owner}/{self.repo}",
            installation_id=self.installation_id,
            **options,
        )
        return event, stamp(payload, self.clock.tick())

    def issues_assigned(self, number: int, title: str, assignee: str) -> tuple[str, dict]:
        return self._event(
            "issues.assigned",
            issue_number=number,
            issue_title=title,
            assignee=assignee,
            sender_login=assignee,
        )

    def issues_closed(
        self, number: int, title: str, assignees: tuple[str, ...], by: str
    ) -> tuple[str, dict]:
        event, payload = self._event(
            "issues.closed",
            issue_number=number,
            issue_title=title,
            state_reason="completed",
            sender_login=by,
        )
        payload["issue"]["assignees"] = [self._person(payload, login) for login in assignees]
        payload["issue"]["assignee"] = payload["issue"]["assignees"][0] if assignees else None
        return event, payload

    def pull_request_event(
        self,
        action: str,
        sender: str,
        *,
        number: int,
        body: str,
        head_sha: str,
        author: str,
        draft: bool = False,
        merge_commit_sha: str | None = None,
    ) -> tuple[str, dict]:
        options: dict[str, Any] = {}
        if action == "closed":
            options.update(merged=merge_commit_sha is not None)
        if merge_commit_sha is not None:
            options.update(merge_commit_sha=merge_commit_sha)
        event, payload = self._event(
            f"pull_request.{action}",
            pr_number=number,
            pr_title=PR_TITLE,
            pr_body=body,
            head_sha=head_sha,
            draft=draft,
            sender_login=sender,
            **options,
        )
        self._shape_pull(payload["pull_request"], author)
        return event, payload

    def review_submitted(
        self, state: str, reviewer: str, *, number: int, body: str, head_sha: str, author: str
    ) -> tuple[str, dict]:
        event, payload = self._event(
            "pull_request_review.submitted",
            review_state=state,
            pr_number=number,
            pr_title=PR_TITLE,
            pr_body=body,
            head_sha=head_sha,
            sender_login=reviewer,
        )
        review = payload["review"]
        rename_user(review["user"], reviewer)
        review["body"] = "Looks good!" if state == "approved" else "Please add a test for Safari."
        self._shape_pull(payload["pull_request"], author)
        return event, payload

    def deployment_status_created(
        self, sha: str, deployment_id: int, environment: str = "production"
    ) -> tuple[str, dict]:
        event, payload = self._event(
            "deployment_status.created",
            sha=sha,
            environment=environment,
            production_environment=environment == "production",
            deployment_state="success",
            sender_login="deploy-bot",
        )
        payload["deployment"]["id"] = deployment_id
        payload["deployment_status"]["id"] = deployment_id * 10
        payload["deployment_status"]["description"] = "Deployed by the demo pipeline"
        return event, payload

    @staticmethod
    def _person(payload: dict[str, Any], login: str) -> dict[str, Any]:
        person = copy.deepcopy(payload["sender"])
        rename_user(person, login)
        return person

    @staticmethod
    def _shape_pull(pull: dict[str, Any], author: str) -> None:
        rename_user(pull["user"], author)
        pull["head"]["ref"] = HEAD_REF
