"""Key/value model metadata (ONNX metadata_props, ORT, safetensors __metadata__): the keys that mean licence,
author, name and version, by convention rather than schema."""

from __future__ import annotations

from licensegate.ml._common import evidence, trim
from licensegate.ml.licences import to_spdx
from licensegate.ml.modelfile import ModelFile

LICENCE_KEYS = frozenset({"license", "licence", "license_name", "licence_name", "spdx", "license_id"})
AUTHOR_KEYS = frozenset({"author", "authors", "creator"})
NAME_KEYS = frozenset({"name", "model_name", "title"})
VERSION_KEYS = frozenset({"version", "model_version"})


def apply_props(mf: ModelFile, props: dict[str, tuple[str, int]], rule: str) -> None:
    """Fold key/value metadata into the ModelFile, picking out licence, author, name and version keys."""
    for key, (value, off) in props.items():
        low = key.lower()
        tval = trim(value)
        if tval is None:
            continue
        if low in LICENCE_KEYS and mf.license_raw is None:
            mf.license_raw = tval
            mf.license = to_spdx(tval)
            mf.evidence.append(evidence(f"{key}: {value}", off, f"{rule}/metadata-license", mf.member))
        elif low in AUTHOR_KEYS and mf.author is None:
            mf.author = trim(tval, 512)
            mf.evidence.append(evidence(f"{key}: {value}", off, f"{rule}/metadata-author", mf.member))
        elif low in NAME_KEYS and mf.name is None:
            mf.name = trim(tval, 256)
            mf.evidence.append(evidence(f"{key}: {value}", off, f"{rule}/metadata-name", mf.member))
        elif low in VERSION_KEYS and mf.version is None:
            mf.version = trim(tval, 128)
        elif len(mf.metadata) < 256:
            mf.metadata[key[:256]] = trim(tval, 1024) or ""
