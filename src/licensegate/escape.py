"""One escaping rule for every human-facing output (docs/security.md).

Artifact-controlled text (member names, bundle ids, the artifact's own file name, strings read from binaries) is
hostile: an ESC or CSI sequence rewrites the terminal, a CR overwrites a line, U+202E reverses what follows, a
lone surrogate (a non-UTF-8 file name) cannot even be encoded. Every such character is shown as a Python-style escape
(`\\x1b`, `\\u202e`, `\\udcff`), so a reader sees that it is there and what it is, and nothing acts on it.

- `text(s)`: one field (a path, a name, a message) for the terminal, `diff` and error messages; newlines too are
  escaped, so a name cannot forge a line of the report.
- `terminal(s)`: a whole rendered report: the same rule, but its own newlines and tabs are kept.
- `xml(s)`: well-formed XML character data for any input (characters XML 1.0 forbids are escaped as well).
- `md_code(s)` / `md_text(s)`: Markdown, where artifact text goes in a code span sized past its longest backtick
  run, and any other text has its punctuation backslash-escaped so no HTML, link or emphasis is rendered.
"""

from __future__ import annotations

import functools
import re

# C0 controls, DEL and C1 controls; bidirectional embeddings, overrides, isolates and marks; zero-width characters
# that hide differences between names; line/paragraph separators (they break lines in editors and some terminals);
# lone surrogates (undecodable bytes of a file name, via surrogateescape); the two XML non-characters.
_OTHER = "\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff\ufffe\uffff"
# Compiled on first use, as every pattern of a module a typical scan may not use: these three cost 2.5 ms of a JSON
# scan's start-up, which never renders text (docs/performance.md, start-up).


@functools.cache
def _field() -> re.Pattern[str]:
    return re.compile(f"[\x00-\x1f\x7f-\x9f{_OTHER}]")


@functools.cache
def _block() -> re.Pattern[str]:
    return re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_OTHER}]")  # the same, keeping newline and tab


_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(m: re.Match[str]) -> str:
    named = _NAMED.get(m.group())
    if named is not None:
        return named
    c = ord(m.group())
    if c < 0x100:
        return f"\\x{c:02x}"
    return f"\\u{c:04x}"


def text(value: object) -> str:
    """One artifact-controlled field, safe for a terminal: every control, bidi and invisible character escaped."""
    s = value if isinstance(value, str) else str(value)
    return _field().sub(_escape_char, s)


def terminal(block: str) -> str:
    """A whole rendered text (report, diff): the same escapes, keeping its own newlines and tabs."""
    return _block().sub(_escape_char, block)


def clip(value: object, limit: int = 200) -> str:
    """`text`, cut to about `limit` characters with the full length said (a 50 MB value is not repeated)."""
    s = value if isinstance(value, str) else str(value)
    if len(s) > limit:
        s = f"{s[:limit]}… ({len(s):,} characters)"
    return text(s)


def xml(value: object, keep_newlines: bool = True) -> str:
    """Character data that is well-formed XML 1.0 whatever the input (ElementTree escapes & < > itself)."""
    s = value if isinstance(value, str) else str(value)
    return (_block() if keep_newlines else _field()).sub(_escape_char, s)


# What makes inline Markdown act: escapes, code, emphasis, links and images, HTML and entities, table cells,
# strikethrough. (Line-start syntax, `#` or `-`, cannot occur: artifact text never starts a line.)
@functools.cache
def _md_punct() -> re.Pattern[str]:
    return re.compile(r"([\\`*_\[\]<|&~])")


def md_text(value: object) -> str:
    """Plain Markdown text: escaped controls, the punctuation inline Markdown acts on backslash-escaped (no HTML,
    links, emphasis, table breaks); a newline shows as `\\n`, so a table row stays one row."""
    s = text(value if isinstance(value, str) else str(value))
    return _md_punct().sub(r"\\\1", s)


def md_code(value: object, in_table: bool = True) -> str:
    """A Markdown code span holding `value` literally: the fence is one backtick longer than the longest run
    inside, padded when the text starts or ends with a backtick; `|` is escaped inside table cells (GFM splits
    cells before it parses code spans)."""
    s = text(value if isinstance(value, str) else str(value))
    if not s:
        return "` `"
    longest = max((len(run) for run in re.findall(r"`+", s)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if s.startswith("`") or s.endswith("`") or (s.startswith(" ") and s.endswith(" ")) else ""
    if in_table:
        s = s.replace("|", "\\|")
    return f"{fence}{pad}{s}{pad}{fence}"
