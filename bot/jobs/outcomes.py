"""What a queue handler may raise: retry later (transient) or give up (park the row as failed)."""

from __future__ import annotations


class RetryLater(Exception):
    """A transient failure; ``after`` (seconds) overrides the backoff when the cause knows best."""

    def __init__(self, message: str, *, after: float | None = None) -> None:
        super().__init__(message)
        self.after = after


class GiveUp(Exception):
    """A failure that retrying cannot fix: park the row as failed now."""
