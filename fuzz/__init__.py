"""Fuzz targets for the webhook receiver and the payload readers (README, "Development").

``python -m fuzz readers --seconds 60`` or ``python -m fuzz receiver --runs 2000 --seed 1``:
atheris (libFuzzer, coverage-guided) when it is installed, else a seeded random loop over the
same mutations. The corpus is the real payloads: ``bot/sim/shapes`` always, and
``../shared/github-payloads`` and ``../shared/github-payloads-real`` when present.

- ``readers`` (``fuzz.targets.ReadersTarget``): a payload, mutated as JSON (types swapped,
  fields null or missing, huge integers, deep nesting, odd Unicode), is read by the payload
  readers and run through every matching handler (``webhooks.inbox.InboxProcessor``) against
  a real database holding a product for the repository and tickets on its issues. An
  exception escaping the processor, or a handler failing on the payload's shape (a
  ``TypeError``/``KeyError``... in a reader) is a finding.
- ``receiver`` (``fuzz.targets.ReceiverTarget``): random bodies and headers (signature valid,
  wrong, absent, SHA-1 only or malformed; content types; delivery ids) posted to
  ``/webhooks/github`` of the whole app: never a 5xx, nothing stored unless signed.
"""
