"""Locate (and if needed build) the fixture corpus made by ``fixtures/build.py``.

``corpus_dir()`` runs the build script once per process; the script itself returns
in well under a second when the cached corpus is current, and downloads nothing
once its Debian packages are cached.  A failed build raises ``CorpusBuildError``
carrying the script's output, so tests fail with the build's error message
instead of being skipped.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BUILD_SCRIPT = REPO / "fixtures" / "build.py"
EXPECTED_DIR = REPO / "fixtures" / "expected"


class CorpusBuildError(RuntimeError):
    """fixtures/build.py failed."""


def cache_dir() -> Path:
    env = os.environ.get("LICENSEGATE_FIXTURE_CACHE")
    if env:
        return Path(env).expanduser().resolve()
    return Path.home() / ".cache" / "licensegate" / "fixtures"


@functools.lru_cache(maxsize=1)
def corpus_dir() -> Path:
    """Directory holding the built artifacts (``gpl-player.apk`` ... and ``manifest.json``)."""
    proc = subprocess.run(
        [sys.executable, str(BUILD_SCRIPT)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=REPO,
    )
    if proc.returncode != 0:
        raise CorpusBuildError(f"fixtures/build.py failed with exit code {proc.returncode}:\n{proc.stdout}")
    out = cache_dir() / "out"
    manifest = out / "manifest.json"
    if not manifest.is_file():
        raise CorpusBuildError(f"fixtures/build.py succeeded but {manifest} is missing:\n{proc.stdout}")
    missing = [a["name"] for a in json.loads(manifest.read_text())["artifacts"] if not (out / a["name"]).exists()]
    if missing:
        raise CorpusBuildError(f"corpus in {out} lacks {', '.join(missing)}:\n{proc.stdout}")
    return out


def expected(artifact: str) -> dict:
    """The committed expected answer for one artifact, e.g. ``expected("gpl-player.apk")``."""
    return json.loads((EXPECTED_DIR / f"{artifact.rstrip('/')}.json").read_text())
