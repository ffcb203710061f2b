"""Start-up: what a scan of a small app loads (docs/performance.md, "Where the time goes"). Whole-process times are
measured by benchmarks/run.py, never asserted here; these tests keep the modules a small scan does not need out."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

_PROBE = """
import contextlib, io, json, sys
from licensegate.cli import main
with contextlib.redirect_stdout(io.StringIO()) as out:
    code = main(["scan", sys.argv[1], "--format", "json"])
report = json.loads(out.getvalue())
print(json.dumps([code, report["summary"], sorted(m for m in sys.modules if m.split(".")[0] in
                  ("concurrent", "difflib", "logging"))]))
"""


def test_a_small_scan_hashes_on_the_spot_without_a_thread_pool(tmp_path: Path, corpus: Path) -> None:
    app = tmp_path / "app.apk"
    with zipfile.ZipFile(corpus / "clean-app.apk") as src, zipfile.ZipFile(app, "w") as dst:
        for name in ("AndroidManifest.xml", "lib/arm64-v8a/libapp_clean.so"):
            dst.writestr(name, src.read(name))
    out = subprocess.run([sys.executable, "-c", _PROBE, str(app)], capture_output=True, text=True, check=True)
    code, summary, loaded = json.loads(out.stdout)
    assert code == 0 and summary["components"] >= 1, summary
    assert loaded == []  # concurrent.futures (with logging: 10 ms) and difflib (usage errors) stay unloaded


def test_version_loads_no_report_model_or_dataclasses() -> None:
    probe = ("import json, sys\nfrom licensegate.cli import main\ntry:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
             "print(json.dumps(sorted(m for m in sys.modules if m in ('dataclasses', 'inspect') or m.startswith(('licensegate.report', 'licensegate.model')))))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("licensegate ")
    assert json.loads(out.stdout.splitlines()[-1]) == []  # ~20 ms of imports a version check does not need
