"""Regenerate relu_with_metadata.tflite with tflite-support's own metadata writer.

Run from the repository root in a venv with tflite-support 0.4.4, ai-edge-litert and flatbuffers (tflite-support
needs libusb-1.0-0 on Debian):  python tests/data/models/make_tflite_fixture.py tests/data/models/relu_with_metadata.tflite
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path


def main(out: str) -> None:
    sys.path.insert(0, "tests")
    import flatbuffers
    from ai_edge_litert.interpreter import Interpreter
    from tflite_support import metadata as _metadata
    from tflite_support import metadata_schema_py_generated as _fb

    from test_models_builders import build_tflite

    meta = _fb.ModelMetadataT()
    meta.name = "Relu classifier (LicenseGate fixture)"
    meta.description = "One RELU op; metadata written by tflite-support's MetadataPopulator."
    meta.version = "v2"
    meta.author = "LicenseGate tests"
    meta.license = "Apache License. Version 2.0 http://www.apache.org/licenses/LICENSE-2.0."
    inp = _fb.TensorMetadataT()
    inp.name = "input"
    labels = _fb.AssociatedFileT()
    labels.name = "labels.txt"
    labels.description = "Labels"
    labels.type = _fb.AssociatedFileType.TENSOR_AXIS_LABELS
    outp = _fb.TensorMetadataT()
    outp.name = "probability"
    outp.associatedFiles = [labels]
    subgraph = _fb.SubGraphMetadataT()
    subgraph.inputTensorMetadata = [inp]
    subgraph.outputTensorMetadata = [outp]
    meta.subgraphMetadata = [subgraph]
    builder = flatbuffers.Builder(0)
    builder.Finish(meta.Pack(builder), _metadata.MetadataPopulator.METADATA_FILE_IDENTIFIER)

    with tempfile.TemporaryDirectory() as tmp:
        label_file = Path(tmp) / "labels.txt"
        label_file.write_text("a\nb\nc\nd\n")
        populator = _metadata.MetadataPopulator.with_model_buffer(build_tflite())
        populator.load_metadata_buffer(builder.Output())
        populator.load_associated_files([str(label_file)])
        populator.populate()
        data = populator.get_model_buffer()
    Interpreter(model_content=data).allocate_tensors()  # the runtime accepts it
    Path(out).write_bytes(data)
    print(f"{out}: {len(data)} bytes")


if __name__ == "__main__":
    main(sys.argv[1])
