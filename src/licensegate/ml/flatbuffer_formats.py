"""Models stored as FlatBuffers: TFLite, ORT, ExecuTorch, MNN."""

from __future__ import annotations

import io
import re
import zipfile

from licensegate.errors import MemberError
from licensegate.ml._common import TEXT_LIMIT, evidence, trim
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
    return _external_buffer(buf, len(data))


def _external_buffer(buf: Table, size_of_file: int) -> tuple[int, int] | None:
    """Buffer.offset (1) and .size (2): data stored after the FlatBuffer, inside the file."""
    offset, size = int(buf.scalar(1, "Q", 0)), int(buf.scalar(2, "Q", 0))
    return (offset, size) if offset > 1 and size and offset + size <= size_of_file else None


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
    _tflite_producer(model, member, mf)
    mf.inputs = _tflite_tensors(subgraphs[0], 1)
    mf.outputs = _tflite_tensors(subgraphs[0], 2)
    if (name := subgraphs[0].string(4, 256)) and name != "main":
        mf.metadata["subgraph"] = name
    for entry in model.tables(6, limit=256):
        loc = _tflite_buffer(model, data, entry.uint(1))
        if loc is not None:
            _tflite_metadata_entry(data, entry.string(0, 256) or "", loc, mf)
    _add_associated(mf, _appended_zip_names(data))
    return mf


def _tflite_producer(model: Table, member: str, mf: ModelFile) -> None:
    """Model.description: converters write their name there ("TOCO Converted.", "MLIR Converted.")."""
    desc = model.string_at(3)
    if desc is not None and desc[0]:
        mf.producer = trim(desc[0], 256)
        mf.evidence.append(evidence(desc[0], desc[1], "model/tflite/description", member))


def _add_associated(mf: ModelFile, names: list[str]) -> None:
    for name in names:
        if name not in mf.associated_files:
            mf.associated_files.append(name)


def _tflite_metadata_entry(data: bytes | memoryview, key: str, loc: tuple[int, int], mf: ModelFile) -> None:
    """One Model.metadata entry: the TFLite Metadata flatbuffer, the minimum runtime, the converter's TF version, or
    a name kept in metadata_entries."""
    start, size = loc
    if key == "TFLITE_METADATA":
        _read_model_metadata(data, start, size, mf)
    elif key == "min_runtime_version":
        mf.metadata[key] = bytes(data[start : start + min(size, 64)]).split(b"\0")[0].decode("ascii", "replace")
    elif key == "CONVERSION_METADATA":
        if tf_version := _conversion_tf_version(data[start : start + size]):
            mf.metadata["tensorflow_version"] = tf_version
    else:
        mf.metadata.setdefault("metadata_entries", "")
        mf.metadata["metadata_entries"] = ",".join(filter(None, [mf.metadata["metadata_entries"], key[:64]]))


def _conversion_tf_version(blob: bytes | memoryview) -> str | None:
    """ConversionMetadata.environment (0).tensorflow_version (0)."""
    try:
        env = Table.root(blob).table(0)
        return env.string(0, 64) if env is not None else None
    except FlatBufferError:
        return None


def _read_model_metadata(data: bytes | memoryview, start: int, size: int, mf: ModelFile) -> None:
    blob = data[start : start + size]
    if file_identifier(blob) != b"M001":
        mf.notes.append("TFLITE_METADATA buffer without the M001 identifier")
        return
    try:
        meta = Table.root(blob)
        fields = _metadata_strings(meta)
        files = _metadata_associated_files(meta)
        parser = meta.string(7, 64)
    except FlatBufferError as exc:
        mf.notes.append(f"TFLITE_METADATA unreadable: {exc}")
        return
    mf.evidence.append(evidence("TFLITE_METADATA (M001)", start + 4, "model/tflite/metadata", mf.member))
    _apply_model_metadata(mf, fields, start)
    if parser:
        mf.metadata["min_parser_version"] = parser
    _add_associated(mf, files)


# ModelMetadata (tflite-support metadata_schema.fbs): slot, key, ModelFile attribute, length limit
_MODEL_METADATA = ((0, "name", "name", 256), (1, "description", "description", TEXT_LIMIT), (2, "version", "version", 128),
                   (4, "author", "author", 512), (5, "license", "license_raw", TEXT_LIMIT))  # fmt: skip


def _metadata_strings(meta: Table) -> dict[str, tuple[str, int]]:
    """The non-blank text fields of ModelMetadata: key -> (value, offset in the metadata buffer)."""
    found = ((key, meta.string_at(slot)) for slot, key, _, _ in _MODEL_METADATA)
    return {key: s for key, s in found if s is not None and s[0].strip()}


def _metadata_associated_files(meta: Table) -> list[str]:
    """associated_files of the model (6), of each subgraph (4) and of each of their input/output tensors (6)."""
    files = _associated(meta, 6)
    for sg in meta.tables(3, limit=16):
        files += _associated(sg, 4)
        for t in sg.tables(2, limit=256) + sg.tables(3, limit=256):
            files += _associated(t, 6)
    return files


def _apply_model_metadata(mf: ModelFile, fields: dict[str, tuple[str, int]], start: int) -> None:
    for key, (value, off) in fields.items():
        mf.evidence.append(evidence(f"{key}: {value}", start + off, f"model/tflite/metadata-{key}", mf.member))
    for _, key, attr, limit in _MODEL_METADATA:
        if key in fields or attr != "license_raw":
            setattr(mf, attr, trim(fields[key][0], limit) if key in fields else None)
    if "license" in fields:
        mf.license = to_spdx(mf.license_raw)


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
    _ort_producer(model, member, mf)
    if domain := model.string(4, 256):
        mf.metadata["domain"] = domain
    if model_version := int(model.scalar(5, "q", 0)):
        mf.version = str(model_version)
    doc = model.string_at(6)
    if doc and doc[0]:
        mf.description = trim(doc[0])
    _ort_graph(model.table(7), mf)


def _ort_graph(graph: Table | None, mf: ModelFile) -> None:
    """Graph inputs (5) and outputs (6), by name."""
    if graph is not None:
        mf.inputs = [TensorSummary(n) for n in graph.strings(5, limit=64)]
        mf.outputs = [TensorSummary(n) for n in graph.strings(6, limit=64)]


def _ort_producer(model: Table, member: str, mf: ModelFile) -> None:
    """producer_name (2) and producer_version (3)."""
    producer = model.string_at(2)
    if producer and producer[0]:
        pv = model.string(3, 128)
        mf.producer = trim(f"{producer[0]} {pv}" if pv else producer[0], 256)
        mf.evidence.append(evidence(producer[0], producer[1], "model/ort/producer", member))


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
    version, plans = _executorch_program(data, member)
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


def _executorch_program(data: bytes | memoryview, member: str) -> tuple[int, list[str]]:
    """executorch/schema/program.fbs: Program { version, execution_plan:[ExecutionPlan], ... };
    ExecutionPlan { name:string, ... }: the version and the method names ("forward"), the cheap summary."""
    try:
        program = Table.root(data)
        return program.uint(0), [p.string(0, 256) or "" for p in program.tables(1, limit=64)]
    except FlatBufferError as exc:
        raise MemberError(f"{member}: ExecuTorch identifier but malformed FlatBuffer: {exc}") from exc


# MNN/schema/default/MNN.fbs: table Net { bizCode:string; extraTensorDescribe:[TensorDescribe];
#   extraInfo:ExtraInfo; oplists:[Op]; outputName:[string]; preferForwardType:ForwardType;
#   sourceType:NetSource; tensorName:[string]; tensorNumber:int; usage:Usage; subgraphs:[SubGraphProto];
#   mnn_uuid:string; }  -- no file identifier, so the structure itself is the evidence.
_MNN_SOURCES = ["caffe", "tensorflow", "tflite", "onnx", "torch"]


def sniff_mnn(data: bytes | memoryview, member: str) -> ModelFile | None:
    net = _mnn_net(data) if len(data) >= 32 else None
    if net is None:
        return None
    ops, tensor_names, outputs, biz, source = net
    mf = ModelFile(format="mnn", member=member, confidence="medium")
    mf.evidence.append(evidence(f"MNN Net: {ops} ops, {len(tensor_names)} tensors", 0, "model/mnn/net", member))
    mf.notes.append("MNN files carry no magic; recognised by the Net table structure")
    mf.producer = f"MNNConvert from {_MNN_SOURCES[source]}"
    if biz:
        mf.metadata["bizCode"] = biz
    mf.outputs = [TensorSummary(n) for n in outputs]
    return mf


def _mnn_net(data: bytes | memoryview) -> tuple[int, list[str], list[str], str | None, int] | None:
    """(op count, tensor names, output names, bizCode, source type) of a root Net table with ops and tensor names
    whose names are printable and whose source is a known converter; None otherwise."""
    try:
        net = Table.root(data)
        if net.vtable_size < 4 + 2 * 8 or not net.has(3) or not net.has(7):
            return None
        ops = net.tables(3, limit=1 << 16)
        tensor_names = net.strings(7, limit=1 << 16)
        if not ops or not tensor_names:
            return None
        # Op { inputIndexes:[int]; main:OpParameter(union, 2 slots); name:string; outputIndexes:[int]; type:OpType }
        names = tensor_names[:64] + [op.string(3, 256) for op in ops[:8]]
        facts = (len(ops), tensor_names, net.strings(4, limit=64), net.string(0, 256), int(net.scalar(6, "b", 0)))
    except FlatBufferError:
        return None
    return facts if _mnn_plausible(names, facts[4]) else None


def _mnn_plausible(names: list[str | None], source: int) -> bool:
    """Printable tensor and op names and a known converter: what random bytes parsed as a Net lack."""
    return all(n is None or n.isprintable() for n in names) and 0 <= source < len(_MNN_SOURCES)


