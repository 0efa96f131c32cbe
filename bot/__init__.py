"""TinyDesk: support tickets that follow their fix through GitHub."""

__version__ = "0.1.0"
