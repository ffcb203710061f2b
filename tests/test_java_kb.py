"""The generated Java knowledge base (data/java_kb.tsv) and the licence-file classifier."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from licensegate import spdx
from licensegate.android.dex import java_owner, load_java_packages
from licensegate.licence_files import classify, copyright_lines, file_kind, read_bundle_manifest


def _kb_lines() -> list[list[str]]:
    text = resources.files("licensegate").joinpath("data", "java_kb.tsv").read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]


def test_every_entry_has_a_parsable_licence_and_a_source() -> None:
    lines = _kb_lines()
    assert len({cols[0] for cols in lines}) >= 500  # hundreds of libraries
    for ident, name, licence, source, _homepage, prefixes in lines:
        assert prefixes and ident.startswith(("maven/", "debian/", "npm/")) and name and source, ident
        spdx.parse(licence, strict=False)


@pytest.mark.parametrize(("package", "family"), [
    ("com.itextpdf.text.pdf", "agpl"),  # iText 5: AGPL-3.0 (its POM)
    ("org.whispersystems.libsignal.state", "gpl"),  # libsignal-protocol-java: GPL-3.0 (its POM)
    ("org.jfree.chart.plot", "lgpl"),  # JFreeChart: LGPL (its POM)
    ("org.jaudiotagger.tag", "lgpl"),
    ("org.mariadb.jdbc.client", "lgpl"),
    ("gnu.getopt", "lgpl"),  # Debian libgetopt-java: LGPL-2+ (DEP-5)
    ("org.junit.runner", "weak-copyleft"),  # junit:junit: EPL-1.0
    ("org.mozilla.javascript.ast", "weak-copyleft"),  # Rhino: MPL-2.0
    ("io.netty.buffer", "permissive"),
    ("org.hamcrest.core", "permissive"),
])
def test_copyleft_java_families(package: str, family: str) -> None:
    entry = java_owner(package)
    assert entry is not None, package
    assert spdx.family(entry.license) == family, (entry.id, entry.license)


def test_dual_licences_are_kept_as_or() -> None:
    entry = java_owner("org.h2.engine")
    assert entry is not None and " OR " in entry.license


def test_hand_checked_table_wins() -> None:
    entries = load_java_packages()
    curated = next(e for e in entries if e.prefix == "de.blinkt.openvpn")
    assert java_owner("de.blinkt.openvpn.core") is curated


def _spdx_text(ident: str) -> str:
    raw = resources.files("licensegate").joinpath(f"data/licenses/{ident}.json").read_text("utf-8")
    return str(json.loads(raw)["licenseText"])


@pytest.mark.parametrize("ident", ["Apache-2.0", "EPL-1.0", "MIT", "BSD-3-Clause", "BSD-2-Clause", "MPL-2.0", "LGPL-2.1-only"])
def test_classify_licence_texts(ident: str) -> None:
    text = _spdx_text(ident).replace("<year>", "2019").replace("<owner>", "Jane Roe").replace("<copyright holders>", "Jane Roe")
    licences, scores = classify("Some Library\n\n" + text)
    assert licences[0] == ident and scores[ident] >= 0.85
    if ident == "BSD-3-Clause":
        assert "BSD-2-Clause" not in licences  # contained in the longer text


def test_classify_spdx_identifier_and_url() -> None:
    assert classify("# SPDX-License-Identifier: EPL-2.0\nprovider=Eclipse")[0] == ["EPL-2.0"]
    assert classify("http://www.apache.org/licenses/LICENSE-2.0.txt")[0] == ["Apache-2.0"]
    assert classify("just a readme")[0] == []


def test_copyright_lines_skip_template_placeholders() -> None:
    assert copyright_lines(["Copyright (c) <year> <owner>. All rights reserved."]) == []
    assert copyright_lines(["   Copyright [yyyy] [name of copyright owner]"]) == []
    assert copyright_lines(["Copyright 1999-2009 The Apache Software Foundation."]) == ["Copyright 1999-2009 The Apache Software Foundation"]


def test_file_kinds() -> None:
    assert file_kind("META-INF/LICENSE.txt") == "licence"
    assert file_kind("license/NOTICE") == "notice"
    assert file_kind("LICENSE-junit.txt") == "licence"
    assert file_kind("META-INF/androidx.core_core.version") == "version"
    assert file_kind("res/raw/third_party_licenses") == "oss-licenses"
    assert file_kind("res/raw/third_party_license_metadata") == "oss-licenses-metadata"
    assert file_kind("assets/licenses/okhttp.txt") == "licence"
    assert file_kind("classes.dex") is None and file_kind("res/drawable/license.png") is None


def test_osgi_manifest() -> None:
    raw = (b"Manifest-Version: 1.0\r\nBundle-SymbolicName: org.example.xp;singleton:=true\r\n"
           b"Require-Bundle: a;bundle-version=\"[1.0,2.0)\"\r\nExport-Package: org.example.xp.api,\r\n org.example.xp.impl;x-internal:=true;version=\"[1,2)\"\r\n"
           b"Bundle-Localization: plugin\r\n\r\nName: x\r\n")
    b = read_bundle_manifest("MANIFEST.MF", raw)
    assert b is not None and b.name == "org.example.xp" and b.exports == ["org.example.xp.api", "org.example.xp.impl"]
    assert b.localization == "plugin"


def test_control_characters_never_reach_notices() -> None:
    from licensegate.licence_files import read_licence_file

    assert copyright_lines(["Copyright (c) 2020 Evil\x1b[2J Corp\u202e"]) == ["Copyright (c) 2020 Evil[2J Corp"]
    lf = read_licence_file("NOTICE", "notice", b"Copyright 2020 A\x1b]0;title\x07 B\nThis product includes software developed")
    assert lf.text is not None and "\x1b" not in lf.text and "\x07" not in lf.text


def test_pom_in_the_artifact_names_unidentified_code() -> None:
    from licensegate.licence_files import read_licence_file, tie
    from licensegate.model import Component

    pom = (b"<?xml version='1.0'?><project><parent><version>9</version></parent><groupId>org.example.net</groupId>"
           b"<version>2.1</version><licenses><license><name>GNU Lesser General Public License, version 2.1</name>"
           b"<url>https://www.gnu.org/licenses/old-licenses/lgpl-2.1.html</url></license></licenses></project>")
    lf = read_licence_file("META-INF/maven/org.example.net/client/pom.xml", "pom", pom)
    assert lf.kind == "pom" and lf.licences == ["LGPL-2.1-only"] and lf.version == "org.example.net:client:2.1"
    comp = Component(path="classes.dex!/org/example/net/", kind="java-library", format="dex", name="org.example", sha256=None, size=0)
    comp.details.update(package="org.example.net", packages={"org.example.net.http": 40}, members=["classes.dex"])
    assert tie([lf], [comp]) == [comp]
    assert comp.license == "LGPL-2.1-only" and comp.origin == "identified" and lf.tied_to == [comp.path]
