"""The webhook receiver and the event handlers, with real payloads signed like GitHub signs them."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.appkeys import DB
from storage.models import Delivery, Product
from tests.conftest import ADMIN_HEADERS
from tests.payloads import all_payload_files, delivery_headers, encode
from tests.world import FULL_NAME, INSTALLATION_ID, OWNER, REPO, WEBHOOK_SECRET
from webhooks import IMPLICIT_EVENTS, SUBSCRIBED_EVENTS, router

ROOT = Path(__file__).resolve().parents[1]


async def stored_deliveries(world) -> int:
    async with world.client.app[DB].session() as session:
        return await session.scalar(select(func.count()).select_from(Delivery))


async def issue_with_ticket(world) -> tuple[dict, int]:
    ticket = await world.submit()
    await world.settle()
    [issue] = world.fake.issues(OWNER, REPO)
    return ticket, issue["number"]


# -- the receiver ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tamper",
    ["no signature", "wrong secret", "body changed", "sha1 only"],
)
async def test_forged_deliveries_are_401_and_leave_no_trace(world, tamper):
    ticket, n = await issue_with_ticket(world)
    event, payload = world.event("issues.closed", issue_number=n, state_reason="not_planned")
    body = encode(payload)
    headers = delivery_headers(event, body, WEBHOOK_SECRET)
    if tamper == "no signature":
        del headers["X-Hub-Signature-256"]
    elif tamper == "wrong secret":
        headers = delivery_headers(event, body, "not-the-secret")
    elif tamper == "body changed":
        body = body.replace(b'"not_planned"', b'"completed"')
    elif tamper == "sha1 only":
        headers["X-Hub-Signature"] = "sha1=" + "0" * 40
        del headers["X-Hub-Signature-256"]
    resp = await world.client.post("/webhooks/github", data=body, headers=headers)
    assert resp.status == 401
    assert (await resp.json())["hint"]
    assert await stored_deliveries(world) == 0
    await world.settle()
    assert await world.stage(ticket["publicId"]) == "ISSUE_CREATED"


async def test_receiver_rejects_malformed_deliveries_with_4xx(world):
    body = b"not json"
    headers = delivery_headers("issues", body, WEBHOOK_SECRET)
    resp = await world.client.post("/webhooks/github", data=body, headers=headers)
    assert resp.status == 400
    body = encode({"action": "opened"})
    headers = delivery_headers("issues", body, WEBHOOK_SECRET)
    del headers["X-GitHub-Delivery"]
    resp = await world.client.post("/webhooks/github", data=body, headers=headers)
    assert resp.status == 400
    assert await stored_deliveries(world) == 0


async def test_webhooks_are_off_without_a_secret(make_client, fake_github):
    from tests.world import github_settings

    client = await make_client(github_settings(fake_github, github_webhook_secret=None))
    body = encode({"zen": "hi"})
    resp = await client.post(
        "/webhooks/github", data=body, headers=delivery_headers("ping", body, "x")
    )
    assert resp.status == 503
    assert "GITHUB_WEBHOOK_SECRET" in (await resp.json())["hint"]


async def test_every_example_and_real_payload_is_handled_without_a_5xx(world):
    """All 152 files of shared/github-payloads and github-payloads-real, posted once each."""
    await issue_with_ticket(world)
    files = list(all_payload_files())
    assert len(files) >= 150
    for event, path in files:
        body = encode(json.loads(path.read_text()))
        resp = await world.post(event, json.loads(body))
        assert resp.status == 202, (path, resp.status, await resp.text())
    await world.settle()
    states = await world.queue_states()
    assert states["deliveries"]["done"] == len(files), states
    assert states["deliveries"]["failed"] == 0


# -- the handlers -------------------------------------------------------------------------


async def test_events_from_other_repositories_move_nothing(world):
    ticket, n = await issue_with_ticket(world)
    await world.deliver("issues.assigned", issue_number=n, repo="someone-else/other-repo")
    await world.deliver(
        "issues.closed", issue_number=n, repo="octo-org/another", state_reason="not_planned"
    )
    await world.settle()
    assert await world.stage(ticket["publicId"]) == "ISSUE_CREATED"


async def test_repository_names_match_case_insensitively(world):
    ticket, n = await issue_with_ticket(world)
    await world.deliver("issues.assigned", issue_number=n, repo="Octo-Org/My-SaaS-App")
    await world.settle()
    assert await world.stage(ticket["publicId"]) == "FIX_IN_PROGRESS"


async def test_reopened_issue_goes_back_to_issue_created(world):
    ticket, n = await issue_with_ticket(world)
    now = dt.datetime.now(dt.UTC)
    await world.deliver(
        "issues.closed",
        at=now + dt.timedelta(minutes=1),
        issue_number=n,
        state_reason="not_planned",
    )
    await world.settle()
    assert await world.stage(ticket["publicId"]) == "CLOSED"
    await world.deliver("issues.reopened", at=now + dt.timedelta(minutes=2), issue_number=n)
    await world.settle()
    view = await world.track(ticket["publicId"])
    assert view["status"] == "ISSUE_CREATED"
    assert view["history"][-1]["description"] == "Issue reopened"
    # A late close from before the reopen changes nothing.
    await world.deliver(
        "issues.closed",
        at=now + dt.timedelta(seconds=90),
        issue_number=n,
        state_reason="not_planned",
    )
    await world.settle()
    assert await world.stage(ticket["publicId"]) == "ISSUE_CREATED"


async def test_draft_pr_means_fix_in_progress_then_ready_means_pr_open(world):
    ticket, n = await issue_with_ticket(world)
    pr = world.fake.add_pull(OWNER, REPO, head_sha="d" * 40, body=f"Resolves #{n}", draft=True)
    await world.deliver("pull_request.opened", pr_number=pr, pr_body=f"Resolves #{n}", draft=True)
    await world.settle()
    assert await world.stage(ticket["publicId"]) == "FIX_IN_PROGRESS"
    await world.deliver(
        "pull_request.ready_for_review", pr_number=pr, pr_body=f"Resolves #{n}", draft=False
    )
    await world.settle()
    assert await world.stage(ticket["publicId"]) == "PR_OPEN"


async def test_pr_edited_to_add_the_reference_links_it(world):
    ticket, n = await issue_with_ticket(world)
    pr = world.fake.add_pull(OWNER, REPO, head_sha="e" * 40, body="WIP")
    await world.deliver("pull_request.opened", pr_number=pr, pr_body="WIP", draft=False)
    await world.settle()
    assert await world.stage(ticket["publicId"]) == "ISSUE_CREATED"
    url = f"https://github.com/{FULL_NAME}/issues/{n}"
    await world.deliver(
        "pull_request.edited", pr_number=pr, pr_body=f"Closes {url}.", previous_body="WIP"
    )
    await world.settle()
    assert await world.stage(ticket["publicId"]) == "PR_OPEN"


async def test_unmerged_close_of_the_only_pr_goes_back_to_fix_in_progress(world):
    ticket, n = await issue_with_ticket(world)
    pr = world.fake.add_pull(OWNER, REPO, head_sha="f" * 40, body=f"fixes #{n}")
    now = dt.datetime.now(dt.UTC)
    await world.deliver(
        "pull_request.opened", at=now + dt.timedelta(minutes=1), pr_number=pr, pr_body=f"fixes #{n}"
    )
    await world.deliver(
        "pull_request.closed",
        at=now + dt.timedelta(minutes=2),
        pr_number=pr,
        pr_body=f"fixes #{n}",
        merged=False,
    )
    await world.settle()
    view = await world.track(ticket["publicId"])
    assert view["status"] == "FIX_IN_PROGRESS"
    assert view["history"][-1]["description"] == f"Pull request #{pr} closed without merging"


async def test_maintainer_label_moves_the_ticket_and_is_removed(world):
    ticket, n = await issue_with_ticket(world)
    world.fake.add_label(OWNER, REPO, "tinydesk:deployed")
    await world.deliver("issues.labeled", issue_number=n, label="tinydesk:deployed")
    await world.settle()
    view = await world.track(ticket["publicId"])
    assert view["status"] == "DEPLOYED"
    assert view["history"][-1]["description"] == "Moved to deployed by a maintainer"
    assert world.fake.count("DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}") == 1


async def test_our_own_label_changes_are_ignored(world):
    ticket, n = await issue_with_ticket(world)
    await world.deliver(
        "issues.labeled",
        issue_number=n,
        label="tinydesk:closed",
        sender_login="tinydesk[bot]",
        sender_type="Bot",
    )
    await world.settle()
    assert await world.stage(ticket["publicId"]) == "ISSUE_CREATED"


async def test_deployments_elsewhere_or_unsuccessful_move_nothing(world):
    ticket, n = await issue_with_ticket(world)
    world.fake.add_commits(OWNER, REPO, ["a" * 40, "b" * 40])
    await world.merge(n, world.add_fix(n), "a" * 40)
    await world.deploy("b" * 40, environment="staging")
    await world.deploy("b" * 40, state="failure")
    await world.settle()
    assert await world.stage(ticket["publicId"]) == "MERGED"
    await world.deploy("b" * 40, environment="eu-live", production_environment=True)
    await world.settle()
    assert await world.stage(ticket["publicId"]) == "DEPLOYED"


async def test_a_deployment_that_does_not_contain_the_merge_moves_nothing(world):
    ticket, n = await issue_with_ticket(world)
    world.fake.add_commits(OWNER, REPO, ["1" * 40, "2" * 40, "3" * 40])
    await world.merge(n, world.add_fix(n), "3" * 40)
    await world.deploy("2" * 40)
    await world.settle()
    assert await world.stage(ticket["publicId"]) == "MERGED"


async def test_merge_delivered_after_its_deployment_still_reaches_deployed(world):
    ticket, n = await issue_with_ticket(world)
    world.fake.add_commits(OWNER, REPO, ["a" * 40, "b" * 40])
    pr = world.add_fix(n)
    await world.deploy("b" * 40)
    await world.settle()
    await world.merge(n, pr, "a" * 40)
    await world.settle()
    assert await world.stage(ticket["publicId"]) == "DEPLOYED"


async def test_a_merge_delivered_late_on_a_busy_product_finds_its_deployment(world):
    """Twelve deployments in the minutes before the merge (more than are checked after a
    merge), then the one that contains it, all delivered before the merge itself."""
    ticket, n = await issue_with_ticket(world)
    merged_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)
    earlier = [f"{k:02d}" * 20 for k in range(1, 13)]
    merge_sha = "f" * 40
    world.fake.add_commits(OWNER, REPO, [*earlier, merge_sha])
    pr = world.add_fix(n)
    for k, sha in enumerate(earlier):
        await world.deploy(sha, at=merged_at - dt.timedelta(seconds=120 - 10 * k))
    await world.deploy(merge_sha, at=merged_at + dt.timedelta(seconds=30))
    await world.settle()
    await world.merge(n, pr, merge_sha, at=merged_at)
    await world.settle()
    assert await world.stage(ticket["publicId"]) == "DEPLOYED"


async def test_merge_and_deployment_times_at_the_ends_of_the_calendar_fail_nothing(world):
    """A payload's year 1 or 9999 (GitHub's clock, or a hostile sender's) with the five
    minutes of slack added or taken: stored and worked, no delivery fails."""
    ticket, n = await issue_with_ticket(world)
    world.fake.add_commits(OWNER, REPO, ["a" * 40])
    await world.deploy("a" * 40, at=dt.datetime(9999, 12, 31, 23, 59, tzinfo=dt.UTC))
    await world.settle()
    await world.merge(n, world.add_fix(n), "a" * 40, at=dt.datetime(1, 1, 1, tzinfo=dt.UTC))
    await world.settle()
    async with world.client.app[DB].session() as session:
        failed = await session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.state == "failed")
        )
        errors = (await session.scalars(select(Delivery.last_error))).all()
    assert failed == 0 and not any(errors), errors
    assert await world.stage(ticket["publicId"]) == "DEPLOYED"


async def test_without_deployment_tracking_merged_then_closed(world):
    async with world.client.app[DB].begin() as session:
        product = await session.scalar(select(Product))
        product.deployment_tracking = False
    ticket, n = await issue_with_ticket(world)
    now = dt.datetime.now(dt.UTC)
    await world.merge(n, world.add_fix(n), "a" * 40, at=now)
    await world.deliver(
        "issues.closed", at=now + dt.timedelta(seconds=1), issue_number=n, state_reason="completed"
    )
    await world.settle()
    history = [h["to"] for h in (await world.track(ticket["publicId"]))["history"]]
    assert history[-2:] == ["MERGED", "CLOSED"] and "DEPLOYED" not in history


async def test_duplicate_tickets_on_one_issue_move_together(world):
    first, n = await issue_with_ticket(world)
    second = await world.submit(subject="Same problem, reported again")
    resp = await world.client.post(
        f"/api/admin/tickets/{second['publicId']}/link", json={"issue": n}, headers=ADMIN_HEADERS
    )
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["status"] == "ISSUE_CREATED"
    await world.deliver("issues.assigned", issue_number=n)
    await world.settle()
    assert await world.stage(first["publicId"]) == "FIX_IN_PROGRESS"
    assert await world.stage(second["publicId"]) == "FIX_IN_PROGRESS"
    assert len(world.fake.issues(OWNER, REPO)) == 1  # the linked ticket opened no issue of its own
    [status] = world.status_comments(n)
    assert first["publicId"] in status["body"] and second["publicId"] in status["body"]


async def test_installation_events_keep_the_product_current(world):
    async def installation_id():
        async with world.client.app[DB].session() as session:
            return (await session.scalar(select(Product))).installation_id

    await world.deliver("installation.deleted", installation_id=INSTALLATION_ID)
    await world.settle()
    assert await installation_id() is None
    _, payload = world.event("installation.created", installation_id=4242)
    payload["repositories"] = [{"id": 1, "name": REPO, "full_name": FULL_NAME, "private": False}]
    resp = await world.post("installation", payload)
    assert resp.status == 202
    await world.settle()
    assert await installation_id() == 4242
    _, payload = world.event("installation_repositories.removed", installation_id=4242)
    payload["repositories_removed"] = [{"id": 1, "name": REPO, "full_name": FULL_NAME}]
    payload["repositories_added"] = []
    await world.post("installation_repositories", payload)
    await world.settle()
    assert await installation_id() is None


async def test_failed_deliveries_are_listed_and_replayed(world, monkeypatch):
    from webhooks import issues as issue_handlers

    ticket, n = await issue_with_ticket(world)

    async def broken(*args, **kwargs):
        raise ValueError("simulated handler bug")

    monkeypatch.setattr(issue_handlers, "_follow", broken)
    await world.deliver("issues.assigned", issue_number=n)
    await world.settle()
    resp = await world.client.get("/api/admin/deliveries?state=failed", headers=ADMIN_HEADERS)
    [failed] = (await resp.json())["deliveries"]
    assert failed["event"] == "issues" and failed["action"] == "assigned"
    assert "simulated handler bug" in failed["lastError"]
    monkeypatch.undo()
    resp = await world.client.post(
        f"/api/admin/deliveries/{failed['id']}/replay", headers=ADMIN_HEADERS
    )
    assert resp.status == 202
    await world.settle()
    assert await world.stage(ticket["publicId"]) == "FIX_IN_PROGRESS"
    again = await world.client.post(
        f"/api/admin/deliveries/{failed['id']}/replay", headers=ADMIN_HEADERS
    )
    assert again.status == 409
    bad = await world.client.get("/api/admin/deliveries?state=nope", headers=ADMIN_HEADERS)
    assert bad.status == 400


def test_app_manifest_subscribes_to_exactly_the_handled_events():
    manifest = (ROOT / "app.yml").read_text()
    block = manifest.split("default_events:", 1)[1]
    subscribed = set(re.findall(r"^[ \t]+-[ \t]+(\S+)", block, re.MULTILINE))
    # gidgethub keeps handlers without an action in _shallow_routes, with one in _deep_routes.
    handled = set(router._shallow_routes) | set(router._deep_routes)
    assert subscribed == set(SUBSCRIBED_EVENTS)
    assert handled == set(SUBSCRIBED_EVENTS) | (set(IMPLICIT_EVENTS) - {"ping"})
    assert "url:" in manifest and "/webhooks/github" in manifest


async def test_receive_command_signs_and_posts_a_payload_file(world, tmp_path):
    import asyncio

    from bot.cli import main

    ticket, n = await issue_with_ticket(world)
    _, payload = world.event("issues.assigned", issue_number=n)
    path = tmp_path / "assigned.json"
    path.write_text(json.dumps(payload))
    url = str(world.client.make_url("/webhooks/github"))
    code = await asyncio.to_thread(
        main,
        ["receive", "issues", str(path), "--url", url],
        {"GITHUB_WEBHOOK_SECRET": WEBHOOK_SECRET},
    )
    assert code == 0
    await world.settle()
    assert await world.stage(ticket["publicId"]) == "FIX_IN_PROGRESS"
    wrong = {"GITHUB_WEBHOOK_SECRET": "the-wrong-webhook-secret"}
    code = await asyncio.to_thread(main, ["receive", "issues", str(path), "--url", url], wrong)
    assert code == 1


# -- GitHub's clock, not ours (issue 12, item 7) ---------------------------------------------


async def test_issue_created_is_dated_by_githubs_answer_and_a_close_in_the_same_second_counts(
    world,
):
    """ISSUE_CREATED carries the issue's ``created_at`` from GitHub's answer; an issue closed
    within a second of its creation (before TinyDesk's clock says the link happened) closes."""
    ticket, n = await issue_with_ticket(world)
    [issue] = world.fake.issues(OWNER, REPO)
    created = dt.datetime.fromisoformat(issue["created_at"].replace("Z", "+00:00"))
    view = await world.track(ticket["publicId"])
    [step] = [s for s in view["history"] if s["to"] == "ISSUE_CREATED"]
    assert dt.datetime.fromisoformat(step["at"].replace("Z", "+00:00")) == created

    await world.deliver(
        "issues.closed", issue_number=n, state_reason="not_planned", at=created
    )
    await world.settle()
    assert await world.stage(ticket["publicId"]) == "CLOSED"
