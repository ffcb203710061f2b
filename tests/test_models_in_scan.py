"""Models found by the scan pipeline: real files inside APK/IPA layouts, traps, stance findings in the report."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from licensegate.cli import main

DATA = Path(__file__).parent / "data" / "models"


def scan(capsys: pytest.CaptureFixture[str], path: Path, *extra: str) -> tuple[int, dict]:
    code = main(["scan", str(path), "--format", "json", *extra])
    out, err = capsys.readouterr()
    assert code in (0, 1), err
    return code, json.loads(out)


def onnx_model(license_text: str | None = "MIT") -> bytes:
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    node = helper.make_node("Relu", ["x"], ["y"])
    graph = helper.make_graph([node], "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    model = helper.make_model(graph, producer_name="licensegate-tests", producer_version="1.0")
    model.model_version = 7
    if license_text:
        helper.set_model_props(model, {"license": license_text, "author": "Example Labs"})
    return onnx._serialize(model) if hasattr(onnx, "_serialize") else model.SerializeToString()


@pytest.fixture()
def model_apk(tmp_path: Path, corpus: Path) -> Path:
    manifest = zipfile.ZipFile(corpus / "clean-app.apk").read("AndroidManifest.xml")
    apk = tmp_path / "models.apk"
    with zipfile.ZipFile(apk, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("AndroidManifest.xml", manifest)
        zf.writestr("assets/detector.onnx", onnx_model("MIT"))
        zf.writestr("assets/weights.bin", onnx_model(None))  # a renamed model: found by content
        zf.writestr("assets/fake.tflite", bytes(range(256)) * 64)  # a suffix-only fake: not a model
        zf.write(DATA / "relu_with_metadata.tflite", "assets/relu.tflite")
        zf.writestr("assets/font.ttf", b"\x00\x01\x00\x00\x00\x0c\x00\x80" + bytes(400))
    return apk


def test_models_are_found_by_content(capsys: pytest.CaptureFixture[str], model_apk: Path) -> None:
    _, report = scan(capsys, model_apk)
    models = {c["path"]: c for c in report["components"] if c["kind"] == "model"}
    assert set(models) == {"assets/detector.onnx", "assets/weights.bin", "assets/relu.tflite"}
    onnx = models["assets/detector.onnx"]
    assert onnx["format"] == "onnx" and onnx["license"] == "MIT" and onnx["family"] == "permissive"
    assert onnx["version"] == "7" and onnx["details"]["model"]["producer"].startswith("licensegate-tests")
    assert models["assets/weights.bin"]["format"] == "onnx" and models["assets/weights.bin"]["license"] is None
    assert models["assets/relu.tflite"]["format"] == "tflite"
    for m in models.values():
        assert len(m["sha256"]) == 64
        prov = m["details"]["provenance"]
        assert prov["stance"] == "training-code"
        assert prov["debian_ml_policy"]["class"] in ("Free", "ToxicCandy", "NonFree")


def test_undeclared_licence_is_a_warning_in_a_proprietary_app(capsys: pytest.CaptureFixture[str], model_apk: Path) -> None:
    code, report = scan(capsys, model_apk)
    undeclared = [f for f in report["findings"] if f["rule"] == "model-license-undeclared"]
    assert [f["component"] for f in undeclared] == ["assets/weights.bin"]
    assert undeclared[0]["severity"] == "warning"
    assert code == 0  # no GPL code, no declared GPL app licence: models do not fail the gate


def test_gpl_app_requires_what_the_stance_says(tmp_path: Path, capsys: pytest.CaptureFixture[str], model_apk: Path) -> None:
    policy = tmp_path / "gpl.toml"
    policy.write_text(
        'version = 1\n[app]\nlicense = "GPL-3.0-or-later"\n[models]\nsource = "training-code-and-data"\n'
        '[[models.declare]]\npath = "assets/detector.onnx"\nlicense = "MIT"\n'
        'training_code = "https://example.org/detector-train"\n'
        'training_data = { description = "COCO 2017 people", location = "https://example.org/data" }\n'
    )
    code, report = scan(capsys, model_apk, "--policy", str(policy))
    assert code == 1
    unmet = {(f["component"], f["severity"]) for f in report["findings"] if f["rule"] == "model-stance-unmet"}
    assert ("assets/weights.bin", "error") in unmet and ("assets/relu.tflite", "error") in unmet
    assert not any(c == "assets/detector.onnx" for c, _ in unmet)  # everything the stance asks is declared
    det = next(c for c in report["components"] if c["path"] == "assets/detector.onnx")
    reqs = {r["key"]: r["present"] for r in det["details"]["provenance"]["requirements"]}
    assert reqs == {"model-file": True, "licence": True, "training-code": True, "training-data": True, "training-data-description": True}


def test_declared_licence_conflicting_with_metadata(tmp_path: Path, capsys: pytest.CaptureFixture[str], model_apk: Path) -> None:
    policy = tmp_path / "p.toml"
    policy.write_text('version = 1\n[[models.declare]]\npath = "assets/detector.onnx"\nlicense = "Apache-2.0"\n')
    _, report = scan(capsys, model_apk, "--policy", str(policy))
    conflicts = [f for f in report["findings"] if f["rule"] == "model-metadata-conflict"]
    assert [f["component"] for f in conflicts] == ["assets/detector.onnx"]


def test_bad_model_declaration_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str], model_apk: Path) -> None:
    policy = tmp_path / "p.toml"
    policy.write_text('version = 1\n[models]\nsource = "vibes"\n')
    code = main(["scan", str(model_apk), "--policy", str(policy)])
    err = capsys.readouterr().err
    assert code == 2 and "models.source" in err and "Traceback" not in err


def test_truncated_model_is_reported_not_fatal(tmp_path: Path, capsys: pytest.CaptureFixture[str], corpus: Path) -> None:
    apk = tmp_path / "t.apk"
    whole = (DATA / "relu_with_metadata.tflite").read_bytes()
    with zipfile.ZipFile(apk, "w") as zf:
        zf.writestr("AndroidManifest.xml", zipfile.ZipFile(corpus / "clean-app.apk").read("AndroidManifest.xml"))
        zf.writestr("assets/cut.tflite", whole[: len(whole) // 3])
    _, report = scan(capsys, apk)
    assert [p["path"] for p in report["problems"]] == ["assets/cut.tflite"]
    assert not [c for c in report["components"] if c["kind"] == "model"]


def test_high_entropy_blob_next_to_an_ml_runtime(tmp_path: Path, capsys: pytest.CaptureFixture[str], corpus: Path) -> None:
    """A blob no format claims, shipped with TFLite, is a possibly encrypted model (low confidence, reason given);
    the same blob in an app without an ML runtime is nothing."""
    import random

    from natives import android_lib, have_clang

    if not have_clang():
        pytest.fail("clang is needed (.ci/run installs it)")
    # A library exporting the TFLite C API entry point, as libtensorflowlite_jni.so does.
    runtime = android_lib(tmp_path / "libtfl.so", "int TfLiteInterpreterCreate(void) { return 0; }\nint TfLiteModelCreate(void) { return 0; }")
    blob = random.Random(7).randbytes(256 * 1024)
    manifest = zipfile.ZipFile(corpus / "clean-app.apk").read("AndroidManifest.xml")
    with_runtime, without = tmp_path / "ml.apk", tmp_path / "plain.apk"
    for apk, lib in ((with_runtime, True), (without, False)):
        with zipfile.ZipFile(apk, "w") as zf:
            zf.writestr("AndroidManifest.xml", manifest)
            zf.writestr("assets/model.dat", blob)
            if lib:
                zf.write(runtime, "lib/arm64-v8a/libtensorflowlite_jni.so")
    _, report = scan(capsys, with_runtime)
    rt = next(c for c in report["components"] if c["path"] == "lib/arm64-v8a/libtensorflowlite_jni.so")
    assert rt["details"].get("ml_runtime") and rt["identified_as"] == "tflite"
    models = [c for c in report["components"] if c["kind"] == "model"]
    assert [(m["path"], m["confidence"]) for m in models] == [("assets/model.dat", "low")]
    assert "encrypted" in " ".join(models[0]["details"]["model"]["notes"])
    _, report = scan(capsys, without)
    assert not [c for c in report["components"] if c["kind"] == "model"]


def test_files_named_like_models_say_what_they_are(capsys: pytest.CaptureFixture[str], model_apk: Path) -> None:
    _, report = scan(capsys, model_apk)
    not_models = {e["path"]: e["what"] for e in report["artifact"]["details"]["not_models"]}
    assert set(not_models) == {"assets/fake.tflite"}
    assert not_models["assets/fake.tflite"].startswith("named like a tflite model but ")
    main(["scan", str(model_apk)])
    assert "assets/fake.tflite: named like a tflite model" in capsys.readouterr().out


def test_gpl_coverage_follows_linkage_not_mere_presence(tmp_path: Path, capsys: pytest.CaptureFixture[str], corpus: Path) -> None:
    """A GPL library only shipped beside the app (an aggregate) does not make the stance's pieces violations; the
    same library linked by the app's own code does."""
    from fixture_corpus import cache_dir
    from natives import android_lib, have_clang

    if not have_clang():
        pytest.fail("clang is needed (.ci/run installs it)")
    x264 = next((cache_dir() / "extract").glob("libx264-164_arm64/usr/lib/aarch64-linux-gnu/libx264.so.164"))
    app = android_lib(tmp_path / "libapp.so", "extern int x264_encoder_open_164(void);\nint enc(void) { return x264_encoder_open_164(); }", link=[x264])
    manifest = zipfile.ZipFile(corpus / "clean-app.apk").read("AndroidManifest.xml")

    def build(name: str, with_app: bool) -> Path:
        apk = tmp_path / name
        with zipfile.ZipFile(apk, "w") as zf:
            zf.writestr("AndroidManifest.xml", manifest)
            zf.writestr("assets/weights.bin", onnx_model(None))
            zf.write(x264, "lib/arm64-v8a/libx264.so")
            if with_app:
                zf.write(app, "lib/arm64-v8a/libapp.so")
        return apk

    def stance_severities(apk: Path) -> set[str]:
        _, report = scan(capsys, apk)
        return {f["severity"] for f in report["findings"] if f["rule"] == "model-stance-unmet"}

    assert stance_severities(build("aggregate.apk", with_app=False)) == {"info"}
    assert stance_severities(build("linked.apk", with_app=True)) == {"error"}
