"""The literal prefilter of signature regexes never rejects a name the regex matches.

Hypothesis writes strings that each real pattern of the signature database matches (`from_regex`); the prefilter
must let every one of them through to the regex.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from licensegate.signatures import LazyPattern, SignatureDB, _required_literal


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
    with_literal = [p for p in PATTERNS if _required_literal(p)[1]]
    assert len(with_literal) >= len(PATTERNS) // 2


@pytest.mark.parametrize("pattern", PATTERNS)
def test_prefilter_keeps_every_match(pattern: str) -> None:
    lazy = LazyPattern(pattern)

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.from_regex(re.compile(pattern)))
    def run(text: str) -> None:
        assert lazy.search(text) is not None

    run()


@pytest.mark.parametrize(("pattern", "expected"), [
    (r"^libzstd.*\.so", (True, "libzstd")),
    (r"^libx264\.so", (True, "libx264.so")),
    (r"^libz\.(so|dylib)|^libz\.\d", (False, "")),  # top-level alternation: no single literal
    (r"^(lib)?busybox", (False, "")),
    (r"ab?c", (False, "")),  # "b" is optional, "a" alone is too short to help
    (r"(?i)^libfoo", (False, "")),
    (r"x264_encoder_open_(\d+)", (False, "x264_encoder_open_")),
])
def test_required_literal(pattern: str, expected: tuple[bool, str]) -> None:
    assert _required_literal(pattern) == expected
