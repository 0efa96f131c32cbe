"""TinyDesk's Python client: ``from tinydesk.client import Client, AsyncClient``."""
