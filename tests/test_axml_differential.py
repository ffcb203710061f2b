"""The fast AXML reader against androguard's AXMLPrinter (the oracle) on every APK manifest in the corpus."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from licensegate.android.manifest import _manifest, _read_axml, _read_axml_androguard


@pytest.mark.parametrize("artifact", ["gpl-player.apk", "traps.apk", "clean-app.apk"])
def test_fast_reader_agrees_with_androguard(corpus: Path, artifact: str) -> None:
    raw = zipfile.ZipFile(corpus / artifact).read("AndroidManifest.xml")
    ours = _manifest(_read_axml(raw, artifact), "axml", artifact)
    assert ours == _read_axml_androguard(raw, artifact)
    assert ours.package and ours.version_code is not None and ours.min_sdk is not None
