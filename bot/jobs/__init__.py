"""Stored queues and their workers: job kinds, the outcomes a handler reports, the worker loop."""
