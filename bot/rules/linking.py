"""Which issues a pull request closes: GitHub's closing keywords in its title and body.

GitHub links a PR to an issue when a keyword (close, closes, closed, fix, fixes, fixed,
resolve, resolves, resolved; any case, an optional colon) is followed by ``#12``,
``owner/repo#12`` or the issue's URL. A reference to another repository is not ours.
"""

from __future__ import annotations

import re
from typing import Any

KEYWORDS = ("close", "closes", "closed", "fix", "fixes", "fixed", "resolve", "resolves", "resolved")

_REFERENCE = re.compile(
    r"(?<![\w-])(?:" + "|".join(KEYWORDS) + r")(?::\s*|\s+)(?::\s*)?"
    r"(?:"
    r"(?P<owner>[A-Za-z0-9][A-Za-z0-9-]*)/(?P<repo>[A-Za-z0-9._-]+)#(?P<n1>\d+)"
    r"|#(?P<n2>\d+)"
    r"|https?://[^\s/]+(?:/[^\s/]+)*?/(?P<uowner>[A-Za-z0-9][A-Za-z0-9-]*)/(?P<urepo>[A-Za-z0-9._-]+)/issues/(?P<n3>\d+)"
    r")(?![\w/])",
    re.IGNORECASE,
)


def closing_references(text: str | None, owner: str, repo: str) -> set[int]:
    """Issue numbers in ``owner/repo`` that ``text`` says it closes."""
    if not text:
        return set()
    numbers = set()
    for match in _REFERENCE.finditer(text):
        if match.group("n2"):
            numbers.add(int(match.group("n2")))
            continue
        ref_owner = match.group("owner") or match.group("uowner")
        ref_repo = match.group("repo") or match.group("urepo")
        if ref_owner.lower() == owner.lower() and ref_repo.lower() == repo.lower():
            numbers.add(int(match.group("n1") or match.group("n3")))
    return {n for n in numbers if 0 < n < 2**31}


def pull_request_references(pull_request: dict[str, Any], owner: str, repo: str) -> set[int]:
    """Closing references in a PR payload's title and body (either may be null or absent)."""
    title = pull_request.get("title") or ""
    body = pull_request.get("body") or ""
    return closing_references(f"{title}\n{body}", owner, repo)
