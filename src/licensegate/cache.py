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
from .fsutil import atomic_write, open_regular
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
            with open_regular(self._path(sha256)) as fh:  # a FIFO planted in the cache is never read
                raw = json.loads(fh.read(_MAX_ENTRY + 1))
            if not _entry_shape_ok(raw):
                raise ValueError("cache entry of the wrong shape")
            info = BinaryInfo(**{k: v for k, v in raw["info"].items() if k not in ("strings", "weak_needed")})
            info.weak_needed = set(raw["info"]["weak_needed"])
            matches = [_match(m, member) for m in raw["matches"]]
            generic = [(spdx, Evidence(**{**e, "member": member})) for spdx, e in raw["generic"]]
        except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
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


_MAX_ENTRY = 64 * 1024 * 1024
_OPT_STR = (str, type(None))
_INFO_FIELDS: dict[str, object] = {
    "format": str, "kind": str, "abi": _OPT_STR, "soname": _OPT_STR, "interpreter": _OPT_STR, "encrypted": bool,
    "needed": list, "weak_needed": list, "rpaths": list, "symbols": list, "slices": list, "dlopen_names": dict,
}


def _evidence_ok(e: object) -> bool:
    return (isinstance(e, dict) and set(e) <= {"kind", "text", "offset", "rule", "member"}
            and all(isinstance(e.get(k), str) for k in ("kind", "text", "rule"))
            and (e.get("offset") is None or (isinstance(e["offset"], int) and not isinstance(e["offset"], bool))))


def _match_ok(m: object) -> bool:
    return (isinstance(m, dict) and set(m) <= {"id", "name", "project", "license", "version", "confidence", "evidence",
                                               "ml_runtime", "homepage", "role"}
            and all(isinstance(m.get(k), str) for k in ("id", "name", "project", "confidence"))
            and all(isinstance(m.get(k), _OPT_STR) for k in ("license", "version", "homepage"))
            and isinstance(m.get("ml_runtime", False), bool) and m.get("role", "embedded") in ("primary", "embedded")
            and isinstance(m.get("evidence"), list) and all(_evidence_ok(e) for e in m["evidence"]))


def _entry_shape_ok(raw: object) -> bool:
    """An entry is used only when every value has the type the analysis gives it: a damaged or planted entry of
    another shape is a miss (and rewritten), never a crash later in the scan."""
    if not isinstance(raw, dict) or not isinstance(raw.get("info"), dict):
        return False
    info = raw["info"]
    if not set(info) <= set(_INFO_FIELDS) or not {"format", "kind", "abi", "weak_needed"} <= set(info):
        return False
    for key, value in info.items():
        want = _INFO_FIELDS[key]
        if not isinstance(value, want) or (want is int and isinstance(value, bool)):  # type: ignore[arg-type]
            return False
        if isinstance(value, list) and not all(isinstance(x, str) for x in value):
            return False
        if isinstance(value, dict) and not all(isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool)
                                               for k, v in value.items()):
            return False
    matches, generic = raw.get("matches"), raw.get("generic")
    return (isinstance(matches, list) and all(_match_ok(m) for m in matches) and isinstance(generic, list)
            and all(isinstance(g, list) and len(g) == 2 and isinstance(g[0], str) and _evidence_ok(g[1]) for g in generic))


def _match(raw: dict[str, Any], member: str) -> LibraryMatch:
    evidence = [Evidence(**{**e, "member": member}) for e in raw.pop("evidence")]
    return LibraryMatch(**raw, evidence=evidence)
