"""axe-core, the accessibility rules engine the browser tests run (tests/a11y.py), fetched once
from the npm registry and cached: the pinned release's tarball, checked against the sha512
integrity value the registry publishes for it, and its ``package/axe.min.js`` (with its
MPL-2.0 licence) kept in ``.cache/axe-core/<version>/``, which git ignores.

Nothing of it is committed. ``python -m tests.axe_core`` fetches it (``.ci/run`` does, before
the tests); a test that needs it calls ``axe_source()``, which fetches it when the cache is
empty, and without it skips the test saying why — or fails it under ``TINYDESK_REQUIRE_AXE=1``,
as CI sets, so no accessibility check goes unrun there.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import sys
import tarfile
import urllib.request
from pathlib import Path

VERSION = "4.14.1"
TARBALL = f"https://registry.npmjs.org/axe-core/-/axe-core-{VERSION}.tgz"
# ``dist.integrity`` of axe-core 4.14.1 in https://registry.npmjs.org/axe-core
INTEGRITY = (
    "sha512-"
    "FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="
)
CACHE = Path(__file__).resolve().parents[1] / ".cache" / "axe-core" / VERSION
SCRIPT = CACHE / "axe.min.js"
# The script last: its presence is what says the cache is whole.
KEPT = {"package/LICENSE": "LICENSE", "package/axe.min.js": "axe.min.js"}
REQUIRE = "TINYDESK_REQUIRE_AXE"
SKIP_REASON = (
    f"needs axe-core {VERSION} from the npm registry (python -m tests.axe_core fetches it); "
    "CI runs it"
)


class FetchFailed(Exception):
    """The tarball could not be downloaded, or is not the one the registry vouches for."""


def integrity_of(data: bytes) -> str:
    """npm's Subresource-Integrity form of ``data``: ``sha512-`` and the base64 digest."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def unpack(tarball: bytes, into: Path) -> None:
    """Check ``tarball`` against the pinned integrity, then write the kept files into ``into``
    (written beside and renamed, so a half-written cache is never taken for a whole one)."""
    if integrity_of(tarball) != INTEGRITY:
        raise FetchFailed(f"{TARBALL} does not match the pinned integrity {INTEGRITY}")
    into.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        for member, name in KEPT.items():
            source = archive.extractfile(member)
            if source is None:
                raise FetchFailed(f"{TARBALL} has no {member}")
            partial = into / f"{name}.{os.getpid()}.partial"
            partial.write_bytes(source.read())
            partial.replace(into / name)


def fetch(timeout: float = 60) -> Path:
    """The cached axe.min.js, downloading and checking the tarball first if it is not there."""
    if SCRIPT.is_file():
        return SCRIPT
    try:
        with urllib.request.urlopen(TARBALL, timeout=timeout) as response:
            tarball = response.read()
    except OSError as exc:
        raise FetchFailed(f"could not download {TARBALL}: {exc}") from exc
    unpack(tarball, CACHE)
    return SCRIPT


def axe_source() -> str:
    """axe.min.js's text, for a test; skips the calling test without it (fails it under
    ``TINYDESK_REQUIRE_AXE=1``)."""
    import pytest

    try:
        return fetch().read_text(encoding="utf-8")
    except FetchFailed as exc:
        if os.environ.get(REQUIRE, "").strip() == "1":
            pytest.fail(f"{SKIP_REASON}: {REQUIRE}=1 and {exc}", pytrace=False)
        pytest.skip(f"{SKIP_REASON} ({exc})")


if __name__ == "__main__":
    try:
        print(f"axe-core {VERSION}: {fetch()}")
    except FetchFailed as exc:
        sys.exit(f"axe-core {VERSION}: {exc}")
