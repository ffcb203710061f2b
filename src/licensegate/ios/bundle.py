"""Info.plist of an Apple bundle (binary or XML property list) -> AppleBundleInfo.

Keys: Apple "Information Property List" reference (CFBundleIdentifier, CFBundleShortVersionString,
CFBundleVersion, CFBundleExecutable, MinimumOSVersion / LSMinimumSystemVersion, CFBundleSupportedPlatforms,
DTPlatformName).
"""

from __future__ import annotations

import plistlib
import xml.parsers.expat

from licensegate.errors import MemberError

from .._dataclasses import dataclass, field

__all__ = ["AppleBundleInfo", "read_info_plist"]


@dataclass
class AppleBundleInfo:
    """What a scan needs from an app's, framework's or extension's Info.plist."""

    bundle_id: str | None  # CFBundleIdentifier
    short_version: str | None  # CFBundleShortVersionString (marketing version)
    build_version: str | None  # CFBundleVersion
    executable: str | None  # CFBundleExecutable: the Mach-O file name inside the bundle
    minimum_os: str | None  # MinimumOSVersion (iOS family) or LSMinimumSystemVersion (macOS)
    platform: str | None  # DTPlatformName ("iphoneos"), else the first CFBundleSupportedPlatforms entry
    name: str | None = None  # CFBundleName
    package_type: str | None = None  # CFBundlePackageType: "APPL", "FMWK", "XPC!", ...
    supported_platforms: list[str] = field(default_factory=list)


def read_info_plist(data: bytes | memoryview, member: str = "Info.plist") -> AppleBundleInfo:
    """Parse an Info.plist; raises MemberError when it is not a property list holding a dictionary."""
    raw = bytes(data)
    try:
        # plistlib detects the binary (bplist00) and XML forms itself.
        plist = plistlib.loads(raw)
    except (plistlib.InvalidFileException, xml.parsers.expat.ExpatError, ValueError, TypeError, KeyError,
            IndexError, OverflowError, RecursionError, UnicodeDecodeError) as exc:  # fmt: skip
        raise MemberError(f"{member}: unreadable property list ({type(exc).__name__}: {exc})") from exc
    if not isinstance(plist, dict):
        raise MemberError(f"{member}: property list root is a {type(plist).__name__}, not a dictionary")

    platforms = plist.get("CFBundleSupportedPlatforms")
    supported = [p for p in platforms if isinstance(p, str)] if isinstance(platforms, list) else []
    platform = _text(plist.get("DTPlatformName")) or (supported[0].lower() if supported else None)
    return AppleBundleInfo(
        bundle_id=_text(plist.get("CFBundleIdentifier")),
        short_version=_text(plist.get("CFBundleShortVersionString")),
        build_version=_text(plist.get("CFBundleVersion")),
        executable=_text(plist.get("CFBundleExecutable")),
        minimum_os=_text(plist.get("MinimumOSVersion")) or _text(plist.get("LSMinimumSystemVersion")),
        platform=platform,
        name=_text(plist.get("CFBundleName")),
        package_type=_text(plist.get("CFBundlePackageType")),
        supported_platforms=supported,
    )


def _text(value: object) -> str | None:
    # Versions are strings by spec, but hand-written plists sometimes store numbers.
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None
