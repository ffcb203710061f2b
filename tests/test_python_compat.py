"""The Python 3.10 path: every TOML read goes through licensegate._toml, which falls back to tomli."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_no_module_imports_tomllib_directly() -> None:
    offenders = [p.relative_to(ROOT).as_posix() for p in (ROOT / "src" / "licensegate").rglob("*.py")
                 if p.name != "_toml.py" and any(line.strip().startswith(("import tomllib", "import tomli", "from tomllib"))
                                                  for line in p.read_text(encoding="utf-8").splitlines())]
    assert offenders == []


def test_data_files_load_through_tomli_when_tomllib_is_missing() -> None:
    """As on Python 3.10: `tomllib` cannot be imported; the DEX package table, the signatures, the model licences and a
    policy file still load (android/dex.py once imported tomllib unconditionally and every APK with a DEX failed)."""
    import tomli  # a test dependency on every Python: this test must run, not skip

    assert tomli.loads("a = 1") == {"a": 1}
    code = textwrap.dedent(
        """
        import sys
        sys.modules["tomllib"] = None  # what Python 3.10 has: import tomllib raises ImportError
        from pathlib import Path
        from licensegate import _toml
        assert _toml.toml.__name__ == "tomli", _toml.toml
        from licensegate.android.dex import load_java_packages
        from licensegate.signatures import _default_db
        from licensegate.ml.licences import to_spdx
        from licensegate import policy
        assert load_java_packages()
        assert _default_db().libraries
        assert to_spdx("Apache License 2.0") == "Apache-2.0"
        p = Path(sys.argv[1])
        p.write_text('[app]\\nlicense = "MIT"\\n', encoding="utf-8")
        assert policy.load(p).app_license == "MIT"
        bad = p.with_name("bad.toml")
        bad.write_text("[app\\n", encoding="utf-8")
        try:
            policy.load(bad)
        except Exception as exc:
            assert "invalid TOML" in str(exc), exc
        else:
            raise AssertionError("invalid TOML accepted")
        print("ok")
        """
    )
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run([sys.executable, "-c", code, str(Path(tmp) / "p.toml")], capture_output=True, text=True,
                             timeout=300, env={**os.environ, "LICENSEGATE_NO_CACHE": "1"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_an_apk_with_dex_scans_on_this_python(corpus: Path, tmp_path: Path) -> None:
    """The CLI on the Python running the tests (.ci/run runs this module under the oldest and newest Python the
    project claims): an APK whose DEX loads native code scans to its verdict, not to an internal error."""
    import json

    from licensegate.cli import main

    out = tmp_path / "r.json"
    assert main(["scan", str(corpus / "gpl-player.apk"), "--format", "json", "--output", str(out), "--no-progress"]) == 1
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["load_sites"] and all(s["dex"] == "classes.dex" for s in report["load_sites"])
    assert any(f["rule"] == "app-links-copyleft" and f["chain"][0].startswith("classes.dex (") for f in report["findings"])


def test_requires_python_claims_the_tested_versions() -> None:
    """pyproject.toml claims only the Python versions .ci/run tests: 3.10 (oldest) to 3.13 (newest)."""
    from licensegate import _toml

    meta = _toml.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert meta["requires-python"] == ">=3.10,<3.14"
    run = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "3.10" in run and "3.13" in run
