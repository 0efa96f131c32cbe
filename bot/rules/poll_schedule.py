"""How often an open tracking page asks for news (pure; bot/web/static/track.js mirrors it).

A page polls every ``BASE_SECONDS`` while things move; each answer that brings nothing new
doubles the wait, up to ``MAX_SECONDS``; news brings it back to the base. Failures back off the
same way. At CLOSED there is nothing left to wait for: the page does not poll at all (a
reopened ticket is seen on the next visit, or by Refresh). A hidden tab does not poll.
"""

from __future__ import annotations

from collections.abc import Iterable

BASE_SECONDS = 5.0
MAX_SECONDS = 300.0
FACTOR = 2.0
# Stages after which the page stops asking.
FINAL_STAGES = frozenset({"CLOSED"})


def next_delay(
    quiet_polls: int, *, base: float = BASE_SECONDS, ceiling: float = MAX_SECONDS
) -> float:
    """The wait before the next poll after ``quiet_polls`` answers in a row without news
    (or failures)."""
    if quiet_polls <= 0:
        return base
    # Capped before the power grows past what a float holds.
    exponent = min(quiet_polls, 64)
    return min(ceiling, base * FACTOR**exponent)


def keeps_polling(stage: str) -> bool:
    return stage not in FINAL_STAGES


def poll_times(
    duration: float,
    changes_at: Iterable[float] = (),
    *,
    base: float = BASE_SECONDS,
    ceiling: float = MAX_SECONDS,
) -> list[float]:
    """When a page open for ``duration`` seconds polls, given the times its ticket changed
    (each change is seen by the first poll after it). For the benchmark and the tests."""
    pending = sorted(changes_at)
    times: list[float] = []
    now, quiet = 0.0, 0
    while True:
        now += next_delay(quiet, base=base, ceiling=ceiling)
        if now > duration:
            return times
        times.append(now)
        news = False
        while pending and pending[0] <= now:
            pending.pop(0)
            news = True
        quiet = 0 if news else quiet + 1
