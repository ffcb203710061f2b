"""Optional content cache (`--cache DIR`): a binary's analysis keyed by its sha256.

An unchanged library costs only its read and hash on the next build. Entries are keyed by the member's sha256,
LicenseGate's version and `analysis_fingerprint`: the signature database, the native knowledge base and the rest of
LicenseGate's own files (its code and data), so a new release, new signatures, a rebuilt knowledge base (native or
Java) or a changed matcher in a development install never reuse a stale answer. Entries are small JSON files
written atomically; a damaged entry is ignored and rewritten.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

from . import __version__
from .binary import BinaryInfo
from .fsutil import atomic_write, open_regular
from .model import Evidence, LibraryMatch


def analysis_fingerprint(signatures: str) -> str:
    """What an analysis depends on besides the bytes analysed: the signature database (its fingerprint is passed
    in), the native knowledge base and LicenseGate's other files (`code_fingerprint`)."""
    from . import knowledge

    return f"{signatures}-{knowledge.fingerprint()}-{code_fingerprint()}"


_PACKAGE = Path(__file__).resolve().parent
# Fingerprinted on its own (knowledge.fingerprint), and 8.4 MB: not read twice.
_APART = ("data/native_kb",)


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """Digest of the package's files: its Python code and the data it reads (the Java knowledge base, rules,
    obligations, licence texts, templates), which a development install or a rebuilt Java knowledge base changes
    without changing the version.

    About 170 files and 2.5 MB, read only when a cache or an audit asks: 6 ms (2 ms for the Python files alone).
    """
    return source_digest(_PACKAGE, _APART)


def source_digest(root: Path, apart: tuple[str, ...] = ()) -> str:
    """Digest of every file under root (their paths and their bytes) but compiled bytecode (``__pycache__``) and
    the folders `apart` (paths relative to root)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if "__pycache__" in rel.split("/") or any(rel.startswith(f"{a}/") for a in apart):
            continue
        name, data = rel.encode("utf-8", "surrogateescape"), path.read_bytes()
        digest.update(len(name).to_bytes(4, "big") + name + len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()[:12]


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
# Each cached value's shape, as a table: field -> check, and the fields an entry must have.
_Check = Callable[[object], bool]


def _is_str(v: object) -> bool:
    return isinstance(v, str)


def _is_opt_str(v: object) -> bool:
    return v is None or isinstance(v, str)


def _is_bool(v: object) -> bool:
    return isinstance(v, bool)


def _is_count(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_names(v: object) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


def _is_counts(v: object) -> bool:
    return isinstance(v, dict) and all(isinstance(k, str) and _is_count(n) for k, n in v.items())


def _anything(v: object) -> bool:
    return True


def _list_of(check: _Check) -> _Check:
    return lambda v: isinstance(v, list) and all(check(x) for x in v)


def _record(fields: dict[str, _Check], required: set[str]) -> _Check:
    """A check for a dict holding only the given fields, each of its shape, the required ones present."""
    def check(v: object) -> bool:
        return (isinstance(v, dict) and set(v) <= set(fields) and required <= set(v)
                and all(fields[k](x) for k, x in v.items()))
    return check


_INFO_FIELDS: dict[str, _Check] = {
    "format": _is_str, "kind": _is_str, "abi": _is_opt_str, "soname": _is_opt_str, "interpreter": _is_opt_str,
    "encrypted": _is_bool, "needed": _is_names, "weak_needed": _is_names, "rpaths": _is_names, "symbols": _is_names,
    "slices": _is_names, "dlopen_names": _is_counts, "copyrights": _is_names,
}
_info_ok = _record(_INFO_FIELDS, {"format", "kind", "abi", "weak_needed"})
_evidence_ok = _record(
    {"kind": _is_str, "text": _is_str, "rule": _is_str, "member": _anything,
     "offset": lambda v: v is None or _is_count(v)},
    {"kind", "text", "rule"},
)
_match_ok = _record(
    {"id": _is_str, "name": _is_str, "project": _is_str, "confidence": _is_str, "license": _is_opt_str,
     "version": _is_opt_str, "homepage": _is_opt_str, "ml_runtime": _is_bool,
     "role": lambda v: v in ("primary", "embedded"), "evidence": _list_of(_evidence_ok)},
    {"id", "name", "project", "confidence", "evidence"},
)


def _generic_ok(g: object) -> bool:
    return isinstance(g, list) and len(g) == 2 and isinstance(g[0], str) and _evidence_ok(g[1])


_entry_ok = _record(
    {"info": _info_ok, "matches": _list_of(_match_ok), "generic": _list_of(_generic_ok)},
    {"info", "matches", "generic"},
)


def _entry_shape_ok(raw: object) -> bool:
    """An entry is used only when every value has the type the analysis gives it: a damaged or planted entry of
    another shape is a miss (and rewritten), never a crash later in the scan."""
    return isinstance(raw, dict) and _entry_ok({k: raw.get(k) for k in ("info", "matches", "generic")})


def _match(raw: dict[str, Any], member: str) -> LibraryMatch:
    evidence = [Evidence(**{**e, "member": member}) for e in raw.pop("evidence")]
    return LibraryMatch(**raw, evidence=evidence)
