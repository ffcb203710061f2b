"""Hostile input: every sniffer returns a ModelFile or None or raises MemberError, and nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from licensegate.errors import MemberError
from licensegate.ml import explain_non_model, possibly_encrypted_model, sniff_model
from licensegate.ml.containers import sniff_model_directory
from licensegate.ml.sniff import SNIFFERS

DATA = Path(__file__).parent / "data" / "models"
SEEDS = [p.read_bytes() for p in sorted(DATA.iterdir()) if p.suffix in (".tflite", ".ort", ".mnn")]


def _safetensors_seed() -> bytes:
    header = b'{"__metadata__":{"license":"MIT"},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'
    return len(header).to_bytes(8, "little") + header + b"\0\0\0\0"


try:
    import onnxruntime

    SEEDS.append((Path(onnxruntime.__file__).parent / "datasets" / "logreg_iris.onnx").read_bytes())
except ImportError:
    pass

try:
    from test_models_builders import (
        NCNN_PARAM,
        PROTOTXT,
        build_caffemodel,
        build_executorch,
        build_keras_zip,
        build_paddle_program,
        build_saved_model,
        build_torchscript_zip,
    )

    SEEDS += [
        build_caffemodel(),
        build_executorch(),
        build_keras_zip(),
        build_paddle_program(),
        build_saved_model(),
        build_torchscript_zip(),
        NCNN_PARAM.encode(),
        PROTOTXT.encode(),
        b"GGUF\x03\x00\x00\x00" + (1).to_bytes(8, "little") + (1).to_bytes(8, "little")
        + (12).to_bytes(8, "little") + b"general.name" + (8).to_bytes(4, "little") + (2).to_bytes(8, "little") + b"hi",
        _safetensors_seed(),
    ]  # fmt: skip
except (ImportError, pytest.skip.Exception):  # flatbuffers missing: fuzz the committed fixtures only
    pass


def _check(data: bytes, name: str = "assets/x.tflite") -> None:
    for sniffer in SNIFFERS:
        try:
            sniffer(data, name)
        except MemberError as exc:
            assert "\n" not in str(exc)
    try:
        sniff_model(data, name)
    except MemberError:
        pass
    assert isinstance(explain_non_model(data, name), str)
    possibly_encrypted_model(data, name, has_ml_runtime=True)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048))
def test_random_bytes(data: bytes) -> None:
    _check(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(range(len(SEEDS))), st.data())
def test_mutated_models(seed: int, draw: st.DataObject) -> None:
    data = bytearray(SEEDS[seed])
    n = draw.draw(st.integers(1, 8))
    for _ in range(n):
        pos = draw.draw(st.integers(0, len(data) - 1))
        data[pos] = draw.draw(st.integers(0, 255))
    cut = draw.draw(st.integers(1, len(data)))
    _check(bytes(data))
    _check(bytes(data[:cut]))


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "Manifest.json",
                "coremldata.bin",
                "metadata.json",
                "model.mil",
                "saved_model.pb",
                "Data/com.apple.CoreML/model.mlmodel",
            ]
        ),  # fmt: skip
        st.binary(max_size=256) | st.sampled_from([b"[]", b"{}", b'[{"author": 3}]', b'{"itemInfoEntries": 1}']),
    )
)
def test_model_directories(files: dict[str, bytes]) -> None:
    entries = {f"root/{k}": (lambda v=v: v) for k, v in files.items()}
    try:
        sniff_model_directory(entries, "root")
    except MemberError:
        pass


@pytest.mark.parametrize("seed", range(len(SEEDS)))
def test_every_prefix_of_each_seed(seed: int) -> None:
    data = SEEDS[seed]
    step = max(1, len(data) // 200)
    for cut in range(0, len(data), step):
        try:
            sniff_model(data[:cut], "x")
        except MemberError:
            pass
