"""The one builder of GitHub webhook bodies: real octokit examples, derived and re-pointed.

``PayloadBuilder().make_event("pull_request.closed", merged=True, pr_number=7,
repo="octo-org/my-saas-app")`` loads the example for the event, deep-copies it, derives the
cases the examples lack (as ``shared/github-payloads/README.md`` describes) and points it at
the caller's repository, installation, numbers and people.

The examples come from a folder laid out as ``<event>/<action>[.<variant>].payload.json``:
by default ``bot/sim/shapes`` (the few the demo and the benchmark play, packaged so that an
installed ``tinydesk demo`` needs no checkout); tests pass the full ``shared/github-payloads``.
"""

from __future__ import annotations

import copy
import functools
import itertools
import json
import re
from pathlib import Path
from typing import Any

SHAPES = Path(__file__).resolve().parent / "shapes"
DEFAULT_REPO = "octo-org/my-saas-app"
DEFAULT_INSTALLATION_ID = 1
EVENTS_WITHOUT_ACTION = {"push", "ping"}
# Files named without the action: the action is then the only one the event has.
SINGLE_ACTION_EVENTS = {"deployment": "created", "deployment_status": "created"}
MERGED_AT = "2019-05-15T15:30:00Z"
CLOSED_AT = "2019-05-15T15:30:00Z"
# The time fields of the objects a delivery carries (``stamp`` sets them).
TIME_FIELDS = ("created_at", "updated_at", "submitted_at", "closed_at", "merged_at")
STAMPED = ("issue", "pull_request", "review", "deployment_status", "deployment", "comment")


class PayloadBuilder:
    """Builds deliveries from the example files of ``folder`` (see the module docstring)."""

    def __init__(self, folder: Path = SHAPES) -> None:
        self.folder = folder

    def file(self, event: str, action: str | None, variant: str | None = None) -> Path:
        """The example for an event/action: the ``.with-installation`` one when there is one."""
        folder = self.folder / event
        stems = [variant] if variant else ["with-installation", None]
        if action is None or SINGLE_ACTION_EVENTS.get(event) == action:
            candidates = [
                folder / (f"{stem}.payload.json" if stem else "payload.json") for stem in stems
            ]
        else:
            candidates = [
                folder / (f"{action}.{stem}.payload.json" if stem else f"{action}.payload.json")
                for stem in stems
            ]
            if variant:
                candidates.append(folder / f"{action}.{variant}.json")
        for candidate in candidates:
            if candidate.is_file():
                return candidate
        raise FileNotFoundError(
            f"no example for {event}.{action} ({variant or 'default'}) in {folder}"
        )

    @staticmethod
    def load(path: Path) -> dict[str, Any]:
        """A fresh copy of a payload file."""
        return copy.deepcopy(_read(path))

    def make_event(
        self, name: str, *, variant: str | None = None, **overrides: Any
    ) -> tuple[str, dict[str, Any]]:
        """Build a delivery body from the real example for ``name`` (``"<event>.<action>"``).

        Keyword options (all optional): ``repo``, ``installation_id``, ``issue_number`` /
        ``pr_number`` (or ``number`` for whichever the event carries), ``issue_title``,
        ``issue_body``, ``pr_title``, ``pr_body``, ``previous_body``, ``draft``, ``merged``,
        ``merge_commit_sha``, ``head_sha``, ``review_state``, ``state_reason``, ``environment``,
        ``production_environment``, ``deployment_state``, ``sha``, ``sender_login``,
        ``sender_type``, ``assignee``, ``label``. ``variant`` picks another example file
        (``"with-organization"``, ``"with-null-body"`` …). Returns ``(event_name, payload)``.
        """
        event, _, action = name.partition(".")
        action_or_none = action or None
        source_action = {
            ("issues", "closed"): "reopened",
            ("pull_request", "edited"): "opened",
        }.get((event, action), action_or_none)
        payload = self.load(self.file(event, source_action, variant))
        unknown = set(overrides) - _OPTIONS
        if unknown:
            raise TypeError(f"make_event() got unknown options: {sorted(unknown)}")
        if "number" in overrides:
            key = "issue_number" if event in ("issues", "issue_comment") else "pr_number"
            overrides.setdefault(key, overrides.pop("number"))

        _derive(event, action, payload, overrides)
        _point_at_repo(payload, overrides.get("repo", DEFAULT_REPO))
        _set_installation(event, payload, overrides)
        _set_numbers(payload, overrides)
        _set_issue(payload, overrides)
        _set_pull(payload, overrides)
        _set_review(payload, overrides)
        _set_deployment(payload, overrides)
        _set_sender(payload, overrides)
        return event, payload


_REVIEW_IDS = itertools.count(80_000_001)

_OPTIONS = {
    "repo",
    "installation_id",
    "issue_number",
    "pr_number",
    "number",
    "issue_title",
    "issue_body",
    "pr_title",
    "pr_body",
    "previous_body",
    "draft",
    "merged",
    "merge_commit_sha",
    "head_sha",
    "review_state",
    "review_id",
    "state_reason",
    "environment",
    "production_environment",
    "deployment_state",
    "sha",
    "sender_login",
    "sender_type",
    "assignee",
    "label",
}


def _derive(event: str, action: str, payload: dict[str, Any], options: dict[str, Any]) -> None:
    """The cases with no example, made as github-payloads/README.md says."""
    if (event, action) == ("issues", "closed"):
        payload["action"] = "closed"
        issue = payload["issue"]
        issue.update(
            state="closed",
            closed_at=CLOSED_AT,
            state_reason=options.get("state_reason", "completed"),
        )
    if (event, action) == ("pull_request", "edited"):
        payload["action"] = "edited"
        pull = payload["pull_request"]
        previous = options.get("previous_body", pull.get("body") or "")
        payload["changes"] = {"body": {"from": previous}}
        if "pr_body" not in options:
            pull["body"] = f"{previous}\r\n\r\nFixes #1".lstrip()
    if event == "pull_request" and action == "closed" and options.get("merged"):
        pull = payload["pull_request"]
        pull.update(
            merged=True,
            merged_at=MERGED_AT,
            merged_by=copy.deepcopy(payload["sender"]),
            merge_commit_sha=options.get("merge_commit_sha")
            or pull.get("merge_commit_sha")
            or "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432",
            mergeable=None,
            state="closed",
            closed_at=pull.get("closed_at") or MERGED_AT,
        )


def _point_at_repo(payload: dict[str, Any], full_name: str) -> None:
    """Rewrite every mention of the example's repository to ``full_name`` (URLs included)."""
    repository = payload.get("repository")
    old = repository["full_name"] if repository else None
    if old is None and payload.get("repositories_added"):
        old = payload["repositories_added"][0]["full_name"]
    if old is None and payload.get("repositories"):
        old = payload["repositories"][0]["full_name"]
    if old is None:
        return
    owner, name = full_name.split("/")
    old_owner = old.split("/")[0]

    def rewrite(value: Any) -> Any:
        if isinstance(value, dict):
            rewritten = {key: rewrite(item) for key, item in value.items()}
            if rewritten.get("full_name") == full_name:
                rewritten["name"] = name
                if isinstance(rewritten.get("owner"), dict):
                    rename_user(rewritten["owner"], owner)
            if isinstance(rewritten.get("label"), str) and rewritten.get("ref"):
                rewritten["label"] = re.sub(
                    rf"^{re.escape(old_owner)}:", f"{owner}:", rewritten["label"]
                )
            return rewritten
        if isinstance(value, list):
            return [rewrite(item) for item in value]
        if isinstance(value, str):
            return value.replace(old, full_name)
        return value

    payload.update(rewrite(payload))


def rename_user(user: dict[str, Any], login: str) -> None:
    old = user.get("login")
    user["login"] = login
    for key, value in list(user.items()):
        if isinstance(value, str) and old and key.endswith("url") and key != "avatar_url":
            user[key] = re.sub(rf"/{re.escape(old)}(?=/|{{|$)", f"/{login}", value)


def _set_installation(event: str, payload: dict[str, Any], options: dict[str, Any]) -> None:
    if event == "ping":  # an App's ping names the hook's app_id, never an installation
        return
    installation = payload.setdefault(
        "installation",
        {"id": DEFAULT_INSTALLATION_ID, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ=="},
    )
    if "installation_id" in options:
        installation["id"] = options["installation_id"]
        if "html_url" in installation:
            installation["html_url"] = re.sub(
                r"/\d+$", f"/{options['installation_id']}", installation["html_url"]
            )
    if event not in ("installation", "installation_repositories"):
        return
    full_name = options.get("repo", DEFAULT_REPO)
    owner, name = full_name.split("/")
    rename_user(installation["account"], owner)
    for key in ("repositories", "repositories_added"):
        for repository in payload.get(key) or []:
            repository.update(name=name, full_name=full_name)


def _renumber(value: Any, old: int, new: int) -> Any:
    """Replace ``/issues/<old>``, ``/pull/<old>``, ``/pulls/<old>`` in every URL of ``value``."""
    pattern = re.compile(rf"/(issues|pull|pulls)/{old}(?![0-9])")
    if isinstance(value, dict):
        return {key: _renumber(item, old, new) for key, item in value.items()}
    if isinstance(value, list):
        return [_renumber(item, old, new) for item in value]
    if isinstance(value, str):
        return pattern.sub(rf"/\g<1>/{new}", value)
    return value


def _set_numbers(payload: dict[str, Any], options: dict[str, Any]) -> None:
    for key, option in (("issue", "issue_number"), ("pull_request", "pr_number")):
        if option in options and key in payload:
            old, new = payload[key]["number"], options[option]
            payload.update(_renumber(payload, old, new))
            payload[key]["number"] = new
            if key == "pull_request" and "number" in payload:
                payload["number"] = new


def _set_issue(payload: dict[str, Any], options: dict[str, Any]) -> None:
    issue = payload.get("issue")
    if issue is None:
        return
    if "issue_title" in options:
        issue["title"] = options["issue_title"]
    if "issue_body" in options:
        issue["body"] = options["issue_body"]
    if "state_reason" in options:
        issue["state_reason"] = options["state_reason"]
    if "assignee" in options and "assignee" in payload:
        user = payload["assignee"]
        rename_user(user, options["assignee"])
        issue["assignee"] = copy.deepcopy(user)
        issue["assignees"] = [copy.deepcopy(user)]
    if "label" in options and "label" in payload:
        payload["label"]["name"] = options["label"]
        issue["labels"] = [
            *[lb for lb in issue["labels"] if lb["name"] != options["label"]],
            copy.deepcopy(payload["label"]),
        ]


def _set_pull(payload: dict[str, Any], options: dict[str, Any]) -> None:
    pull = payload.get("pull_request")
    if pull is None:
        return
    for option, key in (
        ("pr_title", "title"),
        ("pr_body", "body"),
        ("draft", "draft"),
        ("merge_commit_sha", "merge_commit_sha"),
    ):
        if option in options:
            pull[key] = options[option]
    if "merged" in options and not options["merged"] and "merged" in pull:
        pull.update(merged=False, merged_at=None, merged_by=None)
    if "head_sha" in options:
        old = pull["head"]["sha"]
        pull["head"]["sha"] = options["head_sha"]
        for link in ("statuses_url",):
            if link in pull:
                pull[link] = pull[link].replace(old, options["head_sha"])
        if "statuses" in pull.get("_links", {}):
            pull["_links"]["statuses"]["href"] = pull["_links"]["statuses"]["href"].replace(
                old, options["head_sha"]
            )
        review = payload.get("review")
        if review is not None:
            review["commit_id"] = options["head_sha"]
    if "label" in options and "label" in payload:
        payload["label"]["name"] = options["label"]
    if "assignee" in options and "assignee" in payload:
        rename_user(payload["assignee"], options["assignee"])


def _set_review(payload: dict[str, Any], options: dict[str, Any]) -> None:
    review = payload.get("review")
    if review is None:
        return
    # Every review on GitHub has an id of its own (the example's would make all one review).
    review["id"] = options.get("review_id") or next(_REVIEW_IDS)
    if "review_state" in options:
        review["state"] = options["review_state"]


def _set_deployment(payload: dict[str, Any], options: dict[str, Any]) -> None:
    deployment = payload.get("deployment")
    if deployment is None:
        return
    status = payload.get("deployment_status")
    if "environment" in options:
        deployment["environment"] = options["environment"]
        deployment["original_environment"] = options["environment"]
        if status is not None:
            status["environment"] = options["environment"]
    if "production_environment" in options:
        deployment["production_environment"] = options["production_environment"]
    if "deployment_state" in options and status is not None:
        status["state"] = options["deployment_state"]
    if "sha" in options:
        deployment["sha"] = options["sha"]


def _set_sender(payload: dict[str, Any], options: dict[str, Any]) -> None:
    sender = payload.get("sender")
    if sender is None:
        return
    if "sender_login" in options:
        rename_user(sender, options["sender_login"])
    if "sender_type" in options:
        sender["type"] = options["sender_type"]


@functools.cache
def _read(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def stamp(payload: dict[str, Any], iso: str) -> dict[str, Any]:
    """Give the event's objects the time ``iso`` (the examples carry times from years ago)."""
    for key in STAMPED:
        obj = payload.get(key)
        if isinstance(obj, dict):
            for field in TIME_FIELDS:
                if obj.get(field) is not None:
                    obj[field] = iso
    return payload


def encode(payload: dict[str, Any]) -> bytes:
    """The body bytes of a delivery (compact JSON, as GitHub sends it)."""
    return json.dumps(payload, separators=(",", ":")).encode()
