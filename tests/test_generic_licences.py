"""Generic licence texts in a binary no signature identifies: one licence is a medium-confidence conclusion, a list
of several (a licence picker, a bundle of notices) is not a conclusion at all."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from licensegate.cli import main
from natives import android_lib, have_clang

pytestmark = pytest.mark.skipif(not have_clang(), reason="clang is installed by .ci/run")


def scan_one(tmp_path: Path, capsys: pytest.CaptureFixture[str], strings: list[str]) -> dict:
    src = "".join(f'const char *s{i} = "{s}";\n' for i, s in enumerate(strings)) + "int f(void) { return 0; }\n"
    lib = android_lib(tmp_path / "libthing.so", src)
    apk = tmp_path / "t.apk"
    with zipfile.ZipFile(apk, "w") as zf:
        zf.writestr("AndroidManifest.xml", b"\0" * 8)
        zf.write(lib, "lib/arm64-v8a/libthing.so")
    main(["scan", str(apk), "--format", "json"])
    return next(c for c in json.loads(capsys.readouterr().out)["components"] if c["path"] == "lib/arm64-v8a/libthing.so")


def test_one_licence_text_is_a_medium_conclusion(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    comp = scan_one(tmp_path, capsys, ["This library is free software; see https://www.gnu.org/licenses/old-licenses/lgpl-2.1.html"])
    assert (comp["family"], comp["confidence"]) == ("lgpl", "medium")
    assert comp["evidence"] and comp["evidence"][0]["offset"] is not None


def test_a_lone_gpl_token_is_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    comp = scan_one(tmp_path, capsys, ["GPL", "mode: GPL compatible"])
    assert comp["license"] is None and comp["family"] == "unknown"


def test_a_licence_picker_is_not_a_conclusion(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    comp = scan_one(tmp_path, capsys, [
        "https://www.gnu.org/licenses/old-licenses/gpl-2.0.html",
        "https://www.gnu.org/licenses/old-licenses/lgpl-2.1.html",
        "https://www.gnu.org/licenses/agpl-3.0.html",
    ])
    assert comp["license"] is None and comp["family"] == "unknown"
    assert len(comp["details"]["license_texts"]) == 3 and "not conclusive" in comp["details"]["license_source"]
