"""LicenseGate: find copyleft native code and on-device models in mobile builds, with evidence.

The library entry point is `licensegate.check(path, policy=None) -> Report` (docs/library.md).
"""

__version__ = "0.1.0"

from .pipeline import check  # noqa: E402  (after __version__, which the modules it loads read)

__all__ = ["__version__", "check"]
