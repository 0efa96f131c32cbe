"""Persistence for TinyDesk: models, the Database, units of work, repositories, reads,
migrations.

``database`` (the Database: engines, sessions, ``begin()``), ``unit`` (OwnTransactions,
BatchTransaction), ``dialect`` (every SQLite/PostgreSQL difference), ``sqlite/`` (the SQLite
fast paths), ``visibility`` (the desk's scope rule), ``repos/`` (one repository per
aggregate, never committing), ``reads/`` (plain-SQL reads with their records), ``reader``,
``inbox_writer``, ``models``, ``types``, ``migrate`` and ``migrations/``.

Nothing here imports from ``bot`` or ``webhooks`` (a test checks); vocabularies are stored
as plain strings (``QueueState`` is a ``StrEnum``).
"""
