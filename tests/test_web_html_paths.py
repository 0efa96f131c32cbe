"""Links built by ``bot.web.html.path``: a segment that needs no percent-encoding skips
``quote`` (a fast path for the inbox's links), and every segment still comes out exactly as
``quote`` would write it."""

from __future__ import annotations

from urllib.parse import quote

from hypothesis import given
from hypothesis import strategies as st

from bot.web.html import path


@given(st.lists(st.text(max_size=12), min_size=1, max_size=4))
def test_every_segment_is_encoded_as_quote_encodes_it(segments):
    assert path(*segments) == "/" + "/".join(quote(s, safe="") for s in segments)


def test_plain_and_unsafe_segments():
    assert path("desk", "tickets", "TK-00042") == "/desk/tickets/TK-00042"
    assert path("desk", "a/b", "é ?#") == "/desk/a%2Fb/%C3%A9%20%3F%23"
    assert path("desk", query={"view": "open", "q": None}) == "/desk?view=open"
