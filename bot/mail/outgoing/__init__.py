"""Email out: the submitter is told of each step of their ticket (README, "Email out").

- ``queue``: the ticket-events listener that records the steps to mail and queues one
  coalesced ``send_mail`` job per ticket;
- ``compose``: the mail itself, text and HTML (pure);
- ``deliver``: the job's handler: compose from the steps past the ticket's cursor, store the
  mail, then send it (``send``, aiosmtplib) under the per-address rate limit;
- ``unsubscribe``: the signed one-click unsubscribe link and its pages;
- ``digest``: the staff's daily digest.
"""
