"""Models stored as FlatBuffers: TFLite, ORT, ExecuTorch, MNN."""

from __future__ import annotations

import io
import re
import zipfile

from licensegate.errors import MemberError
from licensegate.ml._common import evidence, trim
from licensegate.ml.flatbuffer import FlatBufferError, Table, file_identifier
from licensegate.ml.licences import to_spdx
from licensegate.ml.metadata_keys import apply_props
from licensegate.ml.modelfile import ModelFile, TensorSummary

# tensorflow/lite/schema/schema.fbs enum TensorType
_TFLITE_TYPES = [
    "float32", "float16", "int32", "uint8", "int64", "string", "bool", "int16", "complex64", "int8",
    "float64", "complex128", "uint64", "resource", "variant", "uint32", "uint16", "int4", "bfloat16",
]  # fmt: skip

MAX_ZIP_ENTRIES = 10000


def _tflite_tensors(subgraph: Table, slot: int) -> list[TensorSummary]:
    tensors = subgraph.tables(0, limit=1 << 20)
    out: list[TensorSummary] = []
    for idx in subgraph.ints(slot, limit=64):
        if 0 <= idx < len(tensors):
            t = tensors[idx]
            type_id = int(t.scalar(1, "b", 0))
            out.append(
                TensorSummary(
                    name=t.string(3, 512) or f"#{idx}",
                    shape=tuple(t.ints(0, limit=16)),
                    dtype=_TFLITE_TYPES[type_id] if 0 <= type_id < len(_TFLITE_TYPES) else None,
                )
            )
    return out


def _tflite_buffer(model: Table, data: bytes | memoryview, index: int) -> tuple[int, int] | None:
    """(absolute start, length) of buffer `index`, inline or (for >2 GB models) at offset/size."""
    buffers = model.vector(4)
    if buffers is None or not 0 <= index < buffers[1]:
        return None
    buf = model.tables(4, limit=index + 1)[index]
    inline = buf.vector_bytes(0)
    if inline is not None and inline[1]:
        return inline
    offset, size = int(buf.scalar(1, "Q", 0)), int(buf.scalar(2, "Q", 0))
    if offset > 1 and size and offset + size <= len(data):
        return offset, size
    return None


def _associated(table: Table, slot: int) -> list[str]:
    return [n for f in table.tables(slot, limit=256) if (n := f.string(0, 512))]


def sniff_tflite(data: bytes | memoryview, member: str) -> ModelFile | None:
    if file_identifier(data) != b"TFL3":
        return None
    try:
        return _read_tflite(data, member)
    except FlatBufferError as exc:
        raise MemberError(f"{member}: TFLite identifier but malformed FlatBuffer: {exc}") from exc


def _read_tflite(data: bytes | memoryview, member: str) -> ModelFile:
    model = Table.root(data)
    schema_version = model.uint(0)
    subgraphs = model.tables(2, limit=64)
    if not subgraphs:
        raise FlatBufferError("no subgraphs")
    mf = ModelFile(format="tflite", member=member, format_version=str(schema_version))
    mf.evidence.append(evidence("TFL3", 4, "model/tflite/file-identifier", member))
    desc = model.string_at(3)
    if desc is not None and desc[0]:
        mf.producer = trim(desc[0], 256)  # converters write their name here ("TOCO Converted.", "MLIR Converted.")
        mf.evidence.append(evidence(desc[0], desc[1], "model/tflite/description", member))
    mf.inputs = _tflite_tensors(subgraphs[0], 1)
    mf.outputs = _tflite_tensors(subgraphs[0], 2)
    if (name := subgraphs[0].string(4, 256)) and name != "main":
        mf.metadata["subgraph"] = name

    for entry in model.tables(6, limit=256):
        key = entry.string(0, 256) or ""
        loc = _tflite_buffer(model, data, entry.uint(1))
        if loc is not None:
            _tflite_metadata_entry(data, key, loc, mf)

    for name in _appended_zip_names(data):
        if name not in mf.associated_files:
            mf.associated_files.append(name)
    return mf


def _tflite_metadata_entry(data: bytes | memoryview, key: str, loc: tuple[int, int], mf: ModelFile) -> None:
    """One Model.metadata entry: the TFLite Metadata flatbuffer, the minimum runtime, the converter's TF version, or
    a name kept in metadata_entries."""
    start, size = loc
    if key == "TFLITE_METADATA":
        _read_model_metadata(data, start, size, mf)
    elif key == "min_runtime_version":
        mf.metadata[key] = bytes(data[start : start + min(size, 64)]).split(b"\0")[0].decode("ascii", "replace")
    elif key == "CONVERSION_METADATA":
        try:
            env = Table.root(data[start : start + size]).table(0)
            tf_version = env.string(0, 64) if env is not None else None
        except FlatBufferError:
            tf_version = None
        if tf_version:
            mf.metadata["tensorflow_version"] = tf_version
    else:
        mf.metadata.setdefault("metadata_entries", "")
        mf.metadata["metadata_entries"] = ",".join(filter(None, [mf.metadata["metadata_entries"], key[:64]]))


def _read_model_metadata(data: bytes | memoryview, start: int, size: int, mf: ModelFile) -> None:
    blob = data[start : start + size]
    if file_identifier(blob) != b"M001":
        mf.notes.append("TFLITE_METADATA buffer without the M001 identifier")
        return
    try:
        meta = Table.root(blob)
        fields = {}
        for slot, key in ((0, "name"), (1, "description"), (2, "version"), (4, "author"), (5, "license")):
            s = meta.string_at(slot)
            if s is not None and s[0].strip():
                fields[key] = s
        files = _associated(meta, 6)
        for sg in meta.tables(3, limit=16):
            files += _associated(sg, 4)
            for t in sg.tables(2, limit=256) + sg.tables(3, limit=256):
                files += _associated(t, 6)
        parser = meta.string(7, 64)
    except FlatBufferError as exc:
        mf.notes.append(f"TFLITE_METADATA unreadable: {exc}")
        return
    mf.evidence.append(evidence("TFLITE_METADATA (M001)", start + 4, "model/tflite/metadata", mf.member))
    for key, (value, off) in fields.items():
        mf.evidence.append(evidence(f"{key}: {value}", start + off, f"model/tflite/metadata-{key}", mf.member))
    mf.name = trim(fields["name"][0], 256) if "name" in fields else None
    mf.description = trim(fields["description"][0]) if "description" in fields else None
    mf.version = trim(fields["version"][0], 128) if "version" in fields else None
    mf.author = trim(fields["author"][0], 512) if "author" in fields else None
    if "license" in fields:
        mf.license_raw = trim(fields["license"][0])
        mf.license = to_spdx(mf.license_raw)
    if parser:
        mf.metadata["min_parser_version"] = parser
    for f in files:
        if f not in mf.associated_files:
            mf.associated_files.append(f)


def _appended_zip_names(data: bytes | memoryview) -> list[str]:
    """Names in the zip that the TFLite metadata populator appends after the FlatBuffer, if any."""
    tail = bytes(data[-65557:])
    if b"PK\x05\x06" not in tail:
        return []
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            return [i.filename for i in infos[:MAX_ZIP_ENTRIES] if not i.is_dir()]
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, IndexError, KeyError, NotImplementedError):
        return []
    except Exception:  # noqa: BLE001 - zipfile raises assorted struct errors on hostile central directories
        return []


def sniff_ort(data: bytes | memoryview, member: str) -> ModelFile | None:
    if file_identifier(data) != b"ORTM":
        return None
    try:
        session = Table.root(data)
        mf = ModelFile(format="ort", member=member, format_version=session.string(0, 64))
        mf.evidence.append(evidence("ORTM", 4, "model/ort/file-identifier", member))
        model = session.table(1)
        if model is None:
            mf.notes.append("ORT session without a model table")
            mf.confidence = "medium"
            return mf
        _ort_model(model, member, mf)
        props = _ort_props(model)
    except FlatBufferError as exc:
        raise MemberError(f"{member}: ORT identifier but malformed FlatBuffer: {exc}") from exc
    apply_props(mf, props, "model/ort")
    return mf


def _ort_model(model: Table, member: str, mf: ModelFile) -> None:
    """The Model table: ir_version 0, producer 2 and 3, domain 4, model_version 5, doc_string 6, graph 7."""
    mf.metadata["ir_version"] = str(int(model.scalar(0, "q", 0)))
    producer = model.string_at(2)
    if producer and producer[0]:
        pv = model.string(3, 128)
        mf.producer = trim(f"{producer[0]} {pv}" if pv else producer[0], 256)
        mf.evidence.append(evidence(producer[0], producer[1], "model/ort/producer", member))
    if domain := model.string(4, 256):
        mf.metadata["domain"] = domain
    model_version = int(model.scalar(5, "q", 0))
    if model_version:
        mf.version = str(model_version)
    doc = model.string_at(6)
    if doc and doc[0]:
        mf.description = trim(doc[0])
    graph = model.table(7)
    if graph is not None:
        mf.inputs = [TensorSummary(n) for n in graph.strings(5, limit=64)]
        mf.outputs = [TensorSummary(n) for n in graph.strings(6, limit=64)]


def _ort_props(model: Table) -> dict[str, tuple[str, int]]:
    """metadata_props (9): key -> (value, offset of the value, else of the key)."""
    props = {}
    for entry in model.tables(9, limit=256):
        k, v = entry.string_at(0), entry.string_at(1)
        if k is not None:
            props[k[0]] = (v[0] if v else "", v[1] if v else k[1])
    return props


_ET_IDENT = re.compile(rb"ET[0-9]{2}")


def sniff_executorch(data: bytes | memoryview, member: str) -> ModelFile | None:
    ident = file_identifier(data)
    if not _ET_IDENT.fullmatch(ident):
        return None
    try:
        program = Table.root(data)
        version = program.uint(0)
        # executorch/schema/program.fbs: Program { version, execution_plan:[ExecutionPlan], ... };
        # ExecutionPlan { name:string, ... }: the method names ("forward") are the cheap summary
        plans = [p.string(0, 256) or "" for p in program.tables(1, limit=64)]
    except FlatBufferError as exc:
        raise MemberError(f"{member}: ExecuTorch identifier but malformed FlatBuffer: {exc}") from exc
    if not plans:
        # two ASCII letters and digits at 4..8 happen by chance; without a plan it is not a program
        return None
    mf = ModelFile(format="executorch", member=member, format_version=ident.decode("ascii"))
    mf.evidence.append(evidence(ident.decode("ascii"), 4, "model/executorch/file-identifier", member))
    if bytes(data[8:12]) == b"eh00":
        mf.evidence.append(evidence("eh00 extended header", 8, "model/executorch/extended-header", member))
    mf.metadata["program_version"] = str(version)
    mf.metadata["methods"] = ",".join(p for p in plans if p)
    return mf


# MNN/schema/default/MNN.fbs: table Net { bizCode:string; extraTensorDescribe:[TensorDescribe];
#   extraInfo:ExtraInfo; oplists:[Op]; outputName:[string]; preferForwardType:ForwardType;
#   sourceType:NetSource; tensorName:[string]; tensorNumber:int; usage:Usage; subgraphs:[SubGraphProto];
#   mnn_uuid:string; }  -- no file identifier, so the structure itself is the evidence.
_MNN_SOURCES = ["caffe", "tensorflow", "tflite", "onnx", "torch"]


def sniff_mnn(data: bytes | memoryview, member: str) -> ModelFile | None:
    if len(data) < 32:
        return None
    try:
        net = Table.root(data)
        if net.vtable_size < 4 + 2 * 8 or not net.has(3) or not net.has(7):
            return None
        ops = net.tables(3, limit=1 << 16)
        tensor_names = net.strings(7, limit=1 << 16)
        if not ops or not tensor_names:
            return None
        outputs = net.strings(4, limit=64)
        biz = net.string(0, 256)
        source = int(net.scalar(6, "b", 0))
        # Op { inputIndexes:[int]; main:OpParameter(union, 2 slots); name:string; outputIndexes:[int]; type:OpType }
        op_names = [op.string(3, 256) for op in ops[:8]]
    except FlatBufferError:
        return None
    if not all(n is None or n.isprintable() for n in tensor_names[:64] + op_names) or not 0 <= source < 5:
        return None
    mf = ModelFile(format="mnn", member=member, confidence="medium")
    mf.evidence.append(evidence(f"MNN Net: {len(ops)} ops, {len(tensor_names)} tensors", 0, "model/mnn/net", member))
    mf.notes.append("MNN files carry no magic; recognised by the Net table structure")
    mf.producer = f"MNNConvert from {_MNN_SOURCES[source]}"
    if biz:
        mf.metadata["bizCode"] = biz
    mf.outputs = [TensorSummary(n) for n in outputs]
    return mf
