"""Identify a member as a model by its content; explain what a model-named file is when it is not one."""

from __future__ import annotations

import math
import posixpath
from collections import Counter
from collections.abc import Callable

from licensegate import kb_index
from licensegate.errors import MemberError
from licensegate.ml._common import evidence
from licensegate.ml.containers import is_mediapipe_task, open_zip_names, sniff_zip_model
from licensegate.ml.flatbuffer_formats import sniff_executorch, sniff_mnn, sniff_ort, sniff_tflite
from licensegate.ml.gguf import sniff_gguf
from licensegate.ml.modelfile import ModelFile
from licensegate.ml.protobuf_formats import (
    sniff_caffemodel,
    sniff_coreml,
    sniff_graphdef,
    sniff_onnx,
    sniff_paddle_program,
    sniff_prototxt,
    sniff_saved_model,
)
from licensegate.ml.simple_formats import (
    HDF5_MAGIC,
    sniff_hdf5,
    sniff_ncnn,
    sniff_safetensors,
    sniff_torch_legacy,
)

Sniffer = Callable[[bytes | memoryview, str], ModelFile | None]

# Order matters only where two readers could both accept: identifiers first, then structural protobuf readers
# (mutually exclusive by their required fields), MNN (a FlatBuffer with no identifier) last.
SNIFFERS: tuple[Sniffer, ...] = (
    sniff_tflite,
    sniff_ort,
    sniff_gguf,
    sniff_executorch,
    sniff_ncnn,
    sniff_hdf5,
    sniff_torch_legacy,
    sniff_zip_model,
    sniff_safetensors,
    sniff_onnx,
    sniff_coreml,
    sniff_saved_model,
    sniff_paddle_program,
    sniff_graphdef,
    sniff_caffemodel,
    sniff_prototxt,
    sniff_mnn,
)

ENTROPY_CHUNK = 16 * 1024  # 16 chunks of 16 KiB: random data still measures > 7.999 bits/byte

MODEL_SUFFIXES = {
    ".tflite": "tflite", ".lite": "tflite", ".tfl": "tflite", ".onnx": "onnx", ".ort": "ort",
    ".mlmodel": "coreml", ".pt": "pytorch", ".ptl": "pytorch", ".pth": "pytorch", ".torchscript": "pytorch",
    ".pte": "executorch", ".param": "ncnn", ".mnn": "mnn", ".pdmodel": "paddle", ".nb": "paddle",
    ".gguf": "gguf", ".safetensors": "safetensors", ".h5": "keras", ".hdf5": "keras", ".keras": "keras",
    ".pb": "tensorflow", ".caffemodel": "caffe", ".prototxt": "caffe", ".task": "tflite", ".model": "unknown",
}  # fmt: skip


def sniff_model(data: bytes | memoryview, member: str) -> ModelFile | None:
    """The model in `data` (the bytes of `member`), or None when it is not a model.

    Decided by content only; the name is used for messages. Raises MemberError (one-line reason) when the
    content claims a model format but is malformed or truncated.
    """
    for sniffer in SNIFFERS:
        try:
            found = sniffer(data, member)
        except MemberError:
            raise
        except (ValueError, IndexError, KeyError, OverflowError, RecursionError, TypeError) as exc:
            # a reader bug on hostile input must not end the scan; report the member instead
            raise MemberError(f"{member}: unreadable model data ({type(exc).__name__}: {exc})") from exc
        if found is not None:
            return found
    return None


def suffix_format(member: str) -> str | None:
    """The model format a file name suggests (weak: never used alone to report a model)."""
    base = posixpath.basename(member).lower()
    if not base.endswith(_MODEL_SUFFIX_TUPLE):  # one C call for the many names that suggest nothing
        return None
    for suffix, fmt in MODEL_SUFFIXES.items():
        if base.endswith(suffix):
            return fmt
    return None


def byte_counts(data: bytes | memoryview) -> list[int]:
    """How many times each byte value 0-255 occurs: the compiled pass when there is one (a 256 KiB sample in
    ~0.1 ms; `Counter` took 9-19 ms, 0.18-0.2 s of wild-rnwhisper.xcframework.zip's 20 samples), else `Counter`."""
    accel = kb_index.ACCEL  # looked up on each call: LICENSEGATE_NO_ACCEL and the tests' Python path switch it
    if accel is not None:
        counts: list[int] = accel.byte_counts(data)
        return counts
    counted = Counter(data if isinstance(data, bytes) else bytes(data))
    return [counted.get(b, 0) for b in range(256)]


def entropy(data: bytes | memoryview) -> float:
    """Shannon entropy in bits per byte (0.0 for empty input)."""
    n = len(data)
    if not n:
        return 0.0
    h = 0.0
    for c in byte_counts(data):
        if c:
            p = c / n
            h -= p * math.log2(p)
    return h


def entropy_sample(data: bytes | memoryview, chunks: int = 16, chunk_size: int = ENTROPY_CHUNK) -> bytes:
    """Evenly spaced chunks of a large blob (the whole blob when small), so entropy stays cheap on big members."""
    if len(data) <= chunks * chunk_size:
        return bytes(data)
    step = (len(data) - chunk_size) // (chunks - 1)
    return b"".join(bytes(data[i * step : i * step + chunk_size]) for i in range(chunks))


# Known non-model formats by magic: (offset, magic, description). Compressed, image, font, audio and code
# formats are high-entropy by nature and must not be called encrypted models.
KNOWN_FORMATS: tuple[tuple[int, bytes, str], ...] = (
    (0, b"PK\x03\x04", "zip archive"),
    (0, b"PK\x05\x06", "empty zip archive"),
    (0, b"\x1f\x8b", "gzip data"),
    (0, b"BZh", "bzip2 data"),
    (0, b"\xfd7zXZ\x00", "xz data"),
    (0, b"\x28\xb5\x2f\xfd", "zstd data"),
    (0, b"\x04\x22\x4d\x18", "lz4 frame"),
    (0, b"7z\xbc\xaf\x27\x1c", "7-zip archive"),
    (0, b"Rar!\x1a\x07", "RAR archive"),
    (0, b"\x89PNG\r\n\x1a\n", "PNG image"),
    (0, b"\xff\xd8\xff", "JPEG image"),
    (0, b"GIF87a", "GIF image"),
    (0, b"GIF89a", "GIF image"),
    (0, b"BM", "BMP image"),
    (0, b"\x00\x01\x00\x00", "TrueType font"),
    (0, b"true", "TrueType font"),
    (0, b"OTTO", "OpenType font"),
    (0, b"ttcf", "TrueType font collection"),
    (0, b"wOFF", "WOFF font"),
    (0, b"wOF2", "WOFF2 font"),
    (0, b"OggS", "Ogg media"),
    (0, b"fLaC", "FLAC audio"),
    (0, b"ID3", "MP3 audio"),
    (0, b"\xff\xfb", "MP3 audio"),
    (4, b"ftyp", "ISO media (MP4/HEIF/AVIF)"),
    (0, b"\x7fELF", "ELF binary"),
    (0, b"\xcf\xfa\xed\xfe", "Mach-O binary"),
    (0, b"\xca\xfe\xba\xbe", "Mach-O universal binary"),
    (0, b"dex\n", "DEX bytecode"),
    (0, b"\x03\x00\x08\x00", "Android binary XML"),
    (0, b"\x02\x00\x0c\x00", "Android resource table"),
    (0, b"bplist00", "binary property list"),
    (0, b"SQLite format 3\x00", "SQLite database"),
    (0, b"%PDF", "PDF document"),
    (0, HDF5_MAGIC, "HDF5 data"),
    (0, b"\x89HDF", "HDF5 data"),
)


def known_format(data: bytes | memoryview) -> str | None:
    head = bytes(data[:16])
    # The table's magics grouped by offset, one C call each, decide whether any entry can match (5,000 members:
    # 0.12 million Python calls were spent finding that most match none); the table decides which, by a C call
    # per entry and a Python one only for an entry whose magic is there.
    for off, magics in _MAGICS_AT:
        if head.startswith(magics, off):
            found = next((what for off, magic, what in KNOWN_FORMATS
                          if head.startswith(magic, off) and _plausible(head, what)), None)
            if found is not None:
                return found
            break
    if head[:4] == b"RIFF" and head[8:12] in _RIFF_KINDS:
        return _RIFF_KINDS[head[8:12]]
    return None


_RIFF_KINDS = {b"WEBP": "WebP image", b"WAVE": "WAV audio", b"AVI ": "AVI video"}
_MAGICS_AT = tuple((off, tuple(m for o, m, _ in KNOWN_FORMATS if o == off)) for off in sorted({o for o, _, _ in KNOWN_FORMATS}))
_MODEL_SUFFIX_TUPLE = tuple(MODEL_SUFFIXES)


def _plausible(head: bytes, what: str) -> bool:
    """Whether a head that starts with the magic of `what` is one: 00 01 00 00 is also the start of much else; a
    font has few tables."""
    return not (what == "TrueType font" and len(head) >= 6 and int.from_bytes(head[4:6], "big") > 64)


def explain_non_model(data: bytes | memoryview, member: str) -> str:
    """One line saying what a member is, for a file whose name suggests a model but whose content is not one."""
    suggested = suffix_format(member)
    prefix = f"named like a {suggested} model but " if suggested and suggested != "unknown" else ""
    if not len(data):
        return f"{prefix}empty file"
    opened = open_zip_names(data)
    if opened is not None:
        opened[0].close()
        return _explain_zip(opened[1], prefix)
    return prefix + (_explain_known(data) or _explain_unknown(data))


def _explain_zip(names: list[str], prefix: str) -> str:
    if is_mediapipe_task(names):
        inner = [n for n in names if n.lower().endswith(".tflite") or posixpath.basename(n).startswith("TF_LITE_")]
        return f"MediaPipe task bundle with {len(inner)} inner model(s) ({', '.join(inner[:4])}), reported at their !/ paths"
    return f"{prefix}a zip archive of {len(names)} entries with no model layout"


def _explain_known(data: bytes | memoryview) -> str | None:
    """A known non-model format, or text (JSON or not)."""
    what = known_format(data)
    if what == "HDF5 data":
        return "HDF5 data without Keras model attributes (model_config / keras_version)"
    if what is not None:
        return what
    head = bytes(data[:4096])
    if not _is_text(head):
        return None
    if head[:1] in (b"{", b"["):
        return "JSON text"
    return f"text ({head.splitlines()[0][:60].decode('utf-8', 'replace')!r}...)"


def _explain_unknown(data: bytes | memoryview) -> str:
    h = entropy(entropy_sample(data))
    if h >= 7.9:
        return f"{len(data)} bytes of high-entropy data ({h:.3f} bits/byte) with no model structure"
    return f"{len(data)} bytes of unrecognised binary data ({h:.2f} bits/byte), no model structure"


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        try:
            head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return False
    return True


ENCRYPTED_ENTROPY = 7.99  # bits/byte, ModelXRay's threshold (REFERENCES.md section 1)
ENCRYPTED_MIN_SIZE = 64 * 1024  # below this even random bytes fall short of 7.99


def possibly_encrypted_model(data: bytes | memoryview, member: str, has_ml_runtime: bool) -> ModelFile | None:
    """A low-confidence model for a high-entropy blob shipped next to an ML runtime; None otherwise.

    Call only for members `sniff_model` did not recognise. Known compressed, image, font and media formats are
    never reported.
    """
    if not has_ml_runtime or len(data) < ENCRYPTED_MIN_SIZE or known_format(data) is not None:
        return None
    h = entropy(entropy_sample(data))
    if h < ENCRYPTED_ENTROPY:
        return None
    suggested = suffix_format(member)
    mf = ModelFile(format="unknown", member=member, confidence="low")
    reason = (
        f"{len(data)} bytes at {h:.4f} bits/byte (>= {ENCRYPTED_ENTROPY}, sampled), no known format, "
        "in an app that ships an ML runtime: possibly an encrypted model"
    )
    mf.notes.append(reason)
    if suggested and suggested != "unknown":
        mf.metadata["suffix_suggests"] = suggested
    mf.metadata["entropy"] = f"{h:.4f}"
    mf.evidence.append(evidence(reason, None, "model/encrypted/entropy", member))
    return mf
