"""Typed keys for what the aiohttp application holds."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from bot.config import Settings
from storage.database import Database
from storage.inbox_writer import InboxWriter

if TYPE_CHECKING:
    from bot.github.client import GitHubApp
    from bot.http.ratelimit import RateLimiter
    from bot.jobs.worker import Workers

SETTINGS = web.AppKey("settings", Settings)
DB = web.AppKey("db", Database)
RATE_LIMITER: web.AppKey[RateLimiter] = web.AppKey("rate_limiter")
WORKERS: web.AppKey[Workers] = web.AppKey("workers")
GITHUB: web.AppKey[GitHubApp | None] = web.AppKey("github")
INBOX_WRITER = web.AppKey("inbox_writer", InboxWriter)
