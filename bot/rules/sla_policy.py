"""SLA policies as stored and as sent: the JSON document of a policy, checked field by field,
and turned into the ``bot.rules.sla.Policy`` the clocks use. Pure.

The document (API and storage alike, camelCase as the desk API)::

    {"name": "EU business hours",
     "targets": {"critical": {"response": 30, "resolution": 240}, "high": {...}, ...},
     "calendar": {"timeZone": "Europe/Berlin",
                  "hours": {"monday": [["09:00", "17:00"]], ..., "sunday": []},
                  "holidays": ["2026-12-24", "2026-12-25"],
                  "holidayCountry": "DE", "holidaySubdivision": "BY"},
     "responseEnds": "comment_or_status",
     "warnMinutes": 30}

``calendar: null`` is wall-clock time, 24x7. Targets are whole minutes, at least 1; a
level left out of ``targets`` keeps seed 003's default (or, on an edit, its current value).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from bot.rules import business_time
from bot.rules.business_time import WEEKDAYS, Calendar, Interval
from bot.rules.numbers import bounded_int
from bot.rules.sla import DEFAULT_TARGETS, Level, Policy, ResponseEnds, Target

MAX_NAME = 100
MAX_TARGET_MINUTES = 365 * 24 * 60
MAX_HOLIDAYS = 1000
_CLOCK_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")
_LEVEL_WORDS = {"urgent": Level.CRITICAL, **{level.value: level for level in Level}}


@dataclasses.dataclass(frozen=True)
class PolicyDoc:
    """A checked policy document, as stored (``storage.models.SlaPolicy`` columns)."""

    name: str
    targets: dict[str, dict[str, int]]
    calendar: dict[str, Any] | None
    response_ends: str
    warn_minutes: int


def default_targets_doc() -> dict[str, dict[str, int]]:
    return {
        level.value: {"response": t.response_minutes, "resolution": t.resolution_minutes}
        for level, t in DEFAULT_TARGETS.items()
    }


def policy_of(
    name: str,
    targets: Mapping[str, Mapping[str, int]],
    calendar: Mapping[str, Any] | None,
    response_ends: str,
    warn_minutes: int,
) -> Policy:
    """The rules' Policy from stored (already checked) fields."""
    merged = dict(DEFAULT_TARGETS)
    for word, target in targets.items():
        merged[_LEVEL_WORDS[word]] = Target(int(target["response"]), int(target["resolution"]))
    return Policy(
        name=name,
        targets=merged,
        calendar=calendar_of(calendar) if calendar is not None else None,
        response_ends=ResponseEnds(response_ends),
        warn_minutes=warn_minutes,
    )


def calendar_of(doc: Mapping[str, Any]) -> Calendar:
    hours = doc.get("hours") or {}
    week = [tuple(_interval(pair) for pair in hours.get(day, [])) for day in WEEKDAYS]
    return business_time.calendar(
        doc["timeZone"],
        week,
        [dt.date.fromisoformat(day) for day in doc.get("holidays", [])],
        holiday_country=doc.get("holidayCountry"),
        holiday_subdivision=doc.get("holidaySubdivision"),
    )


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _interval(pair: list[str]) -> Interval:
    return _minutes(pair[0]), _minutes(pair[1])


# --------------------------------------------------------------------------- checking


def check_policy(
    data: Any, current: PolicyDoc | None = None
) -> tuple[PolicyDoc | None, dict[str, str]]:
    """The document checked against ``current`` (an edit: fields left out keep their value;
    None: a new policy). Returns the merged document, or the problems by field."""
    fields: dict[str, str] = {}
    if not isinstance(data, dict):
        return None, {"body": "send a JSON object"}
    unknown = sorted(set(data) - {"name", "targets", "calendar", "responseEnds", "warnMinutes"})
    for key in unknown:
        fields[key] = (
            f"unknown field {key!r} (known: name, targets, calendar, responseEnds, warnMinutes)"
        )
    name = current.name if current else None
    if "name" in data or current is None:
        name = _check_name(data.get("name"), fields)
    targets = dict(current.targets) if current else default_targets_doc()
    if "targets" in data:
        targets.update(_check_targets(data["targets"], fields))
    calendar = current.calendar if current else None
    if "calendar" in data:
        calendar = _check_calendar(data["calendar"], fields)
    response_ends = current.response_ends if current else ResponseEnds.COMMENT_OR_STATUS.value
    if "responseEnds" in data:
        value = data["responseEnds"]
        if not isinstance(value, str) or value not in {e.value for e in ResponseEnds}:
            fields["responseEnds"] = (
                "responseEnds is comment (the first public staff comment) or "
                "comment_or_status (that, or the first status change by staff)"
            )
        else:
            response_ends = value
    warn = current.warn_minutes if current else 30
    if "warnMinutes" in data:
        value = bounded_int(data["warnMinutes"], minimum=0, maximum=MAX_TARGET_MINUTES)
        if value is None:
            fields["warnMinutes"] = "warnMinutes is a whole number of minutes, 0 or more"
        else:
            warn = value
    if fields:
        return None, fields
    assert name is not None
    return PolicyDoc(name, targets, calendar, response_ends, warn), {}


def _check_name(value: Any, fields: dict[str, str]) -> str | None:
    if not isinstance(value, str) or not value.strip():
        fields["name"] = "name is required: a short name such as 'EU business hours'"
        return None
    if len(value.strip()) > MAX_NAME or "\x00" in value:
        fields["name"] = f"name is at most {MAX_NAME} characters, without NUL"
        return None
    return value.strip()


def _check_targets(value: Any, fields: dict[str, str]) -> dict[str, dict[str, int]]:
    if not isinstance(value, dict):
        fields["targets"] = 'targets is an object: {"critical": {"response": 30, ...}, ...}'
        return {}
    checked: dict[str, dict[str, int]] = {}
    for word, target in value.items():
        level = _LEVEL_WORDS.get(word)
        where = f"targets.{word}"
        if level is None:
            fields[where] = "levels are critical (or urgent), high, medium and low"
            continue
        if not isinstance(target, dict) or set(target) - {"response", "resolution"}:
            fields[where] = 'give {"response": minutes, "resolution": minutes}'
            continue
        base = checked.get(level.value) or {
            "response": DEFAULT_TARGETS[level].response_minutes,
            "resolution": DEFAULT_TARGETS[level].resolution_minutes,
        }
        merged = dict(base)
        for clock in ("response", "resolution"):
            if clock not in target:
                continue
            # 30.0 is 30, as JSON Schema's integer says.
            minutes = bounded_int(target[clock], maximum=MAX_TARGET_MINUTES)
            if minutes is None:
                fields[f"{where}.{clock}"] = (
                    f"a whole number of minutes from 1 to {MAX_TARGET_MINUTES} (a year)"
                )
            else:
                merged[clock] = minutes
        checked[level.value] = merged
    return checked


def _check_calendar(value: Any, fields: dict[str, str]) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        fields["calendar"] = "calendar is null (24x7) or an object with timeZone and hours"
        return None
    known = {"timeZone", "hours", "holidays", "holidayCountry", "holidaySubdivision"}
    for key in sorted(set(value) - known):
        fields[f"calendar.{key}"] = f"unknown field (known: {', '.join(sorted(known))})"
    zone = value.get("timeZone")
    if not isinstance(zone, str) or not zone:
        fields["calendar.timeZone"] = "an IANA time zone such as Europe/Berlin"
        zone = None
    hours = value.get("hours")
    week: list[list[Interval]] = []
    doc_hours: dict[str, list[list[str]]] = {}
    if not isinstance(hours, dict) or set(hours) - set(WEEKDAYS):
        fields["calendar.hours"] = (
            'hours is an object by weekday: {"monday": [["09:00", "17:00"]], ...}; '
            "a weekday left out has no working time"
        )
    else:
        for day in WEEKDAYS:
            pairs = hours.get(day, [])
            ok = isinstance(pairs, list) and all(
                isinstance(p, list)
                and len(p) == 2
                and all(isinstance(t, str) and _CLOCK_TIME.match(t) for t in p)
                for p in pairs
            )
            if not ok:
                fields[f"calendar.hours.{day}"] = (
                    'a list of ["HH:MM", "HH:MM"] intervals (00:00 to 24:00)'
                )
                week.append([])
                continue
            week.append([_interval(p) for p in pairs])
            doc_hours[day] = [list(p) for p in pairs]
    holidays: list[str] = []
    raw = value.get("holidays", [])
    if not isinstance(raw, list) or len(raw) > MAX_HOLIDAYS:
        fields["calendar.holidays"] = f"a list of at most {MAX_HOLIDAYS} dates (YYYY-MM-DD)"
    else:
        for index, day in enumerate(raw):
            try:
                if not isinstance(day, str) or len(day) != 10:
                    raise ValueError(day)
                holidays.append(dt.date.fromisoformat(day).isoformat())
            except ValueError:
                fields[f"calendar.holidays[{index}]"] = (
                    f"{day!r} is not a date in the form YYYY-MM-DD (such as 2026-12-25)"
                )
                break
    country = value.get("holidayCountry")
    subdivision = value.get("holidaySubdivision")
    for key, text in (("holidayCountry", country), ("holidaySubdivision", subdivision)):
        if text is not None and (not isinstance(text, str) or not 1 <= len(text) <= 10):
            fields[f"calendar.{key}"] = "an ISO 3166 code such as DE (or a region such as BY)"
    if subdivision is not None and country is None:
        fields["calendar.holidaySubdivision"] = "a subdivision needs holidayCountry too"
    if any(key.startswith("calendar") for key in fields) or zone is None:
        return None
    for field, why in business_time.problems(zone, week, country, subdivision).items():
        fields[f"calendar.{field}"] = why
    if any(key.startswith("calendar") for key in fields):
        return None
    doc: dict[str, Any] = {"timeZone": zone, "hours": doc_hours, "holidays": sorted(holidays)}
    if country is not None:
        doc["holidayCountry"] = country
    if subdivision is not None:
        doc["holidaySubdivision"] = subdivision
    return doc
