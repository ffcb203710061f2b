"""One base exception; each subclass maps to its own exit code in the CLI."""

from __future__ import annotations


class LicenseGateError(Exception):
    """Base of every error LicenseGate raises on purpose."""

    exit_code = 3


class InputError(LicenseGateError):
    """The artifact, a member of it or another input file is unreadable, corrupt or hostile (exit 2)."""

    exit_code = 2


class UsageError(LicenseGateError):
    """Bad command-line usage or a bad policy file (exit 2)."""

    exit_code = 2


class MemberError(InputError):
    """One member of an artifact cannot be parsed; the scan reports it and goes on."""


class DataError(LicenseGateError):
    """A data file shipped with LicenseGate (a knowledge base, the signatures) is missing or damaged (exit 4)."""

    exit_code = 4
