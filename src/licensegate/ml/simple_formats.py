"""Formats recognised by a magic number or a small header: safetensors, HDF5/Keras, NCNN, legacy torch.save."""

from __future__ import annotations

import json
import re

from licensegate.errors import MemberError
from licensegate.ml._common import evidence, trim
from licensegate.ml.metadata_keys import apply_props
from licensegate.ml.modelfile import ModelFile, TensorSummary

SAFETENSORS_MAX_HEADER = 100 * 1024 * 1024  # the reference implementation's own limit
_ST_DTYPES = {"F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8", "U64", "U32", "U16", "U8", "BOOL",
              "F8_E4M3", "F8_E5M2", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2", "C64", "I4", "U4"}  # fmt: skip


def _safetensors_header(data: bytes | memoryview, n: int) -> dict[str, object] | None:
    """The JSON header: tensor name -> {dtype, shape, data_offsets}, plus an optional __metadata__ string map;
    None when it is not one."""
    try:
        header = json.loads(bytes(data[8 : 8 + n]).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(header, dict) or not all(_tensor_entry(k, v) for k, v in header.items()):
        return None
    return header


def _tensor_entry(key: str, info: object) -> bool:
    """A header entry: __metadata__, or a tensor with a safetensors dtype and its data offsets."""
    return key == "__metadata__" or (
        isinstance(info, dict) and info.get("dtype") in _ST_DTYPES and "data_offsets" in info
    )


def sniff_safetensors(data: bytes | memoryview, member: str) -> ModelFile | None:
    n = _safetensors_length(data, member)
    header = _safetensors_header(data, n) if n is not None else None
    return None if header is None else _safetensors_model(header, member)


def _safetensors_length(data: bytes | memoryview, member: str) -> int | None:
    """The header length (u64 LE) of a file that starts as safetensors; MemberError when the header it announces
    runs past the end."""
    if len(data) < 10:
        return None
    n = int.from_bytes(data[:8], "little")
    if data[8] != ord("{") or not 2 <= n <= SAFETENSORS_MAX_HEADER:
        return None
    if n <= len(data) - 8:
        return n
    # a JSON object right after a plausible length is a safetensors header; the file is cut short
    if bytes(data[8:10]) in (b'{"', b"{ ") and len(data) > 64:
        raise MemberError(f"{member}: safetensors header of {n} bytes runs past the end (truncated?)")
    return None


def _safetensors_model(header: dict[str, object], member: str) -> ModelFile:
    meta = header.pop("__metadata__", None)
    if meta is not None and not isinstance(meta, dict):
        raise MemberError(f"{member}: safetensors __metadata__ is not an object")
    tensors = len(header)
    mf = ModelFile(format="safetensors", member=member)
    mf.evidence.append(evidence(f"safetensors header, {tensors} tensors", 8, "model/safetensors/header", member))
    mf.metadata["tensor_count"] = str(tensors)
    if meta:
        apply_props(mf, {str(k): (str(v), 8) for k, v in meta.items()}, "model/safetensors")
    return mf


HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_VERSION = re.compile(rb"\d+\.\d+\.\d+(?:[.\-+][0-9A-Za-z.]+)?")


def _global_heap_strings(raw: bytes, limit: int = 256) -> list[tuple[bytes, int]]:
    """Objects of HDF5 global heap collections ("GCOL"), where h5py keeps variable-length string attributes."""
    out: list[tuple[bytes, int]] = []
    pos = raw.find(b"GCOL")
    collections = 0
    while pos >= 0 and collections < 64 and len(out) < limit:
        collections += 1
        out += _heap_objects(raw, pos, limit - len(out))
        pos = raw.find(b"GCOL", pos + 4)
    return out


def _heap_objects(raw: bytes, pos: int, limit: int) -> list[tuple[bytes, int]]:
    """Up to `limit` (data, offset) objects of the collection at `pos`.

    Layout (HDF5 file format spec, "Global Heap"): GCOL, version 1, 3 reserved, u64 collection size, then objects
    of (u16 index, u16 refcount, 4 reserved, u64 size, data padded to 8); index 0 is the free space."""
    if pos + 16 > len(raw) or raw[pos + 4] != 1:
        return []
    out: list[tuple[bytes, int]] = []
    end = min(len(raw), pos + int.from_bytes(raw[pos + 8 : pos + 16], "little"))
    obj = pos + 16
    while obj + 16 <= end and len(out) < limit:
        index = int.from_bytes(raw[obj : obj + 2], "little")
        size = int.from_bytes(raw[obj + 8 : obj + 16], "little")
        if index == 0 or size > end - obj - 16:
            break
        out.append((raw[obj + 16 : obj + 16 + size], obj + 16))
        obj += 16 + ((size + 7) // 8) * 8
    return out


def _hdf5_offset(data: bytes | memoryview) -> int | None:
    """The superblock may sit at 0, 512, 1024, 2048, ... (HDF5 file format spec, 'Format Signature')."""
    off = 0
    while off + 8 <= len(data) and off <= 1 << 20:
        if bytes(data[off : off + 8]) == HDF5_MAGIC:
            return off
        off = 512 if off == 0 else off * 2
    return None


def sniff_hdf5(data: bytes | memoryview, member: str) -> ModelFile | None:
    """Keras HDF5 models. The attributes `model_config` / `keras_version` are found by content, not parsed."""
    off = _hdf5_offset(data)
    if off is None:
        return None
    raw = bytes(data)
    if b"model_config" not in raw and b"keras_version" not in raw:
        return None  # HDF5 data, not a Keras model; explain_non_model says so
    mf = ModelFile(format="keras", member=member)
    mf.metadata["container"] = "HDF5"
    mf.evidence.append(evidence("HDF5 signature", off, "model/keras/hdf5", member))
    _keras_model_config(raw, mf, member)
    _keras_version(raw, mf, member)
    return mf


def _keras_model_config(raw: bytes, mf: ModelFile, member: str) -> None:
    """The model_config attribute: the model's JSON configuration, read in place for its class and name."""
    pos = raw.find(b"model_config")
    if pos < 0:
        return
    mf.evidence.append(evidence("model_config attribute", pos, "model/keras/model-config", member))
    start = raw.find(b'{"class_name"', pos)
    if start < 0:
        return
    try:
        config, _ = json.JSONDecoder().raw_decode(raw[start : start + (1 << 22)].decode("utf-8", "replace"))
    except ValueError:
        mf.notes.append("model_config JSON not readable in place")
        return
    if isinstance(config, dict):
        mf.metadata["class_name"] = str(config.get("class_name", ""))[:128]
        inner = config.get("config")
        if isinstance(inner, dict) and isinstance(inner.get("name"), str):
            mf.name = trim(inner["name"], 256)


def _keras_version(raw: bytes, mf: ModelFile, member: str) -> None:
    """keras_version is the first version-shaped string attribute Keras writes (before backend and model_config)."""
    version = next(((v, off) for v, off in _global_heap_strings(raw) if _VERSION.fullmatch(v)), None)
    if b"keras_version" in raw and version is not None:
        text = version[0].decode("ascii")
        mf.producer = f"Keras {text}"
        mf.evidence.append(evidence(f"keras_version {text}", version[1], "model/keras/version", member))
    elif b"model_config" not in raw:
        mf.confidence = "medium"


NCNN_BINARY_PARAM = 0x007685DD


def sniff_ncnn(data: bytes | memoryview, member: str) -> ModelFile | None:
    """NCNN .param: text whose first line is 7767517, or the binary form starting 0x007685DD."""
    if len(data) >= 12 and int.from_bytes(data[:4], "little") == NCNN_BINARY_PARAM:
        return _ncnn_binary_param(data, member)
    return _ncnn_text_param(data, member)


def _ncnn_binary_param(data: bytes | memoryview, member: str) -> ModelFile | None:
    layers, blobs = int.from_bytes(data[4:8], "little"), int.from_bytes(data[8:12], "little")
    if not 0 < layers < 1 << 20 or not 0 < blobs < 1 << 22:
        return None
    mf = ModelFile(format="ncnn", member=member, confidence="medium")
    mf.metadata.update(container="param.bin", layers=str(layers), blobs=str(blobs))
    mf.evidence.append(evidence("NCNN binary param magic 0x007685DD", 0, "model/ncnn/param-bin", member))
    mf.notes.append("weights are in the companion .bin, which has no magic of its own")
    return mf


def _ncnn_counts(line: bytes, member: str) -> list[bytes]:
    """The "<layer count> <blob count>" line that follows the magic."""
    counts = line.split()
    if len(counts) != 2 or not all(c.isdigit() for c in counts):
        raise MemberError(f"{member}: NCNN param magic without the layer/blob count line")
    return counts


def _ncnn_text_param(data: bytes | memoryview, member: str) -> ModelFile | None:
    """The magic line, the "<layers> <blobs>" line, then one line per layer (`Input` layers name the inputs)."""
    head = bytes(data[:65536])
    first, _, rest = head.partition(b"\n")
    if first.strip() != b"7767517":
        return None
    counts = _ncnn_counts(rest.split(b"\n", 1)[0], member)
    mf = ModelFile(format="ncnn", member=member)
    mf.metadata.update(container="param", layers=counts[0].decode(), blobs=counts[1].decode())
    mf.evidence.append(evidence("7767517", 0, "model/ncnn/param-text", member))
    layers = (line.split() for line in rest.split(b"\n")[1:256])
    mf.inputs = [TensorSummary(p[1].decode("utf-8", "replace")) for p in layers if len(p) >= 5 and p[0] == b"Input"]
    mf.notes.append("weights are in the companion .bin, which has no magic of its own")
    return mf


# torch.save before 1.6 (legacy, not zip): a pickle whose first object is the magic number 0x1950a86a20f9469cfc6c
_TORCH_LEGACY = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19"


def sniff_torch_legacy(data: bytes | memoryview, member: str) -> ModelFile | None:
    if bytes(data[: len(_TORCH_LEGACY)]) != _TORCH_LEGACY:
        return None
    mf = ModelFile(format="pytorch", member=member)
    mf.metadata["container"] = "legacy torch.save pickle"
    mf.evidence.append(evidence("torch.save magic number 0x1950a86a20f9469cfc6c", 0, "model/pytorch/legacy", member))
    return mf
