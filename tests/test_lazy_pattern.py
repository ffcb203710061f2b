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
    assert len(with_literal) >= len(PATTERNS) // 2
    # the alternatives of a soname pattern each have their own (they were compiled by every native scan)
    assert all(_required_literals(p) for p in PATTERNS if p.startswith(r"^libavcodec\.so"))


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
    (r"^libz\.(so|dylib)|^libz\.\d", ((True, "libz."), (True, "libz."))),  # one literal per alternative
    (r"^libavutil\.so(\.\d+)*$|avutil\.framework/avutil$", ((True, "libavutil.so"), (False, "avutil.framework"))),
    (r"(^|/)libwhisper\.(so|dylib)|^rnwhisper", ()),  # an alternative without a literal start: none
    (r"^lib(a|b)x|^libc", ((True, "lib"), (True, "libc"))),  # an alternation inside a group does not split
    (r"^[a|b]cd|^efg", ()),  # nor one inside a character class
    (r"^(lib)?busybox", ()),
    (r"ab?c", ()),  # "b" is optional, "a" alone is too short to help
    (r"(?i)^libfoo", ()),
    (r"x264_encoder_open_(\d+)", ((False, "x264_encoder_open_"),)),
])
def test_required_literals(pattern: str, expected: tuple[tuple[bool, str], ...]) -> None:
    assert _required_literals(pattern) == expected


@pytest.mark.parametrize("text", ["libz.so", "libz.1", "libzz", "xlibz.so", "libavutil.so.57", "a/avutil.framework/avutil",
                                  "avutil.framework/avutil", "libavutil.dylib", "libc", "libax", "libbx", "libcx"])
@pytest.mark.parametrize("pattern", [r"^libz\.(so|dylib)|^libz\.\d", r"^libavutil\.so(\.\d+)*$|avutil\.framework/avutil$",
                                     r"^lib(a|b)x|^libc"])
def test_alternation_prefilter_answers_as_the_regex(pattern: str, text: str) -> None:
    assert (LazyPattern(pattern).search(text) is None) == (re.search(pattern, text) is None)
