"""The one TOML reader: `tomllib` from Python 3.11 on, the `tomli` backport (same API) on 3.10.

Every module reads TOML through this import so that no module can forget the fallback (android/dex.py once did, and
every APK with a DEX failed under Python 3.10 with "No module named 'tomllib'").
"""

from __future__ import annotations

try:
    import tomllib as toml
except ImportError:  # Python 3.10: pyproject.toml depends on tomli there
    import tomli as toml  # type: ignore[no-redef]

loads = toml.loads
TOMLDecodeError: type[ValueError] = toml.TOMLDecodeError

__all__ = ["TOMLDecodeError", "loads", "toml"]
