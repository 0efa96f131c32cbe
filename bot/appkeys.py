"""Typed keys for what every part of the aiohttp application reads: settings, the database and
the inbox writer, the clock. Keys of one part's own objects sit beside their classes (WORKERS in
bot.jobs.worker, GITHUB in bot.github.client, RATE_LIMITER in bot.http.ratelimit)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from aiohttp import web

from bot.config import Settings
from storage.database import Database
from storage.inbox_writer import InboxWriter

SETTINGS = web.AppKey("settings", Settings)
DB = web.AppKey("db", Database)
INBOX_WRITER = web.AppKey("inbox_writer", InboxWriter)
# The time the desk's changes and the SLA lists are computed at: storage.types.utcnow, or a
# clock the tests control (set before the app starts).
CLOCK: web.AppKey[Callable[[], dt.datetime]] = web.AppKey("clock")
