"""Billed minutes from logged minutes: one rule per contract, an increment and a mode. Pure.

``round_minutes(7, 15, UP)`` is 15; ``NEAREST`` takes a half increment up (7.5 of 15 -> 15);
``DOWN`` may bill 0. Increment 1 bills exactly what was logged. TinyDesk keeps both the raw and
the billed minutes of every invoiced entry, and prints both.
"""

from __future__ import annotations

import enum


class RoundingMode(enum.StrEnum):
    UP = "up"
    NEAREST = "nearest"
    DOWN = "down"


MAX_INCREMENT = 240  # four hours: more would be a minimum charge, not a rounding


def round_minutes(minutes: int, increment: int, mode: RoundingMode) -> int:
    if minutes < 0 or increment < 1:
        raise ValueError("minutes must be >= 0 and the increment >= 1")
    whole, rest = divmod(minutes, increment)
    if rest == 0:
        return minutes
    if mode is RoundingMode.UP or (mode is RoundingMode.NEAREST and 2 * rest >= increment):
        whole += 1
    return whole * increment


def describe(increment: int, mode: RoundingMode) -> str:
    """The rule in words, as invoices print it."""
    if increment == 1:
        return "exact minutes"
    way = {RoundingMode.UP: "up", RoundingMode.NEAREST: "to the nearest",
           RoundingMode.DOWN: "down"}[mode]
    return f"rounded {way} to {increment} minutes per entry"
