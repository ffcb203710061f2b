"""Java and Kotlin code inventory: every package defined in DEX and class files, accounted for.

Input: the classes each package defines, per member (DEX file or jar), for one "code set" (the DEX files of one APK,
or the class files of one jar); the app's own package prefixes (from the manifest). Output: components, one per
third-party library (all its DEX files as members), identified from the Java knowledge base or reported as
unidentified code with its packages and class counts, obfuscated code on its own, and the app's own code and
platform stubs kept apart (returned as artifact facts, not components).

Families of unidentified code: a package is grouped under its reverse-domain owner (``com.example`` of
``com.example.net.http``), one level deeper for umbrella organisations that publish many unrelated libraries
(``org.apache.xerces``, ``com.google.android.gms``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .._dataclasses import dataclass, field
from ..model import Component, Evidence
from .dex import JavaPackageEntry, java_owner

__all__ = ["CodeSet", "Inventory", "app_prefixes", "family_of", "inventory", "is_obfuscated"]

# First segments that are top-level domains: "com.example" is one owner. Anything else ("okio", "kotlin", "junit")
# is its own family at one segment.
_TLDS = frozenset(
    "com org net io de fr uk ch nl it es se no fi dk pl ru cn jp kr tw in br au ca us eu me co dev app ai tv cc be at "
    "cz hu gr pt ro sk si hr rs ua by lt lv ee is ie il tr ir za mx ar cl nz sg hk id my th vn ph xyz info biz name "
    "pro mobi tech edu gov mil int".split()
)
# Second-level owners that publish many unrelated libraries: the family goes one segment deeper.
_UMBRELLAS = frozenset(
    "apache google eclipse github gitlab bitbucket sourceforge android jetbrains intellij sun oracle ibm microsoft "
    "amazon amazonaws facebook meta twitter squareup alibaba alipay taobao tencent baidu huawei xiaomi samsung "
    "mozilla codehaus ow2 jboss redhat netflix linkedin yahoo adobe uber airbnb spotify".split()
)
_UMBRELLAS_3 = frozenset({"com.google.android", "org.apache.commons", "com.android.support", "com.github.", "io.github."})
# Namespaces of the Java and Android platforms. Classes an app defines there are stubs or back-ports that the build
# tools synthesised (D8's API stubs for newer android.* classes, say), not a third-party library; listed apart.
_PLATFORM = ("android.", "java.", "dalvik.", "com.android.internal.")
_NOT_PLATFORM = ("android.support.", "android.arch.")  # the old support libraries: third-party code after all
# R8/ProGuard names: every segment one or two lowercase letters or digits ("a", "a.b", "b0").
_OBFUSCATED_SEGMENT = re.compile(r"[a-z][a-z0-9]?\Z")


@dataclass
class CodeSet:
    """The classes of one artifact level: package -> {member path (dex file or class container): classes}."""

    label: str  # "" for the artifact itself, else the nested archive ("base.apk", "libs/x.aar!/classes.jar")
    kind: str  # "dex" or "class"
    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, package: str, member: str, classes: int = 1) -> None:
        per = self.counts.setdefault(package, {})
        per[member] = per.get(member, 0) + classes


@dataclass
class Inventory:
    components: list[Component]
    app_code: dict[str, int]  # package -> classes, the app's own code
    platform_stubs: dict[str, int]  # package -> classes, in java.*/android.* namespaces


def app_prefixes(manifest_package: str | None, class_names: Iterable[str], packages: Iterable[str]) -> list[str]:
    """The app's own package prefixes.

    The manifest's package is the application id, which may differ from the code's namespace
    (``io.appium.uiautomator2.server`` with code in ``io.appium.uiautomator2``): the shortest prefix of it that still
    names its owner (``io.appium``; ``com.google.android.youtube`` stays whole, see `family_of`) and under which
    classes are defined wins. Classes the manifest names (application, activities) add their packages when they
    share that owner.
    """
    defined = set(packages)
    out: list[str] = []
    if manifest_package:
        parts = manifest_package.split(".")
        floor = max(len(family_of(manifest_package).split(".")), min(2, len(parts)))
        for n in range(floor, len(parts) + 1):
            prefix = ".".join(parts[:n])
            if any(_within(p, prefix) for p in defined):
                out.append(prefix)
                break
        owner = ".".join(parts[:floor])
        for name in class_names:
            pkg = name.rpartition(".")[0]
            if _within(pkg, owner) and pkg in defined and not any(_within(pkg, o) for o in out):
                out.append(pkg)
    return sorted(set(out))


def is_obfuscated(package: str) -> bool:
    """True for packages renamed by R8/ProGuard ("a", "a.b.c", "b0"); the default package counts too."""
    return package == "" or all(_OBFUSCATED_SEGMENT.match(s) for s in package.split("."))


def family_of(package: str) -> str:
    """The owner a package is grouped under when no library in the knowledge base claims it."""
    parts = package.split(".")
    if parts[0] in ("java", "javax", "jakarta", "android", "dalvik") or parts[0] in _TLDS:
        depth = 2
        if len(parts) > 2 and parts[0] in _TLDS and parts[1] in _UMBRELLAS:
            depth = 3
            three = ".".join(parts[:3])
            if three in _UMBRELLAS_3 or f"{parts[0]}.{parts[1]}." in _UMBRELLAS_3:
                depth = 4
    else:
        depth = 1
    return ".".join(parts[: min(depth, len(parts))])


def _within(package: str, prefix: str) -> bool:
    return package == prefix or package.startswith(prefix + ".")


def inventory(code: CodeSet, app: list[str], entries: tuple[JavaPackageEntry, ...] | None = None) -> Inventory:
    app_code, stubs, rest = _partition(code, app)
    claimed, left = _claim(rest, entries)
    unlisted, left = _adopt_unlisted(code, claimed, left)
    components: list[Component] = []
    for eid, (entry, pkgs) in sorted(claimed.items()):
        comp = _identified(code, entry, sorted(pkgs))
        if eid in unlisted:
            comp.details["packages_not_in_knowledge_base"] = sorted(unlisted[eid])
        components.append(comp)
    components += _unidentified_families(code, left)
    _distinct_paths(components)
    return Inventory(components, app_code, stubs)


def _is_platform(package: str) -> bool:
    return (package.startswith(_PLATFORM) or package in ("android", "java", "dalvik")) and not package.startswith(
        _NOT_PLATFORM
    )


def _partition(code: CodeSet, app: list[str]) -> tuple[dict[str, int], dict[str, int], set[str]]:
    """(the app's own code, platform stubs, third-party packages): package -> classes for the first two."""
    app_code: dict[str, int] = {}
    stubs: dict[str, int] = {}
    rest: set[str] = set()
    for package, per in code.counts.items():
        n = sum(per.values())
        if any(_within(package, p) for p in app):
            app_code[package] = n
        elif _is_platform(package):
            stubs[package] = n
        else:
            rest.add(package)
    return app_code, stubs, rest


_Claims = dict[str, tuple[JavaPackageEntry, list[str]]]


def _claim(rest: set[str], entries: tuple[JavaPackageEntry, ...] | None) -> tuple[_Claims, list[str]]:
    """Packages the knowledge base lists, grouped by library id, and the packages left over.

    One component per library: the knowledge base lists a library once per root package (netty's io.netty.buffer,
    io.netty.channel, ...), all under one id."""
    claimed: _Claims = {}
    left: list[str] = []
    for package in sorted(rest):
        entry = java_owner(package, entries)
        if entry is None:
            left.append(package)
        else:
            claimed.setdefault(entry.id, (entry, []))[1].append(package)
    return claimed, left


def _adopt_unlisted(code: CodeSet, claimed: _Claims, left: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    """A package the knowledge base does not list, under the owner package of a library found here (a newer
    version's io.netty.handler.pcap beside the rest of Netty), belongs to that library: one component, the package
    noted. Returns (library id -> adopted packages, packages still left)."""
    roots = {eid: _root(pkgs, _totals(code, pkgs)[0]) for eid, (_e, pkgs) in claimed.items()}
    unlisted: dict[str, list[str]] = {}
    still_left: list[str] = []
    for package in left:
        fam = family_of(package)
        owner = next((eid for eid, r in sorted(roots.items()) if r and _within(package, r) and _within(r, fam)), None)
        if owner is None or is_obfuscated(package):
            still_left.append(package)
        else:
            claimed[owner][1].append(package)
            unlisted.setdefault(owner, []).append(package)
    return unlisted, still_left


def _unidentified_families(code: CodeSet, left: list[str]) -> list[Component]:
    """Obfuscated code as one component, then one unidentified component per owner family."""
    components: list[Component] = []
    obfuscated = [p for p in left if is_obfuscated(p)]
    if obfuscated:
        components.append(_unidentified(code, obfuscated, "obfuscated Java code", obfuscated=True))
    families: dict[str, list[str]] = {}
    for p in left:
        if not is_obfuscated(p):
            families.setdefault(family_of(p), []).append(p)
    for fam, pkgs in sorted(families.items()):
        components.append(_unidentified(code, pkgs, fam))
    return components


def _distinct_paths(components: list[Component]) -> None:
    """Paths name components: two libraries under one package each get their own."""
    seen: set[str] = set()
    for comp in components:
        if comp.path in seen:
            comp.path += f"({comp.identified_as or comp.name})/"
        seen.add(comp.path)


def _totals(code: CodeSet, packages: list[str]) -> tuple[dict[str, int], dict[str, int]]:
    """(package -> classes, member -> classes) over the given packages."""
    per_package: dict[str, int] = {}
    per_member: dict[str, int] = {}
    for p in packages:
        for member, n in code.counts[p].items():
            per_package[p] = per_package.get(p, 0) + n
            per_member[member] = per_member.get(member, 0) + n
    return per_package, per_member


def _root(packages: list[str], per_package: dict[str, int] | None = None) -> str:
    """The deepest package holding all of them (element-wise common prefix); when that is a bare top-level name
    ("org" for org.w3c.dom and org.xml.sax) or nothing, the owner family holding most of the classes."""
    split = [p.split(".") for p in packages]
    common: list[str] = []
    for parts in zip(*split, strict=False):
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
    root = ".".join(common)
    if per_package and (not root or (len(common) == 1 and common[0] in _TLDS | {"java", "javax", "android"})):
        by_family: dict[str, int] = {}
        for p, n in per_package.items():
            by_family[family_of(p)] = by_family.get(family_of(p), 0) + n
        root = sorted(by_family.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
    return root


def _path(code: CodeSet, per_member: dict[str, int], root: str) -> tuple[str, str]:
    """(component path, its main member): the member holding most of the classes, then the package folder."""
    main = sorted(per_member.items(), key=lambda kv: (-kv[1], _natural(kv[0])))[0][0]
    folder = root.replace(".", "/") + "/" if root else ""
    if code.kind == "class":
        return (f"{code.label}!/{folder}" if code.label else folder), (code.label or main)
    return f"{main}!/{folder}", main


def _natural(name: str) -> tuple[str, int]:
    m = re.search(r"(\d+)\.dex$", name)
    return (name[: m.start()] if m else name.removesuffix(".dex"), int(m.group(1)) if m else 1)


def _members_text(per_member: dict[str, int]) -> str:
    names = sorted(per_member, key=_natural)
    shown = ", ".join(n.rsplit("!/", 1)[-1] or "the artifact" for n in names[:4])
    return shown + (f" and {len(names) - 4} more" if len(names) > 4 else "")


def _details(comp: Component, per_package: dict[str, int], per_member: dict[str, int], root: str) -> None:
    comp.details["package"] = root
    comp.details["classes"] = sum(per_package.values())
    comp.details["packages"] = dict(sorted(per_package.items()))
    comp.details["members"] = sorted(per_member, key=_natural)


def _identified(code: CodeSet, entry: JavaPackageEntry, packages: list[str]) -> Component:
    per_package, per_member = _totals(code, packages)
    root = _root(packages, per_package)
    path, main = _path(code, per_member, root)
    total = sum(per_package.values())
    roots = sorted({family_of(p) if not _within(p, root) else root for p in packages})
    comp = Component(
        path=path,
        kind="java-library",
        format=code.kind,
        name=entry.name,
        sha256=None,
        size=0,
        license=entry.license,
        confidence="high" if entry.strength == "strong" else "medium",
        evidence=[Evidence(
            "metadata",
            f"{total} classes in {len(packages)} Java package(s) under {', '.join(roots[:3])}"
            + (f" and {len(roots) - 3} more" if len(roots) > 3 else "") + f" defined in {_members_text(per_member)}",
            None, f"java-package/{entry.id}", main,
        )],
        identified_as=entry.id,
        project=entry.name,
        origin="identified",
    )
    if entry.homepage:
        comp.details["homepage"] = entry.homepage
    comp.details["license_source"] = entry.source
    _details(comp, per_package, per_member, root)
    return comp


def _unidentified(code: CodeSet, packages: list[str], name: str, obfuscated: bool = False) -> Component:
    per_package, per_member = _totals(code, packages)
    root = "" if obfuscated else _root(packages)
    path, main = _path(code, per_member, root)
    if obfuscated:
        path += "(obfuscated)/"  # "classes.dex!/(obfuscated)/": never a package name, whose segments cannot hold "("
    total = sum(per_package.values())
    what = ("renamed by R8/ProGuard (one- and two-letter package names); what library it was cannot be read from the names"
            if obfuscated else "not in the Java knowledge base")
    comp = Component(
        path=path,
        kind="java-code" if obfuscated else "java-library",
        format=code.kind,
        name=name if not obfuscated else "obfuscated Java code (R8/ProGuard)",
        sha256=None,
        size=0,
        evidence=[Evidence("metadata", f"{total} classes in {len(packages)} Java package(s) {what}; defined in {_members_text(per_member)}",
                           None, "java-inventory/obfuscated" if obfuscated else "java-inventory/unidentified", main)],
        origin="unidentified",
    )
    if obfuscated:
        comp.details["obfuscated"] = True
    _details(comp, per_package, per_member, root)
    return comp
