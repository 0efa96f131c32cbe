"""A typed client for TinyDesk's public, desk (seed 001) and ITSM (seed 002) APIs, sync and
async (httpx):

    from tinydesk.client import Client

    with Client("https://desk.example.com", api_key="td_live_…") as client:
        ticket = client.helpdesk.tickets.create(title="VPN drops", description="Since Monday")
        for t in client.helpdesk.tickets.iterate(status="open"):
            print(t["number"], t["title"])

Errors are ``TinyDeskError`` (``status``, ``error``, ``hint``, ``fields``); 429 and 503 are
retried, honouring ``Retry-After``; ``verify_signature`` checks a callback's signature.
"""

from tinydesk.client.errors import TinyDeskError
from tinydesk.client.http import AsyncClient, Client
from tinydesk.client.signatures import verify_signature

__all__ = ["AsyncClient", "Client", "TinyDeskError", "verify_signature"]
