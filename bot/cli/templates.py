"""``tinydesk templates list | add | edit | remove``: the ticket templates (seed 003) a desk
ticket may be filled from, e.g. "New Employee Setup"."""

from __future__ import annotations

import argparse
import json
from collections.abc import Awaitable, Callable
from typing import Any

from bot.cli.serve import run_with_db
from bot.cli.terms import Flag, Flags, refuse
from bot.config import Settings
from bot.errors import ApiError
from bot.rules.templates import validate_template, validate_template_changes
from bot.tickets import templates
from bot.views.templates import template_view
from storage.database import Database
from storage.models import TicketTemplate
from storage.repos.templates import TemplateRepo

PRIORITY = Flag("--priority", "must be low, medium, high or urgent")
TYPE = Flag("--type", "must be incident, service_request, change or problem")
TAGS = Flag("--tag", "each must be 1 to 64 characters, at most 20 of them")
# The body field each flag fills, for the validators' errors (bot.cli.terms).
FLAGS: Flags = {
    "name": Flag("NAME"),
    "subject": Flag("--subject"),
    "body": Flag("--body"),
    "priority": PRIORITY,
    "type": TYPE,
    "category": Flag("--category"),
    "tags": TAGS,
    "productSlug": Flag("--product"),
}
EDIT_FLAGS: Flags = {
    **FLAGS,
    "name": Flag("--name"),
    "request": Flag(
        None,
        "nothing to change: give --name, --subject, --body, --priority, --type, --category, "
        "--tag, --no-tags or --product",
    ),
}
# (flag's dest, body field): the text fields a template holds; "" clears one on edit.
TEXT_FIELDS = (
    ("subject", "subject"),
    ("body", "body"),
    ("priority", "priority"),
    ("type", "type"),
    ("category", "category"),
    ("product", "productSlug"),
)


def _fields(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--subject", help="the ticket's subject")
    parser.add_argument("--body", help="the ticket's body")
    parser.add_argument("--priority", metavar="low|medium|high|urgent")
    parser.add_argument("--type", metavar="incident|service_request|change|problem")
    parser.add_argument("--category")
    parser.add_argument(
        "--tag", action="append", dest="tags", metavar="TAG", help="a tag (repeatable)"
    )
    parser.add_argument("--product", metavar="SLUG", help="the product the template is for")


def register(commands: argparse._SubParsersAction) -> None:
    group = commands.add_parser(
        "templates",
        help="ticket templates",
        description="Ticket templates (seed 003): named, pre-filled tickets; a desk ticket "
        'created with "template" takes from one what it leaves out.',
    ).add_subparsers(metavar="ACTION")
    listing = group.add_parser("list", help="list templates, by name")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(func=cmd_templates_list)
    add = group.add_parser("add", help="add a template")
    add.add_argument("name", metavar="NAME", help='unique, e.g. "New Employee Setup"')
    _fields(add)
    add.set_defaults(func=cmd_templates_add)
    edit = group.add_parser(
        "edit", help="change a template (an empty value, as in --category '', clears a field)"
    )
    edit.add_argument("ref", metavar="TEMPLATE", help="its id (tpl_…) or exact name")
    edit.add_argument("--name", help="a new name")
    _fields(edit)
    edit.add_argument("--no-tags", action="store_true", help="remove every tag")
    edit.set_defaults(func=cmd_templates_edit)
    remove = group.add_parser("remove", help="delete a template (tickets made from it stay)")
    remove.add_argument("ref", metavar="TEMPLATE", help="its id (tpl_…) or exact name")
    remove.set_defaults(func=cmd_templates_remove)


def _body(args: argparse.Namespace, *, edit: bool) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for dest, field in TEXT_FIELDS:
        value = getattr(args, dest)
        if value is not None:
            data[field] = value or None  # "": no value (on edit: clear it)
    if args.tags is not None:
        data["tags"] = args.tags
    if edit and args.no_tags:
        data["tags"] = []
    return data


def _run(
    args: argparse.Namespace,
    settings: Settings,
    flags: Flags,
    work: Callable[[Database], Awaitable[int]],
) -> int:
    """``run_with_db`` where the service's own 400 (an unknown product) is worded as a usage
    error, like the validators' refusals."""

    async def guarded(db: Database) -> int:
        try:
            return await work(db)
        except ApiError as exc:
            if exc.status != 400:
                raise
            return refuse(args, exc, flags)

    return run_with_db(settings, guarded)


def cmd_templates_add(args: argparse.Namespace, settings: Settings) -> int:
    try:
        fields = validate_template({"name": args.name, **_body(args, edit=False)})
    except ApiError as exc:
        return refuse(args, exc, FLAGS)

    async def work(db: Database) -> int:
        async with db.begin() as session:
            template = await templates.create_template(session, templates.CLI, fields)
            print(f"added template {template.name} ({template.desk_id})")
        return 0

    return _run(args, settings, FLAGS, work)


def cmd_templates_edit(args: argparse.Namespace, settings: Settings) -> int:
    data = _body(args, edit=True)
    if args.name is not None:
        data["name"] = args.name
    try:
        changes = validate_template_changes(data)
    except ApiError as exc:
        return refuse(args, exc, EDIT_FLAGS)

    async def work(db: Database) -> int:
        async with db.begin() as session:
            template = await templates.update_template(session, templates.CLI, args.ref, changes)
            print(f"updated template {template.name} ({template.desk_id})")
        return 0

    return _run(args, settings, EDIT_FLAGS, work)


def cmd_templates_remove(args: argparse.Namespace, settings: Settings) -> int:
    async def work(db: Database) -> int:
        async with db.begin() as session:
            await templates.remove_template(session, templates.CLI, args.ref)
        print(f"removed template {args.ref}")
        return 0

    return run_with_db(settings, work)


def _line(template: TicketTemplate) -> str:
    facts = [
        f"product {template.product.slug}" if template.product else "every product",
        f"priority {template.priority}" if template.priority else None,
        f"type {template.type}" if template.type else None,
        f"category {template.category}" if template.category else None,
        f"tags {', '.join(template.tags)}" if template.tags else None,
    ]
    return f"{template.desk_id}  {template.name}  ({'; '.join(f for f in facts if f)})"


def cmd_templates_list(args: argparse.Namespace, settings: Settings) -> int:
    async def work(db: Database) -> int:
        async with db.session() as session:
            rows = await TemplateRepo(session).all()
            if args.json:
                print(json.dumps([template_view(t) for t in rows], indent=2))
                return 0
            if not rows:
                print("no templates yet: tinydesk templates add NAME [--subject S] …")
                return 0
            for template in rows:
                print(_line(template))
        return 0

    return run_with_db(settings, work)
