"""``tinydesk products add | set | list | remove``: the products tickets are filed against,
each tied to its GitHub repository (and, with ``set --sla-policy``, the SLA policy of its new
tickets)."""

from __future__ import annotations

import argparse
import json
import sys

from bot.cli.serve import run_with_db
from bot.cli.terms import Flag, Flags, refuse
from bot.config import Settings
from bot.errors import ApiError
from bot.rules.safetext import ISSUE_TEXT_VALUES
from bot.tickets.products import (
    register_product,
    update_product,
    validate_product,
    validate_product_update,
)
from bot.tickets.sla_policies import policy_names
from bot.views.admin import product_view
from storage.database import Database
from storage.repos.products import ProductRepo

ENVIRONMENTS = Flag(
    "--environments",
    "must name at least one environment, comma-separated (as in production,live), "
    "each at most 255 characters",
)
# The body field each flag fills, for the validators' errors (bot.cli.terms).
MAIL_ADDRESS = Flag("--mail-address", "must be an email address, or none")
ADD_FLAGS: Flags = {
    "mailAddress": MAIL_ADDRESS,
    "slug": Flag("SLUG"),
    "repo": Flag("--repo"),
    "name": Flag("--name"),
    "productionEnvironments": ENVIRONMENTS,
}
SET_FLAGS: Flags = {
    "mailAddress": MAIL_ADDRESS,
    "name": Flag("--name"),
    "slaPolicy": Flag(
        "--sla-policy", "must name an SLA policy (tinydesk sla policies) or be default"
    ),
    "productionEnvironments": ENVIRONMENTS,
    "body": Flag(
        None,
        "nothing to change: give --name, --issue-text, --deployment-tracking, "
        "--no-deployment-tracking, --environments, --sla-policy or --mail-address",
    ),
}


def register(commands: argparse._SubParsersAction) -> None:
    products = commands.add_parser(
        "products",
        help="register products",
        description="Register products: "
        "each is the productSlug clients send, tied to its GitHub repository.",
    ).add_subparsers(metavar="ACTION")
    add = products.add_parser("add", help="register a product and its GitHub repository")
    add.add_argument("slug", metavar="SLUG", help="the productSlug clients send, e.g. my-saas-app")
    add.add_argument(
        "--repo", required=True, metavar="OWNER/NAME", help="GitHub repository for its issues"
    )
    add.add_argument("--name", help="display name (default: the slug)")
    add.add_argument(
        "--no-deployment-tracking",
        action="store_true",
        help="go MERGED -> CLOSED without waiting for a deployment",
    )
    add.add_argument(
        "--environments",
        metavar="ENV[,ENV...]",
        default="production",
        help="deployment environments that count as production (default: production)",
    )
    add.add_argument(
        "--issue-text",
        choices=ISSUE_TEXT_VALUES,
        help="how much submitter text its GitHub issues carry (default: scrubbed on a public "
        "repository, full on a private one)",
    )
    add.add_argument(
        "--mail-address",
        metavar="ADDRESS",
        help="an address whose mail opens tickets of this product (besides support+SLUG@...)",
    )
    add.set_defaults(func=cmd_products_add)
    change = products.add_parser("set", help="change a product's settings")
    change.add_argument("slug", metavar="SLUG")
    change.add_argument("--name")
    change.add_argument(
        "--issue-text",
        choices=(*ISSUE_TEXT_VALUES, "default"),
        help="full, scrubbed, subject-only, or default (by the repository's visibility)",
    )
    tracking = change.add_mutually_exclusive_group()
    tracking.add_argument("--deployment-tracking", action="store_true", default=None)
    tracking.add_argument(
        "--no-deployment-tracking", dest="deployment_tracking", action="store_false"
    )
    change.add_argument("--environments", metavar="ENV[,ENV...]")
    change.add_argument(
        "--sla-policy",
        metavar="NAME",
        help="the SLA policy of its new tickets, or default (tinydesk sla policies); "
        "existing tickets keep theirs",
    )
    change.add_argument(
        "--mail-address",
        metavar="ADDRESS",
        help="an address whose mail opens tickets of this product, or none",
    )
    change.set_defaults(func=cmd_products_set)
    listing = products.add_parser("list", help="list registered products")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(func=cmd_products_list)
    remove = products.add_parser("remove", help="remove a product (its tickets are kept)")
    remove.add_argument("slug", metavar="SLUG")
    remove.set_defaults(func=cmd_products_remove)


def cmd_products_add(args: argparse.Namespace, settings: Settings) -> int:
    try:
        fields = validate_product(
            {
                "slug": args.slug,
                "repo": args.repo,
                "name": args.name,
                "deploymentTracking": not args.no_deployment_tracking,
                "productionEnvironments": _environments(args.environments),
                "issueText": args.issue_text,
                **({"mailAddress": args.mail_address} if args.mail_address else {}),
            }
        )
    except ApiError as exc:
        return refuse(args, exc, ADD_FLAGS)

    async def work(db: Database) -> int:
        async with db.begin() as session:
            product = await register_product(session, fields)
        print(f"registered {product.slug} -> {product.repo_full_name}")
        return 0

    return run_with_db(settings, work)


def cmd_products_set(args: argparse.Namespace, settings: Settings) -> int:
    data: dict[str, object] = {}
    if args.name is not None:
        data["name"] = args.name
    if args.issue_text is not None:
        data["issueText"] = None if args.issue_text == "default" else args.issue_text
    if args.deployment_tracking is not None:
        data["deploymentTracking"] = args.deployment_tracking
    if args.environments is not None:
        data["productionEnvironments"] = _environments(args.environments)
    if args.sla_policy is not None:
        data["slaPolicy"] = None if args.sla_policy.lower() == "default" else args.sla_policy
    if args.mail_address is not None:
        none = args.mail_address.strip().lower() in {"", "none"}
        data["mailAddress"] = None if none else args.mail_address
    try:
        changes = validate_product_update(data)
    except ApiError as exc:
        return refuse(args, exc, SET_FLAGS)

    async def work(db: Database) -> int:
        async with db.begin() as session:
            product = await update_product(session, args.slug, changes)
            names = await policy_names(session)
        line = f"updated {product.slug}: issue text {_issue_text(product.issue_text)}"
        if args.sla_policy is not None:
            policy = names.get(product.sla_policy_id or 0, "the default")
            line += f"; SLA policy of new tickets: {policy}"
        if args.mail_address is not None:
            line += f"; mail address: {product.mail_address or 'none'}"
        print(line)
        return 0

    return run_with_db(settings, work)


def _environments(value: str) -> list[str]:
    return [e for e in value.split(",") if e.strip()]


def _issue_text(value: str | None) -> str:
    return value or "by visibility (scrubbed if public)"


def cmd_products_list(args: argparse.Namespace, settings: Settings) -> int:
    async def work(db: Database) -> int:
        async with db.session() as session:
            products = await ProductRepo(session).all()
            names = await policy_names(session)
        if args.json:
            print(json.dumps([product_view(p, names) for p in products], indent=2))
            return 0
        if not products:
            print("no products yet: tinydesk products add SLUG --repo OWNER/NAME")
            return 0
        width = max(len(p.slug) for p in products)
        for p in products:
            installed = "app installed" if p.installation_id else "app not installed yet"
            deploys = "deployments tracked" if p.deployment_tracking else "deployments not tracked"
            text = f"issue text {_issue_text(p.issue_text)}"
            print(
                f"{p.slug:<{width}}  {p.repo_full_name}  ({p.name}; {installed}; {deploys}; {text})"
            )
        return 0

    return run_with_db(settings, work)


def cmd_products_remove(args: argparse.Namespace, settings: Settings) -> int:
    async def work(db: Database) -> int:
        async with db.begin() as session:
            removed = await ProductRepo(session).remove(args.slug)
        if not removed:
            print(f"tinydesk: no product has the slug {args.slug!r}", file=sys.stderr)
            return 1
        print(f"removed {args.slug}")
        return 0

    return run_with_db(settings, work)
