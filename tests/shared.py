"""Where the checkout's shared data is: ``../shared`` (GitHub's OpenAPI description, payloads)."""

from __future__ import annotations

import os
from pathlib import Path


def shared_dir() -> Path:
    """The ``shared`` folder next to the checkout, else ``$TINYDESK_SHARED_DIR``."""
    beside = Path(__file__).resolve().parents[1] / ".." / "shared"
    if beside.is_dir():
        return beside.resolve()
    env = os.environ.get("TINYDESK_SHARED_DIR")
    if env and Path(env).is_dir():
        return Path(env)
    raise FileNotFoundError(f"no shared data at {beside}; set TINYDESK_SHARED_DIR")
