"""The literal prefilter of signature regexes never rejects a name the regex matches.

Hypothesis writes strings that each real pattern of the signature database matches (`from_regex`); the prefilter
must let every one of them through to the regex.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from licensegate.signatures import LazyPattern, SignatureDB, _required_literals


def _patterns() -> list[str]:
    db = SignatureDB.load_default()
    found = set()
    for lib in db.libraries.values():
        for rule in lib.rules:
            for lazy in (rule.regex, rule.version):
                if lazy is not None:
                    found.add(lazy.pattern)
    return sorted(found)


PATTERNS = _patterns()


def test_most_name_patterns_have_a_prefilter() -> None:
    with_literal = [p for p in PATTERNS if _required_literals(p)]
    assert len(with_literal) >= len(PATTERNS) * 9 // 10


def test_every_name_pattern_has_a_prefilter() -> None:
    # a name pattern without one is compiled for every scan that meets a binary (98 compiles, 0.13 s on
    # wild-av.apk's 41 binaries before alternations and leading groups were read)
    db = SignatureDB.load_default()
    names = [r.regex.pattern for lib in db.libraries.values() for r in lib.rules
             if r.kind in ("soname", "filename") and r.regex is not None]
    assert names
    assert [p for p in names if not _required_literals(p)] == []


def test_unpickled_pattern_keeps_its_prefilter(monkeypatch: pytest.MonkeyPatch) -> None:
    import pickle

    lazy = LazyPattern(r"^libz\.(so|dylib)|^libz\.\d")
    monkeypatch.setattr("licensegate.signatures._required_literals", lambda p: pytest.fail("recomputed"))
    copy = pickle.loads(pickle.dumps(lazy))
    assert copy.anchored_literals == ("libz.so", "libz.dylib", "libz.")
    assert copy.search("libz.so.1") and not copy.search("libzstd.so")


@pytest.mark.parametrize("pattern", PATTERNS)
def test_prefilter_keeps_every_match(pattern: str) -> None:
    lazy = LazyPattern(pattern)

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.from_regex(re.compile(pattern)))
    def run(text: str) -> None:
        assert lazy.search(text) is not None

    run()


@pytest.mark.parametrize(("pattern", "expected"), [
    (r"^libzstd.*\.so", ((True, "libzstd"),)),
    (r"^libx264\.so", ((True, "libx264.so"),)),
    (r"^libz\.(so|dylib)|^libz\.\d", ((True, "libz.so"), (True, "libz.dylib"), (True, "libz."))),  # per branch
    (r"^libz\.\d|^libz\.\w", ((True, "libz."),)),  # a literal two branches share is kept once
    (r"^libavcodec\.so(\.\d+)*$|avcodec\.framework", ((True, "libavcodec.so"), (False, "avcodec.framework"))),
    (r"^(lib)?busybox", ((False, "busybox"),)),  # an optional group: the literal after it, anywhere
    (r"(^|/)NodeMobile\.framework/NodeMobile$", ((False, "NodeMobile.framework"),)),
    (r"^(lib|x)busybox", ((True, "lib"), (True, "x"))),  # a group of plain alternatives: one literal each
    (r"^lib(boringssl|crypto_boringssl|stdc\+\+)\.so", ((True, "libboringssl"), (True, "libcrypto_boringssl"),
                                                       (True, "libstdc++"))),
    (r"^lib(turbo)?jpeg\.so", ((True, "lib"),)),  # an optional group ends the literal
    (r"^lib(torch(_cpu)?|c10)\.so", ((True, "lib"),)),  # a nested group: not read
    (r"^lib(jsc|javascriptcore[\w.]*)\.so", ((True, "lib"),)),  # an alternative that is not plain
    (r"^lib(a\)|b)x", ((True, "lib"),)),  # an escaped bracket: not plain
    (r"^(?:lib)?busybox", ()),  # extension groups are not read
    (r"^libfoo|ab?c", ()),  # one branch without a literal: no prefilter at all
    (r"ab?c", ()),  # "b" is optional, "a" alone is too short to help
    (r"(^|/)libwhisper\.(so|dylib)|^rnwhisper",
     ((False, "libwhisper.so"), (False, "libwhisper.dylib"), (True, "rnwhisper"))),
    (r"^lib(a|b)x|^libc", ((True, "liba"), (True, "libb"), (True, "libc"))),
    (r"^[a|b]cd|^efg", ()),  # an alternation inside a character class does not split
    (r"(?i)^libfoo", ()),
    (r"^([|)]x)?libfoo", ((False, "libfoo"),)),  # brackets inside a class do not end the group
    (r"x264_encoder_open_(\d+)", ((False, "x264_encoder_open_"),)),
])
def test_required_literals(pattern: str, expected: tuple[tuple[bool, str], ...]) -> None:
    assert _required_literals(pattern) == expected


@pytest.mark.parametrize("pattern", [
    r"^libz\.(so|dylib)|^libz\.\d", r"^(lib)?busybox", r"(^|/)NodeMobile\.framework/NodeMobile$",
    r"^libavcodec\.so(\.\d+)*$|^libavcodec(\.\d+)*\.dylib$|avcodec\.framework", r"^([|)]x)?libfoo",
    r"^lib(boringssl|crypto_boringssl)\.so", r"^lib(a\)|b)x", r"(so|dy)lib\.",
])
@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet="libzsodyavcexfrmwkNMbungr./|()^1234-_", max_size=40))
def test_prefilter_agrees_with_the_regex(pattern: str, text: str) -> None:
    assert bool(LazyPattern(pattern).search(text)) == bool(re.search(pattern, text))


@pytest.mark.parametrize("text", ["libz.so", "libz.1", "libzz", "xlibz.so", "libavutil.so.57", "a/avutil.framework/avutil",
                                  "avutil.framework/avutil", "libavutil.dylib", "libc", "libax", "libbx", "libcx"])
@pytest.mark.parametrize("pattern", [r"^libz\.(so|dylib)|^libz\.\d", r"^libavutil\.so(\.\d+)*$|avutil\.framework/avutil$",
                                     r"^lib(a|b)x|^libc"])
def test_alternation_prefilter_answers_as_the_regex(pattern: str, text: str) -> None:
    assert (LazyPattern(pattern).search(text) is None) == (re.search(pattern, text) is None)
