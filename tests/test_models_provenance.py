"""Licence mapping, declared provenance, Debian ML Policy and MOF classes, stance requirements."""

from __future__ import annotations

import pytest

from licensegate.errors import UsageError
from licensegate.ml import (
    Declared,
    ModelFile,
    TrainingData,
    classify_debian_ml_policy,
    classify_mof,
    find_declared,
    is_free,
    metadata_conflicts,
    model_use_restrictions,
    stance_requirements,
    to_spdx,
    use_restrictions,
)
from licensegate.ml.provenance import DEFAULT_STANCE, effective_licence


@pytest.mark.parametrize(
    ("raw", "spdx"),
    [
        ("Apache-2.0", "Apache-2.0"),
        ("apache-2.0", "Apache-2.0"),
        ("Apache License 2.0", "Apache-2.0"),
        ("Apache License. Version 2.0 http://www.apache.org/licenses/LICENSE-2.0.", "Apache-2.0"),
        ("MIT OR apache-2.0", "MIT OR Apache-2.0"),
        ("(MIT AND BSD-3-Clause)", "(MIT AND BSD-3-Clause)"),
        ("EPL-2.0", "EPL-2.0"),  # any id on the vendored SPDX list
        ("cc-by-nc-4.0", "CC-BY-NC-4.0"),
        ("https://creativecommons.org/licenses/by-nd/4.0/", "CC-BY-ND-4.0"),
        ("llama2", "LicenseRef-licensegate-Llama-2-Community"),
        ("llama3.1", "LicenseRef-licensegate-Llama-3.1-Community"),
        ("Llama 3.2 Community License Agreement", "LicenseRef-licensegate-Llama-3.2-Community"),
        ("creativeml-openrail-m", "LicenseRef-licensegate-CreativeML-OpenRAIL-M"),
        ("bigscience-openrail-m", "LicenseRef-licensegate-BigScience-OpenRAIL-M"),
        ("openrail", "LicenseRef-licensegate-OpenRAIL"),
        ("gemma", "LicenseRef-licensegate-Gemma"),
        ("Proprietary", None),
        ("see LICENSE file", None),
        ("MIT AND", None),
        ("", None),
        (None, None),
    ],
)
def test_licence_text_to_spdx(raw: str | None, spdx: str | None) -> None:
    assert to_spdx(raw) == spdx


def test_use_restricted_licences_carry_restrictions_and_notice() -> None:
    (llama,) = use_restrictions("LicenseRef-licensegate-Llama-2-Community")
    assert llama.family == "llama" and llama.gpl3_conflict
    assert llama.notice == (
        "Llama 2 is licensed under the LLAMA 2 Community License, Copyright (c) Meta Platforms, Inc. All Rights Reserved."
    )
    assert any("700 million" in r for r in llama.restrictions)
    assert llama.source.startswith("https://")
    (rail,) = use_restrictions(to_spdx("creativeml-openrail-m"))
    assert rail.family == "openrail" and "s.4(a)" in rail.restrictions[0]
    assert [r.family for r in use_restrictions("CC-BY-NC-4.0 OR CC-BY-ND-4.0")] == ["cc-nc", "cc-nd"]
    assert use_restrictions("MIT") == [] and use_restrictions(None) == []
    assert is_free("MIT OR Apache-2.0") and not is_free("CC-BY-NC-4.0") and not is_free("LicenseRef-x")


def _model(licence: str | None = None, member: str = "assets/m.tflite", **meta: str) -> ModelFile:
    return ModelFile(format="tflite", member=member, license=to_spdx(licence), license_raw=licence, metadata=dict(meta))


FULL = Declared(
    match="assets/*.tflite",
    licence="Apache-2.0",
    upstream="https://huggingface.co/example/tiny",
    training_code="https://github.com/example/tiny-train",
    training_data=TrainingData("people photos", "https://example.org/data", "CC-BY-4.0"),
    model_card="https://huggingface.co/example/tiny/blob/main/README.md",
    source="licensegate.toml [[models.declare]] #1",
)


def test_declared_from_mapping_and_matching() -> None:
    d = Declared.from_mapping(
        {
            "path": "assets/models/*.onnx",
            "license": "MIT",
            "upstream": "hf:example/m",
            "training_code": "https://git.example/train",
            "training_data": {"description": "public speech", "location": "https://data.example", "licence": "CC0-1.0"},
            "components": {"data-card": "https://data.example/card"},
        },
        source="policy.toml:12",
    )
    assert d.licence_spdx == "MIT" and d.training_data == TrainingData(
        "public speech", "https://data.example", "CC0-1.0"
    )
    assert d.matches("assets/models/a.onnx", None) and not d.matches("lib/a.onnx", None)
    sha = "ab" * 32
    by_hash = Declared.from_mapping({"sha256": sha})
    assert by_hash.match == f"sha256:{sha}" and by_hash.matches("anything", sha.upper())
    assert find_declared([d, by_hash], "assets/models/a.onnx", sha) is by_hash
    assert find_declared([d, by_hash], "assets/models/a.onnx", None) is d
    assert find_declared([d], "other", None) is None
    for bad in ({"licence": "MIT"}, {"path": "x", "colour": "red"}, {"sha256": "12"}, {"path": "x", "training_data": 3},
                {"path": "x", "components": {"vibes": "y"}}, {"path": 3}):  # fmt: skip
        with pytest.raises(UsageError):
            Declared.from_mapping(bad)


def test_debian_ml_policy() -> None:
    assert classify_debian_ml_policy(_model("Apache-2.0"), FULL).klass == "Free"
    toxic = classify_debian_ml_policy(_model("Apache-2.0"), None)
    assert toxic.klass == "ToxicCandy"
    assert any("training data" in r for r in toxic.reasons) and any("training code" in r for r in toxic.reasons)
    assert classify_debian_ml_policy(_model(None), None).klass == "NonFree"
    nonfree = classify_debian_ml_policy(_model("llama2"), None)
    assert nonfree.klass == "NonFree" and "not a DFSG-free" in nonfree.reasons[0]
    unknown = classify_debian_ml_policy(_model("Proprietary"), None)
    assert unknown.klass == "NonFree" and "Proprietary" in unknown.reasons[0]
    private_data = Declared(match="*", training_code="x", training_data=TrainingData("internal photos"))
    assert classify_debian_ml_policy(_model("MIT"), private_data).klass == "ToxicCandy"


def test_declared_licence_wins_for_classification_and_conflict_is_reported() -> None:
    m = _model("Apache-2.0")
    d = Declared(match="*", licence="CC-BY-NC-4.0", source="policy.toml:3")
    assert effective_licence(m, d).source == "declared"
    assert classify_debian_ml_policy(m, d).klass == "NonFree"
    (c,) = metadata_conflicts(m, d)
    assert (c.field, c.embedded, c.declared, c.declared_source) == (
        "licence",
        "Apache-2.0",
        "CC-BY-NC-4.0",
        "policy.toml:3",
    )
    assert metadata_conflicts(m, Declared(match="*", licence="apache-2.0")) == []
    assert metadata_conflicts(m, None) == []
    g = _model(None, **{"general.source.url": "https://huggingface.co/other/model"})
    (u,) = metadata_conflicts(g, Declared(match="*", upstream="https://huggingface.co/example/tiny"))
    assert u.field == "upstream"
    assert [r.family for r in model_use_restrictions(m, d)] == ["cc-nc"]


def test_model_openness_framework() -> None:
    assert classify_mof(_model("Apache-2.0"), FULL).klass is None  # no data card, report, evaluation results
    comps = {c: f"https://example.org/{c}" for c in ("data-card", "technical-report", "evaluation-results")}
    class3 = Declared(match="*", licence="Apache-2.0", model_card="https://example.org/card", components=comps)
    r3 = classify_mof(_model("Apache-2.0"), class3)
    assert r3.klass == "Class III" and "training-code" in r3.missing["Class II"]
    more = dict(
        comps, **{c: "x" for c in ("inference-code", "evaluation-code", "evaluation-data", "supporting-libraries")}
    )
    class2 = Declared(match="*", licence="MIT", model_card="c", training_code="t", components=more)
    r2 = classify_mof(_model("MIT"), class2)
    assert r2.klass == "Class II" and set(r2.missing) == {"Class I"}
    every = dict(more, **{c: "x" for c in ("research-paper", "data-preprocessing-code", "intermediate-parameters")})
    class1 = Declared(match="*", licence="MIT", model_card="c", training_code="t", components=every,
                      training_data=TrainingData(location="https://data"))  # fmt: skip
    assert classify_mof(_model("MIT"), class1).klass == "Class I"
    # parameters under a non-open licence block every class
    restricted = Declared(match="*", licence="llama2", model_card="c", training_code="t", components=every)
    assert "model-parameters" in classify_mof(_model("llama2"), restricted).missing["Class III"]
    assert classify_mof(_model("llama2"), restricted).klass is None


def test_stance_requirements() -> None:
    m = _model("Apache-2.0")
    data = stance_requirements("data", m, None, app_gpl_covered=True)
    assert [(r.key, r.present, r.severity) for r in data] == [("model-file", True, "ok"), ("licence", True, "ok")]
    code = stance_requirements("training-code", m, None, app_gpl_covered=True)
    assert [(r.key, r.present, r.severity) for r in code][-1] == ("training-code", False, "violation")
    both = stance_requirements("training-code-and-data", m, FULL, app_gpl_covered=True)
    assert all(r.present and r.severity == "ok" for r in both)
    assert {r.key for r in both} == {
        "model-file",
        "licence",
        "training-code",
        "training-data",
        "training-data-description",
    }
    td = next(r for r in both if r.key == "training-data")
    assert td.where == "https://example.org/data" and td.source == "declared"
    # outside a GPL-covered app: an undeclared licence is a warning, a missing source piece is information
    bare = stance_requirements("training-code-and-data", _model(None), None, app_gpl_covered=False)
    sev = {r.key: r.severity for r in bare}
    assert sev == {"model-file": "ok", "licence": "warning", "training-code": "info", "training-data": "info",
                   "training-data-description": "info"}  # fmt: skip
    lic = next(r for r in stance_requirements("data", _model("MIT"), None, False) if r.key == "licence")
    assert lic.source == "embedded" and lic.to_json()["present"] is True
    with pytest.raises(UsageError):
        stance_requirements("weights", m, None, True)  # type: ignore[arg-type]
    assert DEFAULT_STANCE == "training-code"
