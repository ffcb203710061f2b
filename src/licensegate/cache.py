"""Optional content cache (`--cache DIR`): a binary's analysis keyed by its sha256.

An unchanged library costs only its read and hash on the next build. Entries are keyed by the member's sha256,
LicenseGate's version and the signature database's fingerprint, so a new release or new signatures never reuse a
stale answer. Entries are small JSON files written atomically; a damaged entry is ignored and rewritten.
"""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from . import __version__
from .binary import BinaryInfo
from .fsutil import atomic_write
from .model import Evidence, LibraryMatch


class ContentCache:
    # Hits and misses of every cache in this process, so a caller of `licensegate.check` (an audit worker, which
    # runs one scan at a time) can report the hit rate of its scan: the difference across the call.
    process_hits = 0
    process_misses = 0

    def __init__(self, root: Path, fingerprint: str) -> None:
        self.dir = root / f"v{__version__}-{fingerprint}"
        self.hits = 0
        self.misses = 0

    def _path(self, sha256: str) -> Path:
        return self.dir / sha256[:2] / f"{sha256}.json"

    def get(self, sha256: str, member: str) -> tuple[BinaryInfo, list[LibraryMatch], list[tuple[str, Evidence]]] | None:
        try:
            raw = json.loads(self._path(sha256).read_text(encoding="utf-8"))
            info = BinaryInfo(**{k: v for k, v in raw["info"].items() if k not in ("strings", "weak_needed")})
            info.weak_needed = set(raw["info"]["weak_needed"])
            matches = [_match(m, member) for m in raw["matches"]]
            generic = [(spdx, Evidence(**{**e, "member": member})) for spdx, e in raw["generic"]]
        except (OSError, ValueError, KeyError, TypeError):
            self.misses += 1
            ContentCache.process_misses += 1
            return None
        self.hits += 1
        ContentCache.process_hits += 1
        return info, matches, generic

    def put(self, sha256: str, info: BinaryInfo, matches: list[LibraryMatch], generic: list[tuple[str, Evidence]]) -> None:
        data = {f.name: getattr(info, f.name) for f in fields(info) if f.name != "strings"}  # sections stay out
        data["weak_needed"] = sorted(info.weak_needed)
        payload = {"info": data, "matches": [asdict(m) for m in matches], "generic": [(spdx, asdict(e)) for spdx, e in generic]}
        path = self._path(sha256)
        try:
            atomic_write(path, json.dumps(payload), durable=False)
        except OSError:
            pass  # an unwritable cache only costs speed


def _match(raw: dict[str, Any], member: str) -> LibraryMatch:
    evidence = [Evidence(**{**e, "member": member}) for e in raw.pop("evidence")]
    return LibraryMatch(**raw, evidence=evidence)
