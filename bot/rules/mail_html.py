"""HTML mail to plain text (pure, the standard library's ``html.parser``): the words a reader
sees, never markup. Script, style and head content are dropped; entities are decoded; a link
is kept as ``text (href)``; blocks and line breaks become new lines; blockquotes are quoted
with ``>`` so the quote stripper can recognise them."""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Elements whose content is never text for the reader.
_HIDDEN = frozenset({"script", "style", "head", "title", "template", "noscript", "svg", "object"})
_BLOCKS = frozenset(
    {
        "p", "div", "section", "article", "header", "footer", "table", "tr", "ul", "ol",
        "h1", "h2", "h3", "h4", "h5", "h6", "pre", "hr", "dl", "dt", "dd", "form", "center",
    }
)  # fmt: skip
_VOID = frozenset({"br", "img", "hr", "meta", "link", "input", "area", "base", "col", "wbr"})
_SAFE_HREF = re.compile(r"^(https?|mailto):", re.IGNORECASE)


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = [""]
        self.hidden_depth = 0
        self.quote_depth = 0
        self.links: list[tuple[str, int]] = []  # href, and where its text started
        self.pre_depth = 0

    def _newline(self, *, paragraph: bool = True) -> None:
        """End the current line; ``paragraph``: leave one blank line (at most) after it."""
        current = self.lines[-1].strip(" >")
        if current or (paragraph and len(self.lines) > 1 and self.lines[-2].strip(" >")):
            self.lines.append("")
        if self.quote_depth:
            self.lines[-1] = "> " * self.quote_depth

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            if tag not in _VOID:
                self.hidden_depth += 1
            return
        if self.hidden_depth:
            return
        if tag == "br":
            self.lines.append("> " * self.quote_depth)
        elif tag == "blockquote":
            self.quote_depth += 1
            self._newline()
        elif tag == "li":
            self._newline(paragraph=False)
            self.lines[-1] += "- "
        elif tag in _BLOCKS:
            if tag == "pre":
                self.pre_depth += 1
            self._newline()
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            self.links.append((href, len(self.lines[-1])))
        elif tag == "img":
            alt = (dict(attrs).get("alt") or "").strip()
            if alt:
                self.handle_data(f"[{alt}]")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden_depth = max(0, self.hidden_depth - 1)
            return
        if self.hidden_depth:
            return
        if tag == "blockquote":
            self.quote_depth = max(0, self.quote_depth - 1)
            self._newline()
        elif tag == "li":
            self._newline(paragraph=False)
        elif tag in _BLOCKS:
            if tag == "pre":
                self.pre_depth = max(0, self.pre_depth - 1)
            self._newline()
        elif tag == "a" and self.links:
            href, _ = self.links.pop()
            text = self.lines[-1]
            if _SAFE_HREF.match(href) and href.removeprefix("mailto:") not in text:
                self.lines[-1] = f"{text} ({href})"

    def handle_data(self, data: str) -> None:
        if self.hidden_depth:
            return
        if self.pre_depth:
            parts = data.split("\n")
            self.lines[-1] += parts[0]
            for part in parts[1:]:
                self.lines.append(("> " * self.quote_depth) + part)
            return
        text = re.sub(r"\s+", " ", data)
        if not self.lines[-1].strip(" >"):
            text = text.lstrip()
        self.lines[-1] += text


def html_to_text(html: str) -> str:
    """The readable text of an HTML body."""
    parser = _TextParser()
    parser.feed(html)
    parser.close()
    lines = [line.rstrip() for line in parser.lines]
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()
