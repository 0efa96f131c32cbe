"""Logging: readable lines on a terminal, JSON lines elsewhere, with structured ``extra`` fields."""

from __future__ import annotations

import json
import logging
import sys

from bot.config import OWN_LOGGERS

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extra = {k: v for k, v in vars(record).items() if k not in _STANDARD}
        if extra:
            line += " " + " ".join(f"{k}={v}" for k, v in extra.items())
        return line


def configure_logging(level: str = "INFO", debug_loggers: tuple[str, ...] = ()) -> None:
    """Log at ``level`` from TinyDesk's own loggers (``OWN_LOGGERS``); every other logger
    (aiosqlite, asyncio, sqlalchemy, alembic, aiohttp, ...) at WARNING or above, except
    those named in ``debug_loggers`` (TINYDESK_DEBUG_LOGGERS), which log everything."""
    handler = logging.StreamHandler(sys.stderr)
    if sys.stderr.isatty():
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    else:
        handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(max(logging.WARNING, logging.getLevelName(level)))
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(level)
    for name in debug_loggers:
        logging.getLogger(name).setLevel(logging.DEBUG)
