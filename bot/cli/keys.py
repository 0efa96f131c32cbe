"""``tinydesk keys create | set | list | revoke``: desk API keys from the command line.

``bot.cli.build_parser`` calls ``register(commands)``; the work is done by ``bot.tickets.apikeys``.
"""

from __future__ import annotations

import argparse
import json
import sys

from bot.cli.serve import run_with_db
from bot.cli.terms import Flag, Flags, refuse
from bot.config import Settings
from bot.errors import ApiError
from bot.rules.public_names import DEFAULT_PUBLIC_AUTHOR
from bot.tickets.apikeys import (
    MAX_PRODUCTS,
    create_key,
    revoke_key,
    update_key,
    validate_key_request,
    validate_key_update,
)
from bot.views.admin import key_view, key_views
from storage.database import Database
from storage.repos.apikeys import ApiKeyRepo

# The body field each flag fills, for the validators' errors (bot.cli.terms).
CREATE_FLAGS: Flags = {
    "name": Flag("--name"),
    "publicName": Flag("--public-name"),
    "products": Flag(
        "--product", f"may be given up to {MAX_PRODUCTS} times, each with a product's slug"
    ),
}
SET_FLAGS: Flags = {
    "name": Flag("--name"),
    "publicName": Flag("--public-name"),
    "body": Flag(None, "nothing to change: give --name, --public-name or --default-public-name"),
}


def register(commands: argparse._SubParsersAction) -> None:
    keys = commands.add_parser(
        "keys",
        help="desk API keys",
        description="API keys for the help-desk API (/api/v1/desk/...): create, list, "
        "rename, revoke.",
    ).add_subparsers(metavar="ACTION")

    create = keys.add_parser("create", help="create a key and print it (shown only once)")
    create.add_argument(
        "--name", required=True, help="who uses it; staff see comments signed with it"
    )
    create.add_argument(
        "--public-name",
        help=f"what submitters see on its public comments (default: {DEFAULT_PUBLIC_AUTHOR})",
    )
    create.add_argument(
        "--product",
        action="append",
        default=[],
        metavar="SLUG",
        help="limit the key to this product (repeat for several; default: all)",
    )
    create.add_argument(
        "--test",
        action="store_true",
        help="a test-mode key (td_test_…): its tickets never reach GitHub",
    )
    create.set_defaults(func=cmd_keys_create)

    listing = keys.add_parser("list", help="list keys (never the keys themselves)")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(func=cmd_keys_list)

    change = keys.add_parser("set", help="rename a key or change its public name")
    change.add_argument("id", help="the key's id (key_…)")
    change.add_argument("--name")
    names = change.add_mutually_exclusive_group()
    names.add_argument("--public-name", help="what submitters see on its future comments")
    names.add_argument(
        "--default-public-name",
        action="store_true",
        help=f"sign its future comments {DEFAULT_PUBLIC_AUTHOR!r} again",
    )
    change.set_defaults(func=cmd_keys_set)

    revoke = keys.add_parser("revoke", help="revoke a key at once")
    revoke.add_argument("id", help="the key's id (key_…), as `tinydesk keys list` shows it")
    revoke.set_defaults(func=cmd_keys_revoke)


def cmd_keys_create(args: argparse.Namespace, settings: Settings) -> int:
    try:
        request = validate_key_request(
            {
                "name": args.name,
                "products": args.product,
                "test": args.test,
                "publicName": args.public_name,
            }
        )
    except ApiError as exc:
        return refuse(args, exc, CREATE_FLAGS)

    async def work(db: Database) -> int:
        async with db.begin() as session:
            created = await create_key(session, request)
        view = key_view(created.api_key, {p.id: p.slug for p in created.products})
        scope = ", ".join(view["products"]) or "all products"
        print(
            f"created {view['mode']} key {view['id']} ({view['name']}; {scope}). "
            "Store it now: it is not shown again.",
            file=sys.stderr,
        )
        # Only the key on stdout, so `KEY=$(tinydesk keys create ...)` works.
        print(created.secret)
        return 0

    return run_with_db(settings, work)


def cmd_keys_list(args: argparse.Namespace, settings: Settings) -> int:
    async def work(db: Database) -> int:
        async with db.session() as session:
            views = await key_views(session, await ApiKeyRepo(session).all())
        if args.json:
            print(json.dumps(views, indent=2))
            return 0
        if not views:
            print("no keys yet: tinydesk keys create --name NAME")
            return 0
        for v in views:
            state = f"revoked {v['revokedAt']}" if v["revokedAt"] else "active"
            used = f"last used {v['lastUsedAt']}" if v["lastUsedAt"] else "never used"
            scope = ", ".join(v["products"]) or "all products"
            public = v["publicName"] or DEFAULT_PUBLIC_AUTHOR
            details = f"{v['mode']}; {scope}; shown as {public!r}; {used}; {state}"
            print(f"{v['id']}  {v['prefix']}…  {v['name']}  ({details})")
        return 0

    return run_with_db(settings, work)


def cmd_keys_set(args: argparse.Namespace, settings: Settings) -> int:
    data: dict[str, object] = {}
    if args.name is not None:
        data["name"] = args.name
    if args.public_name is not None or args.default_public_name:
        data["publicName"] = None if args.default_public_name else args.public_name
    try:
        changes = validate_key_update(data)
    except ApiError as exc:
        return refuse(args, exc, SET_FLAGS)

    async def work(db: Database) -> int:
        async with db.begin() as session:
            api_key = await update_key(session, args.id, changes)
        shown = api_key.public_name or DEFAULT_PUBLIC_AUTHOR
        print(f"updated {api_key.public_id} ({api_key.name}); submitters see {shown!r}")
        return 0

    return run_with_db(settings, work)


def cmd_keys_revoke(args: argparse.Namespace, settings: Settings) -> int:
    async def work(db: Database) -> int:
        async with db.begin() as session:
            api_key = await revoke_key(session, args.id)
        print(f"revoked {api_key.public_id} ({api_key.name})")
        return 0

    return run_with_db(settings, work)
