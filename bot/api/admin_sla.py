"""The admin API's SLA policies, under /api/admin/sla/policies (``bot.api.admin`` mounts
these routes behind the admin token): list, create, show, edit (``"default": true`` makes a
policy the default), delete. The rules are ``bot.tickets.sla_policies``'."""

from __future__ import annotations

from aiohttp import web

from bot.appkeys import CLOCK, DB
from bot.http.bodies import read_json_object
from bot.tickets import sla_policies
from bot.views.sla_policies import policy_view


async def list_policies(request: web.Request) -> web.Response:
    async with request.config_dict[DB].session() as session:
        policies = await sla_policies.list_policies(session)
        used = await sla_policies.products_by_policy(session)
    return web.json_response({"policies": [policy_view(p, used.get(p.id, [])) for p in policies]})


async def add_policy(request: web.Request) -> web.Response:
    data = await read_json_object(request)
    async with request.config_dict[DB].begin() as session:
        policy = await sla_policies.create_policy(session, data, request.config_dict[CLOCK]())
        used = await sla_policies.products_by_policy(session)
    return web.json_response(
        policy_view(policy, used.get(policy.id, [])),
        status=201,
        headers={"Location": f"/api/admin/sla/policies/{policy.id}"},
    )


async def show_policy(request: web.Request) -> web.Response:
    async with request.config_dict[DB].session() as session:
        policy = await sla_policies.find_policy(session, request.match_info["id"])
        used = await sla_policies.products_by_policy(session)
    return web.json_response(policy_view(policy, used.get(policy.id, [])))


async def change_policy(request: web.Request) -> web.Response:
    """Fields left out keep their value; an edit of what the clocks depend on computes the
    due times of the policy's open tickets again (``recomputedTickets`` says how many)."""
    data = await read_json_object(request)
    async with request.config_dict[DB].begin() as session:
        policy, recomputed = await sla_policies.edit_policy(
            session, request.match_info["id"], data, request.config_dict[CLOCK]()
        )
        used = await sla_policies.products_by_policy(session)
    view = policy_view(policy, used.get(policy.id, []))
    view["recomputedTickets"] = recomputed
    return web.json_response(view)


async def remove_policy(request: web.Request) -> web.Response:
    async with request.config_dict[DB].begin() as session:
        removed = await sla_policies.delete_policy(
            session, request.match_info["id"], request.config_dict[CLOCK]()
        )
    return web.json_response(
        {
            "success": True,
            "message": f"SLA policy {removed.name!r} removed; its products and tickets now "
            f"follow {removed.default_name!r}",
            "movedProducts": removed.products_moved,
            "movedTickets": removed.tickets_moved,
        }
    )


# Paths are below bot.api.admin.PREFIX.
routes = [
    web.get("/sla/policies", list_policies),
    web.post("/sla/policies", add_policy),
    web.get("/sla/policies/{id}", show_policy),
    web.patch("/sla/policies/{id}", change_policy),
    web.delete("/sla/policies/{id}", remove_policy),
]
