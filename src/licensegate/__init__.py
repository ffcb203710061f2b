"""LicenseGate: find copyleft native code and on-device models in mobile builds, with evidence."""

__version__ = "0.1.0"
