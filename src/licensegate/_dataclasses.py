"""The one `dataclass` decorator of the package: the standard library's, with the code it generates cached.

`dataclasses.dataclass` writes the source of each class's `__init__`, `__repr__`, `__eq__`, `__hash__`,
`__setattr__`... and compiles it with `exec` every time the class is created, that is on every run: a scan of a tiny
APK creates 45 classes through 201 such `exec` calls, ~30-45 ms of its start-up, almost all of it the compiler
(100-220 us a text; running an already compiled code object costs ~5 us). While the standard decorator runs, this
one gives the `dataclasses` module an `exec` that looks the text up in a table of code objects, kept in the user
cache as a marshal file, and compiles only a text it has not seen.

The classes are exactly what `dataclasses.dataclass` makes: the same text is run with the same globals and locals,
and a code object compiled from a text is what plain `exec` of that text would run (`compile(text, "<string>",
"exec", dont_inherit=True)`: the file name `exec` gives, and no `__future__` flags, since dataclasses.py has none to
pass on; tests/test_dataclasses.py checks every class of the package both ways). The file is named after the
bytecode (`sys.implementation.cache_tag`, the marshal version) and starts with the interpreter's bytecode magic
number, the checks CPython makes before it trusts a `.pyc`; a file that does not load is ignored and replaced.
It is written once, at exit, by the process that compiled something new; LICENSEGATE_NO_CACHE=1 turns it off.
At worst (no cache dir, an unwritable one) a run compiles as it always did.
"""

from __future__ import annotations

import _thread
import atexit
import builtins
import dataclasses
import marshal
import os
import sys
from dataclasses import asdict as asdict  # re-exported: the package's modules import them from here
from dataclasses import field as field
from dataclasses import fields as fields
from dataclasses import replace as replace
from importlib.util import MAGIC_NUMBER
from types import CodeType
from typing import TYPE_CHECKING, Any

# The cache's entries: source text -> its code object; None until the file was first read.
_codes: dict[str, CodeType] | None = None
# Texts compiled by this process that the file does not hold yet.
_new: set[str] = set()
# Counters for tests/test_dataclasses.py: texts found in the cache, texts compiled.
hits = 0
misses = 0
# One decorator at a time has the `dataclasses` module's `exec` replaced (classes are created by imports, which two
# threads can run at once); re-entrant for a class created while another one is.
_lock = _thread.RLock()
_depth = 0


def _cache_file() -> str | None:
    if os.environ.get("LICENSEGATE_NO_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    tag = sys.implementation.cache_tag
    if tag is None:  # an implementation without bytecode caching
        return None
    return os.path.join(base, "licensegate", f"dataclass-code-{tag}-m{marshal.version}.marshal")


def _load() -> dict[str, CodeType]:
    path = _cache_file()
    if path is None:
        return {}
    try:
        with open(path, "rb") as fh:
            data = fh.read()
        if data[: len(MAGIC_NUMBER)] != MAGIC_NUMBER:
            return {}
        codes = marshal.loads(data[len(MAGIC_NUMBER):])
    except (OSError, EOFError, ValueError, TypeError):  # missing, unreadable, or not a marshal stream
        return {}
    if not isinstance(codes, dict) or not all(type(k) is str and type(v) is CodeType for k, v in codes.items()):
        return {}
    return codes


def _save(path: str, pid: int) -> None:
    if os.getpid() != pid or not _new or _codes is None:  # a forked child, or nothing new since the file was read
        return
    from pathlib import Path

    from .fsutil import atomic_write

    try:
        atomic_write(Path(path), MAGIC_NUMBER + marshal.dumps(_codes), durable=False)
    except (OSError, ValueError):  # an unwritable cache dir: the next run compiles again
        return
    _new.clear()


def _cached_exec(source: Any, globals: Any = None, locals: Any = None, /) -> None:
    """`exec` as `dataclasses` calls it, `exec(text, globals, ns)`, running a cached code object for `text`."""
    global hits, misses
    if type(source) is not str or _codes is None:  # _codes is set before `exec` is replaced
        builtins.exec(source, globals, locals)
        return
    code = _codes.get(source)
    if code is None:
        code = compile(source, "<string>", "exec", dont_inherit=True)
        if not _new:
            path = _cache_file()
            if path is not None:
                atexit.register(_save, path, os.getpid())
        _codes[source] = code
        _new.add(source)
        misses += 1
    else:
        hits += 1
    builtins.exec(code, globals, locals)


if TYPE_CHECKING:
    from dataclasses import dataclass as dataclass
else:

    def dataclass(cls=None, /, **options):
        """`dataclasses.dataclass(cls, **options)`, with the generated methods' code cached (module docstring)."""
        if cls is None:
            return lambda c: dataclass(c, **options)
        global _codes, _depth
        with _lock:
            if _codes is None:
                _codes = _load()
            _depth += 1
            dataclasses.exec = _cached_exec
            try:
                return dataclasses.dataclass(cls, **options)
            finally:
                _depth -= 1
                if _depth == 0:
                    del dataclasses.exec
