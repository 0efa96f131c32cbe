"""Desk API keys in the admin API: list, create (the key is shown once), revoke.

These routes sit under /api/admin/, so ``admin_auth_middleware`` guards them.
"""

from __future__ import annotations

from aiohttp import web

from bot.tickets.apikeys import create_key, key_view, key_views, revoke_key, validate_key_request
from bot.http.bodies import read_json_object
from bot.appkeys import DB
from storage.repos.apikeys import ApiKeyRepo

routes = web.RouteTableDef()


@routes.get("/api/admin/keys")
async def list_keys(request: web.Request) -> web.Response:
    async with request.app[DB].session() as session:
        views = await key_views(session, await ApiKeyRepo(session).all())
    return web.json_response({"keys": views})


@routes.post("/api/admin/keys")
async def add_key(request: web.Request) -> web.Response:
    key_request = validate_key_request(await read_json_object(request))
    async with request.app[DB].begin() as session:
        created = await create_key(session, key_request)
    view = key_view(created.api_key, {p.id: p.slug for p in created.products})
    # The only time the key is ever shown.
    view["key"] = created.secret
    return web.json_response(view, status=201, headers={"Cache-Control": "no-store"})


@routes.delete("/api/admin/keys/{id}")
async def remove_key(request: web.Request) -> web.Response:
    async with request.app[DB].begin() as session:
        await revoke_key(session, request.match_info["id"])
    return web.json_response({"success": True, "message": "Key revoked"})
