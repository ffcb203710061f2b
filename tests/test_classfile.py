"""Class-file reader tests on real classes compiled by `javac` from sources written here, checked against `javap`."""

from __future__ import annotations

import random
import re
import shutil
import struct
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from licensegate.android import dex
from licensegate.android.classfile import _LOADERS, ClassInfo, is_class_file, read_class
from licensegate.errors import MemberError
from licensegate.model import LoadSite

pytestmark = pytest.mark.skipif(shutil.which("javac") is None, reason="javac (a JDK) not installed")

SOURCES: dict[str, str] = {
    "com/example/Player.java": """
package com.example;

public class Player {
    static final long BIG = 0x123456789ABCDEFL;  // a Long in the pool, two slots
    static { System.loadLibrary("player"); }

    private String libName = "fromfield";
    double ratio = 3.14159;  // a Double in the pool

    long stamp() { return BIG * 31L + (long) (ratio * 2.0); }
    void loadNamed(String name) { System.loadLibrary(name); }
    void loadField() { System.loadLibrary(libName); }
    void loadPath() { System.load("/data/local/tmp/libpath.so"); }
    void runtime() { Runtime.getRuntime().loadLibrary("rt"); }
    void viaLocals() {
        String n = "local";
        long wide = BIG + 1;
        double d = wide * ratio;
        String m = n;
        System.loadLibrary(m);
    }
    void concat(String suffix) { System.loadLibrary("x" + suffix); }
    void ternary(boolean f) { System.loadLibrary(f ? "a" : "b"); }
    void loop(int k) {
        String s = "looped";
        for (int i = 0; i < k; i++) { System.loadLibrary(s); }
    }
    void reassignedInLoop(String[] names) {
        String s = "first";
        for (String n : names) { System.loadLibrary(s); s = n; }
    }
    static void withFallback() {
        try { System.loadLibrary("optimized"); } catch (UnsatisfiedLinkError e) { System.loadLibrary("fallback"); }
    }

    static class Inner {
        static { System.loadLibrary("inner"); }
    }
}
""",
    "com/example/Switches.java": """
package com.example;

public class Switches {
    static int pick(int k, String s) {
        int r;
        switch (k) {  // tableswitch
            case 1: r = 10; break;
            case 2: r = 20; break;
            case 3: r = 30; break;
            case 4: r = 45; break;
            default: r = 0;
        }
        switch (k) {  // lookupswitch
            case 7: r += 1; break;
            case 1000: r += 2; break;
            case -99999: r += 3; break;
            default: r += 4;
        }
        switch (s) {  // a string switch: hashCode lookupswitch, then a tableswitch
            case "alpha": r += 5; break;
            case "beta": r += 6; break;
            default: break;
        }
        System.loadLibrary("afterswitch");
        return r;
    }
}
""",
    "com/getkeepsafe/relinker/ReLinker.java": """
package com.getkeepsafe.relinker;

public class ReLinker {
    public static void loadLibrary(Object context, String library) {}
    public static void loadLibrary(Object context, String library, String version) {}
}
""",
    "com/facebook/soloader/SoLoader.java": """
package com.facebook.soloader;

public class SoLoader {
    public static boolean loadLibrary(String name) { return true; }
}
""",
    "com/example/Fancy.java": """
package com.example;

import com.facebook.soloader.SoLoader;
import com.getkeepsafe.relinker.ReLinker;

public class Fancy {
    void init(Object context) {
        ReLinker.loadLibrary(context, "fancy");
        ReLinker.loadLibrary(context, "versioned", "1.2");
        if (!SoLoader.loadLibrary("so")) { throw new IllegalStateException(); }
    }
}
""",
    "Bare.java": """
public class Bare {
    static { System.loadLibrary("bare"); }
}
""",
    "com/example/Plain.java": """
package com.example;

public class Plain {
    // "load" and "loadLibrary" as plain strings and a method of its own: no loader is referenced.
    String load() { return "loadLibrary"; }
    int twice(int x) { return load().length() * x; }
}
""",
}


@pytest.fixture(scope="module")
def classes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("src")
    out = tmp_path_factory.mktemp("classes")
    paths = []
    for name, text in SOURCES.items():
        path = src / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        paths.append(str(path))
    subprocess.run(["javac", "-g:none", "--release", "17", "-d", str(out), *paths], check=True, capture_output=True)
    return out


def read(classes: Path, name: str) -> tuple[bytes, ClassInfo]:
    data = (classes / name).read_bytes()
    return data, read_class(data, f"classes.jar!/{name}")


def arguments(info: ClassInfo) -> list[tuple[str, str, str | None]]:
    return [(s.method, s.call, s.argument) for s in info.load_sites]


def test_player(classes: Path) -> None:
    data, info = read(classes, "com/example/Player.class")
    assert info.class_name == "com.example.Player"
    assert info.package == "com.example"
    assert info.version == "61.0"
    assert sorted(arguments(info), key=str) == sorted(
        [
            ("<clinit>", "loadLibrary", "player"),
            ("loadNamed", "loadLibrary", None),  # a parameter
            ("loadField", "loadLibrary", None),  # a field
            ("loadPath", "load", "/data/local/tmp/libpath.so"),
            ("runtime", "loadLibrary", "rt"),  # Runtime.getRuntime().loadLibrary: the string is on top
            ("viaLocals", "loadLibrary", "local"),  # through two locals, past long and double locals
            ("concat", "loadLibrary", None),  # invokedynamic makeConcatWithConstants
            ("ternary", "loadLibrary", None),  # "a" or "b": no single constant
            ("loop", "loadLibrary", "looped"),  # the loop does not change it
            ("reassignedInLoop", "loadLibrary", None),  # the loop does
            ("withFallback", "loadLibrary", "optimized"),
            ("withFallback", "loadLibrary", "fallback"),  # in the exception handler
        ],
        key=str,
    )
    assert all(s.member == "classes.jar!/com/example/Player.class" for s in info.load_sites)
    assert all(s.class_name == "com.example.Player" for s in info.load_sites)


def test_inner_and_default_package(classes: Path) -> None:
    _data, inner = read(classes, "com/example/Player$Inner.class")
    assert (inner.class_name, inner.package) == ("com.example.Player$Inner", "com.example")
    assert arguments(inner) == [("<clinit>", "loadLibrary", "inner")]
    _data, bare = read(classes, "Bare.class")
    assert (bare.class_name, bare.package) == ("Bare", "")
    assert arguments(bare) == [("<clinit>", "loadLibrary", "bare")]


def test_switches_before_the_call(classes: Path) -> None:
    data, info = read(classes, "com/example/Switches.class")
    assert b"\xaa" in data and b"\xab" in data  # the fixture really has both switch kinds
    assert arguments(info) == [("pick", "loadLibrary", "afterswitch")]


def test_relinker_and_soloader(classes: Path) -> None:
    _data, info = read(classes, "com/example/Fancy.class")
    assert arguments(info) == [
        ("init", "loadLibrary", "fancy"),
        ("init", "loadLibrary", "versioned"),  # the first String parameter, under the version string
        ("init", "loadLibrary", "so"),
    ]
    _data, stub = read(classes, "com/getkeepsafe/relinker/ReLinker.class")
    assert stub.load_sites == []


def test_no_loader(classes: Path) -> None:
    _data, info = read(classes, "com/example/Plain.class")
    assert (info.class_name, info.load_sites) == ("com.example.Plain", [])


JAVAP_INVOKE = re.compile(r"^\s*(\d+): (invoke\w+)\s+#\d+\s+// (?:Interface)?Method ([\w/$]+)\.(\w+):", re.M)
JAVAP_METHOD = re.compile(r"^  \S.*\);$|^  static \{\};$", re.M)


def javap_sites(path: Path) -> list[tuple[int, int, str]]:
    """(method ordinal, pc, call) of each loader invoke, from `javap -c -p`."""
    text = subprocess.run(["javap", "-c", "-p", str(path)], check=True, capture_output=True, text=True).stdout
    loaders = {(cls, name): call for cls, name, call in _LOADERS}
    starts = [m.start() for m in JAVAP_METHOD.finditer(text)]
    sites: list[tuple[int, int, str]] = []
    for m in JAVAP_INVOKE.finditer(text):
        call = loaders.get((m.group(3), m.group(4)))
        if call is not None:
            ordinal = sum(1 for s in starts if s < m.start())
            sites.append((ordinal, int(m.group(1)), call))
    return sites


@pytest.mark.parametrize(
    "name", ["com/example/Player.class", "com/example/Switches.class", "com/example/Fancy.class", "Bare.class"]
)
def test_offsets_point_at_the_invoke_and_agree_with_javap(classes: Path, name: str) -> None:
    data, info = read(classes, name)
    for site in info.load_sites:
        assert site.offset is not None
        assert data[site.offset] in (0xB6, 0xB8, 0xB9)  # invokevirtual / invokestatic / invokeinterface
    expected = javap_sites(classes / name)
    assert [s.call for s in info.load_sites] == [call for _m, _pc, call in expected]
    # Within one method the file offsets must be the javap pcs shifted by the same code start.
    shifts: dict[int, set[int]] = {}
    for site, (ordinal, pc, _call) in zip(info.load_sites, expected, strict=True):
        assert site.offset is not None
        shifts.setdefault(ordinal, set()).add(site.offset - pc)
    assert all(len(s) == 1 for s in shifts.values())


def test_loader_list_matches_dex() -> None:
    assert [(f"L{cls};", name, call) for cls, name, call in _LOADERS] == list(dex._LOADERS)


def test_is_class_file(classes: Path) -> None:
    data = (classes / "Bare.class").read_bytes()
    assert is_class_file(data[:8])
    assert is_class_file(memoryview(data))
    assert not is_class_file(b"\xca\xfe\xba\xbe\x00\x00\x00\x02")  # a fat Mach-O with two architectures
    assert not is_class_file(b"\xca\xfe\xba\xbe")
    assert not is_class_file(b"dex\n035\0")


# -- hostile input ----------------------------------------------------------------------------------------


def only_member_error(data: bytes) -> None:
    try:
        info = read_class(data, "fuzz.class")
    except MemberError as exc:
        assert "\n" not in str(exc)
    else:
        assert all(isinstance(s, LoadSite) for s in info.load_sites)


@pytest.mark.parametrize("name", ["com/example/Player.class", "com/example/Switches.class"])
def test_truncated_everywhere(classes: Path, name: str) -> None:
    data = (classes / name).read_bytes()
    for cut in range(0, len(data), 7):
        with pytest.raises(MemberError):
            read_class(data[:cut], "cut.class")


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        (lambda d: d[:8] + b"\xff\xff" + d[10:], "constant pool"),  # bogus pool count, runs off the end
        (lambda d: d[:8] + b"\x00\x00" + d[10:], "constant pool count is 0"),
        (lambda d: d[:8] + b"\x00\x02" + d[10:], None),  # too small: the rest no longer parses
        (lambda d: b"\xca\xfe\xba\xbe\x00\x00\x00\x02" + d[8:], "fat Mach-O"),
        (lambda d: b"PK\x03\x04" + d[4:], "not a class file"),
        (lambda d: d[:9], "truncated header"),
    ],
)
def test_bad_headers(classes: Path, patch: Callable[[bytes], bytes], message: str | None) -> None:
    data = (classes / "com/example/Player.class").read_bytes()
    with pytest.raises(MemberError, match=None if message is None else re.escape(message)):
        read_class(patch(data), "bad.class")


def test_bad_pool_tag(classes: Path) -> None:
    data = bytearray((classes / "Bare.class").read_bytes())
    data[10] = 2  # the first entry's tag: 2 is unused
    with pytest.raises(MemberError, match="bad constant pool tag 2"):
        read_class(bytes(data), "bad.class")


def test_random_corruption_raises_only_member_error(classes: Path) -> None:
    rng = random.Random(20240611)
    for name in ("com/example/Player.class", "com/example/Switches.class", "com/example/Fancy.class"):
        data = (classes / name).read_bytes()
        for _ in range(700):
            buf = bytearray(data)
            for _ in range(rng.randint(1, 6)):
                buf[rng.randrange(8, len(buf))] = rng.randrange(256)
            only_member_error(bytes(buf))


def test_corrupt_bytecode_only(classes: Path) -> None:
    """Corrupt only the code of the methods that call a loader, where the abstract interpreter runs."""
    data, info = read(classes, "com/example/Player.class")
    offsets = [s.offset for s in info.load_sites if s.offset is not None]
    rng = random.Random(7)
    for _ in range(1500):
        buf = bytearray(data)
        at = rng.choice(offsets)
        for _ in range(rng.randint(1, 4)):
            buf[max(0, at + rng.randint(-12, 6))] = rng.randrange(256)
        buf[at : at + 3] = data[at : at + 3]  # keep one invoke intact so that the method is decoded
        only_member_error(bytes(buf))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=400))
def test_arbitrary_bytes_after_a_valid_header(tail: bytes) -> None:
    only_member_error(b"\xca\xfe\xba\xbe\x00\x00\x00\x3d" + tail)


def test_hostile_stack_is_fast(classes: Path) -> None:
    """A method that pushes 60000 times before a loader call: budgets keep it quick and the site still shows."""
    data, info = read(classes, "Bare.class")
    site = info.load_sites[0]
    assert site.offset is not None
    # Find the Code attribute holding the call and replace its code with iconst_0 x N, ldc, invokestatic, return.
    ldc_at = site.offset - 2
    assert data[ldc_at] == 0x12
    code_length_at = ldc_at - 4
    (code_length,) = struct.unpack_from(">I", data, code_length_at)
    attr_length_at = code_length_at - 4 - 4
    (attr_length,) = struct.unpack_from(">I", data, attr_length_at)
    n = 60000
    new_code = b"\x03" * n + data[ldc_at : ldc_at + 5] + b"\xb1"
    rest = data[ldc_at + code_length :]
    patched = bytearray(
        data[:attr_length_at]
        + struct.pack(">I", attr_length + len(new_code) - code_length)
        + struct.pack(">HH", 0xFFFF, 0xFFFF)
        + struct.pack(">I", len(new_code))
        + new_code
        + rest
    )
    result = read_class(bytes(patched), "deep.class")
    assert [(s.method, s.argument) for s in result.load_sites] == [("<clinit>", "bare")]
