"""The package's own files (data, templates), as paths under the directory this module is in.

`importlib.resources.files("licensegate")` gives the same `pathlib.Path` for an installed package, but importing
`importlib.resources` costs a scan ~29M instructions (callgrind; ~12 ms on the machine of docs/performance.md, 6%
of `scan tiny.apk`) for that one answer. The package cannot run from a zip file anyway: its compiled module and its
memory-mapped caches need real files.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).parent


def package_file(*parts: str) -> Path:
    """The path of a file shipped in the package: ``package_file("data", "rules.toml")``."""
    return PACKAGE_DIR.joinpath(*parts)
