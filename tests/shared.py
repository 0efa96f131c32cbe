"""Where the checkout's shared data is: ``../shared`` (GitHub's OpenAPI description, payloads).

A fresh clone has no ``../shared``: every test that needs it calls ``shared_dir()``, which
then skips the test with ``SKIP_REASON``. CI has it, and ``.ci/run`` sets
``TINYDESK_REQUIRE_SHARED=1``, which turns that skip into a failure, so no test goes
unrun there for want of it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SKIP_REASON = "needs ../shared (GitHub's payload captures and OpenAPI description); CI runs it"
REQUIRE = "TINYDESK_REQUIRE_SHARED"
BESIDE = Path(__file__).resolve().parents[1] / ".." / "shared"


def find_shared_dir() -> Path | None:
    """The ``shared`` folder next to the checkout, else ``$TINYDESK_SHARED_DIR``, else None."""
    if BESIDE.is_dir():
        return BESIDE.resolve()
    env = os.environ.get("TINYDESK_SHARED_DIR")
    if env and Path(env).is_dir():
        return Path(env)
    return None


def shared_dir() -> Path:
    """The shared folder; without one, skip the calling test (fail it under
    ``TINYDESK_REQUIRE_SHARED=1``). Call it before starting anything that reads it later
    (``tests.fakes.checked_fake`` does), so the skip happens in the test, not in a server."""
    found = find_shared_dir()
    if found is not None:
        return found
    if os.environ.get(REQUIRE, "").strip() == "1":
        pytest.fail(
            f"{SKIP_REASON}: {REQUIRE}=1 but there is no {BESIDE.resolve()} and "
            "TINYDESK_SHARED_DIR names no folder",
            pytrace=False,
        )
    pytest.skip(SKIP_REASON)
