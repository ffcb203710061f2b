"""On-device model detection and provenance (issue 3).

Detection reads content, never trusts a suffix: `sniff_model` for one member, `sniff_model_directory` for a
Core ML package / compiled model / SavedModel folder reported as one model, `is_mediapipe_task` for `.task`
bundles whose inner models the walker reports at their `!/` paths, and `possibly_encrypted_model` for
high-entropy blobs next to an ML runtime. Provenance and stance are pure functions over `ModelFile` and a
team's `Declared` facts (see docs/models.md).
"""

from __future__ import annotations

from licensegate.ml.containers import is_mediapipe_task, sniff_model_directory
from licensegate.ml.licences import UseRestriction, is_free, to_spdx, use_restrictions
from licensegate.ml.modelfile import ModelFile, ModelFormat, TensorSummary
from licensegate.ml.provenance import (
    Conflict,
    DebianClass,
    DebianClassification,
    Declared,
    MofClass,
    MofClassification,
    Requirement,
    Stance,
    TrainingData,
    classify_debian_ml_policy,
    classify_mof,
    find_declared,
    metadata_conflicts,
    model_use_restrictions,
    stance_requirements,
)
from licensegate.ml.sniff import entropy, explain_non_model, possibly_encrypted_model, sniff_model, suffix_format

__all__ = [
    "Conflict",
    "DebianClass",
    "DebianClassification",
    "Declared",
    "ModelFile",
    "ModelFormat",
    "MofClass",
    "MofClassification",
    "Requirement",
    "Stance",
    "TensorSummary",
    "TrainingData",
    "UseRestriction",
    "classify_debian_ml_policy",
    "classify_mof",
    "entropy",
    "explain_non_model",
    "find_declared",
    "is_free",
    "is_mediapipe_task",
    "metadata_conflicts",
    "model_use_restrictions",
    "possibly_encrypted_model",
    "sniff_model",
    "sniff_model_directory",
    "stance_requirements",
    "suffix_format",
    "to_spdx",
    "use_restrictions",
]
