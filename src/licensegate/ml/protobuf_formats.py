"""Models stored as protobuf messages: ONNX, Core ML, TensorFlow (SavedModel, GraphDef), Caffe, Paddle.

Protobuf has no magic, so each reader decides by structure: the whole member must decode as the message, the
top-level field numbers and wire types must be the ones its schema allows, and the distinguishing fields must be
there (ONNX: graph 7; Core ML: a model-type field >= 200; SavedModel: meta_graphs with tags or a graph; ...).
ONNX, Core ML and SavedModel can all begin `08 xx 12`; what follows decides (REFERENCES.md section 3).
"""

from __future__ import annotations

import itertools
import re

from licensegate.errors import MemberError
from licensegate.ml._common import evidence, trim
from licensegate.ml.licences import to_spdx
from licensegate.ml.metadata_keys import apply_props
from licensegate.ml.modelfile import ModelFile, TensorSummary
from licensegate.ml.protowire import (
    LENGTH,
    VARINT,
    Field,
    ProtoError,
    is_message,
    is_printable_text,
    iter_fields,
    length_field,
    message_field,
    packed_varints,
    parse_message,
    signed64,
    string_value,
    submessage,
    text,
    varint_value,
)
from licensegate.ml.protowire import every as _all
from licensegate.ml.protowire import first as _first

MAX_IO = 64

# onnx/onnx.proto ModelProto field -> wire type
_ONNX_FIELDS = {1: VARINT, 2: LENGTH, 3: LENGTH, 4: LENGTH, 5: VARINT, 6: LENGTH, 7: LENGTH, 8: LENGTH,
                14: LENGTH, 20: LENGTH, 25: LENGTH, 26: LENGTH}  # fmt: skip
_ONNX_ELEM = {1: "float32", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64", 8: "string",
              9: "bool", 10: "float16", 11: "float64", 12: "uint32", 13: "uint64", 16: "bfloat16"}  # fmt: skip

# coremltools mlmodel/format/Model.proto: the `Type` oneof of Model
_COREML_TYPES = {
    200: "pipelineClassifier", 201: "pipelineRegressor", 202: "pipeline", 300: "glmRegressor",
    301: "supportVectorRegressor", 302: "treeEnsembleRegressor", 303: "neuralNetworkRegressor",
    304: "bayesianProbitRegressor", 400: "glmClassifier", 401: "supportVectorClassifier",
    402: "treeEnsembleClassifier", 403: "neuralNetworkClassifier", 404: "kNearestNeighborsClassifier",
    500: "neuralNetwork", 501: "itemSimilarityRecommender", 502: "mlProgram", 555: "customModel",
    556: "linkedModel", 560: "classConfidenceThresholding", 600: "oneHotEncoder", 601: "imputer",
    602: "featureVectorizer", 603: "dictVectorizer", 604: "scaler", 606: "categoricalMapping",
    607: "normalizer", 609: "arrayFeatureExtractor", 610: "nonMaximumSuppression", 900: "identity",
    2000: "textClassifier", 2001: "wordTagger", 2002: "visionFeaturePrint", 2003: "soundAnalysisPreprocessing",
    2004: "gazetteer", 2005: "wordEmbedding", 2006: "audioFeaturePrint", 3000: "serializedModel",
}  # fmt: skip
# Model's top level: specificationVersion 1, isUpdatable 10, description 2, one model type
_COREML_TOP = {1: VARINT, 10: VARINT, 2: LENGTH, **dict.fromkeys(_COREML_TYPES, LENGTH)}
# FeatureType's kinds (multiArrayType 5 is read for its shape)
_COREML_FEATURE_KINDS = {1: "int64", 2: "double", 3: "string", 4: "image", 6: "dictionary", 7: "sequence", 8: "state"}
# ModelDescription.metadata: field, name, ModelFile attribute, length limit
_COREML_METADATA = ((1, "shortDescription", "description", None), (2, "versionString", "version", 128),
                    (3, "author", "author", 512), (4, "license", "license_raw", None))  # fmt: skip
_COREML_ARRAY = {65568: "float32", 65600: "float64", 65552: "float16", 131104: "int32", 131080: "int8"}

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_.>/\-]*")


def _prefix_fields(data: bytes | memoryview) -> tuple[list[Field], bool]:
    """Fields decoded before the first error, and whether the whole buffer decoded."""
    out: list[Field] = []
    try:
        for f in iter_fields(data):
            out.append(f)
            if len(out) > 100000:
                return out, False
    except ProtoError:
        return out, False
    return out, True


def _wire_ok(fields: list[Field], allowed: dict[int, int]) -> bool:
    return all(allowed.get(f.number) == f.wire_type for f in fields)


def _whole_message(data: bytes | memoryview, min_size: int, first_byte: int | None = None) -> list[Field] | None:
    """The top-level fields when all of `data` (at least `min_size` bytes, starting with `first_byte` if given)
    decodes as one non-empty message; None otherwise."""
    if len(data) < min_size or (first_byte is not None and data[0] != first_byte):
        return None
    fields, complete = _prefix_fields(data)
    return fields if complete and fields else None


def _printable(data: bytes | memoryview, f: Field | None, limit: int) -> bool:
    """A present, short, printable string field (a name, a type, a producer)."""
    return f is not None and is_printable_text(data, f, limit)


# ---------------------------------------------------------------- ONNX


def _cut_short_onnx(data: bytes | memoryview, member: str, fields: list[Field]) -> None:
    """Raise MemberError for a file that starts as a ModelProto (ir_version, ONNX's fields and wire types, then a
    producer name or opset imports) but does not decode to its end."""
    if len(fields) < 3 or not _wire_ok(fields, _ONNX_FIELDS):
        return
    ir = fields[0]
    if ir.number == 1 and 1 <= ir.value <= 64 and (_printable(data, _first(fields, 2), 256) or _first(fields, 8)):
        raise MemberError(f"{member}: ONNX ModelProto cut short after {len(fields)} fields (truncated?)")


def sniff_onnx(data: bytes | memoryview, member: str) -> ModelFile | None:
    if len(data) < 4 or data[0] != 0x08:
        return None
    fields, complete = _prefix_fields(data)
    if not complete:
        _cut_short_onnx(data, member, fields)
        return None
    graph = _onnx_graph_field(data, fields)
    if graph is None:
        return None
    try:
        return _read_onnx(data, member, fields, graph)
    except ProtoError as exc:
        raise MemberError(f"{member}: ONNX ModelProto with a malformed part: {exc}") from exc


def _onnx_graph_field(data: bytes | memoryview, fields: list[Field]) -> Field | None:
    """The graph (7) of a decoded ModelProto: ONNX's fields and wire types only, ir_version 1..64, a printable
    producer name if any; None when the message is not one."""
    if not _wire_ok(fields, _ONNX_FIELDS):
        return None
    ir, graph = varint_value(fields, 1), _first(fields, 7)
    if ir is None or not 1 <= ir <= 64 or graph is None or not is_message(data, graph):
        return None
    producer = _first(fields, 2)
    return graph if producer is None or is_printable_text(data, producer, 1024) else None


def _onnx_value_info(data: bytes | memoryview, f: Field) -> TensorSummary:
    """A ValueInfoProto: name 1, type 2 (TypeProto.tensor_type 1: elem_type 1, shape 2)."""
    fs = parse_message(data, f.start, f.end)
    name_f = _first(fs, 1)
    name = text(data, name_f, 512) if name_f else ""
    tensor = submessage(data, length_field(message_field(data, fs, 2), 1))
    shape_f = length_field(tensor, 2)
    shape = None if shape_f is None else tuple(_onnx_dim(data, d) for d in _all(submessage(data, shape_f), 1)[:16])
    return TensorSummary(name=name, shape=shape, dtype=_ONNX_ELEM.get(varint_value(tensor, 1) or 0))


def _onnx_dim(data: bytes | memoryview, dim: Field) -> int | str:
    """A TensorShapeProto.Dimension: dim_value 1, else dim_param 2, else "?"."""
    dfs = submessage(data, dim)
    value = varint_value(dfs, 1)
    if value is not None:
        return signed64(value)
    param = string_value(data, dfs, 2, 64)
    return "?" if param is None else param


def _read_onnx(data: bytes | memoryview, member: str, fields: list[Field], graph: Field) -> ModelFile:
    """A ModelProto: its header fields, opsets, graph inputs and outputs, and metadata_props."""
    ir = _first(fields, 1)
    mf = ModelFile(format="onnx", member=member, format_version=str(ir.value if ir else ""))
    mf.evidence.append(evidence("ONNX ModelProto (ir_version, graph)", 0, "model/onnx/model-proto", member))
    _onnx_header(data, member, fields, mf)
    opsets = [_onnx_opset(data, op) for op in _all(fields, 8)[:32]]
    if opsets:
        mf.metadata["opset_import"] = ",".join(opsets)
    _onnx_graph(data, graph, mf)
    apply_props(mf, _onnx_props(data, fields), "model/onnx")
    return mf


def _onnx_header(data: bytes | memoryview, member: str, fields: list[Field], mf: ModelFile) -> None:
    """producer_name and _version (2, 3), domain (4), model_version (5), doc_string (6)."""
    _onnx_producer(data, member, fields, mf)
    if (dom := _first(fields, 4)) is not None:
        mf.metadata["domain"] = text(data, dom, 256)
    if mv := varint_value(fields, 5):
        mf.version = str(signed64(mv))
    if (doc := _first(fields, 6)) is not None and (doc_text := trim(text(data, doc))):
        mf.description = doc_text
        mf.evidence.append(evidence(f"doc_string: {doc_text}", doc.start, "model/onnx/doc-string", member))


def _onnx_producer(data: bytes | memoryview, member: str, fields: list[Field], mf: ModelFile) -> None:
    """producer_name (2) and producer_version (3): "pytorch 2.3.0"."""
    pn, pv = _first(fields, 2), _first(fields, 3)
    if pn is None:
        return
    name = text(data, pn, 256)
    mf.producer = trim(f"{name} {text(data, pv, 128)}" if pv else name, 256)
    mf.evidence.append(evidence(f"producer_name: {name}", pn.start, "model/onnx/producer", member))


def _onnx_opset(data: bytes | memoryview, op: Field) -> str:
    """An OperatorSetIdProto as "domain:version" (the default domain is ai.onnx)."""
    ofs = parse_message(data, op.start, op.end) if op.wire_type == LENGTH else []
    d, v = _first(ofs, 1), _first(ofs, 2)
    return f"{text(data, d, 64) if d else 'ai.onnx'}:{v.value if v else '?'}"


def _onnx_graph(data: bytes | memoryview, graph: Field, mf: ModelFile) -> None:
    """The GraphProto's name, its inputs that are not initialisers (weights), and its outputs."""
    gfs = parse_message(data, graph.start, graph.end)
    if (gname := length_field(gfs, 2)) is not None:
        mf.metadata["graph_name"] = text(data, gname, 256)
    mf.inputs = _onnx_inputs(data, gfs)
    mf.outputs = [_onnx_value_info(data, vi) for vi in _all(gfs, 12)[:MAX_IO] if vi.wire_type == LENGTH]


def _onnx_inputs(data: bytes | memoryview, gfs: list[Field]) -> list[TensorSummary]:
    """The graph's inputs (11) that are not initialisers: what the caller feeds."""
    weights = _onnx_initialisers(data, gfs)
    inputs = (_onnx_value_info(data, vi) for vi in _all(gfs, 11) if vi.wire_type == LENGTH)
    return list(itertools.islice((t for t in inputs if t.name not in weights), MAX_IO))


def _onnx_initialisers(data: bytes | memoryview, gfs: list[Field]) -> set[str]:
    """The names (8) of a graph's initialisers (5): its weights, which older exporters also list as inputs."""
    names = (string_value(data, submessage(data, init), 8, 512) for init in _all(gfs, 5)[:100000])
    return {n for n in names if n is not None}


def _onnx_props(data: bytes | memoryview, fields: list[Field]) -> dict[str, tuple[str, int]]:
    """metadata_props (14): key -> (value, offset of the key)."""
    props: dict[str, tuple[str, int]] = {}
    for prop in _all(fields, 14)[:256]:
        pfs = parse_message(data, prop.start, prop.end)
        if (k := length_field(pfs, 1)) is not None:
            props[text(data, k, 256)] = (string_value(data, pfs, 2) or "", k.start)
    return props


# ---------------------------------------------------------------- Core ML


def _coreml_type(fields: list[Field]) -> Field | None:
    return next((f for f in fields if f.number in _COREML_TYPES and f.wire_type == LENGTH), None)


def _coreml_allowed(fields: list[Field]) -> bool:
    return _wire_ok(fields, _COREML_TOP)


def sniff_coreml(data: bytes | memoryview, member: str) -> ModelFile | None:
    if len(data) < 4 or data[0] != 0x08:
        return None
    fields, complete = _prefix_fields(data)
    if not complete:
        if _truncated_coreml(data, fields):
            raise MemberError(f"{member}: Core ML Model message cut short (truncated?)")
        return None
    model = _coreml_model(data, fields)
    if model is None:
        return None
    try:
        return _read_coreml(data, member, *model)
    except ProtoError as exc:
        raise MemberError(f"{member}: Core ML model with a malformed description: {exc}") from exc


def _coreml_model(data: bytes | memoryview, fields: list[Field]) -> tuple[int, Field, Field | None] | None:
    """(spec version, model-type field, description) of a decoded Model; None when the message is not one."""
    spec, mtype, desc = varint_value(fields, 1), _coreml_type(fields), _first(fields, 2)
    if spec is None or not 1 <= spec <= 32 or mtype is None or not _coreml_allowed(fields):
        return None
    if desc is not None and not is_message(data, desc):
        return None
    return spec, mtype, desc


def _truncated_coreml(data: bytes | memoryview, fields: list[Field]) -> bool:
    """A cut-short file that starts as a Core ML Model: a spec version, then a complete model description."""
    head = [f.number for f in fields[:2]]
    return (head == [1, 2] and _coreml_allowed(fields) and 1 <= fields[0].value <= 32
            and _has_coreml_description(data, fields[1]))


def _has_coreml_description(data: bytes | memoryview, desc: Field) -> bool:
    try:
        fs = parse_message(data, desc.start, desc.end)
    except ProtoError:
        return False
    return any(f.number in (1, 10, 100) and f.wire_type == LENGTH for f in fs)


def _coreml_feature(data: bytes | memoryview, f: Field) -> TensorSummary:
    """A FeatureDescription: name 1, type 3 (a FeatureType holding one kind)."""
    fs = parse_message(data, f.start, f.end)
    shape: tuple[int | str, ...] | None = None
    dtype = None
    for kind in message_field(data, fs, 3):
        if kind.number in _COREML_FEATURE_KINDS:
            dtype = _COREML_FEATURE_KINDS[kind.number]
        elif kind.number == 5 and kind.wire_type == LENGTH:
            shape, dtype = _coreml_multiarray(data, kind)
    return TensorSummary(name=string_value(data, fs, 1, 512) or "", shape=shape, dtype=dtype)


def _coreml_multiarray(data: bytes | memoryview, kind: Field) -> tuple[tuple[int | str, ...], str]:
    """ArrayFeatureType: shape 1 (repeated, packed or not), dataType 2."""
    afs = parse_message(data, kind.start, kind.end)
    dims: list[int | str] = []
    for sf in _all(afs, 1):
        if sf.wire_type == VARINT:
            dims.append(signed64(sf.value))
        elif sf.wire_type == LENGTH:
            dims.extend(packed_varints(data, sf, 16 - len(dims)))
    return tuple(dims[:16]), _COREML_ARRAY.get(varint_value(afs, 2) or 0, "multiArray")


def _coreml_metadata(data: bytes | memoryview, member: str, mfs: list[Field], mf: ModelFile) -> None:
    """ModelDescription.metadata: shortDescription 1, versionString 2, author 3, license 4."""
    for num, key, attr, limit in _COREML_METADATA:
        f = length_field(mfs, num)
        value = trim(text(data, f)) if f is not None else None
        if value is None:
            continue
        mf.evidence.append(evidence(f"{key}: {value}", f.start, f"model/coreml/metadata-{key}", member))  # type: ignore[union-attr]
        setattr(mf, attr, trim(value, limit) if limit else value)
    mf.license = to_spdx(mf.license_raw)


def _coreml_user_defined(data: bytes | memoryview, mfs: list[Field], mf: ModelFile) -> None:
    """userDefined (100): a string map, kept as metadata (coremltools writes its version there)."""
    for entry in _all(mfs, 100)[:256]:
        efs = submessage(data, entry)
        if (k := length_field(efs, 1)) is not None:
            mf.metadata[text(data, k, 256)] = trim(string_value(data, efs, 2), 1024) or ""


def _read_coreml(data: bytes | memoryview, member: str, spec: int, mtype: Field, desc: Field | None) -> ModelFile:
    mf = ModelFile(format="coreml", member=member, format_version=str(spec))
    mf.metadata["model_type"] = _COREML_TYPES[mtype.number]
    mf.evidence.append(
        evidence(f"Core ML Model spec {spec}, {_COREML_TYPES[mtype.number]}", 0, "model/coreml/model", member)
    )
    dfs = submessage(data, desc)
    mf.inputs = _coreml_features(data, dfs, 1)
    mf.outputs = _coreml_features(data, dfs, 10)
    mfs = message_field(data, dfs, 100)
    if mfs:
        _coreml_metadata(data, member, mfs, mf)
        _coreml_user_defined(data, mfs, mf)
        mf.producer = _coremltools_producer(mf.metadata)
    return mf


def _coreml_features(data: bytes | memoryview, dfs: list[Field], number: int) -> list[TensorSummary]:
    """ModelDescription.input (1) or .output (10)."""
    return [_coreml_feature(data, f) for f in _all(dfs, number)[:MAX_IO] if f.wire_type == LENGTH]


def _coremltools_producer(metadata: dict[str, str]) -> str | None:
    """"coremltools 8.0 (from torch==2.4.0)", from the user-defined entries coremltools writes."""
    version = metadata.get("com.github.apple.coremltools.version")
    if not version:
        return None
    source = metadata.get("com.github.apple.coremltools.source")
    return f"coremltools {version} (from {source})" if source else f"coremltools {version}"


# ---------------------------------------------------------------- TensorFlow


_SAVED_MODEL_FIELDS = {1: VARINT, 2: LENGTH}


def _texts(data: bytes | memoryview, fields: list[Field], number: int, limit: int = 16) -> list[str]:
    return [text(data, f, 256) for f in _all(fields, number)[:limit] if f.wire_type == LENGTH]


def sniff_saved_model(data: bytes | memoryview, member: str) -> ModelFile | None:
    """tensorflow/core/protobuf/saved_model.proto: SavedModel { saved_model_schema_version = 1; meta_graphs = 2 }."""
    fields = _whole_message(data, 4)
    if fields is None or not _wire_ok(fields, _SAVED_MODEL_FIELDS):
        return None
    graphs = _all(fields, 2)
    if not graphs:
        return None
    try:
        meta = _meta_graph(data, graphs[0])
    except ProtoError:
        return None
    return None if meta is None else _saved_model(member, fields, graphs[0], *meta)


def _saved_model(member: str, fields: list[Field], graph: Field, tags: list[str], tf_version: str | None,
                 signatures: list[str]) -> ModelFile:
    schema = varint_value(fields, 1)
    mf = ModelFile(format="tensorflow", member=member, format_version=None if schema is None else str(schema))
    mf.evidence.append(evidence(f"SavedModel meta graph, tags {tags}", graph.start, "model/tensorflow/saved-model", member))
    mf.metadata["container"] = "SavedModel"
    for key, values in (("tags", tags), ("signatures", signatures)):
        if values:
            mf.metadata[key] = ",".join(values)
    if tf_version:
        mf.producer = f"TensorFlow {tf_version}"
    return mf


def _meta_graph(data: bytes | memoryview, graph: Field) -> tuple[list[str], str | None, list[str]] | None:
    """A MetaGraphDef's tags and TensorFlow version (meta_info_def 1) and signature names (5); None when the message
    is not one (no tags and no graph_def 2, or a field that is not length-delimited)."""
    mg = parse_message(data, graph.start, graph.end)
    if not all(f.wire_type == LENGTH for f in mg):
        return None
    info = message_field(data, mg, 1)
    tags = _texts(data, info, 4)
    graph_def = _first(mg, 2)
    if not tags and (graph_def is None or not is_message(data, graph_def)):
        return None
    return tags, string_value(data, info, 5, 64), _signature_names(data, mg)


def _signature_names(data: bytes | memoryview, mg: list[Field]) -> list[str]:
    """The keys of MetaGraphDef.signature_def (5): "serving_default"."""
    names = (string_value(data, parse_message(data, sig.start, sig.end), 1, 128) for sig in _all(mg, 5)[:32])
    return [n for n in names if n is not None]


def _node_op(data: bytes | memoryview, node: Field) -> str | None:
    """The op of a NodeDef (name 1, op 2), or None when this is not a NodeDef."""
    try:
        nfs = submessage(data, node)
    except ProtoError:
        return None
    name, op = _first(nfs, 1), _first(nfs, 2)
    if not (_printable(data, name, 1024) and _printable(data, op, 128)):
        return None
    op_text = text(data, op, 128)  # type: ignore[arg-type]
    return op_text if _IDENT.fullmatch(op_text) else None


def sniff_graphdef(data: bytes | memoryview, member: str) -> ModelFile | None:
    """tensorflow/core/framework/graph.proto: GraphDef { node = 1; versions = 4; version = 3; library = 2 }."""
    fields = _whole_message(data, 8, first_byte=0x0A)
    nodes = _graphdef_nodes(fields) if fields is not None else None
    if fields is None or nodes is None:
        return None
    ops = _node_ops(data, nodes[:16])
    return None if ops is None else _graphdef(data, member, fields, nodes, ops)


def _graphdef_nodes(fields: list[Field]) -> list[Field] | None:
    """The nodes (1) of a top level that is a GraphDef's: node 1, library 2 and versions 4 are messages, the
    deprecated version 3 a number; None when it is not one or has no nodes."""
    if not all(f.number in (1, 2, 3, 4) and (f.number == 3 or f.wire_type == LENGTH) for f in fields):
        return None
    return _all(fields, 1) or None


def _node_ops(data: bytes | memoryview, nodes: list[Field]) -> list[str] | None:
    """The ops of the nodes; None as soon as one is not a NodeDef."""
    ops = []
    for node in nodes:
        op = _node_op(data, node)
        if op is None:
            return None
        ops.append(op)
    return ops


def _graphdef(data: bytes | memoryview, member: str, fields: list[Field], nodes: list[Field], ops: list[str]) -> ModelFile:
    mf = ModelFile(format="tensorflow", member=member, confidence="medium" if len(nodes) < 3 else "high")
    mf.metadata["container"] = "GraphDef"
    mf.metadata["nodes"] = str(len(nodes))
    mf.evidence.append(
        evidence(f"GraphDef with {len(nodes)} NodeDefs ({', '.join(ops[:5])})", 0, "model/tensorflow/graphdef", member)
    )
    producer = _graph_producer(data, _first(fields, 4))
    if producer is not None:
        mf.metadata["graph_producer_version"] = producer
    mf.inputs = [TensorSummary(_node_name(data, n)) for n in nodes[:256] if _node_op(data, n) == "Placeholder"][:MAX_IO]
    return mf


def _graph_producer(data: bytes | memoryview, versions: Field | None) -> str | None:
    """VersionDef.producer (1) of GraphDef.versions, the TensorFlow graph version that wrote it."""
    if versions is None:
        return None
    try:
        producer = _first(parse_message(data, versions.start, versions.end), 1)
    except ProtoError:
        return None
    return str(producer.value) if producer is not None and producer.wire_type == VARINT else None


def _node_name(data: bytes | memoryview, node: Field) -> str:
    name = _first(parse_message(data, node.start, node.end), 1)
    return text(data, name, 256) if name else ""


# ---------------------------------------------------------------- Caffe


def sniff_caffemodel(data: bytes | memoryview, member: str) -> ModelFile | None:
    """caffe/src/caffe/proto/caffe.proto NetParameter: name 1, layers 2 (V1), input 3, input_dim 4, layer 100."""
    fields = _whole_message(data, 8)
    if fields is None:
        return None
    name = _first(fields, 1)
    if name is not None and not is_printable_text(data, name, 512):
        return None
    try:
        layers = _caffe_layers(data, fields, named=name is not None)
    except ProtoError:
        return None
    return None if layers is None else _caffe_net(data, member, fields, name, *layers)


def _caffe_layers(data: bytes | memoryview, fields: list[Field], named: bool) -> tuple[int, list[str]] | None:
    """(number of layers, types of the first ones): LayerParameter (100), else V1LayerParameter (2) in a named net
    (V1 nets without a name are indistinguishable from many other messages); None when they are not layers."""
    layers = _all(fields, 100) or (_all(fields, 2) if named else [])
    if not layers:
        return None
    read_types = _caffe_layer_types if layers[0].number == 100 else _caffe_v1_layer_types
    types = read_types(data, layers)
    return None if types is None else (len(layers), types)


def _caffe_net(data: bytes | memoryview, member: str, fields: list[Field], name: Field | None, n_layers: int,
               types: list[str]) -> ModelFile:
    mf = ModelFile(format="caffe", member=member)
    if name is not None:
        mf.name = trim(text(data, name, 256), 256)
    mf.evidence.append(
        evidence(f"Caffe NetParameter, {n_layers} layers ({', '.join(types[:5])})", 0, "model/caffe/net", member)
    )
    mf.metadata["container"] = "caffemodel"
    mf.inputs = [TensorSummary(text(data, f, 256)) for f in _all(fields, 3)[:MAX_IO] if f.wire_type == LENGTH]
    return mf


def _caffe_layer_types(data: bytes | memoryview, layers: list[Field]) -> list[str] | None:
    """The type (2) of the first LayerParameters; None when one is not a layer."""
    types = []
    for lf in layers[:16]:
        t = _first(submessage(data, lf), 2)
        if not _printable(data, t, 64):
            return None
        types.append(text(data, t, 64))  # type: ignore[arg-type]
    return types if all(_IDENT.fullmatch(t) or t.startswith("V1:") for t in types) else None


def _caffe_v1_layer_types(data: bytes | memoryview, v1: list[Field]) -> list[str] | None:
    """"V1:<enum>" for the first V1LayerParameters (name 4, type 5); None when one is not a layer."""
    types = []
    for lf in v1[:16]:
        lfs = submessage(data, lf)
        ltype = varint_value(lfs, 5)
        if ltype is None or not _printable(data, _first(lfs, 4), 512):
            return None
        types.append(f"V1:{ltype}")
    return types


_PROTOTXT_LAYER = re.compile(rb"^\s*layers?\s*\{", re.M)
_PROTOTXT_TYPE = re.compile(rb"^\s*type\s*:\s*\"?[A-Za-z_]+", re.M)
_PROTOTXT_NAME = re.compile(rb"^\s*name\s*:\s*\"([^\"\n]{1,256})\"", re.M)


def sniff_prototxt(data: bytes | memoryview, member: str) -> ModelFile | None:
    """A Caffe network definition in protobuf text format (deploy.prototxt)."""
    head = bytes(data[:65536])
    # The literals each pattern needs, by bytes.find first: most text is no prototxt, and the anchored patterns
    # are tried at every line start.
    if b"\x00" in head or b"layer" not in head or b"type" not in head:
        return None
    if not _PROTOTXT_LAYER.search(head) or not _PROTOTXT_TYPE.search(head):
        return None
    if not re.search(rb"^\s*(bottom|top)\s*:", head, re.M):
        return None
    mf = ModelFile(format="caffe", member=member, confidence="medium")
    mf.metadata["container"] = "prototxt"
    mf.notes.append("network definition only; the weights are in a separate .caffemodel")
    m = _PROTOTXT_NAME.search(head)
    if m and m.start() < _PROTOTXT_LAYER.search(head).start():  # type: ignore[union-attr]
        mf.name = m.group(1).decode("utf-8", "replace")
    mf.evidence.append(evidence("Caffe prototxt: layer { type: ... bottom/top }", 0, "model/caffe/prototxt", member))
    return mf


# ---------------------------------------------------------------- Paddle


_PADDLE_FIELDS = {1: LENGTH, 4: LENGTH, 5: LENGTH}


def sniff_paddle_program(data: bytes | memoryview, member: str) -> ModelFile | None:
    """paddle/fluid/framework/framework.proto ProgramDesc: blocks 1, version 4, op_version_map 5."""
    fields = _whole_message(data, 8, first_byte=0x0A)
    if fields is None or not _wire_ok(fields, _PADDLE_FIELDS):
        return None
    blocks = _all(fields, 1)
    if not blocks:
        return None
    try:
        program = _paddle_block(data, blocks[0], _first(fields, 4))
    except ProtoError:
        return None
    return None if program is None else _paddle_program(member, *program)


def _paddle_block(data: bytes | memoryview, block: Field, version: Field | None) -> tuple[list[str], list[str], str | None] | None:
    """(op types, feed targets, program version) of the first BlockDesc (idx 1, parent_idx 2, ops 4); None when it
    is not one or has neither a feed nor a fetch op."""
    bfs = parse_message(data, block.start, block.end)
    if varint_value(bfs, 1) is None or varint_value(bfs, 2) is None:
        return None
    op_types = _paddle_op_types(data, bfs)
    if not op_types or not {"feed", "fetch"} & set(op_types):
        return None
    return op_types, _paddle_feeds(data, bfs), _paddle_version(data, version)


def _paddle_program(member: str, op_types: list[str], feeds: list[str], version: str | None) -> ModelFile:
    mf = ModelFile(format="paddle", member=member, format_version=version)
    mf.metadata["container"] = "ProgramDesc"
    mf.evidence.append(
        evidence(f"Paddle ProgramDesc, {len(op_types)} ops ({', '.join(op_types[:5])})", 0, "model/paddle/program", member)
    )
    mf.inputs = [TensorSummary(n) for n in feeds[:MAX_IO]]
    return mf


def _paddle_op_types(data: bytes | memoryview, block: list[Field]) -> list[str] | None:
    """The type (3) of every OpDesc (4) of a BlockDesc; None when one is not an OpDesc."""
    op_types: list[str] = []
    for op in _all(block, 4)[:4096]:
        if op.wire_type != LENGTH:
            return None
        t = _first(parse_message(data, op.start, op.end), 3)
        if t is None or not is_printable_text(data, t, 128):
            return None
        op_types.append(text(data, t, 128))
    return op_types


def _paddle_feeds(data: bytes | memoryview, block: list[Field]) -> list[str]:
    """The variables the "feed" ops write: the program's inputs."""
    return [
        text(data, f2, 256)
        for op in _all(block, 4)[:4096]
        if text(data, _first(parse_message(data, op.start, op.end), 3), 128) == "feed"  # type: ignore[arg-type]
        for out in _all(parse_message(data, op.start, op.end), 2)[:1]
        for f2 in _all(parse_message(data, out.start, out.end), 2)[:1]
    ]


def _paddle_version(data: bytes | memoryview, version: Field | None) -> str | None:
    """Version.version (1) of ProgramDesc.version."""
    value = varint_value(submessage(data, version), 1)
    return None if value is None else str(value)
