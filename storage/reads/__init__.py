"""The read-only queries behind pages and APIs, each with the records it returns."""
