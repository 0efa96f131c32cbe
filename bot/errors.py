"""``ApiError``: an expected failure that becomes a 4xx answer, free of aiohttp so any layer may
raise it.

``bot.http.middleware`` turns it into the ``{"error", "hint"}`` JSON every client sees.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An expected failure that maps to a 4xx answer."""

    def __init__(
        self,
        status: int,
        error: str,
        hint: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.hint = hint
        self.headers = headers or {}
        self.extra = extra
