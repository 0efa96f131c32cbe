"""The event loop the long-running commands (``tinydesk serve``, ``tinydesk worker``) run on.

uvloop where it is installed (``TINYDESK_EVENT_LOOP=auto``, the default): libuv's loop runs
the same aiohttp server with less Python per request (bench/README.md, "Event loop").
``asyncio`` keeps the standard library's loop; ``uvloop`` insists on uvloop and stops the
start when it is missing rather than run slower unnoticed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from bot.config import StartupError

T = TypeVar("T")


def loop_factory(choice: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The factory for ``asyncio.Runner``; None for asyncio's own loop."""
    if choice == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        if choice == "uvloop":
            raise StartupError(
                ["TINYDESK_EVENT_LOOP=uvloop, but uvloop is not installed (pip install uvloop)"]
            ) from None
        return None
    return uvloop.new_event_loop


def describe(choice: str) -> str:
    """What a start line says of the loop: ``uvloop 0.21.0`` or ``asyncio``."""
    if loop_factory(choice) is None:
        return "asyncio"
    import uvloop

    return f"uvloop {uvloop.__version__}"


def run(main: Coroutine[Any, Any, T], choice: str) -> T:
    """``asyncio.run(main)`` on the loop ``choice`` names."""
    with asyncio.Runner(loop_factory=loop_factory(choice)) as runner:
        return runner.run(main)
