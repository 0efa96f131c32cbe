"""Persistence for TinyDesk: models, the Database unit of work, repositories, migrations.

Nothing here imports from ``bot`` or ``webhooks``; vocabularies are stored as plain strings.
"""
