"""Models that are zip archives (PyTorch/TorchScript, ExecuTorch-free Lite, .keras, MediaPipe .task) and model
folders (Core ML .mlpackage / .mlmodelc, TensorFlow SavedModel) that the walker reports as one model."""

from __future__ import annotations

import io
import json
import posixpath
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping

from licensegate.errors import MemberError
from licensegate.ml._common import evidence, trim
from licensegate.ml.licences import to_spdx
from licensegate.ml.modelfile import ModelFile, TensorSummary

MAX_ZIP_NAMES = 100000
MAX_SMALL_FILE = 1 << 20  # config/metadata files read from inside a model zip

_TORCH_DATA = re.compile(r"^([^/]+)/data\.pkl$")


def is_mediapipe_task(names: Iterable[str]) -> bool:
    """Whether the member names of a zip are a MediaPipe task bundle (a flat zip of TFLite models + assets)."""
    listed = [n for n in names][:MAX_ZIP_NAMES]
    return any(_is_tflite_name(n) for n in listed) and not any(n.startswith(_APP_FOLDERS) for n in listed)


_APP_FOLDERS = ("AndroidManifest.xml", "classes.dex", "META-INF/", "Payload/", "lib/", "res/", "assets/", "base/")


def _is_tflite_name(name: str) -> bool:
    return name.lower().endswith(".tflite") or posixpath.basename(name).startswith("TF_LITE_")


def _read_small(zf: zipfile.ZipFile, name: str) -> bytes | None:
    try:
        info = zf.getinfo(name)
        if info.file_size > MAX_SMALL_FILE:
            return None
        with zf.open(info) as fh:
            return fh.read(MAX_SMALL_FILE)
    except (KeyError, zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError, EOFError, ValueError):
        return None
    except Exception:  # noqa: BLE001 - zlib.error and struct.error on hostile members
        return None


def open_zip_names(data: bytes | memoryview) -> tuple[zipfile.ZipFile, list[str]] | None:
    if bytes(data[:4]) != b"PK\x03\x04":
        return None
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        names = [i.filename for i in zf.infolist()[:MAX_ZIP_NAMES]]
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
        return None
    except Exception:  # noqa: BLE001 - struct.error and friends on hostile central directories
        return None
    return zf, names


def sniff_zip_model(data: bytes | memoryview, member: str) -> ModelFile | None:
    opened = open_zip_names(data)
    if opened is None:
        return None
    zf, names = opened
    with zf:
        return _pytorch(zf, names, member) or _keras(zf, names, member)


def _pytorch(zf: zipfile.ZipFile, names: list[str], member: str) -> ModelFile | None:
    root = _torch_root(names)
    if root is None:
        return None
    kind = _torch_kind(root, names)
    mf = ModelFile(format="pytorch", member=member)
    mf.metadata["container"] = kind
    mf.evidence.append(evidence(f"{root}/data.pkl + {root}/version ({kind})", None, "model/pytorch/zip", member))
    version = _read_small(zf, f"{root}/version") or _read_small(zf, f"{root}/.data/version")
    if version is not None:
        mf.format_version = version.decode("ascii", "replace").strip()[:16]
    _torch_extra_files(zf, names, root, member, mf)
    return mf


def _torch_root(names: list[str]) -> str | None:
    """The folder torch.save / torch.jit.save put the archive under (`archive`, or a name the model's author chose,
    such as `VADr_v5`): the first holding data.pkl, if it also holds the archive's version record."""
    roots = sorted({m.group(1) for n in names if (m := _TORCH_DATA.match(n))})
    if not roots:
        return None
    root = roots[0]
    return root if f"{root}/version" in names or f"{root}/.data/version" in names else None


def _torch_kind(root: str, names: list[str]) -> str:
    """bytecode.pkl: saved for the Lite interpreter; constants.pkl or code/: TorchScript; else torch.save."""
    nameset = set(names)
    if f"{root}/bytecode.pkl" in nameset or "bytecode.pkl" in nameset:
        return "PyTorch Lite (mobile)"
    if f"{root}/constants.pkl" in nameset or any(n.startswith(f"{root}/code/") for n in names):
        return "TorchScript"
    return "torch.save"


def _torch_extra_files(zf: zipfile.ZipFile, names: list[str], root: str, member: str, mf: ModelFile) -> None:
    """The first 32 files saved beside the model (`<root>/extra/`)."""
    for name in sorted(n for n in names if n.startswith(f"{root}/extra/"))[:32]:
        raw = _read_small(zf, name)
        if raw is not None:
            _torch_extra_file(mf, name[len(root) + 7 :], raw, f"{member}!/{name}")


def _torch_extra_file(mf: ModelFile, key: str, raw: bytes, where: str) -> None:
    """A file saved with the model (`_extra_files`): kept as metadata; a JSON one may state the licence."""
    mf.metadata[f"extra/{key}"[:256]] = trim(raw.decode("utf-8", "replace"), 1024) or ""
    try:
        doc = json.loads(raw)
    except ValueError:
        return
    if not isinstance(doc, dict):
        return
    for k in ("license", "licence"):
        if isinstance(doc.get(k), str) and mf.license_raw is None:
            mf.license_raw = trim(doc[k])
            mf.license = to_spdx(mf.license_raw)
            mf.evidence.append(evidence(f"{k}: {doc[k]}", None, "model/pytorch/extra-license", where))





def _keras(zf: zipfile.ZipFile, names: list[str], member: str) -> ModelFile | None:
    docs = _keras_documents(zf, names)
    if docs is None:
        return None
    meta, config = docs
    mf = ModelFile(format="keras", member=member)
    mf.metadata["container"] = ".keras zip"
    kv = str(meta["keras_version"])[:32]
    mf.producer = f"Keras {kv}"
    mf.evidence.append(evidence(f"metadata.json keras_version {kv}", None, "model/keras/zip", member))
    _keras_facts(mf, meta, config)
    mf.associated_files = [n for n in names if n not in ("config.json", "metadata.json")][:64]
    return mf


def _keras_facts(mf: ModelFile, meta: dict[str, object], config: dict[str, object]) -> None:
    """When it was saved, the model's class and its name."""
    for key, doc, limit in (("date_saved", meta, 64), ("class_name", config, 128)):
        value = doc.get(key)
        if isinstance(value, str):
            mf.metadata[key] = value[:limit]
    inner = config.get("config")
    if isinstance(inner, dict) and isinstance(inner.get("name"), str):
        mf.name = trim(inner["name"], 256)


def _keras_documents(zf: zipfile.ZipFile, names: list[str]) -> tuple[dict[str, object], dict[str, object]] | None:
    """metadata.json (with keras_version) and config.json of a Keras 3 `.keras` zip; None when it is not one."""
    if "config.json" not in names or "metadata.json" not in names:
        return None
    meta, config = _read_json(zf, "metadata.json"), _read_json(zf, "config.json")
    if not isinstance(meta, dict) or "keras_version" not in meta or not isinstance(config, dict):
        return None
    return meta, config


def _read_json(zf: zipfile.ZipFile, name: str) -> object:
    """A small JSON member; None when it is missing, too large, empty or not JSON."""
    raw = _read_small(zf, name)
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


# ---------------------------------------------------------------- folders


def _relative(entries: Mapping[str, Callable[[], bytes]], root: str) -> dict[str, Callable[[], bytes]]:
    prefix = root.rstrip("/") + "/"
    out: dict[str, Callable[[], bytes]] = {}
    for key, load in entries.items():
        rel = key[len(prefix) :] if key.startswith(prefix) else key
        out[rel.lstrip("/")] = load
    return out


def sniff_model_directory(entries: Mapping[str, Callable[[], bytes]], root: str) -> ModelFile | None:
    """A folder that is one model: Core ML .mlpackage or compiled .mlmodelc, or a TensorFlow SavedModel.

    `entries` maps paths (relative to `root`, or full member paths under it) to loaders of their bytes; only the
    files needed are loaded. The model is reported at `root`.
    """
    rel = _relative(entries, root)
    if "Manifest.json" in rel or "Data/com.apple.CoreML/model.mlmodel" in rel:
        return _mlpackage(rel, root)
    if _is_mlmodelc(rel):
        return _mlmodelc(rel, root)
    if "saved_model.pb" in rel:
        return _saved_model_folder(rel, root)
    return None


def _is_mlmodelc(rel: Mapping[str, object]) -> bool:
    """What Xcode's Core ML compiler writes: coremldata.bin beside metadata.json, model.mil or an Espresso net."""
    return "coremldata.bin" in rel and (
        "metadata.json" in rel
        or "model.mil" in rel
        or any(k.startswith("model.espresso.") for k in rel)
        or "model/coremldata.bin" in rel
    )


def _saved_model_folder(rel: dict[str, Callable[[], bytes]], root: str) -> ModelFile | None:
    from licensegate.ml.protobuf_formats import sniff_saved_model

    mf = sniff_saved_model(rel["saved_model.pb"](), f"{root}/saved_model.pb")
    if mf is None:
        return None
    mf.member = root
    mf.associated_files = sorted(k for k in rel if k != "saved_model.pb")[:64]
    return mf


def _mlpackage(rel: dict[str, Callable[[], bytes]], root: str) -> ModelFile | None:
    from licensegate.ml.protobuf_formats import sniff_coreml

    spec_path = _mlpackage_spec_path(rel, root)
    if spec_path not in rel:
        raise MemberError(f"{root}: Core ML package without its model spec {spec_path}")
    mf = sniff_coreml(rel[spec_path](), f"{root}/{spec_path}")
    if mf is None:
        raise MemberError(f"{root}/{spec_path}: not a Core ML model spec")
    mf.member = root
    mf.metadata["container"] = "mlpackage"
    mf.associated_files = sorted(k for k in rel if k not in ("Manifest.json", spec_path))[:64]
    return mf


def _mlpackage_spec_path(rel: dict[str, Callable[[], bytes]], root: str) -> str:
    """The root model's spec: where Manifest.json's rootModelIdentifier item points, else the default path."""
    if "Manifest.json" not in rel:
        return "Data/com.apple.CoreML/model.mlmodel"
    try:
        manifest = json.loads(rel["Manifest.json"]())
        root_item = manifest["itemInfoEntries"][manifest["rootModelIdentifier"]]
        return "Data/" + str(root_item["path"])
    except (ValueError, KeyError, TypeError) as exc:
        raise MemberError(f"{root}/Manifest.json: not a Core ML package manifest ({exc})") from exc


def _schema(items: object) -> list[TensorSummary]:
    """metadata.json's inputSchema / outputSchema: entries with a name, a JSON-encoded shape and a data type."""
    if not isinstance(items, list):
        return []
    found = (_schema_entry(it) for it in items[:64])
    return [t for t in found if t is not None]


def _schema_entry(it: object) -> TensorSummary | None:
    if not isinstance(it, dict) or not isinstance(it.get("name"), str):
        return None
    dtype = it.get("dataType") or it.get("type")
    return TensorSummary(it["name"], _schema_shape(it.get("shape")), str(dtype) if dtype else None)


def _schema_shape(raw: object) -> tuple[int | str, ...] | None:
    """A shape written as a JSON list in a string ("[1, 3, 224, 224]"); None when it is not one."""
    if not isinstance(raw, str):
        return None
    try:
        parsed = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(parsed, list):
        return None
    return tuple(int(x) if isinstance(x, int) else str(x) for x in parsed[:16])


def _mlmodelc(rel: dict[str, Callable[[], bytes]], root: str) -> ModelFile:
    mf = ModelFile(format="coreml", member=root)
    mf.metadata["container"] = "mlmodelc"
    mf.evidence.append(
        evidence("compiled Core ML folder (coremldata.bin)", None, "model/coreml/mlmodelc", f"{root}/coremldata.bin")
    )
    mf.associated_files = sorted(rel)[:64]
    if "metadata.json" not in rel:
        mf.notes.append("no metadata.json: author and licence unknown")
        return mf
    doc = _mlmodelc_metadata(rel, root)
    where = f"{root}/metadata.json"
    mf.author = _mlmodelc_field(mf, doc, "author", where)
    mf.description = _mlmodelc_field(mf, doc, "shortDescription", where)
    mf.version = _mlmodelc_field(mf, doc, "version", where)
    mf.license_raw = _mlmodelc_field(mf, doc, "license", where)
    mf.license = to_spdx(mf.license_raw)
    _mlmodelc_facts(mf, doc)
    _mlmodelc_user_defined(mf, doc.get("userDefinedMetadata"))
    mf.inputs = _schema(doc.get("inputSchema"))
    mf.outputs = _schema(doc.get("outputSchema"))
    return mf


def _mlmodelc_metadata(rel: dict[str, Callable[[], bytes]], root: str) -> dict[str, object]:
    """metadata.json: a Core ML metadata object (Xcode writes it as the only element of a list)."""
    try:
        doc = json.loads(rel["metadata.json"]())
    except ValueError as exc:
        raise MemberError(f"{root}/metadata.json: not JSON ({exc})") from exc
    if isinstance(doc, list) and doc and isinstance(doc[0], dict):
        doc = doc[0]
    if not isinstance(doc, dict):
        raise MemberError(f"{root}/metadata.json: not a Core ML metadata object")
    return doc


def _mlmodelc_field(mf: ModelFile, doc: dict[str, object], key: str, where: str) -> str | None:
    """A text field of metadata.json, recorded as evidence when present."""
    value = doc.get(key)
    if not isinstance(value, (str, int, float)) or not str(value).strip():
        return None
    shown = trim(str(value))
    mf.evidence.append(evidence(f"{key}: {shown}", None, f"model/coreml/mlmodelc-{key}", where))
    return shown


def _mlmodelc_facts(mf: ModelFile, doc: dict[str, object]) -> None:
    """specificationVersion, modelType.name and generatedClassName."""
    spec = doc.get("specificationVersion")
    if isinstance(spec, int):
        mf.format_version = str(spec)
    model_type = doc.get("modelType")
    if isinstance(model_type, dict) and isinstance(model_type.get("name"), str):
        mf.metadata["model_type"] = model_type["name"][:128]
    class_name = doc.get("generatedClassName")
    if isinstance(class_name, str):
        mf.name = trim(class_name, 256)


def _mlmodelc_user_defined(mf: ModelFile, user: object) -> None:
    """userDefinedMetadata, kept as metadata; coremltools writes its version there."""
    if not isinstance(user, dict):
        return
    for k, v in list(user.items())[:256]:
        mf.metadata[str(k)[:256]] = trim(str(v), 1024) or ""
    ct = user.get("com.github.apple.coremltools.version")
    if isinstance(ct, str):
        mf.producer = f"coremltools {ct}"
