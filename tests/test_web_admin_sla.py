"""The admin SLA pages (/admin/sla): the policies' targets as a table with seed 003's level
labels, which is the default and which products use each; the form that adds and edits a
policy with its calendar, round-tripping what it shows; refusals shown beside the field
with nothing changed; making a default, deleting, CSRF."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from storage.models import SlaPolicy
from tests.conftest import ADMIN_HEADERS
from tests.test_web_admin import sign_in
from tests.web_helpers import csrf_token

INPUT = re.compile(r"<input ([^>]*)>")
ATTRIBUTE = re.compile(r'(\w[\w.-]*)(?:="([^"]*)")?')
TEXTAREA = re.compile(r'<textarea [^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', re.S)
SELECT = re.compile(r'<select [^>]*name="([^"]+)"[^>]*>(.*?)</select>', re.S)
SELECTED = re.compile(r'<option value="([^"]*)" selected>')


def form_fields(page: str) -> dict[str, str]:
    """What a browser would post from the page's policy form, as it stands."""
    form = page[page.index('<form class="stacked"') :]
    form = form[: form.index("</form>")]
    fields: dict[str, str] = {}
    for match in INPUT.finditer(form):
        attributes = {k: html.unescape(v or "") for k, v in ATTRIBUTE.findall(match.group(1))}
        if attributes.get("type") == "checkbox" and "checked" not in attributes:
            continue
        fields[attributes["name"]] = attributes.get("value", "")
    for name, text in TEXTAREA.findall(form):
        fields[name] = html.unescape(text)
    for name, options in SELECT.findall(form):
        fields[name] = SELECTED.search(options).group(1)
    return fields


async def api_policies(client) -> list[dict]:
    resp = await client.get("/api/admin/sla/policies", headers=ADMIN_HEADERS)
    return (await resp.json())["policies"]


def eu_form(csrf: str, **overrides: str) -> dict[str, str]:
    data = {
        "csrf_token": csrf,
        "name": "EU hours",
        "targets.critical.response": "15",
        "targets.critical.resolution": "120",
        "targets.high.response": "120",
        "targets.high.resolution": "480",
        "targets.medium.response": "480",
        "targets.medium.resolution": "2880",
        "targets.low.response": "1440",
        "targets.low.resolution": "10080",
        "responseEnds": "comment",
        "warnMinutes": "20",
        "businessHours": "on",
        "calendar.timeZone": "Europe/Berlin",
        "calendar.hours.monday": "09:00-12:00, 13:00-17:00",
        "calendar.hours.tuesday": "9:00-17:00",
        "calendar.hours.wednesday": "09:00-17:00",
        "calendar.hours.thursday": "09:00-17:00",
        "calendar.hours.friday": "09:00-15:00",
        "calendar.hours.saturday": "",
        "calendar.hours.sunday": "",
        "calendar.holidays": "2026-12-24\r\n2026-12-25\r\n",
        "calendar.holidayCountry": "DE",
        "calendar.holidaySubdivision": "BY",
    }
    return {**data, **overrides}


async def test_the_list_shows_each_policys_targets_default_and_products(client, product):
    """Protects: the table admins judge their promises by (seed 003's labels and numbers)."""
    await sign_in(client)
    page = await (await client.get("/admin/sla")).text()
    assert '<a href="/admin/sla" aria-current="page">SLA policies</a>' in page  # in the nav
    for header in ("Critical (urgent)", "High", "Medium", "Low", "Products", "Default"):
        assert f'<th scope="col">{header}</th>' in page
    row = page[page.index("<td>Default</td>") :]
    row = row[: row.index("</tr>")]
    assert '<span class="badge ok">Default</span>' in row
    assert "24x7 (wall-clock time)" in row
    for cell in ("30 min / 4 h", "2 h / 8 h", "8 h / 48 h", "24 h / 7 days", "my-saas-app"):
        assert f"<td>{cell}</td>" in row
    assert "Delete" not in row  # the default cannot be deleted


async def test_a_policy_added_through_the_form_round_trips_through_the_edit_form(client, db):
    """Protects: every field of the form (targets, calendar, holidays one per line, country)
    reaches the policy, and the edit form shows it so that saving it unchanged changes
    nothing."""
    csrf = await sign_in(client)
    resp = await client.post("/admin/sla", data=eu_form(csrf), allow_redirects=False)
    assert resp.status == 303, await resp.text()
    listing = await (await client.get(resp.headers["Location"])).text()
    assert "SLA policy EU hours added." in listing
    assert "<td>15 min / 2 h</td>" in listing
    assert "<strong>Europe/Berlin</strong><br>Mon 09:00-12:00, 13:00-17:00" in listing
    assert "2 holidays; public holidays of DE-BY" in listing
    [_, eu] = await api_policies(client)
    assert eu["targets"]["critical"] == {"response": 15, "resolution": 120}
    assert eu["responseEnds"] == "comment" and eu["warnMinutes"] == 20
    assert eu["calendar"] == {
        "timeZone": "Europe/Berlin",
        "hours": {
            "monday": [["09:00", "12:00"], ["13:00", "17:00"]],
            "tuesday": [["09:00", "17:00"]],
            "wednesday": [["09:00", "17:00"]],
            "thursday": [["09:00", "17:00"]],
            "friday": [["09:00", "15:00"]],
            "saturday": [],
            "sunday": [],
        },
        "holidays": ["2026-12-24", "2026-12-25"],
        "holidayCountry": "DE",
        "holidaySubdivision": "BY",
    }

    edit = await (await client.get(f"/admin/sla/{eu['id']}")).text()
    shown = form_fields(edit)
    assert shown["calendar.hours.monday"] == "09:00-12:00, 13:00-17:00"
    assert shown["calendar.holidays"] == "2026-12-24\n2026-12-25"
    assert shown["businessHours"] == "on" and shown["responseEnds"] == "comment"
    saved = await client.post(f"/admin/sla/{eu['id']}", data=shown, allow_redirects=False)
    assert saved.status == 303
    assert "computed again" in await (await client.get(saved.headers["Location"])).text()
    [_, again] = await api_policies(client)
    assert {k: v for k, v in again.items() if k != "updatedAt"} == {
        k: v for k, v in eu.items() if k != "updatedAt"
    }

    # Unticking business hours makes it 24x7.
    shown.pop("businessHours")
    await client.post(f"/admin/sla/{eu['id']}", data=shown, allow_redirects=False)
    assert (await api_policies(client))[1]["calendar"] is None


async def test_a_new_policys_form_starts_from_seed_003s_table(client):
    await sign_in(client)
    shown = form_fields(await (await client.get("/admin/sla/new")).text())
    assert shown["targets.critical.response"] == "30"
    assert shown["targets.low.resolution"] == "10080"
    assert "businessHours" not in shown  # 24x7 unless ticked
    assert shown["calendar.hours.monday"] == "09:00-17:00"
    assert shown["calendar.hours.sunday"] == ""


async def test_bad_input_is_shown_beside_its_field_and_nothing_is_saved(client, db):
    """Protects: the issue's bad inputs (unknown zone, overlapping intervals, a holiday in
    the wrong format, negative minutes) are refused with the field named, values kept."""
    csrf = await sign_in(client)
    cases = [
        ({"calendar.timeZone": "Mars/Olympus_Mons"}, "calendar.timeZone", "not an IANA"),
        ({"calendar.hours.monday": "09:00-13:00, 12:00-17:00"}, "calendar.hours.monday", "overlap"),
        ({"calendar.hours.monday": "nine to five"}, "calendar.hours.monday", "not an interval"),
        ({"calendar.holidays": "2026-12-24\n24.12.2026"}, "calendar.holidays", "YYYY-MM-DD"),
        ({"targets.high.response": "-5"}, "targets.high.response", "whole number"),
        ({"warnMinutes": "soon"}, "warnMinutes", "whole number"),
    ]
    for change, field, words in cases:
        resp = await client.post("/admin/sla", data=eu_form(csrf, **change))
        assert resp.status == 400, change
        page = await resp.text()
        error = re.search(
            rf'<p class="field-error" id="{re.escape(field)}-error">([^<]*)</p>', page
        )
        assert error and words in html.unescape(error.group(1)), (change, page)
        assert f'id="{field}"' in page and 'aria-invalid="true"' in page
        assert 'value="EU hours"' in page  # what was typed is kept
    async with db.session() as session:
        assert (await session.scalars(select(SlaPolicy.name))).all() == ["Default"]
    taken = await client.post("/admin/sla", data=eu_form(csrf, name="default"))
    assert taken.status == 409 and "exists already" in await taken.text()


async def test_make_default_and_delete_through_the_pages(client, db):
    csrf = await sign_in(client)
    await client.post("/admin/sla", data=eu_form(csrf), allow_redirects=False)
    [default, eu] = await api_policies(client)
    refused = await client.get(f"/admin/sla/{default['id']}/remove")
    assert refused.status == 400
    assert "make another policy the default first" in await refused.text()

    made = await client.post(
        f"/admin/sla/{eu['id']}/default", data={"csrf_token": csrf}, allow_redirects=False
    )
    assert made.status == 303
    assert (
        "EU hours is now the default SLA policy."
        in await (await client.get(made.headers["Location"])).text()
    )
    confirm = await (await client.get(f"/admin/sla/{default['id']}/remove")).text()
    assert "Delete SLA policy Default?" in confirm
    removed = await client.post(
        f"/admin/sla/{default['id']}/remove",
        data={"csrf_token": csrf_token(confirm)},
        allow_redirects=False,
    )
    assert removed.status == 303
    assert [p["name"] for p in await api_policies(client)] == ["EU hours"]
    assert (await client.get("/admin/sla/999")).status == 404


async def test_sla_posts_need_the_session_csrf_token(client, db):
    await sign_in(client)
    for url in ("/admin/sla", "/admin/sla/1", "/admin/sla/1/remove", "/admin/sla/1/default"):
        resp = await client.post(url, data=eu_form("forged"), allow_redirects=False)
        assert resp.status == 403, url
    async with db.session() as session:
        assert (await session.scalars(select(SlaPolicy.name))).all() == ["Default"]
