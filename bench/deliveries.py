"""Signed webhook deliveries built from GitHub's real payload examples.

Each kind of event is made once by the payload builder (``bot.sim.payloads``, from the
examples packaged in ``bot/sim/shapes``, copies of ``shared/github-payloads``) with
placeholder numbers, shas and times, encoded, and then specialised per ticket by text
substitution: thousands of realistic 10-25 KB bodies in milliseconds.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from bot.cli.receive import delivery_headers
from bot.sim.payloads import PayloadBuilder, stamp

ISSUE_PH, PR_PH, DEPLOY_PH = "987654", "876543", "765432"
HEAD_PH, MERGE_PH = "beefbeef" * 5, "cafecafe" * 5
TIME_PH = "2099-01-01T00:00:00Z"
INSTALLATION_ID = 1001


def _builder() -> PayloadBuilder:
    return PayloadBuilder()


def headers(event: str, body: bytes, secret: str) -> dict[str, str]:
    """Signed as GitHub signs (``bot.cli.receive.delivery_headers``); no delivery id: a load
    replays bodies, and the journey adds its own."""
    return delivery_headers(event, body, secret, delivery_id=None, agent="GitHub-Hookshot/bench")


@dataclass(frozen=True)
class Template:
    event: str
    text: str


def _template(name: str, repo: str, **options) -> Template:
    event, payload = _builder().make_event(
        name, repo=repo, installation_id=INSTALLATION_ID, **options
    )
    if "deployment" in payload:
        payload["deployment"]["id"] = int(DEPLOY_PH)
    text = json.dumps(stamp(payload, TIME_PH), separators=(",", ":"))
    return Template(event, text)


class JourneyEvents:
    """The five deliveries of one ticket's journey after its issue exists: assigned, PR
    opened, a review, merged, deployed to production."""

    KINDS = ("assigned", "opened", "review", "merged", "deployed")

    def __init__(self, repo: str) -> None:
        fixes = f"Fixes #{ISSUE_PH}"
        pr = dict(pr_number=int(PR_PH), pr_body=fixes)
        self.templates = {
            "assigned": _template("issues.assigned", repo, issue_number=int(ISSUE_PH)),
            "opened": _template("pull_request.opened", repo, draft=False, head_sha=HEAD_PH, **pr),
            "approved": _template(
                "pull_request_review.submitted",
                repo,
                review_state="approved",
                head_sha=HEAD_PH,
                **pr,
            ),
            "changes_requested": _template(
                "pull_request_review.submitted",
                repo,
                review_state="changes_requested",
                head_sha=HEAD_PH,
                **pr,
            ),
            "merged": _template(
                "pull_request.closed",
                repo,
                merged=True,
                merge_commit_sha=MERGE_PH,
                head_sha=HEAD_PH,
                **pr,
            ),
            "deployed": _template(
                "deployment_status.created",
                repo,
                sha=MERGE_PH,
                environment="production",
                deployment_state="success",
            ),
        }

    def body(
        self,
        kind: str,
        *,
        issue: int,
        pr: int,
        head: str,
        merge: str,
        deployment: int,
        at: dt.datetime,
        review: str = "approved",
    ) -> tuple[str, bytes]:
        template = self.templates[review if kind == "review" else kind]
        text = (
            template.text.replace(ISSUE_PH, str(issue))
            .replace(PR_PH, str(pr))
            .replace(HEAD_PH, head)
            .replace(MERGE_PH, merge)
            .replace(DEPLOY_PH, str(deployment))
            .replace(TIME_PH, at.strftime("%Y-%m-%dT%H:%M:%SZ"))
        )
        return template.event, text.encode()


def ack_bodies(repo: str, secret: str) -> list[tuple[str, dict[str, str], bytes]]:
    """A handful of realistic 10-25 KB deliveries (for a repository with no product)."""
    made = []
    for name, options in [
        ("issues.assigned", {}),
        ("issues.labeled", {}),
        ("pull_request.opened", {}),
        ("pull_request_review.submitted", {}),
        ("deployment_status.created", {}),
        ("issues.opened", {}),
    ]:
        event, payload = _builder().make_event(
            name, repo=repo, installation_id=INSTALLATION_ID, **options
        )
        body = json.dumps(payload, separators=(",", ":")).encode()
        if 10_000 <= len(body) <= 25_000:
            made.append(("/webhooks/github", headers(event, body, secret), body))
    if not made:
        raise SystemExit("bench: no 10-25 KB payload among the shared examples")
    return made
