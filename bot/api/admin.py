"""The admin API behind ``Authorization: Bearer $TINYDESK_ADMIN_TOKEN``: products (and more)."""

from __future__ import annotations

import secrets

from aiohttp import web

from bot.errors import ApiError
from bot.http import read_json_object
from bot.keys import DB, SETTINGS
from bot.products import product_view, register_product, validate_product
from storage.products import ProductRepo

routes = web.RouteTableDef()


def bearer_token(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def require_admin(request: web.Request) -> None:
    expected = request.app[SETTINGS].admin_token
    if not expected:
        raise ApiError(
            403,
            "Admin API disabled",
            "Set TINYDESK_ADMIN_TOKEN on the server to turn the admin API on.",
        )
    token = bearer_token(request)
    if token is None or not secrets.compare_digest(token.encode(), expected.encode()):
        raise ApiError(
            401,
            "Unauthorized",
            "Send the admin token as `Authorization: Bearer <TINYDESK_ADMIN_TOKEN>`.",
            headers={"WWW-Authenticate": 'Bearer realm="tinydesk-admin"'},
        )


@web.middleware
async def admin_auth_middleware(request: web.Request, handler):
    if request.path.startswith("/api/admin/") or request.path == "/api/admin":
        require_admin(request)
    return await handler(request)


@routes.get("/api/admin/products")
async def list_products(request: web.Request) -> web.Response:
    async with request.app[DB].session() as session:
        products = await ProductRepo(session).all()
    return web.json_response({"products": [product_view(p) for p in products]})


@routes.post("/api/admin/products")
async def add_product(request: web.Request) -> web.Response:
    fields = validate_product(await read_json_object(request))
    async with request.app[DB].begin() as session:
        product = await register_product(session, fields)
    return web.json_response(product_view(product), status=201)


@routes.delete("/api/admin/products/{slug}")
async def remove_product(request: web.Request) -> web.Response:
    slug = request.match_info["slug"]
    async with request.app[DB].begin() as session:
        removed = await ProductRepo(session).remove(slug)
    if not removed:
        raise ApiError(404, "Product not found", f"No product has the slug {slug!r}.")
    return web.json_response({"success": True, "message": "Product removed"})
