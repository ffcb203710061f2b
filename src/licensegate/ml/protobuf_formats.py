"""Models stored as protobuf messages: ONNX, Core ML, TensorFlow (SavedModel, GraphDef), Caffe, Paddle.

Protobuf has no magic, so each reader decides by structure: the whole member must decode as the message, the
top-level field numbers and wire types must be the ones its schema allows, and the distinguishing fields must be
there (ONNX: graph 7; Core ML: a model-type field >= 200; SavedModel: meta_graphs with tags or a graph; ...).
ONNX, Core ML and SavedModel can all begin `08 xx 12`; what follows decides (REFERENCES.md section 3).
"""

from __future__ import annotations

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
    parse_message,
    read_varint,
    signed64,
    text,
)

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


def _first(fields: list[Field], number: int) -> Field | None:
    return next((f for f in fields if f.number == number), None)


def _all(fields: list[Field], number: int) -> list[Field]:
    return [f for f in fields if f.number == number]


# ---------------------------------------------------------------- ONNX


def _looks_onnx_prefix(data: bytes | memoryview, fields: list[Field]) -> bool:
    if len(fields) < 2 or fields[0].number != 1 or fields[0].wire_type != VARINT or not 1 <= fields[0].value <= 64:
        return False
    if not _wire_ok(fields, _ONNX_FIELDS):
        return False
    producer = _first(fields, 2)
    return (producer is not None and is_printable_text(data, producer, 256)) or _first(fields, 8) is not None


def sniff_onnx(data: bytes | memoryview, member: str) -> ModelFile | None:
    if len(data) < 4 or data[0] != 0x08:
        return None
    fields, complete = _prefix_fields(data)
    if not complete:
        if _looks_onnx_prefix(data, fields) and len(fields) >= 3:
            raise MemberError(f"{member}: ONNX ModelProto cut short after {len(fields)} fields (truncated?)")
        return None
    if not _wire_ok(fields, _ONNX_FIELDS):
        return None
    ir = _first(fields, 1)
    graph = _first(fields, 7)
    if ir is None or not 1 <= ir.value <= 64 or graph is None or not is_message(data, graph):
        return None
    producer = _first(fields, 2)
    if producer is not None and not is_printable_text(data, producer, 1024):
        return None
    try:
        return _read_onnx(data, member, fields, graph)
    except ProtoError as exc:
        raise MemberError(f"{member}: ONNX ModelProto with a malformed part: {exc}") from exc


def _onnx_value_info(data: bytes | memoryview, f: Field) -> TensorSummary:
    """A ValueInfoProto: name 1, type 2 (TypeProto.tensor_type 1: elem_type 1, shape 2)."""
    fs = parse_message(data, f.start, f.end)
    name_f = _first(fs, 1)
    name = text(data, name_f, 512) if name_f else ""
    shape: tuple[int | str, ...] | None = None
    dtype = None
    type_f = _first(fs, 2)
    tensor = _first(parse_message(data, type_f.start, type_f.end), 1) if type_f is not None and type_f.wire_type == LENGTH else None
    if tensor is not None and tensor.wire_type == LENGTH:
        tfs = parse_message(data, tensor.start, tensor.end)
        elem = _first(tfs, 1)
        if elem is not None and elem.wire_type == VARINT:
            dtype = _ONNX_ELEM.get(elem.value)
        shape_f = _first(tfs, 2)
        if shape_f is not None and shape_f.wire_type == LENGTH:
            shape = tuple(_onnx_dim(data, dim) for dim in _all(parse_message(data, shape_f.start, shape_f.end), 1)[:16])
    return TensorSummary(name=name, shape=shape, dtype=dtype)


def _onnx_dim(data: bytes | memoryview, dim: Field) -> int | str:
    """A TensorShapeProto.Dimension: dim_value 1, else dim_param 2, else "?"."""
    dfs = parse_message(data, dim.start, dim.end) if dim.wire_type == LENGTH else []
    v, p = _first(dfs, 1), _first(dfs, 2)
    if v is not None and v.wire_type == VARINT:
        return signed64(v.value)
    if p is not None and p.wire_type == LENGTH:
        return text(data, p, 64)
    return "?"


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
    pn, pv = _first(fields, 2), _first(fields, 3)
    if pn is not None:
        name = text(data, pn, 256)
        mf.producer = trim(f"{name} {text(data, pv, 128)}" if pv else name, 256)
        mf.evidence.append(evidence(f"producer_name: {name}", pn.start, "model/onnx/producer", member))
    if (dom := _first(fields, 4)) is not None:
        mf.metadata["domain"] = text(data, dom, 256)
    if (mv := _first(fields, 5)) is not None and mv.value:
        mf.version = str(signed64(mv.value))
    if (doc := _first(fields, 6)) is not None and (doc_text := trim(text(data, doc))):
        mf.description = doc_text
        mf.evidence.append(evidence(f"doc_string: {doc_text}", doc.start, "model/onnx/doc-string", member))


def _onnx_opset(data: bytes | memoryview, op: Field) -> str:
    """An OperatorSetIdProto as "domain:version" (the default domain is ai.onnx)."""
    ofs = parse_message(data, op.start, op.end) if op.wire_type == LENGTH else []
    d, v = _first(ofs, 1), _first(ofs, 2)
    return f"{text(data, d, 64) if d else 'ai.onnx'}:{v.value if v else '?'}"


def _onnx_graph(data: bytes | memoryview, graph: Field, mf: ModelFile) -> None:
    """The GraphProto's name, its inputs that are not initialisers (weights), and its outputs."""
    gfs = parse_message(data, graph.start, graph.end)
    if (gname := _first(gfs, 2)) is not None and gname.wire_type == LENGTH:
        mf.metadata["graph_name"] = text(data, gname, 256)
    initialisers: set[str] = set()
    for init in _all(gfs, 5)[:100000]:
        if init.wire_type == LENGTH:
            n = _first(parse_message(data, init.start, init.end), 8)
            if n is not None and n.wire_type == LENGTH:
                initialisers.add(text(data, n, 512))
    for vi in _all(gfs, 11):
        if vi.wire_type == LENGTH and len(mf.inputs) < MAX_IO:
            t = _onnx_value_info(data, vi)
            if t.name not in initialisers:
                mf.inputs.append(t)
    mf.outputs = [_onnx_value_info(data, vi) for vi in _all(gfs, 12)[:MAX_IO] if vi.wire_type == LENGTH]


def _onnx_props(data: bytes | memoryview, fields: list[Field]) -> dict[str, tuple[str, int]]:
    """metadata_props (14): key -> (value, offset of the key)."""
    props: dict[str, tuple[str, int]] = {}
    for prop in _all(fields, 14)[:256]:
        pfs = parse_message(data, prop.start, prop.end)
        k, v = _first(pfs, 1), _first(pfs, 2)
        if k is not None and k.wire_type == LENGTH:
            props[text(data, k, 256)] = (text(data, v) if v and v.wire_type == LENGTH else "", k.start)
    return props


# ---------------------------------------------------------------- Core ML


def _coreml_type(fields: list[Field]) -> Field | None:
    return next((f for f in fields if f.number in _COREML_TYPES and f.wire_type == LENGTH), None)


def _coreml_allowed(fields: list[Field]) -> bool:
    for f in fields:
        if f.number == 1 or f.number == 10:
            if f.wire_type != VARINT:
                return False
        elif f.number == 2 or f.number in _COREML_TYPES:
            if f.wire_type != LENGTH:
                return False
        else:
            return False
    return True


def sniff_coreml(data: bytes | memoryview, member: str) -> ModelFile | None:
    if len(data) < 4 or data[0] != 0x08:
        return None
    fields, complete = _prefix_fields(data)
    if not complete:
        if _truncated_coreml(data, fields):
            raise MemberError(f"{member}: Core ML Model message cut short (truncated?)")
        return None
    spec = _first(fields, 1)
    mtype = _coreml_type(fields)
    if spec is None or not 1 <= spec.value <= 32 or mtype is None or not _coreml_allowed(fields):
        return None
    desc = _first(fields, 2)
    if desc is not None and not is_message(data, desc):
        return None
    try:
        return _read_coreml(data, member, spec.value, mtype, desc)
    except ProtoError as exc:
        raise MemberError(f"{member}: Core ML model with a malformed description: {exc}") from exc


def _truncated_coreml(data: bytes | memoryview, fields: list[Field]) -> bool:
    """A cut-short file that starts as a Core ML Model: a spec version, then a complete model description."""
    return (
        len(fields) >= 2
        and fields[0].number == 1
        and 1 <= fields[0].value <= 32
        and fields[1].number == 2
        and fields[1].wire_type == LENGTH
        and _coreml_allowed(fields)
        and is_message(data, fields[1])
        and _has_coreml_description(data, fields[1])
    )


def _has_coreml_description(data: bytes | memoryview, desc: Field) -> bool:
    try:
        fs = parse_message(data, desc.start, desc.end)
    except ProtoError:
        return False
    return any(f.number in (1, 10, 100) and f.wire_type == LENGTH for f in fs)


def _coreml_feature(data: bytes | memoryview, f: Field) -> TensorSummary:
    fs = parse_message(data, f.start, f.end)
    n = _first(fs, 1)
    name = text(data, n, 512) if n and n.wire_type == LENGTH else ""
    shape: tuple[int | str, ...] | None = None
    dtype = None
    t = _first(fs, 3)
    if t is not None and t.wire_type == LENGTH:
        tfs = parse_message(data, t.start, t.end)
        kinds = {1: "int64", 2: "double", 3: "string", 4: "image", 6: "dictionary", 7: "sequence", 8: "state"}
        for kf in tfs:
            if kf.number in kinds:
                dtype = kinds[kf.number]
            elif kf.number == 5 and kf.wire_type == LENGTH:  # multiArrayType
                afs = parse_message(data, kf.start, kf.end)
                dims: list[int | str] = []
                for sf in _all(afs, 1):
                    if sf.wire_type == VARINT:
                        dims.append(signed64(sf.value))
                    elif sf.wire_type == LENGTH:  # packed
                        pos = sf.start
                        while pos < sf.end and len(dims) < 16:
                            v, pos = read_varint(data, pos, sf.end)
                            dims.append(signed64(v))
                shape = tuple(dims[:16])
                dt = _first(afs, 2)
                dtype = _COREML_ARRAY.get(dt.value, "multiArray") if dt and dt.wire_type == VARINT else "multiArray"
    return TensorSummary(name=name, shape=shape, dtype=dtype)


def _coreml_metadata(data: bytes | memoryview, member: str, mfs: list[Field], mf: ModelFile) -> None:
    """ModelDescription.metadata: shortDescription 1, versionString 2, author 3, license 4."""
    for num, key in ((1, "shortDescription"), (2, "versionString"), (3, "author"), (4, "license")):
        f = _first(mfs, num)
        value = trim(text(data, f)) if f is not None and f.wire_type == LENGTH else None
        if f is None or value is None:
            continue
        mf.evidence.append(evidence(f"{key}: {value}", f.start, f"model/coreml/metadata-{key}", member))
        if num == 1:
            mf.description = value
        elif num == 2:
            mf.version = trim(value, 128)
        elif num == 3:
            mf.author = trim(value, 512)
        else:
            mf.license_raw = value
            mf.license = to_spdx(value)


def _coreml_user_defined(data: bytes | memoryview, mfs: list[Field], mf: ModelFile) -> None:
    """userDefined (100): a string map, kept as metadata (coremltools writes its version there)."""
    for entry in _all(mfs, 100)[:256]:
        if entry.wire_type != LENGTH:
            continue
        efs = parse_message(data, entry.start, entry.end)
        k, v = _first(efs, 1), _first(efs, 2)
        if k is None or k.wire_type != LENGTH:
            continue
        mf.metadata[text(data, k, 256)] = trim(text(data, v), 1024) or "" if v is not None and v.wire_type == LENGTH else ""


def _read_coreml(data: bytes | memoryview, member: str, spec: int, mtype: Field, desc: Field | None) -> ModelFile:
    mf = ModelFile(format="coreml", member=member, format_version=str(spec))
    mf.metadata["model_type"] = _COREML_TYPES[mtype.number]
    mf.evidence.append(
        evidence(f"Core ML Model spec {spec}, {_COREML_TYPES[mtype.number]}", 0, "model/coreml/model", member)
    )
    if desc is None:
        return mf
    dfs = parse_message(data, desc.start, desc.end)
    mf.inputs = [_coreml_feature(data, f) for f in _all(dfs, 1)[:MAX_IO] if f.wire_type == LENGTH]
    mf.outputs = [_coreml_feature(data, f) for f in _all(dfs, 10)[:MAX_IO] if f.wire_type == LENGTH]
    meta = _first(dfs, 100)
    if meta is None or meta.wire_type != LENGTH:
        return mf
    mfs = parse_message(data, meta.start, meta.end)
    _coreml_metadata(data, member, mfs, mf)
    _coreml_user_defined(data, mfs, mf)
    ct_version = mf.metadata.get("com.github.apple.coremltools.version")
    if ct_version:
        mf.producer = f"coremltools {ct_version}"
        source = mf.metadata.get("com.github.apple.coremltools.source")
        if source:
            mf.producer += f" (from {source})"
    return mf


# ---------------------------------------------------------------- TensorFlow


def _texts(data: bytes | memoryview, fields: list[Field], number: int, limit: int = 16) -> list[str]:
    return [text(data, f, 256) for f in _all(fields, number)[:limit] if f.wire_type == LENGTH]


def sniff_saved_model(data: bytes | memoryview, member: str) -> ModelFile | None:
    """tensorflow/core/protobuf/saved_model.proto: SavedModel { saved_model_schema_version = 1; meta_graphs = 2 }."""
    if len(data) < 4:
        return None
    fields, complete = _prefix_fields(data)
    if not complete or not fields or not all(f.number in (1, 2) for f in fields):
        return None
    if any((f.number == 1) != (f.wire_type == VARINT) for f in fields):
        return None
    graphs = _all(fields, 2)
    if not graphs:
        return None
    try:
        meta = _meta_graph(data, graphs[0])
    except ProtoError:
        return None
    if meta is None:
        return None
    tags, tf_version, signatures = meta
    mf = ModelFile(format="tensorflow", member=member)
    schema = _first(fields, 1)
    mf.format_version = str(schema.value) if schema else None
    mf.evidence.append(
        evidence(f"SavedModel meta graph, tags {tags}", graphs[0].start, "model/tensorflow/saved-model", member)
    )
    mf.metadata["container"] = "SavedModel"
    if tags:
        mf.metadata["tags"] = ",".join(tags)
    if signatures:
        mf.metadata["signatures"] = ",".join(signatures)
    if tf_version:
        mf.producer = f"TensorFlow {tf_version}"
    return mf


def _meta_graph(data: bytes | memoryview, graph: Field) -> tuple[list[str], str | None, list[str]] | None:
    """A MetaGraphDef's tags and TensorFlow version (meta_info_def 1) and signature names (5); None when the message
    is not one (no tags and no graph_def 2, or a field that is not length-delimited)."""
    mg = parse_message(data, graph.start, graph.end)
    info = _first(mg, 1)
    tags: list[str] = []
    tf_version = None
    if info is not None and info.wire_type == LENGTH:
        ifs = parse_message(data, info.start, info.end)
        tags = _texts(data, ifs, 4)
        tv = _first(ifs, 5)
        tf_version = text(data, tv, 64) if tv is not None and tv.wire_type == LENGTH else None
    gd = _first(mg, 2)
    if not tags and (gd is None or gd.wire_type != LENGTH or not is_message(data, gd)):
        return None
    if not all(f.wire_type == LENGTH for f in mg):
        return None
    signatures = []
    for sig in _all(mg, 5)[:32]:
        k = _first(parse_message(data, sig.start, sig.end), 1)
        if k is not None and k.wire_type == LENGTH:
            signatures.append(text(data, k, 128))
    return tags, tf_version, signatures


def _node_op(data: bytes | memoryview, node: Field) -> str | None:
    """The op of a NodeDef (name 1, op 2), or None when this is not a NodeDef."""
    if node.wire_type != LENGTH:
        return None
    try:
        nfs = parse_message(data, node.start, node.end)
    except ProtoError:
        return None
    name, op = _first(nfs, 1), _first(nfs, 2)
    if name is None or op is None or not is_printable_text(data, name, 1024) or not is_printable_text(data, op, 128):
        return None
    op_text = text(data, op, 128)
    return op_text if _IDENT.fullmatch(op_text) else None


def sniff_graphdef(data: bytes | memoryview, member: str) -> ModelFile | None:
    """tensorflow/core/framework/graph.proto: GraphDef { node = 1; versions = 4; version = 3; library = 2 }."""
    if len(data) < 8 or data[0] != 0x0A:
        return None
    fields, complete = _prefix_fields(data)
    if not complete or not all(f.number in (1, 2, 3, 4) for f in fields):
        return None
    nodes = _all(fields, 1)
    if not nodes or any(f.wire_type != LENGTH for f in fields if f.number != 3):
        return None
    ops = []
    for n in nodes[:16]:
        op = _node_op(data, n)
        if op is None:
            return None
        ops.append(op)
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
    if len(data) < 8:
        return None
    fields, complete = _prefix_fields(data)
    if not complete or not fields:
        return None
    layers = _all(fields, 100)
    v1 = _all(fields, 2)
    if not layers and not v1:
        return None
    name = _first(fields, 1)
    if name is not None and not is_printable_text(data, name, 512):
        return None
    if not layers and name is None:
        return None  # V1 nets without a name are indistinguishable from many other messages
    try:
        types = _caffe_layer_types(data, layers) if layers else _caffe_v1_layer_types(data, v1)
    except ProtoError:
        return None
    if types is None:
        return None
    if not all(_IDENT.fullmatch(t) or t.startswith("V1:") for t in types):
        return None
    mf = ModelFile(format="caffe", member=member)
    if name is not None:
        mf.name = trim(text(data, name, 256), 256)
    n_layers = len(layers) or len(v1)
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
        lfs = parse_message(data, lf.start, lf.end) if lf.wire_type == LENGTH else []
        t = _first(lfs, 2)
        if t is None or not is_printable_text(data, t, 64):
            return None
        types.append(text(data, t, 64))
    return types


def _caffe_v1_layer_types(data: bytes | memoryview, v1: list[Field]) -> list[str] | None:
    """"V1:<enum>" for the first V1LayerParameters (name 4, type 5); None when one is not a layer."""
    types = []
    for lf in v1[:16]:
        lfs = parse_message(data, lf.start, lf.end) if lf.wire_type == LENGTH else []
        lname, ltype = _first(lfs, 4), _first(lfs, 5)
        if lname is None or not is_printable_text(data, lname, 512) or ltype is None or ltype.wire_type != VARINT:
            return None
        types.append(f"V1:{ltype.value}")
    return types


_PROTOTXT_LAYER = re.compile(rb"^\s*layers?\s*\{", re.M)
_PROTOTXT_TYPE = re.compile(rb"^\s*type\s*:\s*\"?[A-Za-z_]+", re.M)
_PROTOTXT_NAME = re.compile(rb"^\s*name\s*:\s*\"([^\"\n]{1,256})\"", re.M)


def sniff_prototxt(data: bytes | memoryview, member: str) -> ModelFile | None:
    """A Caffe network definition in protobuf text format (deploy.prototxt)."""
    head = bytes(data[:65536])
    if b"\x00" in head or not _PROTOTXT_LAYER.search(head) or not _PROTOTXT_TYPE.search(head):
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


def sniff_paddle_program(data: bytes | memoryview, member: str) -> ModelFile | None:
    """paddle/fluid/framework/framework.proto ProgramDesc: blocks 1, version 4, op_version_map 5."""
    if len(data) < 8 or data[0] != 0x0A:
        return None
    fields, complete = _prefix_fields(data)
    if not complete or not fields or not all(f.number in (1, 4, 5) and f.wire_type == LENGTH for f in fields):
        return None
    blocks = _all(fields, 1)
    if not blocks:
        return None
    try:
        bfs = parse_message(data, blocks[0].start, blocks[0].end)
        idx, parent = _first(bfs, 1), _first(bfs, 2)
        if idx is None or parent is None or idx.wire_type != VARINT or parent.wire_type != VARINT:
            return None
        op_types = _paddle_op_types(data, bfs)
        if op_types is None:
            return None
        feeds = _paddle_feeds(data, bfs)
        pver = _paddle_version(data, _first(fields, 4))
    except ProtoError:
        return None
    if not op_types or not ({"feed", "fetch"} & set(op_types)):
        return None
    mf = ModelFile(format="paddle", member=member, format_version=pver)
    mf.metadata["container"] = "ProgramDesc"
    mf.evidence.append(
        evidence(
            f"Paddle ProgramDesc, {len(op_types)} ops ({', '.join(op_types[:5])})", 0, "model/paddle/program", member
        )
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
    if version is None:
        return None
    vf = _first(parse_message(data, version.start, version.end), 1)
    return str(vf.value) if vf is not None and vf.wire_type == VARINT else None
