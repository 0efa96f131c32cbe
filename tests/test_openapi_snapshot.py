"""The OpenAPI document assembled from its per-audience modules says exactly what the single
hand-written document said before the split (tests/data/openapi-before.json, taken from it)."""

from __future__ import annotations

import json
from pathlib import Path

from bot import __version__
from bot.api.openapi import SPEC

BEFORE = Path(__file__).parent / "data" / "openapi-before.json"


def test_the_assembled_document_equals_the_one_before_the_split():
    before = json.loads(BEFORE.read_text())
    before["info"]["version"] = __version__  # the snapshot's release number is not the point
    # Through JSON, as served: tuples become lists; dict order is not compared.
    assert json.loads(json.dumps(SPEC)) == before


def test_the_per_audience_parts_do_not_overlap():
    from bot.api.openapi import (
        admin,
        alerts,
        billing,
        desk,
        desk_actions,
        helpdesk,
        mail,
        operations,
        parts,
        public,
        sla,
        sla_policies,
        staff,
    )

    modules = (
        parts,
        operations,
        public,
        desk,
        desk_actions,
        sla,
        admin,
        sla_policies,
        billing,
        mail,
        alerts,
        helpdesk,
        staff,
    )
    schema_names = [name for m in modules for name in m.SCHEMAS]
    assert len(schema_names) == len(set(schema_names))
    audiences = (
        operations,
        public,
        desk,
        desk_actions,
        sla,
        admin,
        billing,
        mail,
        alerts,
        helpdesk,
        staff,
    )
    paths = [p for m in audiences for p in m.PATHS]
    paths += [*sla_policies.DESK_PATHS, *sla_policies.ADMIN_PATHS]
    assert len(paths) == len(set(paths)) == len(SPEC["paths"])
