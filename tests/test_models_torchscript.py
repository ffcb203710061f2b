"""A real TorchScript archive written by torch.jit.save (silero-vad's .jit, fixtures/torchscript.py) inside an APK.

The archive's root folder is named after the model (``VADr_v5/``), its entries are stored with data descriptors, and
its name ends ``.jit``, which no model suffix claims: the zip's layout must decide, not the name.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from fixture_corpus import cache_dir
from licensegate.cli import main
from licensegate.ml import sniff_model

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "fixtures" / "torchscript.py"


@functools.lru_cache(maxsize=1)
def fixture() -> tuple[Path, dict]:
    proc = subprocess.run([sys.executable, str(SCRIPT)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO)
    if proc.returncode != 0:
        raise RuntimeError(f"fixtures/torchscript.py failed with exit code {proc.returncode}:\n{proc.stdout}")
    out = cache_dir() / "torchscript" / "out"
    manifest = json.loads((out / "manifest.json").read_text())
    return out / manifest["apk"], manifest


def scan(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    code = main(["scan", *args, "--format", "json", "--no-progress"])
    out, err = capsys.readouterr()
    assert code in (0, 1), err
    return code, json.loads(out)


def test_the_fixture_is_what_torch_jit_save_writes() -> None:
    apk, manifest = fixture()
    with zipfile.ZipFile(apk) as outer:
        inner = zipfile.ZipFile(outer.open(manifest["model_path"]))
    infos = {i.filename: i for i in inner.infolist()}
    assert {"VADr_v5/data.pkl", "VADr_v5/constants.pkl", "VADr_v5/version"} <= set(infos)
    assert any(n.startswith("VADr_v5/code/") for n in infos)
    assert infos["VADr_v5/data.pkl"].flag_bits & 0x8 and infos["VADr_v5/data.pkl"].compress_type == zipfile.ZIP_STORED


def test_sniffed_as_torchscript() -> None:
    apk, manifest = fixture()
    data = zipfile.ZipFile(apk).read(manifest["model_path"])
    m = sniff_model(data, manifest["model_path"])
    assert m is not None and m.format == "pytorch"
    assert m.metadata["container"] == "TorchScript" and m.format_version == "3"
    assert m.license is None  # the archive states no licence; the wheel's MIT licence is not inside it


def test_listed_in_the_report_with_its_stance_outcome(capsys: pytest.CaptureFixture[str]) -> None:
    apk, manifest = fixture()
    code, report = scan(capsys, str(apk))
    models = [c for c in report["components"] if c["kind"] == "model"]
    assert [(c["path"], c["format"], c["sha256"]) for c in models] == [("assets/silero_vad.jit", "pytorch", manifest["model_sha256"])]
    (model,) = models
    assert "VADr_v5/data.pkl + VADr_v5/version (TorchScript)" in [e["text"] for e in model["evidence"]]
    assert model["details"]["provenance"]["debian_ml_policy"]["class"] == "NonFree"
    rules = {(f["rule"], f["component"]) for f in report["findings"]}
    assert ("model-license-undeclared", "assets/silero_vad.jit") in rules
    # its inner entries (weights under data/, code/*.py) are parts of the one model, never models or problems of their own
    assert not [c for c in report["components"] if c["path"].startswith("assets/silero_vad.jit!/")]
    assert report["problems"] == []
    assert code == 0


def test_the_declared_licence_from_the_wheel_settles_it(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    apk, manifest = fixture()
    assert manifest["licence"]["spdx"] == "MIT"  # the wheel's own LICENSE (fixtures/torchscript.py)
    policy = tmp_path / "policy.toml"
    policy.write_text(f'[[models.declare]]\nsha256 = "{manifest["model_sha256"]}"\nlicence = "MIT"\n')
    _, report = scan(capsys, str(apk), "--policy", str(policy))
    (model,) = [c for c in report["components"] if c["kind"] == "model"]
    assert (model["license"], model["family"]) == ("MIT", "permissive")
    assert model["details"]["provenance"]["debian_ml_policy"]["class"] == "ToxicCandy"  # free licence, data unknown
    rules = {f["rule"] for f in report["findings"]}
    assert "model-license-undeclared" not in rules and "model-stance-unmet" in rules
