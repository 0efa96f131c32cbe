"""TinyDesk on GitHub: the App's client (JWT, installation tokens, the one error translation),
what it writes (comments.py), and the outbox that writes it (outbox.py)."""
