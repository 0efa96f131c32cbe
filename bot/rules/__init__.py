"""Pure rules: the pipeline, desk status, closing keywords, ids and field validation. No I/O:
nothing here imports aiohttp, SQLAlchemy or gidgethub (tests/test_architecture.py)."""
