"""The package's dataclasses are the standard library's, whether their generated code comes from the compiled cache
of `licensegate._dataclasses` or from the compiler (docs/performance.md, "Where the time goes")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# Run in a fresh process (a class is created once per process): describes every dataclass of the package, made by
# the standard decorator ("stdlib") or by licensegate._dataclasses, and prints the description with the cache's
# counters.
_PROBE = r"""
import dataclasses, importlib, inspect, json, pkgutil, sys
import licensegate._dataclasses as cached

if sys.argv[1] == "stdlib":
    cached.dataclass = dataclasses.dataclass  # before any module imports it
import licensegate


def show(value):
    # stable across processes: a function or class by name, not by its address
    if value is dataclasses.MISSING:
        return "MISSING"
    return f"{value.__module__}.{value.__qualname__}" if hasattr(value, "__qualname__") else repr(value)


def code(c):
    return [c.co_code.hex(), c.co_linetable.hex(), c.co_exceptiontable.hex(), c.co_names, c.co_varnames,
            c.co_freevars, c.co_cellvars, c.co_filename, c.co_name, c.co_qualname, c.co_flags, c.co_firstlineno,
            [code(k) if isinstance(k, type(c)) else show(k) for k in c.co_consts]]


def methods(cls):
    return {name: code(fn.__code__) for name, fn in sorted(vars(cls).items()) if hasattr(fn, "__code__")}


def sample(cls):
    # an instance from placeholder values (a distinct string per field without a plain default, so that a factory
    # such as a time stamp stays out of it): what a user sees of it
    args = {f.name: f"<{f.name}>" for f in dataclasses.fields(cls) if f.init and f.default is dataclasses.MISSING}
    try:
        a, b = cls(**args), cls(**args)
    except Exception as exc:
        return ["init raises", type(exc).__name__]
    out = [repr(a), a == b, a != b]
    try:
        out.append(hash(a) == hash(b))
    except TypeError:
        out.append("unhashable")
    first = dataclasses.fields(cls)[0].name if dataclasses.fields(cls) else None
    if first is not None:
        try:
            setattr(a, first, "changed")
            out.append(["set", repr(a)])
        except dataclasses.FrozenInstanceError:
            out.append("frozen")
    if cls.__dataclass_params__.order:
        out.append(a <= b)
    return out


def describe(cls):
    params = cls.__dataclass_params__
    return {
        "fields": [[f.name, str(f.type), show(f.default), show(f.default_factory), f.init, f.repr, f.compare,
                    f.hash, f.kw_only] for f in dataclasses.fields(cls)],
        "params": [params.init, params.repr, params.eq, params.order, params.unsafe_hash, params.frozen],
        "signature": str(inspect.signature(cls.__init__)),
        "doc": cls.__doc__,
        "match_args": getattr(cls, "__match_args__", None),
        "slots": getattr(cls, "__slots__", None),
        "hash": "none" if cls.__hash__ is None else cls.__hash__.__qualname__,
        "methods": methods(cls),
        "sample": sample(cls),
    }


classes = {}
for info in pkgutil.walk_packages(licensegate.__path__, "licensegate."):
    if info.name.endswith(("__main__", ".preload")):  # the CLI; the pool's warm-up (it loads the databases)
        continue
    module = importlib.import_module(info.name)
    for value in vars(module).values():
        if isinstance(value, type) and dataclasses.is_dataclass(value) and value.__module__ == module.__name__:
            classes[f"{value.__module__}.{value.__qualname__}"] = describe(value)
print(json.dumps({"classes": classes, "hits": cached.hits, "misses": cached.misses}))
"""


def _describe(mode: str, cache_home: Path, **env: str) -> dict[str, object]:
    environ = {k: v for k, v in os.environ.items() if k != "LICENSEGATE_NO_CACHE"} | env | {
        "XDG_CACHE_HOME": str(cache_home), "PYTHONHASHSEED": "0"}  # reprs of sets in one order
    out = subprocess.run([sys.executable, "-c", _PROBE, mode], capture_output=True, text=True, check=True, env=environ)
    result: dict[str, object] = json.loads(out.stdout)
    return result


def _cache_files(cache_home: Path) -> list[Path]:
    return sorted((cache_home / "licensegate").glob("dataclass-code-*.marshal"))


@pytest.fixture(scope="module")
def stdlib(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    home = tmp_path_factory.mktemp("stdlib-cache")
    result = _describe("stdlib", home)
    assert _cache_files(home) == []  # the standard decorator alone writes nothing
    return result


def test_every_dataclass_is_the_same_compiled_and_from_the_cache_of_a_second_process(tmp_path: Path, stdlib: dict[str, object]) -> None:
    classes = stdlib["classes"]
    assert isinstance(classes, dict) and len(classes) >= 80  # the walk found the package's classes
    first = _describe("cached", tmp_path)
    assert first["classes"] == classes
    assert isinstance(first["misses"], int) and first["misses"] > 100  # an empty cache: compiled
    (written,) = _cache_files(tmp_path)
    assert sys.implementation.cache_tag in written.name

    second = _describe("cached", tmp_path)
    assert second["classes"] == classes
    assert second["misses"] == 0 and second["hits"] == first["hits"] + first["misses"]


@pytest.mark.parametrize("damage", [b"", b"not marshal at all", b"truncated"])
def test_a_damaged_cache_file_is_ignored_and_replaced(tmp_path: Path, stdlib: dict[str, object], damage: bytes) -> None:
    _describe("cached", tmp_path)
    (path,) = _cache_files(tmp_path)
    good = path.read_bytes()
    path.write_bytes(good[: len(good) // 2] if damage == b"truncated" else damage)

    damaged = _describe("cached", tmp_path)
    assert damaged["classes"] == stdlib["classes"]
    assert isinstance(damaged["misses"], int) and damaged["misses"] > 100
    again = _describe("cached", tmp_path)  # the file was rewritten whole
    assert again["classes"] == stdlib["classes"] and again["misses"] == 0


def test_no_cache_file_with_licensegate_no_cache(tmp_path: Path, stdlib: dict[str, object]) -> None:
    result = _describe("cached", tmp_path, LICENSEGATE_NO_CACHE="1")
    assert result["classes"] == stdlib["classes"]
    assert _cache_files(tmp_path) == []
