"""Android manifests: binary AXML (inside an APK) and aapt2 protobuf XML (inside an AAB), and BundleConfig.pb.

AXML is read by a small chunk reader, with androguard's AXMLPrinter (imported lazily, loguru silenced) as the
fallback for bent documents. The protobuf
forms are read by a small wire-format reader, with field numbers from AOSP `tools/aapt2/Resources.proto`
(XmlNode, XmlElement, XmlAttribute, Item, Primitive) and bundletool `src/main/proto/config.proto`
(BundleConfig, Bundletool).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Literal

from licensegate.errors import MemberError

from .._dataclasses import dataclass, field

__all__ = [
    "AndroidManifest",
    "BundleConfig",
    "read_axml_manifest",
    "read_bundle_config",
    "read_proto_manifest",
]

ANDROID_NS = "http://schemas.android.com/apk/res/android"

# Nesting deeper than this is hostile: a real manifest is 3-4 levels deep.
_MAX_DEPTH = 64

AttrValue = str | int | bool


@dataclass
class AndroidManifest:
    """What a scan needs from AndroidManifest.xml."""

    package: str | None
    version_code: int | None  # includes android:versionCodeMajor in the high 32 bits when present
    version_name: str | None  # a literal, or "@0x7f..." when it refers to a resource
    min_sdk: int | None
    target_sdk: int | None
    compile_sdk: int | None
    extract_native_libs: bool | None  # <application android:extractNativeLibs>; None when absent
    application_label: str | None  # a literal, or "@0x7f..." when it refers to a resource
    uses_native_libraries: list[str] = field(default_factory=list)  # <uses-native-library android:name>
    format: Literal["axml", "proto", "xml"] = "axml"
    # Classes the manifest names: <application android:name> and its activities, services, receivers, providers
    # (relative ".Main" names completed with the package). The app's own code lives beside them.
    class_names: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class BundleConfig:
    """BundleConfig.pb at the root of an AAB."""

    bundletool_version: str | None
    bundle_type: Literal["regular", "apex", "asset-only"] | None


@dataclass
class _Element:
    """A format-neutral element: android-namespace attributes keyed by local name, others by plain name."""

    name: str
    attributes: dict[str, AttrValue] = field(default_factory=dict)
    children: list[_Element] = field(default_factory=list)

    def child(self, name: str) -> _Element | None:
        return next((c for c in self.children if c.name == name), None)


# -- binary AXML -----------------------------------------------------------------------------------------


def read_axml_manifest(data: bytes | memoryview, member: str = "AndroidManifest.xml") -> AndroidManifest:
    """Parse a binary AXML manifest (APK). Raises MemberError on data that is not a readable manifest.

    The chunk format is read directly (fast: importing androguard alone costs ~0.3 s, more than scanning a typical
    APK); androguard's more forgiving AXMLPrinter is the fallback for documents a packer has bent out of shape,
    and the oracle the tests compare against.
    """
    raw = bytes(data)
    # Chunk header: type (0x0003, though packers change it and Android ignores it), header size 8, size.
    if len(raw) < 8 or raw[2:4] != b"\x08\x00":
        raise MemberError(f"{member}: not a binary AXML document")
    try:
        return _manifest(_read_axml(raw, member), "axml", member)
    except MemberError as first:
        try:
            return _read_axml_androguard(raw, member)
        except MemberError:
            raise first from None


def _read_axml_androguard(raw: bytes, member: str) -> AndroidManifest:
    _silence_androguard()
    from androguard.core.axml import AXMLPrinter

    try:
        printer = AXMLPrinter(raw)
        root = printer.get_xml_obj()
    except Exception as exc:  # androguard raises anything from struct.error to lxml errors on bad input
        raise MemberError(f"{member}: unreadable AXML ({type(exc).__name__}: {exc})") from exc
    if root is None or not printer.is_valid():
        raise MemberError(f"{member}: unreadable AXML (no root element)")
    element = _from_lxml(root, 0, member)
    return _manifest(element, "axml", member)


# Framework attribute resource ids (android.R.attr), used when a packer blanks the attribute names.
_ATTR_IDS = {
    0x01010001: "label", 0x01010003: "name", 0x0101020C: "minSdkVersion", 0x0101021B: "versionCode",
    0x0101021C: "versionName", 0x01010270: "targetSdkVersion", 0x010104EA: "extractNativeLibs",
    0x01010572: "compileSdkVersion", 0x01010576: "versionCodeMajor",
}  # fmt: skip


def _read_axml(raw: bytes, member: str) -> _Element:
    """The element tree of an AXML document: string pool, resource map, then start/end element chunks."""
    size = len(raw)
    strings: list[str] = []
    res_ids: list[int] = []
    stack: list[_Element] = []
    root: _Element | None = None
    pos = struct.unpack_from("<H", raw, 2)[0]  # past the document header
    while pos + 8 <= size:
        ctype, hsize, csize = struct.unpack_from("<HHI", raw, pos)
        if csize < 8 or pos + csize > size or hsize > csize:
            raise MemberError(f"{member}: AXML chunk at offset {pos} has a bad size ({csize})")
        if ctype == 0x0001:
            strings = _string_pool(raw, pos, csize, member)
        elif ctype == 0x0180:
            res_ids = [v for (v,) in struct.iter_unpack("<I", raw[pos + hsize : pos + csize - (csize - hsize) % 4])]
        elif ctype == 0x0102:
            root = _open_element(stack, root, _start_element(raw, pos, hsize, csize, strings, res_ids, member), member)
        elif ctype == 0x0103 and stack:
            stack.pop()
        pos += csize
    if root is None:
        raise MemberError(f"{member}: AXML document has no root element")
    return root


def _open_element(stack: list[_Element], root: _Element | None, element: _Element, member: str) -> _Element | None:
    """Attach a started element to its parent (or make it the root) and open it; the root."""
    if stack:
        stack[-1].children.append(element)
    elif root is None:
        root = element
    if len(stack) >= _MAX_DEPTH:
        raise MemberError(f"{member}: elements nested deeper than {_MAX_DEPTH}")
    stack.append(element)
    return root


def _start_element(raw: bytes, pos: int, hsize: int, csize: int, strings: list[str], res_ids: list[int],
                   member: str) -> _Element:
    """A start-element chunk: the element's name and attributes (named by the string pool, else by resource id)."""
    ext = pos + hsize
    if ext + 20 > pos + csize:
        raise MemberError(f"{member}: truncated start-element chunk at offset {pos}")
    _ns, name_i, attr_start, attr_size, attr_count = struct.unpack_from("<IIHHH", raw, ext)
    element = _Element(name=_str_at(strings, name_i))
    at = ext + attr_start
    if attr_size < 20 or at + attr_count * attr_size > pos + csize:
        raise MemberError(f"{member}: attributes of <{element.name}> run past their chunk")
    for i in range(attr_count):
        _a_ns, a_name, a_raw, _vsize, _res0, vtype, vdata = struct.unpack_from("<IIIHBBI", raw, at + i * attr_size)
        name = _str_at(strings, a_name)
        if not name and a_name < len(res_ids):
            name = _ATTR_IDS.get(res_ids[a_name], "")
        if name:
            element.attributes[name] = _typed_value(strings, a_raw, vtype, vdata)
    return element


def _string_pool(raw: bytes, pos: int, csize: int, member: str) -> list[str]:
    count, _styles, flags, str_start, _style_start = struct.unpack_from("<IIIII", raw, pos + 8)
    header = struct.unpack_from("<H", raw, pos + 2)[0]
    end = pos + csize
    if header + count * 4 > csize:
        raise MemberError(f"{member}: AXML string pool claims {count} strings, more than fit")
    offsets = struct.unpack_from(f"<{count}I", raw, pos + header)
    base = pos + str_start
    utf8 = bool(flags & 0x100)
    out = []
    for off in offsets:
        p = base + off
        if p >= end:
            raise MemberError(f"{member}: AXML string offset outside the pool")
        out.append(_utf8_string(raw, p, end) if utf8 else _utf16_string(raw, p, end))
    return out


def _utf8_string(raw: bytes, p: int, end: int) -> str:
    """A UTF-8 pool string: its length in UTF-16 units (unused), in bytes, then the bytes."""
    _n, p = _len8(raw, p)
    n, p = _len8(raw, p)
    return raw[p : min(p + n, end)].decode("utf-8", "replace")


def _utf16_string(raw: bytes, p: int, end: int) -> str:
    """A UTF-16 pool string: its length in units (one or two u16), then the units."""
    n = struct.unpack_from("<H", raw, p)[0]
    p += 2
    if n & 0x8000:
        n = ((n & 0x7FFF) << 16) | struct.unpack_from("<H", raw, p)[0]
        p += 2
    return raw[p : min(p + 2 * n, end)].decode("utf-16-le", "replace")


def _len8(raw: bytes, p: int) -> tuple[int, int]:
    n = raw[p]
    if n & 0x80:
        return ((n & 0x7F) << 8) | raw[p + 1], p + 2
    return n, p + 1


def _str_at(strings: list[str], i: int) -> str:
    return strings[i] if 0 <= i < len(strings) else ""


def _typed_value(strings: list[str], raw_index: int, vtype: int, vdata: int) -> AttrValue:
    if vtype == 0x03:  # TYPE_STRING
        return _str_at(strings, vdata if raw_index == 0xFFFFFFFF else raw_index)
    if vtype == 0x12:  # TYPE_INT_BOOLEAN
        return vdata != 0
    if vtype == 0x10:  # TYPE_INT_DEC
        return vdata - (1 << 32) if vdata & 0x80000000 else vdata
    if vtype == 0x11:  # TYPE_INT_HEX
        return vdata
    if vtype in (0x01, 0x02):  # reference, attribute
        return f"@0x{vdata:08x}"
    if raw_index != 0xFFFFFFFF:
        return _str_at(strings, raw_index)
    return vdata


def read_text_manifest(data: bytes | memoryview, member: str = "AndroidManifest.xml") -> AndroidManifest:
    """Parse a plain-text XML manifest (AARs and unpacked sources ship these). Entities and DTDs are refused."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(bytes(data), parser)
    except Exception as exc:
        raise MemberError(f"{member}: unreadable XML manifest ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None
    if root is None:
        raise MemberError(f"{member}: empty XML manifest")
    return _manifest(_from_lxml(root, 0, member), "xml", member)


def _from_lxml(node: object, depth: int, member: str) -> _Element:
    if depth > _MAX_DEPTH:
        raise MemberError(f"{member}: elements nested deeper than {_MAX_DEPTH}")
    tag = str(getattr(node, "tag", ""))
    element = _Element(name=tag.rsplit("}", 1)[-1])
    attrib: dict[str, str] = dict(getattr(node, "attrib", {}))
    prefix = "{" + ANDROID_NS + "}"
    for key, value in attrib.items():
        if key.startswith(prefix):
            element.attributes[key[len(prefix) :]] = value
        elif not key.startswith("{"):
            element.attributes[key] = value
    for child in node:  # type: ignore[attr-defined]
        if isinstance(getattr(child, "tag", None), str):  # skip comments and processing instructions
            element.children.append(_from_lxml(child, depth + 1, member))
    return element


_androguard_silenced = False


def _silence_androguard() -> None:
    """androguard logs through loguru at debug level for every chunk it reads; a scan wants none of it."""
    global _androguard_silenced
    if not _androguard_silenced:
        from loguru import logger

        logger.disable("androguard")
        _androguard_silenced = True


# -- protobuf XML (AAB) ----------------------------------------------------------------------------------


def read_proto_manifest(data: bytes | memoryview, member: str = "base/manifest/AndroidManifest.xml") -> AndroidManifest:
    """Parse an aapt2 protobuf XmlNode manifest (AAB). Raises MemberError on malformed data."""
    raw = bytes(data)
    try:
        root = _proto_node(raw, 0, member)
    except (IndexError, ValueError, UnicodeDecodeError, struct.error) as exc:
        raise MemberError(f"{member}: malformed protobuf XML ({type(exc).__name__}: {exc})") from exc
    if root is None:
        raise MemberError(f"{member}: protobuf XML has no root element")
    return _manifest(root, "proto", member)


def _proto_node(buf: bytes, depth: int, member: str) -> _Element | None:
    """XmlNode{element=1, text=2, source=3} -> the element, or None for a text node."""
    if depth > _MAX_DEPTH:
        raise MemberError(f"{member}: elements nested deeper than {_MAX_DEPTH}")
    element: _Element | None = None
    for number, value in _fields(buf):
        if number == 1 and isinstance(value, bytes):
            element = _proto_element(value, depth, member)
    return element


def _proto_element(buf: bytes, depth: int, member: str) -> _Element:
    """XmlElement{namespace_declaration=1, namespace_uri=2, name=3, attribute=4, child=5}."""
    element = _Element(name="")
    for number, value in _fields(buf):
        if not isinstance(value, bytes):
            continue
        if number == 3:
            element.name = value.decode("utf-8")
        elif number == 4:
            namespace, name, attr_value = _proto_attribute(value)
            if namespace == ANDROID_NS or not namespace:
                element.attributes[name] = attr_value
        elif number == 5:
            child = _proto_node(value, depth + 1, member)
            if child is not None:
                element.children.append(child)
    return element


def _proto_attribute(buf: bytes) -> tuple[str, str, AttrValue]:
    """XmlAttribute{namespace_uri=1, name=2, value=3, source=4, resource_id=5, compiled_item=6}."""
    namespace = name = text = ""
    compiled: AttrValue | None = None
    for number, value in _fields(buf):
        if isinstance(value, bytes):
            if number == 1:
                namespace = value.decode("utf-8")
            elif number == 2:
                name = value.decode("utf-8")
            elif number == 3:
                text = value.decode("utf-8")
            elif number == 6:
                compiled = _proto_item(value)
    return namespace, name, (compiled if compiled is not None else text)


def _proto_item(buf: bytes) -> AttrValue | None:
    """Item{ref=1, str=2, raw_str=3, styled_str=4, file=5, id=6, prim=7}: the value it holds, when simple."""
    for number, value in _fields(buf):
        if not isinstance(value, bytes):
            continue
        if number == 1:  # Reference{type=1, id=2, name=3}
            ref = dict(_fields(value))
            res_id = ref.get(2)
            return f"@0x{res_id:08x}" if isinstance(res_id, int) else None
        if number in (2, 3):  # String{value=1}, RawString{value=1}
            text = dict(_fields(value)).get(1, b"")
            return text.decode("utf-8") if isinstance(text, bytes) else None
        if number == 7:
            return _proto_primitive(value)
    return None


def _proto_primitive(buf: bytes) -> AttrValue | None:
    """Primitive oneof: int_decimal_value=6 (int32), int_hexadecimal_value=7, boolean_value=8."""
    for number, value in _fields(buf):
        if number == 6 and isinstance(value, int):
            return value - (1 << 64) if value >= 1 << 63 else value  # int32 is sign-extended to 64 bits
        if number == 7 and isinstance(value, int):
            return value
        if number == 8 and isinstance(value, int):
            return bool(value)
    return None


def _fields(buf: bytes) -> Iterator[tuple[int, int | bytes]]:
    """Protobuf wire format: (field number, varint value or length-delimited bytes); fixed widths as ints."""
    pos, end = 0, len(buf)
    while pos < end:
        key, pos = _varint(buf, pos)
        number, wire_type = key >> 3, key & 7
        if number == 0:
            raise ValueError("field number 0")
        if wire_type == 0:
            value, pos = _varint(buf, pos)
            yield number, value
        elif wire_type == 2:
            length, pos = _varint(buf, pos)
            if pos + length > end:
                raise ValueError(f"field {number} length {length} runs past the message")
            yield number, buf[pos : pos + length]
            pos += length
        elif wire_type == 1:
            yield number, struct.unpack_from("<Q", buf, pos)[0]
            pos += 8
        elif wire_type == 5:
            yield number, struct.unpack_from("<I", buf, pos)[0]
            pos += 4
        else:
            raise ValueError(f"unsupported wire type {wire_type} (field {number})")


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = buf[pos]  # IndexError on truncation, mapped to MemberError by the callers
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise ValueError("varint longer than 10 bytes")


# -- BundleConfig.pb -------------------------------------------------------------------------------------

_BUNDLE_TYPES: dict[int, Literal["regular", "apex", "asset-only"]] = {0: "regular", 1: "apex", 2: "asset-only"}


def read_bundle_config(data: bytes | memoryview, member: str = "BundleConfig.pb") -> BundleConfig:
    """BundleConfig{bundletool=1 Bundletool{version=2}, type=8}. Raises MemberError on malformed data."""
    raw = bytes(data)
    version: str | None = None
    bundle_type: Literal["regular", "apex", "asset-only"] | None = None
    try:
        for number, value in _fields(raw):
            if number == 1 and isinstance(value, bytes):
                version = _bundletool_version(value, version)
            elif number == 8 and isinstance(value, int):
                bundle_type = _BUNDLE_TYPES.get(value)
    except (IndexError, ValueError, UnicodeDecodeError, struct.error) as exc:
        raise MemberError(f"{member}: malformed BundleConfig ({type(exc).__name__}: {exc})") from exc
    if bundle_type is None and version is not None:
        bundle_type = "regular"  # proto3 omits the default enum value
    return BundleConfig(bundletool_version=version, bundle_type=bundle_type)


def _bundletool_version(message: bytes, version: str | None) -> str | None:
    """Bundletool{version=2}: the last version field, if any, else the version read before."""
    for inner, inner_value in _fields(message):
        if inner == 2 and isinstance(inner_value, bytes):
            version = inner_value.decode("utf-8")
    return version


# -- shared ----------------------------------------------------------------------------------------------


def _manifest(root: _Element, fmt: Literal["axml", "proto", "xml"], member: str) -> AndroidManifest:
    if root.name != "manifest":
        raise MemberError(f"{member}: root element is <{root.name}>, not <manifest>")
    uses_sdk = root.child("uses-sdk")
    application = root.child("application")
    sdk = uses_sdk.attributes if uses_sdk else {}
    app = application.attributes if application else {}
    components = application.children if application else []
    package = _text(root.attributes.get("package"))
    native_libraries = [
        str(child.attributes["name"])
        for child in components
        if child.name == "uses-native-library" and "name" in child.attributes
    ]
    return AndroidManifest(
        package=package,
        version_code=_version_code(root),
        version_name=_text(root.attributes.get("versionName")),
        min_sdk=_int(sdk.get("minSdkVersion")),
        target_sdk=_int(sdk.get("targetSdkVersion")),
        compile_sdk=_int(root.attributes.get("compileSdkVersion")),
        extract_native_libs=_bool(app.get("extractNativeLibs")),
        application_label=_text(app.get("label")),
        uses_native_libraries=native_libraries,
        format=fmt,
        class_names=_class_names(package, app, components),
    )


def _version_code(root: _Element) -> int | None:
    """versionCode, with versionCodeMajor as its high 32 bits when set."""
    version_code = _int(root.attributes.get("versionCode"))
    major = _int(root.attributes.get("versionCodeMajor"))
    if version_code is not None and major:
        version_code = (major << 32) | (version_code & 0xFFFFFFFF)
    return version_code


def _class_names(package: str | None, app: dict[str, AttrValue], components: list[_Element]) -> list[str]:
    """The classes the manifest names (application, activities, services, receivers, providers), fully qualified."""
    named = [app.get("name")] + [
        child.attributes.get("name")
        for child in components
        if child.name in ("activity", "activity-alias", "service", "receiver", "provider")
    ]
    class_names = []
    for value in named:
        text = _text(value)
        if text and not text.startswith("@"):
            class_names.append(f"{package}{text}" if text.startswith(".") and package else text)
    return class_names


def _int(value: AttrValue | None) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    try:
        return int(value.strip(), 0)
    except ValueError:
        return None  # a resource reference or a codename such as "Tiramisu"


def _bool(value: AttrValue | None) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def _text(value: AttrValue | None) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if value.startswith("@") and not value.startswith("@0x") and len(value) > 1:
        # androguard renders references as "@7F0B0001" (or "@android:0104000A"): normalise to "@0x7f0b0001".
        tail = value[1:].removeprefix("android:")
        try:
            return f"@0x{int(tail, 16):08x}"
        except ValueError:
            return value
    return value
