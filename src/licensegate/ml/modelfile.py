"""The plain data a model sniffer produces."""

from __future__ import annotations

from typing import Literal

from licensegate.model import Confidence, Evidence

from .._dataclasses import dataclass, field

ModelFormat = Literal[
    "tflite",
    "onnx",
    "coreml",
    "ort",
    "gguf",
    "pytorch",
    "executorch",
    "ncnn",
    "mnn",
    "paddle",
    "safetensors",
    "keras",
    "tensorflow",
    "caffe",
    "unknown",  # only for possibly encrypted blobs, always with low confidence
]


@dataclass(frozen=True)
class TensorSummary:
    """One model input or output: its name and, where cheap to read, shape and element type."""

    name: str
    shape: tuple[int | str, ...] | None = None  # symbolic dimensions stay strings ("batch")
    dtype: str | None = None

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "shape": None if self.shape is None else list(self.shape), "dtype": self.dtype}


@dataclass
class ModelFile:
    """A model found in one member (or one folder, for Core ML packages and SavedModels)."""

    format: ModelFormat
    member: str
    name: str | None = None
    version: str | None = None
    author: str | None = None
    producer: str | None = None  # the tool that wrote it ("pytorch 2.1", "coremltools 8.0", "TOCO Converted.")
    description: str | None = None
    license: str | None = None  # SPDX expression when license_raw maps to one
    license_raw: str | None = None  # the declared text as embedded in the model
    inputs: list[TensorSummary] = field(default_factory=list)
    outputs: list[TensorSummary] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)  # other key/value metadata, values trimmed
    associated_files: list[str] = field(default_factory=list)
    confidence: Confidence = "high"
    evidence: list[Evidence] = field(default_factory=list)
    format_version: str | None = None  # container/schema version (ONNX ir_version, GGUF version, TFLite schema)
    notes: list[str] = field(default_factory=list)  # why confidence is lowered, what could not be read

    def to_json(self) -> dict[str, object]:
        return {
            "kind": "model",
            "format": self.format,
            "member": self.member,
            "name": self.name,
            "version": self.version,
            "author": self.author,
            "producer": self.producer,
            "description": self.description,
            "license": self.license,
            "license_raw": self.license_raw,
            "inputs": [t.to_json() for t in self.inputs],
            "outputs": [t.to_json() for t in self.outputs],
            "metadata": dict(self.metadata),
            "associated_files": list(self.associated_files),
            "confidence": self.confidence,
            "format_version": self.format_version,
            "notes": list(self.notes),
            "evidence": [e.to_json() for e in self.evidence],
        }
