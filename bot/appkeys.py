"""Typed keys for what every part of the aiohttp application reads: settings, the database and
the inbox writer. Keys of one part's own objects sit beside their classes (WORKERS in
bot.jobs.worker, GITHUB in bot.github.client)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from bot.config import Settings
from storage.database import Database
from storage.deliveries import InboxWriter

if TYPE_CHECKING:
    from bot.http.ratelimit import RateLimiter

SETTINGS = web.AppKey("settings", Settings)
DB = web.AppKey("db", Database)
RATE_LIMITER: web.AppKey[RateLimiter] = web.AppKey("rate_limiter")
INBOX_WRITER = web.AppKey("inbox_writer", InboxWriter)
