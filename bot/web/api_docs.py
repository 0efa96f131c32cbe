"""``GET /api/docs``: the API reference as a page, rendered from the OpenAPI document that
``GET /api/openapi.json`` serves, so the two never disagree (``bot.api.openapi`` routes both
and hands its document to ``render``; pages never import the API modules).

Every path and method with its summary, description, authentication, parameters, request
body and responses, a table of contents by tag, and the schemas they refer to. Plain HTML on
the shared layout and site.css: no script, no third-party asset. The page sits under /api/,
whose JSON answers carry no page headers, so it sends the pages' security headers itself.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from aiohttp import web

from bot.http.middleware import SECURITY_HEADERS
from bot.web.html import Html, escape, fragment, join, page

DOCS_PATH = "/api/docs"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
REF_PREFIX = "#/components/schemas/"
# Nested object schemas are drawn as tables this deep; deeper ones are named only.
MAX_DEPTH = 3
# Longer patterns are folded into a <details> (no script needed to open it).
MAX_SHOWN_PATTERN = 40
CONSTRAINTS = (
    ("minLength", "at least {} character(s)"),
    ("maxLength", "at most {} characters"),
    ("minimum", "≥ {}"),
    ("maximum", "≤ {}"),
    ("exclusiveMinimum", "> {}"),
    ("exclusiveMaximum", "< {}"),
    ("minItems", "at least {} items"),
    ("maxItems", "at most {} items"),
    ("pattern", "matches {}"),
    ("format", "format {}"),
    ("default", "default {}"),
)


def operation_anchor(method: str, path: str) -> str:
    """The id of an operation's section: ``get-api-v1-desk-tickets-id``."""
    slug = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")
    return f"{method.lower()}-{slug}"


def schema_anchor(name: str) -> str:
    return f"schema-{name}"


def operations(spec: Mapping[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, operation) for every operation of the document, in its order."""
    return [
        (method, path_, op)
        for path_, item in spec["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


_CODE = re.compile(r"`([^`]+)`")


def prose(text: object) -> Html:
    """Description text: escaped, with `backticks` shown as code."""
    return Html(_CODE.sub(r"<code>\1</code>", escape(text)))


def _literal(value: object) -> Html:
    return fragment("<code>{v}</code>", v=json.dumps(value, ensure_ascii=False))


def schema_type(schema: Mapping[str, Any]) -> Html:
    """A schema in one line: ``string``, ``array of Ticket`` (linked), ``one of …``."""
    if "$ref" in schema:
        name = str(schema["$ref"]).removeprefix(REF_PREFIX)
        return fragment('<a href="#{a}">{n}</a>', a=schema_anchor(name), n=name)
    for key, word in (("anyOf", "any of"), ("oneOf", "one of"), ("allOf", "all of")):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"]
            nullable = len(options) < len(schema[key])
            shown = join((schema_type(s) for s in options), " | ")
            text = shown if len(options) == 1 else fragment("{w}: {s}", w=word, s=shown)
            return fragment("{t} or null", t=text) if nullable else text
    if "enum" in schema:
        return fragment("one of {v}", v=join((_literal(v) for v in schema["enum"]), ", "))
    if "const" in schema:
        return _literal(schema["const"])
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = " or ".join(str(k) for k in kind)
    if kind == "array":
        items = schema.get("items")
        return fragment("array of {t}", t=schema_type(items) if items else "anything")
    return escape(kind or ("object" if "properties" in schema else "any"))


def _pattern(pattern: str) -> Html:
    """A regular expression as written (long ones folded away: the white-space classes)."""
    if len(pattern) <= MAX_SHOWN_PATTERN:
        return fragment('matches <code class="pattern">{p}</code>', p=pattern)
    return fragment(
        '<details class="pattern"><summary>matches a pattern</summary><code>{p}</code></details>',
        p=pattern,
    )


def constraints(schema: Mapping[str, Any]) -> Html:
    found = [
        _pattern(str(schema[key]))
        if key == "pattern"
        else fragment(text.replace("{}", "{v}"), v=_literal(schema[key]))
        for key, text in CONSTRAINTS
        if key in schema
    ]
    if schema.get("additionalProperties") is False:
        found.append(Html("no other properties"))
    return join(found, "; ")


def schema_detail(schema: Mapping[str, Any], depth: int = 0) -> Html:
    """A schema in full: its type line, description, limits, and its properties as a table."""
    parts = [fragment('<p class="schema-type">{t}</p>', t=schema_type(schema))]
    if schema.get("description"):
        parts.append(fragment("<p>{d}</p>", d=prose(schema["description"])))
    if limits := constraints(schema):
        parts.append(fragment('<p class="hint">{c}</p>', c=limits))
    properties = schema.get("properties")
    if isinstance(properties, dict) and properties and depth < MAX_DEPTH:
        parts.append(properties_table(schema, depth))
    items = schema.get("items")
    if isinstance(items, dict) and "properties" in items and depth < MAX_DEPTH:
        parts.append(fragment("<p>Each item:</p>{t}", t=properties_table(items, depth)))
    return join(parts)


def properties_table(schema: Mapping[str, Any], depth: int) -> Html:
    required = set(schema.get("required", ()))
    rows = []
    for name, prop in schema["properties"].items():
        nested = (
            properties_table(prop, depth + 1)
            if isinstance(prop.get("properties"), dict) and depth + 1 < MAX_DEPTH
            else Html("")
        )
        rows.append(
            fragment(
                "<tr><td><code>{n}</code></td><td>{t}</td><td>{r}</td><td>{d}{c}{nested}</td></tr>",
                n=name,
                t=schema_type(prop),
                r="required" if name in required else "optional",
                d=prose(prop.get("description", "")),
                c=fragment(' <span class="hint">{c}</span>', c=limits)
                if (limits := constraints(prop))
                else Html(""),
                nested=nested,
            )
        )
    return _table(["Property", "Type", "Required", "Description"], rows)


def _table(headers: Iterable[str], rows: list[Html]) -> Html:
    return fragment(
        '<div class="table-scroll"><table><thead><tr>{h}</tr></thead><tbody>{r}</tbody>'
        "</table></div>",
        h=join(fragment('<th scope="col">{h}</th>', h=h) for h in headers),
        r=join(rows),
    )


def security_text(spec: Mapping[str, Any], op: Mapping[str, Any]) -> Html:
    requirements = op.get("security", spec.get("security")) or []
    schemes = spec.get("components", {}).get("securitySchemes", {})
    names = [name for requirement in requirements for name in requirement]
    if not names:
        return Html("None: anyone may call it.")
    return join(
        (
            fragment(
                "<code>Authorization: Bearer</code> {d} (<code>{n}</code>)",
                d=schemes.get(name, {}).get("description", name),
                n=name,
            )
            for name in names
        ),
        ", or ",
    )


def parameters_table(parameters: list[dict[str, Any]]) -> Html:
    rows = [
        fragment(
            "<tr><td><code>{n}</code></td><td>{where}</td><td>{t}</td><td>{r}</td>"
            "<td>{d}{c}</td></tr>",
            n=p["name"],
            where=p.get("in", ""),
            t=schema_type(p.get("schema", {})),
            r="required" if p.get("required") else "optional",
            d=prose(p.get("description", "")),
            c=fragment(' <span class="hint">{c}</span>', c=limits)
            if (limits := constraints(p.get("schema", {})))
            else Html(""),
        )
        for p in parameters
    ]
    return _table(["Name", "In", "Type", "Required", "Description"], rows)


def request_body_detail(content: Mapping[str, Any], schemas: Mapping[str, Any]) -> Html:
    """Each media type of a request body with its schema in full (a ``$ref`` is opened here,
    since what to send is the point of the section)."""
    parts = []
    for media, body in content.items():
        schema = body.get("schema", {})
        name = str(schema.get("$ref", "")).removeprefix(REF_PREFIX)
        opened = schemas.get(name) if name else None
        parts.append(
            fragment(
                "<p><code>{media}</code>: {type}</p>{detail}",
                media=media,
                type=schema_type(schema),
                detail=schema_detail(opened if opened is not None else schema, depth=1),
            )
        )
    return join(parts)


def responses_detail(responses: Mapping[str, Any]) -> Html:
    """One line a status code: its meaning, what the body is, the headers it carries."""
    items = []
    for status, response in responses.items():
        headers = response.get("headers", {})
        content = response.get("content", {})
        items.append(
            fragment(
                '<li><strong class="status">{s}</strong> {d}{body}{h}</li>',
                s=status,
                d=prose(response.get("description", "")),
                body=join(
                    fragment(
                        " — <code>{m}</code> {t}", m=media, t=schema_type(item.get("schema", {}))
                    )
                    for media, item in content.items()
                ),
                h=fragment(
                    '<br><span class="hint">Headers: {names}</span>',
                    names=join((fragment("<code>{n}</code>", n=n) for n in headers), ", "),
                )
                if headers
                else Html(""),
            )
        )
    return fragment('<ul class="responses">{i}</ul>', i=join(items))


def operation_section(
    spec: Mapping[str, Any], method: str, path_: str, op: Mapping[str, Any]
) -> Html:
    parameters = [*spec["paths"][path_].get("parameters", []), *op.get("parameters", [])]
    body = op.get("requestBody")
    return fragment(
        '<section class="card operation" id="{anchor}" aria-labelledby="{anchor}-title">'
        '<h3 id="{anchor}-title"><span class="method">{method}</span> <code>{path}</code></h3>'
        "<p><strong>{summary}</strong></p>{description}"
        "<p><strong>Authentication:</strong> {security}</p>"
        "{parameters}{body}<h4>Responses</h4>{responses}"
        '<p class="small"><a href="#contents">Contents</a></p></section>',
        anchor=operation_anchor(method, path_),
        method=method.upper(),
        path=path_,
        summary=prose(op.get("summary", "")),
        description=fragment("<p>{d}</p>", d=prose(op["description"]))
        if op.get("description")
        else Html(""),
        security=security_text(spec, op),
        parameters=fragment("<h4>Parameters</h4>{t}", t=parameters_table(parameters))
        if parameters
        else Html(""),
        body=fragment(
            "<h4>Request body ({r})</h4>{c}",
            r="required" if body.get("required") else "optional",
            c=request_body_detail(
                body.get("content", {}), spec.get("components", {}).get("schemas", {})
            ),
        )
        if body
        else Html(""),
        responses=responses_detail(op.get("responses", {})),
    )


def _tag_of(op: Mapping[str, Any]) -> str:
    tags = op.get("tags") or ["other"]
    return str(tags[0])


def render(spec: Mapping[str, Any]) -> Html:
    """The page's content for ``spec``: contents, operations by tag, then the schemas."""
    ops = operations(spec)
    tags = [t["name"] for t in spec.get("tags", [])]
    tags += sorted({_tag_of(op) for _, _, op in ops} - set(tags))
    tag_descriptions = {t["name"]: t.get("description", "") for t in spec.get("tags", [])}
    contents, sections = [], []
    for tag in tags:
        in_tag = [(m, p, op) for m, p, op in ops if _tag_of(op) == tag]
        if not in_tag:
            continue
        contents.append(
            fragment(
                '<li><a href="#tag-{t}">{t}</a><ul>{ops}</ul></li>',
                t=tag,
                ops=join(
                    fragment(
                        '<li><a href="#{a}"><span class="method">{m}</span> <code>{p}</code></a> '
                        "— {s}</li>",
                        a=operation_anchor(m, p),
                        m=m.upper(),
                        p=p,
                        s=prose(op.get("summary", "")),
                    )
                    for m, p, op in in_tag
                ),
            )
        )
        sections.append(
            fragment(
                '<h2 id="tag-{t}">{t}</h2><p>{d}</p>{ops}',
                t=tag,
                d=prose(tag_descriptions.get(tag, "")),
                ops=join(operation_section(spec, m, p, op) for m, p, op in in_tag),
            )
        )
    schemas = spec.get("components", {}).get("schemas", {})
    schema_sections = join(
        fragment(
            '<section class="card" id="{a}"><h3><code>{n}</code></h3>{detail}</section>',
            a=schema_anchor(name),
            n=name,
            detail=schema_detail(schema),
        )
        for name, schema in schemas.items()
    )
    info = spec.get("info", {})
    return fragment(
        "<h1>{title} API reference</h1>"
        "<p>{description}</p>"
        '<p>Version {version}. The same description as OpenAPI 3.1: <a href="/api/openapi.json">'
        "<code>/api/openapi.json</code></a>. Every error is JSON "
        "<code>{{&quot;error&quot;, &quot;hint&quot;}}</code>.</p>"
        '<nav aria-labelledby="contents" class="card"><h2 id="contents">Contents</h2>'
        '<ul class="toc">{contents}<li><a href="#schemas">Schemas</a></li></ul></nav>'
        '{sections}<h2 id="schemas">Schemas</h2>{schemas}',
        title=info.get("title", "TinyDesk"),
        description=prose(info.get("description", "")),
        version=info.get("version", ""),
        contents=join(contents),
        sections=join(sections),
        schemas=schema_sections,
    )


def docs_page(request: web.Request, content: Html) -> web.Response:
    """The page around ``render``'s content, with the pages' security headers."""
    response = page(request, "API reference", content)
    response.headers.update(SECURITY_HEADERS)
    return response
