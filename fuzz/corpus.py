"""The seed corpus: every real payload as ``(event, payload)``, pointed at the fuzzed product."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHAPES = ROOT / "bot" / "sim" / "shapes"
SHARED_FOLDERS = ("github-payloads", "github-payloads-real")
_NOT_PAYLOADS = {"_schemas", "_licenses"}

OWNER, REPO = "octo-org", "fuzzed-app"
INSTALLATION_ID = 4242
# Issues that have tickets in the fuzzed database: payloads are renumbered onto them so the
# handlers go all the way (a payload about an unknown issue stops at the first lookup).
TICKETED_ISSUES = (1, 2, 3, 347, 1347)


def shared_dir() -> Path | None:
    """``../shared`` beside the checkout, else ``$TINYDESK_SHARED_DIR`` (as tests/shared.py)."""
    beside = ROOT / ".." / "shared"
    if beside.is_dir():
        return beside.resolve()
    env = os.environ.get("TINYDESK_SHARED_DIR")
    return Path(env) if env and Path(env).is_dir() else None


def payload_files(shared: Path | None = None) -> Iterator[tuple[str, Path]]:
    """Every packaged shape, example and real capture as ``(event, path)``, sorted."""
    roots = [SHAPES]
    shared = shared if shared is not None else shared_dir()
    if shared is not None:
        roots += [shared / name for name in SHARED_FOLDERS if (shared / name).is_dir()]
    for root in roots:
        for folder in sorted(p for p in root.iterdir() if p.is_dir()):
            if folder.name in _NOT_PAYLOADS:
                continue
            for path in sorted(folder.glob("*.json")):
                yield folder.name, path


def retarget(payload: Any, index: int) -> Any:
    """The payload about the fuzzed product's repository, installation and ticketed issues."""
    if not isinstance(payload, dict):
        return payload
    full_name = f"{OWNER}/{REPO}"
    repo = payload.get("repository")
    if isinstance(repo, dict):
        repo.update(name=REPO, full_name=full_name)
        if isinstance(repo.get("owner"), dict):
            repo["owner"]["login"] = OWNER
    for key in ("repositories", "repositories_added", "repositories_removed"):
        for item in payload.get(key) or []:
            if isinstance(item, dict):
                item.update(name=REPO, full_name=full_name)
    if isinstance(payload.get("installation"), dict):
        payload["installation"]["id"] = INSTALLATION_ID
    number = TICKETED_ISSUES[index % len(TICKETED_ISSUES)]
    if isinstance(payload.get("issue"), dict):
        payload["issue"]["number"] = number
    pr = payload.get("pull_request")
    if isinstance(pr, dict):
        pr["body"] = f"{pr.get('body') or ''}\n\nFixes #{number}"
    return payload


def cases(shared: Path | None = None) -> list[tuple[str, dict[str, Any]]]:
    """The corpus: ``(event, payload)`` for every file, retargeted."""
    found = []
    for index, (event, path) in enumerate(payload_files(shared)):
        found.append((event, retarget(json.loads(path.read_text(encoding="utf-8")), index)))
    return found
