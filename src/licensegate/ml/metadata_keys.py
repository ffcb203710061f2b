"""Key/value model metadata (ONNX metadata_props, ORT, safetensors __metadata__): the keys that mean licence,
author, name and version, by convention rather than schema."""

from __future__ import annotations

from licensegate.ml._common import TEXT_LIMIT, evidence, trim
from licensegate.ml.licences import to_spdx
from licensegate.ml.modelfile import ModelFile

LICENCE_KEYS = frozenset({"license", "licence", "license_name", "licence_name", "spdx", "license_id"})
AUTHOR_KEYS = frozenset({"author", "authors", "creator"})
NAME_KEYS = frozenset({"name", "model_name", "title"})
VERSION_KEYS = frozenset({"version", "model_version"})


def apply_props(mf: ModelFile, props: dict[str, tuple[str, int]], rule: str) -> None:
    """Fold key/value metadata into the ModelFile, picking out licence, author, name and version keys."""
    for key, (value, off) in props.items():
        tval = trim(value)
        if tval is None or _take_role(mf, key, value, tval, off, rule):
            continue
        if len(mf.metadata) < 256:
            mf.metadata[key[:256]] = trim(tval, 1024) or ""


# lower-case key -> (ModelFile attribute, length limit, evidence rule suffix or None)
_ROLES: dict[str, tuple[str, int, str | None]] = {
    **dict.fromkeys(LICENCE_KEYS, ("license_raw", TEXT_LIMIT, "metadata-license")),
    **dict.fromkeys(AUTHOR_KEYS, ("author", 512, "metadata-author")),
    **dict.fromkeys(NAME_KEYS, ("name", 256, "metadata-name")),
    **dict.fromkeys(VERSION_KEYS, ("version", 128, None)),
}


def _take_role(mf: ModelFile, key: str, value: str, tval: str, off: int, rule: str) -> bool:
    """Fill the ModelFile field the key names, unless an earlier key filled it; whether it did."""
    role = _ROLES.get(key.lower())
    if role is None or getattr(mf, role[0]) is not None:
        return False
    attr, limit, suffix = role
    setattr(mf, attr, trim(tval, limit))
    if attr == "license_raw":
        mf.license = to_spdx(tval)
    if suffix is not None:
        mf.evidence.append(evidence(f"{key}: {value}", off, f"{rule}/{suffix}", mf.member))
    return True
