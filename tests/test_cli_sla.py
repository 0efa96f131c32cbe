"""``tinydesk sla policies`` and ``tinydesk sla policy ...``, run as the real command (a
subprocess, as a script or an admin's shell runs it) on an SQLite file: what each prints,
that a refusal is one line per problem naming the flag with exit code 1 and changes
nothing, and that the CLI and the admin API manage the same policies."""

from __future__ import annotations

import json

import pytest

from tests.test_cli import tinydesk

SEED_003_LINES = [
    "  Critical (urgent)  response 30 min   resolution 4 h",
    "  High               response 2 h      resolution 8 h",
    "  Medium             response 8 h      resolution 48 h",
    "  Low                response 24 h     resolution 7 days",
]


@pytest.fixture
def env(tmp_path):
    return {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"}


def run(env, *argv: str) -> tuple[int, str, str]:
    proc = tinydesk(*argv, env=env)
    return proc.returncode, proc.stdout, proc.stderr


def listed(env) -> list[dict]:
    code, out, err = run(env, "sla", "policies", "--json")
    assert code == 0, err
    return json.loads(out)


def test_the_default_policy_is_listed_with_seed_003s_table(env):
    code, out, err = run(env, "sla", "policies")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "Default (default)  id 1"
    assert lines[1] == "  calendar: 24x7 (wall-clock time)"
    assert lines[2:6] == SEED_003_LINES


def test_a_policy_is_added_from_flags_shown_edited_made_default_and_removed(env):
    code, out, err = run(
        env,
        "sla",
        "policy",
        "add",
        "EU hours",
        "--time-zone",
        "Europe/Berlin",
        "--hours",
        "mon-fri=09:00-12:00,13:00-17:00",
        "--holiday",
        "2026-12-24",
        "--target",
        "critical=15m/2h",
        "--warn-minutes",
        "10",
    )
    assert (code, err) == (0, "")
    assert out == "added SLA policy 'EU hours', id 2\n"
    code, out, err = run(env, "sla", "policy", "show", "eu hours")
    assert code == 0, err
    assert out.splitlines()[:3] == [
        "EU hours  id 2",
        "  calendar: Europe/Berlin: mon 09:00-12:00,13:00-17:00; tue 09:00-12:00,13:00-17:00; "
        "wed 09:00-12:00,13:00-17:00; thu 09:00-12:00,13:00-17:00; "
        "fri 09:00-12:00,13:00-17:00; 1 holiday",
        "  Critical (urgent)  response 15 min   resolution 2 h",
    ]
    [_, eu] = listed(env)
    assert eu["calendar"]["holidays"] == ["2026-12-24"] and eu["warnMinutes"] == 10
    assert eu["targets"]["high"] == {"response": 120, "resolution": 480}  # seed 003's

    code, out, err = run(env, "sla", "policy", "edit", "EU hours", "--target", "low=2d/10d")
    assert code == 0, err
    assert out == "updated SLA policy 'EU hours'; due times of 0 open tickets computed again\n"
    assert listed(env)[1]["targets"]["low"] == {"response": 2880, "resolution": 14400}
    # The calendar flags change the current calendar: the hours and holidays stay.
    assert run(env, "sla", "policy", "edit", "EU hours", "--holiday-country", "DE")[0] == 0
    calendar = listed(env)[1]["calendar"]
    assert calendar["holidayCountry"] == "DE" and calendar["holidays"] == ["2026-12-24"]

    code, out, err = run(env, "sla", "policy", "remove", "Default")
    assert code == 1 and out == ""
    assert "make another policy the default first" in err and len(err.splitlines()) == 1
    assert run(env, "sla", "policy", "default", "EU hours")[1] == (
        "'EU hours' is the default SLA policy\n"
    )
    code, out, err = run(env, "sla", "policy", "remove", "default")
    assert code == 0, err
    assert (
        out == "removed SLA policy 'Default'; 0 product(s) and 0 ticket(s) now follow 'EU hours'\n"
    )
    assert [(p["name"], p["default"]) for p in listed(env)] == [("EU hours", True)]


def test_a_policy_is_added_from_a_json_file_and_flags_win(env, tmp_path):
    path = tmp_path / "policy.json"
    path.write_text(
        json.dumps(
            {
                "name": "US hours",
                "calendar": {
                    "timeZone": "America/New_York",
                    "hours": {"monday": [["08:00", "18:00"]]},
                },
                "responseEnds": "comment",
            }
        )
    )
    code, _, err = run(env, "sla", "policy", "add", "--file", str(path), "--warn-minutes", "0")
    assert code == 0, err
    us = listed(env)[1]
    assert us["name"] == "US hours" and us["responseEnds"] == "comment"
    assert us["calendar"]["timeZone"] == "America/New_York" and us["warnMinutes"] == 0


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (
            ["--time-zone", "Mars/Olympus_Mons", "--hours", "mon=09:00-17:00"],
            "tinydesk: --time-zone (calendar.timeZone): 'Mars/Olympus_Mons' is not an IANA "
            "time zone (such as Europe/Berlin)",
        ),
        (
            ["--time-zone", "UTC", "--hours", "mon=09:00-13:00,12:00-17:00"],
            "tinydesk: --hours (calendar.hours.monday): intervals overlap",
        ),
        (
            ["--time-zone", "UTC", "--hours", "mon=09:00-17:00", "--holiday", "24.12.2026"],
            "tinydesk: --holiday (calendar.holidays[0]): '24.12.2026' is not a date in the form "
            "YYYY-MM-DD (such as 2026-12-25)",
        ),
        (
            ["--warn-minutes", "-5"],
            "tinydesk: --warn-minutes (warnMinutes): warnMinutes is a whole number of minutes, "
            "0 or more",
        ),
        (
            ["--target", "critical=-5/4h"],
            "tinydesk: --target: '-5' is not a duration such as 30, 30m, 4h or 7d",
        ),
        (
            ["--target", "critical=0/4h"],
            "tinydesk: --target (targets.critical.response): a whole number of minutes from 1 "
            "to 525600 (a year)",
        ),
        (
            ["--hours", "someday=09:00-17:00"],
            "tinydesk: --hours: 'someday' does not name weekdays (mon, tue, ... or mon-fri)",
        ),
        (
            ["--24x7", "--time-zone", "UTC"],
            "tinydesk: --24x7: leave out the calendar flags (--time-zone, --hours, ...)",
        ),
    ],
    ids=[
        "unknown time zone",
        "overlapping intervals",
        "holiday format",
        "negative warning",
        "negative minutes",
        "zero minutes",
        "unknown weekday",
        "24x7 and a calendar",
    ],
)
def test_bad_input_is_one_line_naming_the_flag_exit_1_and_nothing_is_added(env, argv, line):
    code, out, err = run(env, "sla", "policy", "add", "Bad", *argv)
    assert (code, out) == (1, "")
    assert err.splitlines() == [line]
    assert [p["name"] for p in listed(env)] == ["Default"]


def test_names_are_unique_whatever_their_case_and_unknown_names_are_refused(env):
    code, _, err = run(env, "sla", "policy", "add", "DEFAULT")
    assert code == 1
    assert err == "tinydesk: NAME / --name (name): a policy named 'Default' exists already\n"
    code, _, err = run(env, "sla", "policy", "show", "Gold")
    assert code == 1
    assert err == "tinydesk: SLA policy not found: tinydesk sla policies lists their names\n"
    code, _, err = run(env, "sla", "policy", "edit", "Default")
    assert code == 1 and err.startswith("tinydesk: nothing to change")


def test_a_products_policy_is_set_by_name_shown_and_set_back_to_the_default(env):
    assert run(env, "products", "add", "app", "--repo", "o/app")[0] == 0
    assert run(env, "sla", "policy", "add", "Gold", "--target", "high=1h/4h")[0] == 0
    code, _, err = run(env, "products", "set", "app", "--sla-policy", "gold")
    assert code == 0, err
    code, out, err = run(env, "products", "list", "--json")
    assert json.loads(out)[0]["slaPolicy"] == "Gold"
    assert listed(env)[1]["products"] == ["app"]
    code, _, err = run(env, "products", "set", "app", "--sla-policy", "Silver")
    assert code == 1 and "No SLA policy is named 'Silver'" in err
    assert run(env, "products", "set", "app", "--sla-policy", "default")[0] == 0
    code, out, err = run(env, "products", "list", "--json")
    assert json.loads(out)[0]["slaPolicy"] is None
    assert listed(env)[0]["products"] == ["app"]
