"""The SQLite fast paths behind ``Database``: the inline writing engine (``inline``,
``engine``), direct writes and checkpoints (``direct``), and the one PRAGMA list
(``pragmas``), which the Reader's connection uses too."""
