"""SPDX expressions: parsing, validation, families, the distributor's OR choice."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from licensegate import spdx
from licensegate.errors import LicenseGateError


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("MIT", "MIT"),
        ("mit", "MIT"),
        ("GPL-2.0+", "GPL-2.0+"),
        ("BSD-3-Clause OR GPL-2.0-only", "BSD-3-Clause OR GPL-2.0-only"),
        ("(LGPL-3.0-or-later OR GPL-2.0-or-later) AND MIT", "(LGPL-3.0-or-later OR GPL-2.0-or-later) AND MIT"),
        ("MIT AND BSD-2-Clause OR Apache-2.0", "MIT AND BSD-2-Clause OR Apache-2.0"),
        ("gpl-3.0-or-later with gcc-exception-3.1", "GPL-3.0-or-later WITH GCC-exception-3.1"),
        ("((MIT))", "MIT"),
        ("LicenseRef-FFmpeg-nonfree", "LicenseRef-FFmpeg-nonfree"),
        ("DocumentRef-x:LicenseRef-y", "DocumentRef-x:LicenseRef-y"),
    ],
)
def test_normalize(text: str, normal: str) -> None:
    assert spdx.normalize(text) == normal


def test_precedence_with_and_or() -> None:
    e = spdx.parse("MIT AND BSD-2-Clause OR Apache-2.0 WITH LLVM-exception")
    assert isinstance(e, spdx.Or)
    assert isinstance(e.args[0], spdx.And)
    assert isinstance(e.args[1], spdx.With) and e.args[1].exception == "LLVM-exception"


@pytest.mark.parametrize("bad", ["", "MIT AND", "(MIT", "MIT)", "Foo-1.0", "MIT WITH Nope-exception", "AND MIT", "MIT MIT"])
def test_invalid(bad: str) -> None:
    with pytest.raises(spdx.SpdxError):
        spdx.parse(bad)
    assert not spdx.is_valid(bad)


def test_error_is_licensegate_error() -> None:
    assert issubclass(spdx.SpdxError, LicenseGateError)


def test_non_strict_keeps_unknown_ids() -> None:
    assert str(spdx.parse("Foo-1.0 OR MIT", strict=False)) == "Foo-1.0 OR MIT"


@pytest.mark.parametrize(
    ("expr", "fam"),
    [
        ("MIT", "permissive"),
        ("Zlib", "permissive"),
        ("FTL", "permissive"),
        ("blessing", "permissive"),
        ("MPL-2.0", "weak-copyleft"),
        ("EPL-2.0", "weak-copyleft"),
        ("CDDL-1.0", "weak-copyleft"),
        ("LGPL-2.1-or-later", "lgpl"),
        ("GPL-2.0-only", "gpl"),
        ("GPL-2.0+", "gpl"),
        ("AGPL-3.0-or-later", "agpl"),
        ("CC-BY-NC-4.0", "nonfree"),
        ("LicenseRef-FFmpeg-nonfree", "nonfree"),
        ("LicenseRef-Something", "unknown"),
        # linking exceptions: permissive-equivalent for the app that links
        ("GPL-3.0-or-later WITH GCC-exception-3.1", "permissive"),
        ("GPL-2.0-only WITH Classpath-exception-2.0", "permissive"),
        ("Apache-2.0 WITH LLVM-exception", "permissive"),
        ("GPL-3.0-with-GCC-exception", "permissive"),
        # other exceptions keep the base family
        ("GPL-2.0-only WITH openvpn-openssl-exception", "gpl"),
        # OR: the distributor chooses the least restrictive
        ("BSD-3-Clause OR GPL-2.0-only", "permissive"),
        ("LGPL-3.0-or-later OR GPL-2.0-or-later", "lgpl"),
        ("FTL OR GPL-2.0-or-later", "permissive"),
        ("LicenseRef-x OR GPL-2.0-only", "gpl"),
        # AND: the most restrictive
        ("MIT AND GPL-2.0-only", "gpl"),
        ("LGPL-2.0-or-later AND BSD-2-Clause", "lgpl"),
        ("MIT AND LicenseRef-x", "unknown"),
        ("LicenseRef-x AND LicenseRef-FFmpeg-nonfree", "nonfree"),
        ("(MIT OR GPL-2.0-only) AND LGPL-2.1-only", "lgpl"),
    ],
)
def test_family(expr: str, fam: str) -> None:
    assert spdx.family(expr) == fam


def test_family_none_is_unknown() -> None:
    assert spdx.family(None) == "unknown"


def test_choice_picks_least_restrictive() -> None:
    chosen, reason = spdx.choice("BSD-3-Clause OR GPL-2.0-only")
    assert chosen == "BSD-3-Clause"
    assert "GPL-2.0-only" in reason and "permissive" in reason


def test_choice_first_listed_on_tie() -> None:
    assert spdx.choice("Apache-2.0 OR MIT")[0] == "Apache-2.0"


def test_choice_nested_in_and() -> None:
    chosen, _ = spdx.choice("(LGPL-3.0-or-later OR GPL-2.0-or-later) AND (MIT OR GPL-3.0-only)")
    assert chosen == "LGPL-3.0-or-later AND MIT"


def test_choice_without_or() -> None:
    chosen, reason = spdx.choice("GPL-2.0-only")
    assert chosen == "GPL-2.0-only" and reason.startswith("no choice")


def test_vendored_list_has_version_and_source() -> None:
    raw = json.loads(resources.files("licensegate").joinpath("data/spdx_ids.json").read_text("utf-8"))
    assert raw["licenses"]["source"].startswith("npm:spdx-license-ids@")
    assert raw["exceptions"]["source"].startswith("npm:spdx-exceptions@")
    assert len(raw["licenses"]["ids"]) > 600
    assert "GCC-exception-3.1" in raw["exceptions"]["ids"]
    assert spdx.list_versions()[0] == raw["licenses"]["version"]
    assert spdx.is_deprecated("GPL-2.0") and not spdx.is_deprecated("GPL-2.0-only")
