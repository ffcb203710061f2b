"""licensegate diff OLD NEW: what changed between two builds, exit 1 when the new one adds a violation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from licensegate.cli import main


def test_clean_to_gpl_adds_violations(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "diff.json"
    code = main(["diff", str(corpus / "clean-app.apk"), str(corpus / "gpl-player.apk"), "--format", "json", "--output", str(out)])
    assert code == 1
    d = json.loads(out.read_text())
    added = {c["path"] for c in d["components_added"]}
    assert {"lib/arm64-v8a/libavcodec.so", "lib/arm64-v8a/libx264.so", "lib/armeabi-v7a/libx264.so"} <= added
    removed = {c["path"] for c in d["components_removed"]}
    assert "lib/arm64-v8a/libsqlite3.so" in removed and "lib/arm64-v8a/libzstd.so" not in removed
    assert {(f["rule"], f["component"]) for f in d["new_violations"]} >= {("copyleft-gpl", "lib/arm64-v8a/libx265.so")}
    assert d["verdicts"] == {"old": "pass", "new": "fail"} and d["adds_violation"]


def test_gpl_to_clean_adds_none(corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["diff", str(corpus / "gpl-player.apk"), str(corpus / "clean-app.apk")])
    text = capsys.readouterr().out
    assert code == 0
    assert "Components removed" in text and "lib/arm64-v8a/libx265.so: x265 199 (GPL-2.0-or-later, gpl)" in text
    assert "Resolved findings" in text and text.rstrip().endswith("The new build adds no violation.")


def test_same_build_from_reports(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    main(["scan", str(corpus / "gpl-player.apk"), "--format", "json", "--output", str(old)])
    main(["scan", str(corpus / "gpl-player.apk"), "--format", "json", "--output", str(new)])
    capsys.readouterr()
    assert main(["diff", str(old), str(new)]) == 0, "an unchanged failing build adds no new violation"
    assert "New findings" not in capsys.readouterr().out


def test_licence_change_and_model_added(corpus: Path, tmp_path: Path) -> None:
    from test_formats import with_models

    old = tmp_path / "old.json"
    main(["scan", str(corpus / "gpl-player.apk"), "--format", "json", "--output", str(old)])
    data = json.loads(old.read_text())
    for c in data["components"]:
        if c["path"] == "lib/arm64-v8a/libx265.so":
            c["license"], c["family"] = "BSD-3-Clause", "permissive"
    data["findings"] = [f for f in data["findings"] if f["component"] != "lib/arm64-v8a/libx265.so"]
    old.write_text(json.dumps(data))
    new_apk = with_models(corpus / "gpl-player.apk", tmp_path / "gpl-model.apk")
    out = tmp_path / "d.json"
    assert main(["diff", str(old), str(new_apk), "--format", "json", "--output", str(out)]) == 1
    d = json.loads(out.read_text())
    assert [(x["path"], x["old"], x["new"]) for x in d["licence_changes"]] == [
        ("lib/arm64-v8a/libx265.so", "BSD-3-Clause", "GPL-2.0-or-later")]
    assert {m["path"] for m in d["models_added"]} == {"assets/models/relu.tflite", "assets/models/iris.ort"}
    assert d["components_added"] == []
    rules = {(f["rule"], f["component"]) for f in d["new_violations"]}
    assert ("copyleft-gpl", "lib/arm64-v8a/libx265.so") in rules and ("model-stance-unmet", "assets/models/iris.ort") in rules


def test_diff_markdown_and_bad_input(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", str(corpus / "clean-app.apk"), str(corpus / "gpl-player.apk"), "--format", "markdown"]) == 1
    assert capsys.readouterr().out.startswith("## ❌ LicenseGate diff:")
    bad = tmp_path / "x.json"
    bad.write_text('{"schema": "something/else"}')
    assert main(["diff", str(bad), str(corpus / "clean-app.apk")]) == 2
    assert "not a LicenseGate report" in capsys.readouterr().err
