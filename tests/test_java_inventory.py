"""Java and Kotlin inventory: every package family in DEX and class files reported, identified or not.

Unit tests on the grouping rules, the "nothing to scan" refusal through the real CLI, and the real third-party
APKs of fixtures/java_apks.py (npm packages built by the Appium project) against fixtures/expected-java/*.json,
whose answers come from each library's own licence statement.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from licensegate.android.dex import JavaPackageEntry
from licensegate.android.inventory import CodeSet, app_prefixes, family_of, inventory, is_obfuscated
from licensegate.cli import main

REPO = Path(__file__).resolve().parent.parent
EXPECTED = REPO / "fixtures" / "expected-java"
APKS = sorted(p.name.removesuffix(".json") for p in EXPECTED.glob("*.json"))


def test_family_of() -> None:
    assert family_of("io.netty.channel.epoll") == "io.netty"
    assert family_of("org.apache.xerces.impl") == "org.apache.xerces"
    assert family_of("com.google.android.gms.common") == "com.google.android.gms"
    assert family_of("okio.internal") == "okio"
    assert family_of("javax.xml.parsers") == "javax.xml"


def test_obfuscated_names() -> None:
    assert is_obfuscated("a") and is_obfuscated("a.b.c") and is_obfuscated("b0") and is_obfuscated("")
    assert not is_obfuscated("okio") and not is_obfuscated("io.ktor") and not is_obfuscated("com.a")


def test_app_prefix_is_the_owner_of_the_application_id() -> None:
    # The application id names a sub-package; the code lives one level up.
    assert app_prefixes("io.appium.uiautomator2.server", [], {"io.appium.uiautomator2.handler", "io.netty"}) == ["io.appium"]
    # An umbrella owner keeps the whole id: the app is not "all of com.google.android".
    assert app_prefixes("com.google.android.youtube", [], {"com.google.android.youtube.app", "com.google.android.gms.common"}) == [
        "com.google.android.youtube"
    ]
    assert app_prefixes(None, [], {"com.example"}) == []


def test_one_library_over_several_dex_files_is_one_component() -> None:
    code = CodeSet("", "dex")
    code.add("org.gpl.lib", "classes.dex", 7)
    code.add("org.gpl.lib.util", "classes3.dex", 5)
    code.add("com.example.app", "classes.dex", 40)
    code.add("com.vendor.sdk.net", "classes2.dex", 12)
    code.add("a.b", "classes2.dex", 30)
    code.add("android.app.sdksandbox", "classes2.dex", 3)
    table = (JavaPackageEntry("org.gpl.lib", "GPL lib", "GPL-3.0-only", "test"),)
    inv = inventory(code, ["com.example"], table)
    by_name = {c.name: c for c in inv.components}
    lib = by_name["GPL lib"]
    assert lib.details["members"] == ["classes.dex", "classes3.dex"]
    assert lib.details["classes"] == 12 and lib.path == "classes.dex!/org/gpl/lib/"
    vendor = by_name["com.vendor"]
    assert vendor.origin == "unidentified" and vendor.details["packages"] == {"com.vendor.sdk.net": 12}
    assert vendor.path == "classes2.dex!/com/vendor/sdk/net/"
    assert by_name["obfuscated Java code (R8/ProGuard)"].details["classes"] == 30
    assert inv.app_code == {"com.example.app": 40}
    assert inv.platform_stubs == {"android.app.sdksandbox": 3}


@pytest.mark.parametrize("kind", ["empty-folder", "readme-zip"])
def test_nothing_to_scan_exits_2(kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if kind == "empty-folder":
        target = tmp_path / "empty"
        target.mkdir()
    else:
        target = tmp_path / "docs.zip"
        with zipfile.ZipFile(target, "w") as zf:
            zf.writestr("README.md", "# just a readme\n")
    assert main(["scan", str(target), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nothing to scan" in err[0]


# -- real APKs ------------------------------------------------------------------------------------------------


@functools.cache
def apk_dir() -> Path:
    proc = subprocess.run([sys.executable, str(REPO / "fixtures" / "java_apks.py")], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"fixtures/java_apks.py failed ({proc.returncode}):\n{proc.stderr}")
    return Path(proc.stdout.strip().splitlines()[-1])


@functools.cache
def report_for(apk: str) -> dict:
    out = apk_dir().parent / "reports" / f"{apk}.json"
    out.parent.mkdir(exist_ok=True)
    code = main(["scan", str(apk_dir() / apk), "--format", "json", "--output", str(out), "--no-progress"])
    assert code in (0, 1)
    return json.loads(out.read_text())


def _covering(report: dict, prefix: str) -> list[dict]:
    return [
        c for c in report["components"]
        if c["kind"].startswith("java") and any(p == prefix or p.startswith(prefix + ".") for p in c["details"].get("packages", {}))
    ]


@pytest.mark.parametrize("apk", APKS)
def test_every_java_family_appears(apk: str) -> None:
    want = json.loads((EXPECTED / f"{apk}.json").read_text())
    report = report_for(apk)
    missing, wrong = [], []
    for fam in want["families"]:
        comps = _covering(report, fam["prefix"])
        classes = sum(n for c in comps for p, n in c["details"]["packages"].items() if p == fam["prefix"] or p.startswith(fam["prefix"] + "."))
        if not comps or classes < min(fam["min_classes"], 10):
            missing.append(fam["prefix"])
            continue
        for c in comps:
            if c["origin"] == "identified" and fam["family"] and c["family"] != fam["family"]:
                wrong.append(f"{fam['prefix']}: {c['name']} {c['license']} ({c['family']}), expected {fam['license']} ({fam['family']})")
    assert not missing, f"families not in the report: {missing}"
    assert not wrong, "\n".join(wrong)
    if want.get("app_prefix"):
        app = report["artifact"]["details"]["app_code"]["packages"]
        assert any(p.startswith(want["app_prefix"]) for p in app)
        assert not [c["path"] for c in report["components"] if c["kind"].startswith("java") and c["name"].startswith(want["app_prefix"])]


def test_java_copyleft_families_are_identified() -> None:
    want = json.loads((EXPECTED / "appium-uiautomator2-server.apk.json").read_text())
    report = report_for("appium-uiautomator2-server.apk")
    for prefix, family in want["copyleft"].items():
        comps = [c for c in _covering(report, prefix) if c["origin"] == "identified"]
        assert comps and all(c["family"] == family for c in comps), (prefix, [(c["name"], c["license"]) for c in comps])


def test_unlisted_package_of_a_found_library_joins_it() -> None:
    code = CodeSet("", "dex")
    code.add("io.netty.buffer", "classes.dex", 50)
    code.add("io.netty.channel", "classes2.dex", 60)
    code.add("io.netty.handler.pcap", "classes2.dex", 13)  # a newer version's package the table does not list
    code.add("io.nettyx.other", "classes.dex", 11)
    table = (JavaPackageEntry("io.netty.buffer", "Netty", "Apache-2.0", "test", id="netty"),
             JavaPackageEntry("io.netty.channel", "Netty", "Apache-2.0", "test", id="netty"))
    comps = {c.name: c for c in inventory(code, [], table).components}
    netty = comps["Netty"]
    assert netty.path == "classes2.dex!/io/netty/" and netty.details["classes"] == 123
    assert netty.details["packages_not_in_knowledge_base"] == ["io.netty.handler.pcap"]
    assert comps["io.nettyx"].origin == "unidentified"
