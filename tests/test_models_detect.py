"""Model detection on real files (PyPI packages, committed fixtures) and on files built to the published schemas."""

from __future__ import annotations

import glob
import io
import json
import os
import random
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from licensegate.errors import MemberError
from licensegate.ml import (
    entropy,
    explain_non_model,
    is_mediapipe_task,
    possibly_encrypted_model,
    sniff_model,
    sniff_model_directory,
)
from test_models_builders import (
    NCNN_PARAM,
    PROTOTXT,
    append_zip,
    build_caffemodel,
    build_executorch,
    build_graphdef,
    build_keras_zip,
    build_model_metadata,
    build_paddle_program,
    build_saved_model,
    build_tflite,
    build_torchscript_zip,
    pb,
)

DATA = Path(__file__).parent / "data" / "models"


def read(name: str) -> bytes:
    return (DATA / name).read_bytes()


# ---------------------------------------------------------------- TFLite


def test_tflite_written_by_tflite_support_populator() -> None:
    """tests/data/models/relu_with_metadata.tflite: metadata and labels.txt written by tflite-support 0.4.4."""
    m = sniff_model(read("relu_with_metadata.tflite"), "assets/relu.tflite")
    assert m is not None and m.format == "tflite"
    assert m.name == "Relu classifier (LicenseGate fixture)"
    assert m.version == "v2"
    assert m.author == "LicenseGate tests"
    assert m.license == "Apache-2.0"
    assert m.license_raw is not None and m.license_raw.startswith("Apache License. Version 2.0")
    assert m.associated_files == ["labels.txt"]
    assert [t.name for t in m.inputs] == ["input"] and m.inputs[0].shape == (1, 4) and m.inputs[0].dtype == "float32"
    assert m.producer == "MLIR Converted."
    lic = [e for e in m.evidence if e.rule == "model/tflite/metadata-license"]
    assert lic and lic[0].offset is not None
    data = read("relu_with_metadata.tflite")
    assert b"Apache License" in data[lic[0].offset : lic[0].offset + 64]


def test_tflite_built_with_metadata_and_appended_zip() -> None:
    model = build_tflite(build_model_metadata(license="MIT", associated_files=["labels.txt", "vocab.txt"]))
    model = append_zip(model, {"labels.txt": b"a\nb\n", "vocab.txt": b"x\n", "extra.json": b"{}"})
    m = sniff_model(model, "assets/classifier.tflite")
    assert m is not None
    assert m.license == "MIT" and m.name == "Relu test" and m.description.startswith("A one-op")
    assert m.associated_files == ["labels.txt", "vocab.txt", "extra.json"]


def test_tflite_without_metadata_has_no_licence() -> None:
    m = sniff_model(build_tflite(), "x.tflite")
    assert m is not None and m.license is None and m.license_raw is None and m.name is None


def test_tflite_metadata_licence_that_maps_to_nothing_keeps_raw() -> None:
    m = sniff_model(build_tflite(build_model_metadata(license="Proprietary, all rights reserved")), "x.tflite")
    assert m is not None and m.license is None and m.license_raw == "Proprietary, all rights reserved"


def test_renamed_tflite_is_found() -> None:
    data = read("relu_with_metadata.tflite")
    for name in ("assets/weights.bin", "assets/model", "res/raw/a.dat"):
        m = sniff_model(data, name)
        assert m is not None and m.format == "tflite" and m.member == name


def test_truncated_tflite_is_member_error_or_none() -> None:
    data = read("relu_with_metadata.tflite")
    for cut in (8, 12, 16, 40, 100, 300, 600):
        try:
            m = sniff_model(data[:cut], "x.tflite")
        except MemberError as exc:
            assert "x.tflite" in str(exc) and "\n" not in str(exc)
        else:
            assert m is None or m.format == "tflite"


# ---------------------------------------------------------------- ONNX / ORT


def _onnx_models() -> list[str]:
    onnx = pytest.importorskip("onnx")
    base = os.path.dirname(onnx.__file__)
    return sorted(glob.glob(f"{base}/backend/test/data/**/*.onnx", recursive=True))


def test_every_onnx_test_model_in_the_onnx_wheel_is_found() -> None:
    paths = _onnx_models()
    assert len(paths) > 100
    for p in paths:
        m = sniff_model(Path(p).read_bytes(), p)
        assert m is not None and m.format == "onnx", p


def test_onnx_tensor_protos_in_the_onnx_wheel_are_not_models() -> None:
    onnx = pytest.importorskip("onnx")
    base = os.path.dirname(onnx.__file__)
    paths = sorted(glob.glob(f"{base}/backend/test/data/**/test_data_set_0/*.pb", recursive=True))[:400]
    assert paths
    for p in paths:
        assert sniff_model(Path(p).read_bytes(), p) is None, p


def test_onnxruntime_example_model() -> None:
    ort = pytest.importorskip("onnxruntime")
    path = Path(os.path.dirname(ort.__file__)) / "datasets" / "logreg_iris.onnx"
    m = sniff_model(path.read_bytes(), "assets/logreg_iris.onnx")
    assert m is not None and m.format == "onnx"
    assert m.producer == "OnnxMLTools 1.2.0.0116"
    assert m.metadata["domain"] == "onnxml"
    assert [t.name for t in m.inputs] == ["float_input"]


def test_onnx_written_with_metadata_props() -> None:
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3])
    w = helper.make_tensor("w", TensorProto.FLOAT, [3], [1.0, 2.0, 3.0])
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "w"], ["y"])],
        "g",
        [x, helper.make_tensor_value_info("w", TensorProto.FLOAT, [3])],
        [y],
        [w],
    )
    model = helper.make_model(graph, producer_name="pytorch", producer_version="2.3.0", doc_string="adds w",
                              model_version=7, domain="com.example")  # fmt: skip
    helper.set_model_props(model, {"license": "CC-BY-NC-4.0", "author": "Example Labs", "name": "adder"})
    m = sniff_model(model.SerializeToString(), "assets/adder.onnx")
    assert m is not None and m.format == "onnx"
    assert (m.producer, m.version, m.description) == ("pytorch 2.3.0", "7", "adds w")
    assert (m.license, m.license_raw, m.author, m.name) == ("CC-BY-NC-4.0", "CC-BY-NC-4.0", "Example Labs", "adder")
    assert [t.name for t in m.inputs] == ["x"]  # the initialiser listed as an input is not a model input
    assert m.inputs[0].shape == ("batch", 3) and m.inputs[0].dtype == "float32"
    assert onnx.__version__  # the real library wrote it


def test_truncated_onnx_is_member_error_or_none() -> None:
    ort = pytest.importorskip("onnxruntime")
    data = (Path(os.path.dirname(ort.__file__)) / "datasets" / "logreg_iris.onnx").read_bytes()
    for cut in range(2, len(data), 37):
        try:
            m = sniff_model(data[:cut], "m.onnx")
        except MemberError:
            continue
        assert m is None or m.format == "onnx"
    with pytest.raises(MemberError, match="truncated"):
        sniff_model(data[: len(data) // 2], "m.onnx")


@pytest.mark.parametrize("name", ["relu_with_metadata.ort", "logreg_iris.ort"])
def test_ort_files_written_by_onnxruntime(name: str) -> None:
    m = sniff_model(read(name), f"assets/{name}")
    assert m is not None and m.format == "ort"
    if name == "relu_with_metadata.ort":
        assert (m.license, m.author, m.producer, m.version) == (
            "MIT",
            "LicenseGate tests",
            "licensegate-tests 1.0",
            "3",
        )
        assert [t.name for t in m.inputs] == ["x"] and [t.name for t in m.outputs] == ["y"]
    else:
        assert m.producer == "OnnxMLTools 1.2.0.0116"


# ---------------------------------------------------------------- Core ML


def _coreml_spec() -> object:
    pytest.importorskip("coremltools")
    from coremltools.proto import Model_pb2

    spec = Model_pb2.Model()
    spec.specificationVersion = 4
    for coll, name in ((spec.description.input, "image"), (spec.description.output, "scores")):
        f = coll.add()
        f.name = name
        f.type.multiArrayType.shape.extend([1, 3])
        f.type.multiArrayType.dataType = Model_pb2.ArrayFeatureType.FLOAT32
    meta = spec.description.metadata
    meta.author, meta.license, meta.shortDescription, meta.versionString = (
        "Example Labs", "BSD-3-Clause", "identity network", "1.2")  # fmt: skip
    meta.userDefined["com.github.apple.coremltools.version"] = "9.0"
    layer = spec.neuralNetwork.layers.add()
    layer.name = "act"
    layer.input.append("image")
    layer.output.append("scores")
    layer.activation.linear.alpha = 1.0
    return spec


def test_coreml_mlmodel_written_by_coremltools() -> None:
    spec = _coreml_spec()
    data = spec.SerializeToString()  # type: ignore[attr-defined]
    m = sniff_model(data, "Payload/App.app/Classifier.mlmodel")
    assert m is not None and m.format == "coreml"
    assert (m.author, m.license, m.description, m.version) == (
        "Example Labs",
        "BSD-3-Clause",
        "identity network",
        "1.2",
    )
    assert m.producer == "coremltools 9.0" and m.metadata["model_type"] == "neuralNetwork"
    assert m.inputs[0].name == "image" and m.inputs[0].shape == (1, 3)


def test_coreml_mlpackage_written_by_coremltools(tmp_path: Path) -> None:
    spec = _coreml_spec()
    from coremltools.models.utils import save_spec

    pkg = tmp_path / "Classifier.mlpackage"
    save_spec(spec, str(pkg))
    entries: dict[str, Callable[[], bytes]] = {
        f"Payload/App.app/Classifier.mlpackage/{p.relative_to(pkg).as_posix()}": (lambda p=p: p.read_bytes())
        for p in pkg.rglob("*") if p.is_file()
    }  # fmt: skip
    m = sniff_model_directory(entries, "Payload/App.app/Classifier.mlpackage")
    assert m is not None and m.format == "coreml" and m.member == "Payload/App.app/Classifier.mlpackage"
    assert m.author == "Example Labs" and m.license == "BSD-3-Clause"


def test_compiled_mlmodelc_folder_is_one_model() -> None:
    metadata = [{
        "shortDescription": "Detects cats", "author": "Example Labs", "license": "MIT", "version": "3.1",
        "specificationVersion": 5, "modelType": {"name": "MLModelType_neuralNetwork"},
        "generatedClassName": "CatDetector",
        "userDefinedMetadata": {"com.github.apple.coremltools.version": "7.1", "com.apple.coreml.model.preview.type": "imageClassifier"},
        "inputSchema": [{"name": "image", "type": "Image", "shape": "[]"}],
        "outputSchema": [{"name": "label", "type": "String"}],
    }]  # fmt: skip
    files = {
        "coremldata.bin": b"\x00" * 64,
        "metadata.json": json.dumps(metadata).encode(),
        "model.espresso.net": b"{}",
        "model.espresso.shape": b"{}",
        "model.espresso.weights": b"\x00" * 32,
    }
    root = "Payload/App.app/CatDetector.mlmodelc"
    entries = {f"{root}/{k}": (lambda v=v: v) for k, v in files.items()}
    m = sniff_model_directory(entries, root)
    assert m is not None and m.format == "coreml" and m.member == root
    assert (m.name, m.author, m.license, m.version) == ("CatDetector", "Example Labs", "MIT", "3.1")
    assert m.producer == "coremltools 7.1" and [t.name for t in m.inputs] == ["image"]
    assert sniff_model_directory({f"{root}/README": lambda: b""}, root) is None


def test_coreml_and_onnx_and_saved_model_all_start_08_and_are_told_apart() -> None:
    spec = _coreml_spec()
    coreml = spec.SerializeToString()  # type: ignore[attr-defined]
    saved = build_saved_model()
    assert coreml[:1] == saved[:1] == b"\x08"
    assert sniff_model(coreml, "a").format == "coreml"  # type: ignore[union-attr]
    assert sniff_model(saved, "b").format == "tensorflow"  # type: ignore[union-attr]


# ---------------------------------------------------------------- GGUF, safetensors, Keras


def _gguf(tmp_path: Path, licence: str = "llama3.2") -> bytes:
    gguf = pytest.importorskip("gguf")
    np = pytest.importorskip("numpy")
    path = tmp_path / "tiny.gguf"
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name("Tiny Chat")
    w.add_author("Example Labs")
    w.add_version("0.1")
    w.add_license(licence)
    w.add_description("a tiny model")
    w.add_source_url("https://huggingface.co/example/tiny-chat")
    w.add_base_model_count(1)
    w.add_base_model_name(0, "Llama 3.2 1B")
    w.add_token_list([f"tok{i}" for i in range(300)])
    w.add_tensor("w", np.zeros((4, 4), dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path.read_bytes()


def test_gguf_written_by_gguf_package(tmp_path: Path) -> None:
    data = _gguf(tmp_path)
    m = sniff_model(data, "assets/tiny.gguf")
    assert m is not None and m.format == "gguf" and m.format_version == "3"
    assert (m.name, m.author, m.version, m.description) == ("Tiny Chat", "Example Labs", "0.1", "a tiny model")
    assert m.license_raw == "llama3.2" and m.license == "LicenseRef-licensegate-Llama-3.2-Community"
    assert m.metadata["general.source.url"] == "https://huggingface.co/example/tiny-chat"
    assert m.metadata["general.base_model.0.name"] == "Llama 3.2 1B"
    assert not any(k.startswith("tokenizer.ggml") for k in m.metadata)
    ev = next(e for e in m.evidence if e.rule == "model/gguf/general.license")
    assert data[ev.offset : ev.offset + 13] == b"general.licen"


def test_truncated_gguf_is_member_error(tmp_path: Path) -> None:
    data = _gguf(tmp_path)
    for cut in (5, 9, 24, 60, 200, 1000):
        with pytest.raises(MemberError):
            sniff_model(data[:cut], "tiny.gguf")


def test_safetensors_written_by_safetensors_package() -> None:
    st = pytest.importorskip("safetensors.numpy")
    np = pytest.importorskip("numpy")
    data = st.save({"w": np.zeros((2, 2), dtype=np.float32)}, metadata={"license": "apache-2.0", "format": "np"})
    m = sniff_model(data, "assets/adapter.bin")
    assert m is not None and m.format == "safetensors"
    assert m.license == "Apache-2.0" and m.metadata["format"] == "np"


def test_keras_hdf5_written_by_h5py(tmp_path: Path) -> None:
    h5py = pytest.importorskip("h5py")
    np = pytest.importorskip("numpy")
    path = tmp_path / "m.h5"
    with h5py.File(path, "w") as f:  # the attributes Keras 2 `model.save("m.h5")` writes
        f.attrs["keras_version"] = "2.15.0"
        f.attrs["backend"] = "tensorflow"
        f.attrs["model_config"] = json.dumps({"class_name": "Sequential", "config": {"name": "tiny_seq"}})
        f.create_dataset("model_weights/dense/kernel", data=np.zeros((3, 3)))
    m = sniff_model(path.read_bytes(), "assets/m.h5")
    assert m is not None and m.format == "keras" and m.producer == "Keras 2.15.0" and m.name == "tiny_seq"
    plain = tmp_path / "plain.h5"
    with h5py.File(plain, "w") as f:
        f.create_dataset("x", data=np.arange(10))
    assert sniff_model(plain.read_bytes(), "assets/data.h5") is None
    assert "HDF5 data without Keras" in explain_non_model(plain.read_bytes(), "assets/data.h5")


def test_keras_v3_zip() -> None:
    m = sniff_model(build_keras_zip(), "assets/model.keras")
    assert m is not None and m.format == "keras" and m.producer == "Keras 3.3.3" and m.name == "tiny_functional"


# ---------------------------------------------------------------- PyTorch, ExecuTorch, NCNN, MNN


@pytest.mark.parametrize("lite", [False, True])
def test_torchscript_zip_layout(lite: bool) -> None:
    m = sniff_model(build_torchscript_zip(lite=lite), "assets/model.ptl")
    assert m is not None and m.format == "pytorch"
    assert m.metadata["container"] == ("PyTorch Lite (mobile)" if lite else "TorchScript")
    assert m.format_version == "3" and m.license == "BSD-3-Clause"


def test_legacy_torch_save() -> None:
    data = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.\x80\x02M\xe9\x03."
    m = sniff_model(data, "x.pth")
    assert m is not None and m.format == "pytorch"


def test_executorch_program() -> None:
    m = sniff_model(build_executorch(methods=["forward", "encode"]), "assets/model.pte")
    assert m is not None and m.format == "executorch" and m.format_version == "ET12"
    assert m.metadata["methods"] == "forward,encode"


def test_ncnn_param_text_and_binary() -> None:
    m = sniff_model(NCNN_PARAM.encode(), "assets/squeezenet.param")
    assert m is not None and m.format == "ncnn" and [t.name for t in m.inputs] == ["data"]
    binary = (0x007685DD).to_bytes(4, "little") + (2).to_bytes(4, "little") + (2).to_bytes(4, "little") + b"\0" * 32
    m2 = sniff_model(binary, "assets/model.param.bin")
    assert m2 is not None and m2.format == "ncnn"


def test_mnn_written_by_mnnconvert() -> None:
    """tests/data/models/relu.mnn: converted from an ONNX Relu by MNNConvert (PyPI mnn 3.6.1)."""
    m = sniff_model(read("relu.mnn"), "assets/relu.mnn")
    assert m is not None and m.format == "mnn" and m.producer == "MNNConvert from onnx"
    assert m.metadata["bizCode"] == "licensegate" and [t.name for t in m.outputs] == ["y"]


# ---------------------------------------------------------------- TensorFlow, Caffe, Paddle


def test_tensorflow_saved_model_and_frozen_graph() -> None:
    m = sniff_model(build_saved_model(), "saved_model.pb")
    assert m is not None and m.format == "tensorflow" and m.metadata["tags"] == "serve"
    assert m.producer == "TensorFlow 2.15.0" and m.metadata["signatures"] == "serving_default"
    g = sniff_model(build_graphdef(), "assets/frozen.pb")
    assert g is not None and g.format == "tensorflow" and g.metadata["container"] == "GraphDef"
    assert [t.name for t in g.inputs] == ["input"]


def test_saved_model_folder() -> None:
    root = "assets/detector"
    entries = {
        f"{root}/saved_model.pb": build_saved_model,
        f"{root}/variables/variables.index": lambda: b"",
        f"{root}/variables/variables.data-00000-of-00001": lambda: b"",
    }
    m = sniff_model_directory(entries, root)
    assert m is not None and m.format == "tensorflow" and m.member == root
    assert "variables/variables.index" in m.associated_files


def test_caffe_binary_and_prototxt() -> None:
    m = sniff_model(build_caffemodel(), "assets/lenet.caffemodel")
    assert m is not None and m.format == "caffe" and m.name == "LeNet"
    t = sniff_model(PROTOTXT.encode(), "assets/deploy.prototxt")
    assert t is not None and t.format == "caffe" and t.name == "LeNet"


def test_paddle_program() -> None:
    m = sniff_model(build_paddle_program(), "assets/inference.pdmodel")
    assert m is not None and m.format == "paddle" and [t.name for t in m.inputs] == ["image"]


# ---------------------------------------------------------------- MediaPipe task bundles


def test_mediapipe_task_bundle_and_its_inner_models() -> None:
    model = read("relu_with_metadata.tflite")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("hand_detector.tflite", model)
        zf.writestr("hand_landmarks_detector.tflite", build_tflite())
    data = buf.getvalue()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        inner = {n: sniff_model(zf.read(n), f"assets/hand.task!/{n}") for n in names}
    assert is_mediapipe_task(names)
    assert sniff_model(data, "assets/hand.task") is None
    assert "MediaPipe task bundle with 2 inner model(s)" in explain_non_model(data, "assets/hand.task")
    assert all(m is not None and m.format == "tflite" for m in inner.values())
    assert inner["hand_detector.tflite"].member == "assets/hand.task!/hand_detector.tflite"  # type: ignore[union-attr]
    assert is_mediapipe_task(["TF_LITE_PREFILL_DECODE", "TOKENIZER_MODEL", "METADATA"])
    assert not is_mediapipe_task(["AndroidManifest.xml", "classes.dex", "assets/a.tflite"])
    assert not is_mediapipe_task([])


# ---------------------------------------------------------------- traps


def test_suffix_only_fake_is_not_a_model() -> None:
    rnd = random.Random(7).randbytes(200_000)
    for name in ("assets/model.tflite", "assets/model.onnx", "assets/model.gguf", "assets/m.mlmodel", "a.param"):
        assert sniff_model(rnd, name) is None
        assert "high-entropy data" in explain_non_model(rnd, name)


def test_font_and_data_files_are_not_models() -> None:
    fonts = sorted(glob.glob("/usr/share/fonts/truetype/**/*.ttf", recursive=True))[:3]
    synthetic = b"\x00\x01\x00\x00\x00\x0c\x00\x80\x00\x03\x00\x40" + random.Random(1).randbytes(100_000)
    for name, data in [(f, Path(f).read_bytes()) for f in fonts] + [("assets/model.tflite", synthetic)]:
        assert sniff_model(data, name) is None
        assert "font" in explain_non_model(data, name)
        assert possibly_encrypted_model(data, name, has_ml_runtime=True) is None
    for data in (b'{"labels": ["cat", "dog"]}', b"cat\ndog\n", b"\x00" * 4096, b""):
        assert sniff_model(data, "assets/labels.tflite") is None
        assert explain_non_model(data, "assets/labels.tflite")


def test_possibly_encrypted_model() -> None:
    blob = random.Random(3).randbytes(256 * 1024)
    assert entropy(blob) >= 7.99
    m = possibly_encrypted_model(blob, "assets/face.tflite.enc", has_ml_runtime=True)
    assert m is not None and m.confidence == "low" and m.format == "unknown"
    assert m.notes and "possibly an encrypted model" in m.notes[0]
    assert possibly_encrypted_model(blob, "assets/x", has_ml_runtime=False) is None
    assert possibly_encrypted_model(blob[:4096], "assets/x", has_ml_runtime=True) is None
    gz = b"\x1f\x8b\x08\x00" + blob
    assert possibly_encrypted_model(gz, "assets/x", has_ml_runtime=True) is None
    text = (b"the quick brown fox " * 10000)[: 200 * 1024]
    assert possibly_encrypted_model(text, "assets/x", has_ml_runtime=True) is None
    assert entropy(b"") == 0.0 and entropy(b"aaaa") == 0.0


def test_memoryview_input_is_accepted() -> None:
    data = read("relu_with_metadata.tflite")
    m = sniff_model(memoryview(data), "x")
    assert m is not None and m.name == "Relu classifier (LicenseGate fixture)"


def test_model_json_shape() -> None:
    m = sniff_model(read("relu_with_metadata.tflite"), "assets/relu.tflite")
    assert m is not None
    doc = m.to_json()
    assert doc["kind"] == "model" and doc["format"] == "tflite" and doc["license"] == "Apache-2.0"
    json.dumps(doc)


def test_fixture_files_are_small() -> None:
    for p in DATA.iterdir():
        assert p.stat().st_size < 200 * 1024, p


def test_existing_model_suffix_and_non_model_member_smoke() -> None:
    assert sniff_model(pb((1, 3)), "assets/x.onnx") is None
    assert sniff_model(build_executorch(identifier=b"XX12"), "x.pte") is None
    assert sniff_model(b"PK\x03\x04garbage", "x.ptl") is None
