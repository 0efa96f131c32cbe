"""The API's resources, written once for both clients: each method builds a ``Call`` and
hands it to the client's transport, which returns the answer (sync) or an awaitable of it
(async): ``R`` below. Listing methods return one page; ``iterate`` walks every page by its
cursor (an ``Iterator`` or an ``AsyncIterator``: ``I``)."""

from __future__ import annotations

import dataclasses
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import quote

JSON = dict[str, Any]
R = TypeVar("R", covariant=True)
I = TypeVar("I", covariant=True)  # noqa: E741 - the iterator type, beside R


@dataclasses.dataclass(frozen=True)
class Call:
    method: str
    path: str
    params: dict[str, Any] | None = None
    json: Any = None
    headers: dict[str, str] | None = None


@dataclasses.dataclass(frozen=True)
class Pages:
    """How a list pages: where its items are, and its next cursor."""

    call: Call
    items: str
    next_cursor: str


class Transport(Protocol[R, I]):
    def call(self, call: Call) -> R: ...

    def pages(self, pages: Pages) -> I: ...


def _segment(value: str) -> str:
    return quote(str(value), safe="")


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _key_header(idempotency_key: str | None) -> dict[str, str] | None:
    return {"Idempotency-Key": idempotency_key} if idempotency_key else None


class _Resource(Generic[R, I]):
    def __init__(self, transport: Transport[R, I]) -> None:
        self._t = transport


class PublicTickets(_Resource[R, I]):
    """Seed 000: submit a ticket without logging in, then track it by its publicId."""

    def submit(
        self,
        *,
        product_slug: str,
        submitter_email: str,
        subject: str,
        body: str,
        submitter_name: str | None = None,
        screenshots: list[str] | None = None,
        callback_url: str | None = None,
        email_updates: bool | None = None,
        idempotency_key: str | None = None,
    ) -> R:
        payload = _clean(
            {
                "productSlug": product_slug,
                "submitterEmail": submitter_email,
                "subject": subject,
                "body": body,
                "submitterName": submitter_name,
                "screenshots": screenshots,
                "callbackUrl": callback_url,
                "emailUpdates": email_updates,
            }
        )
        headers = _key_header(idempotency_key)
        return self._t.call(Call("POST", "/api/tickets", json=payload, headers=headers))

    def track(self, public_id: str, *, token: str | None = None) -> R:
        headers = {"X-Tracking-Token": token} if token else None
        return self._t.call(Call("GET", f"/api/tickets/{_segment(public_id)}", headers=headers))


class DeskComments(_Resource[R, I]):
    def add(self, ticket: str, body: str, *, internal: bool = False) -> R:
        path = f"/api/v1/desk/tickets/{_segment(ticket)}/comments"
        return self._t.call(Call("POST", path, json={"body": body, "internal": internal}))


class DeskTime(_Resource[R, I]):
    """Seed 003's time tracking through the desk."""

    def log(self, ticket: str, **entry: Any) -> R:
        path = f"/api/v1/desk/tickets/{_segment(ticket)}/time"
        return self._t.call(Call("POST", path, json=entry))

    def of_ticket(self, ticket: str) -> R:
        return self._t.call(Call("GET", f"/api/v1/desk/tickets/{_segment(ticket)}/time"))

    def report(self, **filters: Any) -> R:
        return self._t.call(Call("GET", "/api/v1/desk/time", params=_clean(filters)))


class DeskTickets(_Resource[R, I]):
    """Seed 001: ``client.desk.tickets.create/list/iterate/get/update/close``."""

    def __init__(self, transport: Transport[R, I]) -> None:
        super().__init__(transport)
        self.comments = DeskComments(transport)

    def create(self, *, idempotency_key: str | None = None, **fields: Any) -> R:
        headers = _key_header(idempotency_key)
        return self._t.call(Call("POST", "/api/v1/desk/tickets", json=fields, headers=headers))

    def list(self, **filters: Any) -> R:
        return self._t.call(Call("GET", "/api/v1/desk/tickets", params=_clean(filters)))

    def iterate(self, **filters: Any) -> I:
        call = Call("GET", "/api/v1/desk/tickets", params=_clean(filters))
        return self._t.pages(Pages(call, "tickets", "nextCursor"))

    def get(self, ticket: str) -> R:
        return self._t.call(Call("GET", f"/api/v1/desk/tickets/{_segment(ticket)}"))

    def update(self, ticket: str, **changes: Any) -> R:
        path = f"/api/v1/desk/tickets/{_segment(ticket)}"
        return self._t.call(Call("PATCH", path, json=changes))

    def close(self, ticket: str) -> R:
        """Seed 001's DELETE: the ticket is closed and leaves the desk."""
        return self._t.call(Call("DELETE", f"/api/v1/desk/tickets/{_segment(ticket)}"))


class Desk(_Resource[R, I]):
    def __init__(self, transport: Transport[R, I]) -> None:
        super().__init__(transport)
        self.tickets = DeskTickets(transport)
        self.time = DeskTime(transport)

    def stats(self, **filters: Any) -> R:
        return self._t.call(Call("GET", "/api/v1/desk/stats", params=_clean(filters)))


class HelpdeskTickets(_Resource[R, I]):
    """Seed 002: ``client.helpdesk.tickets.list/get/create/update/close`` (and soft delete,
    restore, iterate)."""

    BASE = "/api/v1/helpdesk/tickets"

    def list(self, *, include_deleted: bool = False, **filters: Any) -> R:
        params = _clean({**filters, "include_deleted": "true" if include_deleted else None})
        return self._t.call(Call("GET", self.BASE, params=params))

    def iterate(self, *, include_deleted: bool = False, **filters: Any) -> I:
        params = _clean({**filters, "include_deleted": "true" if include_deleted else None})
        return self._t.pages(Pages(Call("GET", self.BASE, params=params), "items", "next_cursor"))

    def get(self, ticket: str) -> R:
        return self._t.call(Call("GET", f"{self.BASE}/{_segment(ticket)}"))

    def create(self, **fields: Any) -> R:
        return self._t.call(Call("POST", self.BASE, json=fields))

    def update(self, ticket: str, **changes: Any) -> R:
        return self._t.call(Call("PATCH", f"{self.BASE}/{_segment(ticket)}", json=changes))

    def close(self, ticket: str) -> R:
        return self._t.call(Call("POST", f"{self.BASE}/{_segment(ticket)}/close"))

    def delete(self, ticket: str) -> R:
        return self._t.call(Call("DELETE", f"{self.BASE}/{_segment(ticket)}"))

    def restore(self, ticket: str) -> R:
        return self._t.call(Call("POST", f"{self.BASE}/{_segment(ticket)}/restore"))


class HelpdeskTeams(_Resource[R, I]):
    def list(self) -> R:
        return self._t.call(Call("GET", "/api/v1/helpdesk/teams"))

    def create(self, name: str) -> R:
        return self._t.call(Call("POST", "/api/v1/helpdesk/teams", json={"name": name}))


class Helpdesk(_Resource[R, I]):
    def __init__(self, transport: Transport[R, I]) -> None:
        super().__init__(transport)
        self.tickets = HelpdeskTickets(transport)
        self.teams = HelpdeskTeams(transport)
