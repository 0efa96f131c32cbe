"""Which attachments of an incoming message TinyDesk keeps (pure): images, PDF and plain text,
each at most ``MAX_ATTACHMENT_BYTES``, at most ``MAX_ATTACHMENTS`` a message, and only when
the bytes are what the type says (a PNG starts like a PNG), so what is served back is what was
declared. Everything else is named in a public comment, never dropped silently."""

from __future__ import annotations

import dataclasses
import re
import unicodedata

MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
MAX_ATTACHMENTS = 10
MAX_FILENAME = 120

# The accepted types, each with the magic bytes its content must start with (None: text).
ACCEPTED: dict[str, tuple[bytes, ...] | None] = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
    "application/pdf": (b"%PDF-",),
    "text/plain": None,
}
_EXTENSIONS = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "pdf": "application/pdf",
    "txt": "text/plain",
}
_UNSAFE = re.compile(r"[^A-Za-z0-9._ ()+-]+")

TYPE_REFUSED = "that type is not accepted (images, PDF and text files are)"
TOO_LARGE = f"it is larger than {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB"
TOO_MANY = f"a message may carry at most {MAX_ATTACHMENTS} attachments"
NOT_WHAT_IT_SAYS = "its content is not what its type says"


@dataclasses.dataclass(frozen=True)
class Verdict:
    content_type: str | None  # what it is stored as, when kept
    refusal: str | None  # why it is not kept, when not


def safe_filename(name: str | None, fallback: str = "attachment") -> str:
    """A file name that is safe in a header and on disk: no path, no control characters,
    only plain characters, at most MAX_FILENAME long (extension kept)."""
    text = unicodedata.normalize("NFKD", name or "")
    text = text.encode("ascii", "ignore").decode()
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = _UNSAFE.sub("_", text).strip(" ._")
    if not text:
        return fallback
    if len(text) > MAX_FILENAME:
        stem, dot, extension = text.rpartition(".")
        if dot and len(extension) <= 10:
            text = stem[: MAX_FILENAME - len(extension) - 1] + "." + extension
        else:
            text = text[:MAX_FILENAME]
    return text


def judge(filename: str, declared_type: str, size: int, head: bytes, *, position: int) -> Verdict:
    """Keep or refuse the ``position``-th (0-based) attachment of a message."""
    if position >= MAX_ATTACHMENTS:
        return Verdict(None, TOO_MANY)
    content_type = declared_type.lower()
    if content_type in {"application/octet-stream", ""}:
        extension = filename.rpartition(".")[2].lower() if "." in filename else ""
        content_type = _EXTENSIONS.get(extension, content_type)
    if content_type not in ACCEPTED:
        return Verdict(None, TYPE_REFUSED)
    if size > MAX_ATTACHMENT_BYTES:
        return Verdict(None, TOO_LARGE)
    magic = ACCEPTED[content_type]
    if magic is not None and not any(head.startswith(m) for m in magic):
        return Verdict(None, NOT_WHAT_IT_SAYS)
    if content_type == "image/webp" and head[8:12] != b"WEBP":
        return Verdict(None, NOT_WHAT_IT_SAYS)
    return Verdict(content_type, None)


def refusal_note(refused: list[tuple[str, str]]) -> str:
    """The public comment naming what was not kept: ``[(filename, reason), ...]``."""
    lines = [f"We could not keep {name}: {reason}." for name, reason in refused]
    return "\n".join(lines)
