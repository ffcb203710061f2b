"""Every report format on fixture scans: golden files, schema validation, and what CI systems need from each.

Golden files live in tests/golden/; regenerate them with LICENSEGATE_UPDATE_GOLDEN=1 after a deliberate change.
Reports are made reproducible by scanning from inside the corpus folder (relative artifact paths), fixing the
report time with SOURCE_DATE_EPOCH and the duration to zero; the tool version is replaced by <version>.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import jsonschema
import pytest

from licensegate import __version__, check
from licensegate.cli import main
from licensegate.report import Report
from licensegate.report.formats import FORMATS, SUFFIXES, render

GOLDEN = Path(__file__).parent / "golden"
# the OASIS schema, vendored from oasis-tcs/sarif-spec (docs/formats.md names the commit)
SARIF_SCHEMA = Path(__file__).resolve().parent.parent / "src" / "licensegate" / "report" / "sarif-schema-2.1.0.json"
MODELS = Path(__file__).parent / "data" / "models"
EPOCH = "1767225600"  # 2026-01-01T00:00:00Z
GPL_LIBS = ["libavcodec.so", "libavformat.so", "libavutil.so", "libpostproc.so", "libswresample.so", "libswscale.so",
            "libx264.so", "libx265.so"]


def make_report(folder: Path, name: str, monkeypatch: pytest.MonkeyPatch, policy: Path | None = None,
                fail_on: str = "error") -> Report:
    monkeypatch.chdir(folder)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    report = check(Path(name), policy, fail_on=fail_on)
    report.duration_s = 0.0  # golden files: no timing
    return report


def with_models(src: Path, dest: Path) -> Path:
    """gpl-player.apk plus two real models (a TFLite with metadata, an ORT without), written reproducibly."""
    shutil.copyfile(src, dest)
    with zipfile.ZipFile(dest, "a") as zf:
        for member, file in (("assets/models/relu.tflite", "relu_with_metadata.tflite"), ("assets/models/iris.ort", "logreg_iris.ort")):
            zf.writestr(zipfile.ZipInfo(member, date_time=(2026, 1, 1, 0, 0, 0)), (MODELS / file).read_bytes())
    return dest


def check_golden(name: str, text: str) -> None:
    text = text.replace(__version__, "<version>")
    path = GOLDEN / name
    if os.environ.get("LICENSEGATE_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.is_file(), f"{path} missing: run the tests with LICENSEGATE_UPDATE_GOLDEN=1 to create it"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from its golden file (LICENSEGATE_UPDATE_GOLDEN=1 regenerates)"


@pytest.fixture
def model_dir(corpus: Path, tmp_path: Path) -> Path:
    with_models(corpus / "gpl-player.apk", tmp_path / "gpl-model.apk")
    return tmp_path


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("artifact", ["gpl-player.apk", "clean-app.apk", "ios-app.ipa"])
def test_golden(corpus: Path, monkeypatch: pytest.MonkeyPatch, artifact: str, fmt: str) -> None:
    report = make_report(corpus, artifact, monkeypatch)
    check_golden(f"{artifact}{SUFFIXES[fmt]}", render(report, fmt))


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "cyclonedx", "spdx", "markdown"])
def test_golden_with_models(model_dir: Path, monkeypatch: pytest.MonkeyPatch, fmt: str) -> None:
    report = make_report(model_dir, "gpl-model.apk", monkeypatch)
    check_golden(f"gpl-model.apk{SUFFIXES[fmt]}", render(report, fmt))


# ---- SARIF -------------------------------------------------------------------------------------------------------


def sarif_validator() -> jsonschema.Draft4Validator:
    return jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text()))


@pytest.mark.parametrize("artifact", ["gpl-player.apk", "clean-app.apk", "ios-app.ipa", "traps.apk", "lib.aar"])
def test_sarif_is_valid_and_github_ready(corpus: Path, monkeypatch: pytest.MonkeyPatch, artifact: str) -> None:
    sarif = json.loads(render(make_report(corpus, artifact, monkeypatch), "sarif"))
    errors = sorted(sarif_validator().iter_errors(sarif), key=str)
    assert not errors, errors[0].message
    run = sarif["runs"][0]
    for rule in run["tool"]["driver"]["rules"]:
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"] and rule["help"]["text"]
    for res in run["results"]:
        loc = res["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uri"] == artifact and loc["region"]["startLine"] == 1
        assert res["partialFingerprints"]["licensegate/v1"]
        if res["properties"]["member"]:
            assert res["properties"]["member"] in res["message"]["text"]
    fps = [r["partialFingerprints"]["licensegate/v1"] for r in run["results"]]
    assert len(fps) == len(set(fps)), "fingerprints must identify one result each"


def test_sarif_names_each_gpl_library_and_is_stable(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = json.loads(render(make_report(corpus, "gpl-player.apk", monkeypatch), "sarif"))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1800000000")
    second = json.loads(render(make_report(corpus, "gpl-player.apk", monkeypatch), "sarif"))
    gpl = [r for r in first["runs"][0]["results"] if r["ruleId"] == "copyleft-gpl"]
    named = {r["properties"]["member"].rsplit("/", 1)[-1] for r in gpl}
    assert named == set(GPL_LIBS)
    assert all(r["level"] == "error" for r in gpl)
    fp = [r["partialFingerprints"] for r in first["runs"][0]["results"]]
    assert fp == [r["partialFingerprints"] for r in second["runs"][0]["results"]]


# ---- CycloneDX ---------------------------------------------------------------------------------------------------


def cdx_errors(text: str) -> list[str]:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text, all_errors=True)
    return [str(e) for e in errors or []]


def test_cyclonedx_has_gpl_licences_models_and_dependencies(model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = render(make_report(model_dir, "gpl-model.apk", monkeypatch), "cyclonedx")
    assert cdx_errors(text) == []
    bom = json.loads(text)
    assert bom["specVersion"] == "1.6" and bom["bomFormat"] == "CycloneDX"
    comps = {c["bom-ref"]: c for c in bom["components"]}
    codec = comps["lib/arm64-v8a/libavcodec.so"]
    assert codec["licenses"] == [{"expression": "GPL-2.0-or-later", "acknowledgement": "concluded"}]
    ident = codec["evidence"]["identity"][0]
    assert ident["field"] == "name" and ident["confidence"] == 0.9
    techniques = {m["technique"]: m["confidence"] for m in ident["methods"]}
    assert techniques["binary-analysis"] == 0.9 and techniques.get("filename", 0.3) == 0.3
    for lib in GPL_LIBS:
        assert any(ref.endswith(lib) and "GPL" in c["licenses"][0]["expression"] for ref, c in comps.items())
    models = [c for c in bom["components"] if c["type"] == "machine-learning-model"]
    assert {m["bom-ref"] for m in models} == {"assets/models/relu.tflite", "assets/models/iris.ort"}
    relu = comps["assets/models/relu.tflite"]
    assert relu["licenses"][0]["expression"] == "Apache-2.0"
    props = {p["name"]: p["value"] for p in relu["modelCard"]["properties"]}
    assert props["licensegate:stance"] == "training-code" and "missing" in props["licensegate:requires:training-code"]
    assert relu["modelCard"]["modelParameters"]["inputs"] == [{"format": "input: float32[1x4]"}]
    deps = {d["ref"]: d.get("dependsOn", []) for d in bom["dependencies"]}
    assert "lib/arm64-v8a/libavcodec.so" in deps["lib/arm64-v8a/libapp.so"]
    assert "lib/arm64-v8a/libx264.so" in deps["lib/arm64-v8a/libavcodec.so"]
    assert "lib/arm64-v8a/libapp.so" in deps["artifact"]


@pytest.mark.parametrize("artifact", ["clean-app.apk", "ios-app.ipa", "traps.apk", "lib.aar", "player.aab"])
def test_cyclonedx_valid_for_every_fixture(corpus: Path, monkeypatch: pytest.MonkeyPatch, artifact: str) -> None:
    assert cdx_errors(render(make_report(corpus, artifact, monkeypatch), "cyclonedx")) == []


# ---- SPDX --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("artifact", ["gpl-player.apk", "clean-app.apk", "ios-app.ipa", "traps.apk", "lib.aar", "gpl-model.apk"])
def test_spdx_validates_with_spdx_tools(corpus: Path, model_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                        artifact: str) -> None:
    from spdx_tools.spdx.parser.parse_anything import parse_file
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    report = make_report(model_dir if artifact == "gpl-model.apk" else corpus, artifact, monkeypatch)
    out = tmp_path / "bom.spdx.json"
    out.write_text(render(report, "spdx"))
    doc = parse_file(str(out))
    assert [m.validation_message for m in validate_full_spdx_document(doc)] == []
    by_name = {p.spdx_id: p for p in doc.packages}
    if artifact == "gpl-player.apk":
        assert str(by_name["SPDXRef-lib-arm64-v8a-libx264.so"].license_concluded) == "GPL-2.0-or-later"


# ---- JUnit, Markdown ---------------------------------------------------------------------------------------------


def test_junit_has_a_failing_case_per_failing_component(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = ET.fromstring(render(make_report(corpus, "gpl-player.apk", monkeypatch), "junit"))
    suite = root.find("testsuite")
    assert suite is not None
    failed = {c.get("name") for c in suite.iter("testcase") if c.find("failure") is not None}
    assert {p.rsplit("/", 1)[-1] for p in failed} == set(GPL_LIBS)
    assert int(suite.get("failures", "0")) == len(failed) == int(root.get("failures", "0"))
    passed = {c.get("name") for c in suite.iter("testcase") if c.find("failure") is None}
    assert "lib/arm64-v8a/libzstd.so" in passed


def test_junit_clean_build_has_no_failures(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = ET.fromstring(render(make_report(corpus, "clean-app.apk", monkeypatch), "junit"))
    assert root.get("failures") == "0" and int(root.get("tests", "0")) >= 12


def test_markdown_leads_with_the_verdict(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    md = render(make_report(corpus, "gpl-player.apk", monkeypatch), "markdown")
    assert md.startswith("## ❌ LicenseGate: FAIL")
    assert "`lib/arm64-v8a/libx265.so`" in md
    assert render(make_report(corpus, "clean-app.apk", monkeypatch), "markdown").startswith("## ✅ LicenseGate: PASS")


def test_text_report_shows_models(model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = render(make_report(model_dir, "gpl-model.apk", monkeypatch), "text")
    assert "Models (2)" in text
    assert "Debian ML Policy: ToxicCandy; MOF: no class reached; stance: training-code" in text
    assert "requires the code that defines and trains the model, with its build scripts: MISSING" in text


# ---- HTML in headless Chromium ----------------------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (apt-get install chromium; add it to .ci/run)")
def test_html_renders_in_headless_chromium(model_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(render(make_report(model_dir, "gpl-model.apk", monkeypatch), "html"), encoding="utf-8")
    text = page.read_text()
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", text), "the page must load nothing from the network"
    assert not re.search(r"<script[^>]*\ssrc=", text) and "<link" not in text and "@import" not in text, \
        "the page must be self-contained (its one script is inline)"
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run(
            [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
             "--dump-dom", page.as_uri()],
            capture_output=True, text=True, timeout=120,
        )
    dom = proc.stdout
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert 'id="verdict">Verdict: FAIL' in dom
    assert '<svg xmlns="http://www.w3.org/2000/svg" id="link-graph"' in dom
    for lib in GPL_LIBS:
        assert f'data-path="lib/arm64-v8a/{lib}"' in dom
    assert 'class="edge hot" data-from="lib/arm64-v8a/libapp.so" data-to="lib/arm64-v8a/libavcodec.so"' in dom
    assert 'class="node family-gpl"' in dom and 'class="node family-app"' in dom
    assert "assets/models/relu.tflite" in dom and "ToxicCandy" in dom and "missing" in dom


# ---- the command line ------------------------------------------------------------------------------------------


def test_cli_writes_several_formats_from_one_scan(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    apk = corpus / "gpl-player.apk"
    code = main(["scan", str(apk), "--format", "sarif", "--output", str(tmp_path / "a.sarif"), "--format", "json",
                 "--output", str(tmp_path / "a.json"), "--report", f"junit={tmp_path / 'a.xml'}",
                 "--report", f"cyclonedx={tmp_path / 'a.cdx.json'}", "--report", f"markdown={tmp_path / 'a.md'}"])
    assert code == 1
    assert capsys.readouterr().out == ""
    for name in ("a.sarif", "a.json", "a.xml", "a.cdx.json", "a.md"):
        assert (tmp_path / name).stat().st_size > 100
    assert json.loads((tmp_path / "a.json").read_text())["verdict"] == "fail"


def test_cli_report_without_format_still_prints_text(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", str(corpus / "clean-app.apk"), "--report", f"sarif={tmp_path / 'x.sarif'}"]) == 0
    assert "Verdict: PASS" in capsys.readouterr().out
    assert (tmp_path / "x.sarif").is_file()


@pytest.mark.parametrize("argv", [
    ["--format", "json", "--format", "sarif"],  # two to stdout
    ["--output", "a", "--output", "b"],  # more outputs than formats
    ["--report", "pdf=x.pdf"],
    ["--report", "sarif"],
])
def test_cli_format_usage_errors(corpus: Path, argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", str(corpus / "clean-app.apk"), *argv]) == 2
    assert "Traceback" not in capsys.readouterr().err
