"""Webhook fixtures are real payloads, derived only as the README says, and signed like GitHub."""

from __future__ import annotations

import json

import pytest
from gidgethub import BadRequest, ValidationFailure, sansio
from multidict import CIMultiDict

from tests.payloads import (
    DEFAULT_REPO,
    all_payload_files,
    delivery_headers,
    encode,
    make_event,
    schema_errors,
    sign,
)

SECRET = "webhook-secret-for-tests"
REPO = "acme/Widget"

# Every case the lead's handlers need, with the options that make them interesting.
CASES: list[tuple[str, dict[str, object]]] = [
    ("issues.opened", {}),
    ("issues.assigned", {"assignee": "dev-one"}),
    ("issues.labeled", {"label": "tinydesk"}),
    ("issues.closed", {}),
    ("issues.closed", {"state_reason": "not_planned"}),
    ("issues.reopened", {}),
    ("issue_comment.created", {"issue_number": 12}),
    ("pull_request.opened", {"pr_body": "Fixes #12"}),
    ("pull_request.opened", {"draft": True}),
    ("pull_request.closed", {}),
    ("pull_request.closed", {"merged": True, "merge_commit_sha": "ab" * 20}),
    ("pull_request.edited", {}),
    ("pull_request.edited", {"pr_body": "Closes #3", "previous_body": "WIP"}),
    ("pull_request.ready_for_review", {"draft": False}),
    ("pull_request.converted_to_draft", {}),
    ("pull_request.reopened", {}),
    ("pull_request.synchronize", {"head_sha": "cd" * 20}),
    ("pull_request_review.submitted", {"review_state": "approved"}),
    ("pull_request_review.submitted", {"review_state": "changes_requested"}),
    ("pull_request_review.submitted", {"review_state": "commented"}),
    ("pull_request_review.dismissed", {"review_state": "dismissed"}),
    ("deployment_status.created", {}),
    (
        "deployment_status.created",
        {
            "environment": "staging",
            "deployment_state": "failure",
            "production_environment": False,
            "sha": "ef" * 20,
        },
    ),
    ("deployment.created", {}),
    ("installation.created", {}),
    ("installation.deleted", {}),
    ("installation_repositories.added", {}),
    ("installation_repositories.removed", {}),
    ("push", {}),
    ("ping", {}),
]


@pytest.mark.parametrize(("name", "options"), CASES, ids=lambda v: v if isinstance(v, str) else "")
def test_every_fixture_validates_against_its_schema(name: str, options: dict) -> None:
    event, payload = make_event(
        name, repo=REPO, installation_id=4242, sender_login="someone", **options
    )
    assert event == name.split(".")[0]
    assert schema_errors(event, payload) == []
    if event != "ping":
        assert payload["installation"]["id"] == 4242


def test_defaults_point_at_the_default_repo() -> None:
    _, payload = make_event("issues.opened")
    assert payload["repository"]["full_name"] == DEFAULT_REPO
    assert payload["installation"]["id"] == 1


def test_repo_is_rewritten_everywhere() -> None:
    _, payload = make_event("pull_request.opened", repo=REPO, pr_number=7)
    text = json.dumps(payload)
    assert "Hello-World" not in text
    repository = payload["repository"]
    assert (repository["name"], repository["full_name"], repository["owner"]["login"]) == (
        "Widget",
        "acme/Widget",
        "acme",
    )
    assert repository["html_url"] == "https://github.com/acme/Widget"
    assert repository["url"] == "https://api.github.com/repos/acme/Widget"
    pull = payload["pull_request"]
    assert pull["base"]["repo"]["full_name"] == "acme/Widget"
    assert pull["head"]["repo"]["owner"]["login"] == "acme"
    assert pull["base"]["label"].startswith("acme:")
    assert (payload["number"], pull["number"]) == (7, 7)
    assert pull["html_url"] == "https://github.com/acme/Widget/pull/7"
    assert pull["url"] == "https://api.github.com/repos/acme/Widget/pulls/7"


def test_issue_number_rewrites_urls() -> None:
    _, payload = make_event("issues.assigned", repo=REPO, issue_number=42)
    issue = payload["issue"]
    assert issue["number"] == 42
    assert issue["html_url"] == "https://github.com/acme/Widget/issues/42"
    assert issue["url"] == "https://api.github.com/repos/acme/Widget/issues/42"


def test_number_means_the_pr_for_pull_request_events() -> None:
    _, payload = make_event("pull_request.closed", merged=True, number=7)
    assert payload["pull_request"]["number"] == 7
    assert payload["pull_request"]["merged"] is True
    assert payload["pull_request"]["merged_at"]
    assert payload["pull_request"]["merged_by"]["login"]


def test_closed_issue_is_derived_from_reopened() -> None:
    _, payload = make_event("issues.closed", state_reason="not_planned")
    issue = payload["issue"]
    assert (payload["action"], issue["state"], issue["state_reason"]) == (
        "closed",
        "closed",
        "not_planned",
    )
    assert issue["closed_at"]


def test_edited_pr_carries_the_previous_body() -> None:
    _, payload = make_event("pull_request.edited", pr_body="Fixes #12", previous_body="Draft")
    assert payload["changes"] == {"body": {"from": "Draft"}}
    assert payload["pull_request"]["body"] == "Fixes #12"
    _, default = make_event("pull_request.edited")
    assert "Fixes #1" in default["pull_request"]["body"]


def test_sender_and_review_options() -> None:
    _, payload = make_event(
        "pull_request_review.submitted",
        review_state="approved",
        head_sha="1" * 40,
        sender_login="tinydesk[bot]",
        sender_type="Bot",
    )
    assert payload["review"]["state"] == "approved"
    assert payload["review"]["commit_id"] == "1" * 40
    assert payload["pull_request"]["head"]["sha"] == "1" * 40
    assert (payload["sender"]["login"], payload["sender"]["type"]) == ("tinydesk[bot]", "Bot")


def test_deployment_status_options() -> None:
    _, payload = make_event(
        "deployment_status.created",
        environment="production",
        production_environment=True,
        deployment_state="success",
        sha="2" * 40,
    )
    assert payload["deployment"]["sha"] == "2" * 40
    assert payload["deployment"]["production_environment"] is True
    assert payload["deployment_status"]["state"] == "success"
    assert payload["deployment_status"]["environment"] == "production"


def test_installation_events_name_the_repo() -> None:
    _, created = make_event("installation.created", repo=REPO, installation_id=99)
    assert created["installation"]["id"] == 99
    assert created["installation"]["account"]["login"] == "acme"
    assert [r["full_name"] for r in created["repositories"]] == ["acme/Widget"]
    _, added = make_event("installation_repositories.added", repo=REPO, installation_id=99)
    assert [r["full_name"] for r in added["repositories_added"]] == ["acme/Widget"]


def test_each_call_returns_a_fresh_copy() -> None:
    _, first = make_event("issues.opened", issue_title="changed")
    _, second = make_event("issues.opened")
    assert first["issue"]["title"] == "changed"
    assert second["issue"]["title"] != "changed"


def test_unknown_option_is_an_error() -> None:
    with pytest.raises(TypeError, match="numbr"):
        make_event("issues.opened", numbr=3)


def test_variant_picks_another_file() -> None:
    _, payload = make_event("pull_request.opened", variant="with-null-body")
    assert payload["pull_request"]["body"] is None


def test_signature_is_what_gidgethub_verifies() -> None:
    event_name, payload = make_event("issues.opened")
    body = encode(payload)
    headers = delivery_headers(event_name, body, SECRET, delivery_id="d-1")
    event = sansio.Event.from_http(CIMultiDict(headers), body, secret=SECRET)
    assert (event.event, event.delivery_id, event.data) == ("issues", "d-1", payload)
    sansio.validate_event(body, signature=headers["X-Hub-Signature-256"], secret=SECRET)
    with pytest.raises(ValidationFailure):
        sansio.validate_event(body, signature=sign(body, "wrong"), secret=SECRET)
    assert headers["User-Agent"].startswith("GitHub-Hookshot/")
    assert headers["Content-Type"] == "application/json"


def test_delivery_ids_are_unique() -> None:
    body = b"{}"
    assert (
        delivery_headers("ping", body, SECRET)["X-GitHub-Delivery"]
        != delivery_headers("ping", body, SECRET)["X-GitHub-Delivery"]
    )


def test_all_payload_files_covers_both_folders() -> None:
    files = list(all_payload_files())
    names = {path.name for _, path in files}
    assert len(files) == 102 + 50
    assert "README.md" not in names and "SOURCES.md" not in names
    assert not any("_schemas" in path.parts or "_licenses" in path.parts for _, path in files)
    for event_name, path in files:
        payload = json.loads(path.read_bytes())
        headers = delivery_headers(event_name, path.read_bytes(), SECRET)
        try:
            sansio.Event.from_http(CIMultiDict(headers), path.read_bytes(), secret=SECRET)
        except BadRequest as error:  # pragma: no cover - would mean a broken file
            pytest.fail(f"{path}: {error}")
        assert isinstance(payload, dict)
