"""GGUF (ggml docs/gguf.md): `GGUF`, u32 version, tensor count, key/value count, then typed key/value pairs."""

from __future__ import annotations

import struct

from licensegate.errors import MemberError
from licensegate.ml._common import evidence, trim
from licensegate.ml.licences import to_spdx
from licensegate.ml.modelfile import ModelFile

MAX_KV = 1 << 16
MAX_ARRAY_KEPT = 16  # arrays longer than this (tokenizer vocabularies) are summarised, not kept
MAX_STRING = 1 << 24

# value type -> struct format (scalars)
_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
_STRING, _ARRAY = 8, 9


class _Truncated(ValueError):
    pass


class _Reader:
    def __init__(self, data: bytes | memoryview, endian: str, version: int) -> None:
        self.data = data
        self.pos = 0
        self.endian = endian
        self.version = version

    def unpack(self, fmt: str) -> int | float | bool:
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.data):
            raise _Truncated(f"value at {self.pos} runs past the end")
        value: int | float | bool = struct.unpack_from(self.endian + fmt, self.data, self.pos)[0]
        self.pos += size
        return value

    def count(self) -> int:
        return int(self.unpack("I" if self.version == 1 else "Q"))

    def string(self) -> tuple[str, int]:
        n = self.count()
        if n > MAX_STRING or self.pos + n > len(self.data):
            raise _Truncated(f"string of {n} bytes at {self.pos} runs past the end")
        start = self.pos
        self.pos += n
        return bytes(self.data[start : start + min(n, 65536)]).decode("utf-8", "replace"), start

    def value(self, vtype: int, depth: int = 0) -> object:
        if vtype in _SCALARS:
            return self.unpack(_SCALARS[vtype])
        if vtype == _STRING:
            return self.string()[0]
        if vtype == _ARRAY:
            return self.array(depth)
        raise ValueError(f"unknown value type {vtype}")

    def array(self, depth: int) -> object:
        """An array: its values when short, else {"length": n, "first": the first MAX_ARRAY_KEPT}."""
        if depth > 4:
            raise ValueError("arrays nested too deep")
        etype = int(self.unpack("I"))
        n = self.count()
        if etype in _SCALARS:
            kept = self.scalar_array(etype, n)
        elif etype in (_STRING, _ARRAY):
            kept = self.nested_array(etype, n, depth)
        else:
            raise ValueError(f"unknown array element type {etype}")
        return kept if n <= MAX_ARRAY_KEPT else {"length": n, "first": kept}

    def scalar_array(self, etype: int, n: int) -> list[object]:
        """The first values of an array of fixed-size scalars; the rest is skipped without reading."""
        size = struct.calcsize(_SCALARS[etype])
        if n * size > len(self.data) - self.pos:
            raise _Truncated(f"array of {n} values runs past the end")
        kept = [self.value(etype) for _ in range(min(n, MAX_ARRAY_KEPT))]
        self.pos += (n - len(kept)) * size
        return kept

    def nested_array(self, etype: int, n: int, depth: int) -> list[object]:
        """An array of strings or arrays: every element is read (their sizes vary), the first ones kept."""
        if n > len(self.data) - self.pos:
            raise _Truncated(f"array of {n} values runs past the end")
        kept = []
        for i in range(n):
            v = self.value(etype, depth + 1)
            if i < MAX_ARRAY_KEPT:
                kept.append(v)
        return kept

def _show(value: object) -> str:
    if isinstance(value, dict):
        return f"[{value['length']} items]"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def sniff_gguf(data: bytes | memoryview, member: str) -> ModelFile | None:
    if bytes(data[:4]) != b"GGUF":
        return None
    endian, version = _gguf_version(data, member)
    r = _Reader(data, endian, version)
    r.pos = 8
    try:
        n_tensors = r.count()
        kv = _key_values(r, member)
    except _Truncated as exc:
        raise MemberError(f"{member}: GGUF metadata truncated ({exc})") from exc
    except ValueError as exc:
        raise MemberError(f"{member}: GGUF metadata malformed ({exc})") from exc
    return _model(member, version, n_tensors, kv, endian)


def _gguf_version(data: bytes | memoryview, member: str) -> tuple[str, int]:
    """The byte order (from which reading of the version is plausible) and the version."""
    if len(data) < 8:
        raise MemberError(f"{member}: GGUF magic but no header")
    le_version = int.from_bytes(data[4:8], "little")
    if 1 <= le_version <= 255:
        return "<", le_version
    version = int.from_bytes(data[4:8], "big")
    if not 1 <= version <= 255:
        raise MemberError(f"{member}: GGUF magic with an impossible version {le_version}")
    return ">", version


def _key_values(r: _Reader, member: str) -> dict[str, tuple[object, int]]:
    """The metadata key/value pairs: key -> (value, offset of the key)."""
    n_kv = r.count()
    if n_kv > MAX_KV:
        raise MemberError(f"{member}: GGUF claims {n_kv} metadata keys")
    kv: dict[str, tuple[object, int]] = {}
    for _ in range(n_kv):
        key, off = r.string()
        vtype = int(r.unpack("I"))
        kv[key] = (r.value(vtype), off)
    return kv


def _model(member: str, version: int, n_tensors: int, kv: dict[str, tuple[object, int]], endian: str) -> ModelFile:
    mf = ModelFile(format="gguf", member=member, format_version=str(version))
    mf.evidence.append(evidence(f"GGUF v{version}", 0, "model/gguf/magic", member))
    mf.metadata["tensor_count"] = str(n_tensors)
    if endian == ">":
        mf.metadata["byte_order"] = "big-endian"
    take = _Taker(mf, kv).take
    mf.name = take("general.name", 256)
    mf.author = take("general.author", 512) or take("general.organization", 512)
    mf.version = take("general.version", 128)
    mf.description = take("general.description")
    mf.license_raw = take("general.license") or take("general.license.name")
    mf.license = to_spdx(mf.license_raw)
    arch = kv.get("general.architecture")
    if arch is not None:
        mf.metadata["general.architecture"] = _show(arch[0])
    _other_keys(mf, kv)
    if "general.url" in mf.metadata:
        mf.metadata.setdefault("upstream", mf.metadata["general.url"])
    return mf


class _Taker:
    """Reads the general.* keys that fill ModelFile fields, each recorded as evidence at its key's offset."""

    def __init__(self, mf: ModelFile, kv: dict[str, tuple[object, int]]) -> None:
        self.mf, self.kv = mf, kv

    def take(self, key: str, limit: int = 4096) -> str | None:
        if key not in self.kv:
            return None
        value, off = self.kv[key]
        shown = trim(_show(value), limit)
        if shown is not None:
            self.mf.evidence.append(evidence(f"{key}: {shown}", off, f"model/gguf/{key}", self.mf.member))
        return shown


_FIELD_KEYS = ("general.name", "general.author", "general.version", "general.description", "general.license")
_BULK_PREFIXES = ("tokenizer.ggml.", "tokenizer.chat_template")  # vocabularies and templates: large, not provenance


def _other_keys(mf: ModelFile, kv: dict[str, tuple[object, int]]) -> None:
    """The remaining keys as metadata (at most 256 entries in all)."""
    for key, (value, _off) in kv.items():
        if len(mf.metadata) >= 256:
            break
        if not key.startswith(_BULK_PREFIXES) and key not in _FIELD_KEYS:
            mf.metadata[key[:256]] = trim(_show(value), 1024) or ""
