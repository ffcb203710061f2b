"""Builders for model fixtures made at test time, following the published schemas.

TFLite: tensorflow/lite/schema/schema.fbs and tflite-support metadata_schema.fbs, written with the `flatbuffers`
runtime (a test-only dependency). The TFLite files were checked to load in ai-edge-litert's Interpreter
(`test_tflite_builder_loads_in_litert`, skipped where that runtime is not installed).
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Sequence

import pytest

try:
    import flatbuffers
except ImportError:  # the builders below skip the calling test; the rest of the suite still runs
    flatbuffers = None


def _flatbuffers() -> None:
    if flatbuffers is None:
        pytest.skip("flatbuffers (test-only dependency) is not installed")


BUILTIN_RELU = 19


def _strings(b: flatbuffers.Builder, values: Sequence[str]) -> int:
    offs = [b.CreateString(v) for v in values]
    b.StartVector(4, len(offs), 4)
    for o in reversed(offs):
        b.PrependUOffsetTRelative(o)
    return b.EndVector()


def _ints(b: flatbuffers.Builder, values: Sequence[int]) -> int:
    b.StartVector(4, len(values), 4)
    for v in reversed(values):
        b.PrependInt32(v)
    return b.EndVector()


def _tables(b: flatbuffers.Builder, offs: Sequence[int]) -> int:
    b.StartVector(4, len(offs), 4)
    for o in reversed(offs):
        b.PrependUOffsetTRelative(o)
    return b.EndVector()


def _bytes(b: flatbuffers.Builder, data: bytes) -> int:
    return b.CreateByteVector(data)


def build_model_metadata(
    name: str | None = "Relu test",
    description: str | None = "A one-op model for LicenseGate tests",
    version: str | None = "v1",
    author: str | None = "LicenseGate tests",
    license: str | None = "Apache License. Version 2.0 http://www.apache.org/licenses/LICENSE-2.0.",
    associated_files: Sequence[str] = ("labels.txt",),
) -> bytes:
    """A ModelMetadata FlatBuffer (identifier M001)."""
    _flatbuffers()
    b = flatbuffers.Builder(256)
    files = []
    for f in associated_files:
        fname = b.CreateString(f)
        b.StartObject(5)
        b.PrependUOffsetTRelativeSlot(0, fname, 0)
        b.PrependInt8Slot(2, 2, 0)  # TENSOR_AXIS_LABELS
        files.append(b.EndObject())
    strs = {k: b.CreateString(v) for k, v in
            (("name", name), ("description", description), ("version", version), ("author", author),
             ("license", license), ("min", "1.0.0")) if v is not None}  # fmt: skip
    files_vec = _tables(b, files) if files else None
    b.StartObject(8)
    for slot, key in ((0, "name"), (1, "description"), (2, "version"), (4, "author"), (5, "license"), (7, "min")):
        if key in strs:
            b.PrependUOffsetTRelativeSlot(slot, strs[key], 0)
    if files_vec is not None:
        b.PrependUOffsetTRelativeSlot(6, files_vec, 0)
    b.Finish(b.EndObject(), file_identifier=b"M001")
    return bytes(b.Output())


def build_tflite(
    metadata: bytes | None = None,
    description: str = "MLIR Converted.",
    extra_metadata: dict[str, bytes] | None = None,
) -> bytes:
    """A valid one-op TFLite model (RELU over float32[1,4]), with optional TFLITE_METADATA buffer."""
    _flatbuffers()
    b = flatbuffers.Builder(1024)
    entries: list[tuple[str, bytes]] = [("min_runtime_version", b"1.5.0\0\0\0\0\0\0\0\0\0\0\0")]
    if metadata is not None:
        entries.append(("TFLITE_METADATA", metadata))
    for k, v in (extra_metadata or {}).items():
        entries.append((k, v))

    # buffers: 0 is the empty sentinel, then one per metadata entry
    buffers = []
    for payload in [b""] + [e[1] for e in entries]:
        data = _bytes(b, payload) if payload else None
        b.StartObject(3)
        if data is not None:
            b.PrependUOffsetTRelativeSlot(0, data, 0)
        buffers.append(b.EndObject())
    buffers_vec = _tables(b, buffers)

    meta_tables = []
    for i, (key, _payload) in enumerate(entries):
        k = b.CreateString(key)
        b.StartObject(2)
        b.PrependUOffsetTRelativeSlot(0, k, 0)
        b.PrependUint32Slot(1, i + 1, 0)
        meta_tables.append(b.EndObject())
    meta_vec = _tables(b, meta_tables)

    tensors = []
    for tname in ("input", "output"):
        n = b.CreateString(tname)
        shape = _ints(b, [1, 4])
        b.StartObject(8)
        b.PrependUOffsetTRelativeSlot(0, shape, 0)
        b.PrependInt8Slot(1, 0, 0)  # FLOAT32
        b.PrependUint32Slot(2, 0, 0)
        b.PrependUOffsetTRelativeSlot(3, n, 0)
        tensors.append(b.EndObject())
    tensors_vec = _tables(b, tensors)
    op_in, op_out = _ints(b, [0]), _ints(b, [1])
    b.StartObject(5)
    b.PrependUint32Slot(0, 0, 0)
    b.PrependUOffsetTRelativeSlot(1, op_in, 0)
    b.PrependUOffsetTRelativeSlot(2, op_out, 0)
    op = b.EndObject()
    ops_vec = _tables(b, [op])
    sg_in, sg_out = _ints(b, [0]), _ints(b, [1])
    sg_name = b.CreateString("main")
    b.StartObject(5)
    b.PrependUOffsetTRelativeSlot(0, tensors_vec, 0)
    b.PrependUOffsetTRelativeSlot(1, sg_in, 0)
    b.PrependUOffsetTRelativeSlot(2, sg_out, 0)
    b.PrependUOffsetTRelativeSlot(3, ops_vec, 0)
    b.PrependUOffsetTRelativeSlot(4, sg_name, 0)
    sg = b.EndObject()
    sg_vec = _tables(b, [sg])

    b.StartObject(4)
    b.PrependInt8Slot(0, BUILTIN_RELU, 0)
    b.PrependInt32Slot(2, 1, 1)
    b.PrependInt32Slot(3, BUILTIN_RELU, 0)
    opcode = b.EndObject()
    opcodes_vec = _tables(b, [opcode])
    desc = b.CreateString(description)

    b.StartObject(8)
    b.PrependUint32Slot(0, 3, 0)
    b.PrependUOffsetTRelativeSlot(1, opcodes_vec, 0)
    b.PrependUOffsetTRelativeSlot(2, sg_vec, 0)
    b.PrependUOffsetTRelativeSlot(3, desc, 0)
    b.PrependUOffsetTRelativeSlot(4, buffers_vec, 0)
    b.PrependUOffsetTRelativeSlot(6, meta_vec, 0)
    b.Finish(b.EndObject(), file_identifier=b"TFL3")
    return bytes(b.Output())


def append_zip(model: bytes, files: dict[str, bytes]) -> bytes:
    """Append associated files as a zip, the way the TFLite metadata populator does."""
    buf = io.BytesIO()
    buf.write(model)
    with zipfile.ZipFile(buf, "a") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def build_keras_zip(keras_version: str = "3.3.3", name: str = "tiny_functional") -> bytes:
    """A .keras archive as Keras 3 writes it: config.json, metadata.json, model.weights.h5."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("metadata.json", json.dumps({"keras_version": keras_version, "date_saved": "2024-05-01@10:00:00"}))
        zf.writestr(
            "config.json", json.dumps({"module": "keras", "class_name": "Functional", "config": {"name": name}})
        )
        zf.writestr("model.weights.h5", b"\x89HDF\r\n\x1a\n" + b"\0" * 64)
    return buf.getvalue()


def build_torchscript_zip(root: str = "model", lite: bool = False) -> bytes:
    """The zip layout torch.jit.save / _save_for_lite_interpreter write (pickles are placeholders)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(f"{root}/data.pkl", b"\x80\x02}q\x00.")
        zf.writestr(f"{root}/constants.pkl", b"\x80\x02)q\x00.")
        zf.writestr(f"{root}/code/__torch__.py", "class Model: pass\n")
        zf.writestr(f"{root}/version", "3\n")
        zf.writestr(f"{root}/extra/producer_info.json", json.dumps({"license": "BSD-3-Clause"}))
        if lite:
            zf.writestr(f"{root}/bytecode.pkl", b"\x80\x02)q\x00.")
    return buf.getvalue()


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def pb(*fields: tuple[int, int | str | bytes]) -> bytes:
    """Encode a protobuf message: ints as varints, str/bytes as length-delimited fields."""
    out = bytearray()
    for number, value in fields:
        if isinstance(value, int):
            out += _varint(number << 3) + _varint(value)
        else:
            raw = value.encode() if isinstance(value, str) else value
            out += _varint(number << 3 | 2) + _varint(len(raw)) + raw
    return bytes(out)


def build_graphdef(
    ops: Sequence[tuple[str, str]] = (("input", "Placeholder"), ("w", "Const"), ("out", "MatMul")),
) -> bytes:
    """tensorflow/core/framework/graph.proto GraphDef: node (NodeDef name 1, op 2, input 3), versions 4."""
    nodes = [pb((1, name), (2, op)) for name, op in ops]
    return b"".join(pb((1, n)) for n in nodes) + pb((4, pb((1, 1087))))


def build_saved_model(tags: Sequence[str] = ("serve",), tf_version: str = "2.15.0") -> bytes:
    """saved_model.proto SavedModel { schema_version 1, meta_graphs 2 { meta_info_def 1 { tags 4, tf version 5 },
    graph_def 2, signature_def 5 (map entry key 1) } }."""
    info = pb(*[(4, t) for t in tags], (5, tf_version))
    meta_graph = pb((1, info), (2, build_graphdef()), (5, pb((1, "serving_default"))))
    return pb((1, 1), (2, meta_graph))


def build_caffemodel(name: str = "LeNet") -> bytes:
    """caffe.proto NetParameter { name 1, layer 100 { name 1, type 2, bottom 3, top 4 } }."""
    layers = [
        pb((1, "data"), (2, "Input"), (4, "data")),
        pb((1, "conv1"), (2, "Convolution"), (3, "data"), (4, "conv1")),
    ]
    return pb((1, name), *[(100, la) for la in layers])


PROTOTXT = """name: "LeNet"
layer {
  name: "data"
  type: "Input"
  top: "data"
  input_param { shape: { dim: 64 dim: 1 dim: 28 dim: 28 } }
}
layer {
  name: "conv1"
  type: "Convolution"
  bottom: "data"
  top: "conv1"
}
"""


def build_paddle_program() -> bytes:
    """framework.proto ProgramDesc { blocks 1 { idx 1, parent_idx 2, vars 3, ops 4 { inputs 1, outputs 2 { parameter 1,
    arguments 2 }, type 3 } }, version 4 { version 1 } }."""
    feed = pb((1, pb((1, "X"), (2, "feed"))), (2, pb((1, "Out"), (2, "image"))), (3, "feed"))
    relu = pb((1, pb((1, "X"), (2, "image"))), (2, pb((1, "Out"), (2, "relu_0.tmp_0"))), (3, "relu"))
    fetch = pb((1, pb((1, "X"), (2, "relu_0.tmp_0"))), (2, pb((1, "Out"), (2, "fetch"))), (3, "fetch"))
    block = pb((1, 0), (2, 0), (3, pb((1, "image"))), (4, feed), (4, relu), (4, fetch))
    return pb((1, block), (4, pb((1, 2006000))))


def build_executorch(identifier: bytes = b"ET12", methods: Sequence[str] = ("forward",)) -> bytes:
    """executorch/schema/program.fbs Program { version:uint; execution_plan:[ExecutionPlan { name:string }] }."""
    _flatbuffers()
    b = flatbuffers.Builder(256)
    plans = []
    for m in methods:
        n = b.CreateString(m)
        b.StartObject(8)
        b.PrependUOffsetTRelativeSlot(0, n, 0)
        plans.append(b.EndObject())
    vec = _tables(b, plans)
    b.StartObject(6)
    b.PrependUint32Slot(0, 0, 1)
    b.PrependUOffsetTRelativeSlot(1, vec, 0)
    b.Finish(b.EndObject(), file_identifier=identifier)
    return bytes(b.Output())


NCNN_PARAM = "7767517\n2 2\nInput            data             0 1 data 0=4 1=1 2=1\nReLU             relu             1 1 data out\n"


def test_tflite_builder_loads_in_litert() -> None:
    interpreter_mod = pytest.importorskip("ai_edge_litert.interpreter")
    model = build_tflite(build_model_metadata())
    interp = interpreter_mod.Interpreter(model_content=model)
    interp.allocate_tensors()
    assert [d["name"] for d in interp.get_input_details()] == ["input"]
