"""Closing keywords link a pull request to issues exactly as GitHub does."""

from __future__ import annotations

import pytest

from bot.rules.linking import KEYWORDS, closing_references


@pytest.mark.parametrize("keyword", KEYWORDS)
@pytest.mark.parametrize("case", [str.lower, str.upper, str.title])
def test_all_nine_keywords_in_any_case(keyword, case):
    assert closing_references(f"{case(keyword)} #12", "octo", "app") == {12}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Fixes #12", {12}),
        ("fixes: #12", {12}),
        ("Fixes octo/app#12", {12}),
        ("Fixes OCTO/App#12", {12}),
        ("Fixes other/app#12", set()),
        ("Closes https://github.com/octo/app/issues/37876.", {37876}),
        ("Closes https://ghe.example.com/octo/app/issues/5", {5}),
        ("Closes https://github.com/other/app/issues/5", set()),
        ("resolves #3, fixes #4 and closes octo/app#5", {3, 4, 5}),
        ("Fixes #1, #2", {1}),
        ("This one will be closed soon", set()),
        ("prefixes #12", set()),
        ("fixes#12", set()),
        ("Fixes #12abc", set()),
        ("line one\r\nFixes #7\r\n", {7}),
        ("Reverts octo/app#111", set()),
        ("see #12", set()),
        ("fixes https://github.com/octo/app/pull/9", set()),
        ("", set()),
        (None, set()),
    ],
)
def test_references(text, expected):
    assert closing_references(text, "octo", "app") == expected
