"""The MCP server: five tools and a resource, each one call to TinyDesk's HTTP API.

Nothing is checked or decided here: the API validates, limits, scopes and words the errors,
and an error comes back as a tool error (``is_error``) carrying the API's ``error``,
``hint`` and ``fields``, as text for the model and as structured content. Tool arguments
keep the API's own names (``productSlug``, ``submitterEmail``), so the ``fields`` of a 400
name the arguments to fix.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field

from bot import __version__
from bot.mcp.api import ApiCaller, ApiProblem, segment
from bot.rules.desk_input import DEFAULT_LIMIT, MAX_LIMIT, PRIORITIES
from bot.rules.desk_status import DESK_STATUSES

log = logging.getLogger(__name__)

# Who is calling, for one MCP request: stdio has one caller, the HTTP transport one per
# request (its desk key, its Host).
CallerSource = Callable[[Context], ApiCaller]
# A tool's result: the API's JSON answer as structured content (and as text).
Answer = Annotated[CallToolResult, dict[str, Any]]

INSTRUCTIONS = (
    "TinyDesk is a help desk whose tickets follow their fix through GitHub. Anyone may "
    "submit_ticket and follow it with get_ticket_status (pass the trackingToken that "
    "submit_ticket returned to see the subject and staff replies too). list_tickets, "
    "get_ticket and add_comment are for support staff and need a desk API key."
)
TICKET_REF = "The ticket: its desk id (tkt_…) or its publicId (TK-00042)"
READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)
WRITES = ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False)


def build_server(caller_of: CallerSource) -> MCPServer:
    """TinyDesk's MCP server; ``caller_of(ctx)`` is the API caller of the request in ``ctx``."""
    server = MCPServer(
        "tinydesk",
        title="TinyDesk",
        version=__version__,
        instructions=INSTRUCTIONS,
    )

    @server.tool(annotations=WRITES)
    async def submit_ticket(
        ctx: Context,
        productSlug: Annotated[str, Field(description="The product the ticket is about")],
        submitterEmail: Annotated[str, Field(description="Where the submitter can be reached")],
        subject: Annotated[str, Field(description="One line saying what is wrong")],
        body: Annotated[str, Field(description="What happened, in the submitter's words")],
        submitterName: Annotated[str | None, Field(description="The submitter's name")] = None,
        screenshots: Annotated[
            list[str] | None, Field(description="Up to 3 http(s) URLs of screenshots")
        ] = None,
        emailUpdates: Annotated[
            bool | None,
            Field(description="Mail the submitter at each step (default true, if TinyDesk mails)"),
        ] = None,
        callbackUrl: Annotated[
            str | None,
            Field(description="A public https URL TinyDesk POSTs each stage change to, signed"),
        ] = None,
        idempotencyKey: Annotated[
            str | None,
            Field(description="A UUID: the same call again under it returns the first ticket"),
        ] = None,
    ) -> Answer:
        """Submit a support ticket (POST /api/tickets). Returns its publicId, status,
        trackingToken and trackingUrl (the page the submitter follows it on); with a
        callbackUrl, also the callbackSecret that signs the callbacks, shown this once."""
        fields = {
            "productSlug": productSlug,
            "submitterEmail": submitterEmail,
            "subject": subject,
            "body": body,
            "submitterName": submitterName,
            "screenshots": screenshots,
            "emailUpdates": emailUpdates,
            "callbackUrl": callbackUrl,
        }
        given = {name: value for name, value in fields.items() if value is not None}
        return await answer("submit_ticket", caller_of(ctx).submit_ticket(given, idempotencyKey))

    @server.tool(annotations=READ_ONLY)
    async def get_ticket_status(
        ctx: Context,
        publicId: Annotated[str, Field(description="The ticket's publicId, e.g. TK-00042")],
        trackingToken: Annotated[
            str | None,
            Field(description="The token submit_ticket returned: adds the subject and replies"),
        ] = None,
    ) -> Answer:
        """Where a ticket is (GET /api/tickets/{publicId}): its stage, the 8-stage pipeline
        (each stage reached, current, pending or skipped) and its history; with the
        tracking token also its subject and the public staff comments."""
        return await answer(
            "get_ticket_status", caller_of(ctx).ticket_status(publicId, trackingToken)
        )

    @server.tool(annotations=READ_ONLY)
    async def list_tickets(
        ctx: Context,
        status: Annotated[str | None, Field(description=", ".join(DESK_STATUSES))] = None,
        priority: Annotated[str | None, Field(description=", ".join(PRIORITIES))] = None,
        tag: Annotated[str | None, Field(description="Only tickets with this tag")] = None,
        assignee: Annotated[str | None, Field(description="Only tickets assigned to this")] = None,
        q: Annotated[str | None, Field(description="Search the subject and body")] = None,
        limit: Annotated[
            int | None,
            Field(description=f"Tickets per page (default {DEFAULT_LIMIT}, at most {MAX_LIMIT})"),
        ] = None,
        cursor: Annotated[
            str | None, Field(description="nextCursor of the page before, for the next page")
        ] = None,
    ) -> Answer:
        """The tickets this desk key may see, newest first (GET /api/v1/desk/tickets):
        one page, with hasMore and nextCursor. Needs a desk API key."""
        query = {
            "status": status,
            "priority": priority,
            "tag": tag,
            "assignee": assignee,
            "q": q,
            "limit": None if limit is None else str(limit),
            "cursor": cursor,
        }
        params = {name: value for name, value in query.items() if value is not None}
        return await answer("list_tickets", caller_of(ctx).desk("GET", "/tickets", params=params))

    @server.tool(annotations=READ_ONLY)
    async def get_ticket(ctx: Context, id: Annotated[str, Field(description=TICKET_REF)]) -> Answer:
        """One ticket as staff see it (GET /api/v1/desk/tickets/{id}): fields, comments
        (internal notes too), SLA, time and attachments. Needs a desk API key whose scope
        covers the ticket's product."""
        return await answer("get_ticket", caller_of(ctx).desk("GET", f"/tickets/{segment(id)}"))

    @server.tool(annotations=WRITES)
    async def add_comment(
        ctx: Context,
        id: Annotated[str, Field(description=TICKET_REF)],
        body: Annotated[str, Field(description="The comment's text")],
        internal: Annotated[
            bool | None,
            Field(description="true: an internal note the submitter never sees (default false)"),
        ] = None,
    ) -> Answer:
        """Comment on a ticket as staff (POST /api/v1/desk/tickets/{id}/comments); a public
        comment reaches the submitter. Needs a desk API key."""
        comment: dict[str, Any] = {"body": body}
        if internal is not None:
            comment["internal"] = internal
        path = f"/tickets/{segment(id)}/comments"
        return await answer("add_comment", caller_of(ctx).desk("POST", path, json_body=comment))

    @server.resource(
        "ticket://{publicId}{?token}",
        name="ticket-status",
        title="Ticket status",
        description="A ticket's tracking view (GET /api/tickets/{publicId}); add ?token= "
        "(the trackingToken) for its subject and the public staff comments.",
        mime_type="application/json",
    )
    async def ticket_status(ctx: Context, publicId: str, token: str | None = None) -> str:
        try:
            view = await caller_of(ctx).ticket_status(publicId, token)
        except ApiProblem as problem:
            if problem.status == 404:
                raise ResourceNotFoundError(problem.text()) from None
            raise ResourceError(problem.text()) from None
        return json.dumps(view, ensure_ascii=False)

    return server


async def answer(tool: str, call: Awaitable[dict[str, Any]]) -> CallToolResult:
    """The API's answer to ``call`` as a tool result, or its error as a tool error."""
    try:
        body = await call
    except ApiProblem as problem:
        log.info("MCP tool %s: %s", tool, problem.error, extra={"status": problem.status})
        return CallToolResult(
            content=[TextContent(type="text", text=problem.text())],
            structured_content=problem.body(),
            is_error=True,
        )
    text = json.dumps(body, ensure_ascii=False)
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=body)
