"""Manifest tests: binary AXML built by a small encoder of the ResXMLTree chunk format (AOSP
libs/androidfw/include/androidfw/ResourceTypes.h), protobuf XML built from aapt2 Resources.proto field numbers."""

from __future__ import annotations

import random
import struct

import pytest

from licensegate.android.manifest import (
    ANDROID_NS,
    read_axml_manifest,
    read_bundle_config,
    read_proto_manifest,
)
from licensegate.errors import MemberError

# Res_value data types.
TYPE_REFERENCE, TYPE_STRING, TYPE_INT_DEC, TYPE_INT_HEX, TYPE_INT_BOOLEAN = 0x01, 0x03, 0x10, 0x11, 0x12

# android.R.attr ids, needed in the resource map for the android-namespace attribute names.
ATTR_IDS = {
    "label": 0x01010001,
    "name": 0x01010003,
    "minSdkVersion": 0x0101020C,
    "versionCode": 0x0101021B,
    "versionName": 0x0101021C,
    "targetSdkVersion": 0x01010270,
    "extractNativeLibs": 0x010104EA,
}

Attr = tuple[str | None, str, int, int | str]  # (namespace, name, type, value)
Elem = tuple[str, list[Attr], list["Elem"]]


class AxmlEncoder:
    """Encodes an element tree as binary AXML the way aapt does (UTF-16 string pool, resource map)."""

    def __init__(self, root: Elem, blank_attribute_names: bool = False) -> None:
        self.root = root
        self.blank = blank_attribute_names
        self.strings: list[str] = []
        # Attribute names with resource ids must come first, in resource-map order.
        for name, _res_id in sorted(ATTR_IDS.items(), key=lambda kv: kv[1]):
            self.strings.append(name)
        self.res_ids = [ATTR_IDS[s] for s in self.strings]

    def index(self, text: str) -> int:
        if text not in self.strings:
            self.strings.append(text)
        return self.strings.index(text)

    def encode(self) -> bytes:
        body = b""
        body += self.chunk(0x0100, struct.pack("<II", self.index("android"), self.index(ANDROID_NS)), line=1)
        body += self.element(self.root)
        body += self.chunk(0x0101, struct.pack("<II", self.index("android"), self.index(ANDROID_NS)), line=1)
        pool = self.string_pool()
        res_map = struct.pack("<HHI", 0x0180, 8, 8 + 4 * len(self.res_ids)) + b"".join(
            struct.pack("<I", r) for r in self.res_ids
        )
        content = pool + res_map + body
        return struct.pack("<HHI", 0x0003, 8, 8 + len(content)) + content

    def chunk(self, type_: int, payload: bytes, line: int = 1) -> bytes:
        return struct.pack("<HHIII", type_, 0x10, 0x10 + len(payload), line, 0xFFFFFFFF) + payload

    def element(self, elem: Elem) -> bytes:
        name, attrs, children = elem
        encoded = b""
        for ns, attr_name, type_, value in attrs:
            ns_idx = self.index(ns) if ns else 0xFFFFFFFF
            name_idx = self.index(attr_name)
            if type_ == TYPE_STRING:
                raw = data = self.index(str(value))
            else:
                raw, data = 0xFFFFFFFF, int(value) & 0xFFFFFFFF
            encoded += struct.pack("<IIIHBBI", ns_idx, name_idx, raw, 8, 0, type_, data)
        head = struct.pack("<IIHHHHHH", 0xFFFFFFFF, self.index(name), 0x14, 0x14, len(attrs), 0, 0, 0)
        out = self.chunk(0x0102, head + encoded)
        for child in children:
            out += self.element(child)
        return out + self.chunk(0x0103, struct.pack("<II", 0xFFFFFFFF, self.index(name)))

    def string_pool(self) -> bytes:
        # Collect every string first (element() registers them), then lay out the pool.
        data = b""
        offsets = []
        for i, text in enumerate(self.strings):
            offsets.append(len(data))
            shown = "" if self.blank and i < len(self.res_ids) else text
            utf16 = shown.encode("utf-16-le")
            data += struct.pack("<H", len(shown)) + utf16 + b"\0\0"
        data += b"\0" * (-len(data) % 4)
        header_size = 0x1C
        strings_start = header_size + 4 * len(self.strings)
        head = struct.pack(
            "<HHIIIIII", 0x0001, header_size, strings_start + len(data), len(self.strings), 0, 0, strings_start, 0
        )
        return head + b"".join(struct.pack("<I", o) for o in offsets) + data


def manifest_tree(extract: int | None = 0) -> Elem:
    app_attrs: list[Attr] = [(ANDROID_NS, "label", TYPE_STRING, "Demo Player")]
    if extract is not None:
        app_attrs.append((ANDROID_NS, "extractNativeLibs", TYPE_INT_BOOLEAN, 0xFFFFFFFF if extract else 0))
    return (
        "manifest",
        [
            (ANDROID_NS, "versionCode", TYPE_INT_DEC, 4021),
            (ANDROID_NS, "versionName", TYPE_STRING, "4.2.1"),
            (None, "package", TYPE_STRING, "com.example.player"),
        ],
        [
            (
                "uses-sdk",
                [(ANDROID_NS, "minSdkVersion", TYPE_INT_DEC, 23), (ANDROID_NS, "targetSdkVersion", TYPE_INT_DEC, 34)],
                [],
            ),
            (
                "application",
                app_attrs,
                [
                    ("uses-native-library", [(ANDROID_NS, "name", TYPE_STRING, "libOpenCL.so")], []),
                    ("activity", [(ANDROID_NS, "name", TYPE_STRING, ".Main")], []),
                ],
            ),
        ],
    )


def encode_axml(tree: Elem, blank_attribute_names: bool = False) -> bytes:
    encoder = AxmlEncoder(tree, blank_attribute_names)
    encoder.encode()  # first pass registers every string
    return encoder.encode()


def test_axml_manifest() -> None:
    manifest = read_axml_manifest(encode_axml(manifest_tree()))
    assert manifest.format == "axml"
    assert manifest.package == "com.example.player"
    assert manifest.version_code == 4021
    assert manifest.version_name == "4.2.1"
    assert (manifest.min_sdk, manifest.target_sdk) == (23, 34)
    assert manifest.extract_native_libs is False
    assert manifest.application_label == "Demo Player"
    assert manifest.uses_native_libraries == ["libOpenCL.so"]


def test_axml_extract_native_libs_absent_or_true() -> None:
    assert read_axml_manifest(encode_axml(manifest_tree(extract=None))).extract_native_libs is None
    assert read_axml_manifest(encode_axml(manifest_tree(extract=1))).extract_native_libs is True


def test_axml_obfuscated_attribute_names_resolve_by_resource_id() -> None:
    """Packers blank android attribute names in the string pool; Android (and we) go by resource id."""
    manifest = read_axml_manifest(encode_axml(manifest_tree(), blank_attribute_names=True))
    assert manifest.version_code == 4021
    assert manifest.min_sdk == 23


def test_axml_hex_and_reference_values() -> None:
    tree: Elem = (
        "manifest",
        [
            (ANDROID_NS, "versionCode", TYPE_INT_HEX, 0x10),
            (ANDROID_NS, "versionName", TYPE_REFERENCE, 0x7F0B0001),
            (None, "package", TYPE_STRING, "a.b"),
        ],
        [],
    )
    manifest = read_axml_manifest(encode_axml(tree))
    assert manifest.version_code == 16
    assert manifest.version_name == "@0x7f0b0001"
    assert manifest.min_sdk is None and manifest.extract_native_libs is None


def test_axml_rejects_garbage(capfd: pytest.CaptureFixture[str]) -> None:
    for bad in (b"", b"<?xml version='1.0'?><manifest/>", b"\x03\x00\x08\x00\xff\xff\x00\x00" + b"\x01" * 64):
        with pytest.raises(MemberError):
            read_axml_manifest(bad, "AndroidManifest.xml")
    good = encode_axml(manifest_tree())
    with pytest.raises(MemberError):
        read_axml_manifest(good[: len(good) // 3])
    out, err = capfd.readouterr()
    assert "androguard" not in err and "ERROR" not in err  # loguru output is silenced


def test_axml_not_manifest_root() -> None:
    with pytest.raises(MemberError, match="not <manifest>"):
        read_axml_manifest(encode_axml(("PreferenceScreen", [], [])))


def test_axml_fuzz_raises_only_member_error() -> None:
    good = encode_axml(manifest_tree())
    rng = random.Random(7)
    for _ in range(200):
        buf = bytearray(good)
        for _ in range(rng.randint(1, 6)):
            buf[rng.randrange(8, len(buf))] = rng.randrange(256)
        try:
            read_axml_manifest(bytes(buf))
        except MemberError:
            pass


# -- protobuf XML ----------------------------------------------------------------------------------------


def varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = b""
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out += bytes([byte | 0x80])
        else:
            return out + bytes([byte])


def field_bytes(number: int, payload: bytes) -> bytes:
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def field_varint(number: int, value: int) -> bytes:
    return varint(number << 3) + varint(value)


def pb_attr(name: str, value: str, compiled: bytes | None = None, namespace: str = ANDROID_NS) -> bytes:
    out = (field_bytes(1, namespace.encode()) if namespace else b"") + field_bytes(2, name.encode())
    out += field_bytes(3, value.encode())
    if name in ATTR_IDS:
        out += field_varint(5, ATTR_IDS[name])
    if compiled is not None:
        out += field_bytes(6, compiled)
    return out


def prim_int(value: int) -> bytes:
    return field_bytes(7, field_varint(6, value))  # Item.prim -> Primitive.int_decimal_value


def prim_bool(value: bool) -> bytes:
    return field_bytes(7, field_varint(8, int(value)))  # Item.prim -> Primitive.boolean_value


def pb_element(name: str, attrs: list[bytes], children: tuple[bytes, ...] = (), ns_decl: bool = False) -> bytes:
    out = b""
    if ns_decl:
        out += field_bytes(1, field_bytes(1, b"android") + field_bytes(2, ANDROID_NS.encode()))
    out += field_bytes(3, name.encode())
    out += b"".join(field_bytes(4, a) for a in attrs)
    out += b"".join(field_bytes(5, field_bytes(1, c)) for c in children)  # child XmlNode{element=1}
    return out


def proto_manifest() -> bytes:
    uses_sdk = pb_element(
        "uses-sdk", [pb_attr("minSdkVersion", "24", prim_int(24)), pb_attr("targetSdkVersion", "35", prim_int(35))]
    )
    native = pb_element("uses-native-library", [pb_attr("name", "libcdsprpc.so")])
    application = pb_element(
        "application",
        [
            pb_attr("label", "@string/app_name", field_bytes(1, field_varint(2, 0x7F0F001B))),  # Item.ref
            pb_attr("extractNativeLibs", "true", prim_bool(True)),
        ],
        (native,),
    )
    root = pb_element(
        "manifest",
        [
            pb_attr("versionCode", "70", prim_int(70)),
            pb_attr("versionName", "7.0-beta"),
            pb_attr("package", "org.example.bundle", namespace=""),
            pb_attr("versionCodeMajor", "1", prim_int(1)),
        ],
        (uses_sdk, application),
        ns_decl=True,
    )
    return field_bytes(1, root) + field_bytes(3, field_varint(1, 1))  # XmlNode{element, source}


def test_proto_manifest() -> None:
    manifest = read_proto_manifest(proto_manifest())
    assert manifest.format == "proto"
    assert manifest.package == "org.example.bundle"
    assert manifest.version_code == (1 << 32) | 70
    assert manifest.version_name == "7.0-beta"
    assert (manifest.min_sdk, manifest.target_sdk) == (24, 35)
    assert manifest.extract_native_libs is True
    assert manifest.application_label == "@0x7f0f001b"
    assert manifest.uses_native_libraries == ["libcdsprpc.so"]


def test_proto_manifest_negative_int32_and_string_fallback() -> None:
    root = pb_element("manifest", [pb_attr("versionCode", "-1", prim_int(-1)), pb_attr("versionName", "x")])
    manifest = read_proto_manifest(field_bytes(1, root))
    assert manifest.version_code == -1 and manifest.version_name == "x"


def test_proto_manifest_errors() -> None:
    good = proto_manifest()
    with pytest.raises(MemberError, match="malformed"):
        read_proto_manifest(good[:-7])
    with pytest.raises(MemberError, match="no root"):
        read_proto_manifest(field_bytes(2, b"just text"))
    with pytest.raises(MemberError):
        read_proto_manifest(b"\x0b\x0c")  # group wire types are not used by aapt2
    deep = pb_element("x", [])
    for _ in range(100):
        deep = pb_element("x", [], (deep,))
    with pytest.raises(MemberError, match="deeper"):
        read_proto_manifest(field_bytes(1, deep))
    rng = random.Random(3)
    for _ in range(300):
        buf = bytearray(good)
        for _ in range(rng.randint(1, 4)):
            buf[rng.randrange(len(buf))] = rng.randrange(256)
        try:
            read_proto_manifest(bytes(buf))
        except MemberError:
            pass


def test_bundle_config() -> None:
    data = field_bytes(1, field_bytes(2, b"1.17.2")) + field_bytes(2, b"") + field_varint(8, 0)
    config = read_bundle_config(data)
    assert config.bundletool_version == "1.17.2"
    assert config.bundle_type == "regular"
    assert read_bundle_config(field_varint(8, 2)).bundle_type == "asset-only"
    assert read_bundle_config(b"").bundletool_version is None
    with pytest.raises(MemberError):
        read_bundle_config(b"\x0a\xff")
