"""Info.plist tests on property lists written by plistlib in both binary and XML form."""

from __future__ import annotations

import plistlib

import pytest

from licensegate.errors import MemberError
from licensegate.ios.bundle import read_info_plist

APP = {
    "CFBundleIdentifier": "com.example.Player",
    "CFBundleShortVersionString": "4.2.1",
    "CFBundleVersion": "4021",
    "CFBundleExecutable": "Player",
    "CFBundleName": "Player",
    "CFBundlePackageType": "APPL",
    "MinimumOSVersion": "15.0",
    "CFBundleSupportedPlatforms": ["iPhoneOS"],
    "DTPlatformName": "iphoneos",
    "UIRequiredDeviceCapabilities": ["arm64"],
}


@pytest.mark.parametrize("fmt", [plistlib.FMT_BINARY, plistlib.FMT_XML])
def test_app_info_plist(fmt: plistlib.PlistFormat) -> None:
    info = read_info_plist(plistlib.dumps(APP, fmt=fmt))
    assert info.bundle_id == "com.example.Player"
    assert (info.short_version, info.build_version) == ("4.2.1", "4021")
    assert info.executable == "Player"
    assert info.minimum_os == "15.0"
    assert info.platform == "iphoneos"
    assert info.package_type == "APPL"
    assert info.supported_platforms == ["iPhoneOS"]


def test_framework_plist_falls_back() -> None:
    framework = {
        "CFBundleIdentifier": "org.videolan.vlckit",
        "CFBundleExecutable": "VLCKit",
        "CFBundleVersion": 3,  # hand-written plists sometimes use numbers
        "CFBundleSupportedPlatforms": ["MacOSX"],
        "LSMinimumSystemVersion": "10.13",
        "CFBundlePackageType": "FMWK",
    }
    info = read_info_plist(plistlib.dumps(framework, fmt=plistlib.FMT_BINARY), "Frameworks/VLCKit.framework/Info.plist")
    assert info.build_version == "3"
    assert info.short_version is None
    assert info.minimum_os == "10.13"
    assert info.platform == "macosx"


def test_missing_keys_are_none() -> None:
    info = read_info_plist(plistlib.dumps({}))
    assert info.bundle_id is None and info.executable is None and info.platform is None


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not a plist",
        b"bplist00\x00\x01",
        plistlib.dumps(APP, fmt=plistlib.FMT_BINARY)[:-20],
        plistlib.dumps(APP, fmt=plistlib.FMT_XML)[:-40],
        b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]>"
        b"<plist><dict><key>a</key><string>&a;</string></dict></plist>",
    ],
)
def test_bad_plist(data: bytes) -> None:
    with pytest.raises(MemberError, match="Info.plist"):
        read_info_plist(data)


def test_root_not_a_dict() -> None:
    with pytest.raises(MemberError, match="not a dictionary"):
        read_info_plist(plistlib.dumps(["a", "b"]))
