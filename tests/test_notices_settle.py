"""Notices that settle: packing the generated notices into the app and scanning again gives byte-identical notices.

The documented two-pass flow (and the Gradle plugin's syncNoticesTo) scans the app, packs THIRD_PARTY_NOTICES.* and
SOURCE_OFFER.txt into its assets, rebuilds, and scans again. Runs the real CLI twice on a real third-party APK
(fixtures/java_apks.py) that ships licence and NOTICE files.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from licensegate.cli import main
from licensegate.report.notices import NOTICE_FILES
from test_java_inventory import apk_dir


def _pack(apk: Path, notices: Path, out: Path) -> None:
    with zipfile.ZipFile(apk) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        for name in NOTICE_FILES:
            dst.write(notices / name, f"assets/licenses/{name}")


def _notices(artifact: Path, folder: Path) -> dict[str, bytes]:
    assert main(["scan", str(artifact), "--notices", str(folder), "--no-progress", "--format", "json", "--output", str(folder) + ".json"]) in (0, 1)
    return {name: (folder / name).read_bytes() for name in NOTICE_FILES}


def test_two_pass_notices_are_identical(tmp_path: Path) -> None:
    apk = apk_dir() / "appium-uiautomator2-server.apk"
    first = _notices(apk, tmp_path / "pass1")
    packed = tmp_path / "with-notices.apk"
    _pack(apk, tmp_path / "pass1", packed)
    second = _notices(packed, tmp_path / "pass2")
    assert second == first
    # and once more from a different path: nothing in the notices depends on where the artifact lies
    moved = tmp_path / "elsewhere" / "renamed.apk"
    moved.parent.mkdir()
    packed.rename(moved)
    assert _notices(moved, tmp_path / "pass3") == first
    text = first["THIRD_PARTY_NOTICES.txt"].decode()
    assert str(apk) not in text and "sha256" not in text
    # the shipped NOTICE text (Apache-2.0 s.4(d)) and real copyright lines reach the notices; no template placeholders
    assert "Apache XML Commons XML APIs" in text and "Copyright 1999-2009 The Apache Software Foundation" in text
    assert "<year>" not in text and "<owner>" not in text and "<copyright holders>" not in text


def test_packed_notices_are_recognised_and_not_read_back(tmp_path: Path) -> None:
    apk = apk_dir() / "appium-uiautomator2-server-androidTest.apk"
    _notices(apk, tmp_path / "n")
    packed = tmp_path / "p.apk"
    _pack(apk, tmp_path / "n", packed)
    out = tmp_path / "r.json"
    assert main(["scan", str(packed), "--format", "json", "--output", str(out), "--no-progress"]) in (0, 1)
    report = json.loads(out.read_text())
    kinds = {lf["path"]: lf["kind"] for lf in report["licence_files"]}
    assert kinds["assets/licenses/THIRD_PARTY_NOTICES.txt"] == "licensegate-notices"
    assert kinds["assets/licenses/THIRD_PARTY_NOTICES.html"] == "licensegate-notices"
