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
            if depth > 4:
                raise ValueError("arrays nested too deep")
            etype = int(self.unpack("I"))
            n = self.count()
            if etype in _SCALARS:
                size = struct.calcsize(_SCALARS[etype])
                if n * size > len(self.data) - self.pos:
                    raise _Truncated(f"array of {n} values runs past the end")
                kept = [self.value(etype) for _ in range(min(n, MAX_ARRAY_KEPT))]
                self.pos += (n - len(kept)) * size
            elif etype in (_STRING, _ARRAY):
                if n > len(self.data) - self.pos:
                    raise _Truncated(f"array of {n} values runs past the end")
                kept = []
                for i in range(n):
                    v = self.value(etype, depth + 1)
                    if i < MAX_ARRAY_KEPT:
                        kept.append(v)
            else:
                raise ValueError(f"unknown array element type {etype}")
            return kept if n <= MAX_ARRAY_KEPT else {"length": n, "first": kept}
        raise ValueError(f"unknown value type {vtype}")


def _show(value: object) -> str:
    if isinstance(value, dict):
        return f"[{value['length']} items]"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def sniff_gguf(data: bytes | memoryview, member: str) -> ModelFile | None:
    if bytes(data[:4]) != b"GGUF":
        return None
    if len(data) < 8:
        raise MemberError(f"{member}: GGUF magic but no header")
    le_version = int.from_bytes(data[4:8], "little")
    endian = "<" if 1 <= le_version <= 255 else ">"
    version = le_version if endian == "<" else int.from_bytes(data[4:8], "big")
    if not 1 <= version <= 255:
        raise MemberError(f"{member}: GGUF magic with an impossible version {le_version}")
    r = _Reader(data, endian, version)
    r.pos = 8
    kv: dict[str, tuple[object, int]] = {}
    try:
        n_tensors = r.count()
        n_kv = r.count()
        if n_kv > MAX_KV:
            raise MemberError(f"{member}: GGUF claims {n_kv} metadata keys")
        for _ in range(n_kv):
            key, off = r.string()
            vtype = int(r.unpack("I"))
            kv[key] = (r.value(vtype), off)
    except _Truncated as exc:
        raise MemberError(f"{member}: GGUF metadata truncated ({exc})") from exc
    except ValueError as exc:
        raise MemberError(f"{member}: GGUF metadata malformed ({exc})") from exc
    return _model(member, version, n_tensors, kv, endian)


def _model(member: str, version: int, n_tensors: int, kv: dict[str, tuple[object, int]], endian: str) -> ModelFile:
    mf = ModelFile(format="gguf", member=member, format_version=str(version))
    mf.evidence.append(evidence(f"GGUF v{version}", 0, "model/gguf/magic", member))
    mf.metadata["tensor_count"] = str(n_tensors)
    if endian == ">":
        mf.metadata["byte_order"] = "big-endian"

    def take(key: str, limit: int = 4096) -> str | None:
        if key not in kv:
            return None
        value, off = kv[key]
        shown = trim(_show(value), limit)
        if shown is not None:
            mf.evidence.append(evidence(f"{key}: {shown}", off, f"model/gguf/{key}", member))
        return shown

    mf.name = take("general.name", 256)
    mf.author = take("general.author", 512) or take("general.organization", 512)
    mf.version = take("general.version", 128)
    mf.description = take("general.description")
    mf.license_raw = take("general.license")
    if mf.license_raw is None and "general.license.name" in kv:
        mf.license_raw = take("general.license.name")
    mf.license = to_spdx(mf.license_raw)
    arch = kv.get("general.architecture")
    if arch is not None:
        mf.metadata["general.architecture"] = _show(arch[0])
    for key, (value, _off) in kv.items():
        if len(mf.metadata) >= 256:
            break
        if key.startswith(("tokenizer.ggml.", "tokenizer.chat_template")):
            continue  # vocabularies and templates: large and not provenance
        if key in ("general.name", "general.author", "general.version", "general.description", "general.license"):
            continue
        mf.metadata[key[:256]] = trim(_show(value), 1024) or ""
    if "general.url" in mf.metadata:
        mf.metadata.setdefault("upstream", mf.metadata["general.url"])
    return mf
