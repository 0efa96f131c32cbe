"""``tinydesk products add | list | remove``: the products tickets are filed against, each tied to
its GitHub repository."""

from __future__ import annotations

import argparse
import json
import sys

from bot.cli.serve import run_with_db
from bot.config import Settings
from bot.tickets.products import register_product, validate_product
from bot.views.admin import product_view
from storage.database import Database
from storage.repos.products import ProductRepo


def register(commands: argparse._SubParsersAction) -> None:
    products = commands.add_parser("products", help="register products").add_subparsers(
        metavar="ACTION"
    )
    add = products.add_parser("add", help="register a product and its GitHub repository")
    add.add_argument("slug", help="the productSlug clients send, e.g. my-saas-app")
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
    add.set_defaults(func=cmd_products_add)
    listing = products.add_parser("list", help="list registered products")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(func=cmd_products_list)
    remove = products.add_parser("remove", help="remove a product (its tickets are kept)")
    remove.add_argument("slug")
    remove.set_defaults(func=cmd_products_remove)


def cmd_products_add(args: argparse.Namespace, settings: Settings) -> int:
    async def work(db: Database) -> int:
        fields = validate_product(
            {
                "slug": args.slug,
                "repo": args.repo,
                "name": args.name,
                "deploymentTracking": not args.no_deployment_tracking,
                "productionEnvironments": [e for e in args.environments.split(",") if e.strip()],
            }
        )
        async with db.begin() as session:
            product = await register_product(session, fields)
        print(f"registered {product.slug} -> {product.repo_full_name}")
        return 0

    return run_with_db(settings, work)


def cmd_products_list(args: argparse.Namespace, settings: Settings) -> int:
    async def work(db: Database) -> int:
        async with db.session() as session:
            products = await ProductRepo(session).all()
        if args.json:
            print(json.dumps([product_view(p) for p in products], indent=2))
            return 0
        if not products:
            print("no products yet: tinydesk products add SLUG --repo OWNER/NAME")
            return 0
        width = max(len(p.slug) for p in products)
        for p in products:
            installed = "app installed" if p.installation_id else "app not installed yet"
            deploys = "deployments tracked" if p.deployment_tracking else "deployments not tracked"
            print(f"{p.slug:<{width}}  {p.repo_full_name}  ({p.name}; {installed}; {deploys})")
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
