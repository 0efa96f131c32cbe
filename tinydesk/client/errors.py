"""What a refused request raises."""

from __future__ import annotations

from typing import Any


class TinyDeskError(Exception):
    """A 4xx or 5xx answer: TinyDesk's ``{"error", "hint", "fields"}`` as attributes."""

    def __init__(self, status: int, body: Any) -> None:
        body = body if isinstance(body, dict) else {}
        self.status = status
        self.error: str = str(body.get("error") or f"HTTP {status}")
        self.hint: str | None = body.get("hint")
        self.fields: dict[str, str] = dict(body.get("fields") or {})
        self.body = body
        message = self.error + (f" ({self.hint})" if self.hint else "")
        super().__init__(f"{status}: {message}")
