"""The one fake GitHub (it lives in ``bot.fakegithub``, which the demo uses too), as a fixture
that fails the test on any unexpected call, misuse, or unused injected failure."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.sim.fakegithub import *
from bot.sim.fakegithub import APP_ID, FakeGitHub, generate_app_key


@pytest.fixture
async def fake_github() -> AsyncIterator[FakeGitHub]:
    """A started FakeGitHub (app id ``APP_ID``, the session key pair); must be clean at teardown."""
    fake = FakeGitHub(APP_ID, generate_app_key()[1])
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()
    fake.assert_clean()
