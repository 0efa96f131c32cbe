"""Realistic GitHub journeys for several tickets on one repository, as Hypothesis strategies,
made into signed-delivery scripts against the fake GitHub (issue 12's order-independence test).

Two layers:

- ``journeys()`` draws a ``Journey``: a number of tickets and a list of ``Step``s, each valid
  for the repository's state at that moment (a simulated GitHub: who is assigned, each pull
  request's state, draft flag and reviews, main's merge commits). Steps: assignment, draft and
  ready PRs (``Fixes #N``), marked ready and converted back to draft, review rounds by one or
  two reviewers (changes requested / approved), new commits (``synchronize``), dismissals,
  unmerged closes and PR reopens, superseding PRs (a second PR while the first is open), a PR
  that fixes two tickets' issues, merges followed by GitHub's automatic issue close a second
  later, production deployments of main's tip, won't-fix closes (``not_planned``), closes as
  completed without a fix, reopened regressions (and their second fix). Journeys shrink
  towards fewer, earlier steps.
- ``materialize`` turns a journey into a ``Script`` for a repository whose ticket issues exist
  on the fake GitHub: it opens the pull requests and commits there (so the compare API answers
  ahead / behind / identical for main's linear history) and builds each delivery's payload from
  GitHub's real examples, every object as of that moment (the issue's ``state``,
  ``state_reason`` and ``assignees``; the PR's ``state``, ``draft``, ``merged``,
  ``merge_commit_sha``, head; reviews with their ``submitted_at``), stamped with GitHub times
  that strictly increase along the script (one second apart; the automatic close exactly one
  second after its merge).

``Script.describe()`` prints the journey readably (one line per delivery, GitHub's order).
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

from bot.sim.payloads import rename_user
from tests.payloads import make_event

DEVELOPERS = ("dev-ana", "dev-bo")
REVIEWERS = ("rev-kim", "rev-lee")
MAINTAINER = "maint-max"
DEPLOYER = "deploy-bot"
ENVIRONMENT = "production"
# How often each kind of step is chosen, relative to the others, when it is possible.
WEIGHTS = {
    "assign": 1,  # per developer
    "open_pr": 1,  # draft or ready
    "ready": 4,
    "to_draft": 1,
    "review": 2,  # per reviewer and verdict: 8 in all on a ready PR
    "dismiss": 2,
    "push": 2,
    "close_pr": 1,
    "reopen_pr": 2,
    "merge": 5,
    "deploy": 6,
    "close_issue": 1,
    "reopen_issue": 1,
}
MAX_OPEN_PRS = 2  # a second PR may supersede the first while it is still open


# --------------------------------------------------------------------------- the plan


@dataclasses.dataclass(frozen=True)
class Step:
    """One thing a person does on GitHub. ``ticket`` is the index of the ticket's issue,
    ``pr`` the index of a pull request in the order they were opened."""

    kind: str
    ticket: int | None = None
    pr: int | None = None
    who: str | None = None
    draft: bool = False
    review: str | None = None  # "approved" / "changes_requested"
    reason: str | None = None  # issue close: "completed" / "not_planned"
    also: int | None = None  # open_pr: a second ticket's issue the PR fixes too

    def __str__(self) -> str:
        where = f"T{self.ticket}" if self.ticket is not None else ""
        if self.also is not None:
            where += f"+T{self.also}"
        if self.pr is not None:
            where += f" PR{self.pr}"
        extra = [
            x
            for x in (
                self.who,
                "draft" if self.draft else None,
                self.review,
                self.reason,
            )
            if x
        ]
        return " ".join([self.kind, where.strip(), *extra]).strip()


@dataclasses.dataclass
class _Pull:
    tickets: tuple[int, ...]
    state: str = "open"  # open / closed / merged
    draft: bool = False
    reviews: dict[str, str] = dataclasses.field(default_factory=dict)  # latest per reviewer


@dataclasses.dataclass
class _Issue:
    state: str = "open"
    reason: str | None = None
    assignees: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class _Repo:
    """The simulated GitHub the plan is drawn against (which steps are possible now)."""

    issues: list[_Issue]
    pulls: list[_Pull] = dataclasses.field(default_factory=list)
    merges_not_deployed: int = 0
    deliveries: int = 0

    def weighted(self) -> list[Step]:
        """``possible()``, each step repeated by how often people do it: work moves on more
        often than it is thrown away (a draw from this list is a weighted choice)."""
        return [step for step in self.possible() for _ in range(WEIGHTS[step.kind])]

    def possible(self) -> list[Step]:
        steps: list[Step] = []
        for i, issue in enumerate(self.issues):
            open_pulls = [p for p in self.pulls if i in p.tickets and p.state == "open"]
            if issue.state == "open":
                steps += [Step("assign", i, who=d) for d in DEVELOPERS if d not in issue.assignees]
                if len(open_pulls) < MAX_OPEN_PRS:
                    steps += [Step("open_pr", i, draft=True), Step("open_pr", i, draft=False)]
                    if i + 1 < len(self.issues) and self._can_take_a_pr(i + 1):
                        steps.append(Step("open_pr", i, also=i + 1))  # fixes two issues
                steps.append(Step("close_issue", i, reason="not_planned"))
                if not open_pulls:
                    steps.append(Step("close_issue", i, reason="completed"))
            else:
                steps.append(Step("reopen_issue", i))
        for k, pull in enumerate(self.pulls):
            issue_open = any(self.issues[t].state == "open" for t in pull.tickets)
            t = pull.tickets[0]
            if pull.state == "open":
                if pull.draft:
                    steps.append(Step("ready", t, k))
                else:
                    for reviewer in REVIEWERS:
                        steps += [
                            Step("review", t, k, who=reviewer, review="changes_requested"),
                            Step("review", t, k, who=reviewer, review="approved"),
                        ]
                        if pull.reviews.get(reviewer) in ("changes_requested", "approved"):
                            steps.append(Step("dismiss", t, k, who=reviewer))
                    steps.append(Step("merge", t, k, who=MAINTAINER))
                    steps.append(Step("to_draft", t, k))
                steps += [Step("push", t, k), Step("close_pr", t, k)]
            elif pull.state == "closed" and issue_open:
                steps.append(Step("reopen_pr", t, k))
        if self.merges_not_deployed:
            steps.append(Step("deploy"))
        return steps

    def _can_take_a_pr(self, i: int) -> bool:
        open_pulls = [p for p in self.pulls if i in p.tickets and p.state == "open"]
        return self.issues[i].state == "open" and len(open_pulls) < MAX_OPEN_PRS

    def apply(self, step: Step) -> None:
        issue = self.issues[step.ticket] if step.ticket is not None else None
        pull = self.pulls[step.pr] if step.pr is not None else None
        self.deliveries += 1
        match step.kind:
            case "assign":
                assert issue is not None and step.who
                issue.assignees.append(step.who)
            case "open_pr":
                assert step.ticket is not None
                also = () if step.also is None else (step.also,)
                self.pulls.append(_Pull((step.ticket, *also), draft=step.draft))
            case "ready":
                assert pull is not None
                pull.draft = False
            case "to_draft":
                assert pull is not None
                pull.draft = True
            case "review":
                assert pull is not None and step.who and step.review
                pull.reviews[step.who] = step.review
            case "dismiss":
                assert pull is not None and step.who
                pull.reviews[step.who] = "dismissed"
            case "push":
                pass
            case "close_pr":
                assert pull is not None
                pull.state = "closed"
            case "reopen_pr":
                assert pull is not None
                pull.state = "open"
            case "merge":
                assert pull is not None
                pull.state = "merged"
                self.merges_not_deployed += 1
                for fixed in pull.tickets:  # GitHub closes the issues the PR fixes
                    if self.issues[fixed].state == "open":
                        self.issues[fixed].state, self.issues[fixed].reason = "closed", "completed"
                        self.deliveries += 1
            case "deploy":
                self.merges_not_deployed = 0
            case "close_issue":
                assert issue is not None
                issue.state, issue.reason = "closed", step.reason
            case "reopen_issue":
                assert issue is not None
                issue.state, issue.reason = "open", "reopened"
            case _:
                raise ValueError(step.kind)


@dataclasses.dataclass(frozen=True)
class Journey:
    tickets: int
    steps: tuple[Step, ...]
    deliveries: int  # how many the script has: a step each, plus GitHub's automatic closes

    def __str__(self) -> str:
        return f"{self.tickets} ticket(s): " + "; ".join(map(str, self.steps))

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """How Hypothesis shows a falsifying journey: one readable line, not every field."""
        printer.text(str(self))


def replay(tickets: int, steps: Sequence[Step]) -> Journey:
    """A hand-written journey, checked step by step as ``journeys()`` draws them."""
    repo = _Repo([_Issue() for _ in range(tickets)])
    for step in steps:
        if step not in repo.possible():
            raise ValueError(f"{step} is not possible here")
        repo.apply(step)
    return Journey(tickets, tuple(steps), repo.deliveries)


def journey_from_choices(tickets: int, choices: Sequence[int]) -> Journey:
    """The journey whose n-th step is choice n among the steps possible then (weighted)."""
    repo = _Repo([_Issue() for _ in range(tickets)])
    steps: list[Step] = []
    for choice in choices:
        possible = repo.weighted()
        step = possible[choice % len(possible)]
        repo.apply(step)
        steps.append(step)
    return Journey(tickets, tuple(steps), repo.deliveries)


def journeys(*, max_tickets: int = 3, max_steps: int = 24) -> st.SearchStrategy[Journey]:
    """Random journeys of 1 to ``max_tickets`` tickets and up to ``max_steps`` steps. Each
    step is an independent choice (taken modulo the steps possible at that point), so a
    failing journey shrinks well: a step deleted leaves the later ones valid."""
    return st.builds(
        journey_from_choices,
        st.integers(1, max_tickets),
        st.lists(st.integers(0, 2**16), min_size=1, max_size=max_steps),
    )


# --------------------------------------------------------------------------- the script


@dataclasses.dataclass(frozen=True)
class Delivery:
    """A webhook delivery of the script: GitHub's time, event, body, a readable label."""

    index: int
    at: dt.datetime
    event: str
    payload: dict[str, Any]
    label: str


@dataclasses.dataclass
class Script:
    deliveries: list[Delivery]

    def describe(self, order: Sequence[int] | None = None) -> str:
        """One line per delivery (``order``: indexes into the script, as delivered)."""
        items = [self.deliveries[i] for i in order] if order is not None else self.deliveries
        return "\n".join(
            f"  {d.index:>3} {d.at.strftime('%H:%M:%S')} {d.label}" for d in items
        )


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sha(*parts: object) -> str:
    return hashlib.sha1("/".join(map(str, parts)).encode()).hexdigest()


def _person(template: dict[str, Any], login: str) -> dict[str, Any]:
    person = copy.deepcopy(template)
    rename_user(person, login)
    person["type"] = "Bot" if login.endswith("[bot]") else "User"
    return person


@dataclasses.dataclass
class _PullFacts:
    number: int
    tickets: tuple[int, ...]
    created_at: str
    head: str
    draft: bool
    state: str = "open"
    closed_at: str | None = None
    merged_at: str | None = None
    merge_sha: str | None = None
    reviews: dict[str, tuple[int, str, str, str]] = dataclasses.field(default_factory=dict)
    # reviewer -> (review id, state, submitted_at, commit id)


@dataclasses.dataclass
class _IssueFacts:
    number: int
    created_at: str
    title: str
    state: str = "open"
    reason: str | None = None
    closed_at: str | None = None
    assignees: list[str] = dataclasses.field(default_factory=list)


class _Writer:
    """Builds the deliveries of a journey and keeps the fake GitHub in step with them."""

    def __init__(
        self,
        fake: Any,
        owner: str,
        repo: str,
        installation_id: int,
        issues: Sequence[dict[str, Any]],
        start: dt.datetime,
        salt: str,
    ) -> None:
        self.fake, self.owner, self.repo = fake, owner, repo
        self.full_name = f"{owner}/{repo}"
        self.installation_id = installation_id
        self.issues = [
            _IssueFacts(i["number"], i["created_at"], i["title"]) for i in issues
        ]
        self.pulls: list[_PullFacts] = []
        self.clock = start
        self.salt = salt
        self.deliveries: list[Delivery] = []
        self.deployments = 0
        self.reviews = 0
        self.commits = 0
        self.main_tip: str | None = None

    # -- helpers

    def tick(self) -> str:
        self.clock += dt.timedelta(seconds=1)
        return _iso(self.clock)

    def commit(self, kind: str) -> str:
        self.commits += 1
        return _sha(self.salt, kind, self.commits)

    def event(self, name: str, **options: Any) -> tuple[str, dict[str, Any]]:
        return make_event(
            name, repo=self.full_name, installation_id=self.installation_id, **options
        )

    def add(self, at: str, event: str, payload: dict[str, Any], label: str) -> None:
        moment = dt.datetime.fromisoformat(at.replace("Z", "+00:00"))
        self.deliveries.append(Delivery(len(self.deliveries), moment, event, payload, label))

    def issue_view(self, payload: dict[str, Any], facts: _IssueFacts, at: str) -> None:
        issue = payload["issue"]
        people = [_person(payload["sender"], login) for login in facts.assignees]
        issue.update(
            title=facts.title,
            state=facts.state,
            state_reason=facts.reason,
            assignees=people,
            assignee=people[0] if people else None,
            created_at=facts.created_at,
            updated_at=at,
            closed_at=facts.closed_at,
        )

    def fixes(self, tickets: Sequence[int]) -> str:
        return "\r\n".join(f"Fixes #{self.issues[t].number}" for t in tickets)

    def pull_view(self, payload: dict[str, Any], facts: _PullFacts, at: str) -> None:
        pr = payload["pull_request"]
        issue = self.issues[facts.tickets[0]]
        if "merged" in pr:  # a review's pull request is the short form, without it
            pr["merged"] = facts.state == "merged"
        pr.update(
            title=f"Fix: {issue.title}",
            body=self.fixes(facts.tickets),
            state="open" if facts.state == "open" else "closed",
            draft=facts.draft,
            merged_at=facts.merged_at,
            closed_at=facts.closed_at,
            # GitHub's test merge for an open PR; the real one once merged.
            merge_commit_sha=facts.merge_sha or _sha(self.salt, "test-merge", facts.number, at),
            created_at=facts.created_at,
            updated_at=at,
        )
        pr["head"]["sha"] = facts.head
        pr["head"]["ref"] = f"fix-{issue.number}-{facts.number}"
        if facts.state == "merged":
            pr["merged_by"] = _person(payload["sender"], MAINTAINER)
        elif "merged_by" in pr:
            pr["merged_by"] = None

    # -- steps

    def issue_event(self, action: str, step: Step, sender: str, note: str = "") -> None:
        facts = self.issues[step.ticket or 0]
        at = self.tick()
        options: dict[str, Any] = {"issue_number": facts.number, "sender_login": sender}
        if action == "assigned":
            assert step.who
            facts.assignees.append(step.who)
            options["assignee"] = step.who
        elif action == "closed":
            facts.state, facts.reason, facts.closed_at = "closed", step.reason, at
            options["state_reason"] = step.reason
            self.fake.close_issue(self.owner, self.repo, facts.number, step.reason or "completed")
        elif action == "reopened":
            facts.state, facts.reason, facts.closed_at = "open", "reopened", None
            self.fake.reopen_issue(self.owner, self.repo, facts.number)
        event, payload = self.event(f"issues.{action}", **options)
        self.issue_view(payload, facts, at)
        if action == "assigned":
            self.fake.assign_issue(self.owner, self.repo, facts.number, step.who)
        label = f"issues.{action:<8} #{facts.number}"
        if action == "assigned":
            label += f" {step.who}"
        if action == "closed":
            label += f" ({step.reason})"
        self.add(at, event, payload, label + note)

    def pull_event(
        self,
        action: str,
        facts: _PullFacts,
        sender: str,
        extra: str = "",
        *,
        before: str | None = None,
    ) -> None:
        at = self.tick()
        if action == "closed":
            facts.closed_at = at
            if facts.state == "merged":
                facts.merged_at = at
        event, payload = self.event(
            f"pull_request.{action}",
            pr_number=facts.number,
            sender_login=sender,
            **({"merged": facts.state == "merged"} if action == "closed" else {}),
        )
        self.pull_view(payload, facts, at)
        if action == "synchronize":
            payload["before"], payload["after"] = before, facts.head
        self.add(at, event, payload, f"pull_request.{action} PR#{facts.number}{extra}")

    def review_event(self, step: Step, facts: _PullFacts) -> None:
        at = self.tick()
        reviewer = step.who or REVIEWERS[0]
        if step.kind == "review":
            self.reviews += 1
            facts.reviews[reviewer] = (self.reviews, step.review or "", at, facts.head)
            action, state = "submitted", step.review or ""
        else:
            action, state = "dismissed", "dismissed"
        review_id, _, submitted_at, commit_id = facts.reviews[reviewer]
        event, payload = self.event(
            f"pull_request_review.{action}", pr_number=facts.number, sender_login=reviewer
        )
        self.pull_view(payload, facts, at)
        review = payload["review"]
        rename_user(review["user"], reviewer)
        # A dismissed review keeps the time it was submitted; the PR's updated_at is now.
        review.update(
            id=10_000 + review_id,
            state=state,
            submitted_at=submitted_at,
            commit_id=commit_id,
            body="Looks good." if state == "approved" else "Please add a test.",
        )
        if step.kind == "dismiss":
            facts.reviews[reviewer] = (review_id, "dismissed", submitted_at, commit_id)
        self.add(
            at, event, payload,
            f"pull_request_review.{action} PR#{facts.number} {state} by {reviewer}",
        )

    def deploy(self) -> None:
        at = self.tick()
        assert self.main_tip is not None
        self.deployments += 1
        event, payload = self.event(
            "deployment_status.created",
            sha=self.main_tip,
            environment=ENVIRONMENT,
            production_environment=True,
            deployment_state="success",
            sender_login=DEPLOYER,
        )
        deployment, status = payload["deployment"], payload["deployment_status"]
        deployment.update(id=500 + self.deployments, created_at=at, updated_at=at)
        status.update(id=9000 + self.deployments, created_at=at, updated_at=at)
        self.add(at, event, payload, f"deployment_status  {self.main_tip[:7]} to production")

    def step(self, step: Step) -> None:
        facts = self.pulls[step.pr] if step.pr is not None else None
        match step.kind:
            case "assign":
                self.issue_event("assigned", step, step.who or DEVELOPERS[0])
            case "close_issue":
                self.issue_event("closed", step, MAINTAINER)
            case "reopen_issue":
                self.issue_event("reopened", step, MAINTAINER)
            case "open_pr":
                tickets = (step.ticket or 0, *(() if step.also is None else (step.also,)))
                issue = self.issues[tickets[0]]
                head = self.commit("head")
                number = self.fake.add_pull(
                    self.owner, self.repo, head_sha=head, body=self.fixes(tickets),
                    draft=step.draft, title=f"Fix: {issue.title}", user=DEVELOPERS[0],
                )
                created = _iso(self.clock + dt.timedelta(seconds=1))
                opened = _PullFacts(number, tickets, created, head, step.draft)
                self.pulls.append(opened)
                self.pull_event(
                    "opened", opened, DEVELOPERS[0],
                    " " + self.fixes(tickets).replace("\r\n", ", ")
                    + (" (draft)" if step.draft else ""),
                )
            case "ready":
                assert facts
                facts.draft = False
                self.fake.update_pull(self.owner, self.repo, facts.number, draft=False)
                self.pull_event("ready_for_review", facts, DEVELOPERS[0])
            case "to_draft":
                assert facts
                facts.draft = True
                self.fake.update_pull(self.owner, self.repo, facts.number, draft=True)
                self.pull_event("converted_to_draft", facts, DEVELOPERS[0])
            case "push":
                assert facts
                before, facts.head = facts.head, self.commit("head")
                self.fake.update_pull(self.owner, self.repo, facts.number, head_sha=facts.head)
                self.pull_event("synchronize", facts, DEVELOPERS[0], before=before)
            case "review" | "dismiss":
                assert facts
                self.review_event(step, facts)
            case "close_pr":
                assert facts
                facts.state = "closed"
                self.fake.close_issue(self.owner, self.repo, facts.number)
                self.pull_event("closed", facts, DEVELOPERS[0], " unmerged")
            case "reopen_pr":
                assert facts
                facts.state, facts.closed_at = "open", None
                self.fake.reopen_issue(self.owner, self.repo, facts.number)
                self.pull_event("reopened", facts, DEVELOPERS[0])
            case "merge":
                assert facts
                facts.state = "merged"
                facts.merge_sha = self.commit("merge")
                self.fake.add_commits(self.owner, self.repo, [facts.merge_sha])
                self.fake.merge_pull(
                    self.owner, self.repo, facts.number, merge_commit_sha=facts.merge_sha
                )
                self.main_tip = facts.merge_sha
                self.pull_event(
                    "closed", facts, MAINTAINER, f" merged as {facts.merge_sha[:7]}"
                )
                for fixed in facts.tickets:  # GitHub closes the fixed issues, a second later
                    if self.issues[fixed].state == "open":
                        self.issue_event(
                            "closed", Step("close_issue", fixed, reason="completed"),
                            MAINTAINER, f" by GitHub: PR#{facts.number} merged",
                        )
            case "deploy":
                self.deploy()
            case _:
                raise ValueError(step.kind)


def materialize(
    journey: Journey,
    fake: Any,
    *,
    owner: str,
    repo: str,
    installation_id: int,
    issues: Sequence[dict[str, Any]],
    start: dt.datetime,
    salt: str = "",
) -> Script:
    """The journey as deliveries for ``owner/repo``, whose ticket issues (as the fake renders
    them, one per ticket, in ticket order) exist; sets the fake GitHub up to match: pull
    requests, their heads, main's merge commits (a linear history from a root commit), the
    issues' and PRs' final states. GitHub's times start one second after ``start``."""
    assert len(issues) == journey.tickets
    writer = _Writer(fake, owner, repo, installation_id, issues, start, salt)
    root = writer.commit("root")
    fake.add_commits(owner, repo, [root])
    writer.main_tip = root
    for step in journey.steps:
        writer.step(step)
    assert len(writer.deliveries) == journey.deliveries
    return Script(writer.deliveries)
