"""The axe-core download is taken only when it is the tarball the npm registry vouches for
(tests/axe_core.py): a tampered or truncated tarball is refused and leaves no cache behind."""

from __future__ import annotations

import io
import tarfile

import pytest

from tests import axe_core


def tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_integrity_is_npms_sha512_form():
    # echo -n abc | openssl dgst -sha512 -binary | base64
    assert axe_core.integrity_of(b"abc") == (
        "sha512-3a81oZNherrMQXNJriBBMRLm+k6JqX6iCp7u5ktV05ohkpkqJ0/BqDa6PCOj/uu9RU1EI2Q86A4qmslPpUyknw=="
    )


def test_a_tarball_other_than_the_pinned_one_is_refused(tmp_path):
    forged = tarball({"package/axe.min.js": b"window.axe = {}", "package/LICENSE": b"MPL"})
    with pytest.raises(axe_core.FetchFailed, match="does not match the pinned integrity"):
        axe_core.unpack(forged, tmp_path / "cache")
    assert not (tmp_path / "cache").exists()
